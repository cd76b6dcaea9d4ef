"""``torch.nn.functional``: the functional form of every layer, loss and activation.

The ops live in ``ember._ops`` (nn_conv, nn_pool, nn_norm, nn_loss, nn_misc, activation); this
module gives them torch's signatures.  Activations are re-exported from their one home.
"""
from __future__ import annotations

import math

from .. import _ops
from .._ops import activation as _act
from .._ops import nn_conv as _conv
from .._ops import nn_pool as _pool
from .._ops.activation import (celu, celu_, elu, elu_, gelu, hardshrink, hardsigmoid, hardswish, hardtanh,  # noqa: F401
                               hardtanh_, leaky_relu, leaky_relu_, log_softmax, logsigmoid, mish, relu, relu6,
                               relu_, selu, selu_, silu, softmax, softmin, softplus, softshrink, softsign,
                               tanhshrink, threshold, threshold_)
from .._ops.nn_loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,  # noqa: F401
                            huber_loss, kl_div, l1_loss, mse_loss, multilabel_soft_margin_loss, nll_loss,
                            poisson_nll_loss, smooth_l1_loss, soft_margin_loss, legacy_reduction, _apply_reduction,
                            _check_reduction)
from .._ops.nn_misc import (alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, embedding,  # noqa: F401
                            linear, one_hot, pad)
from .._ops.nn_norm import batch_norm, group_norm, instance_norm, layer_norm, local_response_norm  # noqa: F401
from .._tensor import Tensor


def __getattr__(name):
    """Activations added to ``ember._ops.activation`` (or ``ember``) later resolve by name."""
    for src in (_act, _ops.PUBLIC):
        f = getattr(src, name, None) if src is _act else src.get(name)
        if f is not None:
            return f
    raise AttributeError(f"module 'ember.nn.functional' has no attribute '{name}'")


# ---- convolution ----------------------------------------------------------------------------------
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution over (N, C, L) input."""
    return _conv.convolution(input, weight, bias, stride, padding, dilation, False, 0, groups, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution over (N, C, H, W) input."""
    return _conv.convolution(input, weight, bias, stride, padding, dilation, False, 0, groups, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution over (N, C, D, H, W) input."""
    return _conv.convolution(input, weight, bias, stride, padding, dilation, False, 0, groups, "conv3d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-d transposed convolution (the gradient of conv1d w.r.t. its input)."""
    return _conv.convolution(input, weight, bias, stride, padding, dilation, True, output_padding, groups,
                             "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution (the gradient of conv2d w.r.t. its input)."""
    return _conv.convolution(input, weight, bias, stride, padding, dilation, True, output_padding, groups,
                             "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-d transposed convolution (the gradient of conv3d w.r.t. its input)."""
    return _conv.convolution(input, weight, bias, stride, padding, dilation, True, output_padding, groups,
                             "conv_transpose3d")


# ---- pooling --------------------------------------------------------------------------------------
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling."""
    return _pool.max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling."""
    return _pool.max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-d max pooling."""
    return _pool.max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3, "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling."""
    return _pool.avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-d average pooling."""
    return _pool.avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                          "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-d average pooling."""
    return _pool.avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3,
                          "avg_pool3d")


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length."""
    return _pool.adaptive_avg_pool(input, output_size, 1)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (None keeps that dim)."""
    return _pool.adaptive_avg_pool(input, output_size, 2)


def adaptive_avg_pool3d(input, output_size):
    return _pool.adaptive_avg_pool(input, output_size, 3)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length."""
    return _pool.adaptive_max_pool(input, output_size, return_indices, 1)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size."""
    return _pool.adaptive_max_pool(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _pool.adaptive_max_pool(input, output_size, return_indices, 3)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool1d: values back at their indices, zeros elsewhere."""
    return _pool.max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d: values back at their indices, zeros elsewhere."""
    return _pool.max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _pool.max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


# ---- distances and attention ------------------------------------------------------------------------
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``."""
    n1 = (x1 * x1).sum(dim).sqrt().clamp_min(eps)
    n2 = (x2 * x2).sum(dim).sqrt().clamp_min(eps)
    return (x1 * x2).sum(dim) / (n1 * n2)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """p-norm of ``x1 - x2 + eps`` over the last dim."""
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """``softmax(q k^T * scale + mask) v``, as torch's reference implementation."""
    import ember
    lq, lk = query.shape[-2], key.shape[-2]
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    kt = key.transpose(-2, -1) if hasattr(key, "transpose") else key.mT
    attn = ember.matmul(query, kt) * s
    if is_causal:
        mask = ember.ones(lq, lk, dtype=ember.bool).tril()
        attn = attn.masked_fill(~mask, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == ember.bool:
            attn = attn.masked_fill(~attn_mask, float("-inf"))
        else:
            attn = attn + attn_mask
    attn = softmax(attn, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return ember.matmul(attn, value)


# ---- unfold / fold ---------------------------------------------------------------------------------
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of (N, C, H, W) as (N, C * kh * kw, L)."""
    if input.ndim != 4:
        raise NotImplementedError(f"Input Error: Only 4D input Tensors are supported (got {input.ndim}D)")
    return _unfold(input, _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum (N, C * kh * kw, L) blocks back into (N, C, *output_size); the adjoint of unfold."""
    if input.ndim != 3:
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {input.ndim}D)")
    return _fold(input, _pair(output_size), _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride))


def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


@_ops._registry.defop("im2col", node_name="Im2ColBackward0")
def _unfold(ctx, x, k, d, p, s):
    xp = ctx.xp
    ctx.geom = (x.shape[2:], k, d, p, s)
    cols, out = _conv.im2col(xp, xp.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]))), k, s, d, 1)
    n = x.shape[0]
    return xp.ascontiguousarray(cols.reshape(cols.shape[1], n, -1).transpose(1, 0, 2))


