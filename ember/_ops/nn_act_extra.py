"""Activations with a parameter or a random slope: prelu (learned slope), glu (gated halves), rrelu."""
from __future__ import annotations

from .._tensor import Tensor, make, wrap_dim
from ._registry import bind, defop
from ._util import check_tensor
from .activation import _leaky_relu, _run
from .pointwise import sigmoid, where
from .random import _sampler, _uniform

PUBLIC = {}


def _channel_shape(ndim, numel):
    """The shape a weight of ``numel`` values takes to broadcast along dim 1 of an ``ndim``-d input."""
    if ndim >= 2 and numel > 1:
        return (numel,) + (1,) * (ndim - 2)
    return ()


@defop("prelu", nin=2, node_name="PreluKernelBackward0")
def _prelu(ctx, x, w):
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w.ndim}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.size != 1 and w.size != channels:
        raise RuntimeError("Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{w.size} and channel size = {channels}.")
    ctx.save_for_backward(x, w)
    wb = w.reshape(_channel_shape(x.ndim, w.size))
    return ctx.xp.where(x > 0, x, x * wb)


@_prelu.backward
def _(ctx, g):
    x, w = ctx.saved_tensors
    pos = x > 0
    wb = w.reshape(_channel_shape(x.ndim, w.numel()))
    gx = where(pos, g, g * wb) if ctx.needs_input_grad[0] else None
    gw = None
    if ctx.needs_input_grad[1]:
        gw = where(pos, 0.0, g * x)
        if x.ndim >= 2 and w.numel() > 1:
            gw = gw.sum([d for d in range(x.ndim) if d != 1])
        else:
            gw = gw.sum()
        gw = gw.reshape(w.shape)
    return gx, gw


bind(_prelu, namespace=PUBLIC)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``max(0, input) + weight * min(0, input)``, ``weight`` one value or one per channel (dim 1)."""
    return _prelu(input, weight)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The first half of ``input`` along ``dim`` gated by sigmoid of the second half."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return a * sigmoid(b)


@defop("rrelu_with_noise", node_name="RreluWithNoiseBackward0")
def _rrelu_noise(ctx, x, noise):
    ctx.noise = noise
    return x * noise


@_rrelu_noise.backward
def _(ctx, g):
    return g * make(ctx.noise, ctx.device)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU whose negative slope is drawn from ``U(lower, upper)`` per element when training,
    and is ``(lower + upper) / 2`` otherwise."""
    if not training:
        return _run(_leaky_relu, input, ((lower + upper) / 2,), inplace)
    x = input._data
    dev = input._device
    r = _uniform(_sampler(None, dev), x.shape, x.dtype, lower, upper)
    noise = dev.xp.where(x <= 0, r, x.dtype.type(1))
    return _run(_rrelu_noise, input, (noise,), inplace)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    check_tensor(input, "rrelu_")
    return rrelu(input, lower, upper, training, True)


PUBLIC["rrelu"], PUBLIC["rrelu_"] = rrelu, rrelu_
