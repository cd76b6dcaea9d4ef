"""Normalisation ops with fused forward and backward: batch norm, layer norm, group norm.

Each forward saves the normalised input ``xhat`` and ``1/std``; each backward is the closed form
``gx = invstd / M * (M * gxhat - sum(gxhat) - xhat * sum(gxhat * xhat))`` over the reduced axes,
run on arrays, or, under ``create_graph=True``, on Tensors recomputed from the input so that it
has a backward itself (double backward, e.g. a WGAN-GP gradient penalty).
"""
from __future__ import annotations

from .._grad_state import state as _grad_state
from .._tensor import Tensor, make
from ._registry import defop

PUBLIC = {}


def _normalize(xp, xr, axes, eps):
    """(xhat, mean, biased var, invstd) of ``xr`` over ``axes`` (keepdims)."""
    mean = xr.mean(axis=axes, keepdims=True)
    xc = xr - mean
    var = xp.mean(xc * xc, axis=axes, keepdims=True)
    invstd = 1.0 / xp.sqrt(var + xr.dtype.type(eps))
    xc *= invstd
    return xc, mean, var, invstd


def _norm_backward(gh, xhat, invstd, axes, m):
    """Gradient w.r.t. the input of ``xhat = (x - mean) * invstd`` given ``gh = dL/dxhat``."""
    s1 = gh.sum(axis=axes, keepdims=True)
    s2 = (gh * xhat).sum(axis=axes, keepdims=True)
    return (gh * m - s1 - xhat * s2) * (invstd / m)


def _norm_backward_graph(gh, x, axes, eps):
    """``_norm_backward`` on Tensors, with ``xhat`` recomputed from ``x`` (differentiable); also returns xhat."""
    xc = x - x.mean(axes, keepdim=True)
    invstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    xhat = xc * invstd
    m = 1
    for a in axes:
        m *= x.shape[a]
    s1 = gh.sum(axes, keepdim=True)
    s2 = (gh * xhat).sum(axes, keepdim=True)
    return (gh * m - s1 - xhat * s2) * (invstd / m), xhat


def _sum_to(t, axes, shape):
    """``t`` summed over ``axes`` (none if empty) and viewed as ``shape``."""
    return (t.sum(axes) if axes else t).reshape(shape)


# ---- batch norm -------------------------------------------------------------------------------------
@defop("batch_norm", nin=3, node_name="NativeBatchNormBackward0")
def _batch_norm(ctx, x, w, b, running_mean, running_var, training, momentum, eps):
    xp = ctx.xp
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        xhat, mean, var, invstd = _normalize(xp, x, axes, eps)
        n = x.size // x.shape[1]
        if running_mean is not None:
            m = x.dtype.type(momentum)
            rm, rv = running_mean._data, running_var._data
            rm *= 1 - m
            rm += m * mean.reshape(-1).astype(rm.dtype)
            rv *= 1 - m
            rv += (m * n / max(n - 1, 1)) * var.reshape(-1).astype(rv.dtype)
            running_mean._version[0] += 1
            running_var._version[0] += 1
    else:
        invstd = (1.0 / xp.sqrt(running_var._data + eps)).astype(x.dtype).reshape(shape)
        ctx.mean = running_mean._data.astype(x.dtype).reshape(shape)
        xhat = (x - ctx.mean) * invstd
    ctx.training, ctx.axes, ctx.shape, ctx.eps = training, axes, shape, eps
    ctx.save_for_backward(w, xhat, invstd, x)
    return xhat * w.reshape(shape) + b.reshape(shape)


