"""Activation functions as tensor ops, with ``torch.nn.functional``'s signatures.

``relu``, ``sigmoid``, ``tanh``, ``softmax``... that torch also has at top level and as methods are
exposed there (``PUBLIC``, ``Tensor``); the rest are importable from here for ``ember.nn.functional``.
Subgradients at kinks are torch's: relu'(0) = 0, hardtanh passes only strictly inside its range.
"""
from __future__ import annotations

import math

from .._dtype import finfo_np
from .._tensor import Tensor, wrap_dim
from ._registry import _SHORT, apply, bind, check_inplace_allowed, defop
from ._util import acc_array as _acc, check_tensor, in_float32
from .pointwise import _erf, erf, exp, sigmoid, tanh, where

PUBLIC = {}


def _bind(op, **kw):
    return bind(op, namespace=PUBLIC, **kw)


def _run(op, input, args=(), inplace=False):
    """Apply ``op`` to ``input``, in place (the registry's ``target=`` path) when asked."""
    if inplace:
        check_inplace_allowed(input)
        return apply(op, (input,), args, None, target=input)
    return op(input, *args)


# ---- rectifiers --------------------------------------------------------------------------------
@defop("relu")
def _relu(ctx, x):
    if x.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    ctx.save_for_backward(x)
    return ctx.xp.maximum(x, 0).astype(x.dtype, copy=False)


@_relu.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    return g.where(x > 0, 0)            # torch's threshold_backward: an inf/nan gradient stays out where x <= 0


_bind(_relu, inplace=True, function=False)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``."""
    return _run(_relu, input, (), inplace)


def relu_(input: Tensor) -> Tensor:
    check_tensor(input, "relu_")
    return _run(_relu, input, (), True)


PUBLIC["relu"], PUBLIC["relu_"] = relu, relu_


@defop("hardtanh")
def _hardtanh(ctx, x, min_val, max_val):
    ctx.save_for_backward(x)
    ctx.lo, ctx.hi = min_val, max_val
    return ctx.xp.clip(x, min_val, max_val).astype(x.dtype, copy=False)


@_hardtanh.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    return g * ((x > ctx.lo) & (x < ctx.hi))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` clipped to ``[min_val, max_val]``; the gradient passes strictly inside."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _run(_hardtanh, input, (min_val, max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``."""
    return _run(_hardtanh, input, (0.0, 6.0), inplace)


@defop("leaky_relu")
def _leaky_relu(ctx, x, negative_slope):
    ctx.save_for_backward(x)
    ctx.slope = negative_slope
    return ctx.xp.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)


