"""``torch.nn.functional``: the functional form of every layer, loss and activation.

The ops live in ``ember._ops`` (nn_conv, nn_pool, nn_norm, nn_loss, nn_misc, activation); this
module gives them torch's signatures.  Activations are re-exported from their one home.
"""
from __future__ import annotations

import math
import warnings

from .. import _ops
from .._ops import activation as _act
from .._ops import nn_conv as _conv
from .._ops import nn_pool as _pool
from .._ops._util import check_tensor
from .._ops.activation import (celu, celu_, elu, elu_, gelu, hardshrink, hardsigmoid, hardswish, hardtanh,  # noqa: F401
                               hardtanh_, leaky_relu, leaky_relu_, logsigmoid, mish, relu, relu6,
                               relu_, selu, selu_, sigmoid, silu, softplus, softshrink, softsign, tanh,
                               tanhshrink, threshold, threshold_)
from .._ops.nn_loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,  # noqa: F401
                            huber_loss, kl_div, l1_loss, mse_loss, multi_margin_loss, multilabel_margin_loss,
                            multilabel_soft_margin_loss, nll_loss,
                            poisson_nll_loss, smooth_l1_loss, soft_margin_loss, legacy_reduction, _apply_reduction,
                            _check_reduction)
from .._ops.nn_misc import (alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, embedding,  # noqa: F401
                            linear, one_hot, pad)
from .._ops.nn_norm import batch_norm, group_norm, instance_norm, layer_norm, local_response_norm  # noqa: F401
from .._dtype import bool_ as _bool
from .._dtype import C_NAMES as _C_NAMES
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


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """3-d max pooling; always returns ``(output, indices)``."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


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


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """Adaptive 1-d max pooling; always returns ``(output, indices)``."""
    return _pool.adaptive_max_pool(input, output_size, True, 1)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """Adaptive 2-d max pooling; always returns ``(output, indices)``."""
    return _pool.adaptive_max_pool(input, output_size, True, 2)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """Adaptive 3-d max pooling; always returns ``(output, indices)``."""
    return _pool.adaptive_max_pool(input, output_size, True, 3)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """2-d max pooling over pseudo-random windows (``_random_samples``: (N, C, 2) in [0, 1), else drawn)."""
    return _pool.fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                     _random_samples, 2)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """3-d max pooling over pseudo-random windows (``_random_samples``: (N, C, 3) in [0, 1), else drawn)."""
    return _pool.fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                     _random_samples, 3)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """Fractional 2-d max pooling; always returns ``(output, indices)``."""
    return _pool.fractional_max_pool(input, kernel_size, output_size, output_ratio, True, _random_samples, 2)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """Fractional 3-d max pooling; always returns ``(output, indices)``."""
    return _pool.fractional_max_pool(input, kernel_size, output_size, output_ratio, True, _random_samples, 3)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool1d: values back at their indices, zeros elsewhere."""
    return _pool.max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d: values back at their indices, zeros elsewhere."""
    return _pool.max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _pool.max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-d power-average pooling: ``(sum over the window of x^p)^(1/p)``."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-d power-average pooling: ``(sum over the window of x^p)^(1/p)``."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-d power-average pooling: ``(sum over the window of x^p)^(1/p)``."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd):
    """torch's composition: max pooling of ``|x|`` at p = +-inf, else ``avg_pool(x^p) * prod(k)`` to the 1/p
    (negative window sums clamped to zero, where the gradient is zero too)."""
    name = f"max_pool{nd}d"
    if norm_type == float("inf"):
        return _pool.max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode, False, nd, name)
    if norm_type == -float("inf"):
        return -_pool.max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode, False, nd, name)
    out = _pool.avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode, True, None, nd, f"avg_pool{nd}d")
    return (out.sign() * relu(out.abs())).mul(math.prod(_pool._tuple(kernel_size, nd))).pow(1.0 / norm_type)


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


def pdist(input, p=2):
    """p-norm distances between all pairs of rows of (N, M) ``input``: the upper triangle of cdist, as (N(N-1)/2,)."""
    check_tensor(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = _ops.PUBLIC["triu_indices"](n, n, 1, device=input.device)
    return (input[i] - input[j]).norm(p, 1)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """``softmax(q k^T * scale + mask) v``, as torch's math kernel: rows masked out entirely give zeros."""
    _check_sdpa(query, key, value, attn_mask)
    if enable_gqa and key.dim() >= 3 and query.shape[-3] != key.shape[-3]:
        hq = query.shape[-3]
        for t in (key, value):
            if hq % t.shape[-3]:
                raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
        key = key.repeat_interleave(hq // key.shape[-3], -3)
        value = value.repeat_interleave(hq // value.shape[-3], -3)
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    attn = query.matmul(key.transpose(-2, -1)) * s
    if is_causal:
        future = _ops.PUBLIC["ones"](query.shape[-2], key.shape[-2], dtype=_bool, device=query.device).triu(1)
        attn = attn.masked_fill(future, float("-inf"))
    dead = None
    if attn_mask is not None:
        attn = attn.masked_fill(attn_mask.logical_not(), float("-inf")) if attn_mask.dtype is _bool \
            else attn + attn_mask
        dead = (attn == float("-inf")).all(-1, keepdim=True)  # rows with no key left: zeros, as torch
        if bool(dead.any()):
            attn = attn.masked_fill(dead, 0.0)
        else:
            dead = None
    attn = softmax(attn, -1)
    if dead is not None:
        attn = attn.masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return attn.matmul(value)


def _check_sdpa(query, key, value, attn_mask):
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_c_name(query)} key.dtype: {_c_name(key)} and value.dtype: {_c_name(value)} instead.")
    if attn_mask is not None and attn_mask.dtype is not _bool and attn_mask.dtype != query.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_c_name(attn_mask)} and  query.dtype: {_c_name(query)} instead.")


