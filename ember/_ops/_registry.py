"""The op mechanism: one definition per op, bound as ``ember.f``, ``Tensor.f`` and ``Tensor.f_``.

An op is a forward on backend arrays and, right under it, a backward on Tensors (so that
``create_graph=True`` differentiates the backward too)::

    @defop("exp", inplace=True, promote="float")
    def exp(ctx, x):
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)          # input or output arrays map back to their Tensors
        return y

    @exp.backward
    def _(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y

``apply`` runs an op: checks devices, applies PyTorch's type promotion when asked, calls the
forward, wraps the result and, when autograd needs it, records a ``Node`` whose edges point at
the inputs' ``grad_fn`` (or their ``AccumulateGrad``).  Undoing broadcasting and casting a
gradient back to its input's dtype happen once, in the engine, from ``Node._in_meta``.
"""
from __future__ import annotations

import numpy as _np

from .._backend import Device
from .._dtype import _FROM_NP, get_default_dtype, result_type_from, scalar_dtype
from .._grad_state import state as _grad_state
from .._tensor import Tensor, _new, make

OPS: dict = {}          # name -> Op, the derivatives table
_SCALARS = (int, float, bool, complex)
_SCALAR_TYPES = frozenset(_SCALARS)
_ndarray = _np.ndarray
_np_scalar = _np.generic
_NATIVE_FLOATS = (_np.float16, _np.float32, _np.float64, _np.complex64, _np.complex128)


class SavedReleased:
    pass


class Node:
    """A recorded op application (``grad_fn``); also the ``ctx`` its forward and backward see."""

    __slots__ = ("xp", "device", "_edges", "__dict__", "__weakref__")

    _backward = None
    _saved = ()
    _in_meta = ()
    _out_meta = None          # (shape, dtype) per output, for multi-output nodes
    _materialize = True
    _tensor_hooks = None      # {output_nr: [hook(grad)]} from Tensor.register_hook
    _retain_hooks = None      # {output_nr: hook(grad)} from Tensor.retain_grad (run last)
    _pre_hooks_node = ()
    _post_hooks = ()
    _hooked = False           # any of the above registered (one check on the engine's hot path)

    def name(self) -> str:
        return type(self).__name__

    @property
    def needs_input_grad(self):
        """Per input: does it need a gradient (is there somewhere to send it)?"""
        return tuple([e is not None for e in self._edges])

    @property
    def next_functions(self):
        return tuple((None, 0) if e is None else e for e in self._edges)

    def save_for_backward(self, *items):
        self._to_save = items

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is SavedReleased:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the graph "
                "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
                "you need to backward through the graph a second time or if you need to access saved "
                "tensors after calling backward.")
        out = []
        for t, v in saved:
            if v is not None and t._version[0] != v:
                raise RuntimeError(self._modified_message(t.unpack() if type(t) is _Packed else t, v))
            out.append(t.unpack() if type(t) is _Packed else t)
        return tuple(out)

    def _modified_message(self, t, v):
        """torch's error for a saved tensor written in place since the forward."""
        fn = f = t.grad_fn
        hops = t._version[0] - v            # in-place nodes chain back through their first input
        while f is not None and f is not self and hops > 0 and f._edges and f._edges[0] is not None:
            f, hops = f._edges[0][0], hops - 1
        if f is self:
            fn = self           # an output of this node, modified in place since
        which = ""
        if fn is not None:
            name = fn.name()
            cut = name.rfind("Backward")
            which = f", which is output {t._output_nr} of {name[:cut] if cut > 0 else name},"
        hint = ("the backtrace further above can help to find the operation that failed to compute its "
                "gradient. The variable in question was changed in there or anywhere later. Good luck!"
                if _grad_state.anomaly else
                "enable anomaly detection to find the operation that failed to compute its gradient, "
                "with torch.autograd.set_detect_anomaly(True, check_nan=False).")
        return ("one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [{_type_name(t)} [{', '.join(map(str, t._data.shape))}]]{which} is at "
                f"version {t._version[0]}; expected version {v} instead. Hint: {hint}")

    def mark_non_differentiable(self, *items):
        self._non_diff = items

    def mark_dirty(self, *items):
        self._dirty = items

    def set_materialize_grads(self, value: bool):
        self._materialize = bool(value)

    def register_hook(self, fn):
        self._hooked = True
        self.__dict__.setdefault("_post_hooks", []).append(fn)
        return _RemovableHandle(self._post_hooks, fn)

    def register_prehook(self, fn):
        self._hooked = True
        self.__dict__.setdefault("_pre_hooks_node", []).append(fn)
        return _RemovableHandle(self._pre_hooks_node, fn)

    def release(self):
        if self._saved:
            self._saved = SavedReleased

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """The sink of a leaf that requires grad: adds incoming gradients into ``.grad``."""

    def __init__(self, variable):
        self.variable = variable
        self.device = variable._device
        self.xp = variable._device.xp
        self._edges = ()
        self._in_meta = ((variable._data.shape, variable._data.dtype),)


