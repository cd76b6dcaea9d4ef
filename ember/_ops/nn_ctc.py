"""ctc_loss: connectionist temporal classification in log space.

The forward runs the alpha recursion over time, vectorised over the batch and the extended label
sequence (blanks between and around the targets); the backward runs the beta recursion and gives
torch's gradient ``exp(log_probs) - exp(log(sum alpha*beta) + nll - log_probs)`` (the gradient through
a log_softmax, which is how ``log_probs`` is meant to be made).
"""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, make
from ._registry import defop
from .nn_loss import _check_reduction
from .nn_misc import _dt, first_order_only
from .pointwise import where

PUBLIC = {}
_CHECK = " (while checking arguments for ctc_loss_allocate_outputs)"


def _lse3(xp, a, b, c):
    """``log(exp(a) + exp(b) + exp(c))`` with torch's guard for an all ``-inf`` maximum."""
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(m == -xp.inf, 0, m)
    with np.errstate(divide="ignore"):
        return xp.log(xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m)) + m


def _shift(xp, a, k):
    """``a`` moved ``k`` places along the last axis (right if ``k > 0``), filled with ``-inf``."""
    out = xp.full_like(a, -xp.inf)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def _extended(xp, targets, tl, blank):
    """Extended labels (blank, l1, blank, l2, ..., blank) per batch, their validity and skip masks."""
    n, lmax = targets.shape
    s = 2 * lmax + 1
    lab = xp.full((n, s), blank, np.int64)
    lab[:, 1::2] = targets
    pos = xp.arange(s)
    valid = pos[None, :] <= 2 * tl[:, None]
    lab = xp.where(valid, lab, blank)
    skip = xp.zeros((n, s), bool)
    skip[:, 2:] = (lab[:, 2:] != lab[:, :-2]) & valid[:, 2:]
    return lab, valid, skip


@defop("_ctc_loss", node_name="CtcLossBackward0")
def _ctc_loss(ctx, lp, targets, il, tl, blank, zero_infinity):
    xp = ctx.xp
    t_max, n = lp.shape[0], lp.shape[1]
    lab, valid, skip = _extended(xp, targets, tl, blank)
    ninf = lp.dtype.type(-np.inf)
    lpe = lp[:, xp.arange(n)[:, None], lab]                       # (T, N, S)
    alpha = xp.full(lpe.shape, ninf)
    if t_max:
        alpha[0, :, 0] = lpe[0, :, 0]
        alpha[0, :, 1] = xp.where(tl > 0, lpe[0, :, 1], ninf)
    for t in range(1, t_max):
        a = alpha[t - 1]
        a2 = xp.where(skip, _shift(xp, a, 2), ninf)
        alpha[t] = xp.where(valid, _lse3(xp, a, _shift(xp, a, 1), a2) + lpe[t], ninf)
    b = xp.arange(n)
    last = alpha[xp.maximum(il - 1, 0), b]
    l1 = last[b, 2 * tl]
    l2 = xp.where(tl > 0, last[b, xp.maximum(2 * tl - 1, 0)], ninf)
    nll = -_lse3(xp, l1, l2, ninf)
    nll = xp.where(il > 0, nll, xp.where(tl > 0, xp.inf, 0)).astype(lp.dtype)
    ctx.save_for_backward(lp)
    ctx.state = (alpha, lpe, lab, valid, skip, il, tl, nll, zero_infinity)
    return nll


@_ctc_loss.backward
def _(ctx, g):
    (lp,) = ctx.saved_tensors
    return first_order_only("_ctc_loss_backward", (_ctc_loss_backward(g, lp._data, ctx.state),), g, lp)


