"""``ember.load``: PyTorch checkpoints (zip and legacy formats), safely by default.

With ``weights_only=True`` (the default, as in torch >= 2.6) the unpickler resolves only an
allow-list of globals — tensors, storages, dtypes, devices, containers — and refuses anything
else with an ``UnpicklingError`` naming the global, before it can run.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np

from .. import _backend
from .._dtype import to_dtype
from .._tensor import Size, make
from ._format import DTYPE_NAMES, LEGACY_PROTOCOL, MAGIC_NUMBER, STORAGE_TYPES, StorageType

_PARAMETER_CLASS = [None]      # set by ember.nn.parameter (a higher layer) when it is imported
_SAFE_GLOBALS: dict = {}       # "module.name" -> object, added by add_safe_globals


class CheckpointError(RuntimeError):
    """A file that is not a readable checkpoint (truncated, corrupted, inconsistent)."""


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
    }
    g.update({f"torch.{n}": st for n, st in STORAGE_TYPES.items()})
    g.update(torch_dtypes)
    return g


def _codecs_encode(obj, encoding="latin1"):
    import codecs
    return codecs.encode(obj, encoding)


_ALLOWED = _allowed_globals()
_BLOCKED_MODULES = ("os", "posix", "nt", "sys", "subprocess", "builtins.eval", "builtins.exec")


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, weights_only, load_storage, **kw):
        super().__init__(file, **kw)
        self.weights_only = weights_only
        self.load_storage = load_storage

    def find_class(self, module, name):
        full = f"{module}.{name}"
        if full in _ALLOWED:
            return _ALLOWED[full]
        if full in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[full]
        if self.weights_only:
            raise pickle.UnpicklingError(
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
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        return self.load_storage(pid)


def _resolve_torch_name(module, name):
    """Map ``torch.x.y`` to ``ember.x.y`` for full (non weights-only) loads."""
    import importlib
    mod = module.replace("torchvision", "ember.vision", 1) if module.startswith("torchvision") \
        else "ember" + module[len("torch"):]
    try:
        return getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError):
        raise pickle.UnpicklingError(f"ember does not implement {module}.{name} yet") from None


# ---- map_location --------------------------------------------------------------------------------
def _target_device(location: str, map_location):
    if map_location is None:
        dev = _backend.Device(location)
    elif callable(map_location) and not isinstance(map_location, (str, _backend.Device)):
        return map_location  # applied to each storage later
    elif isinstance(map_location, dict):
        dev = _backend.Device(map_location.get(location, location))
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


def _load_zip(zf: zipfile.ZipFile, fname, map_location, weights_only, mmap_file):
    names = zf.namelist()
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pkl:
        raise CheckpointError(f"{fname}: not an ember/PyTorch checkpoint (no data.pkl record)")
    prefix = pkl[0][: -len("data.pkl")]
    bo = prefix + "byteorder"
    if bo in names and zf.read(bo) not in (b"little", b"little\n"):
        raise CheckpointError(f"{fname}: big-endian checkpoints are not supported")
    cache = {}

    def load_storage(pid):
        _, stype, key, location, numel = pid[:5]
        if not isinstance(stype, StorageType):
            raise CheckpointError(f"{fname}: unknown storage type {stype!r}")
        rec = f"{prefix}data/{key}"
        if key in cache:
            return cache[key]
        try:
            info = zf.getinfo(rec)
        except KeyError:
            raise CheckpointError(f"{fname}: missing record {rec!r} for a storage") from None
        dt = stype.dtype.np
        need = numel * dt.itemsize
        if stype.name == "ByteStorage" and info.file_size != need:
            need = info.file_size
        if info.file_size < need:
            raise CheckpointError(f"{fname}: storage {key!r} has {info.file_size} bytes but its "
                                  f"tensors need {need}")
        if mmap_file is not None and info.compress_type == zipfile.ZIP_STORED:
            start = _data_offset(mmap_file, info)
            arr = np.memmap(mmap_file, dtype=np.uint8, mode="c", offset=start, shape=(info.file_size,)) \
                if info.file_size else np.empty(0, np.uint8)
        elif info.compress_type == zipfile.ZIP_STORED:   # read straight from the file, no CRC pass
            arr = np.empty(info.file_size, np.uint8)
            fp = zf.fp
            fp.seek(_data_offset_fp(fp, info))
            got = fp.readinto(memoryview(arr))
            if got != info.file_size:
                raise CheckpointError(f"{fname}: storage {key!r} is truncated")
        else:
            arr = np.empty(info.file_size, np.uint8)
            with zf.open(info) as r:
                got = r.readinto(memoryview(arr))
            if got != info.file_size:
                raise CheckpointError(f"{fname}: storage {key!r} is truncated")
        flat = arr[:need].view(dt)
        st = _place(flat, location, map_location)
        cache[key] = st
        return st

    try:
        data = zf.read(pkl[0])
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise CheckpointError(f"{fname}: corrupted checkpoint ({e})") from None
    up = _Unpickler(io.BytesIO(data), weights_only, load_storage, encoding="utf-8")
    try:
        return up.load()
    except (pickle.UnpicklingError, CheckpointError, RuntimeError):
        raise
    except (EOFError, zipfile.BadZipFile, ValueError, struct.error) as e:
        raise CheckpointError(f"{fname}: corrupted checkpoint ({type(e).__name__}: {e})") from None


def _data_offset(path, info):
    with open(path, "rb") as fh:
        return _data_offset_fp(fh, info)


def _data_offset_fp(fh, info):
    """Where a stored record's bytes start: after its local header, name and extra field."""
    fh.seek(info.header_offset)
    h = fh.read(30)
    if len(h) != 30 or h[:4] != b"PK\x03\x04":
        raise CheckpointError(f"bad local header for record {info.filename!r}")
    n, m = struct.unpack("<HH", h[26:30])
    return info.header_offset + 30 + n + m


