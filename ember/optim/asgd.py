"""ASGD: SGD with an L2 decay of the parameters and a running (Polyak) average of them from step ``t0`` on."""
from __future__ import annotations

import numpy as np

from .._tensor import make
from .optimizer import Optimizer, _check_lr, _grad_array, _real, _step_tensor, _to_scalar, _zeros_like

__all__ = ["ASGD"]


def _scalar_state(p, value):
    """A float32 0-dim state tensor on ``p``'s device (torch's ``eta`` and ``mu``)."""
    return make(p._device.xp.asarray(np.float32(value)), p._device)


class ASGD(Optimizer):
    """Averaged SGD as torch: ``p = p (1 - λ η) - η g``; ``ax`` averages ``p`` once ``step > t0``;
    ``η = lr / (1 + λ lr step)^α``."""

    def __init__(self, params, lr=1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach=None, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    # options older pickles may lack, filled in by Optimizer.__setstate__
    _group_setstate_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            for p, state in self._with_grad(group):
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["eta"] = _scalar_state(p, lr)
                    state["mu"] = _scalar_state(p, 1.0)
                    state["ax"] = _zeros_like(p)
                state["step"]._data += 1
                g = _real(_grad_array(p, group["maximize"], group["weight_decay"]))
                param = _real(p._data)
                ax = _real(state["ax"]._data)
                eta = float(state["eta"]._data)
                param *= 1 - lambd * eta
                param -= eta * g
                mu = state["mu"]._data
                if float(mu) != 1:
                    ax += (param - ax) * mu
                else:
                    ax[...] = param
                step = float(state["step"]._data)
                state["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                state["mu"]._data[...] = 1 / max(1, step - t0)
                p._version[0] += 1
        return loss
