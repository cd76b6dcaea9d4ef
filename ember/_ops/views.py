"""Strided views: ``as_strided`` and the history rewrite for in-place ops on views.

When an in-place op writes through a view of a tensor that autograd tracks, the base's
history becomes a ``CopySlices`` node (as in PyTorch): its backward runs the in-place op's
backward on the view's region of the gradient and passes the rest through unchanged.
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, make
from ._registry import Node, bind, defop, edge


def _geometry(t: Tensor):
    """(shape, element strides, storage offset) of ``t`` within its root array."""
    a = t._data
    return a.shape, tuple(s // a.itemsize for s in a.strides), t.storage_offset()


def _storage_positions(xp, shape, strides, offset):
    """Storage index of every element of a strided view, as an int64 array of ``shape``."""
    idx = xp.full(shape, offset, dtype=np.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        r = xp.arange(n, dtype=np.int64) * s
        idx += r.reshape((n,) + (1,) * (len(shape) - d - 1))
    return idx


def _strided_view(xp, arr, shape, strides, offset):
    """A view of ``arr``'s storage (its root buffer) with the given element geometry."""
    root = arr
    while getattr(root, "base", None) is not None and hasattr(root.base, "__array_interface__"):
        root = root.base
    it = arr.itemsize
    bstrides = tuple(s * it for s in strides)
    if xp is np:
        return np.ndarray(shape, arr.dtype, buffer=root, offset=offset * it, strides=bstrides)
    return xp.lib.stride_tricks.as_strided(root.reshape(-1)[offset:], shape=shape, strides=bstrides)


@defop("as_strided", view=True)
def as_strided(ctx, x, size, stride, storage_offset=None):
    ioff = _offset_of(x)
    if storage_offset is None:
        storage_offset = ioff
    ctx.geom = (tuple(size), tuple(stride), storage_offset)
    ctx.in_geom = (x.shape, tuple(s // x.itemsize for s in x.strides), ioff)
    return _strided_view(ctx.xp, x, tuple(size), tuple(stride), storage_offset)


def _offset_of(a):
    root = a
    while getattr(root, "base", None) is not None and hasattr(root.base, "__array_interface__"):
        root = root.base
    if hasattr(a, "__array_interface__"):
        return (a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize
    return (a.data.ptr - root.data.ptr) // a.itemsize


@as_strided.backward
def _(ctx, grad):
    xp = ctx.xp
    size, stride, off = ctx.geom
    ishape, istride, ioff = ctx.in_geom
    vpos = _storage_positions(xp, size, stride, off)
    ipos = _storage_positions(xp, ishape, istride, ioff)
    n = int(max(vpos.max(initial=0), ipos.max(initial=0))) + 1
    g = grad._data
    storage = xp.zeros(n, dtype=g.dtype)
    xp.add.at(storage, vpos.reshape(-1), g.reshape(-1))
    return make(storage[ipos], grad._device)


bind(as_strided, namespace=None)


class CopySlices(Node):
    """History of a base after an in-place op wrote through one of its views."""

    def __init__(self, base: Tensor, view: Tensor, fn: Node):
        self.fn = fn
        self.base_geom = _geometry(base)
        self.view_geom = _geometry(view)
        self._edges = (edge(base), *fn._edges[1:])
        self._in_meta = ((base._data.shape, base._data.dtype), *fn._in_meta[1:])
        self.xp = fn.xp

    @staticmethod
    def _backward(self, grad):
        xp = self.xp
        bshape, bstride, boff = self.base_geom
        vshape, vstride, voff = self.view_geom
        result = grad._data.copy()
        flat = result.reshape(-1)
        # positions of the view's elements inside the (contiguous) copy of the base gradient
        bpos = _storage_positions(xp, bshape, bstride, boff).reshape(-1)
        order = xp.empty(int(bpos.max(initial=0)) + 1, dtype=np.int64)
        order[bpos] = xp.arange(bpos.size, dtype=np.int64)
        vidx = order[_storage_positions(xp, vshape, vstride, voff)]
        region = make(flat[vidx], grad._device)
        grads = self.fn._backward(self.fn, region)
        if not isinstance(grads, tuple):
            grads = (grads,)
        g0 = grads[0]
        if g0 is None:
            flat[vidx] = 0
        else:
            flat[vidx] = xp.broadcast_to(g0._data, vshape)
        return (make(result, grad._device),) + tuple(grads[1:])

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    @property
    def _saved(self):
        return self.fn._saved

    def release(self):
        self.fn.release()


def rebase_view_history(view: Tensor, base: Tensor, fn: Node) -> None:
    """After ``fn`` wrote into ``view`` in place, route the base's history through CopySlices."""
    node = CopySlices(base, view, fn)
    base.grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    regenerate_view_history(view, base)


def regenerate_view_history(view: Tensor, base: Tensor) -> None:
    """Make ``view``'s history an as_strided view of ``base``'s current history (as torch does
    when a view is used after its base, or another view of it, was modified in place)."""
    ctx = as_strided.node_cls()
    ctx.xp = base._device.xp
    ctx.device = base._device
    ctx.geom = _geometry(view)
    ctx.in_geom = _geometry(base)
    ctx._edges = (edge(base),)
    ctx._in_meta = ((base._data.shape, base._data.dtype),)
    view.grad_fn = ctx
    view._output_nr = 0
    view._requires_grad = True
    view._view_version = view._version[0]