class _RemovableHandle:
    def __init__(self, lst, item):
        self._lst, self._item = lst, item

    def remove(self):
        if self._item in self._lst:
            self._lst.remove(self._item)


def _type_name(t):
    return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
            "float16": "torch.HalfTensor", "int64": "torch.LongTensor", "int32": "torch.IntTensor",
            "bool": "torch.BoolTensor", "uint8": "torch.ByteTensor", "int8": "torch.CharTensor",
            "int16": "torch.ShortTensor", "bfloat16": "torch.BFloat16Tensor"}.get(t.dtype.name, "Tensor")


def edge(t: Tensor):
    """Where a gradient for ``t`` goes: its grad_fn, or its (cached) AccumulateGrad."""
    if t._is_view and t._view_version != t._version[0]:
        _refresh_view(t)
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    if t._requires_grad:
        e = t._leaf_edge
        if e is None:
            e = t._leaf_edge = (AccumulateGrad(t), 0)
        return e
    return None


def _refresh_view(t: Tensor) -> None:
    """``t`` is a view whose storage was written in place since its history was recorded."""
    base = t._base
    if base is not None and base._requires_grad and _grad_state.enabled:
        from .views import regenerate_view_history
        regenerate_view_history(t, base)
    else:
        t._view_version = t._version[0]


def _camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.strip("_").split("_"))


class Op:
    """One op: forward on arrays, backward on Tensors, and how to bind it."""

    def __init__(self, name, forward, nin, promote, differentiable, nondiff_outputs, view,
                 node_name=None):
        self.name = name
        self.forward = forward
        self.nin = nin
        self.promote = promote              # None | "default" | "float" | "bool"
        self.differentiable = differentiable
        self.nondiff_outputs = nondiff_outputs
        self.view = view
        self.check = None                   # optional check(ctx, inputs) on the unpromoted inputs
        self._op = self                     # what a bound method or alias wrapper points back to
        self.node_cls = type(node_name or f"{_camel(name)}Backward0", (Node,), {"_op": self})
        OPS[name] = self

    def backward(self, fn):
        self.node_cls._backward = staticmethod(fn)
        return fn

    def __call__(self, *args, **kw):
        if kw and "out" in kw:
            from ._out import call_with_out
            return call_with_out(self, self.name, args, kw)
        nin = self.nin
        if nin == 1 and args:
            return apply_unary(self, args[0], args[1:], kw)
        if nin == 2 and len(args) == 2 and self.promote is not None:
            return apply_binary(self, args[0], args[1], kw)
        return apply(self, args[:nin], args[nin:], kw)

    def __repr__(self):
        return f"<ember op {self.name}>"


def variant(op, name):
    """A node class for ``op`` under another of torch's overload names (``SumBackward1``...).

    A forward (or ``op.check``) picks it with ``ctx.__class__ = V``; the backward is ``op``'s.
    """
    return type(name, (op.node_cls,), {"__slots__": ()})


