"""Loss functions as fused ops: each forward computes the loss on arrays, its backward is written
in Tensor ops (so ``create_graph=True`` gives second derivatives, as for gradient penalties).

``cross_entropy`` is log_softmax + nll in one op whose input gradient is ``softmax * sum(A) - A``
for the per-class coefficients ``A`` (one-hot targets, class weights, label smoothing, reduction).
"""
from __future__ import annotations

import warnings

import numpy as np

from .._dtype import from_numpy_dtype
from .._tensor import Tensor, make
from .._grad_state import state as _grad_state
from ._registry import defop
from ._util import user_stacklevel
from .activation import softplus
from .nn_misc import _dt

PUBLIC = {}

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, reduction):
    """torch's mapping of the deprecated ``size_average``/``reduce`` flags onto ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  UserWarning, stacklevel=user_stacklevel())
    return ret


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


# ---- cross entropy / nll ------------------------------------------------------------------------------
def _rows(xp, x):
    """(M, C) view of an input with classes on dim 1 (or dim 0 when 1-d)."""
    if x.ndim == 1:
        return x[None]
    if x.ndim == 2:
        return x
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _class_targets(xp, t, c, ignore_index):
    t = t.reshape(-1)
    valid = t != ignore_index
    tv = t[valid]
    if tv.size and (tv.min() < 0 or tv.max() >= c):
        bad = int(tv[(tv < 0) | (tv >= c)][0])
        raise IndexError(f"Target {bad} is out of bounds.")
    return xp.where(valid, t, 0), valid


def _reduce(xp, rows_loss, reduction, denom, out_shape):
    if reduction == "none":
        return rows_loss.reshape(out_shape)
    s = rows_loss.sum()
    return s / denom if reduction == "mean" else s


@defop("cross_entropy", nin=2, node_name="NllLossBackward0")
def _cross_entropy(ctx, x, t, weight, ignore_index, reduction, label_smoothing):
    xp = ctx.xp
    x2 = _rows(xp, x)
    m, c = x2.shape
    z = x2 - x2.max(axis=1, keepdims=True)
    ez = xp.exp(z)
    se = ez.sum(axis=1, keepdims=True)
    logp = z - xp.log(se)
    ez /= se                                            # softmax
    dt = x.dtype.type
    ls = dt(label_smoothing)
    out_shape = t.shape if t.dtype.kind in "iu" else t.shape[:1] + t.shape[2:] if t.ndim > 1 else ()
    if t.dtype.kind in "iu":
        tc, valid = _class_targets(xp, t, c, ignore_index)
        wt = (weight[tc] if weight is not None else xp.ones(m, x.dtype)) * valid
        ar = xp.arange(m)
        pick = -logp[ar, tc]
        rows = (1 - ls) * pick * wt
        d1 = wt.sum() if reduction == "mean" else dt(1)
        cn = (1 - ls) * wt / d1
        cs = None
        if label_smoothing > 0:
            smooth = -(logp * weight).sum(axis=1) if weight is not None else -logp.sum(axis=1)
            smooth = smooth * valid
            d2 = (wt.sum() if weight is not None else dt(m)) if reduction == "mean" else dt(1)
            loss = _reduce(xp, rows / d1 + (ls / c) * smooth / d2, "sum" if reduction != "none" else "none",
                           1, out_shape)
            cs = (ls / c) * valid / d2
        else:
            loss = _reduce(xp, rows, reduction, d1, out_shape)
        ctx.coef = (tc, cn, cs)
    else:
        t2 = _rows(xp, t).astype(x.dtype)
        a = t2 * (1 - ls) + ls / c if label_smoothing > 0 else t2
        if weight is not None:
            a = a * weight
        d = dt(m) if reduction == "mean" else dt(1)
        loss = _reduce(xp, -(a * logp).sum(axis=1), reduction, d, out_shape)
        ctx.coef = (None, a / d, None)
        ctx.logp_scale = (weight, (1 - ls) / d)
        ctx.smoothing = (ls, d)
        ctx.logp = logp
    ctx.p = ez
    ctx.args = (weight, reduction, x.shape)
    ctx.save_for_backward(x, t)
    return loss.astype(x.dtype) if hasattr(loss, "astype") else loss


def _rows_t(x):
    """:func:`_rows` for Tensors."""
    if x.ndim <= 2:
        return x if x.ndim == 2 else x.unsqueeze(0)
    return x.movedim(1, -1).reshape(-1, x.shape[1])


def _unrows_t(g2, shape):
    """:func:`_unrows` for Tensors."""
    if len(shape) <= 2:
        return g2 if len(shape) == 2 else g2[0]
    return g2.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)).movedim(-1, 1)


@_cross_entropy.backward
def _(ctx, g):
    """``softmax(x) * sum(A) - A`` per row, for the per-class coefficients ``A`` scaled by ``g``.

    Under ``create_graph`` with ``x`` requiring grad, the softmax is recomputed as a Tensor op so
    that it is differentiated too; else the forward's softmax is reused.
    """
    x, t = ctx.saved_tensors
    weight, reduction, shape = ctx.args
    tc, cn, cs = ctx.coef
    dev = ctx.device
    second = _grad_state.enabled and x._requires_grad
    p = _rows_t(x).softmax(1) if second else make(ctx.p, dev)
    gi = g.reshape(-1) if reduction == "none" else g
    w = None if weight is None else make(weight, dev)
    if tc is not None:
        row = make(cn, dev) * gi
        rowsum = row
        if cs is not None:
            csg = make(cs, dev) * gi
            rowsum = row + csg * (w.sum() if w is not None else p.shape[1])
        gx = (p * rowsum.unsqueeze(1)).scatter_add(1, make(tc, dev).unsqueeze(1), -row.unsqueeze(1))
        if cs is not None:
            gx = gx - csg.unsqueeze(1) * (w if w is not None else 1)
        return _unrows_t(gx, shape), None
    if _grad_state.enabled and t._requires_grad:
        # probabilities that require grad: the coefficients are a function of them
        ls, d = ctx.smoothing
        a = _rows_t(t) * (1 - ls) + ls / p.shape[1] if ls > 0 else _rows_t(t)
        a = (a if w is None else a * w) / d
    else:
        a = make(cn, dev)
    a = a * (gi.unsqueeze(1) if reduction == "none" else gi)
    gx = p * a.sum(1, keepdim=True) - a
    gt = None
    if ctx.needs_input_grad[1]:
        ws, scale = ctx.logp_scale
        logp = _rows_t(x).log_softmax(1) if second else make(ctx.logp, dev)
        gt = -logp * scale * (gi.unsqueeze(1) if reduction == "none" else gi)
        if ws is not None:
            gt = gt * make(ws, dev)
        gt = _unrows_t(gt, shape)
    return _unrows_t(gx, shape), gt


@defop("nll_loss", nin=2, node_name="NllLossBackward0")
def _nll_loss(ctx, x, t, weight, ignore_index, reduction):
    xp = ctx.xp
    x2 = _rows(xp, x)
    m, c = x2.shape
    tc, valid = _class_targets(xp, t, c, ignore_index)
    wt = (weight[tc] if weight is not None else xp.ones(m, x.dtype)) * valid
    d = wt.sum() if reduction == "mean" else x.dtype.type(1)
    loss = _reduce(xp, -x2[xp.arange(m), tc] * wt, reduction, d, t.shape)
    ctx.state = (tc, wt / d, reduction, x.shape)
    return xp.asarray(loss, dtype=x.dtype)


@_nll_loss.backward
def _(ctx, g):
    """``-coef * g`` scattered into each row's target column (linear in ``g``, constant in ``x``)."""
    tc, coef, reduction, shape = ctx.state
    dev = ctx.device
    c = shape[1] if len(shape) > 1 else shape[0]
    vals = -make(coef, dev) * (g.reshape(-1) if reduction == "none" else g)
    gx = make(ctx.xp.zeros((tc.shape[0], c), g._data.dtype), dev).scatter(1, make(tc, dev).unsqueeze(1),
                                                                          vals.unsqueeze(1))
    return _unrows_t(gx, shape), None


