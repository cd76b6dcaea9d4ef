"""``ember.autograd``: backward, grad, custom Functions, grad modes and gradient checks."""
from __future__ import annotations

from .._tensor import Tensor
from .._ops._registry import _RemovableHandle, edge
from . import graph
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .variable import Variable
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_inference_mode_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "gradcheck", "gradgradcheck", "functional",
           "detect_anomaly", "set_detect_anomaly", "Variable"]


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves (or of ``inputs``)."""
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(grads)} tensors and {len(tensors)} gradients")
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    graph.run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated)."""
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    graph._root_edges(outputs)
    for t in inputs_t:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    res = graph.run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs_t,
                             allow_unused=allow_unused, accumulate=False)
    if materialize_grads:
        from .._ops.creation import zeros_like
        res = tuple(zeros_like(t) if r is None else r for t, r in zip(inputs_t, res))
    return res


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the gradient of this tensor w.r.t. graph leaves (``loss.backward()``)."""
    backward(self, gradient, retain_graph, create_graph, inputs)


def _register_hook(self, hook):
    """Call ``hook(grad)`` whenever a gradient for this tensor is computed; it may return a new one."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is None:
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)
    self.grad_fn._hooked = True
    hooks = self.grad_fn.__dict__.setdefault("_tensor_hooks", {})
    lst = hooks.setdefault(self._output_nr, [])
    lst.append(hook)
    return _RemovableHandle(lst, hook)


def _retain_grad(self):
    """Populate ``.grad`` of this non-leaf tensor during backward."""
    if not self._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None or self._retains_grad:
        return
    self._retains_grad = True
    import weakref
    ref = weakref.ref(self)

    def hook(g):
        t = ref()
        if t is not None and t._retains_grad:
            if t._grad is None:
                t._grad = g.detach().clone() if not g._requires_grad else g.clone()
            else:
                t._grad = t._grad + g
    fn = self.grad_fn
    fn._hooked = True
    # Kept apart from register_hook's hooks: torch runs the retain-grad hook after all of them,
    # so .grad sees the gradient as the other hooks left it.
    fn.__dict__.setdefault("_retain_hooks", {})[self._output_nr] = hook


def _register_post_accumulate_grad_hook(self, hook):
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    lst = self.__dict__.setdefault("_post_accumulate_hooks", [])
    lst.append(hook)
    return _RemovableHandle(lst, hook)


from . import functional  # noqa: E402  (built on grad above)

Tensor.backward = _tensor_backward
Tensor.register_hook = _register_hook
Tensor.retain_grad = _retain_grad
Tensor.register_post_accumulate_grad_hook = _register_post_accumulate_grad_hook
