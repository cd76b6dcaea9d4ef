"""``ember.cuda``: GPU tensors through CuPy, when CuPy and a GPU are present."""
from __future__ import annotations

from .. import _backend, _random
from .._ops.creation import legacy_tensor_types

# ``torch.cuda.FloatTensor`` & co: legacy constructors of CUDA tensors (a TypeError without CUDA, as torch)
globals().update(legacy_tensor_types("cuda"))


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


def _current():
    return _backend.Device("cuda", current_device() if is_available() else 0)


def manual_seed(seed) -> None:
    """Seed the current GPU's generator (kept for later if CUDA is not initialised)."""
    _random.seed_devices(seed, "cuda", _current())


def manual_seed_all(seed) -> None:
    """Seed every GPU's generator."""
    _random.seed_devices(seed, "cuda")


def seed() -> None:
    """Seed the current GPU's generator from OS entropy."""
    manual_seed(_random.Generator().seed())


def seed_all() -> None:
    manual_seed_all(_random.Generator().seed())


def initial_seed() -> int:
    return _random.generator_for(None, _current()).initial_seed()


def get_rng_state(device="cuda"):
    return _random.generator_for(None, _backend.canonical(device)).get_state()


def set_rng_state(new_state, device="cuda") -> None:
    _random.generator_for(None, _backend.canonical(device)).set_state(new_state)
