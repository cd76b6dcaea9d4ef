"""ember op -> ONNX nodes: one emitter per op, keyed by the op's registry name.

An emitter ``f(g, a, outs)`` gets the graph, the op's forward arguments by name (Tensors and
Python values) and the traced output Tensors; it returns the value name of each output (one
name for a single output).
"""
from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ._graph import host_array

SYMBOLIC: dict = {}
INT64_MAX = np.iinfo(np.int64).max      # Slice's "to the end"


def emits(*names):
    def deco(fn):
        for n in names:
            SYMBOLIC[n] = fn
        return fn
    return deco


def _dt(outs):
    return outs[0]._data.dtype


# ---- pointwise ----------------------------------------------------------------------------------------
_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "rsqrt": None, "neg": "Neg", "abs": "Abs", "erf": "Erf", "reciprocal": "Reciprocal", "floor": "Floor",
          "ceil": "Ceil", "sin": "Sin", "cos": "Cos", "sign": "Sign", "hardswish": "HardSwish"}


def _unary(onnx_op):
    def emit(g, a, outs):
        return g.op(onnx_op, [g.x(a["x"], _dt(outs))])
    return emit


for _name, _onnx_op in _UNARY.items():
    if _onnx_op is not None:
        SYMBOLIC[_name] = _unary(_onnx_op)


@emits("rsqrt")
def _rsqrt(g, a, outs):
    return g.op("Reciprocal", [g.op("Sqrt", [g.x(a["x"], _dt(outs))])])


_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "true_divide": "Div", "pow": "Pow",
           "minimum": "Min", "maximum": "Max", "fmin": "Min", "fmax": "Max"}


def _binary(onnx_op):
    def emit(g, a, outs):
        dt = _dt(outs)
        x, y = g.x(a["x"], dt), g.x(a["y"], dt)
        alpha = a.get("alpha", 1)
        if alpha != 1:
            y = g.op("Mul", [y, g.const(alpha, dt)])
        return g.op(onnx_op, [x, y])
    return emit


for _name, _onnx_op in _BINARY.items():
    SYMBOLIC[_name] = _binary(_onnx_op)


@emits("where")
def _where(g, a, outs):
    dt = _dt(outs)
    return g.op("Where", [g.x(a["cond"], np.bool_), g.x(a["x"], dt), g.x(a["y"], dt)])


_COMPARE = {"gt": "Greater", "lt": "Less", "ge": "GreaterOrEqual", "le": "LessOrEqual", "eq": "Equal"}


@emits(*_COMPARE, "ne")
def _compare(g, a, outs):
    x, y = a["x"], a["y"]
    dt = np.result_type(*[v._data.dtype if isinstance(v, Tensor) else np.min_scalar_type(v) for v in (x, y)])
    if not all(isinstance(v, Tensor) for v in (x, y)):      # a Python scalar takes the tensor's dtype
        dt = (x if isinstance(x, Tensor) else y)._data.dtype
    if g.op_name == "ne":
        return g.op("Not", [g.op("Equal", [g.x(x, dt), g.x(y, dt)])])
    return g.op(_COMPARE[g.op_name], [g.x(x, dt), g.x(y, dt)])


# ---- activations ----------------------------------------------------------------------------------------
@emits("leaky_relu")
def _leaky_relu(g, a, outs):
    return g.op("LeakyRelu", [g.x(a["x"])], alpha=float(a["negative_slope"]))


@emits("hardtanh")
def _hardtanh(g, a, outs):
    dt = _dt(outs)
    return g.op("Clip", [g.x(a["x"]), g.const(a["min_val"], dt), g.const(a["max_val"], dt)])


