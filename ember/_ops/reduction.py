"""Reductions over ``dim`` (int, tuple or None; negatives allowed) with ``keepdim``."""
from __future__ import annotations

import builtins as _builtins
import warnings as _warnings
from collections import namedtuple as _namedtuple

import numpy as np

from .._dtype import _FROM_NP, bool as _bool, to_dtype
from .._tensor import Tensor, make, wrap_dim
from . import pointwise as _pointwise
from .pointwise import abs, sign  # noqa: A004
from ._registry import _SHORT, bind, defop, variant
from ._util import acc_array as _acc, check_tensor, dims_of, inplace_from, is_half as _is_half, size_args

PUBLIC = {}


def _bind(op, **kw):
    return bind(op, namespace=PUBLIC, **kw)


def _keep(g, ctx):
    """``g`` reshaped to the keepdim shape of a reduction over ``ctx.dims``."""
    if ctx.keepdim or not ctx.dims:
        return g
    shape = list(ctx.in_shape)
    for d in ctx.dims:
        shape[d] = 1
    return g.reshape(shape)


def _expand_back(g, ctx):
    """Broadcast a reduced gradient back over the input's shape."""
    if g._data.ndim == 0:       # a full reduction's gradient expands as it is
        return g.expand(ctx.in_shape)
    return _keep(g, ctx).expand(ctx.in_shape)


def _red_dims(dim, ndim):
    """``dims_of`` for a reduction; a 0-dim input accepts dim 0/-1 and reduces nothing."""
    dims = dims_of(dim, ndim)
    return dims if ndim else ()


_np_add_reduce = np.add.reduce


def _sum_dtype(x, dtype):
    if dtype is not None:
        return to_dtype(dtype).np
    return np.int64 if x.dtype.kind in "iub" else x.dtype




@defop("sum")
def sum(ctx, x, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    if dim is not None:
        ctx.__class__ = _SumDim
    dims = _red_dims(dim, x.ndim)
    ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
    xp = ctx.xp
    add_reduce = _np_add_reduce if xp is np else xp.sum     # ufunc.reduce skips np.sum's wrapper
    dt = _sum_dtype(x, dtype)
    if _is_half(dt):
        return add_reduce(x, axis=dims, keepdims=keepdim, dtype=np.float32).astype(dt)
    return add_reduce(x, axis=dims, keepdims=keepdim, dtype=dt)


@sum.backward
def _(ctx, g):
    return _expand_back(g, ctx)


_SumDim = variant(sum, "SumBackward1")


@defop("mean")
def mean(ctx, x, dim=None, keepdim=False, *, dtype=None):
    if dtype is None and x.dtype.kind not in "fcV" and not _is_half(x.dtype):
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_dtype_name(x)}")
    if dim is not None:
        ctx.__class__ = _MeanDim
    dims = _red_dims(dim, x.ndim)
    ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
    n = 1
    for d in dims:
        n *= x.shape[d]
    ctx.n = n
    dt = x.dtype if dtype is None else to_dtype(dtype).np
    if _is_half(dt):
        return ctx.xp.mean(x, axis=dims, keepdims=keepdim, dtype=np.float32).astype(dt)
    return ctx.xp.mean(x, axis=dims, keepdims=keepdim, dtype=dt)


@mean.backward
def _(ctx, g):
    return _expand_back(g / ctx.n, ctx)


_MeanDim = variant(mean, "MeanBackward1")


def _dtype_name(x):
    return _SHORT[_FROM_NP[x.dtype].name]


# ---- shared pieces: named-tuple results, scatter/gather along a dim ----------------------------
def return_type(name, fields):
    """A named tuple class built from a sequence, printing like ``torch.return_types.<name>``."""
    base = _namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"torch.return_types.{name}(\n{body})"

    def __new__(cls, seq):
        return tuple.__new__(cls, seq)

    return type(name, (base,), {"__slots__": (), "__new__": __new__, "__repr__": __repr__,
                                "__module__": "torch.return_types"})


def _full_index(xp, idx, dim):
    """Index arrays addressing ``idx`` positions along ``dim`` (identity elsewhere)."""
    nd = idx.ndim
    ix = [xp.arange(s).reshape([-1 if i == j else 1 for j in range(nd)]) for i, s in enumerate(idx.shape)]
    ix[dim] = idx
    return tuple(ix)


@defop("_scatter_along", nin=2)
def _scatter_along(ctx, g, idx, dim, shape, accumulate=False):
    """Zeros of ``shape`` with ``g`` put (or added) at ``idx`` along ``dim``: values → input grads."""
    ctx.save_for_backward(idx)
    ctx.dim = dim
    if not shape:
        return g.copy()
    out = ctx.xp.zeros(shape, dtype=g.dtype)
    if accumulate:
        ctx.xp.add.at(out, _full_index(ctx.xp, idx, dim), g)
    else:
        ctx.xp.put_along_axis(out, idx, g, dim)
    return out