@defop("_ctc_loss_backward", differentiable=False)
def _ctc_loss_backward(ctx, g, lp, state):
    """The beta recursion, then ``(exp(lp) - posterior occupancy of each class) * grad_out``."""
    xp = ctx.xp
    alpha, lpe, lab, valid, skip, il, tl, nll, zero_infinity = state
    t_max, n, s = lpe.shape
    ninf = lp.dtype.type(-np.inf)
    skip_next = xp.zeros_like(skip)
    skip_next[:, :-2] = skip[:, 2:]
    b = xp.arange(n)
    first = xp.full((n, s), ninf)
    first[b, 2 * tl] = 0
    first[b, xp.maximum(2 * tl - 1, 0)] = xp.where(tl > 0, 0, first[b, xp.maximum(2 * tl - 1, 0)])
    beta = xp.full(lpe.shape, ninf)
    nxt = xp.full((n, s), ninf)
    for t in range(t_max - 1, -1, -1):
        rec = _lse3(xp, nxt, _shift(xp, nxt, -1), xp.where(skip_next, _shift(xp, nxt, -2), ninf))
        start = (il - 1 == t)[:, None]
        cur = xp.where(start, first, xp.where((t < il - 1)[:, None], rec, ninf)) + lpe[t]
        beta[t] = nxt = xp.where(valid, cur, ninf)
    ab = (alpha + beta).transpose(1, 2, 0)                         # (N, S, T)
    c = lp.shape[2]
    rows = b[:, None]
    mx = xp.full((n, c, t_max), ninf)
    xp.maximum.at(mx, (rows, lab), ab)
    mx = xp.where(mx == -xp.inf, 0, mx)
    acc = xp.zeros((n, c, t_max), lp.dtype)
    xp.add.at(acc, (rows, lab), xp.exp(ab - mx[rows, lab]))
    with np.errstate(divide="ignore"):
        lcab = (xp.log(acc) + mx).transpose(2, 0, 1)               # (T, N, C)
    with np.errstate(invalid="ignore", over="ignore"):
        grad = (xp.exp(lp) - xp.exp(lcab + nll[None, :, None] - lp)) * g[None, :, None]
    keep = xp.arange(t_max)[:, None] < il[None, :]
    if zero_infinity:
        keep = keep & (nll != xp.inf)[None, :]
    return xp.where(keep[:, :, None], grad, 0).astype(lp.dtype, copy=False)


def _lengths(x, name, dev):
    if isinstance(x, Tensor):
        a = x._data
        if a.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
        return dev.xp.asarray(a.reshape(-1).astype(np.int64))
    return dev.xp.asarray(np.array([int(v) for v in x], np.int64).reshape(-1))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of ``log_probs`` (T, N, C) or (T, C) against ``targets``, padded (N, S) or concatenated."""
    _check_reduction(reduction)
    lp = log_probs
    if not lp.dtype.is_floating_point:
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{_dt(lp._data)}'")
    batched = lp.ndim == 3
    if not batched:
        lp = lp.unsqueeze(1)
        targets = targets.unsqueeze(0)
    dev = lp._device
    xp = dev.xp
    il = _lengths(input_lengths, "input_lengths", dev)
    tl = _lengths(target_lengths, "target_lengths", dev)
    t_max, n, c = lp.shape
    if blank < 0 or blank >= c:
        raise RuntimeError("blank must be in label range")
    if il.shape[0] != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.shape[0] != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    tg = targets._data.astype(np.int64, copy=False)
    for v in tl.tolist():
        if v < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {v}{_CHECK}")
    lmax = int(tl.max()) if n else 0
    if tg.ndim == 1:
        total = int(tl.sum())
        if tg.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size {tg.shape[0]} "
                               f"for argument #2 'targets'{_CHECK}")
        padded = xp.full((n, lmax), blank, np.int64)
        padded[xp.arange(lmax)[None, :] < tl[:, None]] = tg
        tg = padded
    else:
        if tg.shape[0] != n:
            raise RuntimeError(f"Expected tensor to have size {n} at dimension 0, but got size {tg.shape[0]} "
                               f"for argument #2 'targets'{_CHECK}")
        if tg.shape[1] < lmax:
            raise RuntimeError(f"Expected tensor to have size at least {lmax} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets'{_CHECK}")
        tg = tg[:, :lmax]
    for v in il.tolist():
        if v < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {v}{_CHECK}")
        if v > t_max:
            raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got value {v}{_CHECK}")
    loss = _ctc_loss(lp, tg, il, tl, blank, zero_infinity)
    if zero_infinity:
        loss = where(loss == float("inf"), loss.new_zeros(()), loss)
    if reduction == "mean":
        return (loss / make(xp.maximum(tl, 1), dev)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)
