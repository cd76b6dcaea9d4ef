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
import zlib

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


def _records(data_pkl, storages, archive):
    yield f"{archive}/data.pkl", memoryview(data_pkl)
    yield f"{archive}/.format_version", memoryview(b"1")
    yield f"{archive}/.storage_alignment", memoryview(str(ALIGNMENT).encode())
    yield f"{archive}/byteorder", memoryview(b"little")
    for ref in storages:
        a = ref.array
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        yield f"{archive}/data/{ref.key}", memoryview(np.ascontiguousarray(a).reshape(-1).view(np.uint8))
    yield f"{archive}/version", memoryview(b"3\n")
    yield f"{archive}/.data/serialization_id", memoryview(os.urandom(20).hex().encode())


_DOS_DATE = (0 << 9) | (1 << 5) | 1     # 1980-01-01, the date torch's writer uses too
_SMALL = 1 << 31                         # above this a record needs zip64: use zipfile


def _write_zip_fast(fh, records):
    """Stored (uncompressed) zip, CRCs computed on a second thread while the data is written.

    Local headers are written with a zero CRC and patched once the checksums are known.
    """
    from concurrent.futures import ThreadPoolExecutor
    entries = []
    with ThreadPoolExecutor(1) as pool:
        for name, payload in records:
            bname = name.encode()
            pos = fh.tell()
            extra = _pad_extra(pos, name)
            crc = pool.submit(zlib.crc32, payload)
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, _DOS_DATE, 0,
                                 payload.nbytes, payload.nbytes, len(bname), len(extra)))
            fh.write(bname)
            fh.write(extra)
            fh.write(payload)
            entries.append((bname, pos, payload.nbytes, extra, crc))
        entries = [(n, p, s, e, c.result()) for n, p, s, e, c in entries]
    end = fh.tell()
    for bname, pos, size, extra, crc in entries:
        fh.seek(pos + 14)
        fh.write(struct.pack("<I", crc))
    fh.seek(end)
    cd_start = end
    for bname, pos, size, extra, crc in entries:
        fh.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, _DOS_DATE, crc,
                             size, size, len(bname), 0, 0, 0, 0, 0, pos))
        fh.write(bname)
    cd_size = fh.tell() - cd_start
    fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), cd_size,
                         cd_start, 0))


def _write_zip(fileobj, data_pkl, storages, archive):
    records = list(_records(data_pkl, storages, archive))
    seekable = getattr(fileobj, "seekable", lambda: False)()
    if seekable and sum(r.nbytes for _, r in records) < _SMALL and len(records) < 0xFFFF:
        _write_zip_fast(fileobj, records)
        return
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, payload in records:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.extra = _pad_extra(zf.fp.tell() if seekable else 0, name)
            info.file_size = payload.nbytes
            with zf.open(info, "w", force_zip64=payload.nbytes > 0x7FFFFFFF) as w:
                w.write(payload)


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
