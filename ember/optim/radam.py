"""RAdam: Adam with the variance rectification term (plain momentum SGD while ρ_t ≤ 5)."""
from __future__ import annotations

from .optimizer import (Optimizer, _check_betas_eps_wd, _check_lr, _grad_array, _lerp_, _real, _step_tensor,
                        _to_scalar, _zeros_like)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam as torch (rectified adaptive learning rate)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_betas_eps_wd(betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, state in self._with_grad(group):
                xp = p._device.xp
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                state["step"]._data += 1
                step = float(state["step"]._data)
                param = p._data
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                g = _real(_grad_array(p, group["maximize"], 0 if decoupled else weight_decay))
                param = _real(param)
                exp_avg = _real(state["exp_avg"]._data)
                exp_avg_sq = _real(state["exp_avg_sq"]._data)
                _lerp_(xp, exp_avg, g, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * g * g
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                corrected = exp_avg / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = bias_correction2 ** 0.5 / (xp.sqrt(exp_avg_sq) + eps)
                    param -= corrected * lr * adaptive * rect
                else:
                    param -= corrected * lr
                p._version[0] += 1
        return loss
