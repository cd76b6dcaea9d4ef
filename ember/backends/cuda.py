"""``torch.backends.cuda``: cuBLAS matmul flags (``matmul.allow_tf32`` follows the float32 matmul
precision, as in torch) and ``is_built()``: whether ember's CUDA backend, CuPy, is installed."""
from __future__ import annotations

import importlib.util

from .. import _runtime


def is_built() -> bool:
    """True when CuPy can be imported (found without importing it); no GPU is needed."""
    return importlib.util.find_spec("cupy") is not None


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: reduced-precision switches for float32/16 matrix products."""

    _names = ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction")

    def __init__(self):
        object.__setattr__(self, "_reduced", {"allow_fp16_reduced_precision_reduction": True,
                                              "allow_bf16_reduced_precision_reduction": True})

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _runtime.get_float32_matmul_precision() != "highest"
        if name in self._reduced:
            return self._reduced[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _runtime.set_float32_matmul_precision("high" if value else "highest")
        elif name in self._reduced:
            self._reduced[name] = bool(value)
        else:
            raise AttributeError(f"Unknown attribute {name}")


matmul = _MatmulFlags()
