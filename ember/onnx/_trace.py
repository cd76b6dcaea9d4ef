"""Record the ops a model runs, for export only.

Every op reaches its forward through one of the registry's three entry points (``apply``,
``apply_unary``, ``apply_binary``), looked up as module globals at call time.  ``recording``
swaps those globals, in every ember module that holds them, for wrappers that report each
top-level op application, and puts the originals back on exit: ordinary execution runs the
unwrapped functions and pays nothing for export.
"""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager

from .._ops import _registry

ENTRY_POINTS = ("apply", "apply_unary", "apply_binary")


def _wrappers(report, originals):
    """Recording versions of the entry points; ops applied inside another op are not reported."""
    apply, apply_unary, apply_binary = (originals[n] for n in ENTRY_POINTS)
    depth = [0]
    owner = threading.get_ident()

    def run(fn, call_args, op, inputs, args, kw):
        if threading.get_ident() != owner:      # another thread's ops are not the model's
            return fn(op, *call_args)
        depth[0] += 1
        try:
            result = fn(op, *call_args)
        finally:
            depth[0] -= 1
        if depth[0] == 0:
            report(op, inputs, args, kw or {}, result)
        return result

    def rec_apply(op, inputs, args=(), kw=None, target=None):
        return run(apply, (inputs, args, kw, target), op, inputs, args, kw)

    def rec_apply_unary(op, x, args, kw):
        return run(apply_unary, (x, args, kw), op, (x,), args, kw)

    def rec_apply_binary(op, x, y, kw=None):
        return run(apply_binary, (x, y, kw), op, (x, y), (), kw)

    return {"apply": rec_apply, "apply_unary": rec_apply_unary, "apply_binary": rec_apply_binary}


@contextmanager
def recording(report):
    """Inside: ``report(op, inputs, args, kw, result)`` after each top-level op application (an
    in-place op's result is its target)."""
    originals = {n: getattr(_registry, n) for n in ENTRY_POINTS}
    wrappers = _wrappers(report, originals)
    _swap(originals, wrappers)
    try:
        yield
    finally:
        # a module first imported inside the block took the wrappers: it is swapped back too
        _swap(wrappers, originals)


def _swap(old, new):
    """In every loaded ember module, replace each entry point found as ``old[name]`` by ``new[name]``."""
    for name, mod in list(sys.modules.items()):
        if mod is not None and (name == "ember" or name.startswith("ember.")):
            namespace = vars(mod)
            for entry, fn in old.items():
                if namespace.get(entry) is fn:
                    namespace[entry] = new[entry]
