"""``skip_init``: build a module without running its parameter initialisation."""
from __future__ import annotations

import contextlib
import inspect

from .. import init
from ..modules.module import Module

__all__ = ["skip_init"]


@contextlib.contextmanager
def _initialisers_skipped():
    """Within the block, ``nn.init``'s in-place initialisers leave their tensor as it is (and draw nothing)."""
    names = [n for n in dir(init) if n.endswith("_") and not n.startswith("_") and callable(getattr(init, n))]
    saved = {n: getattr(init, n) for n in names}
    try:
        for n in names:
            setattr(init, n, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for n, fn in saved.items():
            setattr(init, n, fn)


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with parameters and buffers of the right shapes but unspecified values.

    As torch, ``module_cls`` must take a ``device`` argument; ``nn.init`` draws no random numbers meanwhile.
    """
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    with _initialisers_skipped():
        return module_cls(*args, **kwargs)
