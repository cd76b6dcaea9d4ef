"""``torch.backends``: the settings torch keeps per compute library (cuDNN, cuBLAS, MPS, oneDNN, OpenMP,
opt_einsum). ember computes with NumPy (and CuPy on GPUs), so the flags are recorded with torch's defaults
and the ``is_available()`` checks report what ember can actually use."""
from __future__ import annotations

from . import cuda, cudnn, mkldnn, mps, openmp, opt_einsum

__all__ = ["cuda", "cudnn", "mkldnn", "mps", "openmp", "opt_einsum"]
