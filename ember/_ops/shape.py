"""Shape and view ops: view/reshape/expand/permute/... share storage with their input as in torch."""
from __future__ import annotations

from .._tensor import Tensor
from ._registry import bind, defop
from ._util import size_args

PUBLIC = {}


def _bind(op, **kw):
    return bind(op, namespace=PUBLIC, **kw)


def infer_size(shape, numel):
    """Resolve one ``-1`` in ``shape`` against ``numel``; torch's error if it cannot."""
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
    return tuple(shape)


@defop("view", view=True)
def view(ctx, x, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        raise NotImplementedError("view(dtype) is not supported yet")
    shape = infer_size(_raw(shape), x.size)
    ctx.in_shape = x.shape
    try:
        return ctx.xp.reshape(x, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None


def _raw(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(s) for s in shape[0])
    return tuple(int(s) for s in shape)


@view.backward
def _(ctx, g):
    return g.reshape(ctx.in_shape)


@defop("reshape", view=True)
def reshape(ctx, x, *shape):
    shape = infer_size(_raw(shape), x.size)
    ctx.in_shape = x.shape
    return ctx.xp.reshape(x, shape)


@reshape.backward
def _(ctx, g):
    return g.reshape(ctx.in_shape)


@defop("expand", view=True)
def expand(ctx, x, *sizes):
    sizes = _raw(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{[{', '.join(map(str, x.shape))}]}}, size=[{', '.join(map(str, sizes))}]): "
            "the number of sizes provided ({}) must be greater or equal to the number of dimensions in "
            "the tensor ({})".format(len(sizes), x.ndim))
    lead = len(sizes) - x.ndim
    out = list(sizes)
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            continue
        cur = x.shape[i - lead]
        if s == -1:
            out[i] = cur
        elif cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                               f"({cur}) at non-singleton dimension {i}.  Target sizes: "
                               f"[{', '.join(map(str, sizes))}].  Tensor sizes: [{', '.join(map(str, x.shape))}]")
    ctx.in_shape = x.shape
    out = tuple(out)
    if out == x.shape:
        return x.view()
    xp = ctx.xp
    return xp.lib.stride_tricks.as_strided(
        x, shape=out, strides=(0,) * lead + tuple(0 if (x.shape[i] == 1 and out[i + lead] != 1) else st
                                                   for i, st in enumerate(x.strides)))


@expand.backward
def _(ctx, g):
    return g  # the engine sums a broadcast gradient back to the input's shape


_bind(view, function=False)
_bind(reshape)
_bind(expand, function=False)
Tensor.expand_as = lambda self, other: self.expand(other.shape)
Tensor.view_as = lambda self, other: self.view(other.shape)
Tensor.reshape_as = lambda self, other: self.reshape(other.shape)
