"""Recording a Graph by running the function once (``torch.jit.trace``'s tracer).

While a trace runs, the public functions (``ember.*``, ``ember.nn.functional.*``, ``ember.linalg.*``,
``ember.fft.*``, ``ember.special.*``), the op-binding Tensor methods and the registry's entry points
are swapped for recording wrappers (``ember._ops._recording``); every top-level call lands in the
graph, calls made inside it do not.  ``Tensor.size``/``shape`` hand out ``SymInt``s that remember
which value and dim they came from, and conversions of traced tensors to Python values warn with
``TracerWarning`` as torch does.  ``Module.__call__`` keeps the stack of submodules being called, so
each node knows its module scope (torch's ``scopeName``).  Everything is put back when the trace ends.
"""
from __future__ import annotations

import importlib
import threading
import types
import warnings

from .._ops import _registry
from .._ops._recording import Guard, entry_point_wrappers, entry_points, swap_globals
from .._tensor import Size, Tensor
from ..nn.modules.module import Module
from . import _graph
from ._graph import Graph, GraphNode, Ref, Sym, flatten_tensors

PUBLIC_MODULES = ("ember", "ember.nn.functional", "ember.linalg", "ember.fft", "ember.special")
_FN_HOMES = ("ember._ops", "ember.nn.functional", "ember.linalg", "ember.fft", "ember.special",
             "ember._torch_nn")
# Tensor methods bound by ember._ops that are not computations to record
_TENSOR_SKIP = frozenset({"__new__", "apply_", "map_", "allclose", "equal", "__contains__", "untyped_storage",
                          "share_memory_", "is_shared", "pin_memory", "is_signed", "is_nonzero",
                          "is_same_size", "is_pinned", "is_conj", "is_neg", "new"})
_FN_SKIP = frozenset({"tensor", "is_tensor", "is_storage", "numel", "is_floating_point", "is_complex",
                      "is_nonzero", "is_same_size", "allclose", "equal", "result_type", "can_cast",
                      "promote_types", "manual_seed", "seed", "initial_seed", "get_rng_state",
                      "set_rng_state", "set_default_dtype", "get_default_dtype", "set_printoptions"})


class TracerWarning(Warning):
    """torch.jit.TracerWarning: the trace may not generalize to other inputs."""


_CATALOG = None


def catalog():
    """``(by_name, entries)``: every recordable public callable by qualified name, and the
    ``(qname, callable)`` pairs to wrap while tracing (the public callables, and the functions they
    wrap, which ember's own code calls: ``ember.sum`` adds ``out=`` around the ``sum`` that
    ``nn.functional`` uses)."""
    global _CATALOG
    if _CATALOG is None:
        by_name, seen, entries = {}, set(), []

        def add(q, fn):
            by_name.setdefault(q, fn)
            while fn is not None and id(fn) not in seen:
                seen.add(id(fn))
                entries.append((q, fn))
                fn = getattr(fn, "__wrapped__", None) if isinstance(fn, types.FunctionType) else None

        for modname in PUBLIC_MODULES:
            mod = importlib.import_module(modname)
            for name, v in list(vars(mod).items()):
                if name.startswith("_") or name in _FN_SKIP or id(v) in seen:
                    continue
                if isinstance(v, _registry.Op) or (isinstance(v, types.FunctionType)
                                                   and (v.__module__ or "").startswith(_FN_HOMES)):
                    add(f"{modname}.{name}", v)
        for name, v in list(vars(Tensor).items()):
            if name in _TENSOR_SKIP or not isinstance(v, types.FunctionType) or id(v) in seen:
                continue
            if (v.__module__ or "").startswith("ember._ops") or name in ("detach", "detach_"):
                add(f"Tensor.{name}", v)
        _CATALOG = (by_name, entries)
    return _CATALOG


def resolve(qname):
    """The callable a graph node names (the registry's ``apply`` for an op node); KeyError if none."""
    if qname.startswith("ops."):
        return _graph.run_op
    return catalog()[0][qname]


def is_tracing() -> bool:
    return bool(_graph._ACTIVE)


# ---- symbolic sizes ----------------------------------------------------------------------
class SymInt(int):
    """A size read from a traced tensor: an int that remembers how to recompute itself."""

    def __new__(cls, value, expr):
        self = int.__new__(cls, value)
        self.expr = expr
        return self

    def __repr__(self):
        return int.__repr__(self)


def _sym_expr(v):
    return v.expr if type(v) is SymInt else v


