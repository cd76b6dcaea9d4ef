"""Pointwise ops: arithmetic with PyTorch's type promotion, math functions, and Python operators.

Binary arithmetic promotes its operands (``promote="default"``); ops that always give floats
(true division, exp, log, ...) use ``promote="float"``.  Broadcasting in the backward is undone
by the engine, so each backward below returns full-shape gradients.
"""
from __future__ import annotations

from .._tensor import Tensor
from ._registry import apply, apply_binary, bind, check_inplace_allowed, defop

PUBLIC = {}


def _bind(op, **kw):
    return bind(op, namespace=PUBLIC, **kw)


# ---- arithmetic ------------------------------------------------------------------------------
@defop("add", nin=2, promote="default")
def add(ctx, x, y, *, alpha=1):
    if alpha != 1:
        ctx.alpha = alpha
        y = y * alpha
    return ctx.xp.add(x, y)


@add.backward
def _(ctx, g):
    alpha = ctx.__dict__.get("alpha", 1)
    return g, (g if alpha == 1 else g * alpha)


@defop("sub", nin=2, promote="default")
def sub(ctx, x, y, *, alpha=1):
    if alpha != 1:
        ctx.alpha = alpha
        y = y * alpha
    if getattr(x, "dtype", None) == bool and getattr(y, "dtype", None) == bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    return ctx.xp.subtract(x, y)


@sub.backward
def _(ctx, g):
    alpha = ctx.__dict__.get("alpha", 1)
    return g, (-g if alpha == 1 else g * -alpha)


@defop("mul", nin=2, promote="default")
def mul(ctx, x, y):
    ctx.save_for_backward(x, y)
    return ctx.xp.multiply(x, y)


@mul.backward
def _(ctx, g):
    x, y = ctx.saved_tensors
    n = ctx.needs_input_grad
    return (g * y if n[0] else None), (g * x if n[1] else None)


@defop("true_divide", nin=2, promote="float")
def true_divide(ctx, x, y):
    ctx.save_for_backward(x, y)
    return ctx.xp.true_divide(x, y)


@true_divide.backward
def _(ctx, g):
    x, y = ctx.saved_tensors
    n = ctx.needs_input_grad
    gx = g / y if n[0] else None
    gy = -g * x / (y * y) if n[1] else None
    return gx, gy


@defop("floor_divide", nin=2, promote="default", differentiable=False)
def floor_divide(ctx, x, y):
    return ctx.xp.floor_divide(x, y)


@defop("_trunc_divide", nin=2, promote="default", differentiable=False)
def _trunc_divide(ctx, x, y):
    xp = ctx.xp
    q = xp.true_divide(x, y)
    if q.dtype.kind == "f" and getattr(x, "dtype", q.dtype).kind in "iub" and getattr(y, "dtype", q.dtype).kind in "iub":
        return xp.trunc(q).astype(x.dtype)
    return xp.trunc(q).astype(q.dtype)


def div(input, other, *, rounding_mode=None):
    """``input / other``; ``rounding_mode`` 'trunc' or 'floor' rounds the quotient."""
    if rounding_mode is None:
        return true_divide(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return _trunc_divide(input, other)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                     f"'{rounding_mode}'")


@defop("neg")
def neg(ctx, x):
    if x.dtype == bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return ctx.xp.negative(x)


@neg.backward
def _(ctx, g):
    return -g


@defop("exp", promote="float")
def exp(ctx, x):
    y = ctx.xp.exp(x)
    ctx.save_for_backward(y)
    return y


@exp.backward
def _(ctx, g):
    (y,) = ctx.saved_tensors
    return g * y


@defop("pow", nin=2, promote="default")
def pow(ctx, x, y):  # noqa: A001 - torch's name
    xp = ctx.xp
    if hasattr(y, "dtype") and y.dtype.kind in "iu" and hasattr(x, "dtype") and x.dtype.kind in "iu":
        if (y < 0).any():
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    out = xp.power(x, y)
    ctx.save_for_backward(x, y, out)
    return out


@pow.backward
def _(ctx, g):
    x, y, out = ctx.saved_tensors
    n = ctx.needs_input_grad
    gx = gy = None
    if n[0]:
        gx = g * y * x ** (y - 1) if y is not None else None
    if n[1]:
        from .. import where, log
        gy = g * out * where(x > 0, log(x), 0.0) if x is not None else None
    return gx, gy


for _op in (add, sub, mul, true_divide, neg, exp, pow):
    _bind(_op, inplace=True)
_bind(floor_divide, inplace=True)
_bind(_trunc_divide, function=False, method=False)
PUBLIC["div"] = PUBLIC["divide"] = div
PUBLIC["subtract"] = sub
PUBLIC["multiply"] = mul
PUBLIC["negative"] = neg


def _div_method(self, other, *, rounding_mode=None):
    return div(self, other, rounding_mode=rounding_mode)


def _div_inplace(self, other, *, rounding_mode=None):
    check_inplace_allowed(self)
    op = {None: true_divide, "floor": floor_divide, "trunc": _trunc_divide}[rounding_mode]
    return apply(op, (self, other), (), None, target=self)


Tensor.div = Tensor.divide = _div_method
Tensor.div_ = Tensor.divide_ = _div_inplace
Tensor.subtract, Tensor.multiply, Tensor.negative = Tensor.sub, Tensor.mul, Tensor.neg
Tensor.subtract_, Tensor.multiply_, Tensor.negative_ = Tensor.sub_, Tensor.mul_, Tensor.neg_


# ---- Python operators --------------------------------------------------------------------------
def _binary_dunders(name, op, reflect=True, inplace=True):
    def fwd(self, other):
        if type(other) is Tensor:
            return apply_binary(op, self, other)
        if not isinstance(other, (Tensor, int, float, bool, complex)):
            return NotImplemented
        return apply(op, (self, other))

    def rev(self, other):
        if not isinstance(other, (int, float, bool, complex)):
            return NotImplemented
        return apply(op, (other, self))

    def inp(self, other):
        check_inplace_allowed(self)
        return apply(op, (self, other), (), None, target=self)

    setattr(Tensor, f"__{name}__", fwd)
    if reflect:
        setattr(Tensor, f"__r{name}__", rev)
    if inplace:
        setattr(Tensor, f"__i{name}__", inp)


_binary_dunders("add", add)
_binary_dunders("sub", sub)
_binary_dunders("mul", mul)
_binary_dunders("truediv", true_divide)
_binary_dunders("floordiv", floor_divide)
_binary_dunders("pow", pow)
Tensor.__neg__ = Tensor.neg
Tensor.__pos__ = lambda self: self
