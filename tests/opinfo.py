"""OpInfo-style table machinery: the same call through ember and torch, compared.

Each op family lists ``OpInfo`` entries in ``tests/opinfos/<family>.py`` (``OPINFOS = [...]``);
``tests/test_ops.py`` drives every entry through:
  * values, shape and dtype against torch (when importable),
  * input gradients against torch (``out`` reduced with a fixed random cotangent),
  * ``gradcheck`` in float64 on ember alone,
  * the NumPy-backed stand-in ``cuda`` device (same values as cpu),
  * an optional float64 NumPy reference ``ref``.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np


@dataclasses.dataclass
class Sample:
    """Arrays become tensors (requires_grad for float ones if the op is differentiable)."""
    arrays: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    grad: bool = True            # this sample is differentiable
    desc: str = ""


@dataclasses.dataclass
class OpInfo:
    name: str
    fn: Callable                 # fn(lib, *tensors, **kwargs) -> tensor or tuple
    samples: Callable            # samples(rng) -> list[Sample]
    grad: bool = True
    gradcheck: bool = True
    ref: Callable | None = None  # ref(*float64 arrays, **kwargs) -> ndarray
    atol: float = 1e-5
    rtol: float = 1.3e-6
    grad_atol: float = 1e-4
    grad_rtol: float = 1e-4
    check_dtype: bool = True
    standin: bool = True         # run on the stand-in cuda too

    def cases(self, rng):
        return [(self, s) for s in self.samples(rng)]


def r(rng, *shape, dtype=np.float32, low=-2.0, high=2.0):
    """Random array helper for samples."""
    if np.dtype(dtype).kind == "b":
        return rng.random(shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def to_lib(lib, arrays, grad):
    out = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            t = lib.tensor(a.copy())
            if grad and a.dtype.kind == "f":
                t.requires_grad_(True)
            out.append(t)
        else:
            out.append(a)
    return out


def outputs(o):
    if isinstance(o, (tuple, list)):
        return [x for x in o if hasattr(x, "shape") and not isinstance(x, (int, float))]
    return [o]
