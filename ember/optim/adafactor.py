"""Adafactor: Adam-like steps whose second moment of a matrix is kept as a row and a column factor."""
from __future__ import annotations

import math

from .._dtype import finfo_np
from .._tensor import make
from .optimizer import Optimizer, _lerp_, _step_tensor, _to_scalar

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor as torch: ``β2_t = 1 - t^beta2_decay``; for a matrix the variance estimate is
    ``row_var @ col_var / mean(row_var)`` (row and column means of ``g²``), for a vector a full running
    mean; ``p -= max(eps2, rms(p)) · min(lr, 1/sqrt(t)) · u / max(1, rms(u) / d)`` with
    ``u = g / sqrt(max(v, eps1²))`` and decoupled ``weight_decay``."""

    _group_setstate_defaults = {"foreach": None}

    def __init__(self, params, lr=1e-2, beta2_decay: float = -0.8, eps=(None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach=None, maximize: bool = False) -> None:
        if not 0.0 <= _to_scalar(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            eps1, eps2 = group["eps"]
            for p, state in self._with_grad(group):
                if p.is_complex():
                    raise RuntimeError("Adafactor does not support complex parameters")
                xp = p._device.xp
                g = -p._grad._data if group["maximize"] else p._grad._data
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    if g.ndim > 1:
                        state["row_var"] = self._state_like(p, g.shape[:-1] + (1,))
                        state["col_var"] = self._state_like(p, g.shape[:-2] + (1, g.shape[-1]))
                    else:
                        state["variance"] = self._state_like(p, g.shape)
                if eps1 is None:          # torch takes the first parameter's dtype for the whole group
                    eps1 = float(finfo_np(p.dtype).eps)
                state["step"]._data += 1
                t = float(state["step"]._data)
                w = t ** group["beta2_decay"]
                param = p._data
                alpha = max(eps2, _norm(xp, param) / math.sqrt(param.size)) * min(lr, 1 / math.sqrt(t))
                if group["weight_decay"] != 0:
                    param *= 1 - lr * group["weight_decay"]
                if g.ndim > 1:
                    row_var, col_var = state["row_var"]._data, state["col_var"]._data
                    _lerp_(xp, row_var, (g * g).sum(-1, keepdims=True) / g.shape[-1], w)
                    _lerp_(xp, col_var, (g * g).sum(-2, keepdims=True) / g.shape[-2], w)
                    var = row_var @ col_var
                    var /= xp.maximum(row_var.mean(-2, keepdims=True), eps1)
                else:
                    var = state["variance"]._data
                    _lerp_(xp, var, g * g, w)
                update = g / xp.sqrt(xp.maximum(var, eps1 * eps1))
                denom = max(1.0, _norm(xp, update) / (math.sqrt(update.size) * group["d"]))
                param -= (alpha / denom) * update
                p._version[0] += 1
        return loss

    @staticmethod
    def _state_like(p, shape):
        return make(p._device.xp.zeros(shape, p._data.dtype), p._device)


def _norm(xp, a) -> float:
    """The 2-norm of ``a`` as a Python float (half precisions accumulated in float32)."""
    return float(xp.linalg.norm(a.ravel().astype(xp.float32) if a.dtype.itemsize < 4 else a.ravel()))
