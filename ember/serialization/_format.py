"""PyTorch's checkpoint formats: names of storages and rebuild functions, record layout."""
from __future__ import annotations

from .. import _dtype as D

# torch.<Name>Storage <-> dtype, as they appear as pickle GLOBALs in torch's files
STORAGE_NAMES = {
    D.float32: "FloatStorage", D.float64: "DoubleStorage", D.float16: "HalfStorage",
    D.bfloat16: "BFloat16Storage", D.int64: "LongStorage", D.int32: "IntStorage",
    D.int16: "ShortStorage", D.int8: "CharStorage", D.uint8: "ByteStorage", D.bool_: "BoolStorage",
    D.complex64: "ComplexFloatStorage", D.complex128: "ComplexDoubleStorage",
}
DTYPE_OF_STORAGE = {v: k for k, v in STORAGE_NAMES.items()}
DTYPE_NAMES = {d.name: d for d in D.ALL}
ALIGNMENT = 64
MAGIC_NUMBER = 0x1950a86a20f9469cfc6c  # legacy (pre-1.6) files start with this pickled int
LEGACY_PROTOCOL = 1001


class StorageType:
    """What ``torch.FloatStorage`` & co. unpickle to: a marker carrying the element dtype."""

    def __init__(self, name):
        self.name = name
        self.dtype = DTYPE_OF_STORAGE[name]

    def __repr__(self):
        return f"torch.{self.name}"


STORAGE_TYPES = {name: StorageType(name) for name in DTYPE_OF_STORAGE}
