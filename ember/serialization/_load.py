"""``ember.load``: PyTorch checkpoints (zip and legacy formats), safely by default.

With ``weights_only=True`` (the default, as in torch >= 2.6) the unpickler resolves only an
allow-list of globals — tensors, storages, dtypes, devices, containers — and refuses anything
else with an ``UnpicklingError`` naming the global, before it can run.  A file that is not a
readable checkpoint (truncated, corrupted — every record read is checked against its CRC-32 —,
inconsistent, or holding dtypes ember lacks) raises ``CheckpointError`` naming the file.
"""
from __future__ import annotations

import _compat_pickle
import collections
import io
import os
import pickle
import struct
import types
import zipfile

import numpy as np

from .. import _backend
from .._ops.conversion import strided
from .._tensor import Size, make
from ._format import (DTYPE_NAMES, LEGACY_PROTOCOL, MAGIC_NUMBER, STORAGE_TYPES, TORCH_ONLY_DTYPES,
                      StorageType, checksum_pieces, combine, split)

_PARAMETER_CLASS = [None]      # set by ember.nn.parameter (a higher layer) when it is imported
_SAFE_GLOBALS: dict = {}       # "module.name" -> object, added by add_safe_globals


class CheckpointError(RuntimeError):
    """A file that is not a readable checkpoint (truncated, corrupted, inconsistent)."""


class _GlobalError(pickle.UnpicklingError):
    """A global that is not allowed (weights-only) or that ember lacks."""


def register_parameter_class(cls):
    _PARAMETER_CLASS[0] = cls


def add_safe_globals(safe_globals):
    """Allow these globals (objects, or ``(obj, "module.name")`` pairs) in weights-only loads."""
    for g in safe_globals:
        if isinstance(g, tuple):
            obj, name = g
        else:
            obj, name = g, f"{g.__module__}.{g.__qualname__}"
        _SAFE_GLOBALS[name] = obj


def get_safe_globals():
    return list(_SAFE_GLOBALS.values())


def clear_safe_globals():
    _SAFE_GLOBALS.clear()


# ---- rebuild functions (what torch's GLOBALs resolve to) ---------------------------------------
class _Storage:
    """A loaded storage: a flat array of its dtype plus where it should live."""

    __slots__ = ("array", "device")

    def __init__(self, array, device):
        self.array, self.device = array, device

    # what ``map_location`` callables call, e.g. ``lambda storage, loc: storage.cuda(0)``
    def to(self, device, non_blocking=False):
        return _Storage(self.array, _target_device("cpu", device))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else _backend.Device(device))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    arr = storage.array
    size, stride = tuple(size), tuple(stride)
    extent = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if storage_offset < 0 or extent > arr.size:
        raise CheckpointError(
            f"a tensor of size {list(size)} with stride {list(stride)} at offset {storage_offset} "
            f"needs {extent} elements but its storage holds only {arr.size}")
    it = arr.itemsize
    view = np.ndarray(size, arr.dtype, buffer=arr, offset=storage_offset * it,
                      strides=tuple(s * it for s in stride)) if arr.size else np.empty(size, arr.dtype)
    dev = storage.device
    data = view if dev.type == "cpu" else _backend.to_device_array(view, _backend.CPU, dev)
    t = make(data, dev)
    if requires_grad:
        t._requires_grad = True
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                       metadata=None):
    """Tensors whose dtype has no typed storage: an untyped (byte) storage plus the dtype."""
    arr = storage.array
    if arr.size % dtype.itemsize:
        raise CheckpointError(f"a storage of {arr.size} bytes cannot hold {dtype} elements")
    return _rebuild_tensor_v2(_Storage(arr.view(dtype.np), storage.device), storage_offset, size, stride,
                              requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks, *state):
    cls = _PARAMETER_CLASS[0]
    if cls is None:
        data._requires_grad = requires_grad
        return data
    return cls(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _rebuild_parameter(data, requires_grad, backward_hooks)


def _rebuild_from_type_v2(func, new_type, args, state):
    ret = func(*args)
    if state:
        ret.__dict__.update(state)
    return ret


def _rebuild_device(spec, index=None):
    return _backend.Device(spec, index)


def _allowed_globals():
    torch_dtypes = {f"torch.{n}": d for n, d in DTYPE_NAMES.items()}
    torch_dtypes.update({"torch.bool": DTYPE_NAMES["bool"], "torch.float": DTYPE_NAMES["float32"],
                         "torch.half": DTYPE_NAMES["float16"], "torch.double": DTYPE_NAMES["float64"],
                         "torch.long": DTYPE_NAMES["int64"], "torch.int": DTYPE_NAMES["int32"]})
    g = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "collections.defaultdict": collections.defaultdict,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_tensor": lambda storage, offset, size, stride:
            _rebuild_tensor_v2(storage, offset, size, stride),
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.Size": Size,
        "torch.device": _rebuild_device,
        "torch.nn.parameter.Parameter": lambda *a: _rebuild_parameter(*a[:2], None),
        "builtins.set": set, "builtins.frozenset": frozenset, "builtins.slice": slice,
        "builtins.complex": complex, "builtins.bytearray": bytearray,
        "_codecs.encode": _codecs_encode,
        "torch.storage.UntypedStorage": STORAGE_TYPES["ByteStorage"],
        "torch.serialization._get_layout": _get_layout,
    }
    g.update({f"torch.{n}": st for n, st in STORAGE_TYPES.items()})
    g.update(torch_dtypes)
    return g


