"""An ONNX model's graph as the ``GraphDef`` torch's ``add_onnx_graph`` logs: the graph's inputs and outputs
become "Variable" nodes (their ONNX element type and static shape as attrs), each operator a node named after
its first output, its attributes flattened into one "parameters" string. Reading the model needs the onnx
package (``ember[onnx]``)."""
from __future__ import annotations

from ..._optional import require
from . import _proto


def _onnx():
    return require("onnx", "SummaryWriter.add_onnx_graph needs the onnx package", "onnx")


def _attributes_text(node) -> bytes:
    """An operator's attributes as torch shows them: each one's set fields joined by " = ", then by ", "."""
    return ", ".join(" = ".join(str(value) for _, value in attr.ListFields()) for attr in node.attribute).encode()


def load_onnx_graph(path) -> bytes:
    """The encoded ``GraphDef`` of the ONNX model in file ``path``."""
    graph = _onnx().load(path).graph
    nodes = []
    for value in (*graph.input, *graph.output):
        tensor_type = value.type.tensor_type
        nodes.append((value.name, "Variable", [], {
            "dtype": _proto.attr_type(tensor_type.elem_type),
            "shape": _proto.attr_shape([d.dim_value for d in tensor_type.shape.dim])}))
    for node in graph.node:
        nodes.append((node.output[0], node.op_type, list(node.input),
                      {"parameters": _proto.attr_string(_attributes_text(node))}))
    return _proto.graph_def(nodes, producer=22)
