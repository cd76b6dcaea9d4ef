"""Indexing: ``t[...]``, ``t[...] = v``, gather/scatter, index_*, masked_*, nonzero, take.

``t[key]`` runs in two steps, as in PyTorch: ints, slices, ``None`` and ``...`` give a view
(``_getitem_*``, sharing storage), then index tensors, lists and masks pick a copy (``index``).
Both steps work on a parsed key: ``basic`` (a NumPy basic-index tuple) and ``adv`` (a tuple of
full slices and index arrays over the view's dims).  ``t[key] = v`` and the index_put family
write through the same parsed key (``_put``).  Backwards scatter-add into zeros (``xp.add.at``
so that repeated indices accumulate).
"""
from __future__ import annotations

import warnings

import numpy as np

from .._dtype import _FROM_NP, C_NAMES as _C_NAMES
from .._grad_state import state as _grad_state
from .._tensor import Tensor, make, wrap_dim
from ._registry import _SHORT, _self_overlapping, apply, check_inplace_allowed, defop
from ._util import add_rows_at, user_stacklevel

PUBLIC = {}
_FULL = slice(None)
_INT_TYPES = (int, np.integer)


def _shape_str(shape):
    return f"[{', '.join(map(str, shape))}]"


def _dtype_short(a):
    return _SHORT[_FROM_NP[a.dtype].name]


# ---- parsing a key ------------------------------------------------------------------------
def _as_tuple(key):
    if type(key) is tuple:
        return key
    if isinstance(key, list) and len(key) < 32 and any(
            isinstance(k, (list, tuple, slice, Tensor)) or k is None or k is Ellipsis for k in key):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will "
                      "be changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 "
                      "this will be interpreted as tensor index, x[torch.tensor(seq)], which will result "
                      "either in an error or a different result", UserWarning, stacklevel=3)
        return tuple(key)
    return (key,)


def _index_array(k, xp):
    """An index list/array/Tensor as a backend array of int64/int32 or bool; torch's error else."""
    if isinstance(k, Tensor):
        a = k._data
        if a.dtype == np.uint8:
            a = a.astype(bool)
    else:
        a = np.asarray(k)
        if a.size == 0 and a.dtype.kind in "fV":
            a = a.astype(np.int64)
        elif a.dtype.kind in "iu" and a.dtype not in (np.int64, np.int32):
            a = a.astype(np.int64)
    if a.dtype != bool and a.dtype not in (np.int64, np.int32):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if xp is not np and isinstance(a, np.ndarray):
        a = xp.asarray(a)
    return a


def _is_int_scalar(k):
    if isinstance(k, Tensor):
        return k._data.ndim == 0 and k._data.dtype.kind in "iu" and k._data.dtype != np.uint8
    return isinstance(k, _INT_TYPES) and not isinstance(k, (bool, np.bool_))


def _is_bool_scalar(k):
    if isinstance(k, Tensor):
        return k._data.ndim == 0 and k._data.dtype == bool
    return isinstance(k, (bool, np.bool_))


def _check_bounds(a, n, dim, exc=IndexError, negative=True, prefix=""):
    """torch's error for the first index outside ``[-n, n)`` (``[0, n)`` unless ``negative``)."""
    lo = -n if negative else 0
    if a.size and (a.min() < lo or a.max() >= n):
        bad = int(a[(a < lo) | (a >= n)].reshape(-1)[0])
        raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {n}")


def parse_key(shape, key, xp):
    """``key`` as (basic, adv, kind): a NumPy basic tuple (or None), an advanced tuple (or None),
    and the kind of the last basic step (names the view's grad_fn)."""
    items = []
    consumed = 0
    for k in _as_tuple(key):
        t = type(k)
        if t is slice or t is int:
            consumed += 1
        elif k is None or k is Ellipsis or _is_bool_scalar(k):
            pass
        elif _is_int_scalar(k):
            consumed += 1
        elif isinstance(k, (Tensor, list, tuple, np.ndarray)):
            k = _index_array(k, xp)
            consumed += k.ndim if k.dtype == bool else 1
        else:
            consumed += 1
        items.append(k)
    ndim = len(shape)
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic = []
    adv = []
    kind = "alias"
    d = 0               # dim of the input
    vd = 0              # dim of the basic view
    n_adv = 0
    has_basic = False
    seen_ellipsis = False
    for k in items:
        t = type(k)
        if t is slice:
            step = k.step
            if step is not None and step <= 0:
                raise ValueError("step must be greater than zero" if step < 0 else "slice step cannot be zero")
            basic.append(k)
            d += 1
            vd += 1
            if k != _FULL:
                has_basic = True
                kind = "slice"
        elif t is int or _is_int_scalar(k):
            i = int(k)
            n = shape[d]
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {n}")
            basic.append(i)
            d += 1
            has_basic = True
            kind = "select"
        elif k is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            n = ndim - consumed
            basic.extend([_FULL] * n)
            d += n
            vd += n
        elif k is None:
            basic.append(None)
            vd += 1
            has_basic = True
            kind = "unsqueeze"
        elif _is_bool_scalar(k):
            adv.extend([_FULL] * (vd - len(adv)))
            adv.append(np.bool_(bool(k)))
            n_adv += 1
        elif hasattr(k, "dtype") and not isinstance(k, np.generic):
            a = k
            adv.extend([_FULL] * (vd - len(adv)))
            if a.dtype == bool:
                m = a.ndim
                for j in range(m):
                    if d + j >= ndim or a.shape[j] != shape[d + j]:
                        raise IndexError(
                            f"The shape of the mask {_shape_str(a.shape)} at index {j} does not match the "
                            f"shape of the indexed tensor {_shape_str(shape)} at index {d + j}")
                adv.extend(a.nonzero())
            else:
                _check_bounds(a, shape[d], n_adv)
                adv.append(a)
                m = 1
            basic.extend([_FULL] * m)
            n_adv += 1
            d += m
            vd += m
        else:
            name = type(k).__name__
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                             f"Variables are valid indices (got {name})")
    basic.append(Ellipsis)     # keeps an all-int key a 0-dim view rather than a scalar
    return (tuple(basic) if has_basic else None), (tuple(adv) if adv else None), kind


