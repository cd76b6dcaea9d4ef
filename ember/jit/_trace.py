"""``trace`` and ``trace_module``: run once, record, check (torch.jit.trace's API)."""
from __future__ import annotations

import copy
import difflib
import inspect
import warnings

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ._graph import flatten_tensors
from ._module import ScriptFunction, ScriptModule, TopLevelTracedModule
from ._tracer import Tracer, TracerWarning, _type_str, flatten_inputs


class TracingCheckError(Exception):
    """torch.jit.TracingCheckError: a repeated trace recorded a different graph."""

    def __init__(self, graph_diff_error, tensor_compare_error, extra_msg=None):
        self.message = "Tracing failed sanity checks!\n"
        if extra_msg is not None:
            self.message += extra_msg + "\n"
        if graph_diff_error is not None:
            self.message += "ERROR: Graphs differed across invocations!\n" + _indent(graph_diff_error) + "\n"
        if tensor_compare_error is not None:
            self.message += ("ERROR: Tensor-valued Constant nodes differed in value across invocations. This "
                             "often indicates that the tracer has encountered untraceable code.\n"
                             + _indent(tensor_compare_error) + "\n")
        super().__init__(self.message)


def _indent(s):
    return "\n".join("\t" + line for line in s.splitlines())


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True, check_inputs=None,
          check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
          _module_class=None, _compilation_unit=None, example_kwarg_inputs=None, _store_inputs: bool = True):
    """Run ``func`` (a function or Module) on the example inputs once and record the calls it makes.

    Returns a ``ScriptFunction`` (or, for a Module, a ``TopLevelTracedModule`` sharing its parameters)
    that replays them on new inputs: shapes may change where the trace read them through
    ``size()``/``shape``; Python control flow and values read out of tensors are frozen.
    """
    if isinstance(func, ScriptModule):
        warnings.warn("The input to trace is already a ScriptModule, tracing it is a no-op. Returning the "
                      "object as is.", stacklevel=2)
        return func
    if optimize is not None:
        warnings.warn("`optimize` is deprecated and has no effect. Use `with torch.jit.optimized_execution()` "
                      "instead", FutureWarning, stacklevel=2)
    if isinstance(func, Module):
        if example_kwarg_inputs is not None:
            return trace_module(func, {"forward": example_kwarg_inputs}, None, check_trace,
                                _wrap_check_inputs(check_inputs), check_tolerance, strict,
                                example_inputs_is_kwarg=True)
        return trace_module(func, {"forward": example_inputs}, None, check_trace,
                            _wrap_check_inputs(check_inputs), check_tolerance, strict)
    owner = getattr(func, "__self__", None)
    if isinstance(owner, Module) and getattr(func, "__name__", None) == "forward":
        return trace(owner, example_inputs, None, check_trace, check_inputs, check_tolerance, strict,
                     example_kwarg_inputs=example_kwarg_inputs)
    if isinstance(owner, Module):
        raise AttributeError("trace doesn't support compiling individual module's functions.\n"  # noqa: TRY004 (torch's)
                             "Please use trace_module")
    if not callable(func):
        raise TypeError(f"trace expected a function or Module, got {type(func).__name__}")
    kwarg = isinstance(example_kwarg_inputs, dict)
    inputs = example_kwarg_inputs if kwarg else _as_tuple(example_inputs)
    graph = _record(func, inputs, kwarg, func, {}, strict)
    name = getattr(func, "__name__", type(func).__name__).replace("<", "_").replace(">", "")
    traced = ScriptFunction(name, graph)
    if check_trace:
        _check_trace(check_inputs if check_inputs is not None else [inputs], func, traced, check_tolerance,
                     strict, kwarg, {})
    return traced


