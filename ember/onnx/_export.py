"""``export``: trace a model once on example inputs and write the ops it ran as an ONNX model."""
from __future__ import annotations

import enum
import inspect
import os
import warnings

from .._optional import require
from .._tensor import Tensor, tensors_in
from ..autograd import no_grad
from ._graph import Graph
from ._symbolic import SYMBOLIC
from ._trace import recording

DEFAULT_OPSET = 17
MIN_OPSET = 13


class TrainingMode(enum.IntEnum):
    """Which mode the model is traced in: eval (the default), as it is, or training."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """How ops are exported; ember exports plain ONNX ops only."""
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


_exporting = [False]


def is_in_onnx_export() -> bool:
    """Is an ``export`` tracing a model right now?"""
    return _exporting[0]


def _require_onnx():
    return require("onnx", "ember.onnx.export needs the onnx package", "onnx")


def _input_names(model, args, n, given):
    """``input_names`` first, then forward's parameter names for plain tensor arguments, else ``input_<i>``."""
    names = list(given or ())[:n]
    try:
        params = [p.name for p in inspect.signature(model.forward if hasattr(model, "forward") else model)
                  .parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    plain = len(params) >= len(args) and all(isinstance(a, Tensor) for a in args)
    for i in range(len(names), n):
        name = params[i] if plain else f"input_{i}"
        names.append(name if name not in names else f"input_{i}")
    return names


def _tensors(values):
    """The tensors among an op's inputs and arguments (one level of sequences looked into)."""
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (tuple, list)):
            yield from (t for t in v if isinstance(t, Tensor))


def _record(g, op, inputs, args, kw, result):
    """Emit the ONNX nodes of one traced op application (a constant result is left to fold)."""
    outs = result if isinstance(result, tuple) else (result,)
    tensors = list(_tensors((*inputs, *args, *kw.values())))
    if not tensors or (g.fold and all(g.is_constant(t) for t in tensors)):
        for o in outs:
            g.forget(o)
        return
    emit = SYMBOLIC.get(op.name)
    if emit is None:
        raise RuntimeError(f"ONNX export: ember op '{op.name.strip('_')}' has no ONNX mapping")
    g.op_name = op.name
    names = emit(g, g.arguments(op, inputs, args, kw), outs)
    for o, name in zip(outs, names if isinstance(names, tuple) else (names,)):
        g.bind(o, name)


def _dims(name, tensor, dynamic_axes):
    axes = dynamic_axes.get(name, {})
    return [axes.get(i, n) for i, n in enumerate(tensor.shape)]


def _normalize_dynamic_axes(dynamic_axes, names):
    out = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            warnings.warn(f"Provided key {name} for dynamic axes is not a valid input/output name")
        if isinstance(axes, dict):
            out[name] = {int(k): str(v) for k, v in axes.items()}
        else:
            out[name] = {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(axes)}
    return out


def export(model, args=(), f=None, *, kwargs=None, export_params: bool = True, verbose: bool | None = None,
           training: TrainingMode = TrainingMode.EVAL, input_names=None, output_names=None,
           operator_export_type: OperatorExportTypes = OperatorExportTypes.ONNX, opset_version: int | None = None,
           do_constant_folding: bool = True, dynamic_axes=None, keep_initializers_as_inputs: bool = False,
           custom_opsets=None, export_modules_as_functions: bool = False, dynamo: bool = False,
           external_data: bool = True, dynamic_shapes=None) -> None:
    """Trace ``model(*args)`` once and write it to ``f`` (a path or a binary file object) as ONNX.

    The classic exporter's behaviour: parameters and buffers become initializers named by their
    ``state_dict`` keys; ``dynamic_axes`` (``{name: {axis: dim_name}}`` or ``{name: [axes]}``) makes
    dims symbolic.  ``dynamo`` and ``external_data`` are accepted and have no effect: ember always
    traces, and writes one file.
    """
    onnx = _require_onnx()
    if operator_export_type != OperatorExportTypes.ONNX:
        raise ValueError(f"ember.onnx.export supports operator_export_type=OperatorExportTypes.ONNX only, "
                         f"got {operator_export_type}")
    if custom_opsets or export_modules_as_functions or dynamic_shapes is not None:
        raise NotImplementedError("ember.onnx.export does not support custom_opsets, "
                                  "export_modules_as_functions or dynamic_shapes (use dynamic_axes)")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"ember.onnx.export supports opset_version {MIN_OPSET} to "
                         f"{onnx.defs.onnx_opset_version()}, got {opset}")
    if f is None:
        raise ValueError("ember.onnx.export needs f, a file path or a binary file object to write to")
    if _exporting[0]:
        raise RuntimeError("ember.onnx.export is already running (exports do not nest)")
    args = args if isinstance(args, tuple) else tuple(args) if isinstance(args, list) else (args,)
    if kwargs is None and args and isinstance(args[-1], dict):
        args, kwargs = args[:-1], args[-1]
    kwargs = dict(kwargs or {})

    g = Graph(onnx, opset, do_constant_folding, params_as_inputs=not export_params)
    if hasattr(model, "state_dict"):
        for name, t in model.state_dict(keep_vars=True).items():
            if isinstance(t, Tensor):
                g.param_names.setdefault(id(t._data), name)
    inputs = list(tensors_in((args, kwargs)))
    in_names = _input_names(model, args, len(inputs), input_names)
    for name, t in zip(in_names, inputs):
        g.bind(t, name)

    modules = list(model.modules()) if hasattr(model, "modules") else []
    modes = [m.training for m in modules]
    if modules and training != TrainingMode.PRESERVE:
        model.train(training == TrainingMode.TRAINING)
    _exporting[0] = True
    try:
        with no_grad(), recording(lambda *call: _record(g, *call)):
            result = model(*args, **kwargs)
    finally:
        _exporting[0] = False
        for m, mode in zip(modules, modes):
            m.training = mode

    outputs = list(tensors_in(result))
    out_names = list(output_names or ())[:len(outputs)]
    out_names += ["output" if len(outputs) == 1 else f"output_{i}" for i in range(len(out_names), len(outputs))]
    dyn = _normalize_dynamic_axes(dynamic_axes, set(in_names) | set(out_names))
    proto = g.model(
        [(n, t, _dims(n, t, dyn)) for n, t in zip(in_names, inputs)],
        [(n, t, _dims(n, t, dyn) if n in dyn or not dyn else [None] * t.ndim) for n, t in zip(out_names, outputs)],
        keep_initializers_as_inputs)
    data = proto.SerializeToString()
    onnx.checker.check_model(data)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    else:
        f.write(data)
