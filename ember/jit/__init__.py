"""``torch.jit`` for ember: tracing into replayable, saveable graphs; ``script`` runs Python eagerly.

``trace`` runs a function or Module once and records the calls it makes (see ``_tracer``); the result
replays them on new inputs, with autograd, and ``save``/``load`` write and read them as ember's own
archive (data only: call names, constants and tensors).  ember has no TorchScript compiler:
``script`` keeps the TorchScript API (``ScriptModule``/``ScriptFunction``, the decorators) around
ordinary eager Python, and a TorchScript archive from ``torch.jit.save`` cannot be loaded.
"""
from __future__ import annotations

import copy
import typing
from collections.abc import Callable
from typing import Any

from ..nn.modules.module import Module
from ._module import (
    RecursiveScriptModule,
    ScriptFunction,
    ScriptModule,
    TopLevelTracedModule,
    TracedModule,
)
from ._serialization import load, save
from ._trace import TracingCheckError, trace, trace_module
from ._tracer import TracerWarning, is_tracing

__all__ = [
    "Attribute",
    "CompilationUnit",
    "Final",
    "Future",
    "RecursiveScriptModule",
    "ScriptFunction",
    "ScriptModule",
    "TopLevelTracedModule",
    "TracedModule",
    "TracerWarning",
    "TracingCheckError",
    "annotate",
    "enable_onednn_fusion",
    "export",
    "fork",
    "freeze",
    "ignore",
    "interface",
    "is_scripting",
    "is_tracing",
    "load",
    "onednn_fusion_enabled",
    "optimize_for_inference",
    "optimized_execution",
    "save",
    "script",
    "script_if_tracing",
    "script_method",
    "set_fusion_strategy",
    "trace",
    "trace_module",
    "unused",
    "wait",
]

Final = typing.Final


def is_scripting() -> bool:
    """Always False: ember never compiles TorchScript, so code always runs as Python."""
    return False


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """``torch.jit.script`` without a compiler: the Python runs eagerly, inside TorchScript's types.

    A function becomes a ``ScriptFunction`` calling it; a Module becomes a ``RecursiveScriptModule``
    sharing its parameters, buffers and submodules and running its Python ``forward``; a class is
    returned as it is.  Its ``.code`` is the Python source; it has no ``.graph``, and saving it keeps
    only its weights (use ``trace`` for a graph that saves and loads).
    """
    if isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj
    if isinstance(obj, Module):
        return _eager_script_module(obj)
    if isinstance(obj, type):
        return obj
    if callable(obj):
        return ScriptFunction(getattr(obj, "__name__", type(obj).__name__), fn=obj)
    raise TypeError(f"ember.jit.script expects a function, Module or class, got {type(obj).__name__}")


_SCRIPTED_CLASSES: dict = {}


def _eager_script_module(mod: Module) -> Module:
    cls = type(mod)
    scripted = _SCRIPTED_CLASSES.get(cls)
    if scripted is None:
        scripted = type(cls.__name__, (_EagerScriptBase, cls), {"__module__": cls.__module__})
        _SCRIPTED_CLASSES[cls] = scripted
    new = object.__new__(scripted)
    new.__dict__.update(mod.__dict__)      # the same parameter, buffer and submodule dicts
    new.__dict__["_original_name"] = cls.__name__
    new.__dict__["_graph"] = None
    return new


class _EagerScriptBase(ScriptModule):
    """The ScriptModule side of a scripted Module (its class's own forward and methods run)."""

    def _get_name(self) -> str:
        return "RecursiveScriptModule"

    def extra_repr(self) -> str:
        return f"original_name={self.original_name}"


def _modifier(fn, kind):
    try:
        fn._torchscript_modifier = kind
    except (AttributeError, TypeError):
        pass
    return fn


def ignore(drop=False, **kwargs):
    """Leave a function to Python (it always is, in ember); usable as ``@ignore`` or ``@ignore(drop=True)``."""
    if callable(drop):
        return _modifier(drop, "ignore")
    return lambda fn: _modifier(fn, "unused" if drop else "ignore")