def _weight_array(weight, c):
    if weight is None:
        return None
    if weight.ndim != 1 or weight.shape[0] != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    return weight._data


def _check_class_target(input, target):
    """torch's checks of a class-index ``target`` against ``input`` of shape (N, C, d1, ...) or (C,):
    batch size, then shape and dtype (the 4-d path checks dtype before shape)."""
    if input.ndim > 1 and input.shape[0] != (target.shape[0] if target.ndim else 0):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.ndim else 0}).")
    long_or_byte = target.dtype.name in ("int64", "uint8")
    if input.ndim == 4 and not long_or_byte:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dt(target._data)}")
    want = (input.shape[0],) + tuple(input.shape[2:])
    if input.ndim <= 2 and target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.ndim == 1 and target.ndim == 1 and target.shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
    if input.ndim == 4 and target.ndim != 3:
        raise RuntimeError("only batches of spatial targets supported (3D tensors) but got targets of dimension: "
                           f"{target.ndim}")
    if input.ndim == 4 and tuple(target.shape) != want:
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}")
    if input.ndim > 2 and tuple(target.shape) != want:
        raise RuntimeError(f"Expected target size {list(want)}, got {list(target.shape)}")
    if not long_or_byte:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dt(target._data)}")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over dim 1 then negative log-likelihood, fused (class indices or probabilities)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    if not (target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape)):
        _check_class_target(input, target)
    return _cross_entropy(input, target, _weight_array(weight, c), ignore_index, reduction, label_smoothing)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (classes on dim 1) at ``target``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_class_target(input, target)
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    return _nll_loss(input, target, _weight_array(weight, c), ignore_index, reduction)