@_scatter_along.backward
def _(ctx, gg):
    (idx,) = ctx.saved_tensors
    return _take_along(gg, idx, ctx.dim), None


@defop("_take_along", nin=2)
def _take_along(ctx, x, idx, dim):
    """``x`` gathered at ``idx`` along ``dim`` (the adjoint of ``_scatter_along``)."""
    ctx.save_for_backward(idx)
    ctx.dim, ctx.shape = dim, x.shape
    if not x.shape:
        return x.copy()
    return ctx.xp.take_along_axis(x, idx, dim)


@_take_along.backward
def _(ctx, g):
    (idx,) = ctx.saved_tensors
    return _scatter_along(g, idx, ctx.dim, ctx.shape, True), None


def _tie_scale(ctx, x, out):
    """Constant ``mask / count`` of the positions equal to the reduced ``out`` (NaNs match NaN)."""
    xa, oa = x._data, _keep(out, ctx)._data
    mask = xa == oa
    if xa.dtype.kind in "fcV":
        mask |= ctx.xp.isnan(xa) & ctx.xp.isnan(oa)
    mask = mask.astype(xa.dtype)
    return make(mask / mask.sum(axis=ctx.dims, keepdims=True), x._device)


def _check_nonempty(name, x, dims, dim_given, exc=RuntimeError):
    if x.size == 0:
        if not dim_given:
            raise exc(f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
                      + (" Specify the reduction dim with the 'dim' argument." if exc is RuntimeError else ""))
        for d in dims:
            if x.shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _float_only(name, x):
    if x.dtype.kind not in "fcV":
        raise RuntimeError(f"{name}(): expected input to have floating point or complex dtype but got "
                           f"{_dtype_name(x)}")


# ---- sums and products -----------------------------------------------------------------------
def sum_to_size(self, *size):
    """Sum ``self`` down to ``size`` (the adjoint of ``expand``)."""
    size = size_args(size)
    shape = self.shape
    lead = len(shape) - len(size)
    if lead < 0 or _builtins.any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{[{', '.join(map(str, size))}]}} is not expandable to size "
                           f"{{[{', '.join(map(str, shape))}]}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and shape[lead + i] != 1)
    if not dims:
        return self
    return sum(self, dims, True).reshape(size)


@defop("nansum")
def nansum(ctx, x, dim=None, keepdim=False, *, dtype=None):
    dims = _red_dims(dim, x.ndim)
    ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
    if x.dtype.kind in "fcV":
        ctx.save_for_backward((~ctx.xp.isnan(x)).astype(x.dtype))
    dt = _sum_dtype(x, dtype)
    return ctx.xp.nansum(x, axis=dims, keepdims=keepdim, dtype=np.float32 if _is_half(dt) else dt).astype(
        dt, copy=False)


@nansum.backward
def _(ctx, g):
    (mask,) = ctx.saved_tensors
    return _expand_back(g, ctx) * mask


@defop("nanmean")
def nanmean(ctx, x, dim=None, keepdim=False, *, dtype=None):
    _float_only("nanmean", x)
    xp = ctx.xp
    dims = _red_dims(dim, x.ndim)
    ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
    mask = (~xp.isnan(x)).astype(x.dtype)
    count = _acc(mask).sum(axis=dims, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):       # all-NaN slices give NaN
        ctx.save_for_backward((mask / count).astype(x.dtype, copy=False))
        total = xp.nansum(_acc(x), axis=dims, keepdims=True).astype(x.dtype, copy=False)
        out = (total / count).astype(x.dtype, copy=False)
    out = out if keepdim else out.reshape([n for i, n in enumerate(x.shape) if i not in dims])
    return out if dtype is None else out.astype(to_dtype(dtype).np)


@nanmean.backward
def _(ctx, g):
    (scale,) = ctx.saved_tensors
    return _expand_back(g, ctx) * scale


@defop("prod")
def prod(ctx, x, dim=None, keepdim=False, *, dtype=None):
    if dim is not None:
        ctx.__class__ = _ProdDim
    dims = _red_dims(dim, x.ndim)
    ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
    out = ctx.xp.prod(x, axis=dims, keepdims=keepdim, dtype=_sum_dtype(x, dtype))
    out = ctx.xp.asarray(out)  # a full reduction gives a NumPy scalar: save the array returned
    ctx.save_for_backward(x, out)
    return out


