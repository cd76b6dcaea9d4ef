"""Rprop: per-coordinate step sizes grown or shrunk by the sign agreement of successive gradients."""
from __future__ import annotations

from .._tensor import make
from .optimizer import Optimizer, _check_lr, _real, _step_tensor, _to_scalar, _zeros_like

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop as torch: the step size is multiplied by ``etaplus`` where the gradient kept its sign, by ``etaminus``
    (and that gradient zeroed) where it flipped, clamped to ``step_sizes``; ``p -= sign(g) * step_size``."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable: bool = False,
                 foreach=None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    # options older pickles may lack, filled in by Optimizer.__setstate__
    _group_setstate_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, state in self._with_grad(group):
                xp = p._device.xp
                if len(state) == 0:
                    lr = _to_scalar(group["lr"])
                    state["step"] = _step_tensor()
                    state["prev"] = _zeros_like(p)
                    state["step_size"] = make(xp.full_like(p._grad._data, complex(lr, lr) if p.is_complex()
                                                           else lr), p._device)
                state["step"]._data += 1
                g = _real(-p._grad._data if group["maximize"] else p._grad._data)
                prev = _real(state["prev"]._data)
                step_size = _real(state["step_size"]._data)
                sign = xp.sign(g * prev)
                factor = xp.where(sign > 0, etaplus, xp.where(sign < 0, etaminus, 1)).astype(step_size.dtype)
                step_size *= factor
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                g = xp.where(factor == factor.dtype.type(etaminus), 0, g).astype(g.dtype)
                param = _real(p._data)
                param -= xp.sign(g) * step_size
                prev[...] = g
                p._version[0] += 1
        return loss
