"""Anomaly detection: ``detect_anomaly`` / ``set_detect_anomaly`` make backward raise as soon as a
node's backward returns NaN, naming the node (``Function 'DivBackward0' returned nan values in its
0th output.``), instead of letting NaN spread silently into the parameters."""
from __future__ import annotations

import functools
import warnings

from .._grad_state import state


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on inside its block."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only "
                      "be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self._prev = (state.anomaly, state.anomaly_check_nan)
        state.anomaly, state.anomaly_check_nan = True, self.check_nan

    def __exit__(self, *exc):
        state.anomaly, state.anomaly_check_nan = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kw):
            with self:
                return fn(*args, **kw)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off: at once, or for a ``with`` block."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = (state.anomaly, state.anomaly_check_nan)
        state.anomaly, state.anomaly_check_nan = bool(mode), bool(check_nan)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        state.anomaly, state.anomaly_check_nan = self._prev
        return False


def is_anomaly_enabled() -> bool:
    return state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return state.anomaly_check_nan


def check_nan(node, grads) -> None:
    """Raise torch's error if one of ``node``'s backward outputs holds a NaN."""
    for i, g in enumerate(grads):
        if g is not None and g._data.dtype.kind in "fcV" and bool(g._device.xp.isnan(g._data).any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
