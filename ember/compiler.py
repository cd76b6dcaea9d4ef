"""``torch.compile`` and ``torch.compiler``: ember has no graph compiler, so compiling is the identity in
behaviour. A compiled Module is wrapped in ``OptimizedModule`` as torch does (its ``state_dict`` keys
are prefixed ``_orig_mod.``), so checkpoints saved from compiled models have torch's layout."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .nn.modules.module import Module

__all__ = ["compile", "OptimizedModule", "is_compiling", "is_dynamo_compiling", "is_exporting", "disable",
           "reset", "list_backends", "allow_in_graph", "assume_constant_result"]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
_BACKENDS = ("cudagraphs", "inductor", "openxla", "tvm")
_DEBUG_BACKENDS = ("eager", "aot_eager", "aot_eager_decomp_partition")


class InvalidBackend(RuntimeError):
    """``backend=`` names no backend torch knows."""


class OptimizedModule(Module):
    """What ``compile(module)`` returns: runs ``_orig_mod`` and forwards attribute reads to it."""

    def __init__(self, mod: Module):
        super().__init__()
        self._orig_mod = mod

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    @property
    def training(self) -> bool:
        return self._orig_mod.training

    @training.setter
    def training(self, mode: bool) -> None:
        if "_orig_mod" in self.__dict__.get("_modules", {}):    # Module.__init__ sets it before there is one
            self._orig_mod.training = mode

    def __len__(self) -> int:
        return len(self._orig_mod)

    def __getattr__(self, name: str):
        modules = self.__dict__.get("_modules", {})
        if name == "_orig_mod" and name in modules:
            return modules[name]
        if "_orig_mod" not in modules:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        return getattr(modules["_orig_mod"], name)


def list_backends(exclude_tags=("debug", "experimental")) -> list[str]:
    """Backend names ``compile`` accepts (the debug ones too unless ``exclude_tags`` is None or empty)."""
    return sorted(_BACKENDS if exclude_tags else _BACKENDS + _DEBUG_BACKENDS)


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """Return ``model`` ready to run: unchanged in behaviour (a Module comes back as an OptimizedModule).

    Without ``model`` it is a decorator: ``@ember.compile`` or ``@ember.compile(mode=...)``.
    """
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if not callable(backend) and backend not in _BACKENDS + _DEBUG_BACKENDS:
        raise InvalidBackend(f"Invalid backend: {backend!r}, see `torch._dynamo.list_backends()` "
                             "for available backends.")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return model(*args, **kwargs)
    compiled._torchdynamo_orig_callable = model
    return compiled


def is_compiling() -> bool:
    """False: ember code never runs under a tracing compiler."""
    return False


def is_dynamo_compiling() -> bool:
    return False


def is_exporting() -> bool:
    return False


def disable(fn=None, recursive: bool = True, *, reason: str | None = None):
    """Keep ``fn`` out of compilation (everything is, in ember): returns ``fn``; a decorator too."""
    return (lambda f: f) if fn is None else fn


def allow_in_graph(fn):
    return fn


def assume_constant_result(fn):
    return fn


def reset() -> None:
    """Clear compilation caches (ember keeps none)."""
