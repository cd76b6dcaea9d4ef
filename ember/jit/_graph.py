"""A traced graph: the calls a function made, as data, replayed on new inputs.

Each node is one top-level call the tracer saw: a public function or Tensor method
(``ember.nn.functional.linear``, ``Tensor.view``, ``Tensor.__add__``) or, where user code reached
an op some other way, the op itself (``ops.<name>``, replayed through the registry's ``apply``).
Arguments are constants, ``Ref``s to earlier values, or ``Sym``bolic sizes (``x.size(0) * 2``)
recomputed from the new inputs, which keeps a trace shape-generic where torch's is.
"""
from __future__ import annotations

import operator

import numpy as np

from .._ops import _registry
from .._ops._recording import entry_points
from .._tensor import Tensor, tensors_in

_ORIGINAL = entry_points()   # in a dict: recording swaps module globals, not this


def run_op(op, inputs, args, kw, target):
    """Replay an op node: the registry's own ``apply``."""
    return _ORIGINAL["apply"](op, inputs, args, kw, target)


_ACTIVE = []          # the tracer recording now, if any (a replay inside a trace is recorded)

SYM_OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
           "floordiv": operator.floordiv, "mod": operator.mod}
_SYM_TEXT = {"add": "+", "sub": "-", "mul": "*", "floordiv": "//", "mod": "%"}


class Ref:
    """An argument that is the graph value ``vid``."""

    __slots__ = ("vid",)

    def __init__(self, vid: int):
        self.vid = vid

    def __eq__(self, other):
        return type(other) is Ref and other.vid == self.vid

    def __hash__(self):
        return hash(("ref", self.vid))


class Sym:
    """An int argument computed from value sizes: ``("size", vid, dim)``, ``("numel", vid, 0)`` or
    ``(op, a, b)``."""

    __slots__ = ("expr",)

    def __init__(self, expr):
        self.expr = expr

    def __eq__(self, other):
        return type(other) is Sym and other.expr == self.expr

    def __hash__(self):
        return hash(("sym", self.expr))


def eval_sym(e, env):
    if type(e) is not tuple:
        return e
    if e[0] == "size":
        return env[e[1]]._data.shape[e[2]]
    if e[0] == "numel":
        return int(env[e[1]]._data.size)
    return SYM_OPS[e[0]](eval_sym(e[1], env), eval_sym(e[2], env))


def substitute(a, env):
    """An encoded argument with its Refs and Syms replaced by this run's values."""
    t = type(a)
    if t is Ref:
        return env[a.vid]
    if t is tuple:
        return tuple([substitute(x, env) for x in a])
    if t is list:
        return [substitute(x, env) for x in a]
    if t is dict:
        return {k: substitute(v, env) for k, v in a.items()}
    if t is Sym:
        return eval_sym(a.expr, env)
    if t is slice:
        return slice(substitute(a.start, env), substitute(a.stop, env), substitute(a.step, env))
    return a


def flatten_tensors(obj):
    """The tensors in a (nested) call result, in order."""
    return list(tensors_in(obj))


def refs_in(a, out):
    """The value ids an encoded argument reads."""
    t = type(a)
    if t is Ref:
        out.add(a.vid)
    elif t is Sym:
        _sym_refs(a.expr, out)
    elif t in (tuple, list):
        for x in a:
            refs_in(x, out)
    elif t is dict:
        for x in a.values():
            refs_in(x, out)
    elif t is slice:
        refs_in((a.start, a.stop, a.step), out)
    return out


def _sym_refs(e, out):
    if type(e) is tuple:
        if e[0] in ("size", "numel"):
            out.add(e[1])
        else:
            _sym_refs(e[1], out)
            _sym_refs(e[2], out)


class GraphNode:
    """One recorded call: ``qname`` names it, ``fn`` runs it; ``outs`` are the value ids of the
    tensors in its result; ``side_effect`` marks a call that wrote into a tensor in place; ``scope``
    holds the paths (``"features.0"``) of the submodules whose calls it was made in, outermost first
    (for ``SummaryWriter.add_graph``; not saved)."""

    __slots__ = ("args", "fn", "kw", "outs", "qname", "scope", "side_effect")

    def __init__(self, qname, fn, args, kw, outs, side_effect, scope=()):
        self.qname, self.fn, self.args, self.kw = qname, fn, args, kw
        self.outs, self.side_effect, self.scope = outs, side_effect, scope

    def signature(self):
        """What must agree between two traces of the same code (for ``check_trace``)."""
        return (self.qname, _shape_free(self.args), _shape_free(self.kw), len(self.outs))


