"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from .._tensor import make
from .optimizer import Optimizer, _check_lr, _grad_array, _to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD as torch: ``buf = momentum * buf + (1 - dampening) * g`` (first buf = g), ``p -= lr * buf``."""

    def __init__(self, params, lr=1e-3, momentum: float = 0, dampening: float = 0, weight_decay=0,
                 nesterov: bool = False, *, maximize: bool = False, foreach=None, differentiable: bool = False,
                 fused=None) -> None:
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    # options older pickles may lack, filled in by Optimizer.__setstate__
    _group_setstate_defaults = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False,
                                "fused": False}

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            weight_decay = _to_scalar(group["weight_decay"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                xp = p._device.xp
                g = _grad_array(p, maximize, weight_decay)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = make(g.copy(), p._device)
                        state["momentum_buffer"] = buf
                    else:
                        b = buf._data
                        b *= momentum
                        if dampening == 0:
                            b += g
                        else:
                            b += (1 - dampening) * g
                        buf._version[0] += 1
                    g = g + momentum * buf._data if nesterov else buf._data
                p._data -= lr * g
                p._version[0] += 1
        return loss
