"""``torch.testing``: ``assert_close`` (tolerance-aware comparison with torch's messages) and ``make_tensor``.

``assert_close`` walks nested sequences and mappings, pairs up their leaves (None, bools, Python/NumPy
numbers, tensors or array-likes), checks every pair's structure first and then its values, and raises
the first failure with torch's message text.
"""
from __future__ import annotations

import cmath
import collections.abc
import functools
import math
import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._dtype import (bfloat16, bool_, complex64, complex128, float16, float32, float64, int64, promote_types,
                     to_dtype)
from ._tensor import Tensor
from ._ops.conversion import finfo, iinfo
from ._ops.creation import as_tensor, empty, tensor
from ._ops.random import randint

__all__ = ["assert_close", "make_tensor", "assert_allclose"]

# {dtype: (rtol, atol)}; dtypes not listed (integers, bool) compare exactly
_TOLERANCES = {float16: (1e-3, 1e-5), bfloat16: (1.6e-2, 1e-5), float32: (1.3e-6, 1e-5),
               float64: (1e-7, 1e-7), complex64: (1.3e-6, 1e-5), complex128: (1e-7, 1e-7)}
_NUMBER_DTYPE = {int: int64, float: float64, complex: complex128}


class _Failure(Exception):
    """A failed check: the exception type to raise, its message, and where in the inputs it happened."""

    def __init__(self, kind: type, msg: str, where: tuple = ()):
        super().__init__(msg)
        self.kind, self.msg, self.where = kind, msg, where

    def error(self, msg=None) -> Exception:
        if isinstance(msg, str):
            return self.kind(msg)
        text = self.msg
        if self.where:
            text += "\n\nThe failure occurred for item " + "".join(str([k]) for k in self.where)
        return self.kind(msg(text) if callable(msg) else text)


