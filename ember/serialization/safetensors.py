"""The safetensors format (``save_file``/``load_file``): a JSON header, then raw tensor bytes.

Layout: 8-byte little-endian header length, a UTF-8 JSON object mapping each name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the data section),
optional ``"__metadata__"`` of strings, then the data.  No pickle: nothing can execute on load.
"""
from __future__ import annotations

import json
import os
import struct

import numpy as np

from .. import _backend, _dtype as D
from .._tensor import Tensor, make
from ._save import write_atomically

_CODES = {D.float64: "F64", D.float32: "F32", D.float16: "F16", D.bfloat16: "BF16", D.int64: "I64",
          D.int32: "I32", D.int16: "I16", D.int8: "I8", D.uint8: "U8", D.bool_: "BOOL", D.complex64: "C64"}
_FROM_CODE = {v: k for k, v in _CODES.items()}


def _host_bytes(t: Tensor):
    a = t.detach().numpy(force=True)
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _layout(tensors: dict, metadata):
    """The header bytes (length-prefixed, padded to 8) and each tensor's raw bytes, in order."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, Tensor] but received {type(tensors).__name__}")
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors names must be str, got {type(name).__name__} {name!r}")
        if not isinstance(t, Tensor):
            raise TypeError(f"safetensors can only save tensors, got {type(t).__name__} for {name!r}")
        if t.dtype not in _CODES:
            raise ValueError(f"safetensors has no code for {t.dtype} (tensor {name!r})")
    for name in sorted(tensors):
        t = tensors[name]
        raw = _host_bytes(t)
        header[name] = {"dtype": _CODES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + raw.nbytes]}
        chunks.append(raw)
        offset += raw.nbytes
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("safetensors metadata must map str to str")
        header["__metadata__"] = dict(metadata)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    return struct.pack("<Q", len(hb)) + hb, chunks


def save(tensors: dict, metadata: dict | None = None) -> bytes:
    """Serialise a ``{name: tensor}`` dict to safetensors bytes."""
    head, chunks = _layout(tensors, metadata)
    return head + b"".join(memoryview(c) for c in chunks)


def save_file(tensors: dict, filename, metadata: dict | None = None) -> None:
    """Write ``tensors`` to ``filename`` in safetensors format (atomically, like ``ember.save``)."""
    head, chunks = _layout(tensors, metadata)

    def write(fh):
        fh.write(head)
        for c in chunks:
            fh.write(memoryview(c))
    write_atomically(filename, write)


def load(data: bytes, device="cpu") -> dict:
    """Parse safetensors bytes into ``{name: tensor}``."""
    return _parse(memoryview(data), device, "<bytes>")[0]


def _read(filename):
    """The whole file in one writable buffer (the tensors are views of it)."""
    with open(filename, "rb") as fh:
        buf = bytearray(os.fstat(fh.fileno()).st_size)
        n = fh.readinto(buf)
    return memoryview(buf)[:n]


def load_file(filename, device="cpu") -> dict:
    """Read a safetensors file into ``{name: tensor}`` on ``device``."""
    return _parse(_read(filename), device, os.fspath(filename))[0]


def load_metadata(filename) -> dict:
    """The ``__metadata__`` strings of a safetensors file."""
    return _parse(_read(filename), "cpu", os.fspath(filename))[1]


def _parse(buf, device, fname):
    if len(buf) < 8:
        raise ValueError(f"{fname}: too short to be a safetensors file")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError(f"{fname}: header length {n} exceeds the file size {len(buf)}")
    try:
        header = json.loads(bytes(buf[8:8 + n]))
    except ValueError as e:
        raise ValueError(f"{fname}: invalid safetensors header ({e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{fname}: invalid safetensors header (not a JSON object)")
    meta = header.pop("__metadata__", {}) or {}
    data = buf[8 + n:]
    dev = _backend.canonical(device)
    out = {}
    for name, info in header.items():
        try:
            code, (b, e), shape = info["dtype"], info["data_offsets"], tuple(info["shape"])
            if not all(isinstance(v, int) and v >= 0 for v in (b, e, *shape)):
                raise TypeError
        except (TypeError, KeyError, ValueError):
            raise ValueError(f"{fname}: invalid safetensors entry for tensor {name!r}: {info!r}") from None
        dt = _FROM_CODE.get(code)
        if dt is None:
            raise ValueError(f"{fname}: tensor {name!r} has unsupported dtype {code!r}")
        need = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        if e - b != need or e > len(data):
            raise ValueError(f"{fname}: tensor {name!r} of shape {list(shape)} needs {need} bytes "
                             f"but its data_offsets are [{b}, {e}] in a {len(data)}-byte data section")
        arr = np.frombuffer(data[b:e], dtype=dt.np).reshape(shape)
        if dev.type != "cpu":
            arr = _backend.to_device_array(arr, _backend.CPU, dev)
        out[name] = make(arr, dev)
    return out, meta