# ---- reading: basic view, advanced copy ---------------------------------------------------
def _view_forward(ctx, x, basic):
    ctx.basic = basic
    ctx.in_shape = x.shape
    return x[basic]


def _view_backward(ctx, g):
    return _index_backward(g, ctx.basic, None, ctx.in_shape)


_VIEWS = {}
for _kind, _node in (("select", "SelectBackward0"), ("slice", "SliceBackward0"),
                     ("unsqueeze", "UnsqueezeBackward0"), ("alias", "AliasBackward0")):
    _VIEWS[_kind] = defop(f"_getitem_{_kind}", view=True, node_name=_node)(_view_forward)
    _VIEWS[_kind].backward(_view_backward)


@defop("index")
def index(ctx, x, adv):
    ctx.adv = adv
    ctx.in_shape = x.shape
    return x[adv]


@index.backward
def _(ctx, g):
    return _index_backward(g, None, ctx.adv, ctx.in_shape)


@defop("_index_backward")
def _index_backward(ctx, g, basic, adv, shape):
    """Zeros of ``shape`` with ``g`` added at ``[basic][adv]`` (repeats accumulate)."""
    ctx.basic, ctx.adv = basic, adv
    out = ctx.xp.zeros(shape, dtype=g.dtype)
    region = out if basic is None else out[basic]
    if adv is None:
        region[...] = g
    else:
        ctx.xp.add.at(region, adv, g)
    return out


@_index_backward.backward
def _(ctx, gg):
    return _getitem_parsed(gg, ctx.basic, ctx.adv, "alias")


def _getitem_parsed(x, basic, adv, kind):
    if basic is not None:
        x = _VIEWS[kind](x, basic)
    if adv is not None:
        x = index(x, adv)
    return x


def __getitem__(self, key):
    """``t[key]``: a view for ints/slices/None/..., a copy when index tensors or masks appear."""
    if type(key) is int:
        n = self._data.shape[0] if self._data.ndim else 0
        if not -n <= key < n:
            if not self._data.ndim:
                raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                                 "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {n}")
        return _VIEWS["select"](self, (key, Ellipsis))
    basic, adv, kind = parse_key(self._data.shape, key, self._device.xp)
    if basic is None and adv is None:
        return _VIEWS["alias"](self, (Ellipsis,))
    return _getitem_parsed(self, basic, adv, kind)


# ---- writing: t[key] = v and the index_put family -----------------------------------------
def _assign(xp, out, v, basic, adv, accumulate):
    """``out[basic][adv] = v`` (or ``+=`` with repeats accumulating), in place on the array."""
    region = out if basic is None else out[basic]
    try:
        if adv is None:
            region[...] = v
        elif accumulate:
            xp.add.at(region, adv, v.astype(out.dtype, copy=False))
        else:
            region[adv] = v
    except ValueError:
        if adv is None:         # a view's copy_: torch reports the failed expand of the value
            raise RuntimeError(_expand_error(v, region.shape)) from None
        shape = region[adv].shape
        raise RuntimeError(f"shape mismatch: value tensor of shape {_shape_str(v.shape)} cannot be "
                           f"broadcast to indexing result of shape {_shape_str(shape)}") from None


def _expand_error(v, target):
    """torch's message for expanding a value of ``v.shape`` to ``target``."""
    vs = list(v.shape)
    while len(vs) > len(target) and vs[0] == 1:
        vs.pop(0)
    if len(vs) > len(target):
        return (f"expand(torch.{_SHORT[_FROM_NP[v.dtype].name]}Tensor{{{_shape_str(v.shape)}}}, size="
                f"{_shape_str(target)}): the number of sizes provided ({len(target)}) must be greater or "
                f"equal to the number of dimensions in the tensor ({len(v.shape)})")
    lead = len(target) - len(vs)
    i = next(i for i in range(len(vs)) if vs[i] not in (1, target[lead + i]))
    return (f"The expanded size of the tensor ({target[lead + i]}) must match the existing size ({vs[i]}) at "
            f"non-singleton dimension {lead + i}.  Target sizes: {_shape_str(target)}.  Tensor sizes: "
            f"{_shape_str(vs)}")


def _put_forward(ctx, x, v, basic, adv, accumulate=False):
    ctx.basic, ctx.adv, ctx.accumulate = basic, adv, accumulate
    out = x.copy()
    _assign(ctx.xp, out, v, basic, adv, accumulate)
    return out


def _put_backward(ctx, g):
    need = ctx.needs_input_grad
    basic, adv = ctx.basic, ctx.adv
    gx = gv = None
    if need[0]:
        gx = g if ctx.accumulate else _PUTS["setitem"](g, _zero(g), basic, adv)
    if need[1]:
        gv = _getitem_parsed(g, basic, adv, "alias")
        vshape = ctx._in_meta[1][0]
        if len(vshape) > gv.ndim:
            gv = gv.reshape((1,) * (len(vshape) - gv.ndim) + tuple(gv.shape))
    return gx, gv


def _zero(t):
    return make(t._device.xp.zeros((), dtype=t._data.dtype), t._device)