def unused(fn):
    """Mark a method as not compiled (it still runs as Python when called)."""
    return _modifier(fn, "unused")


def export(fn):
    """Mark a method for compilation besides ``forward`` (a no-op: everything runs as Python)."""
    return _modifier(fn, "export")


def script_method(fn):
    """Old-style ``@torch.jit.script_method`` on a ``ScriptModule`` subclass: the method runs as Python."""
    return fn


def interface(obj):
    """``@torch.jit.interface``: the class is returned unchanged."""
    return obj


def script_if_tracing(fn):
    """Compile ``fn`` only when tracing; in ember it always runs as Python."""
    return fn


def annotate(the_type, the_value):
    """Give TorchScript a value's type; returns the value."""
    return the_value


def Attribute(value, type=None):
    """``torch.jit.Attribute(value, type)`` outside TorchScript: the value."""
    return value


def freeze(mod, preserved_attrs: list | None = None, optimize_numerics: bool = True):
    """A copy of an eval-mode ScriptModule whose parameters and buffers are constants of its graph."""
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use torch.jit.script or "  # noqa: TRY004
                           "torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. Please call .eval() "
                           "on your module before freezing.")
    graph = mod.__dict__.get("_graph")
    if graph is None:
        return copy.deepcopy(mod)
    keep = set(preserved_attrs or ())
    frozen = RecursiveScriptModule(mod.original_name)
    g = copy.copy(graph)
    g.consts = dict(graph.consts)
    g.attrs = {}
    for vid, path in graph.attrs.items():
        if path in keep:
            g.attrs[vid] = path
        else:
            g.consts[vid] = mod._get_attr(path).detach().clone()
    params = dict(mod.named_parameters())
    for path in keep:
        *mods, name = path.split(".")
        owner = frozen
        for m in mods:
            owner = owner._modules.setdefault(m, RecursiveScriptModule(m))
        (owner._parameters if path in params else owner._buffers)[name] = mod._get_attr(path)
    frozen.__dict__["_graph"] = g
    frozen.training = False
    frozen.__dict__["_frozen"] = True
    return frozen


def optimize_for_inference(mod, other_methods: list | None = None):
    """Freeze (if not yet) for inference; ember has no graph optimizations beyond that."""
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("optimize_for_inference expects a ScriptModule as input. Please use torch.jit.script "  # noqa: TRY004
                           "or torch.jit.trace to script your 'nn.Module'.")
    if mod.__dict__.get("_frozen"):
        return mod
    return freeze(mod.eval())


class Future:
    """The result of ``fork``: ember runs the call at once, so it is always done."""

    def __init__(self, value=None):
        self._value = value

    def done(self) -> bool:
        return True

    def wait(self):
        return self._value

    value = wait


def fork(func: Callable, *args, **kwargs) -> Future:
    """Run ``func(*args, **kwargs)`` now (ember has no TorchScript interpreter threads) in a done Future."""
    return Future(func(*args, **kwargs))


def wait(future: Future) -> Any:
    """The value of a ``fork``'s Future."""
    return future.wait()


class optimized_execution:
    """Context manager accepted for compatibility with torch; ember has no optimizing executor."""

    def __init__(self, should_optimize: bool):
        self.should_optimize = should_optimize

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_ONEDNN = [False]


def enable_onednn_fusion(enabled: bool) -> None:
    _ONEDNN[0] = bool(enabled)


def onednn_fusion_enabled() -> bool:
    return _ONEDNN[0]


def set_fusion_strategy(strategy):
    """Accepted as torch does; returns the previous strategy. ember fuses nothing."""
    previous, _FUSION[0] = _FUSION[0], list(strategy)
    return previous


_FUSION = [[("STATIC", 2), ("DYNAMIC", 10)]]


class CompilationUnit:
    """``torch.jit.CompilationUnit``: compiling TorchScript source needs a compiler ember does not have."""

    def __init__(self, lang=None, _frames_up=0):
        if lang is not None:
            raise RuntimeError("ember cannot compile TorchScript source (it has no TorchScript compiler)")