# ---- elementwise losses ---------------------------------------------------------------------------
def _elementwise_loss(name, node_name, loss, grads):
    """An op ``name(x, y, reduction, *params)``: the per-element ``loss(xp, x, y, *params)`` on arrays,
    reduced; its backward scales ``grads(x, y, *params) -> (dloss/dx, dloss/dy)``, written in Tensor
    ops, so that ``create_graph=True`` differentiates it again."""
    @defop(name, nin=2, node_name=node_name)
    def op(ctx, x, y, reduction, *params):
        xp = ctx.xp
        l = loss(xp, *_float_pair(xp, x, y), *params)
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.params = reduction, params
        if reduction == "mean":
            ctx.scale = 1.0 / max(l.size, 1)
            return xp.asarray(l.mean()) if l.size else xp.asarray(xp.nan, l.dtype)
        if reduction == "sum":
            ctx.scale = 1.0
            return xp.asarray(l.sum())
        if reduction == "batchmean":
            ctx.scale = 1.0 / l.shape[0] if l.ndim else 1.0
            return xp.asarray(l.sum() * l.dtype.type(ctx.scale))
        ctx.scale = None
        return l

    @op.backward
    def _(ctx, g):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        if ctx.scale is not None and ctx.scale != 1.0:
            g = g * ctx.scale
        dx, dy = grads(x, y, *ctx.params)
        return (g * dx if need[0] else None,
                g * dy if need[1] and dy is not None else None)

    return op


def _float_pair(xp, x, y):
    """``x`` and ``y`` with an integer or bool one cast to the other's floating dtype, as torch's type
    promotion does (NumPy would widen float32 with int64 to float64)."""
    xf, yf = from_numpy_dtype(x.dtype).is_floating_point, from_numpy_dtype(y.dtype).is_floating_point
    if xf and not yf:
        return x, y.astype(x.dtype)
    if yf and not xf:
        return x.astype(y.dtype), y
    return x, y


def _const(a, like):
    """A weight given as an array (or None), as a Tensor on ``like``'s device."""
    return None if a is None else make(a, like._device)


def _mse(xp, x, y):
    d = x - y
    return d * d


def _mse_grads(x, y):
    dx = 2 * (x - y)
    return dx, -dx


def _l1(xp, x, y):
    return xp.abs(x - y)


def _l1_grads(x, y):
    s = (x - y).sign()
    return s, -s


def _smooth_l1(xp, x, y, beta):
    d = x - y
    ad = xp.abs(d)
    if beta == 0:
        return ad
    return xp.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta).astype(d.dtype)


