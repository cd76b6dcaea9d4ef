"""``ember.save``: PyTorch's zip checkpoint format, loadable by ``torch.load(weights_only=True)``.

Tensors pickle as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` with a
persistent id per storage; tensors that view the same memory share one storage record, so views
load as views.  Paths are written atomically: temp file, ``fsync``, ``os.replace``.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
import zlib

import numpy as np

from .._backend import Device
from .._dtype import _FROM_NP, dtype as _dtype_cls
from .._ops.conversion import layout
from .._tensor import Size, Tensor
from ._format import ALIGNMENT, STORAGE_NAMES, checksum_pieces, combine, split, start_writeback


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


def _flat_root(arr: np.ndarray):
    """``(root, flat)``: the array owning the memory ``arr`` views and that whole block, flat and
    read as ``arr``'s dtype, when ``arr`` is a whole-element, forward-strided view of one dense
    array (``flat`` is None otherwise)."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    it = arr.itemsize
    if not (root.flags.c_contiguous or root.flags.f_contiguous) or root.nbytes % it \
            or (_address(arr) - _address(root)) % it or any(s < 0 or s % it for s in arr.strides):
        return root, None
    flat = root.reshape(-1, order="A") if root.ndim != 1 else root
    return root, flat if flat.dtype == arr.dtype else flat.view(np.uint8).view(arr.dtype)


def _address(a) -> int:
    return a.__array_interface__["data"][0]


class _Pickler(pickle._Pickler):
    """Pure-Python pickler (it lets us emit torch GLOBALs and intercept tensors)."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages: dict = {}     # (id(root array), dtype) -> _StorageRef
        self.order: list = []

    # storages -------------------------------------------------------------------------------
    def _storage_for(self, t: Tensor):
        """``(storage, offset, stride)`` for ``t``: tensors viewing one block of memory share one
        storage (its bytes read as ``t``'s dtype), so views, expanded tensors and tensors loaded
        from one storage are saved as views; anything else is saved as a contiguous copy."""
        arr = t._data if t._device.type == "cpu" else t.numpy(force=True)
        location = "cpu" if t._device.type == "cpu" else str(t._device)
        dt = _FROM_NP[arr.dtype]
        root, flat = _flat_root(arr)
        if flat is None:
            root = flat = arr = np.ascontiguousarray(arr).reshape(arr.shape)
        key = (id(root), arr.dtype)
        ref = self.storages.get(key)
        if ref is None:
            ref = _StorageRef(str(len(self.order)), dt, flat.size, flat, location)
            self.storages[key] = ref
            self.order.append(ref)
        it = arr.itemsize
        return ref, (_address(arr) - _address(flat)) // it, tuple(s // it for s in arr.strides)

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
        if isinstance(obj, layout):
            return (_Global("torch.serialization", "_get_layout"), (repr(obj),))
        return NotImplemented

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _dtype_cls):
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


def _local_header(bname, extra, size, crc):
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, _DOS_DATE, crc, size, size,
                       len(bname), len(extra)) + bname + extra


def _central_directory(entries, cd_start):
    parts = [struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, _DOS_DATE, crc, size, size,
                         len(bname), 0, 0, 0, 0, 0, pos) + bname for bname, pos, size, crc in entries]
    cd = b"".join(parts)
    return cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), cd_start, 0)


def _pwrite_all(fd, data, offset):
    while data:
        n = os.pwrite(fd, data, offset)
        data, offset = data[n:], offset + n


def _write_zip_fd(fd, records):
    """Stored zip written with ``pwrite`` at precomputed offsets by two threads.

    Each chunk is written then checksummed while still in cache, and its writeback to disk is
    started at once (so the final ``fsync`` only waits for the tail); zlib and ``pwrite`` release
    the GIL.  Local headers are written once the CRCs are known.
    """
    layout, segments, pos = [], [], 0
    for name, payload in records:
        bname = name.encode()
        extra = _pad_extra(pos, name)
        data = pos + 30 + len(bname) + len(extra)
        n = payload.nbytes
        pieces = split(payload, data)
        layout.append((bname, extra, pos, n, len(segments), len(pieces)))
        segments.extend(pieces)
        pos = data + n
    crcs = checksum_pieces(segments, lambda chunk, off: _pwrite_all(fd, chunk, off),
                           start_writeback(fd))
    entries = []
    for bname, extra, hpos, n, first, count in layout:
        crc = combine(segments[first:first + count], crcs[first:first + count])
        _pwrite_all(fd, _local_header(bname, extra, n, crc), hpos)
        entries.append((bname, hpos, n, crc))
    _pwrite_all(fd, _central_directory(entries, pos), pos)


def _write_zip_stream(fh, records):
    """Stored zip written sequentially to a file object (each CRC computed before its header)."""
    pos, entries = 0, []
    for name, payload in records:
        bname = name.encode()
        crc = zlib.crc32(payload)
        header = _local_header(bname, _pad_extra(pos, name), payload.nbytes, crc)
        fh.write(header)
        fh.write(payload)
        entries.append((bname, pos, payload.nbytes, crc))
        pos += len(header) + payload.nbytes
    fh.write(_central_directory(entries, pos))


def _write_zip(fileobj, data_pkl, storages, archive, direct=False):
    """Write the records; ``direct``: ``fileobj`` is a fresh file written through its descriptor."""
    records = list(_records(data_pkl, storages, archive))
    small = sum(r.nbytes for _, r in records) < _SMALL and len(records) < 0xFFFF
    if small and direct:
        _write_zip_fd(fileobj.fileno(), records)
        return
    if small:
        _write_zip_stream(fileobj, records)
        return
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, payload in records:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.extra = _pad_extra(zf.fp.tell() if zf.fp.seekable() else 0, name)
            info.file_size = payload.nbytes
            with zf.open(info, "w", force_zip64=payload.nbytes > 0x7FFFFFFF) as w:
                w.write(payload)


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Save ``obj`` (tensors, state_dicts, containers, picklable objects) in PyTorch's format."""
    buf = io.BytesIO()
    p = _Pickler(buf, pickle_protocol)
    p.dump(obj)
    if not isinstance(f, (str, os.PathLike)):
        _write_zip(f, buf.getvalue(), p.order, "archive")
        return
    path = os.fspath(f)
    archive = os.path.splitext(os.path.basename(path))[0] or "archive"
    write_atomically(path, lambda fh: _write_zip(fh, buf.getvalue(), p.order, archive,
                                                 direct=hasattr(os, "pwrite")))


def write_atomically(path, write):
    """Call ``write(fh)`` on a fresh sibling temp file, fsync it, then rename it over ``path``:
    after a crash ``path`` holds either the old or the complete new contents."""
    path = os.fspath(path)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)),
                       f".{os.path.basename(path)}.{os.urandom(8).hex()}.tmp")
    try:
        # created as open() would (mode 0o666 minus umask); same filesystem, so the rename is atomic
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666),
                  "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
