"""``ember.jit.save``/``load``: ember's own archive for traced modules and functions.

A TorchScript archive holds TorchScript code, which only a TorchScript interpreter can run.  An
ember archive is an ``ember.save`` checkpoint (PyTorch's zip layout, storages as torch writes
them) of one dict: the graph as JSON data (call names, constant arguments, value ids), the module
tree, and the tensors (parameters, buffers, constants).  Loading uses the weights-only unpickler,
and a graph may only name ember's public functions and ops, so loading runs no code from the file.
"""
from __future__ import annotations

import json
import os
import zipfile
from collections import OrderedDict

import numpy as np

from .._ops import _registry
from .._tensor import make
from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from ..serialization import load as _load
from ..serialization import save as _save
from ._graph import Graph, GraphNode, Ref, Sym
from ._module import RecursiveScriptModule, ScriptFunction, ScriptModule
from ._tracer import resolve

FORMAT = "ember.jit"
VERSION = 1


def save(m, f, _extra_files=None) -> None:
    """Write ``m`` (from ``ember.jit.trace``, ``script`` or ``load``) to ``f`` (a path or a binary file)."""
    if isinstance(m, ScriptFunction):
        if m._graph is None:
            raise RuntimeError(_NO_GRAPH.format(what=f"function {m.name}"))
        kind, tree, state = "function", {"name": m.name}, OrderedDict()
        graph = m._graph
    elif isinstance(m, ScriptModule):
        kind, state = "module", OrderedDict()
        tree = _tree(m, "", state)
        graph = m.__dict__.get("_graph")
    else:
        raise TypeError(f"ember.jit.save expects a ScriptModule or ScriptFunction (from ember.jit.trace, script "
                        f"or load), got {type(m).__name__}")
    tensors = {"state": state, "consts": {}, "arrays": {}}
    payload = {"format": FORMAT, "version": VERSION, "kind": kind, "tree": json.dumps(tree),
               "graph": None if graph is None else json.dumps(_graph_to_data(graph, tensors)),
               "tensors": tensors,
               "extra": {k: (v.encode() if isinstance(v, str) else bytes(v)) for k, v in (_extra_files or {}).items()}}
    _save(payload, f)


_NO_GRAPH = ("ember.jit.save: this {what} comes from ember.jit.script, which runs Python eagerly (ember has no "
             "TorchScript compiler), so there is no graph to save: trace it with ember.jit.trace instead")


def _tree(m: Module, prefix: str, state: OrderedDict) -> dict:
    for name, p in m._parameters.items():
        if p is not None:
            state[prefix + name] = p if isinstance(p, Parameter) else Parameter(p, p.requires_grad)
    for name, b in m._buffers.items():
        if b is not None:
            state[prefix + name] = b
    return {"name": getattr(m, "original_name", type(m).__name__), "training": m.training,
            "params": [n for n, p in m._parameters.items() if p is not None],
            "buffers": [n for n, b in m._buffers.items() if b is not None],
            "non_persistent": sorted(m._non_persistent_buffers_set),
            "children": {n: _tree(c, prefix + n + ".", state) for n, c in m._modules.items() if c is not None}}


def load(f, map_location=None, _extra_files=None):
    """Load what ``ember.jit.save`` wrote (a ``RecursiveScriptModule`` or ``ScriptFunction``).

    A TorchScript archive from ``torch.jit.save`` is refused with an error: ember cannot run TorchScript.
    """
    if isinstance(f, (str, os.PathLike)):
        if not os.path.exists(f):
            raise ValueError(f"The provided filename {f} does not exist")
        if os.path.isdir(f):
            raise ValueError(f"The provided filename {f} is a directory")
        with open(f, "rb") as fh:
            return _load_file(fh, map_location, _extra_files, str(f))
    return _load_file(f, map_location, _extra_files, getattr(f, "name", "<file>"))


