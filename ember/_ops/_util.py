"""Small helpers shared by the op families: dim normalisation, factory arguments."""
from __future__ import annotations

from .. import _backend
from .._dtype import to_dtype
from .._tensor import Tensor, wrap_dim


def dims_of(dim, ndim):
    """``dim`` (None, int or sequence, negatives allowed) as a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        out = tuple(wrap_dim(d, ndim) for d in dim)
        if len(set(out)) != len(out):
            d = next(d for d in out if out.count(d) > 1)
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        return tuple(sorted(out)) if out else tuple(range(ndim))
    return (wrap_dim(dim, ndim),)


def factory_device(device):
    """The canonical device for a factory's ``device=`` (None → cpu)."""
    if device is None:
        return _backend.CPU
    return _backend.canonical(device)


def factory_dtype(dtype, default):
    return default if dtype is None else to_dtype(dtype)


def size_args(size):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(torch.Size(...))``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"size must be tuple of ints, but got element of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(s)
    return tuple(out)


def check_tensor(x, fname, argname="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be Tensor, "
                        f"not {type(x).__name__}")
    return x