def _smooth_l1_grads(x, y, beta):
    d = x - y
    dx = d.sign() if beta == 0 else (d / beta).clamp(-1, 1)
    return dx, -dx


def _huber(xp, x, y, delta):
    d = x - y
    ad = xp.abs(d)
    return xp.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta)).astype(d.dtype)


def _huber_grads(x, y, delta):
    dx = (x - y).clamp(-delta, delta)
    return dx, -dx


def _bce(xp, x, y, w):
    l = -(y * xp.maximum(xp.log(x), -100) + (1 - y) * xp.maximum(xp.log1p(-x), -100))
    return l if w is None else l * w


def _bce_grads(x, y, w):
    dx = (x - y) / ((1 - x) * x).clamp(min=1e-12)
    dy = (-x).log1p().clamp(min=-100) - x.log().clamp(min=-100)
    w = _const(w, x)
    return (dx, dy) if w is None else (dx * w, dy * w)


def _softplus_neg(xp, x):
    """``log(1 + exp(-x))``, computed stably."""
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)


def _bce_logits(xp, x, y, w, pw):
    sp = _softplus_neg(xp, x)
    l = (1 - y) * x + (sp if pw is None else (1 + (pw - 1) * y) * sp)
    return l if w is None else l * w


def _bce_logits_grads(x, y, w, pw):
    if pw is None:
        dx, dy = x.sigmoid() - y, -x
    else:
        pw = _const(pw, x)
        dx = (1 - y) - (1 + (pw - 1) * y) * (-x).sigmoid()
        dy = (pw - 1) * softplus(-x) - x
    w = _const(w, x)
    return (dx, dy) if w is None else (dx * w, dy * w)


def _kl_div(xp, x, t, log_target):
    if log_target:
        return xp.exp(t) * (t - x)
    pos = t > 0
    return xp.where(pos, t * (xp.log(xp.where(pos, t, 1)) - x), 0).astype(x.dtype)


def _kl_div_grads(x, t, log_target):
    if log_target:
        et = t.exp()
        return -et, et * (t - x + 1)
    pos = t > 0
    return -t, (t.where(pos, 1).log() + 1 - x) * pos


def _poisson_nll(xp, x, y, log_input, full, eps):
    l = xp.exp(x) - y * x if log_input else x - y * xp.log(x + eps)
    if full:
        big = y > 1
        ys = xp.where(big, y, 1)
        l = l + xp.where(big, ys * xp.log(ys) - ys + 0.5 * xp.log(2 * np.pi * ys), 0)
    return l.astype(x.dtype)


def _poisson_nll_grads(x, y, log_input, full, eps):
    if log_input:
        dx, dy = x.exp() - y, -x
    else:
        dx, dy = 1 - y / (x + eps), -(x + eps).log()
    if full:
        big = y > 1
        ys = y.where(big, 1)
        dy = dy + (ys.log() + 0.5 / ys) * big
    return dx, dy


def _soft_margin(xp, x, y):
    return _softplus_neg(xp, y * x)


def _soft_margin_grads(x, y):
    sig = (-y * x).sigmoid()
    return -y * sig, -x * sig


_mse_loss = _elementwise_loss("mse_loss", "MseLossBackward0", _mse, _mse_grads)
_l1_loss = _elementwise_loss("l1_loss", "L1LossBackward0", _l1, _l1_grads)
_smooth_l1_loss = _elementwise_loss("smooth_l1_loss", "SmoothL1LossBackward0", _smooth_l1, _smooth_l1_grads)
_huber_loss = _elementwise_loss("huber_loss", "HuberLossBackward0", _huber, _huber_grads)
_bce_loss = _elementwise_loss("binary_cross_entropy", "BinaryCrossEntropyBackward0", _bce, _bce_grads)
_bce_logits_loss = _elementwise_loss("binary_cross_entropy_with_logits",
                                     "BinaryCrossEntropyWithLogitsBackward0", _bce_logits, _bce_logits_grads)