@_unfold.backward
def _(ctx, g):
    size, k, d, p, s = ctx.geom
    return _fold(g, size, k, d, p, s)


@_ops._registry.defop("col2im", node_name="Col2ImBackward0")
def _fold(ctx, x, size, k, d, p, s):
    xp = ctx.xp
    ctx.geom = (k, d, p, s)
    c = x.shape[1] // (k[0] * k[1])
    padded = (size[0] + 2 * p[0], size[1] + 2 * p[1])
    out = tuple((padded[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    if out[0] * out[1] != x.shape[2]:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({k[0]}, {k[1]}), dilation=("
                           f"{d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), expected size of "
                           f"input's dimension 2 to match the calculated number of sliding blocks {out[0]} * "
                           f"{out[1]} = {out[0] * out[1]}, but got input.size(2)={x.shape[2]}.")
    n = x.shape[0]
    cols = x.transpose(1, 0, 2).reshape(1, x.shape[1], -1)
    res = _conv.col2im(xp, cols, c, n, padded, k, s, d, out)
    return xp.ascontiguousarray(res[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]].transpose(1, 0, 2, 3))


@_fold.backward
def _(ctx, g):
    k, d, p, s = ctx.geom
    return _unfold(g, k, d, p, s)


# ---- shape helpers ---------------------------------------------------------------------------------
def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    r = upscale_factor
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    x = input.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    n = len(lead)
    x = x.permute(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return x.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    n = len(lead)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    x = x.permute(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return x.reshape(tuple(lead) + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """Split channels into ``groups`` and interleave them."""
    n, c = input.shape[0], input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    rest = tuple(input.shape[2:])
    x = input.reshape((n, groups, c // groups) + rest).transpose(1, 2)
    return x.reshape((n, c) + rest)


def bilinear(input1, input2, weight, bias=None):
    """``y_o = x1^T A_o x2 + b_o`` over the last dims of ``input1`` and ``input2``."""
    import ember
    y = ember.einsum("...i,oij,...j->...o", input1, weight, input2)
    return y if bias is None else y + bias


# ---- losses built from other ops -------------------------------------------------------------------
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """``1 - cos`` for target 1, ``max(0, cos - margin)`` for target -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    eps = 1e-12
    prod = (input1 * input2).sum(-1)
    m1 = (input1 * input1).sum(-1) + eps
    m2 = (input2 * input2).sum(-1) + eps
    cos = prod / (m1 * m2).sqrt()
    zeros = cos * 0
    pos = (1 - cos).where(target == 1, zeros)
    neg = (cos - margin).clamp_min(0).where(target == -1, zeros)
    return _apply_reduction(pos + neg, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _apply_reduction((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """``input`` where target is 1, ``max(0, margin - input)`` where it is -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    zeros = input * 0
    out_margin = (margin - input).clamp_min(0).where(target != 1, zeros)
    out_self = input.where(target != -1, zeros)
    return _apply_reduction(out_margin + out_self, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the pairwise p-norm distance."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        import ember
        d_neg = ember.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _apply_reduction((d_pos - d_neg + margin).clamp_min(0), reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """``0.5 * (log(var) + (input - target)^2 / var)`` (+ const if ``full``), var clamped at ``eps``."""
    _check_reduction(reduction)
    if var.ndim == input.ndim - 1 or (var.ndim == input.ndim and var.shape[-1] == 1 and input.shape[-1] != 1):
        if var.ndim == input.ndim - 1:
            var = var.reshape(tuple(var.shape) + (1,))
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    import ember
    with ember.no_grad():
        clamped = var.clamp_min(eps)
    var = var + (clamped - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


# ---- resampling ------------------------------------------------------------------------------------
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims: nearest, nearest-exact, linear, bilinear, trilinear or bicubic."""
    if antialias:
        raise NotImplementedError("antialias=True is not supported")
    return _pool.interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
