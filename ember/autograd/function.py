"""Custom ops in Python: ``class F(ember.autograd.Function)`` with static forward/backward."""
from __future__ import annotations

import functools

from .._grad_state import state
from .._tensor import Tensor, make
from .._ops._registry import SAVED_TENSORS_HOOKS, Node, edge, pack_saved


class FunctionCtx(Node):
    """The ``ctx`` of a custom Function; becomes the output's ``grad_fn``."""

    needs_input_grad = ()   # set per call (shadows Node's derived property)

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_variables(self):
        import warnings
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, stacklevel=2)
        return self.saved_tensors


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (FunctionCtx,), {
            "_backward": staticmethod(functools.partial(_run_backward, cls)), "_function": cls})


def _run_backward(cls, ctx, *grads):
    """The user's ``backward``, checked to give a Tensor or None per input (torch's error)."""
    out = cls.backward(ctx, *grads)
    for g in (out if type(out) is tuple else (out,)):
        if g is not None and not isinstance(g, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
    return out


class Function(metaclass=_FunctionMeta):
    """Subclass with ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``; call ``apply``.

    ``forward`` runs with grad recording off and sees Tensors; ``backward`` returns one gradient
    (or None) per forward argument.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward
    setup_context = None

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. "
                           "Please use new-style autograd function with static forward method.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls._backward_cls()
        tensors = [a if isinstance(a, Tensor) else None for a in args]
        dev = next((t._device for t in tensors if t is not None), None)
        ctx.device = dev
        ctx.xp = dev.xp if dev is not None else None
        ctx.needs_input_grad = tuple(t is not None and t._requires_grad for t in tensors)
        record = state.enabled and any(ctx.needs_input_grad)
        prev = state.enabled
        state.enabled = False
        try:
            if cls.setup_context is not None and _overrides(cls, "setup_context"):
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        finally:
            state.enabled = prev
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        dirty = ctx.__dict__.get("_dirty", ())
        non_diff = ctx.__dict__.get("_non_diff", ())
        wrapped = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor):
                if any(o is d for d in dirty):
                    o._version[0] += 0  # already bumped by the in-place op that wrote it
                elif any(o is t for t in tensors if t is not None):
                    alias = make(o._data, o._device)
                    alias._version = o._version
                    o = alias
                o._output_nr = i
            wrapped.append(o)
        if record:
            ctx._edges = tuple(edge(t) if t is not None else None for t in tensors)
            ctx._in_meta = tuple((t._data.shape, t._data.dtype) if t is not None else None
                                 for t in tensors)
            ctx._out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), None)
                                  for o in wrapped)
            for o in wrapped:
                if isinstance(o, Tensor) and not any(o is n for n in non_diff) \
                        and o._data.dtype.kind in "fcV":
                    if o.grad_fn is None and o._requires_grad and any(o is d for d in dirty):
                        raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                           "in-place operation.")
                    o.grad_fn = ctx
                    o._requires_grad = True
        to_save = ctx.__dict__.pop("_to_save", None)
        if to_save:
            ctx._saved = tuple((t, t._version[0] if t is not None else None) for t in to_save)
            if SAVED_TENSORS_HOOKS:
                ctx._saved = pack_saved(ctx._saved)
        return wrapped[0] if single else tuple(wrapped)


def _overrides(cls, name):
    return any(name in vars(k) for k in cls.__mro__ if k is not Function and k is not object)


def once_differentiable(fn):
    """Run a custom backward with grad recording off (it cannot be differentiated again)."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        prev = state.enabled
        state.enabled = False
        try:
            return fn(ctx, *args)
        finally:
            state.enabled = prev
    return wrapper
