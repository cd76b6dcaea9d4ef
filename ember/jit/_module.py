"""ScriptModule, TracedModule, RecursiveScriptModule and ScriptFunction: what trace, script and load
return."""
from __future__ import annotations

import inspect

from ..nn.modules.module import Module
from ._graph import Graph
from ._tracer import flatten_like


class ScriptModule(Module):
    """torch.jit.ScriptModule: a Module whose ``forward`` is a recorded graph (traced or loaded).

    Subclassed directly (old-style ``@script_method`` code), it is an ordinary Module run eagerly.
    """

    _graph = None

    @property
    def graph(self) -> GraphView:
        return GraphView(_require_graph(self), _self_type(self))

    @property
    def inlined_graph(self) -> GraphView:
        return self.graph

    @property
    def code(self) -> str:
        g = self.__dict__.get("_graph")
        if g is None:
            return _source_of(type(self).forward)
        return g.code_text()

    @property
    def original_name(self) -> str:
        return self.__dict__.get("_original_name", type(self).__name__)

    def save(self, f, _extra_files=None) -> None:
        """``torch.jit.save(self, f)``: write ember's archive of this module (see ``ember.jit.save``)."""
        from ._serialization import save
        save(self, f, _extra_files)

    def _replay(self, args, kwargs):
        g = self._graph
        flat = []
        spec = g.input_spec
        if spec[0] == "args":
            if kwargs:
                raise RuntimeError(f"forward() got unexpected keyword arguments {sorted(kwargs)} (the trace took "
                                   "positional inputs)")
            if len(args) != len(spec[1]):
                raise RuntimeError(f"forward() expected {len(spec[1])} argument(s) but got {len(args)}")
            for i, (s, a) in enumerate(zip(spec[1], args)):
                flatten_like(s, a, flat, f"argument {i + 1}")
        else:
            values = dict(zip(spec[1], args))
            values.update(kwargs)
            for name, s in zip(spec[1], spec[2]):
                if name not in values:
                    raise RuntimeError(f"forward() is missing value for argument '{name}'")
                flatten_like(s, values[name], flat, f"argument '{name}'")
        return g.run(flat, getattr(self, "_get_attr", None))

    def _get_attr(self, path: str):
        mod = self
        *mods, name = path.split(".")
        for m in mods:
            mod = mod._modules[m]
        t = mod._parameters.get(name)
        if t is None:
            t = mod._buffers.get(name)
        if t is None:
            raise RuntimeError(f"the traced graph reads attribute '{path}', which this module no longer has")
        return t


class TracedModule(ScriptModule):
    """torch.jit.TracedModule: the module hierarchy of a traced Module, sharing its parameters and
    buffers; the top level runs the traced graph."""

    def __init__(self, orig: Module, graph: Graph | None = None):
        super().__init__()
        self.__dict__["_original_name"] = type(orig).__name__
        for name, p in orig._parameters.items():
            if p is not None:
                self._parameters[name] = p
        for name, b in orig._buffers.items():
            if b is not None:
                self._buffers[name] = b
                if name in orig._non_persistent_buffers_set:
                    self._non_persistent_buffers_set.add(name)
        for name, sub in orig._modules.items():
            if sub is not None:
                self._modules[name] = TracedModule(sub)
        self.training = orig.training
        if graph is not None:
            self.__dict__["_graph"] = graph

    def forward(self, *args, **kwargs):
        if self._graph is None:
            raise RuntimeError("Trace submodules cannot be called.")
        return self._replay(args, kwargs)

    def _get_name(self) -> str:
        return self.original_name

    def extra_repr(self) -> str:
        return f"original_name={self.original_name}"


class TopLevelTracedModule(TracedModule):
    """What ``trace(module)`` returns (torch's class of the same name)."""


class RecursiveScriptModule(ScriptModule):
    """What ``ember.jit.load`` returns: parameters, buffers and submodules from the archive; the top
    level runs the saved graph."""

    def __init__(self, original_name: str):
        super().__init__()
        self.__dict__["_original_name"] = original_name

    def forward(self, *args, **kwargs):
        if self._graph is None:
            raise RuntimeError(
                f"this {self.original_name} was saved without a traced graph (from ember.jit.script, which "
                "runs Python eagerly and has nothing to save but the weights): load its state_dict() into "
                "the Python module, or save a module from ember.jit.trace instead")
        return self._replay(args, kwargs)

    def _get_name(self) -> str:
        return "RecursiveScriptModule"

    def extra_repr(self) -> str:
        return f"original_name={self.original_name}"


class ScriptFunction:
    """torch.jit.ScriptFunction: a traced function (replays its graph), or a scripted one (runs the
    Python function eagerly: ember has no TorchScript compiler)."""

    def __init__(self, name: str, graph: Graph | None = None, fn=None):
        self.name = name
        self.qualified_name = f"__torch__.{name}"
        self._graph = graph
        self._fn = fn
        if fn is not None:
            self.__doc__ = fn.__doc__
            self.__wrapped__ = fn

    def __call__(self, *args, **kwargs):
        if self._graph is None:
            return self._fn(*args, **kwargs)
        return ScriptModule._replay(self, args, kwargs)

    @property
    def graph(self) -> GraphView:
        return GraphView(_require_graph(self), None)

    @property
    def inlined_graph(self) -> GraphView:
        return self.graph

    @property
    def code(self) -> str:
        if self._graph is None:
            return _source_of(self._fn)
        return self._graph.code_text(self.name, is_method=False)

    def save(self, f, _extra_files=None) -> None:
        from ._serialization import save
        save(self, f, _extra_files)

    def __repr__(self):
        return f"<torch.jit.ScriptFunction object at {hex(id(self))}>"


class GraphView:
    """``.graph``: prints as torch's graph dump; ``nodes()`` lists the recorded calls."""

    def __init__(self, graph: Graph, self_type):
        self._g = graph
        self._self_type = self_type

    def nodes(self):
        return list(self._g.nodes)

    def __str__(self):
        return self._g.graph_text(self._self_type)

    __repr__ = __str__


def _self_type(m) -> str:
    return f"__torch__.{m.original_name}"


def _require_graph(obj) -> Graph:
    g = obj.__dict__.get("_graph") if isinstance(obj, Module) else obj._graph
    if g is None:
        if isinstance(obj, TracedModule):
            raise RuntimeError("ember records one graph for the traced top-level module (its submodules' calls "
                               "are inlined): read .graph on the module that was traced")
        raise RuntimeError("ember.jit.script does not compile Python to a graph (ember has no TorchScript "
                           "compiler; it runs the function eagerly): use ember.jit.trace to get a .graph")
    return g


def _source_of(fn) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return f"# source of {getattr(fn, '__qualname__', fn)} is not available\n"