@prod.backward
def _(ctx, g):
    x, out = ctx.saved_tensors
    xa = x._data
    zero = xa == 0
    ge = _expand_back(g, ctx)
    if not zero.any():
        return ge * _expand_back(out, ctx) / x
    # product of the others: x with zeros replaced by 1; a slice with one zero sends its
    # gradient only to that zero, a slice with more zeros sends none
    z = zero.astype(xa.dtype)
    nz = z.sum(axis=ctx.dims, keepdims=True)
    safe = x * make(1 - z, x._device) + make(z, x._device)
    others = prod(safe, ctx.dims, True).expand(ctx.in_shape)
    c = make((nz == 0).astype(xa.dtype), x._device)
    b = make(((nz == 1) & zero).astype(xa.dtype), x._device)
    return ge * others * (c / safe + b)


_ProdDim = variant(prod, "ProdBackward1")


# ---- max / min ---------------------------------------------------------------------------------
def _extreme(name, reduce, node_name):
    """A full or ``dim``-tuple max/min whose gradient is shared evenly among ties (torch's rule)."""
    @defop(name, node_name=node_name)
    def op(ctx, x, dim=(), keepdim=False):
        dims = _red_dims(dim, x.ndim)
        _check_nonempty(name, x, dims, dim not in ((), None, []))
        ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
        out = getattr(ctx.xp, reduce)(x, axis=dims, keepdims=keepdim)
        out = ctx.xp.asarray(out)
        ctx.save_for_backward(x, out)
        return out

    @op.backward
    def _(ctx, g):
        x, out = ctx.saved_tensors
        return _expand_back(g, ctx) * _tie_scale(ctx, x, out)

    return op


amax = _extreme("amax", "max", None)
amin = _extreme("amin", "min", None)
_max_all = _extreme("max", "max", "MaxBackward1")
_min_all = _extreme("min", "min", "MinBackward1")


def _arg_dim(xp, x, d, pick):
    """Index (keepdim shape) chosen by ``pick`` (argmax/argmin) along ``d``; 0-dim input allowed."""
    if x.ndim == 0:
        return xp.zeros((), dtype=np.int64)
    return xp.expand_dims(getattr(xp, pick)(x, axis=d), d)


def _dim_extreme(name, pick, node_name):
    """max/min over one ``dim``: (values, indices); the gradient goes to the returned index."""
    @defop(name, nondiff_outputs=(1,), node_name=node_name)
    def op(ctx, x, dim, keepdim=False):
        d = wrap_dim(dim, x.ndim)
        _check_nonempty(name[1:4], x, (d,), True)
        ctx.dims, ctx.keepdim, ctx.in_shape, ctx.d = ((d,) if x.ndim else ()), keepdim, x.shape, d
        idx = _arg_dim(ctx.xp, x, d, pick)
        vals = ctx.xp.take_along_axis(x, idx, d) if x.ndim else x.copy()
        if not keepdim and x.ndim:
            vals, idx = vals.squeeze(d), idx.squeeze(d)
        ctx.save_for_backward(idx)
        return vals, idx

    @op.backward
    def _(ctx, g, _gi):
        (idx,) = ctx.saved_tensors
        return _scatter_along(_keep(g, ctx), _keep(idx, ctx), ctx.d, ctx.in_shape)

    return op


_max_dim = _dim_extreme("_max_dim", "argmax", "MaxBackward0")
_min_dim = _dim_extreme("_min_dim", "argmin", "MinBackward0")
_MaxResult = return_type("max", ("values", "indices"))
_MinResult = return_type("min", ("values", "indices"))


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """Largest element; with ``dim`` a (values, indices) named tuple; with a tensor, ``maximum``."""
    if isinstance(dim, Tensor) or other is not None:
        return _pointwise.maximum(input, other if other is not None else dim)
    if dim is None:
        return _max_all(input)
    return _MaxResult(_max_dim(input, dim, keepdim))


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """Smallest element; with ``dim`` a (values, indices) named tuple; with a tensor, ``minimum``."""
    if isinstance(dim, Tensor) or other is not None:
        return _pointwise.minimum(input, other if other is not None else dim)
    if dim is None:
        return _min_all(input)
    return _MinResult(_min_dim(input, dim, keepdim))


_AminmaxResult = return_type("aminmax", ("min", "max"))


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over ``dim`` (all dims if None) in one call."""
    d = () if dim is None else dim
    return _AminmaxResult((amin(input, d, keepdim), amax(input, d, keepdim)))


def _argreduce(name, pick):
    @defop(name, differentiable=False)
    def op(ctx, x, dim=None, keepdim=False):
        if x.dtype == np.bool_:
            raise RuntimeError(f"{name}(): does not support bool input")
        if dim is None:
            _check_nonempty(name, x, (), False, IndexError)
            out = getattr(ctx.xp, pick)(x.reshape(-1))
            return ctx.xp.asarray(out, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ())
        d = wrap_dim(dim, x.ndim)
        _check_nonempty(name, x, (d,), True)
        idx = _arg_dim(ctx.xp, x, d, pick)
        return idx if keepdim or not x.ndim else idx.squeeze(d)
    return op


argmax = _argreduce("argmax", "argmax")
argmin = _argreduce("argmin", "argmin")


# ---- statistics ----------------------------------------------------------------------------------
def _correction(dim, unbiased, correction):
    """torch's var/std argument forms: (dim, unbiased, keepdim), (unbiased) or correction=."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None else int(unbiased)
    return dim, correction