_kl_div_loss = _elementwise_loss("kl_div", "KlDivBackward0", _kl_div, _kl_div_grads)
_poisson_nll_loss = _elementwise_loss("poisson_nll_loss", "PoissonNllLossBackward0", _poisson_nll,
                                      _poisson_nll_grads)
_soft_margin_loss = _elementwise_loss("soft_margin_loss", "SoftMarginLossBackward0", _soft_margin,
                                      _soft_margin_grads)


def _check_sizes(input, target, name):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have "
                      "the same size.", stacklevel=3)


def _weighted(op, input, target, reduction, weight, mean_over_weight, *params):
    """``op``'s loss with each element scaled by ``weight`` (input-shaped), as torch's optional ``weight``
    of mse/l1/huber: ``mean`` divides by ``weight.sum()`` (mse, l1) or by the element count (huber)."""
    if weight is None:
        return op(input, target, reduction, *params)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = op(input, target, "none", *params) * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum() if mean_over_weight else loss.mean()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_sizes(input, target, "mse_loss")
    return _weighted(_mse_loss, input, target, reduction, weight, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_sizes(input, target, "l1_loss")
    return _weighted(_l1_loss, input, target, reduction, weight, True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error below ``beta``, absolute error above (scaled to join smoothly)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_sizes(input, target, "smooth_l1_loss")
    return _smooth_l1_loss(input, target, reduction, beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Squared error below ``delta``, ``delta``-scaled absolute error above."""
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_sizes(input, target, "huber_loss")
    return _weighted(_huber_loss, input, target, reduction, weight, False, delta)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy between probabilities ``input`` and ``target`` (log clamped at -100)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    x = input._data
    if x.size and ((x < 0).any() or (x > 1).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    return _bce_loss(input, target, reduction, None if weight is None else weight._data)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross entropy, computed stably; ``pos_weight`` weighs positive targets."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return _bce_logits_loss(input, target, reduction, None if weight is None else weight._data,
                            None if pos_weight is None else pos_weight._data)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence with ``input`` as log-probabilities (``target`` too if ``log_target``)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    return _kl_div_loss(input, target, reduction, log_target)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of a Poisson target with rate ``exp(input)`` (or ``input``)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _poisson_nll_loss(input, target, reduction, log_input, full, eps)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-y * x))``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _soft_margin_loss(input, target, reduction)


def _apply_reduction(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per-class binary cross entropy with logits, averaged over classes."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = _bce_logits_loss(input, target, "none", None if weight is None else weight._data, None)
    loss = loss.mean(-1) if loss.ndim else loss
    return _apply_reduction(loss, reduction)


# ---- multi-class margin losses --------------------------------------------------------------------
def _scalar_type_check(t, expected):
    """torch's kernel dtype check: "expected scalar type Long but found Int"."""
    found = _dt(t._data)
    if found != expected:
        raise RuntimeError(f"expected scalar type {expected} but found {found}")


def _reduce_rows(xp, rows, reduction, out_shape):
    """Per-sample losses reduced as torch's margin kernels do ('mean' over samples)."""
    if reduction == "none":
        return rows.reshape(out_shape)
    return xp.asarray(rows.mean() if reduction == "mean" else rows.sum(), rows.dtype)


@defop("multi_margin_loss", nin=2, node_name="MultiMarginLossBackward0")
def _multi_margin_loss(ctx, x, t, p, margin, weight, reduction):
    xp = ctx.xp
    x2 = x.reshape(-1, x.shape[-1] if x.ndim else 1)
    n, c = x2.shape
    tc = t.reshape(-1)
    if tc.size and (tc.min() < 0 or tc.max() >= c):
        raise RuntimeError("target out of range")
    ar = xp.arange(n)
    z = margin - x2[ar, tc][:, None] + x2
    z[ar, tc] = 0
    z = xp.maximum(z, 0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[tc][:, None]
    ctx.state = (tc, p, margin, weight, reduction, x.shape)
    ctx.save_for_backward(x)
    return _reduce_rows(xp, z.sum(1) / x.dtype.type(c), reduction, t.shape)


@_multi_margin_loss.backward
def _(ctx, g):
    """Per row: ``+coef_i`` at each class over the margin, ``-sum(coef)`` at the target, in Tensor ops
    (``coef`` is ``w_y / C`` times 1, or ``2 * hinge`` when p = 2, so that one is differentiated again)."""
    (x,) = ctx.saved_tensors
    tc, p, margin, weight, reduction, shape = ctx.state
    dev = ctx.device
    x2 = x.reshape(-1, shape[-1] if len(shape) else 1)
    n, c = x2.shape
    idx = make(tc, dev).unsqueeze(1)
    z = margin - x2.gather(1, idx) + x2
    live = (z._data > 0)
    live[ctx.xp.arange(n), tc] = False
    coef = make(live.astype(x._data.dtype), dev)
    if p == 2:
        coef = coef * z * 2
    if weight is not None:
        coef = coef * make(weight[tc][:, None], dev)
    gi = g.reshape(-1, 1) if reduction == "none" else g / n if reduction == "mean" else g
    coef = coef * (gi / c)
    gx = coef.scatter_add(1, idx, -coef.sum(1, keepdim=True))
    return gx.reshape(shape), None


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``sum_{i != y} w_y * max(0, margin - x[y] + x[i])^p / C`` per sample."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nd = input.ndim
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0) or nd == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    n = input.shape[0] if nd == 2 else 1
    if target.ndim > 1 or target.numel() != n:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{n}], but got {list(target.shape)}. Input "
                           f"has shape {list(input.shape)}.")
    c = input.shape[-1] if nd else 1
    if weight is not None:
        if weight.numel() != c:
            raise RuntimeError(f"inconsistent weight size, expected {c} but got {list(weight.shape)}")
        _scalar_type_check(weight, _dt(input._data))
    _scalar_type_check(target, "Long")
    return _multi_margin_loss(input, target, p, margin, None if weight is None else weight._data, reduction)


@defop("multilabel_margin_loss", nin=2, node_name="MultilabelMarginLossBackward0")
def _multilabel_margin_loss(ctx, x, t, reduction):
    xp = ctx.xp
    x2 = x.reshape(-1, x.shape[-1] if x.ndim else 1)
    n, c = x2.shape
    t2 = t.reshape(n, c)
    if t2.size and (t2.min() < -1 or t2.max() >= c):
        raise RuntimeError("argument #2 'target' is out of range")
    valid = xp.cumprod(t2 != -1, axis=1).astype(bool)        # the targets before the first -1
    counts = xp.zeros((n, c + 1), x.dtype)
    xp.add.at(counts, (xp.arange(n)[:, None], xp.where(valid, t2, c)), 1)
    counts = counts[:, :c]                                    # how often each class is listed as a target
    others = (counts == 0).astype(x.dtype)
    # hinge[n, j, i] = 1 - (x[j] - x[i]) for target class j against non-target class i
    hinge = 1 - x2[:, :, None] + x2[:, None, :]
    pairs = (hinge > 0) * counts[:, :, None] * others[:, None, :]
    ctx.state = (pairs / x.dtype.type(c), reduction, x.shape)
    rows = (xp.maximum(hinge, 0) * pairs).sum((1, 2)) / x.dtype.type(c)
    return _reduce_rows(xp, rows, reduction, x.shape[:-1] if x.ndim else ())


@_multilabel_margin_loss.backward
def _(ctx, g):
    """Piecewise linear: ``+1/C`` per live (target, non-target) pair at the non-target, ``-1/C`` at the target."""
    pairs, reduction, shape = ctx.state
    dev = ctx.device
    n = pairs.shape[0]
    coef = make(pairs.sum(1) - pairs.sum(2), dev).to(g.dtype)
    gi = g.reshape(-1, 1) if reduction == "none" else g / n if reduction == "mean" else g
    return (coef * gi).reshape(shape), None


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: ``sum_{j in targets, i not in targets} max(0, 1 - (x[j] - x[i])) / C`` per sample;
    each row of ``target`` lists class indices, ended by the first -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    nd = input.ndim
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0) or nd == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    if tuple(target.shape) != tuple(input.shape) and not (nd == 0 and target.numel() == 1):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    _scalar_type_check(target, "Long")
    return _multilabel_margin_loss(input, target, reduction)