def defop(name, *, nin=1, promote=None, differentiable=True, nondiff_outputs=(), view=False,
          node_name=None):
    """Declare an op from its forward ``f(ctx, *arrays, *params, **kw)``; returns the Op.

    ``node_name`` overrides the ``grad_fn`` class name (default ``<Name>Backward0``) where
    torch's differs.
    """
    def deco(forward):
        return Op(name, forward, nin, promote, differentiable, nondiff_outputs, view, node_name)
    return deco


def adjoint_pair(name, forward, adjoint, node_name=None, adjoint_node_name=None):
    """Ops for a map ``L`` linear in its one tensor input, and for its adjoint ``L^T``.

    ``forward(xp, x, *params)`` and ``adjoint(xp, g, *params)`` work on arrays and take the same
    params.  Each op's backward is the other op (the derivative of ``g -> L^T g`` is ``L``), so
    both are differentiable to any order: pooling, resampling, padding, scatter and gather
    backwards are such maps.  Returns ``(L, L^T)``.
    """
    def fwd(ctx, x, *params):
        ctx.params = params
        return forward(ctx.xp, x, *params)

    def adj(ctx, g, *params):
        ctx.params = params
        return adjoint(ctx.xp, g, *params)

    op = Op(name, fwd, 1, None, True, (), False, node_name)
    adj_op = Op(name + "_backward", adj, 1, None, True, (), False,
                adjoint_node_name or (node_name[:-1] + "Backward0" if node_name else None))
    op.backward(lambda ctx, g: adj_op(g, *ctx.params))
    adj_op.backward(lambda ctx, g: op(g, *ctx.params))
    return op, adj_op


def not_tensor_error(fname, x, arg="input", pos=1):
    """torch's TypeError for a non-Tensor (e.g. a Python number) where a Tensor argument is expected."""
    return TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _device_error(a, b):
    return RuntimeError("Expected all tensors to be on the same device, but found at least two "
                        f"devices, {a} and {b}!")


def _py_scalar(v):
    """NumPy scalars act as the Python scalars they hold (torch reads ``np.bool_`` as a float)."""
    if isinstance(v, _np_scalar):
        return float(v) if isinstance(v, _np.bool_) else v.item()
    return v


def compute_dtype(inputs, promote):
    """The dtype an op computes in, by torch's promotion over tensors and Python scalars."""
    dim_dt = zero_dt = scal_dt = None
    P = _PROMOTE
    for x in inputs:
        if isinstance(x, Tensor):
            d = _FROM_NP[x._data.dtype]
            if x._data.ndim:
                dim_dt = d if dim_dt is None else P[(dim_dt, d)]
            else:
                zero_dt = d if zero_dt is None else P[(zero_dt, d)]
        elif x is not None:
            d = scalar_dtype(x)
            scal_dt = d if scal_dt is None else P[(scal_dt, d)]
    dt = result_type_from(dim_dt, zero_dt, scal_dt)
    if promote == "float" and dt._category < 2:
        dt = get_default_dtype()
    return dt


from .._dtype import _PROMOTE  # noqa: E402  (after compute_dtype for readability)


