"""``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``: context managers and decorators."""
from __future__ import annotations

import functools

from .._grad_state import state


class _Mode:
    """Sets the grad mode on entry and restores it on exit; usable as a decorator."""

    _value = True

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        self._set()
        return None

    def _set(self):
        state.enabled = self._value

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev
        return False

    def __call__(self, fn):
        mode = type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kw):
            with self.clone():
                return fn(*args, **kw)
        return wrapper

    def clone(self):
        return type(self)()


class _BareDecoratable(_Mode):
    """A mode that also decorates without parentheses (``@ember.no_grad``)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecoratable):
    """Disable gradient recording inside the block (``with ember.no_grad():``)."""
    _value = False


class enable_grad(_BareDecoratable):
    """Enable gradient recording inside the block, e.g. within ``no_grad``."""
    _value = True


class set_grad_enabled(_Mode):
    """Set grad mode to ``mode``; takes effect at once, also when not used as a context manager."""

    def __init__(self, mode: bool):
        self._prev = (state.enabled, state.inference)
        self._value = bool(mode)
        state.enabled = self._value

    def __enter__(self):
        return None

    def clone(self):
        return set_grad_enabled(self._value)


class inference_mode(_Mode):
    """Like ``no_grad``; tensors made inside are inference tensors in torch (here: plain, no history)."""

    def __new__(cls, mode=True):
        if callable(mode):      # bare ``@ember.inference_mode``
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self._value = not mode
        self._mode = bool(mode)

    def _set(self):
        state.enabled = self._value
        state.inference = self._mode

    def clone(self):
        return inference_mode(self._mode)


def is_inference_mode_enabled() -> bool:
    return state.inference
