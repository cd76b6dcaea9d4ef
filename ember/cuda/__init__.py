"""``ember.cuda``: GPU tensors through CuPy, when CuPy and a GPU are present."""
from __future__ import annotations

from .. import _backend


def is_available() -> bool:
    return _backend.cuda_available()


def device_count() -> int:
    return _backend.cuda_device_count()


def current_device() -> int:
    return _backend.current_cuda_device()


def set_device(device) -> None:
    d = _backend.Device(device) if not isinstance(device, int) else _backend.Device("cuda", device)
    _backend.set_current_cuda_device(d.index or 0)


def is_initialized() -> bool:
    return _backend._cuda_module is not None


def synchronize(device=None) -> None:
    xp = _backend.cuda_module()
    if hasattr(xp, "cuda"):
        xp.cuda.Stream.null.synchronize()