def apply(op, inputs, args=(), kw=None, target=None):
    """Run ``op`` on ``inputs`` (Tensors; Python scalars where the op promotes).

    With ``target`` (a Tensor), the result is written into it in place: its version is bumped
    and its ``grad_fn`` becomes the new node.
    """
    dev = None
    req = False
    arrays = []
    same_dtype = None           # the one dtype all tensor inputs share, or False
    has_scalar = False
    for x in inputs:
        if type(x) is Tensor or isinstance(x, Tensor):
            a = x._data
            d = x._device
            if dev is not d:
                dev = d if dev is None else _mixed_device(dev, d, x, inputs)
            if x._requires_grad:
                req = True
            if same_dtype is None:
                same_dtype = a.dtype
            elif same_dtype is not a.dtype and same_dtype is not False and same_dtype != a.dtype:
                same_dtype = False
            arrays.append(a)
        elif op.promote is None:
            if x is not None:           # None: an optional tensor input left out (e.g. a bias)
                raise not_tensor_error(op.name, x) if x is inputs[0] else TypeError(
                    f"{op.name}(): argument 'input' must be Tensor, not {type(x).__name__}")
            arrays.append(None)
        else:
            if isinstance(x, _np_scalar):
                return apply(op, tuple(map(_py_scalar, inputs)), args, kw, target)
            if x is not None and not isinstance(x, _SCALARS):
                raise TypeError(f"{op.name}(): argument 'other' must be Tensor or Number, not "
                                f"{type(x).__name__}")
            has_scalar = True
            arrays.append(x)
    if dev is None:
        if inputs and inputs[0] is not None:    # only Python numbers: torch wants a Tensor
            raise not_tensor_error(op.name, inputs[0])
        dev = _CPU
    ctx = op.node_cls()
    if op.check is not None:
        op.check(ctx, inputs)
    promote = op.promote
    if promote is not None and (same_dtype is False or has_scalar or
                                (promote == "float" and same_dtype is not None and same_dtype.kind in "biu")):
        npdt = compute_dtype(inputs, promote).np
        # NumPy treats Python scalars as weak only for its own dtypes, and refuses ints out of
        # range; torch wraps them: make such scalars arrays of the compute dtype
        cast_scalars = has_scalar and (npdt.kind in "biu" or npdt.type not in _NATIVE_FLOATS)
        for i, a in enumerate(arrays):
            if a is None:
                continue
            if isinstance(a, _SCALARS):
                if cast_scalars and not (npdt.kind in "iu" and isinstance(a, float)):
                    arrays[i] = dev.xp.asarray(_np.array(a).astype(npdt))
                continue
            if a.dtype != npdt:
                arrays[i] = a.astype(npdt)
            if inputs[i]._device is not dev:
                arrays[i] = _backend_move(arrays[i], inputs[i]._device, dev)
    ctx.xp = xp = dev.xp
    ctx.device = dev
    try:
        if kw:
            out = op.forward(ctx, *arrays, *args, **kw)
        elif args:
            out = op.forward(ctx, *arrays, *args)
        else:
            out = op.forward(ctx, *arrays)
    except ValueError as e:
        raise _broadcast_error(arrays, e) from None
    record = req and op.differentiable and _grad_state.enabled
    if target is not None:
        return _write_inplace(op, ctx, target, inputs, arrays, out, record)
    if type(out) is tuple:
        return _wrap_tuple(op, ctx, inputs, arrays, out, dev, record)
    return _wrap_single(op, ctx, inputs, arrays, out, dev, record)


def _wrap_single(op, ctx, inputs, arrays, out, dev, record):
    """Wrap a forward's single array result as a Tensor (view bookkeeping, autograd record)."""
    if type(out) is not _ndarray and isinstance(out, _np_scalar):
        out = dev.xp.asarray(out)
    t = _new(Tensor)
    t._data = out
    t._device = dev
    t._version = [0]
    if op.view:
        src = inputs[0]
        if src._data is out or _shares(out, src._data):
            t._version = src._version
            t._view_version = src._version[0]
            t._base = src._base if src._base is not None else src
            t._is_view = True
    if record:
        _record(op, ctx, inputs, arrays, (out,), (t,))
    return t


def apply_unary(op, x, args, kw):
    """``apply`` for one Tensor input and no in-place target: the common case, kept short."""
    if type(x) is not Tensor or (op.promote == "float" and x._data.dtype.kind in "biu"):
        return apply(op, (x,), args, kw)
    dev = x._device
    ctx = op.node_cls()
    ctx.xp = dev.xp
    ctx.device = dev
    a = x._data
    if kw:
        out = op.forward(ctx, a, *args, **kw)
    elif args:
        out = op.forward(ctx, a, *args)
    else:
        out = op.forward(ctx, a)
    if type(out) is tuple:
        return _wrap_tuple(op, ctx, (x,), [a], out, dev,
                           x._requires_grad and op.differentiable and _grad_state.enabled)
    return _wrap_single(op, ctx, (x,), (a,), out, dev,
                        x._requires_grad and op.differentiable and _grad_state.enabled)


