"""Random number generators: ``Generator`` and the default one that ``manual_seed`` seeds.

A Generator wraps a NumPy ``Generator(PCG64)`` of its own (never NumPy's global state), so the
same seed gives the same numbers run after run.  The streams are not PyTorch's Mersenne-Twister
streams: same seed, different numbers than torch.  Devices other than cpu draw a seed from
their generator per call and sample with that device's array module.
"""
from __future__ import annotations

import numpy as np

from . import _backend
from ._tensor import make

_DEFAULT_SEED = 67280421310721          # torch's default initial seed
_STATE_BYTES = 16 + 16 + 1 + 4 + 8     # PCG64 state, increment, has_uint32, uinteger, seed


class Generator:
    """``torch.Generator``: a seedable source of random numbers for one device."""

    def __init__(self, device="cpu"):
        self.device = _backend.canonical(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed) -> "Generator":
        seed = int(seed)
        if not -0x8000_0000_0000_0000 <= seed <= 0xffff_ffff_ffff_ffff:
            raise RuntimeError("Overflow when unpacking long long")
        self._seed = seed & 0xffff_ffff_ffff_ffff
        self._np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Re-seed from OS entropy; returns the new seed."""
        s = int(np.random.SeedSequence().entropy) & 0xffff_ffff_ffff_ffff
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 tensor (for ``set_state``)."""
        st = self._np.bit_generator.state
        raw = (st["state"]["state"].to_bytes(16, "little") + st["state"]["inc"].to_bytes(16, "little")
               + bytes([st["has_uint32"]]) + int(st["uinteger"]).to_bytes(4, "little")
               + self._seed.to_bytes(8, "little"))
        return make(np.frombuffer(raw, dtype=np.uint8).copy(), _backend.CPU)

    def set_state(self, new_state) -> "Generator":
        arr = np.asarray(new_state._data if hasattr(new_state, "_data") else new_state)
        if arr.dtype != np.uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got {getattr(new_state, 'dtype', arr.dtype)}")
        if arr.size != _STATE_BYTES:
            raise RuntimeError(f"Expected either a PhiloxState of size 16 or a MT19937State of size "
                               f"5056 but found the input RNG state size to be {arr.size}")
        raw = arr.tobytes()
        bg = np.random.PCG64()
        bg.state = {"bit_generator": "PCG64",
                    "state": {"state": int.from_bytes(raw[:16], "little"),
                              "inc": int.from_bytes(raw[16:32], "little")},
                    "has_uint32": raw[32], "uinteger": int.from_bytes(raw[33:37], "little")}
        self._np = np.random.Generator(bg)
        self._seed = int.from_bytes(raw[37:45], "little")
        return self

    def rng_for(self, dev):
        """A sampler for ``dev``: this generator's own on cpu, else one seeded from it."""
        if dev.type == "cpu":
            return self._np
        return dev.xp.random.default_rng(int(self._np.integers(0, 2 ** 63)))

    def __repr__(self):
        return f"<torch._C.Generator object at {hex(id(self))}>"


default_generator = Generator()
_device_generators: dict = {}


def generator_for(generator, device):
    """The generator a random op uses: the given one, else the device's default."""
    if generator is not None:
        return generator
    if device.type == "cpu":
        return default_generator
    g = _device_generators.get(device)
    if g is None:
        g = _device_generators[device] = Generator(device)
        g.manual_seed(_device_seeds.get(device, _device_seeds.get(device.type, default_generator.initial_seed())))
    return g


_device_seeds: dict = {}     # seeds given before a device's generator exists (by Device or type)


def seed_devices(seed, device_type, device=None) -> None:
    """Seed one device's generator (``device``) or all of ``device_type``'s, now or when first used."""
    key = device if device is not None else device_type
    _device_seeds[key] = int(seed)
    for d, g in _device_generators.items():
        if d.type == device_type and (device is None or d == device):
            g.manual_seed(seed)


def manual_seed(seed) -> Generator:
    """Seed the default generator (and every device's): same seed, same numbers."""
    default_generator.manual_seed(seed)
    _device_seeds.clear()
    for g in _device_generators.values():
        g.manual_seed(seed)
    return default_generator


def seed() -> int:
    """Seed the default generators non-deterministically; returns the seed."""
    s = default_generator.seed()
    for g in _device_generators.values():
        g.manual_seed(s)
    return s


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)
