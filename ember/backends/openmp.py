"""``torch.backends.openmp``: ember runs no OpenMP code of its own (NumPy's BLAS threads itself)."""
from __future__ import annotations


def is_available() -> bool:
    return False
