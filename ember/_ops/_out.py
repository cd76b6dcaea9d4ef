"""torch's ``out=`` argument on ``ember.<f>``: the result is written into a given tensor.

An op (``Op.__call__``) hands an ``out=`` call to ``call_with_out``; the Python-level functions
torch gives ``out=`` are wrapped by ``install``.  Either way the result is computed as usual,
then copied into ``out`` (resized when its shape differs, as torch does, with its warning).
"""
from __future__ import annotations

import functools
import warnings

from .._dtype import _FROM_NP, can_cast
from .._grad_state import state as _grad_state
from .._tensor import Tensor

# public functions (not ops) that take ``out=`` in torch
OUT_FUNCTIONS = frozenset((
    "addbmm", "addcdiv", "addcmul", "addmm", "addmv", "addr", "all", "amax", "amin", "aminmax", "any",
    "argmax", "argmin", "baddbmm", "bmm", "bucketize", "clamp", "clip", "cross", "cummax", "cummin",
    "cumprod", "cumsum", "diff", "div", "divide", "dot", "float_power", "gather", "index_select",
    "inner", "kron", "kthvalue", "ldexp", "lerp", "logaddexp2", "logcumsumexp", "logsumexp",
    "masked_select", "matmul", "matrix_power", "max", "mean", "median", "min", "mm", "mode", "msort",
    "mv", "nanmean", "nanquantile", "nansum", "nonzero", "norm", "outer", "polygamma", "prod",
    "quantile", "searchsorted", "sort", "std", "sum", "take", "take_along_dim", "topk", "var", "vdot",
    "where",
))


def call_with_out(fn, name, args, kw):
    """``fn(*args, **kw)`` written into ``kw['out']``."""
    out = kw.pop("out")
    result = fn(*args, **kw)
    return result if out is None else write_out(name, out, result)


def write_out(name, out, result):
    """Copy ``result`` (a Tensor or a tuple of them) into ``out``; returns ``out``."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors, not "
                            f"{type(out).__name__}")
        for o, r in zip(out, result):
            _write_one(name, o, r)
        return type(result)(tuple(out)) if hasattr(result, "_fields") else tuple(out)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    _write_one(name, out, result)
    return out


def _write_one(name, out, r):
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
    if _grad_state.enabled and (r._requires_grad or out._requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if out._device != r._device:
        raise RuntimeError(f"Expected out tensor to have device {r._device}, but got {out._device} instead")
    rdt, odt = _FROM_NP[r._data.dtype], _FROM_NP[out._data.dtype]
    if not can_cast(rdt, odt):
        from ._registry import _SHORT
        raise RuntimeError(f"result type {_SHORT[rdt.name]} can't be cast to the desired output type "
                           f"{_SHORT[odt.name]}")
    if out._data.shape == r._data.shape:
        out._device.xp.copyto(out._data, r._data, casting="unsafe")
    else:
        if out._data.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"[{', '.join(map(str, out._data.shape))}], which does not match the required output "
                f"shape [{', '.join(map(str, r._data.shape))}]. This behavior is deprecated, and in a "
                "future PyTorch release outputs will not be resized unless they have zero elements. You "
                "can explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0).", UserWarning, stacklevel=4)
        out._data = r._data.astype(out._data.dtype, copy=True)
    out._version[0] += 1


def with_out(fn, name):
    """``fn`` also accepting ``out=``."""
    @functools.wraps(fn)
    def f(*args, **kw):
        if kw and "out" in kw:
            return call_with_out(fn, name, args, kw)
        return fn(*args, **kw)
    return f


def install(namespace):
    """Give the functions in ``OUT_FUNCTIONS`` (ops handle ``out=`` themselves) the argument."""
    from ._registry import Op
    for name in OUT_FUNCTIONS:
        f = namespace.get(name)
        if f is not None and not isinstance(f, Op):
            namespace[name] = with_out(f, name)