def trace_module(mod, inputs, optimize=None, check_trace: bool = True, check_inputs=None,
                 check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
                 _module_class=None, _compilation_unit=None, example_inputs_is_kwarg: bool = False,
                 _store_inputs: bool = True):
    """Trace ``mod``'s methods from ``{"forward": example_inputs}`` (ember traces ``forward`` only)."""
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")  # noqa: TRY004 (torch's)
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")  # noqa: TRY004 (torch's)
    other = [k for k in inputs if k != "forward"]
    if other:
        raise NotImplementedError(f"ember.jit.trace_module traces forward only, not {other}")
    example = inputs["forward"]
    kwarg = example_inputs_is_kwarg
    example = example if kwarg else _as_tuple(example)
    paths = _attr_paths(mod)
    graph = _record(mod, example, kwarg, mod.forward, paths, strict)
    traced = TopLevelTracedModule(mod, graph)
    if check_trace:
        checks = [c["forward"] if isinstance(c, dict) and "forward" in c and not kwarg else c
                  for c in check_inputs] if check_inputs is not None else [example]
        _check_trace(checks, mod, traced, check_tolerance, strict, kwarg, paths)
    return traced


def _wrap_check_inputs(check_inputs):
    return None if check_inputs is None else [{"forward": c} for c in check_inputs]


def _as_tuple(example_inputs):
    if isinstance(example_inputs, (Tensor, dict)):
        return (example_inputs,)
    if example_inputs is None:
        return ()
    return tuple(example_inputs)


def _attr_paths(mod: Module) -> dict:
    paths = {}
    for name, t in list(mod.named_parameters(remove_duplicate=False)) + list(mod.named_buffers(remove_duplicate=False)):
        paths.setdefault(id(t), name)
    return paths


def _input_names(sig_of, n, kwarg, inputs):
    if kwarg:
        return list(inputs)
    try:
        params = [p for p in inspect.signature(sig_of).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:n]]
    return names + [f"argument_{i + 1}" for i in range(len(names), n)]


def _record(func, inputs, kwarg, sig_of, attr_paths, strict):
    """Trace one call of ``func`` on ``inputs`` (a tuple, or a dict of keyword inputs) into a Graph."""
    tracer = Tracer(attr_paths)
    g = tracer.graph
    flat = []
    values = list(inputs.values()) if kwarg else list(inputs)
    try:
        specs = [flatten_inputs(v, flat) for v in values]
    except TypeError:
        raise RuntimeError(f"Type '{_type_str(inputs)}' cannot be traced. Only Tensors and (possibly nested) "
                           "Lists, Dicts, and Tuples of Tensors can be traced") from None
    names = _input_names(sig_of, len(values), kwarg, inputs)
    g.input_spec = ("kwargs", names, specs) if kwarg else ("args", specs)
    flat_names = []
    for name, spec, v in zip(names, specs, values):
        n = len(flatten_tensors(v)) if spec != "T" else 1
        flat_names += [name] if spec == "T" else [f"{name}.{i}" for i in range(n)]
    for t, name in zip(flat, flat_names):
        g.inputs.append(tracer.new_value(t, name))
    with tracer:
        out = func(**inputs) if kwarg else func(*inputs)
        _check_output(out, strict)
    g.output = tracer.encode(out)
    g.prune()
    return g


def _check_output(out, strict, top=True):
    if isinstance(out, Tensor):
        return
    if isinstance(out, tuple):
        for x in out:
            _check_output(x, strict, False)
        return
    if isinstance(out, (list, dict)):
        what = "list" if isinstance(out, list) else "dict"
        if strict:
            msg = (f"Encountering a {what} at the output of the tracer might cause the trace to be incorrect, "
                   "this is only valid if the container structure does not change based on the module's "
                   "inputs. Consider using a constant container instead (e.g. for `list`, use a `tuple` "
                   "instead. for `dict`, use a `NamedTuple` instead). If you absolutely need this and know "
                   "the side effects, pass strict=False to trace() to allow this behavior.")
            if what == "dict":
                raise RuntimeError(msg)
            warnings.warn(msg, TracerWarning, stacklevel=4)
        for x in (out if isinstance(out, list) else out.values()):
            _check_output(x, strict, False)
        return
    raise RuntimeError("Only tensors, lists, tuples of tensors, or dictionary of tensors can be output from "
                       "traced functions")


# ---- check_trace ------------------------------------------------------------------------------
_ATOL = {"float64": 1e-7, "complex128": 1e-7}