def _get_layout(name):
    if name != "torch.strided":
        raise CheckpointError(f"tensors with layout {name} are not supported by ember")
    return strided


def _codecs_encode(obj, encoding="latin1"):
    import codecs
    return codecs.encode(obj, encoding)


_ALLOWED = _allowed_globals()


class _Unpickler(pickle._Unpickler):
    """torch's unpickling rules: only allowed globals (when ``weights_only``); BUILD (setting an
    object's state) only on OrderedDicts and instances of ``add_safe_globals`` classes, so a
    file cannot alter the allowed globals themselves (``torch.Size``, dtypes, storage types).
    The pure-Python unpickler, as torch's weights-only one, since BUILD cannot be hooked in C."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, weights_only, load_storage, **kw):
        super().__init__(file, **kw)
        self.weights_only = weights_only
        self.load_storage = load_storage

    def load_build(self):
        inst, state = self.stack[-2], self.stack[-1]
        if not self.weights_only:
            return pickle._Unpickler.load_build(self)
        if type(inst) is collections.OrderedDict and type(state) is dict:
            self.stack.pop()
            inst.__dict__.update(state)
        elif type(inst) in {g for g in _SAFE_GLOBALS.values() if isinstance(g, type)}:
            pickle._Unpickler.load_build(self)
        else:
            what = _qualname(inst) if isinstance(inst, (type, types.FunctionType, types.BuiltinFunctionType)) \
                else f"an instance of {_qualname(type(inst))}"
            raise _GlobalError(f"Weights only load failed: BUILD (setting an object's state) is allowed "
                               f"only on OrderedDicts and instances of classes allowed by "
                               f"add_safe_globals, not on {what}")

    dispatch[pickle.BUILD[0]] = load_build

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:     # Python 2 names, as torch's protocol-2 files have
            module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f"{module}.{name}"
        if full in _ALLOWED:
            return _ALLOWED[full]
        if full in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[full]
        if module == "torch" and name in TORCH_ONLY_DTYPES:
            raise CheckpointError(f"tensors of dtype torch.{name} are not supported by ember")
        if module == "torch" and name.endswith("Storage"):
            raise CheckpointError(f"unsupported storage type torch.{name}")
        if self.weights_only:
            raise _GlobalError(
                "Weights only load failed. This file can still be loaded, to do so you have two options, "
                "do those steps only if you trust the source of the checkpoint.\n\t(1) Re-running "
                "`ember.load` with `weights_only` set to `False` will likely succeed, but it can result "
                "in arbitrary code execution.\n\t(2) Alternatively, to load with `weights_only=True` "
                f"please check the recommended steps in the following error message.\n\tWeightsUnpickler "
                f"error: Unsupported global: GLOBAL {full} was not an allowed global by default. Please "
                f"use `ember.serialization.add_safe_globals([{name}])` to allowlist this global if you "
                "trust this class/function.")
        if module == "torch" or module.startswith("torch.") or module.startswith("torchvision"):
            return _resolve_torch_name(module, name)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise CheckpointError(f"unsupported persistent id {pid!r}")
        return self.load_storage(pid)


def _qualname(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"


def _resolve_torch_name(module, name):
    """Map ``torch.x.y`` to ``ember.x.y`` for full (non weights-only) loads."""
    import importlib
    mod = module.replace("torchvision", "ember.vision", 1) if module.startswith("torchvision") \
        else "ember" + module[len("torch"):]
    try:
        return getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError):
        raise _GlobalError(f"ember does not implement {module}.{name} yet") from None


# ---- map_location --------------------------------------------------------------------------------
def _saved_device(location):
    """The device a storage was tagged with in the file."""
    try:
        return _backend.Device(location)
    except RuntimeError:
        raise CheckpointError(f"a storage is tagged with the unknown device {location!r}; "
                              "load it with map_location='cpu'") from None


def _target_device(location: str, map_location):
    if map_location is None:
        dev = _saved_device(location)
    elif callable(map_location) and not isinstance(map_location, (str, _backend.Device)):
        return map_location  # applied to each storage later
    elif isinstance(map_location, dict):
        dev = _backend.Device(map_location[location]) if location in map_location else _saved_device(location)
    else:
        dev = _backend.Device(map_location)
    if dev.type == "cuda" and not _backend.cuda_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but ember.cuda.is_available() is False. "
            "If you are running on a CPU-only machine, please use ember.load with "
            "map_location=ember.device('cpu') to map your storages to the CPU.")
    return _backend.canonical(dev)


def _place(arr, location, map_location):
    dev = _target_device(location, map_location)
    if callable(dev) and not isinstance(dev, _backend.Device):
        cpu = _Storage(arr, _backend.CPU)
        res = dev(cpu, location)
        if isinstance(res, _Storage):
            return res
        return _Storage(arr, _target_device(location, None))
    return _Storage(arr, dev)


# ---- readers -----------------------------------------------------------------------------------
def _name_of(f):
    return os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file object>")


def _load_zip(zf: zipfile.ZipFile, map_location, weights_only, mmap_file):
    names = zf.namelist()
    encrypted = [i.filename for i in zf.infolist() if i.flag_bits & 0x1]
    if encrypted:
        raise CheckpointError(f"corrupted checkpoint (record {encrypted[0]!r} is marked encrypted)")
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pkl:
        raise CheckpointError("not an ember/PyTorch checkpoint (a zip file without a data.pkl record)")
    prefix = pkl[0][: -len("data.pkl")]
    bo = prefix + "byteorder"
    if bo in names and zf.read(bo) not in (b"little", b"little\n"):
        raise CheckpointError("big-endian checkpoints are not supported")
    fp = zf.fp
    file_size = fp.seek(0, io.SEEK_END)
    read_chunk, parallel = _chunk_reader(fp)
    cache = {}

    def load_storage(pid):
        _, stype, key, location, numel = pid[:5]
        if not isinstance(stype, StorageType):
            raise CheckpointError(f"unknown storage type {stype!r}")
        if key in cache:
            return cache[key]
        rec = f"{prefix}data/{key}"
        try:
            info = zf.getinfo(rec)
        except KeyError:
            raise CheckpointError(f"missing record {rec!r} for a storage") from None
        dt = stype.dtype.np
        need = numel * dt.itemsize
        if stype.name == "ByteStorage" and info.file_size != need:
            need = info.file_size
        if info.file_size < need:
            raise CheckpointError(f"storage {key!r} has {info.file_size} bytes but its tensors need {need}")
        if info.compress_type == zipfile.ZIP_STORED:
            start = _data_offset_fp(fp, info)
            if start + info.file_size > file_size:
                raise CheckpointError(f"record {rec!r} is truncated")
            if mmap_file is not None:   # pages are read lazily: no CRC check
                arr = np.memmap(mmap_file, dtype=np.uint8, mode="c", offset=start, shape=(info.file_size,)) \
                    if info.file_size else np.empty(0, np.uint8)
            else:
                arr = np.empty(info.file_size, np.uint8)
                pieces = split(memoryview(arr), start) if parallel else [(memoryview(arr), start)]
                if combine(pieces, checksum_pieces(pieces, read_chunk)) != info.CRC:
                    raise CheckpointError(f"record {rec!r} is corrupted (CRC-32 mismatch)")
        else:
            arr = np.empty(info.file_size, np.uint8)
            with zf.open(info) as r:    # zipfile checks the CRC
                if r.readinto(memoryview(arr)) != info.file_size:
                    raise CheckpointError(f"record {rec!r} is truncated")
        st = _place(arr[:need].view(dt), location, map_location)
        cache[key] = st
        return st

    data = zf.read(pkl[0])
    return _Unpickler(io.BytesIO(data), weights_only, load_storage, encoding="utf-8").load()


def _chunk_reader(fp):
    """``read(chunk, offset)`` filling ``chunk`` from ``fp`` at ``offset``, and whether it is
    safe to call from several threads (positional reads on a file descriptor)."""
    try:
        fd = fp.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fd = None
    if fd is not None and hasattr(os, "preadv"):
        def read(chunk, offset):
            if os.preadv(fd, [chunk], offset) != chunk.nbytes:
                raise CheckpointError("a record is truncated")
        return read, True

    def read(chunk, offset):
        fp.seek(offset)
        if fp.readinto(chunk) != chunk.nbytes:
            raise CheckpointError("a record is truncated")
    return read, False


def _data_offset_fp(fh, info):
    """Where a stored record's bytes start: after its local header, name and extra field."""
    fh.seek(info.header_offset)
    h = fh.read(30)
    if len(h) != 30 or h[:4] != b"PK\x03\x04":
        raise CheckpointError(f"bad local header for record {info.filename!r}")
    n, m = struct.unpack("<HH", h[26:30])
    return info.header_offset + 30 + n + m


