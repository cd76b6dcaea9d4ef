"""Shape and view ops: view/reshape/expand/permute/... share storage with their input as in torch."""
from __future__ import annotations

import itertools
from operator import index as _index
import warnings

import numpy as np

from .._backend import CPU as _CPU
from .._dtype import _FROM_NP, bool_ as _bool_dt, dtype as _DType, get_default_dtype, promote_types
from .._tensor import Size, Tensor, _root_array, make, warn_once, wrap_dim
from ._registry import _SHORT, apply, apply_unary, bind, check_inplace_allowed, defop, variant
from ._util import check_tensor, check_tensors, dims_of
from .views import _offset_of, _strided_view, as_strided as _views_as_strided

PUBLIC = {}


def _bind(op, name=None, **kw):
    return bind(op, name, namespace=PUBLIC, **kw)


def infer_size(shape, numel):
    """Resolve one ``-1`` in ``shape`` against ``numel``; torch's error if it cannot."""
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
    return tuple(shape)


@defop("view", view=True)
def view(ctx, x, *shape):
    shape = infer_size(_raw(shape), x.size)
    ctx.in_shape = x.shape
    try:
        return ctx.xp.reshape(x, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None


def _raw(shape):
    """A shape given as ``f(2, 3)`` or ``f((2, 3))``: ints (anything with ``__index__``), as torch."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        return tuple(_index(s) for s in shape)
    except TypeError:
        bad = next(s for s in shape if not hasattr(s, "__index__"))
        raise TypeError(f"argument 'shape' must be tuple of ints, not {type(bad).__name__}") from None


@view.backward
def _(ctx, g):
    return g.reshape(ctx.in_shape)


@defop("reshape", view=True)
def reshape(ctx, x, *shape):
    shape = infer_size(_raw(shape), x.size)
    ctx.in_shape = x.shape
    out = ctx.xp.reshape(x, shape)
    base = out.base
    ctx.__class__ = _ReshapeView if base is not None and (base is x or base is x.base) else _ReshapeCopy
    return out


@reshape.backward
def _(ctx, g):
    return g.reshape(ctx.in_shape)


_ReshapeView = variant(reshape, "ViewBackward0")
_ReshapeCopy = variant(reshape, "UnsafeViewBackward0")


@defop("expand", view=True)
def expand(ctx, x, *sizes):
    sizes = _raw(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"expand(torch.{_SHORT[_FROM_NP[x.dtype].name]}Tensor{{[{', '.join(map(str, x.shape))}]}}, "
            f"size=[{', '.join(map(str, sizes))}]): the number of sizes provided ({len(sizes)}) must be "
            f"greater or equal to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    out = list(sizes)
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            continue
        cur = x.shape[i - lead]
        if s == -1:
            out[i] = cur
        elif cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                               f"({cur}) at non-singleton dimension {i}.  Target sizes: "
                               f"[{', '.join(map(str, sizes))}].  Tensor sizes: [{', '.join(map(str, x.shape))}]")
    ctx.in_shape = x.shape
    out = tuple(out)
    if out == x.shape:
        return x.view()
    return _strided(ctx.xp, x, out, (0,) * lead + tuple(
        0 if (x.shape[i] == 1 and out[i + lead] != 1) else st for i, st in enumerate(_estrides(x))))


@expand.backward
def _(ctx, g):
    return g  # the engine sums a broadcast gradient back to the input's shape


_bind(view, function=False)


def _view_method(self, *shape, dtype=None):
    """``view(*shape)``, or ``view(dtype)``: the same bytes read as another dtype."""
    if dtype is None and not (len(shape) == 1 and isinstance(shape[0], _DType)):
        return apply_unary(view, self, shape, None)
    return _view_dtype(self, dtype if dtype is not None else shape[0])


def _view_dtype(self, dt):
    """Reinterpret the storage as ``dt`` (not differentiable; shares storage and version)."""
    x = self._data
    old = _FROM_NP[x.dtype]
    if dt.itemsize != old.itemsize:
        what = (f"to view {_SHORT[old.name]} as {_SHORT[dt.name]} (different element sizes)")
        if x.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if x.shape[-1] != 1 and x.strides[-1] != x.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {x.strides[-1] // x.itemsize}")
        if dt.itemsize > old.itemsize:
            k = dt.itemsize // old.itemsize
            if x.shape[-1] % k:
                raise RuntimeError(f"self.size(-1) must be divisible by {k} {what}, but got {x.shape[-1]}")
            if self.storage_offset() % k:
                raise RuntimeError(f"self.storage_offset() must be divisible by {k} {what}, but got "
                                   f"{self.storage_offset()}")
            if any(st % dt.itemsize for st, n in zip(x.strides[:-1], x.shape[:-1]) if n > 1):
                raise RuntimeError(f"self.stride(i) must be divisible by {k} for every dimension but the last "
                                   f"{what}")
    t = make(x.view(dt.np), self._device)
    t._version = self._version
    t._is_view = True
    return t


Tensor.view = _view_method
_bind(reshape)
_bind(expand, function=False)
Tensor.expand_as = lambda self, other: self.expand(other.shape)
Tensor.view_as = lambda self, other: self.view(other.shape)
Tensor.reshape_as = lambda self, other: self.reshape(other.shape)


# ---- helpers ------------------------------------------------------------------------------
def _strided(xp, x, shape, strides, offset=0):
    """A writable view of ``x``'s storage with element ``strides``, ``offset`` elements past ``x``'s start."""
    if xp is np:
        if x.flags.c_contiguous:    # x's own buffer: no walk to the root array
            it = x.itemsize
            return np.ndarray(tuple(shape), x.dtype, buffer=x, offset=offset * it,
                              strides=tuple(s * it for s in strides))
        return _strided_view(xp, x, tuple(shape), tuple(strides), _offset_of(x) + offset)
    it = x.itemsize
    return xp.ndarray(tuple(shape), x.dtype, x.data + offset * it, strides=tuple(s * it for s in strides))


def _estrides(x):
    return [s // x.itemsize for s in x.strides]


def _shape_str(shape):
    return f"[{', '.join(map(str, shape))}]"


def _as_int(v):
    return int(v) if isinstance(v, Tensor) else v


def _inplace_view(name, method):
    """``Tensor.<name>_``: rewrite ``self``'s view metadata in place (version bumped, history kept)."""
    def inplace(self, *args, **kw):
        check_inplace_allowed(self)
        out = method(self, *args, **kw)
        self._data = out._data
        if out.grad_fn is not None:
            self.grad_fn = out.grad_fn
            self._output_nr = 0
        self._version[0] += 1
        return self
    inplace.__name__ = name + "_"
    setattr(Tensor, name + "_", inplace)


def _mark_views(outs, src):
    """Outputs of a multi-output view op share ``src``'s storage and version counter."""
    base = src._base if src._base is not None else src
    for o in outs:
        o._version = src._version
        o._view_version = src._version[0]
        o._base = base
        o._is_view = True
    return outs


# ---- views --------------------------------------------------------------------------------
@defop("transpose", view=True)
def transpose(ctx, x, dim0, dim1):
    n = x.ndim
    ctx.dims = d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    return ctx.xp.swapaxes(x, d0, d1) if n else x.view()


@transpose.backward
def _(ctx, g):
    return g.transpose(*ctx.dims)


@defop("t", view=True)
def t(ctx, x):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return x.T


@t.backward
def _(ctx, g):
    return g.t()


@defop("permute", view=True)
def permute(ctx, x, *dims):
    dims = _raw(dims)
    n = x.ndim
    if len(dims) != n:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
            f"the desired ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    ctx.inverse = tuple(sorted(range(n), key=dims.__getitem__))
    return ctx.xp.transpose(x, dims)


@permute.backward
def _(ctx, g):
    return g.permute(ctx.inverse)


@defop("squeeze", view=True)
def squeeze(ctx, x, dim=None):
    n = x.ndim
    if dim is None:
        axes = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        ctx.__class__ = _SqueezeDims if isinstance(dim, (tuple, list)) else _SqueezeDim
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = tuple(d for d in (wrap_dim(d, n) for d in dims) if n and x.shape[d] == 1)
    ctx.in_shape = x.shape
    return ctx.xp.squeeze(x, axis=axes) if axes else x.view()


@squeeze.backward
def _(ctx, g):
    return g.reshape(ctx.in_shape)


_SqueezeDim = variant(squeeze, "SqueezeBackward1")
_SqueezeDims = variant(squeeze, "SqueezeBackward2")


@defop("unsqueeze", view=True)
def unsqueeze(ctx, x, dim):
    ctx.dim = d = wrap_dim(dim, x.ndim + 1)
    return ctx.xp.expand_dims(x, d)


@unsqueeze.backward
def _(ctx, g):
    return g.squeeze(ctx.dim)


def _narrow_array(xp, x, dim, start, length):
    return x[(slice(None),) * dim + (slice(start, start + length),)]


def _select_array(xp, x, dim, index):
    return x[(slice(None),) * dim + (index, ...)]      # ``...``: a 0-d view, not a scalar, from 1-D


def _diagonal_array(xp, x, offset, d1, d2):
    n1, n2 = x.shape[d1], x.shape[d2]
    size = max(min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2), 0)
    st = _estrides(x)
    start = 0 if size == 0 else offset * st[d2] if offset >= 0 else -offset * st[d1]
    keep = [i for i in range(x.ndim) if i != d1 and i != d2]
    return _strided(xp, x, [x.shape[i] for i in keep] + [size], [st[i] for i in keep] + [st[d1] + st[d2]],
                    start)