def _moment(name, node_name, root):
    @defop(name, node_name=node_name)
    def op(ctx, x, dims, correction, keepdim):
        if x.dtype.kind not in "fcV":
            raise RuntimeError("std and var only support floating point and complex dtypes")
        dims = _red_dims(dims, x.ndim)
        ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
        n = 1
        for d in dims:
            n *= x.shape[d]
        ctx.dof = n - correction
        with np.errstate(divide="ignore", invalid="ignore"):
            out = ctx.xp.var(_acc(x), axis=dims, ddof=correction, keepdims=keepdim)
            if root:
                out = ctx.xp.sqrt(out)
        out = ctx.xp.asarray(out).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        return out

    @op.backward
    def _(ctx, g):
        x, out = ctx.saved_tensors
        ge = _expand_back(g, ctx)
        if ctx.dof <= 0:        # no degrees of freedom: torch's gradient is inf (var) or nan (std)
            return ge * (float("nan") if root else float("inf"))
        centered = x - mean(x, ctx.dims, True)
        if not root:
            return ge * centered * (2 / ctx.dof)
        zero = (_keep(out, ctx)._data == 0).astype(x._data.dtype)
        if not zero.any():
            return ge * centered / (_expand_back(out, ctx) * ctx.dof)
        z = make(zero, x._device)
        return ge * centered * (1 - z) / ((_keep(out, ctx) + z) * ctx.dof)

    return op