def _load_legacy(f, map_location, weights_only):
    """Pre-1.6 format: magic, protocol, sys_info pickles, the object pickle, keys, raw storages."""
    def unpickler(load_storage):
        return _Unpickler(f, weights_only, load_storage, encoding="utf-8")

    def no_storage(pid):
        raise CheckpointError("unexpected storage in a legacy header")

    magic = unpickler(no_storage).load()
    if magic != MAGIC_NUMBER:
        raise CheckpointError("not an ember/PyTorch checkpoint (a pickle without the legacy magic number)")
    if unpickler(no_storage).load() != LEGACY_PROTOCOL:
        raise CheckpointError("unsupported legacy protocol version")
    unpickler(no_storage).load()  # sys_info
    # the object pickle precedes its storages: skim it for storage types, read the storages,
    # then rebuild the objects for real
    obj_pos = f.tell()
    stypes = {}

    def record(pid):
        stypes[pid[2]] = pid[1]

    _Skimmer(f, weights_only, record).load()
    keys = unpickler(no_storage).load()
    storages = {}
    here = f.tell()
    end = f.seek(0, io.SEEK_END)
    f.seek(here)
    for key in keys:
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError("truncated legacy checkpoint")
        (n,) = struct.unpack("<q", head)
        stype = stypes.get(key)
        if not isinstance(stype, StorageType):
            raise CheckpointError(f"unknown storage type for storage {key!r}")
        if n < 0 or n * stype.dtype.itemsize > end - f.tell():
            raise CheckpointError(f"corrupted or truncated legacy checkpoint (storage {key} has {n} "
                                  f"elements of {stype.dtype.itemsize} bytes, {end - f.tell()} bytes are left)")
        arr = np.empty(n, stype.dtype.np)
        if f.readinto(memoryview(arr.view(np.uint8))) != arr.nbytes:
            raise CheckpointError(f"truncated legacy checkpoint (storage {key})")
        storages[key] = arr
    tail = f.tell()

    def load_storage(pid):
        _, stype, key, location, numel = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise CheckpointError("legacy storage views are not supported")
        if key not in storages:
            raise CheckpointError(f"missing storage {key!r}")
        return _place(storages[key], location, map_location)

    f.seek(obj_pos)
    result = unpickler(load_storage).load()
    f.seek(tail)
    return result