def _unfold_array(xp, x, dim, size, step):
    if x.ndim == 0:
        return x.reshape(1)
    shape, st = list(x.shape), _estrides(x)
    shape[dim] = (shape[dim] - size) // step + 1
    stride = st[dim]
    st[dim] = stride * step
    return _strided(xp, x, shape + [size], st + [stride])


_VIEW_ARRAYS = {"narrow": _narrow_array, "select": _select_array, "diagonal": _diagonal_array,
                "unfold": _unfold_array}


@defop("_view_backward")
def _view_backward(ctx, g, kind, args, in_shape):
    """The gradient of a view of a tensor shaped ``in_shape``: zeros, with ``g`` placed in the view."""
    xp = ctx.xp
    ctx.kind, ctx.args = kind, args
    out = xp.zeros(in_shape, dtype=g.dtype)
    region = _VIEW_ARRAYS[kind](xp, out, *args)
    if kind != "unfold" or not out.ndim:
        region[...] = g
        return out
    dim, size, step = args      # windows may overlap: add window position j of every window
    region = xp.moveaxis(out, dim, -1)
    g = xp.moveaxis(g, dim, -2)
    stop = step * (g.shape[-2] - 1) + 1
    for j in range(size):
        region[..., j:j + stop:step] += g[..., j]
    return out


