"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""
from __future__ import annotations

from .._tensor import make
from .optimizer import Optimizer, _check_lr, _grad_array, _real, _step_tensor, _to_scalar

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad as torch: ``s += g²``, ``p -= lr / (1 + (t-1) lr_decay) · g / (sqrt(s) + eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = _step_tensor()
        v = group["initial_accumulator_value"]
        state["sum"] = make(p._device.xp.full_like(p._data, complex(v, v) if p.is_complex() else v), p._device)

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            for p, state in self._with_grad(group):
                xp = p._device.xp
                if len(state) == 0:
                    self._init_state(p, group)
                state["step"]._data += 1
                step = float(state["step"]._data)
                g = _real(_grad_array(p, group["maximize"], group["weight_decay"]))
                clr = lr / (1 + (step - 1) * group["lr_decay"])
                state_sum = _real(state["sum"]._data)
                state_sum += g * g
                std = xp.sqrt(state_sum)
                std += group["eps"]
                param = _real(p._data)
                param -= clr * (g / std)
                p._version[0] += 1
        return loss
