"""DLPack exchange: ``Tensor.__dlpack__`` and ``ember.from_dlpack``, zero-copy both ways.

A tensor exports its backend array's DLPack capsule (NumPy on cpu, CuPy on cuda); importing
asks the producer's device and wraps NumPy's or CuPy's ``from_dlpack`` view of its memory.
Limits are the array libraries': NumPy cannot exchange bfloat16 (an ml_dtypes type).
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._dtype import from_numpy_dtype
from ._tensor import Tensor, make

_KDL_CPU, _KDL_CUDA, _KDL_CUDA_HOST = 1, 2, 3  # DLPack device type codes


def __dlpack__(self, *, stream=-1, max_version=None, dl_device=None, copy=None):
    """This tensor's memory as a DLPack capsule (the Python array API's ``__dlpack__``)."""
    if self._requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    kw = {}
    if self._device.type == "cuda" and stream != -1:
        kw["stream"] = stream
    if max_version is not None:
        kw["max_version"] = max_version
    if dl_device is not None:
        kw["dl_device"] = dl_device
    if copy is not None:
        kw["copy"] = copy
    return self._data.__dlpack__(**kw)


def __dlpack_device__(self):
    """``(device_type, device_id)`` in DLPack's codes, as the backend array reports them."""
    return self._data.__dlpack_device__()


Tensor.__dlpack__ = __dlpack__
Tensor.__dlpack_device__ = __dlpack_device__


class _Capsule:
    """Presents a bare (legacy) DLPack capsule through the ``__dlpack__`` protocol (as cpu memory:
    a capsule does not say its device without being consumed)."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kw):
        return self.capsule

    def __dlpack_device__(self):
        return (_KDL_CPU, 0)


def from_dlpack(ext_tensor, *, device=None, copy=None) -> Tensor:
    """A tensor sharing memory with any object exporting ``__dlpack__`` (NumPy, torch, CuPy...).

    ``device`` moves and ``copy=True`` copies the imported tensor, as ``torch.from_dlpack``.
    """
    if not hasattr(ext_tensor, "__dlpack__"):
        if type(ext_tensor).__name__ != "PyCapsule":
            raise RuntimeError("from_dlpack(): expected an object with __dlpack__ or a DLPack "
                               f"capsule, got {type(ext_tensor).__name__}")
        ext_tensor = _Capsule(ext_tensor)
    kind, index = ext_tensor.__dlpack_device__()
    kind = int(kind)
    if kind == _KDL_CUDA:
        dev = _backend.Device("cuda", int(index))
        arr = dev.xp.from_dlpack(ext_tensor)
    elif kind in (_KDL_CPU, _KDL_CUDA_HOST):
        dev = _backend.CPU
        arr = np.from_dlpack(ext_tensor)
    else:
        raise RuntimeError(f"from_dlpack(): unsupported DLPack device type {kind}")
    from_numpy_dtype(arr.dtype)
    t = make(arr, dev)
    if device is not None or copy:
        t = t.to(dev if device is None else device, copy=bool(copy))
    return t
