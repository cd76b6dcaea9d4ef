"""Neural-network ops that are neither conv, pool, norm nor loss: linear, pad, dropout, embedding, one_hot.

Each forward works on backend arrays.  Backwards are Tensor ops or differentiable ops of their
own (so ``create_graph=True`` works); the few written on arrays only, as torch's are, pass their
results through :func:`first_order_only`, so differentiating them again raises instead of
silently dropping terms.
"""
from __future__ import annotations

import numpy as np

from .._grad_state import state as _grad_state
from .._tensor import Tensor, make
from ._registry import _type_name, adjoint_pair, apply, defop, variant
from ._util import add_rows_at

PUBLIC = {}


def first_order_only(name, grads, *deps):
    """Gradients a backward computed on arrays: under ``create_graph=True`` each is tied to ``deps``
    (the tensors it depends on) through a node whose backward raises, as torch's does for the
    backwards it cannot differentiate (``derivative for aten::<name> is not implemented``).
    """
    if not _grad_state.enabled or not any(isinstance(d, Tensor) and d._requires_grad for d in deps):
        return grads
    return tuple(None if t is None else apply(_not_differentiable, (t,) + deps, (name,)) for t in grads)


@defop("_not_differentiable", node_name="NotImplemented")
def _not_differentiable(ctx, t, *deps_and_name):
    ctx.what = deps_and_name[-1]
    return t


@_not_differentiable.backward
def _(ctx, g):
    raise NotImplementedError(f"derivative for aten::{ctx.what} is not implemented")


# ---- linear ----------------------------------------------------------------------------------
def _mm_error(x, w):
    m = 1
    for s in x.shape[:-1]:
        m *= s
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({m}x{x.shape[-1]} and "
                        f"{w.shape[1]}x{w.shape[0]})")


def _check_linear(x, w):
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        if w.ndim != 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w.ndim}D")
        raise _mm_error(x, w)
    if x.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dt(x)} and {_dt(w)}")


def _dt(a):
    from .._dtype import _FROM_NP
    from ._registry import _SHORT
    return _SHORT[_FROM_NP[a.dtype].name]


@defop("linear", nin=3, node_name="AddmmBackward0")
def _linear(ctx, x, w, b):
    _check_linear(x, w)
    ctx.save_for_backward(x, w)
    if x.ndim != 2:                      # torch: addmm on a 2-D view, then a view back
        ctx.__class__ = _LinearView
    out = _mm(x, w)
    out += b
    return out


@defop("_linear_nobias", nin=2, node_name="MmBackward0")
def _linear_nobias(ctx, x, w):
    _check_linear(x, w)
    ctx.save_for_backward(x, w)
    if x.ndim != 2:                      # torch: mm on a 2-D view, then a squeeze or view back
        ctx.__class__ = _LinearNobiasSqueeze if x.ndim == 1 else _LinearNobiasView
    return _mm(x, w)


