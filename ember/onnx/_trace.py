"""Record the ops a model runs, for export only.

Every op reaches its forward through one of the registry's entry points; ``recording`` swaps them
for reporting wrappers through ``ember._ops._recording`` (the seam ``ember.jit`` records through
too) and puts the originals back on exit: ordinary execution pays nothing for export.
"""
from __future__ import annotations

from contextlib import contextmanager

from .._ops._recording import (  # noqa: F401
    ENTRY_POINTS,
    Guard,
    entry_point_wrappers,
    entry_points,
    swap_globals,
)


@contextmanager
def recording(report):
    """Inside: ``report(op, inputs, args, kw, result)`` after each top-level op application (an
    in-place op's result is its target)."""
    originals = entry_points()
    wrappers = entry_point_wrappers(
        Guard(), lambda op, inputs, args, kw, target, result: report(op, inputs, args, kw, result))
    swap_globals({id(originals[n]): wrappers[n] for n in originals})
    try:
        yield
    finally:
        # a module first imported inside the block took the wrappers: it is swapped back too
        swap_globals({id(wrappers[n]): originals[n] for n in originals})
