"""``ember.linalg``: torch.linalg's functions on the backend's linalg.

Gradients: inv, det, slogdet, solve, cholesky, eigh/eigvalsh, vector_norm, Frobenius norms,
cross, matmul, matrix_power, matrix_exp, multi_dot.  Forward only (no gradient): qr, svd,
svdvals, pinv, matrix_rank, and matrix norms other than 'fro'.
"""
from ._ops.linalg import (cholesky, det, eigh, eigvalsh, inv, linalg_cross as cross,  # noqa: F401
                          matmul, matrix_exp, matrix_norm, matrix_power, matrix_rank, multi_dot, norm,
                          pinv, qr, slogdet, solve, svd, svdvals, vector_norm)