@emits("clamp")
def _clamp(g, a, outs):
    dt = _dt(outs)
    x, lo, hi = g.x(a["x"], dt), a["lo"], a["hi"]
    if not isinstance(lo, Tensor) and not isinstance(hi, Tensor):
        return g.op("Clip", [x, "" if lo is None else g.const(lo, dt), "" if hi is None else g.const(hi, dt)])
    if lo is not None:
        x = g.op("Max", [x, g.x(lo, dt)])
    return x if hi is None else g.op("Min", [x, g.x(hi, dt)])


@emits("elu")
def _elu(g, a, outs):
    dt = _dt(outs)
    x = g.x(a["x"])
    if a["input_scale"] != 1:
        x = g.op("Mul", [x, g.const(a["input_scale"], dt)])
    y = g.op("Elu", [x], alpha=float(a["alpha"]))
    return y if a["scale"] == 1 else g.op("Mul", [y, g.const(a["scale"], dt)])


@emits("silu")
def _silu(g, a, outs):
    x = g.x(a["x"])
    return g.op("Mul", [x, g.op("Sigmoid", [x])])


@emits("mish")
def _mish(g, a, outs):
    x = g.x(a["x"])
    return g.op("Mul", [x, g.op("Tanh", [g.op("Softplus", [x])])])


@emits("hardsigmoid")
def _hardsigmoid(g, a, outs):
    return g.op("HardSigmoid", [g.x(a["x"])], alpha=1.0 / 6, beta=0.5)


@emits("softplus")
def _softplus(g, a, outs):
    dt, beta = _dt(outs), a["beta"]
    x = g.x(a["x"])
    if beta == 1:
        return g.op("Softplus", [x])
    y = g.op("Softplus", [g.op("Mul", [x, g.const(beta, dt)])])
    return g.op("Div", [y, g.const(beta, dt)])


@emits("gelu")
def _gelu(g, a, outs):
    dt, approximate = _dt(outs), a["approximate"]
    x = g.x(a["x"])
    if g.opset >= 20:
        return g.op("Gelu", [x], approximate=approximate)
    if approximate == "tanh":       # x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.op("Mul", [g.op("Mul", [x, x]), x])
        inner = g.op("Add", [x, g.op("Mul", [cube, g.const(0.044715, dt)])])
        t = g.op("Tanh", [g.op("Mul", [inner, g.const(math.sqrt(2 / math.pi), dt)])])
    else:                           # x/2 (1 + erf(x / sqrt 2))
        t = g.op("Erf", [g.op("Mul", [x, g.const(1 / math.sqrt(2), dt)])])
    half = g.op("Mul", [x, g.const(0.5, dt)])
    return g.op("Mul", [half, g.op("Add", [t, g.const(1, dt)])])


@emits("softmax")
def _softmax(g, a, outs):
    return g.op("Softmax", [g.x(a["x"], _dt(outs))], axis=a["dim"])


@emits("log_softmax")
def _log_softmax(g, a, outs):
    return g.op("LogSoftmax", [g.x(a["x"], _dt(outs))], axis=a["dim"])


# ---- linear algebra, convolution -------------------------------------------------------------------------
@emits("linear")
def _linear(g, a, outs):
    x, w, b = a["x"], a["w"], a["b"]
    if x.ndim == 2 and w.ndim == 2:
        return g.op("Gemm", [g.x(x), g.x(w), g.x(b)], transB=1)
    y = g.op("MatMul", [g.x(x), g.transposed(w, (1, 0)) if w.ndim == 2 else g.x(w)])
    return y if b is None else g.op("Add", [y, g.x(b)])


@emits("matmul")
def _matmul(g, a, outs):
    return g.op("MatMul", [g.x(a["a"]), g.x(a["b"])])


@emits("convolution", "_convolution_nobias")
def _convolution(g, a, outs):
    stride, pad, dilation, groups, transposed, output_padding = a["args"]
    w = a["w"]
    attrs = dict(kernel_shape=list(w.shape[2:]), strides=list(stride), dilations=list(dilation), group=groups,
                 pads=[p[0] for p in pad] + [p[1] for p in pad])
    inputs = [g.x(a["x"]), g.x(w), g.x(a.get("b"))]
    if not transposed:
        return g.op("Conv", inputs, **attrs)
    if any(output_padding):
        attrs["output_padding"] = list(output_padding)
    return g.op("ConvTranspose", inputs, **attrs)


