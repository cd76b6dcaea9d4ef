"""Reductions over ``dim`` (int, tuple or None; negatives allowed) with ``keepdim``."""
from __future__ import annotations

import numpy as np

from .._dtype import to_dtype
from ._registry import bind, defop
from ._util import dims_of

PUBLIC = {}


def _bind(op, **kw):
    return bind(op, namespace=PUBLIC, **kw)


def _expand_back(g, ctx):
    """Broadcast a reduced gradient back over the input's shape."""
    if not ctx.keepdim and ctx.dims:
        shape = list(ctx.in_shape)
        for d in ctx.dims:
            shape[d] = 1
        g = g.reshape(shape)
    return g.expand(ctx.in_shape)


def _sum_dtype(x, dtype):
    if dtype is not None:
        return to_dtype(dtype).np
    return np.int64 if x.dtype.kind in "iub" else x.dtype


@defop("sum")
def sum(ctx, x, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    dims = dims_of(dim, x.ndim)
    ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
    return ctx.xp.sum(x, axis=dims, keepdims=keepdim, dtype=_sum_dtype(x, dtype))


@sum.backward
def _(ctx, g):
    return _expand_back(g, ctx)


@defop("mean")
def mean(ctx, x, dim=None, keepdim=False, *, dtype=None):
    if dtype is None and x.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_dtype_name(x)}")
    dims = dims_of(dim, x.ndim)
    ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
    n = 1
    for d in dims:
        n *= x.shape[d]
    ctx.n = n
    dt = x.dtype if dtype is None else to_dtype(dtype).np
    return ctx.xp.mean(x, axis=dims, keepdims=keepdim, dtype=dt)


@mean.backward
def _(ctx, g):
    return _expand_back(g / ctx.n, ctx)


def _dtype_name(x):
    from .._dtype import _FROM_NP
    return _FROM_NP[x.dtype].name.capitalize() if x.dtype.kind != "i" else {
        8: "Long", 4: "Int", 2: "Short", 1: "Char"}[x.dtype.itemsize]


_bind(sum)
_bind(mean)
