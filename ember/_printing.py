"""Tensor ``repr`` exactly as PyTorch prints it (interim: NumPy formatting)."""
from __future__ import annotations


def tensor_repr(t) -> str:
    import numpy as np
    body = np.array2string(t.numpy(force=True) if not t._requires_grad else t.detach().numpy(force=True),
                           separator=", ", prefix="tensor(")
    extras = []
    if t._device.type != "cpu":
        extras.append(f"device='{t._device}'")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