def _tolerances(dtypes, rtol, atol, where):
    if (rtol is None) != (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                                   f"but got no {'rtol' if rtol is None else 'atol'}.", where)
    if rtol is not None:
        return rtol, atol
    pairs = [_TOLERANCES.get(d, (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _mismatch_msg(what, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    exact = rtol == 0 and atol == 0
    lines = [f"{what} are not {'equal' if exact else 'close'}!", ""]
    if extra:
        lines.append(extra)
    for kind, diff, idx, tol in (("absolute", abs_diff, abs_idx, atol), ("relative", rel_diff, rel_idx, rtol)):
        line = (f"{kind.title()} difference: {diff}" if idx is None
                else f"Greatest {kind} difference: {diff} at index {idx}")
        lines.append(line if exact else f"{line} (up to {tol} allowed)")
    return "\n".join(lines)


def _scalar_msg(actual, expected, rtol, atol):
    diff = abs(actual - expected)
    rel = math.inf if expected == 0 else diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", diff, None, atol, rel, None, rtol)


# ---- leaf pairs: each checks its own structure when built, its values in compare() ----

class _NonePair:
    def __init__(self, actual, expected, where, **_):
        self.actual, self.expected, self.where = actual, expected, where

    def compare(self):
        if not (self.actual is None and self.expected is None):
            raise _Failure(AssertionError, f"None mismatch: {self.actual} is not {self.expected}", self.where)


class _BoolPair(_NonePair):
    def __init__(self, actual, expected, where, **_):
        super().__init__(bool(actual), bool(expected), where)

    def compare(self):
        if self.actual is not self.expected:
            raise _Failure(AssertionError, f"Booleans mismatch: {self.actual} is not {self.expected}", self.where)


class _NumberPair:
    def __init__(self, actual, expected, where, *, rtol, atol, equal_nan, check_dtype, **_):
        self.actual, self.expected = (v.item() if isinstance(v, np.number) else v for v in (actual, expected))
        self.where, self.equal_nan, self.check_dtype = where, equal_nan, check_dtype
        self.rtol, self.atol = _tolerances([_NUMBER_DTYPE[type(v)] for v in (self.actual, self.expected)],
                                           rtol, atol, where)

    def compare(self):
        a, e = self.actual, self.expected
        if self.check_dtype and type(a) is not type(e):
            raise _Failure(AssertionError, f"The (d)types do not match: {type(a)} != {type(e)}.", self.where)
        if a == e or (self.equal_nan and cmath.isnan(a) and cmath.isnan(e)):
            return
        diff = abs(a - e)
        if cmath.isfinite(diff) and diff <= self.atol + self.rtol * abs(e):
            return
        raise _Failure(AssertionError, _scalar_msg(a, e, self.rtol, self.atol), self.where)


class _TensorPair:
    def __init__(self, actual, expected, where, *, rtol, atol, equal_nan, check_device, check_dtype,
                 check_layout, check_stride, allow_subclasses=True, **_):
        actual, expected = (v if isinstance(v, Tensor) else as_tensor(v) for v in (actual, expected))
        self.actual, self.expected = actual, expected
        self.where, self.equal_nan = where, equal_nan
        self.checks = (check_device, check_dtype, check_stride)    # ember has one layout: strided
        self.rtol, self.atol = _tolerances((actual.dtype, expected.dtype), rtol, atol, where)

    def _attribute(self, name, a, e):
        raise _Failure(AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.", self.where)

    def compare(self):
        a, e = self.actual, self.expected
        check_device, check_dtype, check_stride = self.checks
        if a.shape != e.shape:
            self._attribute("shape", a.shape, e.shape)
        if check_stride and a.stride() != e.stride():
            self._attribute("stride()", a.stride(), e.stride())
        if check_device and a.device != e.device:
            self._attribute("device", a.device, e.device)
        if check_dtype and a.dtype != e.dtype:
            self._attribute("dtype", a.dtype, e.dtype)
        dtype = a.dtype if a.dtype == e.dtype else promote_types(a.dtype, e.dtype)
        x, y = (t.detach().numpy(force=True).astype(dtype.np, copy=False) for t in (a, e))
        self._compare_values(x, y, dtype)

    def _compare_values(self, x, y, dtype):
        rtol, atol = self.rtol, self.atol
        with np.errstate(all="ignore"):
            close = _isclose(x, y, rtol, atol, self.equal_nan)
        if close.all():
            return
        if x.ndim == 0:
            msg = _scalar_msg(x.item(), y.item(), rtol, atol)
        else:
            msg = _tensor_msg(x, y, close, dtype, rtol, atol)
        raise _Failure(AssertionError, msg, self.where)


def _isclose(x, y, rtol, atol, equal_nan):
    """torch.isclose on arrays of one dtype: equal, or finite and within ``atol + rtol * |y|``."""
    if x.dtype.kind in "biu" or (rtol == 0 and atol == 0):
        close = x == y
    else:
        close = (x == y) | (np.isfinite(x) & np.isfinite(y) & (np.abs(x - y) <= atol + rtol * np.abs(y)))
    if equal_nan and x.dtype.kind in "fcV":
        close |= np.isnan(x) & np.isnan(y)
    return close


def _tensor_msg(x, y, close, dtype, rtol, atol):
    shape, total, bad = close.shape, close.size, int(close.size - close.sum())
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    x, y, close = x.ravel(), y.ravel(), close.ravel()
    if not (dtype.is_floating_point or dtype.is_complex):
        x, y = x.astype(np.int64), y.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(x - y)
        abs_diff[close] = 0
        # integer differences divide in float32, as torch's true division of integer tensors does
        rel_diff = ((abs_diff / np.abs(y)).astype(abs_diff.dtype) if abs_diff.dtype.kind in "fV"
                    else abs_diff.astype(np.float32) / np.abs(y).astype(np.float32))
        rel_diff[close] = 0
    ia, ir = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))
    return _mismatch_msg("Tensor-likes", extra, abs_diff[ia].item(), _unravel(ia, shape), atol,
                         rel_diff[ir].item(), _unravel(ir, shape), rtol)


def _unravel(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, str)


def _leaf_pair(actual, expected, where, options):
    """The pair type that handles these two leaves (torch's order: None, bool, number, tensor-like)."""
    if actual is None or expected is None:
        return _NonePair(actual, expected, where)
    bools = (bool, np.bool_)
    if isinstance(actual, bools) and isinstance(expected, bools):
        return _BoolPair(actual, expected, where)
    numbers = (int, float, complex, np.number)
    if isinstance(actual, numbers) and isinstance(expected, numbers) \
            and not isinstance(actual, bool) and not isinstance(expected, bool):
        return _NumberPair(actual, expected, where, **options)
    related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    if related and (options["allow_subclasses"] or type(actual) is type(expected)) \
            and (isinstance(actual, Tensor) or _array_like(actual)):
        return _TensorPair(actual, expected, where, **options)
    raise _Failure(TypeError, "No comparison pair was able to handle inputs of type "
                              f"{type(actual)} and {type(expected)}.", where)


def _array_like(x):
    try:
        as_tensor(x)
    except Exception:
        return False
    return True


def _pairs(actual, expected, where, options):
    """Leaf pairs of two (nested) inputs; raises _Failure when their structure differs."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Failure(AssertionError,
                           f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", where)
        return [p for i in range(len(actual)) for p in _pairs(actual[i], expected[i], (*where, i), options)]
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        ka, ke = set(actual.keys()), set(expected.keys())
        if ka != ke:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {sorted(ke - ka)}\n"
                                           f"Additional keys in the actual mapping: {sorted(ka - ke)}", where)
        try:
            keys = sorted(ka)
        except TypeError:
            keys = list(ka)
        return [p for k in keys for p in _pairs(actual[k], expected[k], (*where, k), options)]
    return [_leaf_pair(actual, expected, where, options)]


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close (``|a - e| <= atol + rtol * |e|``).

    Omitted tolerances default per dtype (float32: ``rtol=1.3e-6, atol=1e-5``; integers and bool: exact).
    Tensors must also agree in shape, and (unless disabled) device, dtype and stride; sequences and
    mappings are compared element by element.
    """
    __tracebackhide__ = True
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
                   check_stride=check_stride)
    try:
        pairs = _pairs(actual, expected, (), options)
    except _Failure as f:
        raise f.error() from None
    for pair in pairs:
        try:
            pair.compare()
        except _Failure as f:
            raise f.error(msg) from None


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated since torch 1.12 (warns ``FutureWarning``): ``assert_close`` with looser defaults, any dtypes."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        loose = {float16: (1e-3, 1e-3), float32: (1e-4, 1e-5), float64: (1e-5, 1e-8)}
        tols = [loose.get(t.dtype, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(t[0] for t in tols), max(t[1] for t in tols)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


def _low_high(low, high, lowest, highest_excl, default_low, default_high, dtype, integral):
    """make_tensor's sampling interval: defaults filled in, validated, clamped to what ``dtype`` holds."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low!r} and high={high!r}")
    if low >= high and not (low == high and not integral):
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if high < lowest or low >= highest_excl:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest}, {highest_excl})")
    low, high = min(max(low, lowest), highest_excl), min(max(high, lowest), highest_excl)
    return (math.ceil(low), math.ceil(high)) if integral else (low, high)


def make_tensor(*shape, dtype, device, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:
    """A random tensor for tests: floats uniform in ``[low, high)`` (default ``[-9, 9)``), integers in
    ``[-9, 10)``, bools either; ``noncontiguous`` gives a strided view, ``exclude_zero`` replaces zeros."""
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    dtype = to_dtype(dtype)
    integral = not (dtype.is_floating_point or dtype.is_complex)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous!r} and memory_format={memory_format!r}")
    if requires_grad and integral:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype={dtype!r}")
    noncontiguous = noncontiguous and functools.reduce(operator.mul, shape, 1) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is bool_:
        low, high = _low_high(low, high, 0, 2, 0, 2, dtype, True)
        result = randint(low, high, shape, device=device, dtype=dtype)
    elif integral:
        info = iinfo(dtype)
        low, high = _low_high(low, high, info.min, info.max + (dtype is not int64), -9, 10, dtype, True)
        result = randint(low, high, shape, device=device, dtype=dtype)
    else:
        info = finfo(dtype)
        low, high = _low_high(low, high, info.min, info.max, -9, 9, dtype, False)
        result = empty(shape, device=device, dtype=dtype)
        if dtype.is_complex:
            real = empty(shape, device=device, dtype=dtype.to_real()).uniform_(low, high)
            imag = empty(shape, device=device, dtype=dtype.to_real()).uniform_(low, high)
            result = real + 1j * imag
        else:
            result.uniform_(low, high)
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if integral else finfo(dtype).tiny
    if not integral:
        result.requires_grad_(requires_grad)
    return result