def apply_binary(op, x, y, kw=None):
    """``apply`` for two same-dtype, same-device Tensors (the arithmetic hot path); else ``apply``."""
    if type(y) is not Tensor or type(x) is not Tensor:
        return apply(op, (x, y), (), kw)
    a = x._data
    b = y._data
    dev = x._device
    if y._device is not dev or (a.dtype is not b.dtype and a.dtype != b.dtype) or (
            op.promote == "float" and a.dtype.kind in "biu"):
        return apply(op, (x, y), (), kw)
    ctx = op.node_cls()
    ctx.xp = dev.xp
    ctx.device = dev
    try:
        out = op.forward(ctx, a, b, **kw) if kw else op.forward(ctx, a, b)
    except ValueError as e:
        raise _broadcast_error((a, b), e) from None
    if type(out) is not _ndarray:
        return _wrap_single(op, ctx, (x, y), (a, b), out, dev, (x._requires_grad or y._requires_grad)
                            and op.differentiable and _grad_state.enabled)
    t = _new(Tensor)
    t._data = out
    t._device = dev
    t._version = [0]
    if not ((x._requires_grad or y._requires_grad) and op.differentiable and _grad_state.enabled):
        return t
    if "_to_save" in ctx.__dict__ or out.dtype.kind not in "fc":
        _record(op, ctx, (x, y), (a, b), (out,), (t,))
        return t
    # the arithmetic-with-grad hot path: _record inlined for two tensors and one float output
    # edge() inlined for the two common cases: a non-view with history, a leaf with a cached edge
    fn = x.grad_fn
    if x._is_view:
        ex = edge(x)
    elif fn is not None:
        ex = (fn, x._output_nr)
    else:
        ex = x._leaf_edge if x._requires_grad and x._leaf_edge is not None else edge(x)
    fn = y.grad_fn
    if y._is_view:
        ey = edge(y)
    elif fn is not None:
        ey = (fn, y._output_nr)
    else:
        ey = y._leaf_edge if y._requires_grad and y._leaf_edge is not None else edge(y)
    ctx._edges = [ex, ey]
    ma = (a.shape, a.dtype)
    ctx._in_meta = (ma, ma if b.shape == a.shape else (b.shape, b.dtype))
    t.grad_fn = ctx
    t._requires_grad = True
    return t


def _wrap_tuple(op, ctx, inputs, arrays, out, dev, record):
    xp = dev.xp
    outs = tuple(make(o if type(o) is _ndarray or not isinstance(o, _np_scalar) else xp.asarray(o), dev)
                 for o in out)
    for i, o in enumerate(outs):
        o._output_nr = i
    if record:
        _record(op, ctx, inputs, arrays, out, outs)
    return outs


def _broadcast_error(arrays, err):
    """torch's RuntimeError for operands whose shapes do not broadcast (else the original error)."""
    shapes = [a.shape for a in arrays if hasattr(a, "shape")]
    if len(shapes) >= 2 and "broadcast" in str(err):
        a, b = shapes[0], shapes[1]
        for i in range(1, max(len(a), len(b)) + 1):
            x = a[-i] if i <= len(a) else 1
            y = b[-i] if i <= len(b) else 1
            if x != y and x != 1 and y != 1:
                return RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                                    f"at non-singleton dimension {max(len(a), len(b)) - i}")
    return err


def _mixed_device(dev, d, x, inputs):
    """Resolve the device of an op over tensors on ``dev`` and ``d`` (0-dim cpu tensors mix)."""
    if d.type == "cpu" and x._data.ndim == 0:
        return dev
    if dev.type == "cpu" and all(t._data.ndim == 0 for t in inputs
                                 if isinstance(t, Tensor) and t._device is dev):
        return d
    raise _device_error(dev, d)