_PUTS = {}
for _name, _node in (("setitem", "CopySlices"), ("index_put", "IndexPutBackward0"),
                     ("index_fill", "IndexFillBackward1"), ("index_copy", "IndexCopyBackward0")):
    _PUTS[_name] = defop(f"_{_name}", nin=2, node_name=_node)(_put_forward)
    _PUTS[_name].backward(_put_backward)
_PUTS["setitem"].node_cls.name = lambda self: "torch::autograd::CopySlices"     # torch's C++ name


def _warn_expanded(name, example):
    """torch deprecates (and warns about, at every call) some writes into a tensor whose elements share
    memory, an expanded one: index_put_, masked_fill_, index_fill_."""
    warnings.warn(f"Use of {name} on expanded tensors is deprecated. Please clone() the tensor before performing "
                  f"this operation. This also applies to advanced indexing e.g. {example}", UserWarning,
                  stacklevel=user_stacklevel())


def _warn_expanded_put(region, key, value):
    """An advanced-index write into ``region`` (the view past the key's basic part): index_put_, which
    torch runs as masked_fill_ (warning again) for one bool mask and a one-element value."""
    if not _self_overlapping(region):
        return
    _warn_expanded("index_put_", "tensor[indices] = tensor")
    indices = [k for k in _as_tuple(key) if not (k is None or k is Ellipsis or type(k) in (int, slice, bool))]
    if (len(indices) == 1 and isinstance(indices[0], Tensor) and indices[0]._data.dtype.kind in "bu"
            and (not isinstance(value, Tensor) or value._data.size == 1)):
        _warn_expanded("masked_fill_", "tensor[mask] = scalar")


def _value(self, v):
    """A written value as a Tensor (Python scalars take ``self``'s dtype)."""
    if isinstance(v, Tensor):
        return v
    return make(self._device.xp.asarray(np.asarray(v).astype(self._data.dtype)), self._device)


def _write(self, op, v, basic, adv, accumulate=False):
    """Write in place through the registry when autograd records it, else directly."""
    if _grad_state.enabled and (self._requires_grad or v._requires_grad):
        check_inplace_allowed(self)
        return apply(op, (self, v), (basic, adv, accumulate), target=self)
    xp = self._device.xp
    vd = v._data
    if v._device is not self._device:
        if vd.ndim:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                               f"devices, {self._device} and {v._device}!")
        vd = xp.asarray(vd.item(), dtype=vd.dtype)
    _assign(xp, self._data, vd, basic, adv, accumulate)
    self._version[0] += 1
    return self


def __setitem__(self, key, value):
    """``t[key] = value``: writes in place (value broadcast and cast to ``t``'s dtype)."""
    basic, adv, _ = parse_key(self._data.shape, key, self._device.xp)
    if adv is not None and 0 in self._data.strides:
        _warn_expanded_put(self._data if basic is None else self._data[basic], key, value)
    if basic is None and adv is None:
        basic = (Ellipsis,)
    elif adv is None and self._requires_grad and self.grad_fn is None and _grad_state.enabled:
        # torch writes a basic key through a view of the leaf
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    _write(self, _PUTS["setitem"], _value(self, value), basic, adv)


Tensor.__getitem__ = __getitem__
Tensor.__setitem__ = __setitem__


def _check_dim_index(a, name):
    """index_fill/index_copy/index_add's checks on ``index`` (dtype, vector), torch's messages."""
    nd = a.ndim
    if name == "index_fill":
        if a.dtype != np.int64:
            raise IndexError("index_fill_(): Expected dtype int64 for index.")
        if nd > 1:
            raise RuntimeError("Index has to be a vector/scalar")
    elif name == "index_copy":
        if a.dtype != np.int64:
            raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {_dtype_short(a)}")
        if nd > 1:
            raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {nd})")
    else:
        if a.dtype not in (np.int64, np.int32):
            raise RuntimeError(f"{name}_(): Expected dtype int32/int64 for index but got: {_dtype_short(a)}")
        if nd > 1:
            raise IndexError(f"{name}_(): Index is supposed to be a vector, but got dim: {nd} with type: "
                             f"{_dtype_short(a)} and size: {_shape_str(a.shape)}")


def _dim_key(x, dim, index, name):
    """The parsed key selecting ``index`` along ``dim`` (checked and bounds-checked as torch)."""
    a = index._data
    _check_dim_index(a, name)
    nd = x._data.ndim
    dim = wrap_dim(dim, nd)
    if nd:
        n = x._data.shape[dim]
        if name == "index_fill":
            _check_bounds(a, n, dim)
        elif name == "index_copy":
            _check_bounds(a, n, dim, negative=False, prefix="index_copy_(): ")
        else:
            _check_bounds(a, n, dim, RuntimeError, negative=False)
    return (_FULL,) * dim + (a.reshape(-1),), dim


def index_put(input, indices, values, accumulate=False):
    """Out-of-place ``input[indices] = values`` (``+=`` with ``accumulate``); indices a tuple."""
    basic, adv, _ = parse_key(input._data.shape, tuple(indices), input._device.xp)
    if basic is not None:
        raise IndexError("index_put_(): indices must be a tuple of tensors")
    return apply(_PUTS["index_put"], (input, _value(input, values)), (None, adv, accumulate))


def index_put_(self, indices, values, accumulate=False):
    basic, adv, _ = parse_key(self._data.shape, tuple(indices), self._device.xp)
    if 0 in self._data.strides:
        _warn_expanded_put(self._data, tuple(indices), values)
    return _write(self, _PUTS["index_put"], _value(self, values), None, adv, accumulate)