# ---- pooling -----------------------------------------------------------------------------------------------
def _max_pool_node(g, a):
    k, s, p, d = a["k"], a["s"], a["p"], a["d"]
    attrs = dict(kernel_shape=list(k), strides=list(s), pads=list(p) * 2, ceil_mode=int(bool(a["ceil"])))
    if any(v != 1 for v in d):
        attrs["dilations"] = list(d)
    return g.op("MaxPool", [g.x(a["x"])], **attrs)


@emits("max_pool")
def _max_pool(g, a, outs):
    return _max_pool_node(g, a)


def _no_indices(g, name):
    return g.unsupported(f"ONNX export: the indices returned by {name} are not supported "
                         "(torch's per-plane indices differ from ONNX's)")


@emits("max_pool_with_indices")
def _max_pool_with_indices(g, a, outs):
    return _max_pool_node(g, a), _no_indices(g, "max pooling")


@emits("avg_pool")
def _avg_pool(g, a, outs):
    x = a["x"]
    div, (in_shape, k, s, p, out) = a["params"]
    floor_out = [(n + 2 * pi - ki) // si + 1 for n, ki, si, pi in zip(in_shape[2:], k, s, p)]
    div, window = host_array(div), int(np.prod(k))
    # the divisor: one number (divisor_override), else per position (count_include_pad=False varies)
    include_pad = div.ndim == 0 or bool(np.all(div == window))
    y = g.op("AveragePool", [g.x(x)], kernel_shape=list(k), strides=list(s), pads=list(p) * 2,
             ceil_mode=int(list(out) != floor_out), count_include_pad=int(include_pad))
    return y if div.ndim != 0 or div == window else g.op("Mul", [y, g.const(window / float(div), _dt(outs))])


def _adaptive(g, x, out_sizes, pool_type, mats=None):
    """Adaptive pooling as a global pool, a fixed-window pool, or (average) products with its matrices."""
    nd = len(out_sizes)
    sizes = x.shape[x.ndim - nd:]
    name = g.x(x)
    if x.ndim == nd + 2 and all(o == 1 for o in out_sizes):
        return g.op("Global" + pool_type, [name])
    if x.ndim == nd + 2 and all(n % o == 0 for n, o in zip(sizes, out_sizes)):
        k = [n // o for n, o in zip(sizes, out_sizes)]
        return g.op(pool_type, [name], kernel_shape=k, strides=k)
    if mats is None:
        raise RuntimeError(f"ONNX export: adaptive_max_pool from {tuple(sizes)} to {tuple(out_sizes)} is not "
                           "supported (the input size must be a multiple of the output size)")
    # average pooling along dim j is a product with an (out_j, in_j) averaging matrix
    for j, m in enumerate(mats):
        axis = x.ndim - nd + j
        perm = list(range(x.ndim))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        moved = name if axis == x.ndim - 1 else g.op("Transpose", [name], perm=perm)
        prod = g.op("MatMul", [moved, g.const(np.ascontiguousarray(np.asarray(m).T))])
        name = prod if axis == x.ndim - 1 else g.op("Transpose", [prod], perm=perm)
    return name


@emits("adaptive_avg_pool")
def _adaptive_avg_pool(g, a, outs):
    (mats,) = a["params"]
    mats = [host_array(m) for m in mats]
    return _adaptive(g, a["x"], [m.shape[0] for m in mats], "AveragePool", mats)


@emits("adaptive_max_pool")
def _adaptive_max_pool(g, a, outs):
    return _adaptive(g, a["x"], list(outs[0].shape[a["x"].ndim - len(a["out"]):]), "MaxPool"), \
        _no_indices(g, "adaptive max pooling")


# ---- normalization -----------------------------------------------------------------------------------------
@emits("batch_norm")
def _batch_norm(g, a, outs):
    if a["training"]:
        raise RuntimeError("ONNX export: batch_norm in training mode is not supported; export with "
                           "training=TrainingMode.EVAL")
    x, dt = a["x"], _dt(outs)
    c = x.shape[1]
    w = g.x(a["w"]) if a["w"] is not None else g.const(np.ones(c, dt))
    b = g.x(a["b"]) if a["b"] is not None else g.const(np.zeros(c, dt))
    return g.op("BatchNormalization", [g.x(x), w, b, g.x(a["running_mean"], dt), g.x(a["running_var"], dt)],
                epsilon=float(a["eps"]), momentum=1.0 - float(a["momentum"] or 0.1))


@emits("_group_affine_norm")
def _group_affine_norm(g, a, outs):
    x, w, b, rows, axes, affine_shape, eps = (a[k] for k in ("x", "w", "b", "rows", "axes", "affine_shape", "eps"))
    dt = _dt(outs)
    k = len(affine_shape)
    layer_norm = (tuple(axes) == (-1,) and tuple(x.shape[x.ndim - k:]) == tuple(affine_shape)
                  and rows[-1] in (-1, int(np.prod(affine_shape))))
    if layer_norm and g.opset >= 17:
        return g.op("LayerNormalization", [g.x(x), g.x(w), g.x(b)], axis=-k, epsilon=float(eps))
    # layer norm before opset 17 (over the trailing dims), group norm (over x viewed as rows)
    name = g.x(x)
    if layer_norm:
        y, axes = name, list(range(x.ndim - k, x.ndim))
    else:
        y, axes = g.op("Reshape", [name, g.ints(_keep_leading(list(rows), x.shape))]), list(axes)
    d = g.op("Sub", [y, g.reduce("ReduceMean", y, axes, True)])
    var = g.reduce("ReduceMean", g.op("Mul", [d, d]), axes, True)
    y = g.op("Div", [d, g.op("Sqrt", [g.op("Add", [var, g.const(eps, dt)])])])
    if not layer_norm:
        y = g.op("Reshape", [y, g.op("Shape", [name])])
    w = g.op("Reshape", [g.x(w), g.ints(affine_shape)])
    b = g.op("Reshape", [g.x(b), g.ints(affine_shape)])
    return g.op("Add", [g.op("Mul", [y, w]), b])


# ---- shape ---------------------------------------------------------------------------------------------------
def _flat(seq):
    """A size or dims list given as varargs or as one sequence."""
    seq = tuple(seq)
    if len(seq) == 1 and isinstance(seq[0], (tuple, list)):
        seq = tuple(seq[0])
    return [int(v) for v in seq]


@emits("reshape", "view")
def _reshape(g, a, outs):
    x = a["x"]
    shape = _flat(a["shape"])
    if -1 not in shape:
        shape = list(outs[0].shape)
    return g.op("Reshape", [g.x(x), g.ints(_keep_leading(shape, x.shape))])


def _keep_leading(shape, in_shape):
    """A Reshape target with its leading dims kept from the input written as 0 ("copy"), so that a
    dynamic batch dim stays dynamic."""
    for i, n in enumerate(shape):
        if i >= len(in_shape) or n != in_shape[i] or n == -1:
            break
        shape[i] = 0
    return shape


@emits("permute")
def _permute(g, a, outs):
    x = a["x"]
    return g.op("Transpose", [g.x(x)], perm=[d % max(x.ndim, 1) for d in _flat(a["dims"])])


@emits("transpose")
def _transpose(g, a, outs):
    x = a["x"]
    perm = list(range(x.ndim))
    d0, d1 = a["dim0"] % x.ndim, a["dim1"] % x.ndim
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return g.op("Transpose", [g.x(x)], perm=perm)


@emits("t")
def _t(g, a, outs):
    x = a["x"]
    return g.op("Transpose", [g.x(x)], perm=[1, 0]) if x.ndim == 2 else g.op("Identity", [g.x(x)])


@emits("unsqueeze")
def _unsqueeze(g, a, outs):
    return g.op("Unsqueeze", [g.x(a["x"]), g.ints([a["dim"] % outs[0].ndim])])


@emits("squeeze")
def _squeeze(g, a, outs):
    x, dim = a["x"], a["dim"]
    dims = range(x.ndim) if dim is None else [dim] if isinstance(dim, int) else dim
    axes = sorted({d % x.ndim for d in dims if x.shape[d] == 1})
    return g.op("Squeeze", [g.x(x), g.ints(axes)]) if axes else g.op("Identity", [g.x(x)])


@emits("expand")
def _expand(g, a, outs):
    sizes = _flat(a["sizes"])
    return g.op("Expand", [g.x(a["x"]), g.ints([1 if s == -1 else s for s in sizes])])


@emits("cat", "stack")
def _cat(g, a, outs):
    *tensors, dim = a["arrays_and_dim"]
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = list(tensors[0])
    dt = _dt(outs)
    names = [g.x(t, dt) for t in tensors]
    axis = dim % outs[0].ndim
    if g.op_name == "stack":
        names = [g.op("Unsqueeze", [n, g.ints([axis])]) for n in names]
    return g.op("Concat", names, axis=axis)


@emits("_getitem_slice", "_getitem_select", "_getitem_alias", "_getitem_unsqueeze")
def _getitem(g, a, outs):
    """Basic indexing (ints, slices, None, ...) as Slice, then Squeeze and Unsqueeze."""
    x, index = a["x"], a["basic"]
    index = index if isinstance(index, tuple) else (index,)
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    expanded = []
    for i in index:
        expanded += [slice(None)] * (x.ndim - used) if i is Ellipsis else [i]
    expanded += [slice(None)] * (x.ndim + expanded.count(None) - len(expanded))
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    dim = out_dim = 0
    for i in expanded:
        if i is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        if isinstance(i, slice):
            if i != slice(None):
                step = 1 if i.step is None else i.step
                starts.append(i.start if i.start is not None else (0 if step > 0 else -1))
                ends.append(i.stop if i.stop is not None else (INT64_MAX if step > 0 else -INT64_MAX))
                axes.append(dim)
                steps.append(step)
            out_dim += 1
        else:
            i = int(i)
            starts.append(i)
            ends.append(i + 1 if i != -1 else INT64_MAX)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        dim += 1
    name = src = g.x(x)
    if axes:
        name = g.op("Slice", [name, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        name = g.op("Squeeze", [name, g.ints(squeeze)])
    if unsqueeze:
        name = g.op("Unsqueeze", [name, g.ints(unsqueeze)])
    return name if name != src else g.op("Identity", [name])


@emits("clone")
def _identity(g, a, outs):
    return g.op("Identity", [g.x(a["x"])])


@emits("_to_copy")
def _to_copy(g, a, outs):
    x = a["x"]
    if x._data.dtype == _dt(outs):
        return g.op("Identity", [g.x(x)])
    return g.x(x, _dt(outs))


@emits("split", "split_with_sizes")
def _split(g, a, outs):
    x = a["x"]
    axis = a["dim"] % x.ndim
    return tuple(g.op("Split", [g.x(x), g.ints(a["sizes"])], outputs=len(outs), axis=axis))


_PAD_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@emits("_pad")
def _pad(g, a, outs):
    x, pad, mode = a["x"], list(a["pad"]), a["mode"]
    if mode == "circular" and g.opset < 19:
        raise RuntimeError("ONNX export: circular padding needs opset_version >= 19")
    widths = [(0, 0)] * (x.ndim - len(pad) // 2) + [(pad[i], pad[i + 1]) for i in range(len(pad) - 2, -1, -2)]
    pads = g.ints([w[0] for w in widths] + [w[1] for w in widths])
    value = g.const(a["value"] or 0, x._data.dtype) if mode == "constant" else ""
    return g.op("Pad", [g.x(x), pads, value], mode=_PAD_MODE[mode])


@emits("repeat")
def _repeat(g, a, outs):
    x, reps = a["x"], _flat(a["repeats"])
    name = g.x(x)
    if len(reps) > x.ndim:
        name = g.op("Unsqueeze", [name, g.ints(range(len(reps) - x.ndim))])
    return g.op("Tile", [name, g.ints(reps)])


@emits("index_select")
def _index_select(g, a, outs):
    return g.op("Gather", [g.x(a["x"]), g.x(a["index"])], axis=a["dim"] % max(a["x"].ndim, 1))


@emits("gather")
def _gather(g, a, outs):
    return g.op("GatherElements", [g.x(a["x"]), g.x(a["index"])], axis=a["dim"] % max(a["x"].ndim, 1))


@emits("embedding")
def _embedding(g, a, outs):
    return g.op("Gather", [g.x(a["weight"]), g.x(a["idx"])], axis=0)


# ---- reductions ----------------------------------------------------------------------------------------------
def _axes(x, dim):
    if dim is None or dim == ():
        return None
    dims = [dim] if isinstance(dim, int) else list(dim)
    return sorted(d % max(x.ndim, 1) for d in dims)


def _reduction(onnx_op):
    def emit(g, a, outs):
        x = a["x"]
        name = g.x(x, _dt(outs)) if onnx_op in ("ReduceSum", "ReduceMean") else g.x(x)
        return g.reduce(onnx_op, name, _axes(x, a.get("dim")), a.get("keepdim", False))
    return emit


for _name, _onnx_op in {"sum": "ReduceSum", "mean": "ReduceMean", "amax": "ReduceMax", "amin": "ReduceMin",
                        "max": "ReduceMax", "min": "ReduceMin"}.items():
    SYMBOLIC[_name] = _reduction(_onnx_op)


@emits("var", "std")
def _var(g, a, outs):
    x, keep = a["x"], bool(a["keepdim"])
    axes = _axes(x, a["dims"]) or list(range(x.ndim))
    n = int(np.prod([x.shape[d] for d in axes]))
    name = g.x(x)
    d = g.op("Sub", [name, g.reduce("ReduceMean", name, axes, True)])
    y = g.op("Div", [g.reduce("ReduceSum", g.op("Mul", [d, d]), axes, keep),
                     g.const(max(n - a["correction"], 0), _dt(outs))])
    return g.op("Sqrt", [y]) if g.op_name == "std" else y


def _dim_reduction(onnx_op, arg_op):
    def emit(g, a, outs):
        x, keep = a["x"], bool(a["keepdim"])
        axis = a["dim"] % max(x.ndim, 1)
        name = g.x(x)
        return (g.reduce(onnx_op, name, [axis], keep), g.op(arg_op, [name], axis=axis, keepdims=int(keep)))
    return emit


SYMBOLIC["_max_dim"] = _dim_reduction("ReduceMax", "ArgMax")
SYMBOLIC["_min_dim"] = _dim_reduction("ReduceMin", "ArgMin")


@emits("argmax", "argmin")
def _argmax(g, a, outs):
    x, dim, keep = a["x"], a["dim"], bool(a["keepdim"])
    op_type = "ArgMax" if g.op_name == "argmax" else "ArgMin"
    if dim is None:
        flat = g.op("Reshape", [g.x(x), g.ints([-1])])
        y = g.op(op_type, [flat], axis=0, keepdims=0)
        return g.op("Reshape", [y, g.ints([1] * x.ndim)]) if keep else y
    return g.op(op_type, [g.x(x)], axis=dim % max(x.ndim, 1), keepdims=int(keep))