def _sym_binop(name, fn, reflected):
    def method(self, other):
        if type(other) is bool or not isinstance(other, int):
            return getattr(int, f"__{'r' if reflected else ''}{name}__")(self, other)
        value = fn(other, int(self)) if reflected else fn(int(self), other)
        a, b = (_sym_expr(other), self.expr) if reflected else (self.expr, _sym_expr(other))
        return SymInt(value, (name, a, b))
    return method


for _n, _f in _graph.SYM_OPS.items():
    setattr(SymInt, f"__{_n}__", _sym_binop(_n, _f, False))
    setattr(SymInt, f"__r{_n}__", _sym_binop(_n, _f, True))
SymInt.__neg__ = lambda self: SymInt(-int(self), ("sub", 0, self.expr))
SymInt.__hash__ = int.__hash__
SymInt.__index__ = lambda self: int(self)


class _OpRecorder:
    """An Op's stand-in while tracing: calls record, attributes (``node_cls``, ``forward``...) are the Op's."""

    __slots__ = ("__wrapped__", "_call")

    def __init__(self, op, call):
        self.__wrapped__ = op
        self._call = call

    def __call__(self, *args, **kw):
        return self._call(*args, **kw)

    def __getattr__(self, name):
        return getattr(self.__wrapped__, name)


# ---- the tracer ------------------------------------------------------------------------------
_CONVERSIONS = {
    "__bool__": "Converting a tensor to a Python boolean",
    "__float__": "Converting a tensor to a Python float",
    "__int__": "Converting a tensor to a Python integer",
    "item": "Converting a tensor to a Python number",
    "tolist": "Converting a tensor to a Python list",
    "numpy": "Converting a tensor to a NumPy array",
    "__index__": "Converting a tensor to a Python index",
}
_CONVERSION_TAIL = (" might cause the trace to be incorrect. We can't record the data flow of Python values, "
                    "so this value will be treated as a constant in the future. This means that the trace "
                    "might not generalize to other inputs!")
_LEN_WARNING = ("Using len to get tensor shape might cause the trace to be incorrect. Recommended usage would "
                "be tensor.shape[0]. Passing a tensor of different shape might lead to errors or silently "
                "give incorrect results.")
_ITER_WARNING = ("Iterating over a tensor might cause the trace to be incorrect. Passing a tensor of different "
                 "shape won't change the number of iterations executed (and might lead to errors or silently "
                 "give incorrect results).")
_TENSOR_CTOR_WARNING = ("torch.tensor results are registered as constants in the trace. You can safely ignore "
                        "this warning if you use this function to create tensors out of constant variables "
                        "that would be the same every time you call this function. In any other case, this "
                        "might cause the trace to be incorrect.")


