"""Muon: momentum SGD for 2-D weights whose update is orthogonalised by a Newton–Schulz iteration."""
from __future__ import annotations

import math

from .._dtype import bfloat16
from .optimizer import Optimizer, _lerp_, _to_scalar, _zeros_like

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(xp, a):
    """Round a float32 array to bfloat16 precision (kept as float32): torch runs the iteration in bfloat16."""
    return a.astype(bfloat16.np).astype(xp.float32)


def _zeropower_via_newtonschulz(xp, g, ns_coefficients, ns_steps: int, eps: float):
    """``ns_steps`` quintic Newton–Schulz steps ``X <- aX + (bA + cA²)X`` with ``A = X Xᵀ`` from ``G / ||G||``:
    about ``U Vᵀ`` of ``G = U S Vᵀ``, rounded to bfloat16 after every product as torch's bfloat16 kernels do."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if g.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    tall = g.shape[0] > g.shape[1]
    x = _bf16(xp, g.astype(xp.float32))
    if tall:
        x = x.T
    norm = float(_bf16(xp, xp.asarray(xp.linalg.norm(x), xp.float32)))
    x = _bf16(xp, x / max(norm, eps))
    for _ in range(ns_steps):
        gram = _bf16(xp, x @ x.T)
        x = _bf16(xp, a * x + _bf16(xp, b * gram + c * (gram @ gram)) @ x)
    return x.T if tall else x


def _adjust_lr(lr: float, adjust_lr_fn, shape) -> float:
    """Scale ``lr`` so updates of (A, B) matrices have comparable RMS: ``sqrt(max(1, A/B))`` ("original") or
    ``0.2 sqrt(max(A, B))`` ("match_rms_adamw", AdamW's RMS)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    """Muon as torch: ``B = lerp(B, g, 1 - momentum)``, the update ``lerp(g, B, momentum)`` (Nesterov) or ``B``
    orthogonalised, ``p *= 1 - lr·weight_decay``, ``p -= adjusted_lr · update``. 2-D parameters only."""

    def __init__(self, params, lr=1e-3, weight_decay: float = 0.1, momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS,
                 adjust_lr_fn: str | None = None) -> None:
        if not 0.0 <= _to_scalar(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the loss)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum = _to_scalar(group["lr"]), group["momentum"]
            for p, state in self._with_grad(group):
                if p.is_complex():
                    raise RuntimeError("Muon does not support complex parameters")
                xp = p._device.xp
                g = p._grad._data
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = _zeros_like(p)
                buf = state["momentum_buffer"]._data
                _lerp_(xp, buf, g, 1 - momentum)
                if group["nesterov"]:
                    update = g.copy()
                    _lerp_(xp, update, buf, momentum)
                else:
                    update = buf
                update = _zeropower_via_newtonschulz(xp, update, group["ns_coefficients"], group["ns_steps"],
                                                     group["eps"])
                param = p._data
                param *= 1 - lr * group["weight_decay"]
                param -= _adjust_lr(lr, group["adjust_lr_fn"], param.shape) * update.astype(param.dtype)
                p._version[0] += 1
        return loss
