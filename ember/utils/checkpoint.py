"""``torch.utils.checkpoint``: activation checkpointing. A checkpointed function keeps no activations for
backward; backward runs it again (same RNG state, so dropout masks match) and differentiates that rerun.

Two variants, as in torch. ``use_reentrant=True`` (torch's default when the argument is omitted) is an
``autograd.Function`` over the tensor arguments whose backward reruns the function and calls
``backward`` inside the backward pass: parameters the function uses get their ``.grad`` there.
``use_reentrant=False`` also finds the leaf tensors the function reads (parameters, closed-over tensors)
and makes them inputs of the checkpoint node, so their gradients flow through the engine like any
other (``autograd.grad`` works, keyword arguments are allowed); finding them records one graph, which
is dropped before ``checkpoint`` returns.
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import Any

from .._grad_state import state
from .._random import get_rng_state, set_rng_state
from .._tensor import Tensor
from ..autograd import backward as _backward, grad as _grad
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad

__all__ = ["checkpoint", "checkpoint_sequential"]


def _warn_use_reentrant(name: str) -> None:
    warnings.warn(f"{name}: pass use_reentrant explicitly. torch 2.13 falls back to use_reentrant=True (and "
                  "says a future release will raise instead); use_reentrant=False is the recommended variant.",
                  UserWarning, stacklevel=3)


@contextlib.contextmanager
def _rng_as_in_forward(saved):
    """Run with the CPU generator in the state it had before the forward; restore the current one after."""
    if saved is None:
        yield
        return
    current = get_rng_state()
    set_rng_state(saved)
    try:
        yield
    finally:
        set_rng_state(current)


class _Run:
    """One checkpointed call: the function, its non-tensor arguments, and the RNG state it started in."""

    def __init__(self, function, args, kwargs, preserve_rng_state):
        self.function, self.kwargs = function, kwargs
        self.template = [None if isinstance(a, Tensor) else a for a in args]
        self.tensor_at = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.rng = get_rng_state() if preserve_rng_state else None

    def rerun(self, tensors, replay_rng=True):
        """Run on detached copies of ``tensors`` (same requires_grad) with grad on; (outputs, inputs)."""
        inputs = [t.detach().requires_grad_(t.requires_grad) for t in tensors]
        args = list(self.template)
        for i, t in zip(self.tensor_at, inputs):
            args[i] = t
        with _rng_as_in_forward(self.rng if replay_rng else None), enable_grad():
            return self.function(*args, **self.kwargs), inputs


def _as_tuple(out):
    return (out,) if isinstance(out, Tensor) else tuple(out)


def _differentiable(outputs, grads):
    pairs = [(o, g) for o, g in zip(outputs, grads)
             if isinstance(o, Tensor) and o.requires_grad and g is not None]
    if not pairs:
        raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
    return [o for o, _ in pairs], [g for _, g in pairs]


class _ReentrantCheckpoint(Function):
    @staticmethod
    def forward(ctx, run, *tensors):
        ctx.run = run
        ctx.save_for_backward(*tensors)
        args = list(run.template)
        for i, t in zip(run.tensor_at, tensors):
            args[i] = t
        return run.function(*args)

    @staticmethod
    def backward(ctx, *grads):
        outputs, inputs = ctx.run.rerun(ctx.saved_tensors)
        _backward(*_differentiable(_as_tuple(outputs), grads))
        return (None, *(t.grad if t.requires_grad else None for t in inputs))


class _Checkpoint(Function):
    """Inputs: the tensor arguments, then the leaves the function reads; outputs: the function's."""

    @staticmethod
    def forward(ctx, run, outputs, n_args, *tensors):
        ctx.run, ctx.n_args = run, n_args
        ctx.leaves = tensors[n_args:]
        ctx.save_for_backward(*tensors[:n_args])
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        outputs, inputs = ctx.run.rerun(ctx.saved_tensors)
        outs, gs = _differentiable(_as_tuple(outputs), grads)
        wanted = [t for t in inputs if t.requires_grad] + list(ctx.leaves)
        got = iter(_grad(outs, wanted, gs, allow_unused=True) if wanted else ())
        arg_grads = [next(got) if t.requires_grad else None for t in inputs]
        return (None, None, None, *arg_grads, *got)


def _leaves_read(outputs, stop) -> list[Tensor]:
    """Leaf tensors requiring grad that ``outputs`` were computed from (not those in ``stop``), in order."""
    seen, leaves = set(), []
    stack = [o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None and not node._edges:
            if not any(variable is s for s in stop):
                leaves.append(variable)
            continue
        stack.extend(e[0] for e in node._edges if e is not None)
    return leaves


def _checkpoint_non_reentrant(function, args, kwargs, preserve_rng_state):
    run = _Run(function, args, kwargs, preserve_rng_state)
    tensors = [args[i] for i in run.tensor_at]
    out, inputs = run.rerun(tensors, replay_rng=False)     # records a graph only to find the leaves read
    leaves = _leaves_read(_as_tuple(out), inputs)
    if not leaves and not any(t.requires_grad for t in tensors):
        return out
    detached = out.detach() if isinstance(out, Tensor) else tuple(
        o.detach() if isinstance(o, Tensor) else o for o in out)
    return _Checkpoint.apply(run, detached, len(tensors), *tensors, *leaves)


def checkpoint(function: Callable, *args, use_reentrant: bool | None = None, preserve_rng_state: bool = True,
               context_fn=None, determinism_check: str = "default", debug: bool = False, early_stop: bool = True,
               **kwargs) -> Any:
    """``function(*args, **kwargs)``, keeping no activations: backward recomputes them."""
    if use_reentrant is None:
        _warn_use_reentrant("torch.utils.checkpoint")
        use_reentrant = True
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not None or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                          stacklevel=2)
        run = _Run(function, args, {}, preserve_rng_state)
        return _ReentrantCheckpoint.apply(run, *(args[i] for i in run.tensor_at))
    if context_fn is not None:
        raise NotImplementedError("ember's checkpoint does not support context_fn")
    if not state.enabled:
        return function(*args, **kwargs)
    return _checkpoint_non_reentrant(function, args, kwargs, preserve_rng_state)


def checkpoint_sequential(functions, segments: int, input: Tensor, use_reentrant: bool | None = None, *,
                          preserve_rng_state: bool = True, **kwargs) -> Tensor:
    """Run ``functions`` (a Sequential or a list) in ``segments`` chunks, checkpointing all but the last."""
    if use_reentrant is None:
        _warn_use_reentrant("torch.utils.checkpoint.checkpoint_sequential")
        use_reentrant = True
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)

    def segment(start, stop):
        def run(x):
            for f in functions[start:stop]:
                x = f(x)
            return x
        return run

    size = len(functions) // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(segment(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve_rng_state)
    return segment(end, len(functions))(input)