@_view_backward.backward
def _(ctx, gg):
    return getattr(gg, ctx.kind)(*ctx.args)


@defop("narrow", view=True, node_name="SliceBackward0")
def narrow(ctx, x, dim, start, length):
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, x.ndim)
    n = x.shape[dim]
    start, length = _as_int(start), _as_int(length)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    ctx.in_shape, ctx.args = x.shape, (dim, start, length)
    return _narrow_array(ctx.xp, x, dim, start, length)


@defop("select", view=True)
def select(ctx, x, dim, index):
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, x.ndim)
    n = x.shape[dim]
    index = _as_int(index)
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {_shape_str(x.shape)} "
                         f"at dimension {dim}")
    ctx.in_shape, ctx.args = x.shape, (dim, index % n)
    return _select_array(ctx.xp, x, dim, index % n)


@defop("diagonal", view=True)
def diagonal(ctx, x, offset=0, dim1=0, dim2=1):
    d1, d2 = wrap_dim(dim1, x.ndim), wrap_dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    ctx.in_shape, ctx.args = x.shape, (offset, d1, d2)
    return _diagonal_array(ctx.xp, x, offset, d1, d2)


@defop("unfold", view=True)
def unfold(ctx, x, dimension, size, step):
    dim = wrap_dim(dimension, x.ndim)
    n = x.shape[dim] if x.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    ctx.in_shape, ctx.args = x.shape, (dim, size, step)
    return _unfold_array(ctx.xp, x, dim, size, step)


def _args_view_backward(ctx, g):
    return _view_backward(g, type(ctx)._op.name, ctx.args, ctx.in_shape)


for _op in (narrow, select, diagonal, unfold):
    _op.backward(_args_view_backward)


def _split_sizes(x, sizes, dim):
    n = x.shape[dim]
    if any(s < 0 for s in sizes):
        raise RuntimeError("split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={_shape_str(sizes)}")
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                           f"at dimension {dim}), but got split_sizes={_shape_str(sizes)}")


def _zeros_for_unused(ctx, grads):
    """Gradients of multi-output views: zeros (on the op's device) for outputs that got none."""
    return [make(ctx.xp.zeros(m[0], dtype=m[1]), ctx.device) if g is None else g
            for g, m in zip(grads, ctx._out_meta)]


@defop("split_with_sizes")
def _split_with_sizes(ctx, x, sizes, dim):
    ctx.dim = dim
    ctx.set_materialize_grads(False)
    outs, start = [], 0
    for s in sizes:
        outs.append(_narrow_array(ctx.xp, x, dim, start, s))
        start += s
    return tuple(outs)


@_split_with_sizes.backward
def _(ctx, *grads):
    return cat(_zeros_for_unused(ctx, grads), ctx.dim)


@defop("split", node_name="SplitBackward0")
def _split_equal(ctx, x, sizes, dim):
    return _split_with_sizes.forward(ctx, x, sizes, dim)


_split_equal.backward(_split_with_sizes.node_cls._backward)


