"""Small helpers shared by the op families: dim normalisation, factory arguments."""
from __future__ import annotations

import os as _os
import sys as _sys

import numpy as _np

from .. import _backend
from .._dtype import to_dtype
from .._tensor import Tensor, wrap_dim


_EMBER_DIR = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))) + _os.sep


def user_stacklevel() -> int:
    """The ``warnings.warn`` stacklevel, seen from the function calling this, of the first frame outside
    ember: the warning then names the user's line however many ember wrappers the call went through."""
    frame, level = _sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_EMBER_DIR):
        frame, level = frame.f_back, level + 1
    return level


def dims_of(dim, ndim):
    """``dim`` (None, int or sequence, negatives allowed) as a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        out = tuple(wrap_dim(d, ndim) for d in dim)
        if len(set(out)) != len(out):
            d = next(d for d in out if out.count(d) > 1)
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        return tuple(sorted(out)) if out else tuple(range(ndim))
    return (wrap_dim(dim, ndim),)


def factory_device(device):
    """The canonical device for a factory's ``device=`` (None → the default device, normally cpu)."""
    if device is None:
        return _backend._DEFAULT[0]
    return _backend.canonical(device)


def no_pinned_memory():
    """A factory's ``pin_memory=True``: torch pins for an accelerator, and without one refuses."""
    if not _backend.cuda_available():
        raise RuntimeError("pin_memory=True requires a CUDA or other accelerator backend; no pinned memory "
                           "allocator is available on this system.")


def factory_dtype(dtype, default):
    return default if dtype is None else to_dtype(dtype)


def size_args(size):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(torch.Size(...))``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"size must be tuple of ints, but got element of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(s)
    return tuple(out)


def check_tensor(x, fname, argname="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be Tensor, "
                        f"not {type(x).__name__}")
    return x


def check_tensors(tensors):
    """A ``*tensors`` argument: Tensors only (torch's TypeError names the first that is not)."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")


_PASSES = 32


def add_rows_at(xp, out, idx, rows, axis=0):
    """``out[idx[i]] += rows[i]`` along ``axis`` for every i, repeated indices accumulating.

    Same result as ``xp.add.at`` (and the same order of additions per index), but a plain
    fancy-index add per *rank of repetition*: indices are stably sorted, the first occurrence of
    each added in one vectorised step, then the second, and so on (a few steps for real index
    data; past ``_PASSES`` repeats the rest goes to ``add.at``).  Several times faster than
    ``add.at`` on rows of 32 elements or more (embedding gradients); shorter rows use ``add.at``.
    """
    idx = idx.reshape(-1)
    if axis:
        out, rows = xp.moveaxis(out, axis, 0), xp.moveaxis(rows, axis, 0)
    if rows.ndim <= 1 or idx.size < 2 or rows.size < 32 * idx.size:
        xp.add.at(out, idx, rows)         # short rows: add.at's per-element cost is lower
        return out
    order = xp.argsort(idx, kind="stable")
    si = idx[order]
    start = xp.flatnonzero(xp.concatenate([xp.ones(1, bool), si[1:] != si[:-1]]))
    counts = xp.diff(xp.concatenate([start, xp.asarray([si.size])]))
    most = int(counts.max())
    for k in range(min(most, _PASSES)):
        sel = order[start[counts > k] + k]
        out[idx[sel]] += rows[sel]
    if most > _PASSES:
        rank = xp.arange(si.size) - xp.repeat(start, counts)
        rest = order[rank >= _PASSES]
        xp.add.at(out, idx[rest], rows[rest])
    return out


def is_half(npdt) -> bool:
    """float16 or bfloat16: torch accumulates their reductions in float32, then rounds once."""
    return npdt.itemsize == 2 and npdt.kind in "fV"


def acc_array(x):
    """``x`` in the dtype torch accumulates it in (float32 for float16/bfloat16)."""
    return x.astype(_np.float32) if is_half(x.dtype) else x


def in_float32(forward):
    """An op forward that runs float16/bfloat16 inputs in float32 and rounds its result once,
    as torch's kernels do (NumPy would round every intermediate step to the half type)."""
    def f(ctx, x, *args, **kw):
        dt = x.dtype
        if dt.itemsize == 2 and dt.kind in "fV":
            return forward(ctx, x.astype(_np.float32), *args, **kw).astype(dt, copy=False)
        return forward(ctx, x, *args, **kw)
    f.__name__, f.__doc__, f.__wrapped__ = forward.__name__, forward.__doc__, forward
    return f


def inplace_from(self, compute):
    """``self.<op>_(...)`` for an op made of others: ``self`` overwritten with ``compute(x)``, where
    ``x`` is ``self`` (a copy of it when autograd records, so the write leaves saved values alone)."""
    from .._grad_state import state
    src = self.clone() if self._requires_grad and state.enabled else self
    return self.copy_(compute(src))
