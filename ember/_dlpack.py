"""DLPack exchange: ``Tensor.__dlpack__`` and ``ember.from_dlpack``, zero-copy both ways.

A tensor exports its backend array's DLPack capsule (NumPy on cpu, CuPy on cuda); importing
asks the producer's device and wraps NumPy's or CuPy's ``from_dlpack`` view of its memory.
NumPy knows no bfloat16 (an ml_dtypes type): cpu bfloat16 tensors are exchanged through a
DLPack struct built and read here with ``ctypes``.
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
    if self._data.dtype.kind == "V" and self._device.type == "cpu":
        return _bf16_capsule(self._data)
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
    if isinstance(ext_tensor, Tensor):
        t = make(ext_tensor._data, ext_tensor._device)
        t._version = ext_tensor._version
        return t.to(device, copy=bool(copy)) if device is not None or copy else t
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
        try:
            arr = np.from_dlpack(ext_tensor)
        except (BufferError, RuntimeError, TypeError):
            arr = _bf16_from_capsule(ext_tensor)
    else:
        raise RuntimeError(f"from_dlpack(): unsupported DLPack device type {kind}")
    from_numpy_dtype(arr.dtype)
    t = make(arr, dev)
    if device is not None or copy:
        t = t.to(dev if device is None else device, copy=bool(copy))
    return t


# ---- bfloat16 on cpu: the (unversioned) DLPack struct, via ctypes -------------------------------------
_KDL_BFLOAT = 4


def _structs():
    """The DLPack C structs and the C-API calls used on capsules (built on first bfloat16 exchange)."""
    if _C:
        return _C[0]
    import ctypes as c

    class DLDevice(c.Structure):
        _fields_ = [("device_type", c.c_int32), ("device_id", c.c_int32)]

    class DLDataType(c.Structure):
        _fields_ = [("code", c.c_uint8), ("bits", c.c_uint8), ("lanes", c.c_uint16)]

    class DLTensor(c.Structure):
        _fields_ = [("data", c.c_void_p), ("device", DLDevice), ("ndim", c.c_int32),
                    ("dtype", DLDataType), ("shape", c.POINTER(c.c_int64)),
                    ("strides", c.POINTER(c.c_int64)), ("byte_offset", c.c_uint64)]

    class DLManagedTensor(c.Structure):
        pass

    deleter_t = c.CFUNCTYPE(None, c.c_void_p)
    DLManagedTensor._fields_ = [("dl_tensor", DLTensor), ("manager_ctx", c.c_void_p), ("deleter", deleter_t)]
    api = c.pythonapi
    api.PyCapsule_New.restype, api.PyCapsule_New.argtypes = c.py_object, [c.c_void_p, c.c_char_p, c.c_void_p]
    api.PyCapsule_GetPointer.restype = c.c_void_p
    api.PyCapsule_GetPointer.argtypes = [c.py_object, c.c_char_p]
    api.PyCapsule_SetName.restype, api.PyCapsule_SetName.argtypes = c.c_int, [c.py_object, c.c_char_p]

    def release(ptr):           # the consumer is done: drop what kept the memory alive
        _LIVE.pop(ptr, None)

    ns = dict(c=c, DLManagedTensor=DLManagedTensor, api=api, deleter=deleter_t(release))
    _C.append(ns)
    return ns


_C = []
# address of an exported DLManagedTensor -> what keeps it and its array alive until the consumer's
# deleter call.  The capsule has no destructor (a Python one cannot run safely while the consumer
# is raising), so a capsule that is never consumed keeps its array alive.
_LIVE = {}


def _bf16_capsule(arr):
    """A ``dltensor`` capsule over a cpu bfloat16 array (zero-copy)."""
    ns = _structs()
    c = ns["c"]
    n = arr.ndim
    shape = (c.c_int64 * max(n, 1))(*arr.shape)
    strides = (c.c_int64 * max(n, 1))(*(st // arr.itemsize for st in arr.strides))
    m = ns["DLManagedTensor"]()
    m.dl_tensor.data = arr.__array_interface__["data"][0]
    m.dl_tensor.device.device_type, m.dl_tensor.device.device_id = _KDL_CPU, 0
    m.dl_tensor.ndim = n
    m.dl_tensor.dtype.code, m.dl_tensor.dtype.bits, m.dl_tensor.dtype.lanes = _KDL_BFLOAT, 16, 1
    m.dl_tensor.shape = c.cast(shape, c.POINTER(c.c_int64))
    m.dl_tensor.strides = c.cast(strides, c.POINTER(c.c_int64))
    m.dl_tensor.byte_offset = 0
    m.deleter = ns["deleter"]
    ptr = c.addressof(m)
    _LIVE[ptr] = (m, shape, strides, arr)
    return ns["api"].PyCapsule_New(ptr, b"dltensor", None)


def _bf16_from_capsule(ext_tensor):
    """A NumPy bfloat16 view of a producer's cpu DLPack tensor (what ``np.from_dlpack`` refuses)."""
    from ._dtype import bfloat16
    ns = _structs()
    c, api = ns["c"], ns["api"]
    cap = ext_tensor.__dlpack__()           # unversioned: the struct read below
    ptr = api.PyCapsule_GetPointer(cap, b"dltensor")
    m = ns["DLManagedTensor"].from_address(ptr)
    t = m.dl_tensor
    if (t.dtype.code, t.dtype.bits, t.dtype.lanes) != (_KDL_BFLOAT, 16, 1):
        raise BufferError(f"from_dlpack(): unsupported DLPack dtype (code {t.dtype.code}, "
                          f"{t.dtype.bits} bits, {t.dtype.lanes} lanes)")
    n = t.ndim
    shape = [t.shape[i] for i in range(n)]
    strides = [t.strides[i] for i in range(n)] if t.strides else list(_contiguous(shape))
    api.PyCapsule_SetName(cap, b"used_dltensor")
    deleter = m.deleter
    if not all(shape):                      # no elements (the data pointer may be NULL)
        deleter(ptr)
        return np.empty(shape, dtype=bfloat16.np)
    span = 1 + sum((s - 1) * abs(st) for s, st in zip(shape, strides))
    lo = sum((s - 1) * st for s, st in zip(shape, strides) if st < 0)
    buf = (c.c_uint16 * span).from_address(t.data + t.byte_offset + 2 * lo)
    buf._owner = _Owner(lambda: deleter(ptr))          # the producer's memory lives as long as buf
    flat = np.frombuffer(buf, dtype=np.uint16)
    arr = np.lib.stride_tricks.as_strided(flat[-lo:] if lo else flat, shape, [2 * st for st in strides])
    return arr.view(bfloat16.np)


class _Owner:
    def __init__(self, release):
        self.release = release

    def __del__(self):
        self.release()


def _contiguous(shape):
    st, acc = [], 1
    for s in reversed(shape):
        st.append(acc)
        acc *= s
    return reversed(st)
