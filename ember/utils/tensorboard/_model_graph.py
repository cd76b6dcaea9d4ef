"""A model's traced graph as the ``GraphDef`` torch's ``add_graph`` logs, and the ``RunMetadata`` beside it.

The model is traced with ``ember.jit.trace`` (in eval mode, as torch does). Each recorded call becomes a
node per output tensor, named ``<scope>/<value>``: the scope is the model's class name, then
``Class[attr]`` for each submodule the call was made in (``Sequential/Linear[0]``); its op is the node's
kind (``aten::linear``), its inputs the nodes that made its tensor arguments, and ``_output_shapes`` the
output's shape. The model's inputs and outputs are "IO Node"s ``input/<name>`` and ``output/output.<i>``,
parameters and buffers ``prim::GetAttr`` nodes ``<module scope>/<attr>/<attr>``, tensor constants
``prim::Constant`` nodes; lists of tensors passed to a call and a tuple (list, dict) returned by the model
go through ``prim::ListConstruct`` (``TupleConstruct``, ``DictConstruct``) nodes, as in torch's graphs.
"""
from __future__ import annotations

import contextlib

from ...jit import trace
from ...jit._graph import Ref, display_kind, refs_in
from . import _proto


def _attr_text(d: dict) -> bytes:
    """A node's attributes as torch writes them: the dict's ``str`` with quotes turned into spaces."""
    return str(d).replace("'", " ").encode()


def _shape_attr(shape) -> bytes:
    """``_output_shapes``: an ``AttrValue.list``=1 holding one ``ListValue.shape``=7."""
    return _proto.blob(1, _proto.blob(7, b"".join(_proto.blob(2, _proto.optional(_proto.varint, 1, d or None))
                                                  for d in shape)))


def _attrs(text: bytes, shape=None) -> dict:
    out = {"attr": _proto.attr_string(text)}
    if shape is not None:
        out["_output_shapes"] = _shape_attr(shape)
    return out


@contextlib.contextmanager
def _eval_mode(model):
    training = model.training
    model.train(False)
    try:
        yield
    finally:
        model.train(training)


class _Builder:
    def __init__(self, model, graph):
        self.g = graph
        self.root = type(model).__name__
        self.model = model
        self.names = {}             # vid -> node name
        self.nodes = []             # (name, op, inputs, attrs)
        self.next_id = len(graph.meta)

    def scope_name(self, paths) -> str:
        """``Root/Class[attr]/...`` for the submodule paths a call was made in."""
        parts = [self.root]
        for path in paths:
            parts.append(f"{type(self.model.get_submodule(path)).__name__}[{path.rpartition('.')[2]}]")
        return "/".join(parts)

    def fresh(self) -> str:
        self.next_id += 1
        return str(self.next_id - 1)

    def shape(self, vid):
        m = self.g.meta[vid]
        return None if m is None else m[1]

    def value(self, vid, scope: str) -> str:
        """The node name of value ``vid``; a parameter, buffer or constant gets its node on first use."""
        name = self.names.get(vid)
        if name is not None:
            return name
        g = self.g
        if vid in g.attrs:
            *owner, attr = g.attrs[vid].split(".")
            module_scope = self.scope_name([".".join(owner[:i + 1]) for i in range(len(owner))])
            name = f"{module_scope}/{attr}/{attr}"
            self.nodes.append((name, "prim::GetAttr", [], _attrs(_attr_text({"name": attr}))))
        elif vid in g.consts:
            name = f"{scope}/{g.name(vid)}"
            self.nodes.append((name, "prim::Constant", [], _attrs(_attr_text({"value": g.consts[vid]}),
                                                                    self.shape(vid))))
        else:                       # a value made outside the trace's view
            raise RuntimeError(f"add_graph: the traced graph uses value %{g.name(vid)} before defining it")
        self.names[vid] = name
        return name

    def inputs(self, a, scope: str, out: list, top=True) -> list:
        """The node names a call's argument reads, in order; a list or tuple holding tensors goes through a
        ``prim::ListConstruct`` node."""
        t = type(a)
        if t is Ref:
            out.append(self.value(a.vid, scope))
        elif t in (tuple, list):
            items = []
            for x in a:
                self.inputs(x, scope, items, False)
            if items and top:
                name = f"{scope}/{self.fresh()}"
                self.nodes.append((name, "prim::ListConstruct", items, _attrs(b"{}")))
                out.append(name)
            else:
                out.extend(items)
        elif t is dict:
            for x in a.values():
                self.inputs(x, scope, out, top)
        return out

    def output(self, a, scope: str) -> str | None:
        """The node name of a (nested) model output; containers get a ``prim::*Construct`` node."""
        t = type(a)
        if t is Ref:
            return self.value(a.vid, scope)
        if t in (tuple, list, dict):
            items = [self.output(x, scope) for x in (a.values() if t is dict else a)]
            kind = {tuple: "prim::TupleConstruct", list: "prim::ListConstruct", dict: "prim::DictConstruct"}[t]
            name = f"{scope}/{self.fresh()}"
            self.nodes.append((name, kind, [i for i in items if i is not None], _attrs(b"{}")))
            return name
        return None

    def build(self) -> list:
        g = self.g
        used = set()
        for node in g.nodes:
            used |= _refs(node.args) | _refs(node.kw)
        used |= _refs(g.output)
        io = []
        for vid in g.inputs:
            self.names[vid] = f"input/{g.name(vid)}"
            if vid in used:             # torch leaves out inputs nothing uses
                io.append((self.names[vid], "IO Node", [], _attrs(b"", self.shape(vid))))
        for node in g.nodes:
            if not node.outs:
                continue
            scope = self.scope_name(node.scope)
            if node.qname.startswith("ops."):      # (op, inputs, args, kw, target)
                args = (*node.args[1], *node.args[2], node.args[3], node.args[4])
            else:
                args = (*node.args, node.kw)
            ins = []
            for a in args:
                self.inputs(a, scope, ins)
            kind = display_kind(node.qname)
            for vid in node.outs:
                name = f"{scope}/{g.name(vid)}"
                self.nodes.append((name, kind, ins, _attrs(b"{}", self.shape(vid))))
                self.names[vid] = name
        out = self.output(g.output, self.root)
        if out is not None:
            shape = self.shape(g.output.vid) if type(g.output) is Ref else [1]   # torch's size of a container
            io.append(("output/output.1", "IO Node", [out], _attrs(b"", shape)))
        return io + self.nodes


def _refs(a) -> set:
    return refs_in(a, set())


def graph(model, args, verbose: bool = False, use_strict_trace: bool = True):
    """The encoded (``GraphDef``, ``RunMetadata``) of ``model`` traced on ``args``."""
    with _eval_mode(model):
        try:
            traced = trace(model, args, strict=use_strict_trace)
        except RuntimeError as e:
            print(e)
            print("Error occurs, No graph saved")
            raise
    g = traced._graph
    if verbose:
        print(traced.graph)
    graph_def = _proto.graph_def(_Builder(model, g).build(), producer=22)
    run_metadata = _proto.blob(1, _proto.blob(1, _proto.blob(1, "/device:CPU:0")))  # step_stats.dev_stats.device
    return graph_def, run_metadata
