"""Adamax: Adam with the infinity norm (``u = max(β2 u, |g| + eps)``)."""
from __future__ import annotations

from .optimizer import (Optimizer, _check_betas_eps_wd, _check_lr, _grad_array, _lerp_, _real, _step_tensor,
                        _to_scalar, _zeros_like)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax as torch: ``p -= lr / (1 - β1^t) * m / u``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach=None, *, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_lr(lr)
        _check_betas_eps_wd(betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            for p, state in self._with_grad(group):
                xp = p._device.xp
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                state["step"]._data += 1
                g = _real(_grad_array(p, group["maximize"], group["weight_decay"]))
                exp_avg = _real(state["exp_avg"]._data)
                exp_inf = _real(state["exp_inf"]._data)
                _lerp_(xp, exp_avg, g, 1 - beta1)
                exp_inf *= beta2
                xp.maximum(exp_inf, xp.abs(g) + eps, out=exp_inf)
                clr = lr / (1 - beta1 ** float(state["step"]._data))
                param = _real(p._data)
                param -= clr * (exp_avg / exp_inf)
                p._version[0] += 1
        return loss
