"""Sorting and selection: sort, argsort, topk, msort, unique, unique_consecutive, searchsorted, bucketize."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, wrap_dim
from ._registry import defop
from ._util import check_tensor
from .reduction import _scatter_along, return_type, sorted_indices

PUBLIC = {}

_SortResult = return_type("sort", ("values", "indices"))
_TopkResult = return_type("topk", ("values", "indices"))


@defop("_sort", nondiff_outputs=(1,), node_name="SortBackward0")
def _sort(ctx, x, dim, descending):
    xp = ctx.xp
    d = ctx.d = wrap_dim(dim, x.ndim)
    ctx.shape = x.shape
    if not x.ndim:
        idx = xp.zeros((), dtype=np.int64)
    else:
        idx = sorted_indices(xp, x, d, descending)
    ctx.save_for_backward(idx)
    return (xp.take_along_axis(x, idx, d) if x.ndim else x.copy()), idx


@_sort.backward
def _(ctx, g, _gi):
    (idx,) = ctx.saved_tensors
    return _scatter_along(g, idx, ctx.d, ctx.shape)


def sort(input, dim=-1, descending=False, *, stable=False):
    """Sorted values along ``dim`` and their original indices (ties keep their order)."""
    return _SortResult(_sort(input, dim, descending))


def argsort(input, dim=-1, descending=False, *, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    check_tensor(input, "argsort")
    return _sort(input.detach(), dim, descending)[1]


def msort(input):
    """``input`` sorted along its first dim."""
    return _sort(input, 0, False)[0]


@defop("topk", nondiff_outputs=(1,))
def _topk(ctx, x, k, dim, largest, sorted):  # noqa: A002 - torch's name
    xp = ctx.xp
    d = ctx.d = wrap_dim(dim, x.ndim)
    ctx.shape = x.shape
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if not x.ndim:
        idx = xp.zeros((), dtype=np.int64)
        ctx.save_for_backward(idx)
        return x.copy(), idx
    idx = xp.take(sorted_indices(xp, x, d, largest), range(k), axis=d)
    ctx.save_for_backward(idx)
    return xp.take_along_axis(x, idx, d), idx


@_topk.backward
def _(ctx, g, _gi):
    (idx,) = ctx.saved_tensors
    return _scatter_along(g, idx, ctx.d, ctx.shape)


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim``: (values, indices)."""
    return _TopkResult(_topk(input, k, dim, largest, sorted))


@defop("_unique", differentiable=False)
def _unique(ctx, x, return_inverse, return_counts, dim):
    xp = ctx.xp
    if dim is None:
        vals, inv, counts = xp.unique(x.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(x.shape)
    else:
        d = wrap_dim(dim, x.ndim)
        vals, inv, counts = xp.unique(x, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    out = [vals]
    if return_inverse:
        out.append(inv.astype(np.int64))
    if return_counts:
        out.append(counts.astype(np.int64))
    return tuple(out) if len(out) > 1 else vals


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements (sorted), optionally with the inverse map and the counts."""
    return _unique(input, return_inverse, return_counts, dim)


@defop("_unique_consecutive", differentiable=False)
def _unique_consecutive(ctx, x, return_inverse, return_counts, dim):
    xp = ctx.xp
    flat, d = (x.reshape(-1), 0) if dim is None else (x, wrap_dim(dim, x.ndim))
    moved = xp.moveaxis(flat, d, 0)
    n = moved.shape[0]
    starts = xp.ones(n, dtype=bool)
    starts[1:] = xp.any(moved[1:] != moved[:-1], axis=tuple(range(1, moved.ndim)))
    first = xp.nonzero(starts)[0]
    out = [xp.take(flat, first, axis=d)]
    if return_inverse:
        inv = (xp.cumsum(starts) - 1).astype(np.int64)
        out.append(inv.reshape(x.shape) if dim is None else inv)
    if return_counts:
        out.append(xp.diff(xp.append(first, n)).astype(np.int64))
    return tuple(out) if len(out) > 1 else out[0]


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
    return _unique_consecutive(input, return_inverse, return_counts, dim)


@defop("searchsorted", nin=2, differentiable=False)
def _searchsorted(ctx, seq, values, out_int32, side):
    xp = ctx.xp
    dt = np.int32 if out_int32 else np.int64
    if seq.ndim <= 1:
        return xp.searchsorted(seq, values, side=side).astype(dt)
    if seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
            "of boundaries tensor and input value tensor must match, but we got boundaries tensor "
            f"{list(seq.shape)} and input value tensor {list(values.shape)}")
    s2, v2 = seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1])
    out = xp.stack([xp.searchsorted(s, v, side=side) for s, v in zip(s2, v2)]) if s2.shape[0] else \
        xp.zeros(v2.shape, dtype=dt)
    return out.reshape(values.shape).astype(dt)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Insertion indices of ``input`` into the innermost dim of ``sorted_sequence``."""
    if sorter is not None:
        sorted_sequence = sorted_sequence.gather(-1, sorter)
    if not isinstance(input, Tensor):
        input = sorted_sequence.new_tensor(input)
    return _searchsorted(sorted_sequence, input, out_int32, side or ("right" if right else "left"))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """Index of the bucket of each element of ``input`` given 1-D ``boundaries``."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    if not isinstance(input, Tensor):
        input = boundaries.new_tensor(input)
    return _searchsorted(boundaries, input, out_int32, "right" if right else "left")


for _fn in (sort, argsort, msort, topk, unique, unique_consecutive):
    PUBLIC[_fn.__name__] = _fn
    setattr(Tensor, _fn.__name__, _fn)
PUBLIC["searchsorted"], PUBLIC["bucketize"] = searchsorted, bucketize
