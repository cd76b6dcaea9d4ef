"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
from __future__ import annotations

from .optimizer import Optimizer, _check_lr, _grad_array, _real, _step_tensor, _to_scalar, _zeros_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta as torch: ``Δ = sqrt(u + eps) / sqrt(v + eps) · g``, ``p -= lr Δ``."""

    def __init__(self, params, lr=1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach=None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            rho, eps = group["rho"], group["eps"]
            for p, state in self._with_grad(group):
                xp = p._device.xp
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                state["step"]._data += 1
                g = _real(_grad_array(p, group["maximize"], group["weight_decay"]))
                square_avg = _real(state["square_avg"]._data)
                acc_delta = _real(state["acc_delta"]._data)
                square_avg *= rho
                square_avg += (1 - rho) * g * g
                std = xp.sqrt(square_avg + eps)
                delta = xp.sqrt(acc_delta + eps)
                delta /= std
                delta *= g
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                param = _real(p._data)
                param -= lr * delta
                p._version[0] += 1
        return loss