def _load_file(fh, map_location, extra_files, fname):
    start = fh.tell()
    try:
        names = zipfile.ZipFile(fh).namelist()
    except zipfile.BadZipFile:
        raise RuntimeError(f"{fname} is not an ember.jit archive (not a zip file)") from None
    fh.seek(start)
    if any(n.endswith("/constants.pkl") or "/code/__torch__" in n for n in names):
        raise RuntimeError(
            f"{fname} is a TorchScript archive (written by torch.jit.save): it holds TorchScript code, and ember "
            "cannot run TorchScript (it has no TorchScript interpreter). Save the weights from PyTorch "
            "(torch.save(model.state_dict(), path)) and load them into the Python module, or trace the "
            "model with ember.jit.trace and save that")
    payload = _load(fh, map_location=map_location, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise RuntimeError(f"{fname} is not an ember.jit archive (it is a checkpoint of ember.save/torch.save: "
                           "load it with ember.load)")
    if payload.get("version", 0) > VERSION:
        raise RuntimeError(f"{fname} was written by a newer ember.jit (archive version {payload['version']})")
    if extra_files is not None:
        for k in list(extra_files):
            if k in payload["extra"]:
                extra_files[k] = payload["extra"][k]
    tensors = payload["tensors"]
    graph = None if payload["graph"] is None else _graph_from_data(json.loads(payload["graph"]), tensors)
    tree = json.loads(payload["tree"])
    if payload["kind"] == "function":
        return ScriptFunction(tree["name"], graph)
    m = _build(tree, "", tensors["state"])
    m.__dict__["_graph"] = graph
    return m


def _build(tree, prefix, state) -> RecursiveScriptModule:
    m = RecursiveScriptModule(tree["name"])
    for n in tree["params"]:
        m._parameters[n] = state[prefix + n]
    for n in tree["buffers"]:
        m._buffers[n] = state[prefix + n]
    m._non_persistent_buffers_set.update(tree["non_persistent"])
    for n, sub in tree["children"].items():
        m._modules[n] = _build(sub, prefix + n + ".", state)
    m.training = tree["training"]
    return m


# ---- graphs as JSON data ------------------------------------------------------------------------
def _ember_constants():
    """Non-callable ember values a graph may name (dtypes, memory formats, layouts, the default generator)."""
    import ember
    return {k: v for k, v in vars(ember).items()
            if not k.startswith("_") and type(v).__module__.startswith("ember") and not callable(v)
            and not isinstance(v, type(ember))} | {k: getattr(ember, k) for k in ("default_generator",)}


def _graph_to_data(g: Graph, tensors) -> dict:
    consts = {}
    for vid, t in g.consts.items():
        consts[str(vid)] = t
    tensors["consts"].update(consts)
    named = {id(v): k for k, v in _ember_constants().items()}

    def enc(a):
        t = type(a)
        if a is None or t in (bool, int, float, str):
            return a
        if t is list:
            return [enc(x) for x in a]
        if t is tuple or isinstance(a, tuple):
            return {"$": "tuple", "v": [enc(x) for x in a]}
        if t is dict:
            return {"$": "dict", "v": [[enc(k), enc(v)] for k, v in a.items()]}
        if t is Ref:
            return {"$": "ref", "v": a.vid}
        if t is Sym:
            return {"$": "sym", "v": _enc_expr(a.expr)}
        if t is slice:
            return {"$": "slice", "v": [enc(a.start), enc(a.stop), enc(a.step)]}
        if a is Ellipsis:
            return {"$": "..."}
        if t is complex:
            return {"$": "complex", "v": [a.real, a.imag]}
        if isinstance(a, _registry.Op):
            return {"$": "op", "v": a.name}
        if id(a) in named:
            return {"$": "ember", "v": named[id(a)]}
        if type(a).__name__ == "Device" and type(a).__module__ == "ember._backend":
            return {"$": "device", "v": str(a)}
        if isinstance(a, np.ndarray):
            key = str(len(tensors["arrays"]))
            tensors["arrays"][key] = make(np.ascontiguousarray(a), _cpu())
            return {"$": "array", "v": key}
        if isinstance(a, np.generic):
            return {"$": "np", "d": a.dtype.str, "v": enc(a.item())}
        if isinstance(a, int):          # an int subclass (a size): its value
            return int(a)
        if isinstance(a, float):
            return float(a)
        raise TypeError(f"ember.jit.save: cannot save a traced call's argument of type {type(a).__name__}")

    def enc_node(n: GraphNode):
        try:
            return {"q": n.qname, "a": enc(n.args), "k": enc(n.kw), "o": n.outs, "s": n.side_effect}
        except TypeError as e:
            raise TypeError(f"{e} (in the call {n.qname})") from None

    return {"inputs": g.inputs, "input_spec": _enc_spec(g.input_spec), "attrs": {str(k): v for k, v in g.attrs.items()},
            "consts": list(consts), "nodes": [enc_node(n) for n in g.nodes], "output": enc(g.output),
            "meta": g.meta, "names": {str(k): v for k, v in g.names.items()}}


def _enc_expr(e):
    return [_enc_expr(x) for x in e] if type(e) is tuple else e


def _dec_expr(e):
    return tuple(_dec_expr(x) for x in e) if type(e) is list else e


def _enc_spec(spec):
    return json.loads(json.dumps(spec))


def _dec_spec(spec):
    if spec == "T":
        return spec
    kind, *rest = spec
    if kind == "args":
        return ("args", [_dec_spec(s) for s in rest[0]])
    if kind == "kwargs":
        return ("kwargs", list(rest[0]), [_dec_spec(s) for s in rest[1]])
    if kind == "dict":
        return ("dict", [(k, _dec_spec(s)) for k, s in rest[0]])
    return (kind, [_dec_spec(s) for s in rest[0]])


def _graph_from_data(d: dict, tensors) -> Graph:
    named = _ember_constants()
    arrays = tensors["arrays"]

    def dec(a):
        if isinstance(a, list):
            return [dec(x) for x in a]
        if not isinstance(a, dict):
            return a
        tag, v = a.get("$"), a.get("v")
        if tag == "tuple":
            return tuple(dec(x) for x in v)
        if tag == "dict":
            return {dec(k): dec(x) for k, x in v}
        if tag == "ref":
            return Ref(int(v))
        if tag == "sym":
            return Sym(_dec_expr(v))
        if tag == "slice":
            return slice(*(dec(x) for x in v))
        if tag == "...":
            return Ellipsis
        if tag == "complex":
            return complex(*v)
        if tag == "op":
            if v not in _registry.OPS:
                raise RuntimeError(f"ember.jit.load: the archive names an op ember does not have: {v}")
            return _registry.OPS[v]
        if tag == "ember":
            if v not in named:
                raise RuntimeError(f"ember.jit.load: the archive names an unknown ember constant: {v}")
            return named[v]
        if tag == "device":
            from .._backend import Device
            return Device(v)
        if tag == "array":
            return arrays[v]._data
        if tag == "np":
            return np.dtype(a["d"]).type(dec(v))
        raise RuntimeError(f"ember.jit.load: unknown entry in the archive's graph: {tag!r}")

    g = Graph()
    g.inputs = list(d["inputs"])
    g.input_spec = _dec_spec(d["input_spec"])
    g.attrs = {int(k): v for k, v in d["attrs"].items()}
    g.consts = {int(k): tensors["consts"][k] for k in d["consts"]}
    g.meta = [tuple(m) if m is not None else None for m in d["meta"]]
    g.names = {int(k): v for k, v in d["names"].items()}
    for n in d["nodes"]:
        try:
            fn = resolve(n["q"])
        except KeyError:
            raise RuntimeError(f"ember.jit.load: the archive calls {n['q']}, which is not an ember function "
                               "a graph may call") from None
        g.nodes.append(GraphNode(n["q"], fn, dec(n["a"]), dec(n["k"]), list(n["o"]), bool(n["s"])))
    g.output = dec(d["output"])
    return g


def _cpu():
    from .._backend import CPU
    return CPU