def _fill_value(self, value, name):
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"{name} only supports a 0-dimensional value tensor, but got tensor "
                           f"with {value._data.ndim} dimension(s).")
    return _value(self, value)


def index_fill(input, dim, index, value):
    """Fill the entries at ``index`` along ``dim`` with ``value``."""
    key, _ = _dim_key(input, dim, index, "index_fill")
    return apply(_PUTS["index_fill"], (input, _fill_value(input, value, "index_fill_")), (None, key))


def index_fill_(self, dim, index, value):
    key, _ = _dim_key(self, dim, index, "index_fill")
    if 0 in self._data.strides and _self_overlapping(self._data):
        _warn_expanded("index_fill_", "tensor[mask] = scalar")
    return _write(self, _PUTS["index_fill"], _fill_value(self, value, "index_fill_"), None, key)


def _copy_source(self, dim, index, source):
    key, d = _dim_key(self, dim, index, "index_copy")
    if source._data.dtype != self._data.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but got "
                           f"(self) {_dtype_short(self._data)} and (source) {_dtype_short(source._data)}")
    n = source._data.shape[d] if source._data.ndim else 1
    if index._data.size != n:
        raise IndexError(f"index_copy_(): Number of indices ({index._data.size}) should be equal to "
                         f"source.size(dim) ({n})")
    return key


def index_copy(input, dim, index, source):
    """Copy the slices of ``source`` into ``input`` at ``index`` along ``dim``."""
    key = _copy_source(input, dim, index, source)
    return apply(_PUTS["index_copy"], (input, source), (None, key))


def index_copy_(self, dim, index, source):
    key = _copy_source(self, dim, index, source)
    return _write(self, _PUTS["index_copy"], source, None, key)