@defop("_batch_norm_backward", nin=4, differentiable=False)
def _batch_norm_backward(ctx, g, w, xhat, invstd, training, axes, shape, need):
    """Fused first-order batch norm backward on arrays."""
    gw = (g * xhat).sum(axis=axes) if need[1] else None
    gb = g.sum(axis=axes) if need[2] else None
    out = []
    if need[0]:
        gh = g * w.reshape(shape)
        if training:
            out.append(_norm_backward(gh, xhat, invstd, axes, g.size // g.shape[1]))
        else:
            out.append(gh * invstd)
    out += [a for a in (gw, gb) if a is not None]
    return tuple(out)


def _unpack(ctx, res):
    it = iter(res)
    return tuple(next(it) if n else None for n in ctx.needs_input_grad)


@_batch_norm.backward
def _(ctx, g):
    w, xhat, invstd, x = ctx.saved_tensors
    need = ctx.needs_input_grad
    if not _grad_state.enabled:
        return _unpack(ctx, _batch_norm_backward(g, w, xhat, invstd, ctx.training, ctx.axes, ctx.shape, need))
    axes, shape = ctx.axes, ctx.shape
    gh = g * w.reshape(shape)
    if ctx.training:
        gx, xhat = _norm_backward_graph(gh, x, axes, ctx.eps)
    else:
        gx = gh * invstd
        xhat = (x - make(ctx.mean, x.device)) * invstd
    return (gx if need[0] else None, (g * xhat).sum(axes) if need[1] else None,
            g.sum(axes) if need[2] else None)


# ---- layer norm / group norm -----------------------------------------------------------------------
@defop("_group_affine_norm", nin=3, node_name="NativeLayerNormBackward0")
def _group_affine_norm(ctx, x, w, b, rows, axes, affine_shape, sum_axes, eps):
    """Normalise ``x`` viewed as ``rows`` over ``axes``, then ``* w + b`` with ``w`` viewed as ``affine_shape``."""
    xp = ctx.xp
    xhat, _, _, invstd = _normalize(xp, x.reshape(rows), axes, eps)
    xhat = xhat.reshape(x.shape)
    ctx.save_for_backward(w, xhat, invstd, x)
    ctx.geom, ctx.eps = (rows, axes, affine_shape, sum_axes), eps
    return xhat * w.reshape(affine_shape) + b.reshape(affine_shape)


@defop("_group_affine_norm_backward", nin=4, differentiable=False)
def _group_affine_norm_backward(ctx, g, w, xhat, invstd, geom, need):
    """Fused first-order layer/group norm backward on arrays."""
    rows, axes, affine_shape, sum_axes = geom
    out = []
    if need[0]:
        gh = (g * w.reshape(affine_shape)).reshape(rows)
        m = 1
        for a in axes:
            m *= gh.shape[a]
        out.append(_norm_backward(gh, xhat.reshape(rows), invstd, axes, m).reshape(g.shape))
    if need[1]:
        out.append((g * xhat).sum(axis=sum_axes).reshape(w.shape))
    if need[2]:
        out.append(g.sum(axis=sum_axes).reshape(w.shape))
    return tuple(out)


@_group_affine_norm.backward
def _(ctx, g):
    w, xhat, invstd, x = ctx.saved_tensors
    need = ctx.needs_input_grad
    if not _grad_state.enabled:
        return _unpack(ctx, _group_affine_norm_backward(g, w, xhat, invstd, ctx.geom, need))
    rows, axes, affine_shape, sum_axes = ctx.geom
    gx, xhat = _norm_backward_graph((g * w.reshape(affine_shape)).reshape(rows), x.reshape(rows), axes, ctx.eps)
    xhat = xhat.reshape(x.shape)
    return (gx.reshape(x.shape) if need[0] else None, _sum_to(g * xhat, sum_axes, w.shape) if need[1] else None,
            _sum_to(g, sum_axes, w.shape) if need[2] else None)


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims."""
    from .creation import ones, zeros
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.ndim - k:]) != ns or input.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape [*, {', '.join(map(str, ns))}], but got "
            f"input of size{list(input.shape)}")
    if weight is None:
        weight = ones(ns, dtype=input.dtype, device=input.device)
    if bias is None:
        bias = zeros(ns, dtype=input.dtype, device=input.device)
    lead = tuple(input.shape[:input.ndim - k])
    rows = lead + (-1,)
    return _group_affine_norm(input, weight, bias, rows, (-1,), ns, tuple(range(len(lead))), eps)


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over groups of channels (and all spatial positions) per sample."""
    from .creation import ones, zeros
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {list(input.shape)} and num_groups={num_groups}")
    if weight is None:
        weight = ones(c, dtype=input.dtype, device=input.device)
    if bias is None:
        bias = zeros(c, dtype=input.dtype, device=input.device)
    affine_shape = (1, c) + (1,) * (input.ndim - 2)
    return _group_affine_norm(input, weight, bias, (n, num_groups, -1), (-1,), affine_shape,
                              (0,) + tuple(range(2, input.ndim)), eps)


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel over the batch (and spatial dims); updates running stats when training."""
    from .creation import ones, zeros
    c = input.shape[1] if input.ndim > 1 else 0
    if training:
        size = 1
        for i, v in enumerate(input.shape):
            if i != 1:
                size *= v
        if size == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if weight is None:
        weight = ones(c, dtype=input.dtype, device=input.device)
    if bias is None:
        bias = zeros(c, dtype=input.dtype, device=input.device)
    return _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def instance_norm(input: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims."""
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n, c = input.shape[0], input.shape[1]
    if running_mean is not None:
        xp = input._device.xp
        x = input._data
        axes = tuple(range(2, x.ndim))
        mean = x.mean(axis=axes)
        var = x.var(axis=axes, ddof=1)
        m = momentum
        running_mean._data[...] = (1 - m) * running_mean._data + m * xp.mean(mean, axis=0)
        running_var._data[...] = (1 - m) * running_var._data + m * xp.mean(var, axis=0)
        running_mean._version[0] += 1
        running_var._version[0] += 1
    return group_norm(input, c, weight, bias, eps)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Normalise across neighbouring channels: ``x / (k + alpha/size * sum x^2) ** beta``."""
    from .nn_misc import pad
    from .nn_pool import avg_pool
    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sizes = tuple(input.shape)
    div = (input * input).reshape((sizes[0], 1, sizes[1], sizes[2], -1))
    div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
    div = avg_pool(div, (size, 1, 1), 1, 0, False, True, None, 3, "avg_pool3d").reshape(sizes)
    return input / (div * alpha + k) ** beta
