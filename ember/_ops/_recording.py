"""The seam a tracer records through, at no cost to ordinary execution.

Every op reaches its forward through one of the registry's entry points (``apply``,
``apply_unary``, ``apply_binary``), and every public function (``ember.relu``,
``nn.functional.linear``...) is reached through a module global or a Tensor attribute; all are
looked up at call time.  ``swap_globals`` replaces given functions by wrappers in every loaded
ember module (and in the ``torch`` alias modules of ``ember.compat``); swapping back restores the
originals.  Outside a recording nothing is wrapped, so the hot path pays nothing.
"""
from __future__ import annotations

import sys
import threading

from . import _registry

ENTRY_POINTS = ("apply", "apply_unary", "apply_binary")


def entry_points() -> dict:
    """The registry's op entry points by name (the originals)."""
    return {n: getattr(_registry, n) for n in ENTRY_POINTS}


def swap_globals(mapping: dict) -> None:
    """In every loaded ember module, replace each global ``g`` with ``id(g) in mapping`` by
    ``mapping[id(g)]`` (call again with the inverse mapping to undo)."""
    for name, mod in list(sys.modules.items()):
        if mod is None:
            continue
        namespace = getattr(mod, "__dict__", None)
        if namespace is None or not (name == "ember" or name.startswith("ember.")
                                     or "_ember_target" in namespace):
            continue
        for key, value in list(namespace.items()):
            new = mapping.get(id(value))        # the mapped originals are alive: ids are theirs
            if new is not None:
                namespace[key] = new


class Guard:
    """Tells top-level calls (to report) from calls made inside another reported call, on the
    recording thread only."""

    __slots__ = ("depth", "owner")

    def __init__(self):
        self.depth = 0
        self.owner = threading.get_ident()

    def top_level(self) -> bool:
        return self.depth == 0 and threading.get_ident() == self.owner


def entry_point_wrappers(guard: Guard, report) -> dict:
    """Recording versions of the entry points: ``report(op, inputs, args, kw, target, result)``
    after each top-level op application."""
    orig = entry_points()
    apply = orig["apply"]

    def run(fn, call, op, inputs, args, kw, target):
        if not guard.top_level():
            return fn(op, *call)
        guard.depth += 1
        try:
            result = fn(op, *call)
        finally:
            guard.depth -= 1
        report(op, inputs, args, kw or {}, target, result)
        return result

    def rec_apply(op, inputs, args=(), kw=None, target=None):
        return run(apply, (inputs, args, kw, target), op, inputs, args, kw, target)

    def rec_apply_unary(op, x, args, kw):
        return run(orig["apply_unary"], (x, args, kw), op, (x,), args, kw, None)

    def rec_apply_binary(op, x, y, kw=None):
        return run(orig["apply_binary"], (x, y, kw), op, (x, y), (), kw, None)

    return {"apply": rec_apply, "apply_unary": rec_apply_unary, "apply_binary": rec_apply_binary}