@_leaky_relu.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    return where(x > 0, g, g * ctx.slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``."""
    return _run(_leaky_relu, input, (negative_slope,), inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


@defop("elu")
def _elu(ctx, x, alpha, scale, input_scale):
    xp = ctx.xp
    y = xp.where(x > 0, x * scale, (xp.expm1(x * input_scale) * (alpha * scale)).astype(x.dtype, copy=False))
    ctx.save_for_backward(x)
    ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
    return y


@_elu.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    a, s, i = ctx.alpha, ctx.scale, ctx.input_scale
    return where(x > 0, g * s, g * (a * s * i) * exp(x * i))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``alpha * (exp(input) - 1)``."""
    return _run(_elu, input, (alpha, 1.0, 1.0), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(input, alpha)`` with the self-normalising constants."""
    return _run(_elu, input, (_SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def selu_(input: Tensor) -> Tensor:
    check_tensor(input, "selu_")
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _run(_elu, input, (alpha, 1.0, 1.0 / alpha), inplace)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    check_tensor(input, "celu_")
    return celu(input, alpha, True)


@defop("threshold")
def _threshold(ctx, x, threshold, value):
    ctx.save_for_backward(x)
    ctx.threshold = threshold
    return ctx.xp.where(x > threshold, x, value).astype(x.dtype, copy=False)


@_threshold.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    return g * (x > ctx.threshold)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``input`` where ``input > threshold``, else ``value``."""
    return _run(_threshold, input, (threshold, value), inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _run(_threshold, input, (threshold, value), True)


for _f in (selu, selu_, celu, celu_, threshold, threshold_):
    PUBLIC[_f.__name__] = _f


# ---- smooth activations --------------------------------------------------------------------------
_SQRT_2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@defop("gelu")
@in_float32
def _gelu(ctx, x, approximate):
    xp = ctx.xp
    ctx.save_for_backward(x)
    ctx.approximate = approximate
    if approximate == "tanh":
        return 0.5 * x * (1 + xp.tanh(_SQRT_2_PI * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1 + _erf(xp, x / _SQRT_2))


@_gelu.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    if ctx.approximate == "tanh":
        t = tanh(_SQRT_2_PI * (x + 0.044715 * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x * x))
    cdf = 0.5 * (1 + erf(x / _SQRT_2))
    return g * (cdf + x * _INV_SQRT_2PI * exp(-0.5 * x * x))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Φ(x)``; ``approximate='tanh'`` uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _gelu(input, approximate)


@defop("silu")
@in_float32
def _silu(ctx, x):
    s = 1 / (1 + ctx.xp.exp(-x))
    ctx.save_for_backward(x)
    return x * s


@_silu.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    s = sigmoid(x)
    return g * s * (1 + x * (1 - s))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)``."""
    return _run(_silu, input, (), inplace)


def _softplus_arr(xp, x):
    return xp.logaddexp(x, 0).astype(x.dtype, copy=False)


@defop("mish")
@in_float32
def _mish(ctx, x):
    ctx.save_for_backward(x)
    return x * ctx.xp.tanh(_softplus_arr(ctx.xp, x))


@_mish.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    t = tanh(softplus(x))
    return g * (t + x * sigmoid(x) * (1 - t * t))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``."""
    return _run(_mish, input, (), inplace)


@defop("softplus")
@in_float32
def _softplus(ctx, x, beta, threshold):
    ctx.save_for_backward(x)
    ctx.beta, ctx.threshold = beta, threshold
    bx = x * beta
    return ctx.xp.where(bx > threshold, x, _softplus_arr(ctx.xp, bx) / beta).astype(x.dtype, copy=False)


@_softplus.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    bx = x * ctx.beta
    return where(bx > ctx.threshold, g, g * sigmoid(bx))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``."""
    return _softplus(input, beta, threshold)


@defop("softsign")
def _softsign(ctx, x):
    ctx.save_for_backward(x)
    return x / (1 + ctx.xp.abs(x))


@_softsign.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    d = 1 + x.abs()
    return g / (d * d)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return _softsign(input)


@defop("hardsigmoid")
@in_float32
def _hardsigmoid(ctx, x):
    ctx.save_for_backward(x)
    return (ctx.xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)


@_hardsigmoid.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    return g * ((x > -3) & (x < 3)) / 6


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return _run(_hardsigmoid, input, (), inplace)


@defop("hardswish")
@in_float32
def _hardswish(ctx, x):
    ctx.save_for_backward(x)
    return (x * ctx.xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)


@_hardswish.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    return where(x < -3, 0.0, where(x <= 3, g * (x / 3 + 0.5), g))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return _run(_hardswish, input, (), inplace)


@defop("log_sigmoid_forward", node_name="LogSigmoidBackward0")
@in_float32
def _logsigmoid(ctx, x):
    ctx.save_for_backward(x)
    return -_softplus_arr(ctx.xp, -x)


@_logsigmoid.backward
def _(ctx, g):
    (x,) = ctx.saved_tensors
    return g * sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    return _logsigmoid(input)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - tanh(input)


# ---- shrinkage -------------------------------------------------------------------------------
@defop("softshrink")
def _softshrink(ctx, x, lambd):
    xp = ctx.xp
    ctx.save_for_backward(x)
    ctx.lambd = lambd
    return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0)).astype(x.dtype, copy=False)


@defop("hardshrink")
def _hardshrink(ctx, x, lambd=0.5):
    ctx.save_for_backward(x)
    ctx.lambd = lambd
    return ctx.xp.where((x > lambd) | (x < -lambd), x, 0).astype(x.dtype, copy=False)


def _shrink_backward(ctx, g):
    (x,) = ctx.saved_tensors
    return g * ((x > ctx.lambd) | (x < -ctx.lambd))


_softshrink.backward(_shrink_backward)
_hardshrink.backward(_shrink_backward)
_bind(_hardshrink)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, {finfo_np(input.dtype).max:g}] for input dtype "
                           f"{_SHORT[input.dtype.name]}, but found {lambd:g}")
    return _softshrink(input, lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    return _hardshrink(input, lambd)


# ---- softmax family ------------------------------------------------------------------------------
def _check_float(x, name):
    if x.dtype.kind not in "fcV":
        raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for '
                                  f"'{_SHORT[x.dtype.name]}'")


@defop("softmax")
def _softmax(ctx, x, dim):
    _check_float(x, "softmax")
    xp = ctx.xp
    axis = dim if x.ndim else None
    xa = _acc(x)
    e = xp.exp(xa - xa.max(axis=axis, keepdims=True))
    y = (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype, copy=False)
    ctx.save_for_backward(y)
    ctx.dim = dim if x.ndim else ()
    return y


@_softmax.backward
def _(ctx, g):
    (y,) = ctx.saved_tensors
    return y * (g - (g * y).sum(ctx.dim, keepdim=True))


@defop("log_softmax")
def _log_softmax(ctx, x, dim):
    _check_float(x, "log_softmax")
    xp = ctx.xp
    axis = dim if x.ndim else None
    xa = _acc(x)
    s = xa - xa.max(axis=axis, keepdims=True)
    y = (s - xp.log(xp.exp(s).sum(axis=axis, keepdims=True))).astype(x.dtype, copy=False)
    ctx.save_for_backward(y)
    ctx.dim = dim if x.ndim else ()
    return y


@_log_softmax.backward
def _(ctx, g):
    (y,) = ctx.saved_tensors
    return g - exp(y) * g.sum(ctx.dim, keepdim=True)


def _softmax_input(input, dim, dtype):
    if dim is None:
        raise TypeError("softmax() missing required argument 'dim' (pos 2)")
    if dtype is not None:
        input = input.to(dtype)
    return input, wrap_dim(dim, input.ndim)


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (computed stably), optionally in ``dtype``."""
    x, d = _softmax_input(input, dim, dtype)
    return _softmax(x, d)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably."""
    x, d = _softmax_input(input, dim, dtype)
    return _log_softmax(x, d)


def softmin(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    x, d = _softmax_input(input, dim, dtype)
    return _softmax(-x, d)


PUBLIC["softmax"], PUBLIC["log_softmax"] = softmax, log_softmax
Tensor.softmax = lambda self, dim, dtype=None: softmax(self, dim, dtype)
Tensor.log_softmax = lambda self, dim, dtype=None: log_softmax(self, dim, dtype)
