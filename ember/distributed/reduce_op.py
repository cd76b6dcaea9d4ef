"""``ReduceOp`` and how a reduction combines the ranks' arrays (shared by the gloo and mpi backends)."""
from __future__ import annotations

import enum

import numpy as np


class RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """How a reduction combines the ranks' tensors (``ReduceOp.SUM``, ``.PRODUCT``, ``.MIN``, ``.MAX``,
    ``.AVG``, and bitwise ``.BAND``/``.BOR``/``.BXOR`` for integer and bool tensors)."""

    RedOpType = RedOpType
    SUM, AVG, PRODUCT = RedOpType.SUM, RedOpType.AVG, RedOpType.PRODUCT
    MIN, MAX = RedOpType.MIN, RedOpType.MAX
    BAND, BOR, BXOR = RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR


# the elementwise combination of two contributions (AVG sums, then divides by the group size)
COMBINE = {RedOpType.SUM: np.add, RedOpType.AVG: np.add, RedOpType.PRODUCT: np.multiply,
           RedOpType.MIN: np.minimum, RedOpType.MAX: np.maximum, RedOpType.BAND: np.bitwise_and,
           RedOpType.BOR: np.bitwise_or, RedOpType.BXOR: np.bitwise_xor}
_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def check_op(op, dtype: np.dtype) -> RedOpType:
    """``op`` as a RedOpType, or torch's error if it cannot reduce ``dtype``."""
    op = RedOpType(op)
    integral = dtype.kind in "iub"
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and not integral:
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if op == RedOpType.AVG and integral:
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_SCALAR_NAMES[dtype.name]}")
    return op


def combine(arrays, op: RedOpType, size: int):
    """Reduce ``arrays`` (in rank order, so every run combines them identically)."""
    out = arrays[0].copy()
    for a in arrays[1:]:
        COMBINE[op](out, a, out=out)
    if op == RedOpType.AVG:
        out /= size
    return out