# ---- index_select / index_add -------------------------------------------------------------
@defop("index_select", nin=2)
def _index_select_op(ctx, x, index, dim):
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype not in (np.int64, np.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    dim = wrap_dim(dim, x.ndim)
    n = x.shape[dim] if x.ndim else 1
    if index.size and (index.min() < 0 or index.max() >= n):
        bad = int(index[(index < 0) | (index >= n)].reshape(-1)[0])
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
    ctx.dim, ctx.in_shape = dim, x.shape
    ctx.save_for_backward(index)
    return ctx.xp.take(x, index.reshape(-1), axis=dim) if x.ndim else x.reshape(1)[index.reshape(-1)].reshape(())


@_index_select_op.backward
def _(ctx, g):
    (index,) = ctx.saved_tensors
    zeros = make(ctx.xp.zeros(ctx.in_shape, dtype=g._data.dtype), g._device)
    return _index_add_op(zeros, index, g, ctx.dim), None


def index_select(input, dim, index):
    """The entries of ``input`` along ``dim`` at the positions in ``index`` (a copy)."""
    return apply(_index_select_op, (input, index), (dim,))


@defop("index_add", nin=3)
def _index_add_op(ctx, x, index, src, dim, alpha=1):
    dim = wrap_dim(dim, x.ndim)
    n = src.shape[dim] if src.ndim else 1
    if index.size != n:
        raise RuntimeError(f"index_add_(): Number of indices ({index.size}) should be equal to "
                           f"source.size(dim): ({n}), for dim: {dim}")
    ctx.dim, ctx.alpha = dim, alpha
    ctx.save_for_backward(index)
    out = x.copy()
    if alpha != 1:
        src = src * alpha
    add_rows_at(ctx.xp, out.reshape(out.shape or (1,)), index,
                src.reshape(src.shape or (1,)).astype(out.dtype, copy=False), dim)
    return out


@_index_add_op.backward
def _(ctx, g):
    (index,) = ctx.saved_tensors
    gs = None
    if ctx.needs_input_grad[2]:
        gs = _index_select_op(g, index, ctx.dim)
        if ctx.alpha != 1:
            gs = gs * ctx.alpha
    return g, None, gs


def _index_add_checks(x, dim, index, source, name):
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(f"{name}(): self ({_dtype_short(x._data)}) and source "
                           f"({_dtype_short(source._data)}) must have the same scalar type")
    _dim_key(x, dim, index, "index_add")


def index_add(input, dim, index, source, *, alpha=1):
    """Add ``alpha * source`` into ``input`` at ``index`` along ``dim`` (repeats accumulate)."""
    _index_add_checks(input, dim, index, source, "index_add_")
    return apply(_index_add_op, (input, index, source), (dim, alpha))


def index_add_(self, dim, index, source, *, alpha=1):
    _index_add_checks(self, dim, index, source, "index_add_")
    check_inplace_allowed(self)
    return apply(_index_add_op, (self, index, source), (dim, alpha), target=self)


# ---- gather / scatter ---------------------------------------------------------------------
def _check_gather_index(x, index, dim, name, src=None):
    if index.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if index.ndim != max(x.ndim, 1) and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    xs = x.shape or (1,)
    for d in range(index.ndim):
        if d != dim and index.shape[d] > xs[d] or (src is not None and index.shape[d] > (src.shape or (1,))[d]):
            if src is None:
                raise RuntimeError(f"Size does not match at dimension {d} expected index "
                                   f"{_shape_str(index.shape)} to be no larger than self "
                                   f"{_shape_str(x.shape)} apart from dimension {dim}")
            raise RuntimeError(f"Expected index {_shape_str(index.shape)} to be no larger than self "
                               f"{_shape_str(x.shape)} apart from dimension {dim} and to be no larger "
                               f"size than src {_shape_str(src.shape)}")
    _check_bounds(index, xs[dim], dim, RuntimeError, negative=False)


def _scatter_key(xp, index, dim):
    """NumPy fancy key addressing ``out[..., index[i], ...]`` for each position ``i`` of ``index``."""
    nd = index.ndim
    key = []
    for d in range(nd):
        if d == dim:
            key.append(index)
        else:
            key.append(xp.arange(index.shape[d]).reshape((1,) * d + (-1,) + (1,) * (nd - d - 1)))
    return tuple(key)


def _region(a, shape):
    """The leading ``shape`` block of ``a`` (the part of ``src`` an index addresses)."""
    if a.shape == tuple(shape):
        return a
    return a[tuple(slice(0, s) for s in shape)]


@defop("gather", nin=2)
def _gather_op(ctx, x, index, dim):
    dim = wrap_dim(dim, x.ndim)
    _check_gather_index(x, index, dim, "gather")
    ctx.dim, ctx.in_shape = dim, x.shape
    ctx.save_for_backward(index)
    if x.ndim == 0:
        return x.reshape(1)[index.reshape(-1)].reshape(index.shape)
    return ctx.xp.take_along_axis(_region(x, index.shape[:dim] + x.shape[dim:dim + 1] + index.shape[dim + 1:]),
                                  index, axis=dim)


@_gather_op.backward
def _(ctx, g):
    (index,) = ctx.saved_tensors
    zeros = make(ctx.xp.zeros(ctx.in_shape, dtype=g._data.dtype), g._device)
    return _scatter_add_op(zeros, index, g, ctx.dim), None


def gather(input, dim, index, *, sparse_grad=False):
    """Values of ``input`` at ``index`` along ``dim``: ``out[i][j] = input[i][index[i][j]]`` (dim 1)."""
    if sparse_grad:
        raise NotImplementedError("gather(sparse_grad=True): sparse gradients are not supported")
    return apply(_gather_op, (input, index), (dim,))


def _pad_grad(g, index_shape, src_shape):
    """A gradient for the ``index``-shaped block of ``src``, zero-padded to ``src``'s shape."""
    if tuple(index_shape) == tuple(src_shape):
        return g
    basic = tuple(slice(0, s) for s in index_shape) + (Ellipsis,)
    return _index_backward(g, basic, None, tuple(src_shape))


def _scatter_src_forward(ctx, x, index, src, dim, reduce=None):
    dim = wrap_dim(dim, x.ndim)
    _check_gather_index(x, index, dim, ctx.fname, src)
    if src.dtype != x.dtype:
        raise RuntimeError(f"{ctx.fname}(): Expected self.dtype to be equal to src.dtype")
    ctx.dim, ctx.src_shape = dim, src.shape
    ctx.save_for_backward(index)
    xp = ctx.xp
    out = x.copy()
    if out.ndim == 0:
        out = out.reshape(1)
        index, src = index.reshape(-1), src.reshape(-1)
    key = _scatter_key(xp, index, dim)
    vals = _region(src, index.shape)
    if ctx.fname == "scatter_add" or reduce == "add":
        xp.add.at(out, key, vals)
    elif reduce == "multiply":
        xp.multiply.at(out, key, vals)
    elif reduce is None:
        out[key] = vals
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    return out.reshape(x.shape)


@defop("scatter_add", nin=3)
def _scatter_add_op(ctx, x, index, src, dim):
    ctx.fname = "scatter_add"
    return _scatter_src_forward(ctx, x, index, src, dim)


@_scatter_add_op.backward
def _(ctx, g):
    (index,) = ctx.saved_tensors
    gs = None
    if ctx.needs_input_grad[2]:
        gs = _pad_grad(_gather_op(g, index, ctx.dim), index.shape, ctx.src_shape)
    return g, None, gs


@defop("scatter", nin=3, node_name="ScatterBackward0")
def _scatter_op(ctx, x, index, src, dim, reduce=None):
    ctx.fname = "scatter"
    if reduce is not None:
        ctx.reduce = reduce
    return _scatter_src_forward(ctx, x, index, src, dim, reduce)


@_scatter_op.backward
def _(ctx, g):
    if "reduce" in ctx.__dict__:
        raise RuntimeError("derivative for aten::scatter is not implemented")
    (index,) = ctx.saved_tensors
    need = ctx.needs_input_grad
    gx = _scatter_value_op(g, index, ctx.dim, 0) if need[0] else None
    gs = _pad_grad(_gather_op(g, index, ctx.dim), index.shape, ctx.src_shape) if need[2] else None
    return gx, None, gs


@defop("scatter_value", nin=2, node_name="ScatterBackward1")
def _scatter_value_op(ctx, x, index, dim, value, reduce=None):
    dim = wrap_dim(dim, x.ndim)
    _check_gather_index(x, index, dim, "scatter")
    ctx.dim = dim
    ctx.save_for_backward(index)
    xp = ctx.xp
    out = x.copy().reshape(x.shape or (1,))
    key = _scatter_key(xp, index.reshape(index.shape or (1,)), dim)
    if reduce == "add":
        xp.add.at(out, key, xp.asarray(value, dtype=out.dtype))
    elif reduce == "multiply":
        xp.multiply.at(out, key, xp.asarray(value, dtype=out.dtype))
    elif reduce is None:
        out[key] = value
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    return out.reshape(x.shape)


@_scatter_value_op.backward
def _(ctx, g):
    (index,) = ctx.saved_tensors
    return _scatter_value_op(g, index, ctx.dim, 0), None


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """Write ``src`` (a Tensor or a scalar ``value``) into ``input`` at ``index`` along ``dim``."""
    if src is None:
        src = value
    if isinstance(src, Tensor):
        return apply(_scatter_op, (input, index, src), (dim, reduce))
    return apply(_scatter_value_op, (input, index), (dim, src, reduce))


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    if src is None:
        src = value
    check_inplace_allowed(self)
    if isinstance(src, Tensor):
        return apply(_scatter_op, (self, index, src), (dim, reduce), target=self)
    return apply(_scatter_value_op, (self, index), (dim, src, reduce), target=self)


def scatter_add(input, dim, index, src):
    """Add ``src`` into ``input`` at ``index`` along ``dim`` (repeats accumulate)."""
    return apply(_scatter_add_op, (input, index, src), (dim,))


def scatter_add_(self, dim, index, src):
    check_inplace_allowed(self)
    return apply(_scatter_add_op, (self, index, src), (dim,), target=self)


_REDUCE_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _reduce_identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind in "fV":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


@defop("scatter_reduce", nin=3, node_name="ScatterReduceBackward0")
def _scatter_reduce_op(ctx, x, index, src, dim, reduce, include_self=True):
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    dim = wrap_dim(dim, x.ndim)
    _check_gather_index(x, index, dim, "scatter_reduce", src)
    if src.dtype != x.dtype:
        raise RuntimeError("scatter_reduce(): Expected self.dtype to be equal to src.dtype")
    xp = ctx.xp
    shape = x.shape
    out = x.copy().reshape(shape or (1,))
    index = index.reshape(index.shape or (1,))
    key = _scatter_key(xp, index, dim)
    vals = _region(src.reshape(src.shape or (1,)), index.shape)
    if not include_self:
        out[key] = _reduce_identity(reduce, out.dtype)
    getattr(xp, _REDUCE_UFUNC[reduce]).at(out, key, vals)
    count = None
    if reduce == "mean":
        count = xp.full(out.shape, 1 if include_self else 0, dtype=out.dtype)
        xp.add.at(count, key, 1)
        count[count == 0] = 1
        out = out // count if out.dtype.kind in "iu" else out / count
    ctx.dim, ctx.reduce, ctx.include_self, ctx.src_shape = dim, reduce, include_self, src.shape
    if reduce in ("amax", "amin"):
        # ties share the gradient equally (as torch); the masks are constants of the backward
        is_self = x.reshape(out.shape) == out
        if not include_self:
            is_self[key] = False
        is_src = vals == xp.take_along_axis(_region(out, index.shape[:dim] + out.shape[dim:dim + 1]
                                                     + index.shape[dim + 1:]), index, axis=dim)
        n = is_self.astype(out.dtype)
        xp.add.at(n, key, is_src.astype(out.dtype))
        n[n == 0] = 1
        ctx.masks = (is_self, is_src, n)
    ctx.count = count
    out = out.reshape(shape)
    ctx.save_for_backward(index, x, src, out)
    return out


@_scatter_reduce_op.backward
def _(ctx, g):
    index, x, src, out = ctx.saved_tensors
    dim, reduce, dev = ctx.dim, ctx.reduce, g._device
    need = ctx.needs_input_grad
    gx = gs = None
    if reduce in ("sum", "mean"):
        if reduce == "mean":
            g = g / make(ctx.count.reshape(g._data.shape), dev)
        gx = g
        gs = _gather_op(g, index, dim)
    elif reduce in ("amax", "amin"):
        is_self, is_src, n = (make(a, dev) for a in ctx.masks)
        g = g / n.reshape(g.shape)
        gx = g * is_self.reshape(g.shape)
        gs = _gather_op(g, index, dim) * is_src
    else:
        gx, gs = _scatter_prod_grads(ctx, g, index, x, src, out)
    if not ctx.include_self and reduce != "amax" and reduce != "amin":
        gx = _scatter_value_op(gx, index, dim, 0)
    if need[2]:
        gs = _pad_grad(gs, index.shape, ctx.src_shape)
    return (gx if need[0] else None), None, (gs if need[2] else None)


def _scatter_prod_grads(ctx, g, index, x, src, out):
    """torch's prod backward: products of the other contributors, exact when one input is zero."""
    dim, include_self, dev, xp = ctx.dim, ctx.include_self, g._device, ctx.xp
    if src.shape != index.shape:
        src = src[tuple(slice(0, s) for s in index.shape)]
    masked_self = masked_fill(x, make(x._data == 0, dev), 1)
    gx = g * _scatter_reduce_op(masked_self, index, src, dim, "prod", include_self) / masked_self
    src_zero = src._data == 0
    nzero = xp.zeros(out.shape, dtype=np.int64)
    xp.add.at(nzero, _scatter_key(xp, index._data, dim), src_zero.astype(np.int64))
    nzero = xp.take_along_axis(_region(nzero, index.shape[:dim] + nzero.shape[dim:dim + 1] + index.shape[dim + 1:]),
                               index._data, axis=dim)
    single = make((src_zero & (nzero == 1)).astype(g._data.dtype), dev)
    masked_src_result = _scatter_reduce_op(x, index, masked_fill(src, make(single._data > 0, dev), 1), dim,
                                           "prod", include_self)
    other = _gather_op(g * out, index, dim) / masked_fill(src, make(src_zero, dev), 1)
    gs = _gather_op(g * masked_src_result, index, dim) * single + other * (1 - single)
    return gx, gs


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with sum/prod/mean/amax/amin."""
    return apply(_scatter_reduce_op, (input, index, src), (dim, reduce, include_self))


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    check_inplace_allowed(self)
    return apply(_scatter_reduce_op, (self, index, src), (dim, reduce, include_self), target=self)


# ---- masks --------------------------------------------------------------------------------


def _check_mask(mask, name):
    dt = mask._data.dtype
    if dt != bool:
        dname = _FROM_NP[dt].name
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype "
                           f"{_C_NAMES[dname] if name == 'masked_fill_' else _SHORT[dname]}")


@defop("masked_fill", nin=2)
def _masked_fill_op(ctx, x, mask, value):
    ctx.save_for_backward(mask)
    xp = ctx.xp
    return xp.where(mask, xp.asarray(np.asarray(value).astype(x.dtype)), x)


@_masked_fill_op.backward
def _(ctx, g):
    (mask,) = ctx.saved_tensors
    return _masked_fill_op(g, mask, 0), None


@defop("masked_fill_tensor", nin=3, node_name="MaskedFillBackward1")
def _masked_fill_t_op(ctx, x, mask, value):
    ctx.save_for_backward(mask)
    return ctx.xp.where(mask, value.astype(x.dtype, copy=False), x)


@_masked_fill_t_op.backward
def _(ctx, g):
    (mask,) = ctx.saved_tensors
    need = ctx.needs_input_grad
    gx = _masked_fill_op(g, mask, 0) if need[0] else None
    gv = masked_select(g, mask).sum() if need[2] else None
    return gx, None, gv


def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` is True (mask broadcasts)."""
    _check_mask(mask, "masked_fill_")
    if isinstance(value, Tensor):
        return apply(_masked_fill_t_op, (input, mask, _fill_value(input, value, "masked_fill_")))
    return apply(_masked_fill_op, (input, mask), (value,))


def masked_fill_(self, mask, value):
    _check_mask(mask, "masked_fill_")
    if 0 in self._data.strides and _self_overlapping(self._data):
        _warn_expanded("masked_fill_", "tensor[mask] = scalar")
    check_inplace_allowed(self)
    if isinstance(value, Tensor):
        return apply(_masked_fill_t_op, (self, mask, _fill_value(self, value, "masked_fill_")), target=self)
    return apply(_masked_fill_op, (self, mask), (value,), target=self)


@defop("masked_select", nin=2)
def _masked_select_op(ctx, x, mask):
    xp = ctx.xp
    shape = xp.broadcast_shapes(x.shape, mask.shape)
    m = xp.broadcast_to(mask, shape)
    ctx.save_for_backward(m)
    return xp.broadcast_to(x, shape)[m]


@_masked_select_op.backward
def _(ctx, g):
    (m,) = ctx.saved_tensors
    zeros = make(ctx.xp.zeros(m.shape, dtype=g._data.dtype), g._device)
    return _masked_scatter_op(zeros, m, g), None


def masked_select(input, mask):
    """The 1-D tensor of ``input``'s entries where ``mask`` (broadcast) is True."""
    if mask._data.dtype != bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    return apply(_masked_select_op, (input, mask))


@defop("masked_scatter", nin=3)
def _masked_scatter_op(ctx, x, mask, src):
    if src.dtype != x.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but got"
                           f"{_dtype_short(x)} and {_dtype_short(src)}")
    xp = ctx.xp
    shape = xp.broadcast_shapes(x.shape, mask.shape)
    m = xp.broadcast_to(mask, shape)
    n = int(m.sum())
    if n > src.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    ctx.save_for_backward(m)
    ctx.src_shape = src.shape
    out = xp.array(xp.broadcast_to(x, shape))
    out[m] = src.reshape(-1)[:n]
    return out


