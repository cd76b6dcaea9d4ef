"""The ONNX graph being built while a model is traced: values, initializers and nodes."""
from __future__ import annotations

import collections
import inspect

import numpy as np

from .._tensor import Tensor


class _Unsupported:
    """The binding of an op output that export cannot express: using it is an error."""

    def __init__(self, message):
        self.message = message


def host(t: Tensor) -> np.ndarray:
    """``t``'s values as a NumPy array on the host."""
    return np.asarray(t.numpy(force=True))


def host_array(a) -> np.ndarray:
    """A backend array (or scalar) an op was given, as NumPy (``.get()`` copies a CuPy array)."""
    return np.asarray(a.get() if hasattr(a, "get") else a)


class Graph:
    """Maps traced tensors (by their arrays) to ONNX value names and collects nodes.

    A tensor never produced by a traced op (a parameter, a buffer, a tensor made inside
    ``forward``) becomes an initializer the first time an op reads it; with ``fold``, an op
    whose tensor inputs are all such constants is not emitted, its result stays a constant.
    """

    def __init__(self, onnx, opset: int, fold: bool, params_as_inputs: bool = False):
        self.onnx = onnx
        self.opset = opset
        self.fold = fold
        self.params_as_inputs = params_as_inputs
        self.nodes = []                 # [op_type, inputs, outputs, name, attrs]
        self.initializers = {}          # name -> np.ndarray
        self.param_names = {}           # id(array) -> state_dict name
        self.graph_inputs = []          # (name, Tensor)
        self._names = {}                # id(array) -> value name (or _Unsupported)
        self._keep = []                 # traced arrays stay alive so ids stay unique
        self._count = collections.Counter()
        self._signatures = {}
        self.op_name = None             # the ember op being emitted (for error messages)

    # ---- values -----------------------------------------------------------------------------------
    def bind(self, t: Tensor, name) -> None:
        self._keep.append(t._data)
        self._names[id(t._data)] = name

    def forget(self, t: Tensor) -> None:
        self._names.pop(id(t._data), None)

    def is_constant(self, t: Tensor) -> bool:
        name = self._names.get(id(t._data))
        return name is None or (type(name) is str and name in self.initializers)

    def x(self, v, dtype=None) -> str:
        """The value name of tensor or Python scalar ``v`` (cast to NumPy ``dtype`` if given)."""
        if v is None:
            return ""
        if not isinstance(v, Tensor):
            return self.const(np.asarray(v, dtype=dtype if dtype is not None else np.float32))
        name = self._names.get(id(v._data))
        if name is None:
            name = self.param_names.get(id(v._data))
            if name is not None and self.params_as_inputs:
                self.graph_inputs.append((name, v))
            else:
                if name is None or name in self.initializers:
                    # a tensor made in forward may be written in place later: keep today's values
                    name = self._fresh("onnx::Constant")
                    self.initializers[name] = host(v).copy()
                else:
                    self.initializers[name] = host(v)
            self.bind(v, name)
        elif type(name) is _Unsupported:
            raise RuntimeError(name.message)
        if dtype is not None and v._data.dtype != dtype:
            name = self.op("Cast", [name], to=self.onnx_type(dtype))
        return name

    def const(self, array, dtype=None) -> str:
        """A new initializer holding ``array``."""
        name = self._fresh("onnx::Constant")
        self.initializers[name] = np.asarray(array, dtype=dtype)
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64))

    def unsupported(self, message) -> _Unsupported:
        return _Unsupported(message)

    # ---- nodes ------------------------------------------------------------------------------------
    def op(self, op_type: str, inputs, outputs: int = 1, **attrs):
        """Append a node; returns its output name (a list of names if ``outputs`` > 1)."""
        node = f"/{op_type}" if not self._count[op_type] else f"/{op_type}_{self._count[op_type]}"
        self._count[op_type] += 1
        names = [f"{node}_output_{i}" for i in range(outputs)]
        while inputs and inputs[-1] == "":
            inputs = inputs[:-1]
        self.nodes.append([op_type, list(inputs), names, node, attrs])
        return names[0] if outputs == 1 else names

    def transposed(self, t: Tensor, perm) -> str:
        """``t`` with dims permuted: a folded constant when ``t`` is one, else a Transpose node."""
        if self.fold and self.is_constant(t):
            return self.const(np.ascontiguousarray(host(t).transpose(perm)))
        return self.op("Transpose", [self.x(t)], perm=list(perm))

    def reduce(self, op_type: str, x: str, axes, keepdims: bool) -> str:
        """``Reduce*`` over ``axes`` (None: all), axes as an input or attribute as the opset wants."""
        if axes is None:
            return self.op(op_type, [x], keepdims=int(keepdims))
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, [x, self.ints(axes)], keepdims=int(keepdims))
        return self.op(op_type, [x], axes=list(axes), keepdims=int(keepdims))

    def onnx_type(self, dtype) -> int:
        return self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def _fresh(self, prefix: str) -> str:
        self._count[prefix] += 1
        return f"{prefix}_{self._count[prefix] - 1}"

    # ---- ops --------------------------------------------------------------------------------------
    def arguments(self, op, inputs, args, kw) -> dict:
        """The op's forward parameters by name, with Tensors and scalars where it sees arrays."""
        sig = self._signatures.get(op.name)
        if sig is None:
            sig = self._signatures[op.name] = inspect.signature(op.forward)
        bound = sig.bind(None, *inputs, *args, **kw)
        bound.apply_defaults()
        return dict(bound.arguments)

    # ---- the model --------------------------------------------------------------------------------
    def model(self, inputs, outputs, initializers_as_inputs: bool):
        """The ONNX ModelProto: ``inputs``/``outputs`` are ``(name, tensor, dims)``, dims may be names."""
        helper = self.onnx.helper
        rename, out_nodes = {}, []
        produced = {o for node in self.nodes for o in node[2]}
        for name, t, _ in outputs:
            value = self.x(t)
            if value in produced and value not in rename:
                rename[value] = name
            else:
                out_nodes.append(["Identity", [value], [name], f"/Identity_output_{name}", {}])
        for node in self.nodes + out_nodes:
            node[1] = [rename.get(v, v) for v in node[1]]
            node[2] = [rename.get(v, v) for v in node[2]]
        nodes = _live(self.nodes + out_nodes, {name for name, _, _ in outputs})
        used = {v for node in nodes for v in node[1]} | {name for name, _, _ in outputs}
        inits = [self.onnx.numpy_helper.from_array(a, name) for name, a in self.initializers.items() if name in used]

        def info(name, t, dims):
            return helper.make_tensor_value_info(name, self.onnx_type(t._data.dtype), dims)

        graph_inputs = [info(*i) for i in inputs]
        graph_inputs += [info(name, t, list(t.shape)) for name, t in self.graph_inputs if name in used]
        if initializers_as_inputs:
            graph_inputs += [helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in inits]
        graph = helper.make_graph(
            [helper.make_node(op, ins, outs, name=name, **attrs) for op, ins, outs, name, attrs in nodes],
            "main_graph", graph_inputs, [info(*o) for o in outputs], initializer=inits)
        opset = helper.make_opsetid("", self.opset)
        return helper.make_model(graph, opset_imports=[opset], producer_name="ember",
                                 ir_version=helper.find_min_ir_version_for([opset]))


def _live(nodes, wanted):
    """The nodes some of ``wanted`` depends on, in order (dead ops of the trace dropped)."""
    live = []
    for node in reversed(nodes):
        if any(o in wanted for o in node[2]):
            live.append(node)
            wanted.update(v for v in node[1] if v)
    return live[::-1]