def _shape_free(a):
    t = type(a)
    if t in (tuple, list):
        return tuple(_shape_free(x) for x in a)
    if t is dict:
        return tuple((k, _shape_free(v)) for k, v in a.items())
    if isinstance(a, (Tensor, np.ndarray)):
        return ("tensor",)
    if isinstance(a, _registry.Op):
        return ("op", a.name)
    if t is slice:
        return ("slice", _shape_free((a.start, a.stop, a.step)))
    return a if t in (Ref, Sym, int, float, bool, str, type(None)) else repr(a)


class Graph:
    """Inputs, attributes (parameters/buffers by path), constants, nodes and the output structure.

    ``meta[vid]`` is ``(dtype name, shape, strides, requires_grad, device)`` seen when tracing, for
    printing; ``names`` are debug names (inputs, attributes, constants); ``input_spec`` says how call
    arguments flatten into the inputs.
    """

    def __init__(self):
        self.inputs: list = []          # vids, in flattened order
        self.input_spec = None          # ("args", [spec...]) or ("kwargs", [names], [spec...])
        self.attrs: dict = {}           # vid -> "sub.weight"
        self.consts: dict = {}          # vid -> Tensor
        self.nodes: list = []
        self.output = None              # the encoded output structure (Refs at the leaves)
        self.meta: list = []
        self.names: dict = {}           # vid -> debug name

    def __deepcopy__(self, memo):
        """Copies hold their own constants; nodes (calls and constant arguments) are shared."""
        import copy
        g = copy.copy(self)
        g.consts = {v: copy.deepcopy(t, memo) for v, t in self.consts.items()}
        return g

    # ---- running ---------------------------------------------------------------------
    def run(self, flat_inputs, get_attr=None):
        env = [None] * len(self.meta)
        for vid, t in zip(self.inputs, flat_inputs):
            env[vid] = t
        for vid, path in self.attrs.items():
            env[vid] = get_attr(path)
        for vid, t in self.consts.items():
            env[vid] = t
        tracer = _ACTIVE[-1] if _ACTIVE else None
        for node in self.nodes:
            fn = node.fn if tracer is None else tracer.current(node.fn)
            args = substitute(node.args, env)
            result = fn(*args, **substitute(node.kw, env)) if node.kw else fn(*args)
            outs = node.outs
            if len(outs) == 1 and type(result) is Tensor:
                env[outs[0]] = result
            elif outs:
                got = flatten_tensors(result)
                if len(got) != len(outs):
                    raise RuntimeError(
                        f"the traced call {display_kind(node.qname)} returned {len(got)} tensors where the trace "
                        f"recorded {len(outs)}: the trace does not generalize to these inputs (trace again "
                        "with inputs like these)")
                for vid, t in zip(outs, got):
                    env[vid] = t
        return substitute(self.output, env)

    def prune(self):
        """Drop calls whose results nothing uses (calls that wrote in place stay), as torch does."""
        live = refs_in(self.output, set())
        kept = []
        for node in reversed(self.nodes):
            if node.side_effect or any(o in live for o in node.outs):
                kept.append(node)
                refs_in(node.args, live)
                refs_in(node.kw, live)
        self.nodes = kept[::-1]
        self.attrs = {v: p for v, p in self.attrs.items() if v in live}
        self.consts = {v: t for v, t in self.consts.items() if v in live}

    def nondeterministic_nodes(self):
        return [n for n in self.nodes if _is_random(n)]

    # ---- printing ----------------------------------------------------------------------
    def name(self, vid) -> str:
        return self.names.get(vid, str(vid))

    def type_str(self, vid) -> str:
        m = self.meta[vid]
        if m is None:
            return "Tensor"
        dt, shape, strides, rg, dev = m
        dims = ", ".join(map(str, shape))
        return (f"{_TYPE_NAMES.get(dt, dt)}({dims}{', ' if dims else ''}strides=[{', '.join(map(str, strides))}], "
                f"requires_grad={int(rg)}, device={dev})")

    def _arg_text(self, a) -> str:
        t = type(a)
        if t is Ref:
            return "%" + self.name(a.vid)
        if t is Sym:
            return self._sym_text(a.expr, lambda v: "%" + self.name(v))
        if t is tuple:
            return "(" + ", ".join(self._arg_text(x) for x in a) + ("," if len(a) == 1 else "") + ")"
        if t is list:
            return "[" + ", ".join(self._arg_text(x) for x in a) + "]"
        if t is dict:
            return "{" + ", ".join(f"{k!r}: {self._arg_text(v)}" for k, v in a.items()) + "}"
        if isinstance(a, _registry.Op):
            return f"ops.{a.name}"
        if isinstance(a, np.ndarray):
            return f"array{list(a.shape)}"
        return repr(a)

    def graph_text(self, self_type=None) -> str:
        params = ([f"%self : {self_type}"] if self_type else []) + [
            f"%{self.name(v)} : {self.type_str(v)}" for v in self.inputs]
        lines = ["graph(" + ",\n      ".join(params) + "):"]
        for vid, path in self.attrs.items():
            lines.append(f"  %{self.name(vid)} : {self.type_str(vid)} = prim::GetAttr[name=\"{path}\"](%self)")
        for vid in self.consts:
            lines.append(f"  %{self.name(vid)} : {self.type_str(vid)} = prim::Constant[value=<Tensor>]()")
        for node in self.nodes:
            args = node.args
            if node.qname.startswith("ops."):   # (op, inputs, args, kw, target)
                args = tuple(args[1]) + tuple(args[2]) + ((args[4],) if args[4] is not None else ())
                kw = node.args[3]
            else:
                kw = node.kw
            parts = [self._arg_text(a) for a in args] + [f"{k}={self._arg_text(v)}" for k, v in kw.items()]
            outs = ", ".join(f"%{self.name(o)} : {self.type_str(o)}" for o in node.outs)
            call = f"{display_kind(node.qname)}({', '.join(parts)})"
            lines.append(f"  {outs} = {call}" if outs else f"  {call}")
        lines.append(f"  return ({self._arg_text(self.output)})")
        return "\n".join(lines) + "\n"

    def code_text(self, method="forward", is_method=True) -> str:
        names = {}

        def var(vid):
            if vid not in names:
                if vid in self.attrs:
                    names[vid] = _attr_code(self.attrs[vid])
                elif vid in self.consts:
                    names[vid] = f"CONSTANTS.c{len([v for v in names.values() if v.startswith('CONSTANTS')])}"
                elif vid in self.inputs:
                    names[vid] = self.name(vid).replace(".", "_")
                else:
                    names[vid] = f"_{len([v for v in names.values() if v.startswith('_')])}"
            return names[vid]

        def text(a):
            t = type(a)
            if t is Ref:
                return var(a.vid)
            if t is Sym:
                return self._sym_text(a.expr, var)
            if t is tuple:
                return "(" + ", ".join(text(x) for x in a) + ("," if len(a) == 1 else "") + ")"
            if t is list:
                return "[" + ", ".join(text(x) for x in a) + "]"
            if t is dict:
                return "{" + ", ".join(f"{k!r}: {text(v)}" for k, v in a.items()) + "}"
            if t is slice:
                return ":".join("" if x is None else text(x) for x in (a.start, a.stop)) + (
                    "" if a.step is None else ":" + text(a.step))
            if isinstance(a, _registry.Op):
                return f"ops.ember.{a.name}"
            if isinstance(a, np.ndarray):
                return f"array({a.tolist()!r})"
            return repr(a)

        for v in self.inputs:
            var(v)
        head = ["self"] if is_method else []
        params = head + [f"{var(v)}: Tensor" for v in self.inputs]
        lines = [f"def {method}(" + ",\n    ".join(params) + ") -> " + _out_type(self.output) + ":"]
        for node in self.nodes:
            q = node.qname
            if q.startswith("ops."):
                op, ins, args, kw, target = node.args
                parts = [text(a) for a in tuple(ins) + tuple(args)] + [f"{k}={text(v)}" for k, v in kw.items()]
                call = f"ops.ember.{op.name}" + ("_" if target is not None else "") + f"({', '.join(parts)})"
            else:
                call = _call_code(q, [text(a) for a in node.args], {k: text(v) for k, v in node.kw.items()})
            if node.outs:
                lhs = ", ".join(var(o) for o in node.outs)
                lines.append(f"  {lhs} = {call}")
            else:
                lines.append(f"  {call}")
        lines.append(f"  return {text(self.output)}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _sym_text(e, var) -> str:
        """A symbolic size expression as text, each traced value named by ``var(value id)``."""
        if type(e) is not tuple:
            return repr(e)
        if e[0] == "size":
            return f"{var(e[1])}.size({e[2]})"
        if e[0] == "numel":
            return f"{var(e[1])}.numel()"
        return f"({Graph._sym_text(e[1], var)} {_SYM_TEXT[e[0]]} {Graph._sym_text(e[2], var)})"


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
               "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_BINARY = {"__add__": "+", "__sub__": "-", "__mul__": "*", "__truediv__": "/", "__floordiv__": "//",
           "__mod__": "%", "__pow__": "**", "__matmul__": "@", "__and__": "&", "__or__": "|",
           "__xor__": "^", "__lshift__": "<<", "__rshift__": ">>", "__eq__": "==", "__ne__": "!=",
           "__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}
_UNARY = {"__neg__": "-", "__pos__": "+", "__invert__": "~", "__abs__": "abs"}


def _attr_code(path: str) -> str:
    """``self.l1.weight``; ``getattr(self, "0").weight`` where a name is not an identifier."""
    out = "self"
    for part in path.split("."):
        out = f"{out}.{part}" if part.isidentifier() else f'getattr({out}, "{part}")'
    return out


def display_kind(qname: str) -> str:
    """The node kind printed in ``.graph``: ``aten::linear``, ``aten::add``, ``ember::<op>``."""
    if qname.startswith("ops."):
        return "ember::" + qname[4:]
    name = qname.rpartition(".")[2]
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
        if name.startswith(("r", "i")) and name[1:] in {k[2:-2] for k in _BINARY}:
            name = name[1:] + ("_" if qname.rpartition(".")[2].startswith("__i") else "")
        name = {"truediv": "div", "getitem": "__getitem__", "setitem": "__setitem__"}.get(name, name)
    return "aten::" + name


def _call_code(qname, args, kw):
    owner, _, name = qname.rpartition(".")
    kwtext = [f"{k}={v}" for k, v in kw.items()]
    if owner == "Tensor":
        if name in _BINARY and len(args) == 2 and not kw:
            return f"{args[0]} {_BINARY[name]} {args[1]}"
        if name[:3] == "__r" and "__" + name[3:] in _BINARY and len(args) == 2 and not kw:
            return f"{args[1]} {_BINARY['__' + name[3:]]} {args[0]}"
        if name in _UNARY and len(args) == 1:
            return f"{_UNARY[name]}({args[0]})" if name == "__abs__" else f"{_UNARY[name]}{args[0]}"
        if name == "__getitem__" and len(args) == 2:
            return f"{args[0]}[{args[1]}]"
        if name == "__setitem__" and len(args) == 3:
            return f"{args[0]}[{args[1]}] = {args[2]}"
        return f"{args[0]}.{name}({', '.join(args[1:] + kwtext)})"
    return f"{'torch' + owner[5:]}.{name}({', '.join(args + kwtext)})"


def _out_type(out) -> str:
    t = type(out)
    if t is Ref:
        return "Tensor"
    if t is tuple:
        return "Tuple[" + ", ".join(_out_type(x) for x in out) + "]"
    if t is list:
        return "List[Tensor]"
    if t is dict:
        return "Dict[str, Tensor]"
    return "Tensor"


_RANDOM_WORDS = ("dropout", "rand", "bernoulli", "normal", "multinomial", "poisson", "exponential",
                 "geometric", "cauchy", "uniform", "random")


def _is_random(node) -> bool:
    name = node.args[0].name if node.qname.startswith("ops.") else node.qname.rpartition(".")[2]
    return any(w in name for w in _RANDOM_WORDS)
