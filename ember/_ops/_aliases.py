"""torch's keyword aliases on ``ember.<f>`` and ``Tensor.<f>``: NumPy's ``axis``/``keepdims`` for
``dim``/``keepdim`` (``x.sum(axis=0, keepdims=True)``), and a size/dims list given by the name of
its ``*args`` (``x.flip(dims=(0,))``, ``x.permute(dims=(1, 0))``)."""
from __future__ import annotations

import functools
import inspect


def _signature(fn):
    op = getattr(fn, "_op", None)       # a method bound from an op: the forward has the names
    try:
        return inspect.signature(op.forward if op is not None else fn)
    except (TypeError, ValueError):
        return None


def with_aliases(fn):
    """``fn`` accepting torch's aliases, or ``fn`` itself when it has nothing to alias."""
    sig = _signature(fn)
    if sig is None:
        return fn
    params = sig.parameters
    dim = "dim" in params
    keepdim = "keepdim" in params
    star = next((p.name for p in params.values() if p.kind is p.VAR_POSITIONAL), None)
    if not (dim or keepdim or star):
        return fn

    @functools.wraps(fn)
    def aliased(*args, **kw):
        if kw:
            if dim and "axis" in kw:
                kw["dim"] = kw.pop("axis")
            if keepdim and "keepdims" in kw:
                kw["keepdim"] = kw.pop("keepdims")
            if star in kw:
                args = (*args, kw.pop(star))
        return fn(*args, **kw)
    return aliased


def install(cls, namespace):
    """Give every public method of ``cls`` and function of ``namespace`` the aliases."""
    for name, f in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(f):
            setattr(cls, name, with_aliases(f))
    for name, f in list(namespace.items()):
        if callable(f) and not isinstance(f, type):
            namespace[name] = with_aliases(f)