def _clone_inputs(inputs, memo=None):
    """Fresh copies of the inputs (a tensor passed twice stays one tensor, as code may test ``q is k``)."""
    memo = {} if memo is None else memo
    if isinstance(inputs, Tensor):
        if id(inputs) not in memo:
            t = inputs.detach().clone()
            memo[id(inputs)] = t.requires_grad_(inputs.requires_grad) if t.is_floating_point() else t
        return memo[id(inputs)]
    if isinstance(inputs, tuple):
        return tuple(_clone_inputs(x, memo) for x in inputs)
    if isinstance(inputs, list):
        return [_clone_inputs(x, memo) for x in inputs]
    if isinstance(inputs, dict):
        return {k: _clone_inputs(v, memo) for k, v in inputs.items()}
    return copy.deepcopy(inputs)


def _check_trace(check_inputs, func, traced, tol, strict, kwarg, attr_paths):
    """torch's sanity check: trace again, compare graphs, compare outputs with the Python function."""
    graph = traced._graph
    get_attr = getattr(traced, "_get_attr", None)
    with no_grad():
        for inputs in check_inputs:
            if not kwarg:
                inputs = _as_tuple(inputs)
            check_graph = _record(func, _clone_inputs(inputs), kwarg, getattr(func, "forward", func),
                                  attr_paths, strict)
            diff = _graph_diff(graph, check_graph)
            warned = [False]
            traced_outs = _run_check(graph.run, inputs, kwarg, "trace", get_attr)
            fn_outs = _run_check(func, inputs, kwarg, "Python function")
            if _compare(traced_outs, fn_outs, "Python function", tol, graph, warned):
                check_outs = _run_check(check_graph.run, inputs, kwarg, "repeated trace", get_attr)
                _compare(traced_outs, check_outs, "repeated trace", tol, graph, warned)
            if diff is not None:
                raise TracingCheckError(diff, None)


def _run_check(fn, inputs, kwarg, what, get_attr=None):
    """Run a graph (``fn`` is its ``run``, given ``get_attr``) or the Python function on cloned inputs."""
    args = _clone_inputs(inputs)
    try:
        if get_attr is not None or what != "Python function":
            out = fn(_flat(args, kwarg), get_attr)
        else:
            out = fn(**args) if kwarg else fn(*args)
    except Exception as e:
        raise TracingCheckError(None, None, f"encountered an exception while running the {what} with test "
                                f"inputs.\nException:\n{_indent(str(e))}") from e
    return flatten_tensors(out)


def _compare(orig, ref, what, tol, graph, warned) -> bool:
    """torch's output comparison: a TracerWarning per mismatching output (after the nondeterminism one)."""
    from ..testing import assert_close
    ok = True
    for i, (a, b) in enumerate(zip(orig, ref)):
        try:
            if a.is_floating_point() or a.is_complex():
                atol = _ATOL.get(str(a.dtype).rpartition(".")[2], 1e-5)
                if not a.is_complex():
                    a, b = a.double(), b.double()
                assert_close(a, b, rtol=tol, atol=atol, equal_nan=True, check_dtype=False)
            else:
                assert_close(a, b, rtol=0, atol=0)
        except AssertionError as e:
            if not warned[0]:
                warned[0] = True
                nondet = graph.nondeterministic_nodes()
                if nondet:
                    warnings.warn(
                        "Trace had nondeterministic nodes. Did you forget call .eval() on your model? Nodes:\n"
                        + "\n".join("\t" + n.qname for n in nondet[:20])
                        + "\nThis may cause errors in trace checking. To disable trace checking, pass "
                        "check_trace=False to torch.jit.trace()", TracerWarning, stacklevel=5)
            warnings.warn(f"Output nr {i + 1}. of the traced function does not match the corresponding output of "
                          f"the {what}. Detailed error:\n{e}", TracerWarning, stacklevel=5)
            ok = False
    return ok


def _flat(args, kwarg):
    flat = []
    for v in (args.values() if kwarg else args):
        flatten_inputs(v, flat)
    return flat


def _graph_diff(a, b):
    if [n.signature() for n in a.nodes] == [n.signature() for n in b.nodes] and a.output == b.output:
        return None
    return "\n".join(difflib.ndiff(a.graph_text().splitlines(), b.graph_text().splitlines()))