_var = _moment("var", "VarBackward0", False)
_std = _moment("std", "StdBackward0", True)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (``unbiased`` is the legacy spelling)."""
    dim, correction = _correction(dim, unbiased, correction)
    return _var(input, dim, correction, keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim`` with Bessel's ``correction``."""
    dim, correction = _correction(dim, unbiased, correction)
    return _std(input, dim, correction, keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``."""
    dim, correction = _correction(dim, unbiased, correction)
    return _var(input, dim, correction, keepdim), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``."""
    dim, correction = _correction(dim, unbiased, correction)
    return _std(input, dim, correction, keepdim), mean(input, dim, keepdim)


_INF = float("inf")


@defop("_vector_norm", node_name="LinalgVectorNormBackward0")
def _vector_norm(ctx, x, p, dim, keepdim):
    if x.dtype.kind not in "fcV":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_dtype_name(x)}")
    xp = ctx.xp
    dims = _red_dims(dim, x.ndim)
    ctx.dims, ctx.keepdim, ctx.in_shape, ctx.p = dims, keepdim, x.shape, p
    a = xp.abs(_acc(x))
    if p == 2:
        out = xp.sqrt(xp.sum(a * a, axis=dims, keepdims=keepdim))
    elif p == 1:
        out = xp.sum(a, axis=dims, keepdims=keepdim)
    elif p == _INF:
        out = xp.max(a, axis=dims, keepdims=keepdim)
    elif p == -_INF:
        out = xp.min(a, axis=dims, keepdims=keepdim)
    elif p == 0:
        out = xp.sum(a != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
    else:
        out = xp.sum(a ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
    out = ctx.xp.asarray(out).astype(x.dtype, copy=False)
    ctx.save_for_backward(x, out)
    return out


@_vector_norm.backward
def _(ctx, g):
    x, out = ctx.saved_tensors
    p = ctx.p
    ge = _expand_back(g, ctx)
    if p == 0:
        return ge * 0
    if p == 1:
        return ge * sign(x)
    if p == _INF or p == -_INF:
        return ge * sign(x) * _tie_scale(ctx, abs(x), out)
    nk = _keep(out, ctx)
    zero = (nk._data == 0).astype(x._data.dtype)
    if zero.any():
        z = make(zero, x._device)
        ge, nk = ge * (1 - z), nk + z
    if p == 2:
        return ge * x / nk
    xz = (x._data == 0).astype(x._data.dtype)
    if p < 1 and xz.any():
        z = make(xz, x._device)
        return ge * (1 - z) * sign(x) * (abs(x) + z) ** (p - 1) / nk ** (p - 1)
    return ge * sign(x) * abs(x) ** (p - 1) / nk ** (p - 1)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all dims if None); ``'fro'`` is the 2-norm."""
    if p == "fro":
        p = 2
    elif isinstance(p, str):
        raise RuntimeError(f"norm(): p={p!r} is not supported")
    if dtype is not None:
        input = input.to(dtype)
    return _vector_norm(input, float(p), dim, keepdim)


@defop("logsumexp", promote="float")
def logsumexp(ctx, x, dim, keepdim=False):
    xp = ctx.xp
    dims = _red_dims(dim, x.ndim)
    ctx.dims, ctx.keepdim, ctx.in_shape = dims, keepdim, x.shape
    xa = _acc(x)
    if x.size:
        m = xp.max(xa, axis=dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.sum(xp.exp(xa - m), axis=dims, keepdims=True)) + m
    else:
        out = xp.log(xp.sum(xp.exp(xa), axis=dims, keepdims=True))
    if not keepdim:
        out = out.reshape([n for i, n in enumerate(x.shape) if i not in dims])
    out = ctx.xp.asarray(out).astype(x.dtype, copy=False)
    ctx.save_for_backward(x, out)
    return out


@logsumexp.backward
def _(ctx, g):
    x, out = ctx.saved_tensors
    return _expand_back(g, ctx) * (x - _keep(out, ctx)).exp()


# ---- cumulative ------------------------------------------------------------------------------------
@defop("_cumsum", node_name="CumsumBackward0")
def _cumsum(ctx, x, dim, reverse=False, dtype=None):
    xp = ctx.xp
    d = ctx.d = wrap_dim(dim, x.ndim)
    ctx.reverse = reverse
    dt = _sum_dtype(x, dtype)
    if not x.ndim:
        return x.astype(dt)
    acc = np.float32 if _is_half(dt) else dt
    if reverse:
        return xp.flip(xp.cumsum(xp.flip(x, d), axis=d, dtype=acc), d).astype(dt, copy=False)
    return xp.cumsum(x, axis=d, dtype=acc).astype(dt, copy=False)


@_cumsum.backward
def _(ctx, g):
    return _cumsum(g, ctx.d, not ctx.reverse)


def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``."""
    return _cumsum(input, dim, False, dtype)


def _cumsum_(self, dim, *, dtype=None):
    return inplace_from(self, lambda x: _cumsum(x, dim, False, dtype))


def _cumprod_(self, dim, *, dtype=None):
    return inplace_from(self, lambda x: cumprod(x, dim, dtype=dtype))


Tensor.cumsum_, Tensor.cumprod_ = _cumsum_, _cumprod_


@defop("cumprod")
def cumprod(ctx, x, dim, *, dtype=None):
    d = ctx.d = wrap_dim(dim, x.ndim)
    out = x.astype(_sum_dtype(x, dtype)) if not x.ndim else \
        ctx.xp.cumprod(x, axis=d, dtype=_sum_dtype(x, dtype))
    out = ctx.xp.asarray(out)
    ctx.save_for_backward(x, out)
    return out


@cumprod.backward
def _(ctx, g):
    x, out = ctx.saved_tensors
    if not x.ndim:
        return g
    if not (x._data == 0).any():
        return _cumsum(g * out, ctx.d, True) / x
    # with zeros: d out_i / d x_k = prod_{j<=i, j!=k} x_j, one running product per k
    xp = ctx.xp
    xa = xp.moveaxis(x._data, ctx.d, -1)
    ga = xp.moveaxis(g._data, ctx.d, -1)
    grad = xp.empty_like(xa)
    for k in range(xa.shape[-1]):
        xk = xa.copy()
        xk[..., k] = 1
        grad[..., k] = (ga[..., k:] * xp.cumprod(xk, axis=-1)[..., k:]).sum(-1)
    return make(xp.moveaxis(grad, -1, ctx.d), x._device)


def _cum_extreme(name, better):
    """cummax/cummin: running extreme and the index where it was (last among ties, NaN sticks)."""
    @defop(name, nondiff_outputs=(1,))
    def op(ctx, x, dim):
        xp = ctx.xp
        d = ctx.d = wrap_dim(dim, x.ndim)
        ctx.shape = x.shape
        if not x.ndim:
            idx = xp.zeros((), dtype=np.int64)
            ctx.save_for_backward(idx)
            return x.copy(), idx
        xs = xp.moveaxis(x, d, -1)
        vals = xp.empty_like(xs)
        idx = xp.empty(xs.shape, dtype=np.int64)
        nan = xs.dtype.kind in "fcV"
        for i in range(xs.shape[-1]):
            xi = xs[..., i]
            if i == 0:
                take = xp.ones(xi.shape, dtype=bool)
            else:
                take = getattr(xp, better)(xi, vals[..., i - 1])
                if nan:
                    take |= xp.isnan(xi)
            vals[..., i] = xp.where(take, xi, vals[..., i - 1]) if i else xi
            idx[..., i] = xp.where(take, i, idx[..., i - 1]) if i else 0
        vals, idx = xp.moveaxis(vals, -1, d), xp.moveaxis(idx, -1, d)
        ctx.save_for_backward(idx)
        return vals, idx

    @op.backward
    def _(ctx, g, _gi):
        (idx,) = ctx.saved_tensors
        return _scatter_along(g, idx, ctx.d, ctx.shape, True)

    return op


_cummax = _cum_extreme("cummax", "greater_equal")
_cummin = _cum_extreme("cummin", "less_equal")
_CummaxResult = return_type("cummax", ("values", "indices"))
_CumminResult = return_type("cummin", ("values", "indices"))


def cummax(input, dim):
    """Running maximum along ``dim``: (values, indices)."""
    return _CummaxResult(_cummax(input, dim))


def cummin(input, dim):
    """Running minimum along ``dim``: (values, indices)."""
    return _CumminResult(_cummin(input, dim))


# ---- logical and counting --------------------------------------------------------------------------
def _logical(name, reduce):
    @defop(name, differentiable=False)
    def op(ctx, x, dim=None, keepdim=False):
        out = getattr(ctx.xp, reduce)(x, axis=_red_dims(dim, x.ndim), keepdims=keepdim)
        return ctx.xp.asarray(out, dtype=np.uint8 if x.dtype == np.uint8 else bool)
    return op


all = _logical("all", "all")  # noqa: A001
any = _logical("any", "any")  # noqa: A001


@defop("count_nonzero", differentiable=False)
def count_nonzero(ctx, x, dim=None):
    return ctx.xp.asarray(ctx.xp.count_nonzero(x, axis=_red_dims(dim, x.ndim)), dtype=np.int64)


# ---- order statistics ------------------------------------------------------------------------------
def sorted_indices(xp, x, d, descending=False):
    """Stable argsort along ``d`` (NaN largest); descending keeps ties in original order."""
    if not descending:
        return xp.argsort(x, axis=d, kind="stable")
    n = x.shape[d]
    return n - 1 - xp.flip(xp.argsort(xp.flip(x, d), axis=d, kind="stable"), d)


def _nan_first(xp, x, d, idx):
    """Where a slice along ``d`` holds a NaN, the index of its first NaN (torch's median)."""
    if x.dtype.kind not in "fcV":
        return idx
    isnan = xp.isnan(x)
    return xp.where(isnan.any(axis=d, keepdims=True), xp.argmax(isnan, axis=d, keepdims=True), idx)


def _order_stat(name, node_name):
    """The k-th smallest along ``dim``: (values, indices); gradient to the returned index."""
    @defop(name, nondiff_outputs=(1,), node_name=node_name)
    def op(ctx, x, k, dim, keepdim, nan_first):
        xp = ctx.xp
        d = wrap_dim(dim, x.ndim)
        ctx.dims, ctx.keepdim, ctx.in_shape, ctx.d = ((d,) if x.ndim else ()), keepdim, x.shape, d
        xs = x.reshape(1) if not x.ndim else x
        n = xs.shape[d]
        if n == 0:
            raise IndexError(f"{'median' if k is None else 'kthvalue'}(): Expected reduction dim {d} to have "
                             "non-zero size.")
        if k is None:
            k = (n - 1) // 2
        elif not 0 <= k < n:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
        idx = xp.take(sorted_indices(xp, xs, d), [k], axis=d)
        if nan_first:
            idx = _nan_first(xp, xs, d, idx)
        vals = xp.take_along_axis(xs, idx, d)
        if not x.ndim:
            vals, idx = vals.reshape(()), idx.reshape(())
        elif not keepdim:
            vals, idx = vals.squeeze(d), idx.squeeze(d)
        ctx.save_for_backward(idx)
        return vals, idx

    @op.backward
    def _(ctx, g, _gi):
        (idx,) = ctx.saved_tensors
        return _scatter_along(_keep(g, ctx), _keep(idx, ctx), ctx.d, ctx.in_shape)

    return op


_median_dim = _order_stat("_median_dim", "MedianBackward1")
_kthvalue = _order_stat("kthvalue", "KthvalueBackward0")
_MedianResult = return_type("median", ("values", "indices"))
_KthvalueResult = return_type("kthvalue", ("values", "indices"))


@defop("_median_all", node_name="MedianBackward0")
def _median_all(ctx, x):
    xp = ctx.xp
    flat = x.reshape(-1)
    if x.size == 0 or (x.dtype.kind in "fcV" and xp.isnan(flat).any()):
        out = xp.asarray(np.nan, dtype=x.dtype)
    else:
        k = (flat.size - 1) // 2
        out = xp.partition(flat, k)[k]
    ctx.dims, ctx.keepdim, ctx.in_shape = tuple(range(x.ndim)), False, x.shape
    out = ctx.xp.asarray(out)
    ctx.save_for_backward(x, out)
    return out


@_median_all.backward
def _(ctx, g):
    x, out = ctx.saved_tensors
    return _expand_back(g, ctx) * _tie_scale(ctx, x, out)


@defop("_mode", nondiff_outputs=(1,), node_name="ModeBackward0")
def _mode(ctx, x, dim, keepdim):
    xp = ctx.xp
    d = wrap_dim(dim, x.ndim)
    _check_nonempty("mode", x, (d,) if x.ndim else (), True)
    ctx.dims, ctx.keepdim, ctx.in_shape, ctx.d = ((d,) if x.ndim else ()), keepdim, x.shape, d
    rows = xp.moveaxis(x.reshape(1) if not x.ndim else x, d, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    idx = xp.empty(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):
        srt = xp.sort(row)
        starts = xp.flatnonzero(xp.concatenate([xp.ones(1, dtype=bool), srt[1:] != srt[:-1]]))
        counts = xp.diff(xp.append(starts, row.size))
        value = srt[starts[xp.argmax(counts)]]               # the smallest most frequent value
        idx[r] = xp.flatnonzero(row == value)[-1]            # at its last occurrence
    idx = idx.reshape(rows.shape[:-1])
    vals = xp.take_along_axis(rows, idx[..., None], -1)[..., 0]
    if keepdim and x.ndim:
        vals, idx = xp.expand_dims(vals, d), xp.expand_dims(idx, d)
    ctx.save_for_backward(idx)
    return vals, idx


@_mode.backward
def _(ctx, g, _gi):
    (idx,) = ctx.saved_tensors
    return _scatter_along(_keep(g, ctx), _keep(idx, ctx), ctx.d, ctx.in_shape)


_ModeResult = return_type("mode", ("values", "indices"))


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (smallest among ties) and its last index."""
    return _ModeResult(_mode(input, dim, keepdim))


def median(input, dim=None, keepdim=False):
    """Lower median; with ``dim`` a (values, indices) named tuple."""
    check_tensor(input, "median")
    if input.dtype is _bool:
        raise NotImplementedError(f'"{"median_cpu" if dim is None else "median_out"}" not implemented for \'Bool\'')
    if dim is None:
        return _median_all(input)
    return _MedianResult(_median_dim(input, None, dim, keepdim, True))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element along ``dim`` (1-based ``k``): (values, indices)."""
    return _KthvalueResult(_kthvalue(input, k - 1, dim, keepdim, False))


def _expose(fn, function=True):
    """A plain function exposed as ``Tensor.<name>`` and (unless ``function=False``) ``ember.<name>``."""
    if function:
        PUBLIC[fn.__name__] = fn
    setattr(Tensor, fn.__name__, fn)


for _op in (sum, mean, nansum, nanmean, prod, amax, amin, argmax, argmin, logsumexp, cumprod, all, any,
            count_nonzero):
    _bind(_op)
_expose(sum_to_size, function=False)
for _fn in (max, min, aminmax, var, std, norm, cumsum, cummax, cummin, median, kthvalue, mode):
    _expose(_fn)
PUBLIC["var_mean"], PUBLIC["std_mean"] = var_mean, std_mean


# ---- logcumsumexp, quantile, histc, bincount, cov/corrcoef, dist, renorm ---------------------------
@defop("_logcumsumexp", node_name="LogcumsumexpBackward0")
def _logcumsumexp(ctx, x, dim, reverse=False):
    if x.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_SHORT[_FROM_NP[x.dtype].name]}'")
    xp = ctx.xp
    d = ctx.d = wrap_dim(dim, x.ndim)
    ctx.reverse = reverse
    if not x.ndim:
        out = x.copy()
    elif reverse:
        out = xp.flip(xp.logaddexp.accumulate(xp.flip(_acc(x), d), axis=d), d).astype(x.dtype, copy=False)
    else:
        out = xp.logaddexp.accumulate(_acc(x), axis=d).astype(x.dtype, copy=False)
    ctx.save_for_backward(x, out)
    return out


@_logcumsumexp.backward
def _(ctx, g):
    # dx_i = sum over later j of g_j exp(x_i - out_j), summed in log space per sign of g
    x, out = ctx.saved_tensors
    d, rev = ctx.d, not ctx.reverse
    zero = g.new_zeros(())
    pos = _logcumsumexp(_pointwise.where(g > 0, g, zero).log() - out, d, rev)
    neg = _logcumsumexp(_pointwise.where(g < 0, -g, zero).log() - out, d, rev)
    return (pos + x).exp() - (neg + x).exp()


def logcumsumexp(input, dim):
    """``log(cumsum(exp(input), dim))``, computed stably."""
    return _logcumsumexp(input, dim)


_QUANTILE_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    if input.dtype.name not in ("float32", "float64"):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _QUANTILE_MODES:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or "
                           f"nearest, but got {interpolation}")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        qa = q._data
        if qa.size and ((qa < 0).any() or (qa > 1).any()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
        scalar_q = q.ndim == 0
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        qa = np.asarray(q, dtype=input._data.dtype)
        scalar_q = True
    xp = input._device.xp
    qa = xp.asarray(qa).reshape(-1)
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = wrap_dim(dim, input.ndim)
        x = input if input.ndim else input.reshape(1)
    s = x.sort(d)[0].movedim(d, -1)
    n = s.shape[-1]
    sa = s._data
    nans = xp.isnan(sa)
    if ignore_nan:
        ranks = qa * (n - nans.sum(-1, keepdims=True) - 1).astype(sa.dtype)
        ranks = xp.where(ranks < 0, n - 1, ranks)
    else:
        ranks = xp.where(nans.any(-1, keepdims=True), n - 1, qa * (n - 1)).astype(sa.dtype)
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)
    below = ranks.astype(np.int64)
    out = _take_along(s, make(below, input._device), -1)
    if interpolation in ("linear", "midpoint"):
        above = _take_along(s, make(xp.ceil(ranks).astype(np.int64), input._device), -1)
        w = xp.full_like(ranks, 0.5) if interpolation == "midpoint" else (ranks - below).astype(ranks.dtype)
        out = out.lerp(above, make(w, input._device))
    if keepdim:
        out = out.reshape(out.shape[:-1] + (1,) * (input.ndim if dim is None else 0) + out.shape[-1:])
        if dim is not None and input.ndim:
            out = out.unsqueeze(d)
    out = out.movedim(-1, 0)
    return out[0] if scalar_q else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles of ``input`` along ``dim`` (all elements if None)."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` ignoring NaNs (NaN where a row is all NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