def _mm(x, w):
    """``x @ w.T`` as one 2-D GEMM whatever the leading dims of ``x``."""
    out = x @ w.T if x.ndim <= 2 else (x.reshape(-1, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
    return out.astype(x.dtype, copy=False)          # ml_dtypes: bf16 @ bf16 -> f32


def _linear_grads(ctx, g, has_bias):
    """Gradients in Tensor ops (so ``create_graph=True`` differentiates them again)."""
    x, w = ctx.saved_tensors
    need = ctx.needs_input_grad
    gx = g.matmul(w) if need[0] else None
    gw = gb = None
    if need[1] or (has_bias and need[2]):
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        if need[1]:
            gw = g2.mT.matmul(x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x)
        if has_bias and need[2]:
            gb = g2.sum(0)
    return (gx, gw, gb) if has_bias else (gx, gw)


@_linear.backward
def _(ctx, g):
    return _linear_grads(ctx, g, True)


@_linear_nobias.backward
def _(ctx, g):
    return _linear_grads(ctx, g, False)


_LinearView = variant(_linear, "ViewBackward0")
_LinearNobiasSqueeze = variant(_linear_nobias, "SqueezeBackward4")
_LinearNobiasView = variant(_linear_nobias, "UnsafeViewBackward0")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``."""
    if bias is None:
        return _linear_nobias(input, weight)
    return _linear(input, weight, bias)


# ---- pad ---------------------------------------------------------------------------------------
_NP_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_widths(ndim, pad):
    """torch's ``pad`` (last dim first, pairs) as NumPy's per-dim ``(before, after)``."""
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return widths


@defop("_pad", node_name="ConstantPadNdBackward0")
def _pad(ctx, x, pad, mode, value):
    xp = ctx.xp
    widths = _pad_widths(x.ndim, pad)
    ctx.widths, ctx.mode, ctx.in_shape = widths, mode, x.shape
    if mode == "constant":
        if all(a >= 0 and b >= 0 for a, b in widths):
            return xp.pad(x, widths, mode="constant", constant_values=value)
        # negative padding crops
        pos = [(max(a, 0), max(b, 0)) for a, b in widths]
        y = xp.pad(x, pos, mode="constant", constant_values=value)
        sl = tuple(slice(-min(a, 0), y.shape[d] + min(b, 0)) for d, (a, b) in enumerate(widths))
        return xp.ascontiguousarray(y[sl])
    return xp.pad(x, widths, mode=_NP_PAD_MODE[mode])


@_pad.backward
def _(ctx, g):
    return _pad_backward(g, ctx.widths, ctx.mode, ctx.in_shape)


def _pad_source_index(n, before, after, mode):
    """For each position of a padded dim of length ``n``, the source index it was copied from."""
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)
    i = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(i >= n, period - i, i)


@defop("_pad_backward")
def _pad_backward(ctx, g, widths, mode, in_shape):
    xp = ctx.xp
    ctx.widths, ctx.mode = widths, mode
    if mode == "constant":
        sl = tuple(slice(a, g.shape[d] - b) for d, (a, b) in enumerate(widths))
        if all(a >= 0 and b >= 0 for a, b in widths):
            return xp.ascontiguousarray(g[sl])
        out = xp.zeros(in_shape, g.dtype)
        osl = tuple(slice(max(-a, 0), in_shape[d] - max(-b, 0)) for d, (a, b) in enumerate(widths))
        gsl = tuple(slice(max(a, 0), g.shape[d] - max(b, 0)) for d, (a, b) in enumerate(widths))
        out[osl] = g[gsl]
        return out
    for d, (a, b) in enumerate(widths):
        if a == 0 and b == 0:
            continue
        idx = xp.asarray(_pad_source_index(in_shape[d], a, b, mode))
        shape = list(g.shape)
        shape[d] = in_shape[d]
        out = xp.zeros(shape, g.dtype)
        add_rows_at(xp, out, idx, g, d)
        g = out
    return g


@_pad_backward.backward
def _(ctx, gg):
    # padding copies each output element from one input element (the pad value aside): its
    # backward adds gradients back there, and the derivative of that is the padding again
    flat = []
    for a, b in reversed(ctx.widths):
        flat += [a, b]
    return _pad(gg, tuple(flat), ctx.mode, 0)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (left, right) from the last dim backwards."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension {input.ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant":
        if value:
            raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
        if input.ndim - len(pad) // 2 not in (1, 2):           # a batch dim and/or a channel dim in front
            raise NotImplementedError(
                f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
                "Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
        for i in range(len(pad) // 2):
            n = input.shape[input.ndim - 1 - i]
            a, b = pad[2 * i], pad[2 * i + 1]
            if mode == "reflect" and (a >= n or b >= n):
                raise RuntimeError(
                    f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input dimension, "
                    f"but got: padding ({a}, {b}) at dimension {input.ndim - 1 - i} of input "
                    f"{list(input.shape)}")
            if mode == "circular" and (a > n or b > n):
                raise RuntimeError("Padding value causes wrapping around more than once.")
    return _pad(input, pad, mode, 0 if value is None else value)


# ---- dropout -----------------------------------------------------------------------------------
@defop("_masked_scale", nin=2, node_name="NativeDropoutBackward0")
def _masked_scale(ctx, x, mask, scale):
    ctx.save_for_backward(mask)
    ctx.scale = scale
    return x * mask * x.dtype.type(scale)


@_masked_scale.backward
def _(ctx, g):
    (mask,) = ctx.saved_tensors
    return _masked_scale(g, mask, ctx.scale), None


@defop("_affine_mask", nin=2, node_name="AlphaDropoutBackward0")
def _affine_mask(ctx, x, mask, a, b):
    """``(x * mask + alpha' * (1 - mask)) * a + b``, alpha dropout's affine step."""
    ctx.save_for_backward(mask)
    ctx.a = a
    t = x.dtype.type
    return (x * mask + t(-1.7580993408473766) * (1 - mask)) * t(a) + t(b)


@_affine_mask.backward
def _(ctx, g):
    (mask,) = ctx.saved_tensors
    return _masked_scale(g, mask, ctx.a), None


def _bernoulli_mask(input, shape, keep):
    from .. import rand
    return (rand(shape, dtype=input.dtype, device=input.device) < keep).to(input.dtype)


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _inplace_result(input, out):
    input._data[...] = out._data
    input._version[0] += 1
    return input


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``."""
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        out = input * 0
    else:
        out = _masked_scale(input, _bernoulli_mask(input, input.shape, 1 - p), 1.0 / (1 - p))
    return _inplace_result(input, out) if inplace else out


def _feature_dropout(input, p, training, inplace, batched_ndim, name):
    _check_p(p)
    if not training or p == 0:
        return input
    nd = input.ndim
    if nd not in (batched_ndim, batched_ndim - 1):
        raise RuntimeError(f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but got "
                           f"input of size: {list(input.shape)}")
    lead = 2 if nd == batched_ndim else 1
    shape = tuple(input.shape[:lead]) + (1,) * (nd - lead)
    if p == 1:
        out = input * 0
    else:
        out = _masked_scale(input, _bernoulli_mask(input, shape, 1 - p), 1.0 / (1 - p))
    return _inplace_result(input, out) if inplace else out


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) input."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 4, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 5, "dropout3d")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalising mean and variance."""
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        out = input * 0
    else:
        alpha = -1.7580993408473766
        a = ((1 - p) * (1 + p * alpha * alpha)) ** -0.5
        b = -a * alpha * p
        out = _affine_mask(input, _bernoulli_mask(input, input.shape, 1 - p), a, b)
    return _inplace_result(input, out) if inplace else out


# ---- embedding -----------------------------------------------------------------------------------
@defop("embedding", nin=2)
def _embedding(ctx, weight, idx, padding_idx, scale_grad_by_freq):
    if idx.dtype.name not in ("int64", "int32"):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {_type_name(idx)} instead (while checking arguments for "
                           "embedding)")
    n = weight.shape[0]
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError("index out of range in self")
    ctx.params = (idx, n, padding_idx, scale_grad_by_freq)
    return weight[idx]


@_embedding.backward
def _(ctx, g):
    return _embedding_backward(g, *ctx.params), None


def _row_scale(xp, idx, num, padding_idx, by_freq, dtype):
    """Per looked-up row: 0 at ``padding_idx``, ``1 / count`` of its index with ``scale_grad_by_freq``."""
    flat = idx.reshape(-1)
    scale = None
    if by_freq:
        scale = (1 / xp.bincount(flat % num, minlength=num)[flat]).astype(dtype)
    if padding_idx is not None:
        keep = (flat % num != padding_idx).astype(dtype)
        scale = keep if scale is None else scale * keep
    return scale


def _embedding_scatter_fn(xp, g, idx, num, padding_idx, by_freq):
    """Rows of ``g`` added into a (num, dim) zero array at their indices."""
    rows = g.reshape(-1, g.shape[-1])
    scale = _row_scale(xp, idx, num, padding_idx, by_freq, g.dtype)
    out = xp.zeros((num, g.shape[-1]), g.dtype)
    add_rows_at(xp, out, idx, rows if scale is None else rows * scale[:, None])
    return out


def _embedding_gather_fn(xp, gg, idx, num, padding_idx, by_freq):
    scale = _row_scale(xp, idx, num, padding_idx, by_freq, gg.dtype)
    rows = gg[idx.reshape(-1)]
    if scale is not None:
        rows = rows * scale[:, None]
    return rows.reshape(idx.shape + (gg.shape[-1],))


_, _embedding_backward = adjoint_pair("_embedding_gather", _embedding_gather_fn, _embedding_scatter_fn,
                                      node_name="EmbeddingBackwardBackwardBackward0",
                                      adjoint_node_name="EmbeddingBackwardBackward0")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input``; ``max_norm`` renormalises them in place."""
    if padding_idx is not None:
        n = weight.shape[0]
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % n
    if max_norm is not None:
        _embedding_renorm(weight, input, max_norm, norm_type)
    return _embedding(weight, input, padding_idx, bool(scale_grad_by_freq))


def _embedding_renorm(weight, input, max_norm, norm_type):
    w = weight._data
    xp = weight._device.xp
    rows = xp.unique(input._data.reshape(-1))
    sub = w[rows]
    norms = xp.sum(xp.abs(sub) ** norm_type, axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    w[rows] = sub * scale[:, None]
    weight._version[0] += 1


# ---- one_hot -----------------------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as int64 one-hot vectors along a new last dim."""
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = tensor._device.xp
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (a[..., None] == xp.arange(num_classes)).astype(np.int64)
    return make(out, tensor._device)