@_masked_scatter_op.backward
def _(ctx, g):
    (m,) = ctx.saved_tensors
    need = ctx.needs_input_grad
    gx = _masked_fill_op(g, m, 0) if need[0] else None
    gs = None
    if need[2]:
        sel = _masked_select_op(g, m)
        size = 1
        for s in ctx.src_shape:
            size *= s
        gs = _pad_grad(sel, sel.shape, (size,)).reshape(ctx.src_shape)
    return gx, None, gs


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` is True filled by ``source``'s leading elements."""
    _check_mask(mask, "masked_scatter_")
    return apply(_masked_scatter_op, (input, mask, source))


def masked_scatter_(self, mask, source):
    _check_mask(mask, "masked_scatter_")
    check_inplace_allowed(self)
    return apply(_masked_scatter_op, (self, mask, source), target=self)


# ---- nonzero / take / put -----------------------------------------------------------------
@defop("nonzero", differentiable=False)
def _nonzero_op(ctx, x):
    return ctx.xp.argwhere(x).astype(np.int64, copy=False)


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero entries: an (n, ndim) tensor, or one 1-D tensor per dim."""
    idx = _nonzero_op(input)
    if not as_tuple:
        return idx
    if input._data.ndim == 0:
        return (make(idx._device.xp.zeros(idx._data.shape[0], dtype=np.int64), idx._device),)
    return tuple(make(idx._data[:, d].copy(), idx._device) for d in range(input._data.ndim))


def argwhere(input):
    """Indices of the non-zero entries as an (n, ndim) tensor."""
    return _nonzero_op(input)


def _check_take_index(index, n):
    if index.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_dtype_short(index)}")
    if index.size and (index.min() < -n or index.max() >= n):
        bad = int(index[(index < -n) | (index >= n)].reshape(-1)[0])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")


@defop("take", nin=2)
def _take_op(ctx, x, index):
    _check_take_index(index, x.size)
    ctx.save_for_backward(index)
    return x.reshape(-1)[index]


@_take_op.backward
def _(ctx, g):
    (index,) = ctx.saved_tensors
    zeros = make(ctx.xp.zeros(ctx._in_meta[0][0], dtype=g._data.dtype), g._device)
    return _put_op(zeros, index, g, True), None


@defop("put", nin=3)
def _put_op(ctx, x, index, src, accumulate=False):
    _check_take_index(index, x.size)
    if index.size != src.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but "
                           f"got source.numel() = {src.size}, index.numel() = {index.size}")
    ctx.accumulate = accumulate
    ctx.save_for_backward(index)
    out = x.copy()
    flat = out.reshape(-1)
    if accumulate:
        ctx.xp.add.at(flat, index.reshape(-1), src.reshape(-1).astype(out.dtype, copy=False))
    else:
        flat[index.reshape(-1)] = src.reshape(-1)
    return out


@_put_op.backward
def _(ctx, g):
    (index,) = ctx.saved_tensors
    need = ctx.needs_input_grad
    gx = (g if ctx.accumulate else _put_op(g, index, _zero(g).expand(*index.shape), False)) if need[0] else None
    gs = _take_op(g, index).reshape(ctx._in_meta[2][0]) if need[2] else None
    return gx, None, gs


def take(input, index):
    """``input`` treated as 1-D, read at ``index``; the result has ``index``'s shape."""
    return apply(_take_op, (input, index))


def put(input, index, source, accumulate=False):
    """Out-of-place ``put_``: ``input`` treated as 1-D, written at ``index``."""
    return apply(_put_op, (input, index, source), (accumulate,))


def put_(self, index, source, accumulate=False):
    check_inplace_allowed(self)
    return apply(_put_op, (self, index, source), (accumulate,), target=self)


def take_along_dim(input, indices, dim=None):
    """``gather`` with ``input`` and ``indices`` broadcast against each other except along ``dim``."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    nd = input._data.ndim
    dim = wrap_dim(dim, nd)
    if indices._data.ndim != nd:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got {nd} dimensions for input, and {indices._data.ndim} "
                           "dimensions for indices")
    xs, ix = list(input._data.shape), list(indices._data.shape)
    shape = list(np.broadcast_shapes(tuple(xs[:dim] + [1] + xs[dim + 1:]), tuple(ix[:dim] + [1] + ix[dim + 1:])))
    xshape, ishape = list(shape), list(shape)
    xshape[dim], ishape[dim] = xs[dim], ix[dim]
    if xshape != xs:
        input = input.expand(*xshape)
    if ishape != ix:
        indices = indices.expand(*ishape)
    return gather(input, dim, indices)


# ---- binding ------------------------------------------------------------------------------
def _expose(fn, name=None, *, method=True, function=True, inplace=None):
    name = name or fn.__name__
    if function:
        PUBLIC[name] = fn
    if method:
        setattr(Tensor, name, fn)
    if inplace is not None:
        setattr(Tensor, name + "_", inplace)


_expose(index_select)
_expose(gather)
_expose(scatter, inplace=scatter_)
_expose(scatter_add, inplace=scatter_add_)
_expose(scatter_reduce, inplace=scatter_reduce_)
_expose(index_add, "index_add", inplace=index_add_)
_expose(index_copy, inplace=index_copy_)
_expose(index_fill, inplace=index_fill_)
_expose(index_put, inplace=index_put_)
_expose(masked_fill, inplace=masked_fill_)
_expose(masked_scatter, inplace=masked_scatter_)
_expose(masked_select)
_expose(nonzero)
_expose(argwhere)
_expose(take)
_expose(take_along_dim)
_expose(put, inplace=put_)


# ---- isin, index_reduce, fill_diagonal_, ``x in t`` ----------------------------------------------
@defop("isin", nin=2, promote="default", differentiable=False)
def _isin(ctx, elements, test_elements, assume_unique, invert):
    xp = ctx.xp
    return xp.isin(xp.asarray(elements), xp.asarray(test_elements), assume_unique=assume_unique, invert=invert)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is in ``test_elements`` (either may be a scalar)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: expected a Tensor for "
                        "'elements' or 'test_elements'")
    return apply(_isin, (elements, test_elements), (assume_unique, invert))


_INDEX_REDUCE = ("prod", "mean", "amax", "amin")


def _index_reduce_args(self, dim, index, source, reduce):
    if reduce not in _INDEX_REDUCE:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got "
                           f"{reduce}.")
    _check_dim_index(index._data, "index_reduce")
    dim = wrap_dim(dim, self.ndim)
    if self.ndim and source.ndim != self.ndim:
        raise IndexError(f"index_reduce_(): Source/destination tensor must have same number of dimensions, "
                         f"but got {source.ndim} and {self.ndim}")
    view = [1] * max(source.ndim, 1)
    view[dim] = -1
    return dim, index.long().reshape(view).expand(source.shape)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Reduce rows of ``source`` into ``input`` at ``index`` along ``dim`` (prod/mean/amax/amin)."""
    dim, idx = _index_reduce_args(input, dim, index, source, reduce)
    return scatter_reduce(input, dim, idx, source, reduce, include_self=include_self)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    dim, idx = _index_reduce_args(self, dim, index, source, reduce)
    return scatter_reduce_(self, dim, idx, source, reduce, include_self=include_self)


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal in place (all dims equal, or 2-D; ``wrap`` continues below a tall matrix)."""
    shape = self.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) > 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = self._device.xp
    n = self.numel()
    step = sum(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
    end = n if wrap and len(shape) == 2 else min(shape) * int(np.prod(shape[1:]))
    mask = xp.zeros(n, dtype=bool)
    mask[:end:step] = True
    return masked_fill_(self, make(mask.reshape(shape), self._device), fill_value)


def _contains(self, element):
    """``element in t``: whether any element of ``t`` equals ``element``."""
    if isinstance(element, (Tensor, int, float, bool, complex, np.generic)):
        return bool((self == element).any())
    raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                       f"{type(element)}.")


_expose(isin, method=False)
_expose(index_reduce, inplace=index_reduce_)
Tensor.fill_diagonal_ = fill_diagonal_
Tensor.__contains__ = _contains