def _c_name(t):
    """torch's C++ name of a tensor's dtype, as its kernels print it ("float", "long int")."""
    return _C_NAMES.get(t.dtype.name, t.dtype.name)


# ---- RMS norm, Gumbel-softmax, feature alpha dropout --------------------------------------------
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``input / sqrt(mean(input^2) + eps) * weight`` over the trailing ``normalized_shape`` dims
    (half precisions computed in float32; ``eps=None`` means that compute dtype's machine epsilon)."""
    if isinstance(normalized_shape, int):
        raise TypeError("rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    ns = tuple(normalized_shape)
    k = len(ns)
    if k == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if weight is not None and tuple(weight.shape) != ns:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{list(weight.shape)} and normalized_shape = {list(ns)}")
    if input.ndim < k:
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got {input.ndim}")
    if tuple(input.shape[input.ndim - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*{', '.join(map(str, ns))}"
                           f"], but got input of size{list(input.shape)}")
    import ember
    x = input.float() if input.dtype in (ember.float16, ember.bfloat16) else input
    if eps is None:
        eps = ember.finfo(x.dtype).eps
    r = (x.pow(2).mean(tuple(range(-k, 0)), keepdim=True) + eps).rsqrt()
    out = (x * r).to(input.dtype)
    return out if weight is None else out * weight


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Softmax of ``(logits + Gumbel noise) / tau``; with ``hard``, the one-hot argmax in the forward pass and
    the soft sample's gradient (straight-through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -_ops.PUBLIC["empty_like"](logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = _ops.PUBLIC["zeros_like"](logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels: every element of a dropped (N, C) channel becomes SELU's negative
    saturation value, then the affine step keeps the mean and variance."""
    from .._ops import nn_misc
    nn_misc._check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1:
        out = input * 0
    else:
        alpha = 1.7580993408473766
        a = ((alpha * alpha * p + 1) * (1 - p)) ** -0.5
        shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
        out = nn_misc._affine_mask(input, nn_misc._bernoulli_mask(input, shape, 1 - p), a, alpha * a * p)
    return nn_misc._inplace_result(input, out) if inplace else out


# ---- unfold / fold ---------------------------------------------------------------------------------
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of (N, C, H, W) (or unbatched (C, H, W)) as (N, C * kh * kw, L)."""
    if input.ndim not in (3, 4) or 0 in input.shape[input.ndim - 3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    k, d, p, s = _im2col_geometry(kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    blocks = [(x.shape[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size=({k[0]}, "
                           f"{k[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), calculated shape of the "
                           f"array of sliding blocks as ({blocks[0]}, {blocks[1]}), but its components must be at "
                           "least one.")
    out = _unfold(x, k, d, p, s)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum (N, C * kh * kw, L) blocks (or unbatched (C * kh * kw, L)) back into (N, C, *output_size);
    the adjoint of unfold."""
    if input.ndim not in (2, 3) or 0 in input.shape[input.ndim - 2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    size = _pair(output_size, "output_size")
    k, d, p, s = _im2col_geometry(kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    if x.shape[1] % (k[0] * k[1]):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size=({k[0]}, {k[1]}).")
    out = _fold(x, size, k, d, p, s)
    return out.squeeze(0) if unbatched else out


def _im2col_geometry(kernel_size, dilation, padding, stride):
    """``(kernel_size, dilation, padding, stride)`` as pairs, checked as torch's im2col/col2im check them."""
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    for (a, b), what, name in ((k, "kernel size", "kernel"), (s, "stride", "stride"), (d, "dilation", "dilation")):
        if a <= 0 or b <= 0:
            raise RuntimeError(f"{what} should be greater than zero, but got {name}_height: {a} {name}_width: {b}")
    if p[0] < 0 or p[1] < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")
    return k, d, p, s


def _pair(v, name):
    if not isinstance(v, (list, tuple)):
        return (v, v)
    if len(v) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)}")
    return tuple(v)


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


def _check_bilinear(input1, input2, weight, bias):
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    for i in range(input1.ndim - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                               f"got {input1.shape[i]} and {input2.shape[i]}")
    for k, x in ((1, input1), (2, input2)):
        if weight.ndim > k and x.shape[-1] != weight.shape[k]:
            raise RuntimeError(f"bilinear(): input{k} size does not match weight size: "
                               f"got {x.shape[-1]} but expected {weight.shape[k]}")
    if bias is not None and bias.shape[-1] != weight.shape[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: "
                           f"got {bias.shape[-1]} but expected {weight.shape[0]}")


def bilinear(input1, input2, weight, bias=None):
    """``y_o = x1^T A_o x2 + b_o`` over the last dims of ``input1`` and ``input2``."""
    import ember
    _check_bilinear(input1, input2, weight, bias)
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


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` for any ``distance_function`` (default: pairwise_distance)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = _ops.PUBLIC["minimum"](d_neg, distance(positive, negative))
    return _apply_reduction((margin + d_pos - d_neg).clamp_min(0), reduction)


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


# ---- softmax family -------------------------------------------------------------------------------
def _softmax_dim(name, dim, ndim, stacklevel):
    """``dim``, or torch's deprecated implicit choice (0 for 0-, 1- and 3-d input, else 1) with its warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, optionally computed in ``dtype``."""
    return _act.softmax(input, _softmax_dim("softmax", dim, input.ndim, _stacklevel), dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably."""
    return _act.log_softmax(input, _softmax_dim("log_softmax", dim, input.ndim, _stacklevel), dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    return _act.softmin(input, _softmax_dim("softmin", dim, input.ndim, _stacklevel), dtype)


# ---- resampling ------------------------------------------------------------------------------------
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims: nearest, nearest-exact, linear, bilinear, trilinear or bicubic (``antialias``:
    bilinear and bicubic shrink with PIL's widened filters, as torchvision's Resize does)."""
    return _pool.interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- multi-head attention ---------------------------------------------------------------------------
def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask becomes an additive float mask (``-inf`` where True); float masks pass through."""
    if mask is None:
        return None
    is_float = mask.is_floating_point()
    if mask.dtype is not _bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", stacklevel=2)
    if not is_float:
        mask = _ops.PUBLIC["zeros_like"](mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Check the ranks of the MHA inputs; True when the input is batched (3-D)."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D"
                                 f" but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                                 f" but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D"
                                 f" but found {key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D"
                                 f" but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                                     f" but found {attn_mask.dim()}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and attn_mask.shape != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """Project q, k, v with one (3E, E) weight; self-attention does it in a single matmul."""
    E = q.size(-1)
    if k is v:
        if q is k:
            return list(linear(q, w, b).chunk(3, -1))
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        return [linear(q, w_q, b_q), *linear(k, w_kv, b_kv).chunk(2, -1)]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return [linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)]


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """Project q, k, v with separate weights (query, key and value may differ in width)."""
    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    for name, t, shape in (("query weights", w_q, (Eq, Eq)), ("key weights", w_k, (Eq, Ek)),
                           ("value weights", w_v, (Eq, Ev)), ("query bias", b_q, (Eq,)),
                           ("key bias", b_k, (Eq,)), ("value bias", b_v, (Eq,))):
        if t is not None and t.shape != shape:
            raise AssertionError(f"expecting {name} shape of {shape}, but got {t.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)); returns ``(output, weights or None)``."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q_proj_weight", q_proj_weight), ("k_proj_weight", k_proj_weight),
                        ("v_proj_weight", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name} is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if attn_mask.shape != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if attn_mask.shape != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        cat = _ops.PUBLIC["cat"]
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)
    if add_zero_attn:
        zeros = _ops.PUBLIC["zeros"]((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = _ops.PUBLIC["cat"]([k, zeros], 1)
        v = _ops.PUBLIC["cat"]([v, zeros], 1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.size(1)

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got {key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = (key_padding_mask.view(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
                            .reshape(bsz * num_heads, 1, src_len))
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        scores = (q * math.sqrt(1.0 / float(head_dim))).bmm(k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = weights.bmm(v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = linear(out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim), out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, -1)
    return (out if is_batched else out.squeeze(1)), None


def _heads(t, static, name, bh, head_dim):
    """(S, N, E) projections to (N * heads, S, head_dim), or the given precomputed ``static_k``/``static_v``."""
    if static is None:
        return t.reshape(t.shape[0], bh, head_dim).transpose(0, 1)
    if static.size(0) != bh:
        raise AssertionError(f"expecting {name}.size(0) of {bh}, but got {static.size(0)}")
    if static.size(2) != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.size(2)}")
    return static


# ---- embedding_bag, ctc_loss, affine_grid / grid_sample, prelu / glu / rrelu -------------------------
from .._ops.nn_act_extra import glu, prelu, rrelu, rrelu_  # noqa: E402,F401
from .._ops.nn_bag import embedding_bag  # noqa: E402,F401
from .._ops.nn_ctc import ctc_loss  # noqa: E402,F401
from .._ops.nn_vision import affine_grid, grid_sample  # noqa: E402,F401