class _Skimmer(_Unpickler):
    """Reads past a pickle without building anything: globals become no-ops (once allowed, when
    ``weights_only``), BUILD sets nothing, storages are reported to ``on_storage``."""

    dispatch = dict(_Unpickler.dispatch)

    def __init__(self, f, weights_only, on_storage):
        super().__init__(f, weights_only, on_storage, encoding="utf-8")

    def load_build(self):
        self.stack.pop()

    dispatch[pickle.BUILD[0]] = load_build

    def find_class(self, module, name):
        g = _ALLOWED.get(f"{module}.{name}")
        if isinstance(g, StorageType):
            return g
        if self.weights_only:
            super().find_class(module, name)    # refuses what the real pass would refuse
        return _noop

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and pid and pid[0] == "storage":
            self.load_storage(pid)
        return None


def _noop(*args, **kwargs):
    return _NoOp()


class _NoOp:
    def __setstate__(self, state):
        pass

    def __setitem__(self, k, v):
        pass

    def append(self, v):
        pass

    def extend(self, v):
        pass


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=False, **kw):
    """Load an object saved by ``ember.save`` or ``torch.save`` (zip or legacy format).

    Every storage read in full is checked against its record's CRC-32; with ``mmap=True``
    storages are mapped, not read, so their bytes are not checksummed.
    """
    fname = _name_of(f)
    try:
        if isinstance(f, (str, os.PathLike)):
            with open(f, "rb") as fh:
                return _load_file(fh, map_location, weights_only, fname if mmap else None)
        if mmap:
            raise ValueError("mmap=True requires a file path")
        return _load_file(f, map_location, weights_only, None)
    except CheckpointError as e:
        raise CheckpointError(f"{fname}: {e}") from e.__cause__
    except _GlobalError as e:
        raise pickle.UnpicklingError(f"{fname}: {e}") from None


