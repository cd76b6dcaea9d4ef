"""``ember.save``: PyTorch's zip checkpoint format, loadable by ``torch.load(weights_only=True)``.

Tensors pickle as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` with a
persistent id per storage; tensors that view the same memory share one storage record, so views
load as views.  Paths are written atomically (temp file + ``os.replace``).
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import tempfile
import zipfile

import numpy as np

from .. import _backend
from .._backend import Device
from .._dtype import _FROM_NP, dtype as _dtype_cls
from .._tensor import Size, Tensor
from ._format import ALIGNMENT, STORAGE_NAMES


class _Global:
    """A pickle GLOBAL naming a torch symbol (written without importing torch)."""

    _cache: dict = {}

    def __new__(cls, module, name):
        key = (module, name)
        g = cls._cache.get(key)
        if g is None:
            g = object.__new__(cls)
            g.module, g.name = module, name
            cls._cache[key] = g
        return g

    def __call__(self, *args):  # pickle insists reduce functions are callable
        raise TypeError(f"{self.module}.{self.name} is a pickle reference, not a function")


class _StorageRef:
    __slots__ = ("key", "dtype", "numel", "array", "location")

    def __init__(self, key, dtype, numel, array, location):
        self.key, self.dtype, self.numel, self.array, self.location = key, dtype, numel, array, location


def _root(a: np.ndarray):
    r = a
    while isinstance(r.base, np.ndarray):
        r = r.base
    return r


def _address(a) -> int:
    return a.__array_interface__["data"][0]


class _Pickler(pickle._Pickler):
    """Pure-Python pickler (it lets us emit torch GLOBALs and intercept tensors)."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages: dict = {}     # id(root array) -> _StorageRef
        self.order: list = []

    # storages -------------------------------------------------------------------------------
    def _storage_for(self, t: Tensor):
        arr = t._data if t._device.type == "cpu" else t.numpy(force=True)
        location = "cpu" if t._device.type == "cpu" else str(t._device)
        root = _root(arr)
        dt = _FROM_NP[arr.dtype]
        if (root.dtype == arr.dtype and root.flags.c_contiguous and isinstance(root, np.ndarray)
                and not _is_broadcast(arr)):
            ref = self.storages.get(id(root))
            if ref is None:
                ref = _StorageRef(str(len(self.order)), dt, root.size, root, location)
                self.storages[id(root)] = ref
                self.order.append(ref)
            offset = (_address(arr) - _address(root)) // arr.itemsize
            stride = tuple(s // arr.itemsize for s in arr.strides)
            return ref, offset, stride
        own = np.ascontiguousarray(arr)
        if own is arr:
            own = arr.copy()
        ref = _StorageRef(str(len(self.order)), dt, own.size, own, location)
        self.storages[id(own)] = ref
        self.order.append(ref)
        return ref, 0, tuple(s // own.itemsize for s in own.strides)

    def persistent_id(self, obj):
        if type(obj) is _StorageRef:
            return ("storage", _Global("torch", STORAGE_NAMES[obj.dtype]), obj.key, obj.location,
                    obj.numel)
        return None

    # objects --------------------------------------------------------------------------------
    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            ref, offset, stride = self._storage_for(obj)
            rebuild = (ref, offset, Size(obj._data.shape), stride, obj._requires_grad,
                       collections.OrderedDict())
            if getattr(type(obj), "_is_parameter", False):
                plain = _TensorArgs(rebuild)
                return (_Global("torch._utils", "_rebuild_parameter"),
                        (plain, obj._requires_grad, collections.OrderedDict()))
            return (_Global("torch._utils", "_rebuild_tensor_v2"), rebuild)
        if isinstance(obj, _TensorArgs):
            return (_Global("torch._utils", "_rebuild_tensor_v2"), obj.args)
        if isinstance(obj, Device):
            return (_Global("torch", "device"), (str(obj),))
        if type(obj) is Size:
            return (_Global("torch", "Size"), (tuple(obj),))
        return NotImplemented

    def save(self, obj, save_persistent_id=True):
        if type(obj) is _dtype_cls:
            obj = _Global("torch", obj.name)
        if type(obj) is _Global:
            x = self.memo.get(id(obj))
            if x is not None:
                self.write(self.get(x[0]))
                return
            self.write(pickle.GLOBAL + obj.module.encode() + b"\n" + obj.name.encode() + b"\n")
            self.memoize(obj)
            return
        return super().save(obj, save_persistent_id)


class _TensorArgs:
    __slots__ = ("args",)

    def __init__(self, args):
        self.args = args


def _is_broadcast(arr):
    return any(s == 0 for s in arr.strides) and arr.size > 1


def _pad_extra(offset, name):
    """A zip 'extra' field that puts the record's data at a multiple of ALIGNMENT."""
    header = 30 + len(name.encode())
    pad = (-(offset + header + 4)) % ALIGNMENT
    return struct.pack("<HH", 0x4246, pad) + b"Z" * pad


def _write_zip(fileobj, data_pkl, storages, archive):
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        def record(name, payload):
            info = zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            pos = zf.fp.tell() if hasattr(zf.fp, "tell") else 0
            info.extra = _pad_extra(pos, info.filename)
            info.file_size = len(payload) if not isinstance(payload, memoryview) else payload.nbytes
            with zf.open(info, "w", force_zip64=info.file_size > 0x7FFFFFFF) as w:
                w.write(payload)
        record("data.pkl", data_pkl)
        record(".format_version", b"1")
        record(".storage_alignment", str(ALIGNMENT).encode())
        record("byteorder", b"little")
        for ref in storages:
            a = ref.array
            if a.dtype.byteorder == ">":
                a = a.astype(a.dtype.newbyteorder("<"))
            record(f"data/{ref.key}", memoryview(np.ascontiguousarray(a).reshape(-1).view(np.uint8)))
        record("version", b"3\n")
        record(".data/serialization_id", os.urandom(20).hex().encode())


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Save ``obj`` (tensors, state_dicts, containers, picklable objects) in PyTorch's format."""
    buf = io.BytesIO()
    p = _Pickler(buf, pickle_protocol)
    p.dump(obj)
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        archive = os.path.splitext(os.path.basename(path))[0] or "archive"
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=d)
        try:
            with os.fdopen(fd, "wb") as fh:
                _write_zip(fh, buf.getvalue(), p.order, archive)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    else:
        _write_zip(f, buf.getvalue(), p.order, "archive")