def _backend_move(arr, src, dst):
    from .._backend import to_device_array
    return to_device_array(arr, src, dst)


def _shares(out, src):
    b = out.base
    return b is not None and (b is src or b is src.base or src.base is not None and b is src.base)


def _record(op, ctx, inputs, arrays, out_arrays, outs, _Tensor=Tensor):
    """Make ``ctx`` the ``grad_fn`` of ``outs``: edges to the inputs' histories, input metadata."""
    edges = []
    meta = []
    for x in inputs:
        if isinstance(x, _Tensor):
            if x._is_view and x._view_version != x._version[0]:
                _refresh_view(x)
            fn = x.grad_fn
            if fn is not None:
                edges.append((fn, x._output_nr))
            elif x._requires_grad:
                e = x._leaf_edge
                if e is None:
                    e = x._leaf_edge = (AccumulateGrad(x), 0)
                edges.append(e)
            else:
                edges.append(None)
            a = x._data
            meta.append((a.shape, a.dtype))
        else:
            edges.append(None)
            meta.append(None)
    ctx._edges = edges
    ctx._in_meta = meta
    d = ctx.__dict__
    if "_to_save" in d:
        ctx._saved = _resolve_saved(d.pop("_to_save"), inputs, arrays, out_arrays, outs)
    if len(outs) == 1:
        o = outs[0]
        if o._data.dtype.kind in "fcV" and not op.nondiff_outputs:
            o.grad_fn = ctx
            o._requires_grad = True
        return
    ctx._out_meta = tuple((o._data.shape, o._data.dtype) for o in outs)
    nondiff = op.nondiff_outputs
    for i, o in enumerate(outs):
        if i not in nondiff and o._data.dtype.kind in "fcV":
            o.grad_fn = ctx
            o._requires_grad = True


# (pack_hook, unpack_hook) pairs from ``autograd.graph.saved_tensors_hooks``, innermost last
SAVED_TENSORS_HOOKS = []


class _Packed:
    """A saved tensor as a ``saved_tensors_hooks`` pack hook returned it (unpacked on access)."""

    __slots__ = ("packed", "unpack_hook", "_version")

    def __init__(self, t, hooks):
        pack, self.unpack_hook = hooks
        self._version = t._version
        self.packed = pack(t)

    def unpack(self):
        return self.unpack_hook(self.packed)


def pack_saved(saved):
    """Run the innermost pack hook on the saved tensors (with the hooks off inside it, as torch)."""
    stack = SAVED_TENSORS_HOOKS[:]
    hooks = stack[-1]
    SAVED_TENSORS_HOOKS.clear()
    try:
        return tuple((_Packed(t, hooks), v) if v is not None and isinstance(t, Tensor) else (t, v)
                     for t, v in saved)
    finally:
        SAVED_TENSORS_HOOKS[:] = stack


def _resolve_saved(items, inputs, arrays, out_arrays, outs):
    """Map saved forward values to Tensors (inputs/outputs keep their graph); scalars stay raw."""
    saved = []
    for a in items:
        if isinstance(a, Tensor):
            saved.append((a, a._version[0]))
            continue
        if a is None or type(a) in _SCALAR_TYPES:
            saved.append((a, None))
            continue
        t = None
        for i, arr in enumerate(arrays):
            if a is arr:
                x = inputs[i]
                t = x if isinstance(x, Tensor) and x._data is arr else make(arr, outs[0]._device)
                break
        else:
            for arr, o in zip(out_arrays, outs):
                if a is arr:
                    t = o
                    break
            else:
                t = make(a, outs[0]._device)
        saved.append((t, t._version[0]))
    return pack_saved(saved) if SAVED_TENSORS_HOOKS else tuple(saved)