class Tracer:
    """Records one run into ``self.graph``; ``attr_paths`` names a module's parameters and buffers."""

    def __init__(self, attr_paths=None):
        self.graph = Graph()
        self.ids = {}               # id(tensor) -> vid
        self.keep = []              # tensors seen (keeps their ids from being reused)
        self.attr_paths = attr_paths or {}
        self.guard = Guard()
        self.wrappers = {}          # id(original) -> wrapper
        self._tensor_saved = {}
        self.scope = []             # paths of the submodules being called now, outermost first
        self._module_paths = None   # id(module) -> path under the first module called (the root)

    # ---- values --------------------------------------------------------------------------
    def new_value(self, t: Tensor, name=None) -> int:
        g = self.graph
        vid = len(g.meta)
        d = t._data
        strides = tuple(s // d.itemsize for s in d.strides) if d.itemsize else ()
        g.meta.append((str(t.dtype).rpartition(".")[2], tuple(d.shape), strides, bool(t._requires_grad),
                       str(t._device)))
        if name is not None:
            g.names[vid] = name
        self.ids[id(t)] = vid
        self.keep.append(t)
        return vid

    def ref(self, t: Tensor) -> Ref:
        vid = self.ids.get(id(t))
        if vid is None:
            path = self.attr_paths.get(id(t))
            if path is not None:
                vid = self.new_value(t, path)
                self.graph.attrs[vid] = path
            else:
                vid = self.new_value(t, f"c{len(self.graph.consts)}")
                self.graph.consts[vid] = t
        return Ref(vid)

    def encode(self, a):
        t = type(a)
        if t is Tensor or isinstance(a, Tensor):
            return self.ref(a)
        if t is SymInt:
            return Sym(a.expr)
        if t is tuple or t is Size:
            return tuple([self.encode(x) for x in a])
        if t is list:
            return [self.encode(x) for x in a]
        if t is dict:
            return {k: self.encode(v) for k, v in a.items()}
        if t is slice:
            return slice(self.encode(a.start), self.encode(a.stop), self.encode(a.step))
        if isinstance(a, tuple) and hasattr(a, "_fields"):
            return tuple([self.encode(x) for x in a])
        return a

    # ---- recording -------------------------------------------------------------------------
    def record(self, qname, fn, args, kw, result, before):
        side = any(t._version[0] != v for t, v in before)
        outs = flatten_tensors(result)
        if not outs and not side:
            return
        enc_args, enc_kw = self.encode(args), self.encode(kw)
        out_vids = [self.new_value(t) for t in outs]
        self.graph.nodes.append(GraphNode(qname, fn, enc_args, enc_kw, out_vids, side, tuple(self.scope)))

    def _report_op(self, op, inputs, args, kw, target, result):
        self.record(f"ops.{op.name}", _graph.run_op, (op, tuple(inputs), tuple(args), dict(kw), target), {},
                    result, [(target, -1)] if target is not None else ())

    def _wrap(self, qname, fn):
        guard = self.guard
        record = self.record

        def wrapper(*args, **kw):
            if not guard.top_level():
                return fn(*args, **kw)
            before = [(t, t._version[0]) for t in _shallow_tensors(args, kw)]
            guard.depth += 1
            try:
                result = fn(*args, **kw)
            finally:
                guard.depth -= 1
            record(qname, fn, args, kw, result, before)
            return result
        if isinstance(fn, _registry.Op):
            return _OpRecorder(fn, wrapper)
        wrapper.__dict__.update(fn.__dict__)         # e.g. a bound method's ``_op``
        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        wrapper.__wrapped__ = fn
        return wrapper

    def current(self, fn):
        """What a replay inside this trace calls for ``fn``: its recording wrapper."""
        if fn is _graph.run_op:
            return self._rec_apply
        return self.wrappers.get(id(fn), fn)

    # ---- installing ---------------------------------------------------------------------------
    def __enter__(self):
        if _graph._ACTIVE:
            raise RuntimeError("ember.jit.trace: tracing inside a trace is not supported")
        import ember
        _, entries = catalog()
        originals = entry_points()
        entry = entry_point_wrappers(self.guard, self._report_op)
        pairs = [(originals[n], entry[n]) for n in originals]
        self._rec_apply = entry["apply"]
        tensor_attrs = {}
        for q, fn in entries:
            w = self._wrap(q, fn)
            pairs.append((fn, w))
            if q.startswith("Tensor.") and Tensor.__dict__.get(q[7:]) is fn:
                tensor_attrs[q[7:]] = w
        pairs.append((ember.tensor, self._warn_tensor_ctor(ember.tensor)))
        self._pairs = pairs                 # keeps every original and wrapper alive (their ids are keys)
        self.wrappers = {id(o): w for o, w in pairs}
        for name, v in vars(Tensor).items():     # methods that are a public function itself (Tensor.flatten
            w = self.wrappers.get(id(v))         # is ember.flatten) record as that function
            if w is not None and name not in _TENSOR_SKIP and name not in tensor_attrs:
                tensor_attrs[name] = w
        tensor_attrs.update(self._tensor_specials())
        self._tensor_saved = {k: Tensor.__dict__[k] for k in tensor_attrs}
        swap_globals(self.wrappers)
        for k, v in tensor_attrs.items():
            setattr(Tensor, k, v)
        self._module_call = Module.__dict__["__call__"]
        Module.__call__ = self._scoped_call(self._module_call)
        _graph._ACTIVE.append(self)
        return self

    def __exit__(self, *exc):
        _graph._ACTIVE.remove(self)
        Module.__call__ = self._module_call
        for k, v in self._tensor_saved.items():
            setattr(Tensor, k, v)
        swap_globals({id(w): o for o, w in self._pairs})

    def _scoped_call(self, call):
        """``Module.__call__`` while tracing: calls of the first module's submodules (by their path
        under it) are pushed on ``scope`` around their forward, as torch's tracer scopes nodes."""
        scope, owner = self.scope, self.guard.owner

        def __call__(module, *args, **kwargs):
            if self._module_paths is None:
                self._module_paths = {}
                for p, m in module.named_modules(remove_duplicate=False):
                    self._module_paths.setdefault(id(m), p)
            path = self._module_paths.get(id(module))
            if not path or threading.get_ident() != owner:      # the root, or not one of its modules
                return call(module, *args, **kwargs)
            scope.append(path)
            try:
                return call(module, *args, **kwargs)
            finally:
                scope.pop()
        return __call__

    def _warn_tensor_ctor(self, fn):
        def tensor(*args, **kw):
            if self.guard.top_level():
                warnings.warn(_TENSOR_CTOR_WARNING, TracerWarning, stacklevel=2)
            return fn(*args, **kw)
        tensor.__wrapped__ = fn
        return tensor

    def _tensor_specials(self):
        """Tracing versions of size/shape (SymInts) and of the conversions torch warns about."""
        ids = self.ids
        saved = {k: Tensor.__dict__[k] for k in list(_CONVERSIONS) + ["size", "shape", "numel", "__len__",
                                                                     "__iter__"]}
        size, shape, numel = saved["size"], saved["shape"], saved["numel"]
        guard = self.guard

        def traced_size(t, dim=None):
            s = size(t, dim)
            vid = ids.get(id(t))
            if vid is None or not guard.top_level():
                return s
            if dim is None:
                return Size(SymInt(n, ("size", vid, i)) for i, n in enumerate(s))
            d = dim + t._data.ndim if dim < 0 else dim
            return SymInt(s, ("size", vid, d))

        def traced_shape(t):
            s = shape.fget(t)
            vid = ids.get(id(t))
            if vid is None or not guard.top_level():
                return s
            return Size(SymInt(n, ("size", vid, i)) for i, n in enumerate(s))

        def traced_numel(t):
            n = numel(t)
            vid = ids.get(id(t))
            return n if vid is None or not guard.top_level() else SymInt(n, ("numel", vid, 0))

        def warning(fn, message, nest=True):
            def method(t, *args, **kw):
                if not guard.top_level():
                    return fn(t, *args, **kw)
                if id(t) in ids:
                    warnings.warn(message, TracerWarning, stacklevel=2)
                if not nest:
                    return fn(t, *args, **kw)
                guard.depth += 1        # __bool__ reads item(): one warning, torch's
                try:
                    return fn(t, *args, **kw)
                finally:
                    guard.depth -= 1
            method.__name__ = fn.__name__
            return method

        out = {"size": traced_size, "shape": property(traced_shape), "numel": traced_numel}
        for k, what in _CONVERSIONS.items():
            out[k] = warning(saved[k], what + _CONVERSION_TAIL)
        out["__len__"] = warning(saved["__len__"], _LEN_WARNING)
        out["__iter__"] = warning(saved["__iter__"], _ITER_WARNING, nest=False)     # unbind is recorded
        return out


def _shallow_tensors(args, kw):
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a)
        elif type(a) in (tuple, list):
            out.extend(x for x in a if isinstance(x, Tensor))
    for a in kw.values():
        if isinstance(a, Tensor):
            out.append(a)
    return out


