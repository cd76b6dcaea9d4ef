"""Process-wide switches and small helpers of the ``torch`` namespace: math constants, deterministic
mode, float32 matmul precision, warn-always, ``typename``, ``is_storage``.

ember's kernels are NumPy's: deterministic, full-precision float32, whatever these say; the switches
are recorded so that scripts setting and reading them behave as under torch.
"""
from __future__ import annotations

import math

from ._tensor import WARN_ALWAYS as _warn_always
from ._tensor import Tensor
from ._ops.conversion import UntypedStorage

pi, e, inf, nan = math.pi, math.e, math.inf, math.nan
newaxis = None

_deterministic = {"enabled": False, "warn_only": False}
_matmul_precision = ["highest"]
_PRECISIONS = ("highest", "high", "medium")


def _check_bool(fn, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{fn}(): argument '{name}' (position 1) must be bool, not {type(value).__name__}")


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms only (ember's always are; the setting is recorded)."""
    _check_bool("_set_deterministic_algorithms", "mode", mode)
    _deterministic["enabled"], _deterministic["warn_only"] = mode, mode and bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["enabled"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic["warn_only"]


def set_float32_matmul_precision(precision: str) -> None:
    """``"highest"``, ``"high"`` or ``"medium"``; anything else warns and changes nothing, as in torch."""
    if precision not in _PRECISIONS:
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision[0]


def set_warn_always(b: bool) -> None:
    """Make warnings torch issues once per process issue every time (recorded; see is_warn_always_enabled)."""
    _check_bool("set_warn_always", "b", b)
    _warn_always[0] = b


def is_warn_always_enabled() -> bool:
    return _warn_always[0]


def typename(obj) -> str:
    """``'torch.FloatTensor'`` for tensors; else the qualified name of a class or function, or of an
    object's type (ember's own modules spelled ``torch.``, as ember prints them)."""
    if isinstance(obj, Tensor):
        return obj.type()
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    module = getattr(obj, "__module__", "") or ""
    if name is None:
        name, module = type(obj).__qualname__, type(obj).__module__ or ""
    if module == "ember" or module.startswith("ember."):
        module = "torch" + module[len("ember"):]
    return name if module in ("", "builtins") else f"{module}.{name}"


def is_storage(obj) -> bool:
    return isinstance(obj, UntypedStorage)


PUBLIC = {name: globals()[name] for name in (
    "pi", "e", "inf", "nan", "newaxis", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
    "get_float32_matmul_precision", "set_warn_always", "is_warn_always_enabled", "typename", "is_storage")}