def _load_legacy(f, fname, map_location, weights_only):
    """Pre-1.6 format: magic, protocol, sys_info pickles, the object pickle, keys, raw storages."""
    def unpickler(load_storage):
        return _Unpickler(f, weights_only, load_storage, encoding="utf-8")

    def no_storage(pid):
        raise pickle.UnpicklingError("unexpected storage in a header")

    magic = unpickler(no_storage).load()
    if magic != MAGIC_NUMBER:
        raise CheckpointError(f"{fname}: not an ember/PyTorch checkpoint (bad magic number)")
    if unpickler(no_storage).load() != LEGACY_PROTOCOL:
        raise CheckpointError(f"{fname}: unsupported legacy protocol version")
    unpickler(no_storage).load()  # sys_info
    # the object pickle precedes its storages: skim it for storage types, read the storages,
    # then rebuild the objects for real
    obj_pos = f.tell()
    stypes = {}

    def record(pid):
        stypes[pid[2]] = pid[1]

    _Skimmer(f, record).load()
    keys = unpickler(no_storage).load()
    storages = {}
    for key in keys:
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError(f"{fname}: truncated legacy checkpoint")
        (n,) = struct.unpack("<q", head)
        stype = stypes.get(key)
        if not isinstance(stype, StorageType):
            raise CheckpointError(f"{fname}: unknown storage type for storage {key!r}")
        raw = f.read(n * stype.dtype.itemsize)
        if len(raw) != n * stype.dtype.itemsize:
            raise CheckpointError(f"{fname}: truncated legacy checkpoint (storage {key})")
        storages[key] = np.frombuffer(bytearray(raw), dtype=stype.dtype.np)
    tail = f.tell()

    def load_storage(pid):
        _, stype, key, location, numel = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise CheckpointError(f"{fname}: legacy storage views are not supported")
        if key not in storages:
            raise CheckpointError(f"{fname}: missing storage {key!r}")
        return _place(storages[key], location, map_location)

    f.seek(obj_pos)
    result = unpickler(load_storage).load()
    f.seek(tail)
    return result


class _Skimmer(pickle.Unpickler):
    """Reads past a pickle without building anything (globals become no-ops)."""

    def __init__(self, f, on_storage=None):
        super().__init__(f, encoding="utf-8")
        self.on_storage = on_storage

    def find_class(self, module, name):
        if f"{module}.{name}" in _ALLOWED and isinstance(_ALLOWED[f"{module}.{name}"], StorageType):
            return _ALLOWED[f"{module}.{name}"]
        return _noop

    def persistent_load(self, pid):
        if self.on_storage is not None and isinstance(pid, tuple) and pid and pid[0] == "storage":
            self.on_storage(pid)
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
    """Load an object saved by ``ember.save`` or ``torch.save`` (zip or legacy format)."""
    fname = _name_of(f)
    if isinstance(f, (str, os.PathLike)):
        if not os.path.exists(f):
            raise FileNotFoundError(f"[Errno 2] No such file or directory: '{fname}'")
        with open(f, "rb") as fh:
            return _load_file(fh, fname, map_location, weights_only,
                              os.fspath(f) if mmap else None)
    if mmap:
        raise ValueError("mmap=True requires a file path")
    return _load_file(f, fname, map_location, weights_only, None)


def _load_file(fh, fname, map_location, weights_only, mmap_path):
    start = fh.tell() if fh.seekable() else 0
    head = fh.read(4)
    fh.seek(start)
    if head[:2] == b"PK":
        try:
            zf = zipfile.ZipFile(fh)
        except zipfile.BadZipFile as e:
            raise CheckpointError(f"{fname}: corrupted or truncated zip checkpoint ({e})") from None
        with zf:
            return _load_zip(zf, fname, map_location, weights_only, mmap_path)
    if head[:1] == b"\x80":
        if mmap_path:
            raise RuntimeError("mmap can only be used with files saved with the zipfile format")
        try:
            return _load_legacy(fh, fname, map_location, weights_only)
        except (EOFError, struct.error, ValueError) as e:
            raise CheckpointError(f"{fname}: corrupted legacy checkpoint ({e})") from None
    if not head:
        raise CheckpointError(f"{fname}: empty file is not a checkpoint")
    raise CheckpointError(f"{fname}: not an ember/PyTorch checkpoint (unrecognised header {head!r})")