@defop("histc", differentiable=False)
def histc(ctx, x, bins=100, min=0, max=0):  # noqa: A002 - torch's names
    if x.dtype.kind not in "fV":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_SHORT[_FROM_NP[x.dtype].name]}'")
    xp = ctx.xp
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    inside = (x >= lo) & (x <= hi)
    v = x[inside]
    pos = ((v - lo) * bins / (hi - lo)).astype(np.int64)
    pos = xp.minimum(pos, bins - 1)
    return xp.bincount(pos, minlength=bins).astype(x.dtype)


@defop("bincount", differentiable=False)
def _bincount(ctx, x, weights, minlength):
    if x.dtype.kind not in "iub":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_SHORT[_FROM_NP[x.dtype].name]}'")
    if x.ndim != 1 or (x.size and x.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    xp = ctx.xp
    if weights is None:
        return xp.bincount(x, minlength=minlength).astype(np.int64)
    w = weights._data
    if w.ndim != 1 or w.shape[0] != x.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    return xp.bincount(x, weights=w, minlength=minlength).astype(dt)


def bincount(input, weights=None, minlength=0):
    """Count of each non-negative integer in 1-D ``input`` (or the sum of its ``weights``)."""
    return _bincount(input, weights, minlength)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in the rows of ``input`` (observations in columns)."""
    check_tensor(input, "cov")
    if input.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if x.dtype._category < 2:
        x = x.to(_pointwise.compute_dtype((x,), "float"))
    n = x.shape[1]
    w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        avg = x.mean(1)
        norm_factor = n - correction
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm_factor = w_sum
        elif aweights is None:
            norm_factor = w_sum - correction
        else:
            norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    if (norm_factor.item() if isinstance(norm_factor, Tensor) else norm_factor) <= 0:
        _warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      "number of observations.", UserWarning, stacklevel=2)
        norm_factor = 0 * norm_factor if isinstance(norm_factor, Tensor) else 0
    xc = x - avg.unsqueeze(1)
    c = xc.matmul((xc if w is None else xc * w).mH)
    return (c / norm_factor).squeeze()


def corrcoef(input):
    """Pearson correlation coefficients of the variables in the rows of ``input``."""
    check_tensor(input, "corrcoef")
    c = cov(input)
    if c.ndim == 0:
        return c / c
    std = c.diagonal().sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    return c if c.is_complex() else c.clamp(-1, 1)


def dist(input, other, p=2):
    """The ``p``-norm of ``input - other``."""
    return _vector_norm(input - other, float(p), None, False)


def renorm(input, p, dim, maxnorm):
    """Each slice along ``dim`` rescaled to ``p``-norm at most ``maxnorm``."""
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = wrap_dim(dim, input.ndim)
    norms = _vector_norm(input, float(p), tuple(i for i in range(input.ndim) if i != d), True)
    factor = _pointwise.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


def renorm_(self, p, dim, maxnorm):
    return self.copy_(renorm(self, p, dim, maxnorm))


for _fn in (logcumsumexp, quantile, nanquantile, bincount, cov, corrcoef, dist, renorm):
    _expose(_fn)
_bind(histc)
Tensor.renorm_ = renorm_
