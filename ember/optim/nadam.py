"""NAdam: Adam with Nesterov momentum and torch's momentum-decay schedule."""
from __future__ import annotations

from .optimizer import (Optimizer, _check_betas_eps_wd, _check_lr, _grad_array, _lerp_, _real, _step_tensor,
                        _to_scalar, _zeros_like)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam as torch: ``μ_t = β1 (1 - 0.5 · 0.96^(t ψ))`` with ``ψ = momentum_decay``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_betas_eps_wd(betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
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
            momentum_decay = group["momentum_decay"]
            for p, state in self._with_grad(group):
                xp = p._device.xp
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["mu_product"] = _step_tensor(1.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                state["step"]._data += 1
                step = float(state["step"]._data)
                bias_correction2 = 1 - beta2 ** step
                param = p._data
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                g = _real(_grad_array(p, group["maximize"], 0 if decoupled else weight_decay))
                param = _real(param)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
                mu_product = state["mu_product"]._data
                mu_product *= mu
                exp_avg = _real(state["exp_avg"]._data)
                exp_avg_sq = _real(state["exp_avg_sq"]._data)
                _lerp_(xp, exp_avg, g, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * g * g
                denom = xp.sqrt(exp_avg_sq / bias_correction2)
                denom += eps
                mu_prod = float(mu_product)
                mu_product_next = mu_prod * mu_next
                param += (-lr * (1.0 - mu) / (1.0 - mu_prod)) * (g / denom)
                param += (-lr * mu_next / (1.0 - mu_product_next)) * (exp_avg / denom)
                p._version[0] += 1
        return loss
