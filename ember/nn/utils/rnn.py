"""``nn.utils.rnn``: PackedSequence and the helpers that pack, pad and unpad variable-length batches.

A packed batch stores the time steps one after another, each holding only the sequences still
running (``batch_sizes[t]`` rows, longest sequences first), so recurrent layers skip the padding.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ..._ops.creation import arange, as_tensor, empty_like, full, tensor
from ..._ops.shape import cat, stack
from ..._ops.sorting import sort
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """A packed batch of variable-length sequences: ``data`` (sum of lengths, *), ``batch_sizes`` per time
    step, and the permutation (``sorted_indices``) that sorted the batch by decreasing length."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be created "
                "manually. They should be instantiated by functions like pack_sequence and pack_padded_sequences in "
                "nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data):
        """This sequence with ``data`` replaced; the index tensors follow it to its device."""
        if data is self.data:
            return self
        move = lambda t: None if t is None else t.to(data.device)  # noqa: E731
        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def pin_memory(self) -> "PackedSequence":
        pin = lambda t: None if t is None else t.pin_memory()  # noqa: E731
        return type(self)(self.data.pin_memory(), self.batch_sizes, pin(self.sorted_indices),
                          pin(self.unsorted_indices))

    def is_pinned(self) -> bool:
        return self.data.is_pinned()

    def to(self, *args, **kwargs) -> "PackedSequence":
        return self._with_data(self.data.to(*args, **kwargs))

    def cuda(self, *args, **kwargs) -> "PackedSequence":
        return self._with_data(self.data.cuda(*args, **kwargs))

    def cpu(self, *args, **kwargs) -> "PackedSequence":
        return self._with_data(self.data.cpu(*args, **kwargs))

    def double(self) -> "PackedSequence":
        return self._with_data(self.data.double())

    def float(self) -> "PackedSequence":
        return self._with_data(self.data.float())

    def half(self) -> "PackedSequence":
        return self._with_data(self.data.half())

    def long(self) -> "PackedSequence":
        return self._with_data(self.data.long())

    def int(self) -> "PackedSequence":
        return self._with_data(self.data.int())

    def short(self) -> "PackedSequence":
        return self._with_data(self.data.short())

    def char(self) -> "PackedSequence":
        return self._with_data(self.data.char())

    def byte(self) -> "PackedSequence":
        return self._with_data(self.data.byte())

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    output = empty_like(permutation)
    output.scatter_(0, permutation, arange(0, permutation.numel(), device=permutation.device))
    return output


def _lengths_list(lengths) -> list[int]:
    return [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (``batch_first``: (B, T, *)) of sequences with the given lengths."""
    lengths = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    sorted_indices = None
    if not enforce_sorted:
        _, sorted_indices = sort(as_tensor(lengths), descending=True, stable=True)
        lengths = [lengths[i] for i in sorted_indices.tolist()]
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(batch_dim, sorted_indices)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    batch = input.shape[batch_dim]
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch})")
    if lengths and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if any(a < b for a, b in zip(lengths, lengths[1:])):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                           "this requirement if you do not need ONNX exportability.")
    steps = lengths[0] if lengths else 0
    if steps > input.shape[1 - batch_dim]:
        raise RuntimeError(f"Expected the longest sequence length {steps} to be at most the padded length "
                           f"{input.shape[1 - batch_dim]}")
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(steps)]
    # one gather: row (t, b) of the (T*B, *) view for every b < batch_sizes[t]
    stride_t, stride_b = (1, steps) if batch_first else (batch, 1)
    rows = [t * stride_t + b * stride_b for t, bs in enumerate(batch_sizes) for b in range(bs)]
    if batch_first:
        input = input[:, :steps]
    flat = input.reshape((-1,) + tuple(input.shape[2:]))
    data = flat.index_select(0, tensor(rows, device=input.device))
    return PackedSequence(data, tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Inverse of ``pack_padded_sequence``: the padded batch and the length of each sequence."""
    batch_sizes = _lengths_list(sequence.batch_sizes)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    data = sequence.data
    batch = batch_sizes[0] if batch_sizes else 0
    lengths = [sum(1 for bs in batch_sizes if bs > b) for b in range(batch)]
    # gather from data with one extra padding row (index len(data)) for every empty slot
    pad_row = data.shape[0]
    offsets = [0]
    for bs in batch_sizes:
        offsets.append(offsets[-1] + bs)
    if batch_first:
        rows = [offsets[t] + b if t < lengths[b] else pad_row for b in range(batch) for t in range(steps)]
        shape = (batch, steps)
    else:
        rows = [offsets[t] + b if t < lengths[b] else pad_row for t in range(steps) for b in range(batch)]
        shape = (steps, batch)
    rest = tuple(data.shape[1:])
    padding = full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, padding]).index_select(0, tensor(rows, device=data.device)).reshape(shape + rest)
    lengths = tensor(lengths)
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices
        return padded.index_select(0 if batch_first else 1, unsorted), lengths[unsorted.cpu()]
    return padded, lengths


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack (L_i, *) sequences into one (L_max, B, *) (``batch_first``: (B, L_max, *)) tensor, padded."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    rest = tuple(first.shape[1:])
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        target = (s.shape[0],) + rest
        if tuple(s.shape) != target:  # copied into its slot with broadcasting, as torch does
            for d, b in zip(range(len(target) - 1, -1, -1), reversed(s.shape)):
                if b not in (1, target[d]):
                    raise RuntimeError(f"The size of tensor a ({target[d]}) must match the size of tensor b "
                                       f"({b}) at non-singleton dimension {d}")
            s = s.expand(target)
        n = max_len - s.shape[0]
        if n:
            fill = full((n,) + rest, padding_value, dtype=first.dtype, device=s.device)
            s = cat([s, fill] if padding_side == "right" else [fill, s])
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into its sequences, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    idx = arange(padded_sequences.shape[1], device=lengths.device)
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) sequences (longest first unless ``enforce_sorted=False``)."""
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Inverse of ``pack_sequence``: the list of sequences, in their original order."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