_CORRUPTED = (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
              UnicodeDecodeError, struct.error, zipfile.BadZipFile, pickle.UnpicklingError,
              NotImplementedError, OSError)   # zipfile: unknown versions/methods, seeks before the start


def _load_file(fh, map_location, weights_only, mmap_path):
    start = fh.tell() if fh.seekable() else 0
    head = fh.read(4)
    fh.seek(start)
    if not head:
        raise CheckpointError("an empty file is not a checkpoint")
    if head[:2] == b"PK":
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as e:
            raise CheckpointError(f"corrupted or truncated zip checkpoint ({e})") from None
        with zf:
            try:
                return _load_zip(zf, map_location, weights_only, mmap_path)
            except _GlobalError:
                raise
            except _CORRUPTED as e:
                raise CheckpointError(f"corrupted checkpoint ({type(e).__name__}: {e})") from e
    if head[:1] == b"\x80":
        if mmap_path:
            raise RuntimeError("mmap can only be used with files saved with the zipfile format")
        try:
            return _load_legacy(fh, map_location, weights_only)
        except _GlobalError:
            raise
        except MemoryError:     # a corrupted length in a pickle read straight from the file
            raise CheckpointError("corrupted legacy checkpoint (a length field exceeds available memory)") \
                from None
        except _CORRUPTED as e:
            raise CheckpointError(f"corrupted legacy checkpoint ({type(e).__name__}: {e})") from e
    raise CheckpointError(f"not an ember/PyTorch checkpoint (unrecognised header {head!r})")
