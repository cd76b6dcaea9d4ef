"""embedding_bag: sums, means or maxima of bags of embedding rows, without materialising the rows per bag.

Bags are given by ``offsets`` into a 1-D ``indices``; entries equal to ``padding_idx`` belong to no
bag.  An empty bag gives zeros.  With ``include_last_offset`` the last offset is not a bag start and
the last bag runs to the end of ``indices`` (torch's generic CPU kernel; its float32 sum/mean fast
path stops at the last offset instead, so the two differ only when that offset is short of the end).
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._registry import _type_name, defop
from ._util import add_rows_at
from .nn_misc import _embedding_renorm, first_order_only

PUBLIC = {}
_MODES = {"sum": 0, "mean": 1, "max": 2}


def _bag_forward(ctx, w, psw, idx, offsets, mode, include_last, padding_idx, scale_grad_by_freq):
    xp = ctx.xp
    n, dim = idx.shape[0], w.shape[1]
    nb = offsets.shape[0] - 1 if include_last else offsets.shape[0]
    bag = xp.searchsorted(offsets[:nb], xp.arange(n), side="right") - 1
    keep = idx != padding_idx if padding_idx is not None else xp.ones(n, bool)
    kb, ki = bag[keep], idx[keep]
    rows = w[ki]
    if psw is not None:
        rows = rows * psw[keep][:, None]
    counts = xp.bincount(kb, minlength=nb)[:nb]
    ctx.geom = (w.shape[0], mode, keep, kb, ki, counts, scale_grad_by_freq, idx)
    if mode == 2:
        out = xp.full((nb, dim), -xp.inf, w.dtype)
        xp.maximum.at(out, kb, rows)
        k = kb.shape[0]
        cand = xp.where(rows == out[kb], xp.arange(k)[:, None], k)
        first = xp.full((nb, dim), k)
        xp.minimum.at(first, kb, cand)
        ctx.argmax = xp.where(first < k, xp.concatenate([ki, xp.zeros(1, ki.dtype)])[first], -1)
        out[counts == 0] = 0
        return out
    out = xp.zeros((nb, dim), w.dtype)
    add_rows_at(xp, out, kb, rows)
    if mode == 1:
        out /= xp.maximum(counts, 1)[:, None].astype(w.dtype)
    return out


@defop("embedding_bag", node_name="EmbeddingBagBackward0")
def _embedding_bag(ctx, w, *params):
    return _bag_forward(ctx, w, None, *params)


@defop("_embedding_bag_weighted", nin=2, node_name="EmbeddingBagBackward0")
def _embedding_bag_weighted(ctx, w, psw, *params):
    ctx.save_for_backward(w, psw)
    return _bag_forward(ctx, w, psw, *params)


@_embedding_bag.backward
def _(ctx, g):
    gw = _embedding_bag_backward(g, ctx.geom, getattr(ctx, "argmax", None), None, None, (True, False))[0]
    return first_order_only("_embedding_bag_backward", (gw,), g)[0]


@_embedding_bag_weighted.backward
def _(ctx, g):
    w, psw = ctx.saved_tensors
    return first_order_only("_embedding_bag_backward",
                            _embedding_bag_backward(g, ctx.geom, None, w._data, psw._data, ctx.needs_input_grad),
                            g, w, psw)


@defop("_embedding_bag_backward", differentiable=False)
def _embedding_bag_backward(ctx, g, geom, argmax, w, psw, need):
    """Gradients for weight (and per_sample_weights) from the output gradient ``g`` (bags, dim)."""
    xp = ctx.xp
    num, mode, keep, kb, ki, counts, by_freq, idx = geom
    gw = gp = None
    if need[0]:
        gw = xp.zeros((num, g.shape[1]), g.dtype)
        if mode == 2:
            hit = argmax >= 0
            xp.add.at(gw, (argmax[hit], xp.nonzero(hit)[1]), g[hit])
        else:
            rows = g[kb]
            if mode == 1:
                rows = rows / xp.maximum(counts, 1)[kb, None].astype(g.dtype)
            elif psw is not None:
                rows = rows * psw[keep][:, None]
            add_rows_at(xp, gw, ki, rows)
            if by_freq:
                gw /= xp.maximum(xp.bincount(idx, minlength=num), 1)[:, None].astype(g.dtype)
    if need[1]:
        gp = xp.zeros(keep.shape, g.dtype)
        gp[keep] = (g[kb] * w[ki]).sum(1)
    return gw, gp


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of each bag of rows of ``weight``; bags are the rows of a 2-D ``input``, or
    the slices of a 1-D ``input`` that start at ``offsets``."""
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({_size(per_sample_weights)}) is not None, "
                         f"then it must have the same shape as the input ({_size(input)})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences. However, found offsets of type "
                             f"{_type_str(offsets)}")
        xp = input._device.xp
        off = xp.arange(0, input.numel(), input.shape[1], dtype=np.int64)
        include_last_offset = False
        idx = input._data.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        idx, off = input._data, offsets._data
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        _embedding_renorm(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
            f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
    _check_indices(idx, off, weight.shape[0], input)
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} through {num - 1}, "
                               f"but got {padding_idx}")
        padding_idx %= num
    params = (idx, off, _MODES[mode], include_last_offset, padding_idx, scale_grad_by_freq)
    if per_sample_weights is None:
        return _embedding_bag(weight, *params)
    return _embedding_bag_weighted(weight, per_sample_weights, *params)


def _size(t):
    return f"torch.Size([{', '.join(map(str, t.shape))}])"


def _type_str(x):
    return "<class 'torch.Tensor'>" if isinstance(x, Tensor) else str(type(x))


_TYPE = {"int64": "LongTensor", "int32": "IntTensor"}


def _check_indices(idx, off, num, input):
    """torch's checks on the indices and offsets (dtype, first and last offset, index range)."""
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {_type_name(input)} instead (while checking arguments for embedding_bag)")
    if off.shape[0]:
        if off[0] != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                               f"from position 0. However, got {int(off[0])}\n[ torch.{_TYPE[off.dtype.name]}{{}} ]")
        if off[-1] > idx.shape[0]:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {idx.shape[0]} but got "
                               f"offsets[-1] of {int(off[-1])}")
    bad = (idx < 0) | (idx >= num)
    if bad.any():
        i = int(bad.argmax())
        raise RuntimeError(f"Index {i} of input takes value {int(idx[i])} which is not in the valid range "
                           f"[0, {num})")