def split(tensor, split_size_or_sections, dim=0):
    """Views of ``tensor`` split into chunks of ``split_size`` (or of the listed sizes) along ``dim``."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = wrap_dim(dim, tensor.ndim)
    n = tensor.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(_as_int(s) for s in split_size_or_sections)
        _split_sizes(tensor, sizes, dim)
        return _mark_views(_split_with_sizes(tensor, sizes, dim), tensor)
    size = _as_int(split_size_or_sections)
    if size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    if size == 0 and n != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
    count = max(-(-n // size), 1) if size else 1
    sizes = (size,) * (count - 1) + (n - size * (count - 1),)
    return _mark_views(_split_equal(tensor, sizes, dim), tensor)


def split_with_sizes(input, split_sizes, dim=0):
    """Views of ``input`` of the listed sizes along ``dim``."""
    return split(input, list(split_sizes), dim)


def chunk(input, chunks, dim=0):
    """Up to ``chunks`` views of ``input`` of equal size (the last smaller) along ``dim``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = input.shape[wrap_dim(dim, input.ndim)]
    size = -(-n // chunks)
    if size == 0 and n == 0:
        return split(input, [0] * chunks, dim)
    return split(input, size, dim)


def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` cut into ``sections`` near-equal parts, or at the given ``indices``."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with "
                           "0 dims")
    dim = wrap_dim(dim, input.ndim)
    n = input.shape[dim]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        ios = ios.tolist()
    if isinstance(ios, (list, tuple)):
        bounds = [min(max(i + n if i < 0 else i, 0), n) for i in map(int, ios)]
    else:
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        bounds = [k * q + min(k, r) for k in range(1, ios)]
    outs, start = [], 0
    for b in bounds + [n]:
        outs.append(narrow(input, dim, start, max(b - start, 0)))
        start = max(start, b)
    return tuple(outs)


@defop("unbind")
def _unbind(ctx, x, dim):
    ctx.dim = dim
    ctx.set_materialize_grads(False)
    return tuple(_select_array(ctx.xp, x, dim, i) for i in range(x.shape[dim]))


@_unbind.backward
def _(ctx, *grads):
    return stack(_zeros_for_unused(ctx, grads), ctx.dim)


def unbind(input, dim=0):
    """The slices of ``input`` along ``dim``, as a tuple of views."""
    check_tensor(input, "unbind")
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return _mark_views(_unbind(input, wrap_dim(dim, input.ndim)), input)


def flatten(input, start_dim=0, end_dim=-1):
    """``input`` with dims ``start_dim..end_dim`` merged into one (a view when strides allow)."""
    check_tensor(input, "flatten")
    n = input.ndim
    if n == 0:                  # dims are checked as if the scalar were 1-d
        wrap_dim(start_dim, 1), wrap_dim(end_dim, 1)
        return input.reshape(1)
    s, e = wrap_dim(start_dim, n), wrap_dim(end_dim, n)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input.shape
    return input.reshape(shape[:s] + (-1,) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """``input`` with dim ``dim`` split into ``sizes`` (one ``-1`` inferred)."""
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    prod = 1
    for s in sizes:
        prod *= s if s != -1 else 1
    if (-1 not in sizes and prod != n) or (-1 in sizes and (prod == 0 or n % prod)):
        raise RuntimeError(f"unflatten: Provided sizes {_shape_str(sizes)} don't multiply up to the size of "
                           f"dim {dim} ({n}) in the input tensor")
    shape = input.shape
    return input.view(shape[:d] + sizes + shape[d + 1:])


def ravel(input):
    """``input`` as 1-D (a view when contiguous, else a copy)."""
    check_tensor(input, "ravel")
    return input.reshape(-1)


def movedim(input, source, destination):
    """``input`` with dims ``source`` moved to positions ``destination`` (a permuted view)."""
    n = input.ndim
    src = tuple(source) if isinstance(source, (tuple, list)) else (source,)
    dst = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({_shape_str(src)} dims) "
                           f"should contain the same number of dims as destination ({_shape_str(dst)} dims)")
    src_w = [wrap_dim(d, n) for d in src]
    dst_w = [wrap_dim(d, n) for d in dst]
    for name, given, w in (("source", src, src_w), ("destination", dst, dst_w)):
        if len(set(w)) != len(w):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({_shape_str(given)})")
    rest = iter(d for d in range(n) if d not in src_w)
    perm = [None] * n
    for s, d in zip(src_w, dst_w):
        perm[d] = s
    return permute(input, [p if p is not None else next(rest) for p in perm])


def _T(self):
    n = self.ndim
    if n != 2:      # torch warns once per process (per message)
        warn_once(
            ("x.T", n == 0),
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases." if n == 0
            else "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
            "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
            "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
            "tensor.", UserWarning, stacklevel=2)
    return permute(self, tuple(range(n - 1, -1, -1)))


def _conj_if_complex(t):
    return t.conj() if t.is_complex() else t


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _mH(self):
    if self.ndim < 2:
        raise RuntimeError("tensor.mH is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return _conj_if_complex(transpose(self, -2, -1))


def _H(self):
    if self.ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().", UserWarning,
                      stacklevel=2)
        return _conj_if_complex(permute(self, ()))
    if self.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor.")
    return _conj_if_complex(transpose(self, 0, 1))


# ---- copies -------------------------------------------------------------------------------
class memory_format:
    """``torch.memory_format``: the layout a copy is laid out in."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return self.name


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


@defop("clone")
def clone(ctx, x, *, memory_format=preserve_format):
    if memory_format is contiguous_format or memory_format is None:
        return x.copy(order="C")
    if memory_format is channels_last or memory_format is channels_last_3d:
        perm = (0,) + tuple(range(2, x.ndim)) + (1,)
        xp = ctx.xp
        return xp.moveaxis(xp.ascontiguousarray(xp.transpose(x, perm)), -1, 1)
    dense = all(st or n <= 1 for st, n in zip(x.strides, x.shape))
    return x.copy(order="K" if dense else "C")


@clone.backward
def _(ctx, g):
    return g


def contiguous(self, memory_format=contiguous_format):
    """``self`` if already contiguous, else a contiguous copy."""
    if self._data.flags.c_contiguous and memory_format is contiguous_format:
        return self
    return clone(self, memory_format=memory_format)


def _tensor_list(tensors, fname):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(x).__name__}")
    return tuple(tensors)


@defop("cat", nin=None, promote="default")
def _cat(ctx, *arrays_and_dim):
    *arrays, dim = arrays_and_dim
    used = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)]
    ctx.sizes = [None if a.ndim == 1 and a.shape[0] == 0 else a.shape[dim] for a in arrays]
    ctx.dim = dim
    if not used:
        return arrays[0].copy()
    return ctx.xp.concatenate(used, axis=dim)


@_cat.backward
def _(ctx, g):
    grads, start = [], 0
    for n, m in zip(ctx.sizes, ctx._in_meta):
        grads.append(make(ctx.xp.zeros(0, dtype=m[1]), ctx.device) if n is None else g.narrow(ctx.dim, start, n))
        start += n or 0
    return tuple(grads)


def cat(tensors, dim=0, *, out=None):
    """Concatenate ``tensors`` along ``dim`` (promoting dtypes; empty 1-D tensors are skipped)."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    ref = None
    for i, x in enumerate(tensors):
        s = x._data.shape
        if not s:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        if len(s) == 1 and s[0] == 0:
            continue
        if ref is None:
            ref, d = s, wrap_dim(dim, len(s))
            continue
        if len(s) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(ref)} and {len(s)}")
        for k in range(len(s)):
            if k != d and s[k] != ref[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref[k]} but got size {s[k]} for tensor number {i} in the list.")
    if ref is None:
        d = wrap_dim(dim, 1)
    result = apply(_cat, tensors, (d,))
    return _out(result, out)


def concatenate(tensors, axis=0, out=None):
    """``cat`` with NumPy's argument name."""
    return cat(tensors, axis, out=out)


def _out(result, out):
    """Write ``result`` into ``out`` (resized when its shape differs), as torch's ``out=``."""
    if out is None:
        return result
    if out._data.shape == result._data.shape:
        out._data[...] = result._data
    else:
        out._data = result._data.astype(out._data.dtype)
    out._version[0] += 1
    return out


@defop("stack", nin=None, promote="default")
def _stack(ctx, *arrays_and_dim):
    *arrays, dim = arrays_and_dim
    ctx.dim = dim
    return ctx.xp.stack(arrays, axis=dim)


@_stack.backward
def _(ctx, g):
    return g.unbind(ctx.dim)


def stack(tensors, dim=0, *, out=None):
    """Join same-shaped ``tensors`` along a new dim ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = tensors[0]._data.shape
    for i, x in enumerate(tensors[1:], 1):
        if x._data.shape != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {_shape_str(s0)} at "
                               f"entry 0 and {_shape_str(x._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(s0) + 1)
    return _out(apply(_stack, tensors, (d,)), out)


def _atleast(n):
    def atleast(*tensors):
        single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            tensors = tuple(tensors[0])
        check_tensors(tensors)
        outs = []
        for x in tensors:
            k = x.ndim
            if k < n:
                shape = x.shape
                shape = ((1,) * (n - k) + shape) if n < 3 or k == 0 else (
                    (1,) + shape + (1,) if k == 1 else shape + (1,))
                x = x.reshape(shape)
            outs.append(x)
        return outs[0] if single else tuple(outs)
    atleast.__name__ = f"atleast_{n}d"
    atleast.__doc__ = f"Each input viewed with at least {n} dims."
    return atleast


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


def hstack(tensors, *, out=None):
    """Concatenate ``tensors`` column-wise (along dim 0 for 1-D inputs, else dim 1)."""
    ts = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Concatenate ``tensors`` row-wise (as at least 2-D)."""
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0, out=out)


def dstack(tensors, *, out=None):
    """Concatenate ``tensors`` depth-wise (as at least 3-D, along dim 2)."""
    return cat(atleast_3d(_tensor_list(tensors, "dstack")), 2, out=out)


def column_stack(tensors, *, out=None):
    """Stack ``tensors`` as columns: 0-D and 1-D inputs become ``(n, 1)`` columns."""
    ts = [x.reshape(x.numel(), 1) if x.ndim <= 1 else x for x in _tensor_list(tensors, "column_stack")]
    return cat(ts, 1, out=out)


@defop("flip")
def flip(ctx, x, *dims):
    dims = _raw(dims)
    ctx.dims = dims = dims_of(dims, x.ndim) if dims else ()
    return ctx.xp.flip(x, dims).copy(order="K") if dims else x.copy(order="K")


@flip.backward
def _(ctx, g):
    return g.flip(ctx.dims)


def fliplr(input):
    """``input`` flipped left-right (dim 1)."""
    check_tensor(input, "fliplr")
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """``input`` flipped up-down (dim 0)."""
    check_tensor(input, "flipud")
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


@defop("roll")
def roll(ctx, x, shifts, dims=None):
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        ctx.shifts, ctx.dims = tuple(-s for s in shifts), None
        return ctx.xp.roll(x, shifts[0])
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    dims = tuple(wrap_dim(d, x.ndim) for d in dims)
    ctx.shifts, ctx.dims = tuple(-s for s in shifts), dims
    return ctx.xp.roll(x, shifts, dims)


@roll.backward
def _(ctx, g):
    return g.roll(ctx.shifts, ctx.dims)


def rot90(input, k=1, dims=(0, 1)):
    """``input`` rotated by 90 degrees ``k`` times in the plane of ``dims``."""
    check_tensor(input, "rot90")
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    n = input.ndim
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    d0, d1 = dims
    if d0 == d1 or abs(d0 - d1) == n:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return flip(input, (d1,)).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, (d0,)).transpose(d0, d1)
    return clone(input, memory_format=contiguous_format)


@defop("repeat")
def repeat(ctx, x, *repeats):
    reps = _raw(repeats)
    if len(reps) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions "
                           "of tensor")
    ctx.reps, ctx.in_shape = reps, x.shape
    return ctx.xp.tile(x, reps)


@repeat.backward
def _(ctx, g):
    reps, in_shape = ctx.reps, ctx.in_shape
    padded = (1,) * (len(reps) - len(in_shape)) + tuple(in_shape)
    split = []
    for r, s in zip(reps, padded):
        split += [r, s]
    return g.reshape(split).sum(tuple(range(0, 2 * len(reps), 2))).reshape(in_shape)


def tile(input, dims):
    """``input`` repeated ``dims`` times per dim (missing leading dims count as 1)."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


@defop("repeat_interleave")
def _repeat_interleave(ctx, x, repeats, dim):
    ctx.repeats, ctx.dim = repeats, dim
    return ctx.xp.repeat(x, repeats, axis=dim)


@_repeat_interleave.backward
def _(ctx, g):
    return _segment_sum(g, ctx.repeats, ctx.dim)


@defop("_segment_sum")
def _segment_sum(ctx, g, repeats, dim):
    """Sum of consecutive runs of ``repeats[i]`` elements of ``g`` along ``dim`` (repeat_interleave's grad)."""
    xp = ctx.xp
    ctx.repeats, ctx.dim = repeats, dim
    ends = xp.cumsum(repeats)
    starts = ends - repeats
    shape = list(g.shape)
    shape[dim] = len(repeats)
    out = xp.zeros(shape, dtype=g.dtype)
    nz = repeats > 0
    if nz.any():
        idx = (slice(None),) * dim + (nz,)
        out[idx] = xp.add.reduceat(g, starts[nz], axis=dim)
    return out


@_segment_sum.backward
def _(ctx, gg):
    return _repeat_interleave(gg, ctx.repeats, ctx.dim)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element of ``input`` repeated ``repeats`` times along ``dim`` (flattened when ``dim`` is None)."""
    check_tensor(input, "repeat_interleave")
    if repeats is None:
        reps = input
        return repeat_interleave(_arange_of(reps), reps, 0)
    if dim is None:
        input = input.reshape(-1)
        dim = 0
    dim = wrap_dim(dim, input.ndim)
    n = input.shape[dim] if input.ndim else 1
    xp = input._device.xp
    if isinstance(repeats, Tensor):
        reps = repeats._data.astype(np.int64).reshape(-1)
        if reps.size == 1:
            reps = xp.full(n, int(reps[0]), dtype=np.int64)
        elif reps.size != n:
            raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{reps.size} and input.size({dim}) = {n}")
    else:
        reps = xp.full(n, int(repeats), dtype=np.int64)
    if (reps < 0).any():
        raise RuntimeError("repeats can not be negative")
    if input.ndim == 0:
        input = input.reshape(1)
    return _repeat_interleave(input, reps, dim)


def _arange_of(reps):
    """``arange(len(reps))`` on ``reps``' device (indices for ``repeat_interleave(repeats)``)."""
    if reps.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    return make(reps._device.xp.arange(reps.shape[0], dtype=np.int64), reps._device)


def broadcast_shapes(*shapes):
    """The shape ``shapes`` broadcast to, as torch.Size."""
    out = []
    for i, s in enumerate(shapes):
        if not isinstance(s, (int, tuple, list)):
            raise RuntimeError(  # noqa: TRY004 - torch's type
                f"Input shapes should be of type ints, a tuple of ints, or a list of ints, got {s}")
        s = (s,) if isinstance(s, int) else tuple(s)
        if len(s) > len(out):
            out = [1] * (len(s) - len(out)) + out
        for k in range(1, len(s) + 1):
            a, b = out[-k], s[-k]
            if a == 1:
                out[-k] = b
            elif b != 1 and b != a:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {b} at -{k}! Mismatching "
                                   f"argument at index {i} had {s}; but expected shape should be "
                                   f"broadcastable to {_shape_str(out)}")
    return Size(out)


def broadcast_to(input, size):
    """``input`` expanded (a view) to ``size``."""
    return input.expand(size)


def broadcast_tensors(*tensors):
    """``tensors`` expanded (views) to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    check_tensors(tensors)
    shape = ()
    for x in tensors:
        s = x._data.shape
        n = max(len(shape), len(s))
        a, b = (1,) * (n - len(shape)) + tuple(shape), (1,) * (n - len(s)) + s
        for k in range(n):
            if a[k] != b[k] and a[k] != 1 and b[k] != 1:
                raise RuntimeError(f"The size of tensor a ({a[k]}) must match the size of tensor b ({b[k]}) at "
                                   f"non-singleton dimension {k}")
        shape = tuple(y if x_ == 1 else x_ for x_, y in zip(a, b))
    return tuple(x.expand(shape) for x in tensors)


# ---- binding ------------------------------------------------------------------------------
for _name in ("transpose", "swapaxes", "swapdims"):
    _bind(transpose, _name)
    _inplace_view(_name, Tensor.transpose)
_bind(t)
_inplace_view("t", Tensor.t)
_bind(permute)
_bind(squeeze)
_inplace_view("squeeze", Tensor.squeeze)
_bind(unsqueeze)
_inplace_view("unsqueeze", Tensor.unsqueeze)
_bind(narrow)
_bind(select)
_bind(diagonal)
_bind(unfold, function=False)
_bind(clone)
_bind(flip)
_bind(roll)
_bind(repeat, function=False)
Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.mH = property(_mH)
Tensor.H = property(_H)
Tensor.contiguous = contiguous
Tensor.split = split
for _fn in (split_with_sizes, chunk, tensor_split, unbind, flatten, unflatten, ravel, movedim,
            fliplr, flipud, rot90, tile, repeat_interleave, broadcast_to):
    setattr(Tensor, _fn.__name__, _fn)
    PUBLIC[_fn.__name__] = _fn
Tensor.moveaxis = movedim
for _fn in (split, cat, stack, hstack, vstack, dstack, column_stack, atleast_1d, atleast_2d, atleast_3d,
            broadcast_shapes, broadcast_tensors):
    PUBLIC[_fn.__name__] = _fn
PUBLIC.update(concat=cat, concatenate=concatenate, moveaxis=movedim, memory_format=memory_format,
              contiguous_format=contiguous_format, preserve_format=preserve_format,
              channels_last=channels_last, channels_last_3d=channels_last_3d)


# ---- hsplit/vsplit/dsplit, row_stack, diff, combinations, cartesian_prod, block_diag, as_strided ------
def _dir_split(name, dim, min_dims):
    def f(input, indices_or_sections):
        if input.ndim < min_dims:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got "
                               f"a tensor with {input.ndim} dimensions!")
        d = 0 if name == "hsplit" and input.ndim == 1 else dim
        ios = indices_or_sections
        if isinstance(ios, int) and ios != 0 and input.shape[d] % ios:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the "
                               f"dimension {input.shape[d]} is not divisible by the split_size {ios}!")
        return tensor_split(input, ios, d)
    f.__name__ = name
    f.__doc__ = f"Split ``input`` along dim {dim} into equal sections or at indices (``tensor_split``)."
    return f


hsplit, vsplit, dsplit = _dir_split("hsplit", 1, 1), _dir_split("vsplit", 0, 2), _dir_split("dsplit", 2, 3)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``!=`` for bool), after prepend/append."""
    check_tensor(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = wrap_dim(dim, input.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    for t in parts:
        if t.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    x = cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        m = x.shape[dim]
        if m == 0:
            break
        hi, lo = narrow(x, dim, 1, m - 1), narrow(x, dim, 0, m - 1)
        x = hi != lo if x.dtype is _bool_dt else hi - lo
    return x


def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of the elements of 1-D ``input``, as rows."""
    check_tensor(input, "combinations")
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {_shape_str(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty(0)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[make(input._device.xp.asarray(idx), input._device)]


def cartesian_prod(*tensors):
    """Cartesian product of 1-D tensors, as rows (a single tensor is returned as is)."""
    check_tensors(tensors)
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {_shape_str(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    grids = [t.reshape([-1 if i == j else 1 for j in range(len(tensors))])
             .expand([u.shape[0] for u in tensors]) for i, t in enumerate(tensors)]
    return stack([g.reshape(-1) for g in grids], 1)


def block_diag(*tensors):
    """A block-diagonal matrix of the (at most 2-D) ``tensors``, in their promoted dtype."""
    check_tensors(tensors)
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} "
                               f"has {t.ndim} dimensions")
    mats = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    if not mats:
        return make(np.zeros((1, 0), dtype=get_default_dtype().np), _CPU)
    dt = mats[0].dtype
    for m in mats[1:]:
        dt = promote_types(dt, m.dtype)
    cols = sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        r, c = m.shape
        rows.append(cat([m.new_zeros(r, left, dtype=dt), m.to(dt), m.new_zeros(r, cols - left - c, dtype=dt)], 1))
        left += c
    return cat(rows, 0)


for _fn in (hsplit, vsplit, dsplit, diff, combinations, cartesian_prod, block_diag):
    PUBLIC[_fn.__name__] = _fn
for _fn in (hsplit, vsplit, dsplit, diff):
    setattr(Tensor, _fn.__name__, _fn)
PUBLIC["row_stack"] = vstack
PUBLIC["as_strided"] = _views_as_strided


# ---- complex views: view_as_real, view_as_complex, real, imag ---------------------------------------
_REAL_OF = {np.dtype(np.complex64): np.float32, np.dtype(np.complex128): np.float64}
_COMPLEX_OF = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128}


@defop("view_as_real", view=True)
def view_as_real(ctx, x):
    if x.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return x[..., None].view(_REAL_OF[x.dtype])


@view_as_real.backward
def _(ctx, g):
    return view_as_complex(g.contiguous())


@defop("view_as_complex", view=True)
def view_as_complex(ctx, x):
    if x.dtype not in _COMPLEX_OF:
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but got a "
                           f"tensor of scalar type: {_SHORT[_FROM_NP[x.dtype].name]}")
    if not x.ndim or x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    st = [s // x.itemsize for s in x.strides]
    if st[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in st[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if _offset_of(x) % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return x.view(_COMPLEX_OF[x.dtype])[..., 0]


@view_as_complex.backward
def _(ctx, g):
    return view_as_real(g)


@defop("real", view=True)
def _real(ctx, x):
    return x.real


@_real.backward
def _(ctx, g):
    return g


@defop("imag", view=True)
def _imag(ctx, x):
    return x.imag


@_imag.backward
def _(ctx, g):
    return g * 1j


def real(input):
    """The real part of a complex tensor as a view (``input`` itself when it is real)."""
    check_tensor(input, "real")
    return _real(input) if input.is_complex() else input


def imag(input):
    """The imaginary part of a complex tensor as a view."""
    check_tensor(input, "imag")
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _imag(input)


PUBLIC.update(view_as_real=view_as_real, view_as_complex=view_as_complex, real=real, imag=imag)
Tensor.real = property(real)
Tensor.imag = property(imag)


# ---- resize_ / resize_as_ -------------------------------------------------------------------------
def resize_(self, *sizes, memory_format=None):
    """Give ``self`` a new contiguous shape over its storage from its offset: leading data is kept,
    elements past the old storage are new (zeros here; torch leaves them uninitialised)."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    n = int(np.prod(shape))
    a = self._data
    root = _root_array(a)
    if root.flags.c_contiguous:
        flat = root.reshape(-1)[self.storage_offset():]
    else:
        flat = a.reshape(-1)
    if n <= flat.size:
        self._data = flat[:n].reshape(shape)
    else:
        new = self._device.xp.zeros(n, dtype=a.dtype)
        new[:flat.size] = flat
        self._data = new.reshape(shape)
    return self


def resize_as_(self, the_template, memory_format=None):
    return resize_(self, the_template.shape)


Tensor.resize_, Tensor.resize_as_ = resize_, resize_as_