def flatten_inputs(obj, out, what="input"):
    """Tensors of a (nested) example input, in order; a spec to flatten call arguments the same way."""
    if isinstance(obj, Tensor):
        out.append(obj)
        return "T"
    if isinstance(obj, tuple):
        return ("tuple", [flatten_inputs(x, out) for x in obj])
    if isinstance(obj, list):
        return ("list", [flatten_inputs(x, out) for x in obj])
    if isinstance(obj, dict):
        return ("dict", [(k, flatten_inputs(v, out)) for k, v in obj.items()])
    raise TypeError(f"cannot trace an input of type {type(obj).__name__}")


def _type_str(obj):
    if isinstance(obj, tuple):
        return "Tuple[" + ", ".join(_type_str(x) for x in obj) + "]"
    if isinstance(obj, list):
        return "List[" + (_type_str(obj[0]) if obj else "Tensor") + "]"
    if isinstance(obj, dict):
        return "Dict[str, " + (_type_str(next(iter(obj.values()))) if obj else "Tensor") + "]"
    if isinstance(obj, Tensor):
        return "Tensor"
    return type(obj).__name__


def flatten_like(spec, obj, out, where="input"):
    """Flatten a call argument by a spec recorded at trace time (errors name the mismatch)."""
    if spec == "T":
        if not isinstance(obj, Tensor):
            raise RuntimeError(f"traced function expected a Tensor for {where}, but got {type(obj).__name__}")
        out.append(obj)
        return
    kind, items = spec
    if kind == "dict":
        if not isinstance(obj, dict):
            raise RuntimeError(f"traced function expected a dict for {where}, but got {type(obj).__name__}")
        for k, s in items:
            flatten_like(s, obj[k], out, f"{where}[{k!r}]")
        return
    if not isinstance(obj, (tuple, list)) or len(obj) != len(items):
        raise RuntimeError(f"traced function expected a {kind} of {len(items)} elements for {where}, but got "
                           f"{type(obj).__name__}" + (f" of {len(obj)}" if isinstance(obj, (tuple, list)) else ""))
    for i, (s, x) in enumerate(zip(items, obj)):
        flatten_like(s, x, out, f"{where}[{i}]")

