"""Devices and their array modules: NumPy for ``cpu``, CuPy for ``cuda``.

Op code never imports numpy for tensor math; it asks a tensor's device for ``xp``.
CuPy is imported lazily on first ``cuda`` use.  Tests swap in a NumPy-backed stand-in
for ``cuda`` (``use_standin_cuda``) to exercise the device plumbing without a GPU.
"""
from __future__ import annotations

import numpy as np

_DEVICE_TYPES = ("cpu", "cuda", "meta")
_cuda_module = None          # the array module for cuda, once resolved
_cuda_standin = False


class Device:
    """``ember.device('cuda:0')``: a device type and optional index, as ``torch.device``."""

    __slots__ = ("type", "index", "_key", "xp")

    def __new__(cls, type, index=None):  # noqa: A002 - torch's parameter name
        if isinstance(type, Device):
            return type if index is None else Device(type.type, index)
        if isinstance(type, int) and index is None:
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type!r})")
        s = type
        if ":" in s:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {s}")
            s, _, idx = s.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if s not in _DEVICE_TYPES:
            raise RuntimeError(
                "Expected one of cpu, cuda, meta device type at start of device string: " + type)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        if s == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        key = (s, index)
        dev = _CACHE.get(key)
        if dev is None:
            dev = object.__new__(cls)
            dev.type, dev.index, dev._key = s, index, key
            # ``xp``: the array module holding this device's arrays (a plain attribute: every op reads it)
            dev.xp = np if s == "cpu" else (_cuda_module or _LazyCuda()) if s == "cuda" else _NoArrays(s)
            _CACHE[key] = dev
        return dev

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and self._key == other._key

    def __hash__(self):
        return hash(self._key)

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (Device, (self.type, self.index))

    def __enter__(self):
        """``with ember.device('cuda'):`` makes this the factories' default device inside the block."""
        _DEFAULT_STACK.append(_DEFAULT[0])
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        _DEFAULT[0] = _DEFAULT_STACK.pop()
        return False


class _LazyCuda:
    """Stands for CuPy until first use; resolves it (or raises the clear error) on access."""

    def __getattr__(self, name):
        return getattr(cuda_module(), name)


class _NoArrays:
    def __init__(self, type_):
        self._type = type_

    def __getattr__(self, name):
        raise RuntimeError(f"no array module for device type {self._type!r}")


def _set_cuda_module(mod):
    global _cuda_module
    _cuda_module = mod
    for (t, _), dev in _CACHE.items():
        if t == "cuda":
            dev.xp = mod if mod is not None else _LazyCuda()


_CACHE: dict = {}
CPU = Device("cpu")
_DEFAULT = [CPU]            # where factories put tensors when no ``device=`` is given
_DEFAULT_STACK = []


def get_default_device() -> Device:
    """``torch.get_default_device``: the device factories use when given none."""
    return _DEFAULT[0]


def set_default_device(device) -> None:
    """``torch.set_default_device``: make ``device`` (None: cpu) the factories' default."""
    _DEFAULT[0] = CPU if device is None else canonical(device)


def canonical(dev) -> Device:
    """Device with an explicit index for cuda (``cuda`` → ``cuda:0``), as tensors report it."""
    dev = Device(dev) if not isinstance(dev, Device) else dev
    if dev.type == "cuda" and dev.index is None:
        return Device("cuda", current_cuda_device())
    return dev


_current_cuda = 0


def current_cuda_device() -> int:
    return _current_cuda


def set_current_cuda_device(i: int) -> None:
    global _current_cuda
    _current_cuda = i


def cuda_module():
    """CuPy (or the test stand-in); a clear error when no GPU backend is installed."""
    global _cuda_module
    if _cuda_module is None:
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no CUDA GPUs are available")
        except ImportError:
            raise AssertionError(
                "Torch not compiled with CUDA enabled: ember's cuda device needs CuPy "
                "(pip install 'ember[cuda]') and a GPU") from None
        except Exception as e:  # CuPy present but no usable driver/GPU
            raise RuntimeError(f"CUDA is not available: {e}") from None
        _set_cuda_module(cupy)
    return _cuda_module


def cuda_available() -> bool:
    try:
        cuda_module()
        return True
    except (AssertionError, RuntimeError):
        return False


def cuda_device_count() -> int:
    if _cuda_standin:
        return 1
    if not cuda_available():
        return 0
    return int(_cuda_module.cuda.runtime.getDeviceCount())


def use_standin_cuda(enable: bool = True) -> None:
    """Back ``cuda`` with NumPy, so device plumbing can be tested without a GPU."""
    global _cuda_standin
    _cuda_standin = enable
    _set_cuda_module(np if enable else None)


def to_device_array(arr, src: Device, dst: Device):
    """Move an array between devices' array modules (a copy when they differ)."""
    if src.type == dst.type and (src.type == "cpu" or _cuda_standin):
        return arr if src == dst else arr.copy()
    if dst.type == "cpu":
        return arr.get() if hasattr(arr, "get") else np.asarray(arr)
    xp = dst.xp
    if dst.type == "cuda" and not _cuda_standin:
        with xp.cuda.Device(dst.index or 0):
            return xp.asarray(arr)
    return xp.array(arr, copy=True)
