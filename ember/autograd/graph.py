"""The backward engine: a dependency-counted walk over ``grad_fn`` nodes (never recursive).

Gradients from several consumers are summed per (node, output); a gradient whose shape was
broadcast in the forward is summed back to its input's shape here, and cast back to the
input's dtype, so op backwards never do either themselves.
"""
from __future__ import annotations

from .._grad_state import state
from .._tensor import Tensor, make
from .._ops._registry import SAVED_TENSORS_HOOKS, AccumulateGrad, Node, edge
from .anomaly_mode import check_nan


class saved_tensors_hooks:
    """Inside the block, tensors saved for backward are stored as ``pack_hook(t)`` and handed to the
    backward as ``unpack_hook(packed)`` (``torch.autograd.graph.saved_tensors_hooks``)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        SAVED_TENSORS_HOOKS.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        SAVED_TENSORS_HOOKS.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Keep tensors saved for backward on the cpu; move them back to their device when needed."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        super().__init__(lambda t: (t.device, t.cpu()), lambda p: p[1].to(p[0]))


def increment_version(tensor) -> None:
    """Bump the version counter(s), as an in-place write would (``torch.autograd.graph.increment_version``)."""
    for t in (tensor if isinstance(tensor, (list, tuple)) else (tensor,)):
        t._version[0] += 1


def _root_edges(tensors):
    edges = []
    for i, t in enumerate(tensors):
        e = edge(t)
        if e is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        edges.append(e)
    return edges


def _make_root_grads(tensors, grads, is_grads_batched=False):
    out = []
    for t, g in zip(tensors, grads):
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = make(t._device.xp.ones(t._data.shape, dtype=t._data.dtype), t._device)
        elif not isinstance(g, Tensor):
            from .._ops.creation import tensor as _tensor
            g = _tensor(g, dtype=t.dtype, device=t._device)
        elif g._data.shape != t._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of torch.Size({list(g._data.shape)}) "
                f"and output[0] has a shape of torch.Size({list(t._data.shape)}).")
        out.append(g)
    return out


def _sum_to(g: Tensor, shape) -> Tensor:
    """Undo broadcasting: sum ``g`` down to ``shape`` (differentiably)."""
    gshape = g._data.shape
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if lead < 0 or any(s != 1 and s != gshape[i + lead] for i, s in enumerate(shape)):
        return None
    if dims:
        g = g.sum(dim=dims, keepdim=True)
        if lead:
            g = g.reshape(shape)
    return g


def _validate(node, i, g, meta):
    shape, npdt = meta
    if g._data.shape != shape:
        r = _sum_to(g, shape)
        if r is None:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"[{', '.join(map(str, g._data.shape))}] but expected shape compatible with "
                f"[{', '.join(map(str, shape))}]")
        g = r
    if g._data.dtype != npdt:
        if g._data.dtype.kind == "c" and npdt.kind != "c":
            g = g.real          # a real input gets the real part of a complex gradient, as torch
        g = g.to(_dtype_of(npdt))
    return g


def _dtype_of(npdt):
    from .._dtype import _FROM_NP
    return _FROM_NP[npdt]


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None,
                 allow_unused=True, accumulate=True):
    """Backpropagate from ``tensors``; with ``accumulate=False`` return grads of ``inputs``."""
    roots = _root_edges(tensors)
    grads = _make_root_grads(tensors, grad_tensors)
    capture = {}
    if inputs is not None:
        for k, t in enumerate(inputs):
            e = edge(t)
            if e is None:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture.setdefault(e, []).append(k)
    # dependency counts over the reachable graph (iterative: no recursion limit on deep graphs)
    deps = {}
    parents = {} if inputs is not None else None
    stack = []
    for n, _ in roots:
        if n not in deps:
            deps[n] = 0
            stack.append(n)
    while stack:
        node = stack.pop()
        for e in node._edges:
            if e is None:
                continue
            n = e[0]
            c = deps.get(n)
            if c is None:
                deps[n] = 1
                stack.append(n)
            else:
                deps[n] = c + 1
            if parents is not None:
                parents.setdefault(n, []).append(node)
    needed = None
    if inputs is not None:      # run only nodes that lead to a requested input
        needed = set()
        todo = [n for n, _ in capture]
        while todo:
            n = todo.pop()
            if n not in needed:
                needed.add(n)
                todo.extend(parents.get(n, ()))
    results = [None] * (len(inputs) if inputs is not None else 0)
    buffers = {}
    for (n, nr), g in zip(roots, grads):
        buf = buffers.get(n)
        if buf is None:
            buf = buffers[n] = [None] * _n_outputs(n)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = [n for n in buffers if deps[n] == 0]
    prev_enabled = state.enabled
    anomaly = state.anomaly and state.anomaly_check_nan
    state.enabled = bool(create_graph)
    given = {id(g._data) for g in grads}
    try:
        while ready:
            node = ready.pop()
            buf = buffers.pop(node)
            if node._hooked and (needed is None or node in needed):     # hooks only where the pass runs
                buf = _run_pre_hooks(node, buf)
            if capture:
                for nr in range(len(buf)):
                    for k in capture.get((node, nr), ()):
                        results[k] = buf[nr]
            if type(node) is AccumulateGrad:
                if accumulate and (inputs is None or (node, 0) in capture) and buf[0] is not None:
                    _accumulate(node.variable, buf[0], create_graph, given)
                continue
            edges = node._edges
            if needed is not None and (node not in needed or not accumulate and all(
                    e is None or e[0] not in needed for e in edges)):
                out_grads = ()
            else:
                g = buf[0]
                if len(buf) == 1 and g is not None:
                    out_grads = node._backward(node, g)
                    if type(out_grads) is not tuple:
                        out_grads = (out_grads,)
                    if len(out_grads) != len(edges):
                        out_grads = _check_count(node, out_grads)
                else:
                    out_grads = _call(node, buf)
                if node._hooked:
                    for fn in node._post_hooks:
                        r = fn(out_grads, tuple(buf))
                        if r is not None:
                            out_grads = tuple(r)
                if anomaly:
                    check_nan(node, out_grads)
                if not retain_graph and node._saved:
                    node.release()
            n_out = len(out_grads)
            i = 0
            for e in edges:
                if e is not None:
                    n, nr = e
                    g = out_grads[i] if i < n_out else None
                    if g is not None:
                        m = node._in_meta[i]
                        d = g._data
                        if d.shape != m[0] or d.dtype != m[1]:
                            g = _validate(node, i, g, m)
                        b = buffers.get(n)
                        if b is None:
                            b = buffers[n] = [None] * _n_outputs(n)
                        b[nr] = g if b[nr] is None else b[nr] + g
                    c = deps[n] - 1
                    deps[n] = c
                    if c == 0:
                        if n not in buffers:
                            buffers[n] = [None] * _n_outputs(n)
                        ready.append(n)
                i += 1
    finally:
        state.enabled = prev_enabled
    if inputs is not None and not accumulate:
        if not allow_unused and any(r is None for r in results):
            k = next(k for k, r in enumerate(results) if r is None)
            raise RuntimeError(
                f"The differentiated Tensor at index {k} appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior.")
        return tuple(results)
    if inputs is not None:
        for k, t in enumerate(inputs):     # non-leaf inputs; retain_grad's hook already stored its grad
            if t.grad_fn is not None and results[k] is not None and not t._retains_grad:
                _accumulate(t, results[k], create_graph, given)
    return None


def _run_pre_hooks(node, buf):
    """Tensor hooks (per output) then node pre-hooks; each may replace the gradient."""
    if node._tensor_hooks:
        for nr, fns in node._tensor_hooks.items():
            for fn in list(fns):
                if buf[nr] is not None:
                    r = fn(buf[nr])
                    if r is not None:
                        buf[nr] = r
    if node._retain_hooks:
        for nr, fn in node._retain_hooks.items():
            if buf[nr] is not None:
                fn(buf[nr])
    for fn in node._pre_hooks_node:
        r = fn(tuple(buf))
        if r is not None:
            buf = list(r)
    return buf


def _check_count(node, out):
    n = len(node._edges)
    if len(out) > n and all(g is None for g in out[n:]):
        return out[:n]
    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                       f"(expected {n}, got {len(out)})")


def _n_outputs(node):
    meta = node._out_meta
    return len(meta) if meta else 1


def _call(node, buf):
    """Run a node's backward on its output gradients (None ones materialised as zeros)."""
    if len(buf) == 1:
        g = buf[0]
        if g is None:
            if not node._materialize:
                out = node._backward(node, None)
                return out if type(out) is tuple else (out,)
            return ()
        out = node._backward(node, g)
    else:
        if any(g is None for g in buf):
            if all(g is None for g in buf) and node._materialize:
                return ()
            if node._materialize:
                dev = _device_of(node)
                xp = node.xp
                buf = [make(xp.zeros(m[0], dtype=m[1]), dev) if g is None else g
                       for g, m in zip(buf, node._out_meta)]
        out = node._backward(node, *buf)
    if type(out) is not tuple:
        out = (out,)
    if len(out) != len(node._edges):
        out = _check_count(node, out)
    return out


def _device_of(node):
    return node.device


def _accumulate(t: Tensor, g: Tensor, create_graph: bool, given: set):
    for fn in (t._hooks or ()):
        r = fn(g)
        if r is not None:
            g = r
    if t._grad is None:
        if not create_graph:
            if id(g._data) in given or g._is_view or g._data.base is not None:
                g = make(g._data.copy(), g._device)
            elif g.grad_fn is not None or g._requires_grad:
                g = make(g._data, g._device)
            given.add(id(g._data))
        t._grad = g
    elif create_graph or t._grad._requires_grad:
        t._grad = t._grad + g
    else:
        t._grad._data += g._data
        t._grad._version[0] += 1
    for fn in (t.__dict__.get("_post_accumulate_hooks") or ()):
        if fn(t) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")