def _write_inplace(op, ctx, target, inputs, arrays, out, record):
    if type(out) is tuple:
        raise RuntimeError(f"{op.name}_ has no in-place variant")
    tdt = _FROM_NP[target._data.dtype]
    odt = _FROM_NP[out.dtype]
    if odt._category > tdt._category:
        raise RuntimeError(f"result type {_SHORT[odt.name]} can't be cast to the desired output "
                           f"type {_SHORT[tdt.name]}")
    if 0 in target._data.strides and op.name not in _OVERLAP_OK and (
            op.name != "_fill_random" or out.ndim) and _self_overlapping(target._data):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location. Please clone() the tensor before performing the operation.")
    if out.shape != target._data.shape:
        bshape = _broadcast_shape(out.shape, target._data.shape)
        if bshape is None:
            raise _broadcast_error((target._data, out), ValueError("broadcast"))
        if bshape != target._data.shape:
            raise RuntimeError(
                f"output with shape [{', '.join(map(str, target._data.shape))}] doesn't match the "
                f"broadcast shape [{', '.join(map(str, bshape))}]")
    if record:
        # a value the backward needs that this write overwrites is saved as a copy
        to_save = ctx.__dict__.get("_to_save")
        if to_save and any(a is target._data for a in to_save):
            snapshot = make(target._data.copy(), target._device)
            ctx._to_save = tuple(snapshot if a is target._data else a for a in to_save)
    ctx.xp.copyto(target._data, out, casting="unsafe")
    target._version[0] += 1
    if record:
        _record_inplace(op, ctx, target, inputs, arrays, out)
    return target


def _record_inplace(op, ctx, target, inputs, arrays, out):
    base = target._base
    view_of_tracked = base is not None and (base._requires_grad or target.grad_fn is not None)
    # edges come from the inputs' history *before* this op rewrites the target's
    _record(op, ctx, inputs, arrays, (out,), (target,))
    if view_of_tracked:
        from .views import rebase_view_history
        rebase_view_history(target, base, ctx)
    target._output_nr = 0


# in-place writes torch allows into an expanded tensor (every alias gets the same value)
_OVERLAP_OK = frozenset(("_setitem", "_index_fill", "masked_fill", "masked_fill_tensor"))


def _self_overlapping(a) -> bool:
    """Does some memory location back more than one element (a stride-0 dim of size > 1)?"""
    return any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape))


_SHORT = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
          "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
          "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            return None
        out.append(y if x == 1 else x)
    return tuple(out)


_CPU = Device("cpu")


def check_inplace_allowed(t: Tensor):
    """torch refuses in-place ops on leaves that require grad while grad mode is on."""
    if t._requires_grad and _grad_state.enabled:
        if t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = t._base
        if base is not None and base.grad_fn is None and base._requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")


def bind(op, name=None, *, function=True, method=True, inplace=False, namespace=None):
    """Expose ``op`` as ``ember.<name>``, ``Tensor.<name>`` and ``Tensor.<name>_``."""
    name = name or op.name
    nin = op.nin
    if method:
        if nin == 1:
            def meth(self, *args, **kw):
                return apply_unary(op, self, args, kw)
        elif nin == 2 and op.promote is not None:
            def meth(self, *args, **kw):
                if len(args) == 1:
                    return apply_binary(op, self, args[0], kw)
                return apply(op, (self,) + args[:1], args[1:], kw)
        else:
            def meth(self, *args, **kw):
                return apply(op, (self,) + args[:nin - 1], args[nin - 1:], kw)
        meth.__name__ = name
        meth._op = op
        setattr(Tensor, name, meth)
    if inplace:
        def inpl(self, *args, **kw):
            if not isinstance(self, Tensor):     # ember.sin_(2.0)
                raise not_tensor_error(name + "_", self)
            check_inplace_allowed(self)
            return apply(op, (self,) + args[:nin - 1], args[nin - 1:], kw, target=self)
        inpl.__name__ = name + "_"
        inpl._op = op
        setattr(Tensor, name + "_", inpl)
    if function and namespace is not None:
        namespace[name] = op
    return op
