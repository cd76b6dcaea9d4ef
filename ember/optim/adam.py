"""Adam (and, with decoupled weight decay, AdamW) with torch's bias corrections and amsgrad."""
from __future__ import annotations

from .optimizer import (Optimizer, _check_betas_eps_wd, _check_lr, _grad_array, _lerp_, _real, _step_tensor,
                        _to_scalar, _zeros_like)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam: ``m = lerp(m, g, 1-β1)``, ``v = β2 v + (1-β2) g²``, ``p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None, decoupled_weight_decay: bool = False) -> None:
        _check_lr(lr)
        _check_betas_eps_wd(betas, eps, weight_decay)
        betas = tuple(map(_to_scalar, betas))
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    # options older pickles may lack, filled in by Optimizer.__setstate__
    _group_setstate_defaults = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                                "differentiable": False, "fused": None, "decoupled_weight_decay": False}

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = (_to_scalar(b) for b in group["betas"])
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            amsgrad = group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            for p, state in self._with_grad(group):
                xp = p._device.xp
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                step_t = state["step"]
                step_t._data += 1
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
                step = float(step_t._data)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                if amsgrad:
                    max_sq = _real(state["max_exp_avg_sq"]._data)
                    xp.maximum(max_sq, exp_avg_sq, out=max_sq)
                    denom = xp.sqrt(max_sq)
                else:
                    denom = xp.sqrt(exp_avg_sq)
                denom /= bias_correction2_sqrt
                denom += eps
                param -= step_size * (exp_avg / denom)
                p._version[0] += 1
        return loss
