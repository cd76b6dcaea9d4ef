"""Pooling (1-, 2-, 3-d): max (with indices), average, adaptive average/max, max-unpool; resampling.

Windows are strided views of the padded input; backwards add the gradient back with one
strided slice-add per kernel position (the windows may overlap).  Every backward here is linear
in the gradient and is one op of an :func:`adjoint_pair`, so double backward works throughout.
"""
from __future__ import annotations

from itertools import product

import numpy as np

from .._tensor import Tensor
from ._registry import _SHORT, adjoint_pair, defop, variant
from .random import rand

PUBLIC = {}


def _out_len(n, k, s, p, d, ceil):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _windows(xp, x, k, s, d, out):
    """(N, C, *out, *k) strided view of windows of an already padded ``x``."""
    nd = len(k)
    eff = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    win = xp.lib.stride_tricks.sliding_window_view(x, eff, axis=tuple(range(2, 2 + nd)))
    return win[(slice(None), slice(None)) + tuple(slice(0, (o - 1) * si + 1, si) for o, si in zip(out, s))
               + tuple(slice(None, None, di) for di in d)]


def _pad_to(xp, x, p, out, k, s, d, value):
    """Pad ``x`` by ``p`` before and enough after for ``out`` windows (ceil_mode may need more)."""
    nd = len(k)
    widths = [(0, 0), (0, 0)]
    for i in range(nd):
        need = (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - x.shape[2 + i] - p[i]
        widths.append((p[i], max(need, 0)))
    if not any(a or b for a, b in widths):
        return x
    return xp.pad(x, widths, constant_values=value)


def _kernel_slices(idx, out, s, d):
    return (slice(None), slice(None)) + tuple(
        slice(i * d[j], i * d[j] + s[j] * (out[j] - 1) + 1, s[j]) for j, i in enumerate(idx))


def _scatter_windows(xp, parts, in_shape, p, k, s, d, out, dtype):
    """Sum per-kernel-position contributions ``parts(flat_k, idx)`` into the padded input and crop."""
    nd = len(k)
    padded = tuple(max(in_shape[2 + i] + p[i], (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1) for i in range(nd))
    res = xp.zeros(tuple(in_shape[:2]) + padded, dtype)
    for flat, idx in enumerate(product(*[range(v) for v in k])):
        res[_kernel_slices(idx, out, s, d)] += parts(flat, idx)
    return res[(slice(None), slice(None)) + tuple(slice(p[i], p[i] + in_shape[2 + i]) for i in range(nd))]


# ---- max pool ----------------------------------------------------------------------------------------
def _max_pool_forward(ctx, x, k, s, p, d, ceil):
    """Running max over the kernel positions (strided views, no window copy); ``am`` = winning position.

    A position wins where it is strictly greater than the running max (so ties keep the first) or is
    NaN (so, as torch, the last NaN wins).  Positions come in increasing order, so ``am`` is the
    elementwise max of ``position * won``.
    """
    xp = ctx.xp
    nd = len(k)
    out = tuple(_out_len(x.shape[2 + i], k[i], s[i], p[i], d[i], ceil) for i in range(nd))
    is_float = x.dtype.kind in "fV"               # "V": ml_dtypes' bfloat16
    lowest = -xp.inf if is_float else xp.iinfo(x.dtype).min
    xpad = _pad_to(xp, x, p, out, k, s, d, lowest)
    views = [xpad[_kernel_slices(idx, out, s, d)] for idx in product(*[range(v) for v in k])]
    y, am = _max_over(xp, views, is_float)
    ctx.am = am
    ctx.geom = (x.shape, k, s, p, d, out)
    return y, am, out


def _max_over(xp, views, is_float):
    """Elementwise max of ``views`` and the position of the winner (first on ties, last NaN)."""
    y = views[0].copy()
    am = xp.zeros(y.shape, np.int64 if len(views) >= 127 else np.int8)
    _running_argmax(xp, views, y, am, False)
    if is_float and bool(xp.isnan(y).any()):
        y[...] = views[0]
        am[...] = 0
        _running_argmax(xp, views, y, am, True)
    return y, am


def _running_argmax(xp, views, y, am, nan):
    """Fold ``views[1:]`` into the running max ``y`` (holding ``views[0]``) and its position ``am``."""
    won = xp.empty(y.shape, bool)
    for flat in range(1, len(views)):
        v = views[flat]
        xp.greater(v, y, out=won)
        if nan:
            won |= xp.isnan(v)
        w = won.view(np.int8) if am.dtype == np.int8 else won.astype(am.dtype)
        w *= flat
        xp.maximum(am, w, out=am)
        xp.maximum(y, v, out=y)


def _flat_indices(xp, am, in_shape, k, s, p, d, out):
    """Flat index into the (unpadded) input plane of each window's max, as torch returns."""
    nd = len(k)
    ind = xp.zeros(am.shape, np.int64)
    rem = am.astype(np.int64)
    for i in range(nd):
        step = 1
        for v in k[i + 1:]:
            step *= v
        ki = rem // step
        rem = rem - ki * step
        o = xp.arange(out[i]).reshape((-1,) + (1,) * (nd - 1 - i))
        ind = ind * in_shape[2 + i] + (o * s[i] - p[i] + ki * d[i])
    return ind


@defop("max_pool", node_name="MaxPool2DBackward0")
def _max_pool_noidx(ctx, x, k, s, p, d, ceil):
    return _max_pool_forward(ctx, x, k, s, p, d, ceil)[0]


@defop("max_pool_with_indices", nondiff_outputs=(1,), node_name="MaxPool2DWithIndicesBackward0")
def _max_pool(ctx, x, k, s, p, d, ceil):
    y, am, out = _max_pool_forward(ctx, x, k, s, p, d, ceil)
    return y, _flat_indices(ctx.xp, am, x.shape, k, s, p, d, out)


@_max_pool_noidx.backward
def _(ctx, g):
    return _max_pool_scatter(g, ctx.am, ctx.geom)


@_max_pool.backward
def _(ctx, g, _gi=None):
    return _max_pool_scatter(g, ctx.am, ctx.geom)


def _max_pool_gather_fn(xp, gg, am, geom):
    """``gg`` (N, C, *in) read at each window's winning position ``am``."""
    in_shape, k, s, p, d, out = geom
    gpad = _pad_to(xp, gg, p, out, k, s, d, 0)
    y = xp.zeros(am.shape, gg.dtype)
    for flat, idx in enumerate(product(*[range(v) for v in k])):
        xp.copyto(y, gpad[_kernel_slices(idx, out, s, d)], where=am == flat)
    return y


def _max_pool_scatter_fn(xp, g, am, geom):
    """Each window's gradient ``g`` added at its winning position ``am`` of the input."""
    in_shape, k, s, p, d, out = geom
    if (all(si == ki for si, ki in zip(s, k)) and all(di == 1 for di in d) and not any(p)
            and all(o * ki <= n for o, ki, n in zip(out, k, in_shape[2:]))):
        # non-overlapping windows: each input position gets at most one gradient, written directly
        res = xp.zeros(tuple(in_shape[:2]) + tuple(o * ki for o, ki in zip(out, k)), g.dtype)
        for flat, idx in enumerate(product(*[range(v) for v in k])):
            xp.multiply(g, am == flat, out=res[_kernel_slices(idx, out, s, d)])
        if res.shape != tuple(in_shape):
            full = xp.zeros(in_shape, g.dtype)
            full[(slice(None), slice(None)) + tuple(slice(0, n) for n in res.shape[2:])] = res
            return full
        return res
    zero = g.dtype.type(0)
    return _scatter_windows(xp, lambda flat, idx: xp.where(am == flat, g, zero), in_shape, p, k, s, d, out,
                            g.dtype)


_max_pool_gather, _max_pool_scatter = adjoint_pair(
    "_max_pool_gather", _max_pool_gather_fn, _max_pool_scatter_fn,
    node_name="MaxPool2DWithIndicesBackwardBackwardBackward0",
    adjoint_node_name="MaxPool2DWithIndicesBackwardBackward0")


def _check_pool_out(input, out, k, name):
    """torch's error when a pooling window leaves no output position along some spatial dim."""
    if min(out) > 0:
        return
    if name == "max_pool1d":
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {min(out)}")
    if name == "avg_pool3d":
        raise RuntimeError("input image (T: {} H: {} W: {}) smaller than kernel size (kT: {} kH: {} kW: {})"
                           .format(*input.shape[2:], *k))
    lead = [input.shape[1]] + [1] * (name == "avg_pool1d")     # torch pools 1d as 2d over a unit height
    raise RuntimeError(f"Given input size: ({'x'.join(map(str, lead + list(input.shape[2:])))}). Calculated "
                       f"output size: ({'x'.join(map(str, lead + list(out)))}). Output size is too small")


def max_pool(input: Tensor, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, name):
    """Shared body of max_pool{1,2,3}d (unbatched input allowed)."""
    k = _tuple(kernel_size, nd)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _tuple(stride, nd)
    p = _tuple(padding, nd)
    d = _tuple(dilation, nd)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input tensor, but got "
                           f"{list(input.shape)}" if nd != 2 else
                           f"non-empty 3D or 4D (batch mode) tensor expected for input")
    if any(pi * 2 > ki for pi, ki in zip(p, k)):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[0]}, "
                           f"kernel_size={k[0]} and dilation={d[0]}")
    unbatched = input.ndim == nd + 1
    if unbatched:
        input = input.reshape((1,) + tuple(input.shape))
    _check_pool_out(input, [_out_len(input.shape[2 + i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd)],
                    k, name)
    if not return_indices:
        y = _max_pool_noidx(input, k, s, p, d, ceil_mode)
        return y.reshape(tuple(y.shape[1:])) if unbatched else y
    y, ind = _max_pool(input, k, s, p, d, ceil_mode)
    if unbatched:
        y = y.reshape(tuple(y.shape[1:]))
        ind = ind.reshape(tuple(ind.shape[1:]))
    return y, ind


# ---- average pool ---------------------------------------------------------------------------------
def _counts(n, k, s, p, out, include_pad):
    starts = np.arange(out) * s - p
    ends = np.minimum(starts + k, n + p)
    if include_pad:
        return ends - starts
    return np.minimum(ends, n) - np.maximum(starts, 0)


def _avg_pool_geometry(x, k, s, p, ceil, count_include_pad, divisor_override):
    """(divisor per output position, (in_shape, k, s, p, out)) of an average pooling of ``x``."""
    nd = len(k)
    shape = tuple(x.shape)
    out = tuple(_out_len(shape[2 + i], k[i], s[i], p[i], 1, ceil) for i in range(nd))
    dt = x._data.dtype
    if divisor_override:
        div = dt.type(divisor_override)
    else:
        div = np.ones((), np.int64)
        for i in range(nd):
            div = div[..., None] * _counts(shape[2 + i], k[i], s[i], p[i], out[i], count_include_pad)
        div = x._device.xp.asarray(div.astype(dt))
    return div, (shape, k, s, p, out)


def _avg_pool_fn(xp, x, div, geom):
    in_shape, k, s, p, out = geom
    ones = (1,) * len(k)
    win = _windows(xp, _pad_to(xp, x, p, out, k, s, ones, 0), k, s, ones, out)
    y = win.sum(axis=tuple(range(-len(k), 0)))
    y /= div
    return y


def _avg_pool_adjoint_fn(xp, g, div, geom):
    in_shape, k, s, p, out = geom
    gd = g / div
    return _scatter_windows(xp, lambda flat, idx: gd, in_shape, p, k, s, (1,) * len(k), out, g.dtype)


_avg_pool, _avg_pool_backward = adjoint_pair("avg_pool", _avg_pool_fn, _avg_pool_adjoint_fn,
                                             node_name="AvgPool2DBackward0")


def avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, name):
    """Shared body of avg_pool{1,2,3}d (unbatched input allowed)."""
    k = _tuple(kernel_size, nd)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else _tuple(stride, nd)
    p = _tuple(padding, nd)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input tensor, but got {list(input.shape)}")
    if any(pi * 2 > ki for pi, ki in zip(p, k)):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[0]}, "
                           f"kernel_size={k[0]} and dilation=1")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    unbatched = input.ndim == nd + 1
    if unbatched:
        input = input.reshape((1,) + tuple(input.shape))
    _check_pool_out(input, [_out_len(input.shape[2 + i], k[i], s[i], p[i], 1, ceil_mode) for i in range(nd)], k,
                    name)
    y = _avg_pool(input, *_avg_pool_geometry(input, k, s, p, ceil_mode, count_include_pad, divisor_override))
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


# ---- adaptive pools -------------------------------------------------------------------------------
def _adaptive_ranges(n, out):
    return [((i * n) // out, -((-(i + 1) * n) // out)) for i in range(out)]


def _adaptive_matrix(n, out, dtype):
    """(out, n) averaging matrix of adaptive average pooling along one dim."""
    m = np.zeros((out, n), dtype)
    for i, (a, b) in enumerate(_adaptive_ranges(n, out)):
        m[i, a:b] = 1.0 / (b - a)
    return m


def _apply_along(xp, x, mats, transpose=False):
    """Multiply each trailing dim of ``x`` by its matrix (``x ×_j M_j``; ``M_j^T`` if ``transpose``)."""
    nd = len(mats)
    if all(m.shape[1 if transpose else 0] == 1 for m in mats):
        # to or from one value per plane (global pooling and its gradient): a mean or a broadcast
        axes = tuple(range(-nd, 0))
        if not transpose:
            return x.mean(axis=axes, keepdims=True)
        n = 1
        for m in mats:
            n *= m.shape[1]
        return xp.broadcast_to(x / x.dtype.type(n), x.shape[:x.ndim - nd] + tuple(m.shape[1] for m in mats)).copy()
    for j, m in enumerate(mats):
        axis = x.ndim - nd + j
        m = m if not transpose else m.T
        x = xp.moveaxis(xp.matmul(m, xp.moveaxis(x, axis, -2)).astype(m.dtype, copy=False), -2, axis)
    return xp.ascontiguousarray(x)


def _apply_along_t(xp, g, mats):
    return _apply_along(xp, g, mats, True)


_adaptive_avg_pool, _ = adjoint_pair("adaptive_avg_pool", _apply_along, _apply_along_t,
                                     node_name="AdaptiveAvgPool2DBackward0")


def _out_sizes(output_size, shape, nd):
    out = _tuple(output_size, nd) if not isinstance(output_size, (list, tuple)) else tuple(output_size)
    if len(out) != nd:
        raise ValueError(f"output_size must be {nd}")
    return tuple(shape[len(shape) - nd + i] if o is None else int(o) for i, o in enumerate(out))


def adaptive_avg_pool(input, output_size, nd):
    """Shared body of adaptive_avg_pool{1,2,3}d."""
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"adaptive_avg_pool{nd}d(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(input.shape)}")
    out = _out_sizes(output_size, input.shape, nd)
    xp, dt, sp = input._device.xp, input._data.dtype, input.shape[input.ndim - nd:]
    return _adaptive_avg_pool(input, [xp.asarray(_adaptive_matrix(sp[j], out[j], dt)) for j in range(nd)])


@defop("adaptive_max_pool", nondiff_outputs=(1,), node_name="AdaptiveMaxPool2DBackward0")
def _adaptive_max_pool(ctx, x, out):
    xp = ctx.xp
    nd = len(out)
    lead = x.shape[:x.ndim - nd]
    sp = x.shape[x.ndim - nd:]
    y = xp.empty(lead + tuple(out), x.dtype)
    ind = xp.empty(lead + tuple(out), np.int64)
    ranges = [_adaptive_ranges(sp[j], out[j]) for j in range(nd)]
    for oidx in product(*[range(o) for o in out]):
        r = [ranges[j][o] for j, o in enumerate(oidx)]
        region = x[(Ellipsis,) + tuple(slice(a, b) for a, b in r)]
        flat = region.reshape(lead + (-1,))
        am = flat.argmax(axis=-1)
        y[(Ellipsis,) + oidx] = xp.take_along_axis(flat, am[..., None], axis=-1)[..., 0]
        lin = xp.zeros(am.shape, np.int64)
        rem = am
        for j, (a, b) in enumerate(r):
            step = 1
            for a2, b2 in r[j + 1:]:
                step *= b2 - a2
            kj = rem // step
            rem = rem - kj * step
            lin = lin * sp[j] + (a + kj)
        ind[(Ellipsis,) + oidx] = lin
    ctx.ind, ctx.in_shape, ctx.out = ind, x.shape, out
    return y, ind


@_adaptive_max_pool.backward
def _(ctx, g, _gi=None):
    return _index_scatter_add(g, ctx.ind, ctx.in_shape, len(ctx.out))


def _planes(shape, nd):
    lead = plane = 1
    for v in shape[:len(shape) - nd]:
        lead *= v
    for v in shape[len(shape) - nd:]:
        plane *= v
    return lead, plane


def _index_scatter_fn(xp, g, ind, shape, nd, accumulate=True):
    """Add (or put) ``g`` into a zero array of ``shape`` at flat indices ``ind`` over its last ``nd`` dims."""
    lead, plane = _planes(shape, nd)
    out = xp.zeros((lead, plane), g.dtype)
    r = xp.arange(lead)[:, None]
    if accumulate:
        xp.add.at(out, (r, ind.reshape(lead, -1)), g.reshape(lead, -1))
    else:
        out[r, ind.reshape(lead, -1)] = g.reshape(lead, -1)
    return out.reshape(shape)


def _index_gather_fn(xp, g, ind, shape, nd):
    """``g`` (…, *spatial) read at flat spatial indices ``ind``."""
    lead, plane = _planes(g.shape, nd)
    return xp.take_along_axis(g.reshape(lead, plane), ind.reshape(lead, -1), axis=1).reshape(ind.shape)


_index_gather, _index_scatter_add = adjoint_pair("_index_gather", _index_gather_fn, _index_scatter_fn,
                                                 node_name="MaxUnpool2DBackwardBackward0",
                                                 adjoint_node_name="AdaptiveMaxPool2DBackwardBackward0")


def _volume_text(shape, nd):
    """An unpooled plane's size as torch's index error shows it (1-d as a width-1 column, then a paren)."""
    return "x".join(map(str, tuple(shape[len(shape) - nd:]) + (1,) * (nd == 1)))


@defop("max_unpool", nin=2, node_name="MaxUnpool2DBackward0")
def _max_unpool(ctx, x, ind, shape, nd):
    lead, plane = _planes(shape, nd)
    if ind.size and (ind.min() < 0 or ind.max() >= plane):
        raise RuntimeError(f"Found an invalid max index: {int(ind.max() if ind.max() >= plane else ind.min())} "
                           f"(output volumes are of size {_volume_text(shape, nd)})")
    ctx.ind, ctx.shape, ctx.nd = ind, shape, nd
    return _index_scatter_fn(ctx.xp, x, ind, shape, nd, False)


@_max_unpool.backward
def _(ctx, g):
    return _index_gather(g, ctx.ind, ctx.shape, ctx.nd), None


def _unpool_output_size(output_size, sp, k, s, p, ndim):
    """An explicit max_unpool ``output_size`` (spatial, or with the leading dims), checked as torch does:
    each size within ``stride`` below and strictly less than ``stride`` above the default."""
    nd = len(sp)
    if len(output_size) not in (nd, ndim):
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                         f"length of '{len(output_size)}'")
    out = tuple(int(o) for o in output_size)[-nd:]
    for d in range(nd):
        default = (sp[d] - 1) * s[d] - 2 * p[d] + k[d]
        if not default - s[d] <= out[d] < default + s[d]:
            raise ValueError(f'invalid output_size "{out}" (dim {d} must be between {default - s[d]} and '
                             f'{default + s[d]})')
    return out


def max_unpool(input, indices, kernel_size, stride, padding, output_size, nd):
    """Shared body of max_unpool{1,2,3}d: place values at the indices max_pool returned."""
    k = _tuple(kernel_size, nd)
    s = k if stride is None else _tuple(stride, nd)
    p = _tuple(padding, nd)
    sp = tuple(input.shape[input.ndim - nd:])
    if output_size is None:
        out = tuple((sp[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    else:
        out = _unpool_output_size(output_size, sp, k, s, p, input.ndim)
    shape = tuple(input.shape[:input.ndim - nd]) + tuple(int(o) for o in out)
    return _max_unpool(input, indices, shape, nd)


def adaptive_max_pool(input, output_size, return_indices, nd):
    """Shared body of adaptive_max_pool{1,2,3}d."""
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"adaptive_max_pool{nd}d(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(input.shape)}")
    y, ind = _adaptive_max_pool(input, _out_sizes(output_size, input.shape, nd))
    return (y, ind) if return_indices else y


# ---- fractional max pool ---------------------------------------------------------------------------
def _fractional_starts(xp, u, n, out, k):
    """Window starts along one dim, (N, C, out), from each plane's sample ``u`` in [0, 1).

    As torch: computed in the samples' dtype, start ``i`` is ``int((i + u) * a) - int(u * a)`` with
    ``a = (n - k) / (out - 1)``, and the last window ends at the input's end.
    """
    dt = u.dtype.type
    starts = xp.full(u.shape + (out,), n - k, np.int64)
    if out > 1:
        alpha = dt(n - k) / dt(out - 1)
        i = xp.arange(out - 1).astype(u.dtype)
        starts[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)[..., None]
    return starts


@defop("fractional_max_pool", nin=2, nondiff_outputs=(1,), node_name="FractionalMaxPool2DBackward0")
def _fractional_max_pool(ctx, x, samples, k, out):
    """Max over pseudo-random windows: per plane and dim, ``out`` windows of size ``k`` from ``samples``."""
    xp = ctx.xp
    nd = len(k)
    if nd == 3:
        ctx.__class__ = _FractionalMaxPool3D
    ctx.in_shape, ctx.nd = x.shape, nd
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
    lead, sp = x.shape[:2], x.shape[2:]
    ind = xp.zeros(lead + (1,) * nd, np.int64)        # flat index of each window's first element
    for j in range(nd):
        u = samples[:lead[0], :, 1 - j if nd == 2 else j]       # torch: 2-d samples are (width, height)
        starts = _fractional_starts(xp, u, sp[j], out[j], k[j])
        ind = ind * sp[j] + starts.reshape(lead + tuple(out[j] if i == j else 1 for i in range(nd)))
    offsets = []
    for idx in product(*[range(v) for v in k]):
        off = 0
        for j, i in enumerate(idx):
            off = off * sp[j] + i
        offsets.append(off)
    flat = x.reshape(lead + (-1,))
    views = [xp.take_along_axis(flat, (ind + off).reshape(lead + (-1,)), axis=2).reshape(ind.shape)
             for off in offsets]
    y, am = _max_over(xp, views, True)
    ind = ind + xp.asarray(np.array(offsets, np.int64))[am]
    if unbatched:
        y, ind = y[0], ind[0]
    ctx.ind = ind
    return y, ind


@_fractional_max_pool.backward
def _(ctx, g, _gi=None):
    return _index_scatter_add(g, ctx.ind, ctx.in_shape, ctx.nd), None


_FractionalMaxPool3D = variant(_fractional_max_pool, "FractionalMaxPool3DBackward0")


def _fractional_sizes(v, nd, what, name):
    v = tuple(v) if isinstance(v, (list, tuple)) else (v,) * nd
    if len(v) != nd:
        raise RuntimeError(f"{name}: {what} must either be a single Int or tuple of "
                           f"{'Ints' if nd == 2 else 'three Ints'}")
    return tuple(int(i) for i in v)


def fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, samples, nd):
    """Shared body of fractional_max_pool{2,3}d (unbatched input allowed)."""
    name = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if nd == 2 and len(output_ratio) > 2:
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * nd
        output_size = [int(input.size(j - nd) * ratio[j]) for j in range(nd)]
    if samples is None:
        samples = rand(1 if input.dim() == nd + 1 else input.size(0), input.size(-nd - 1), nd,
                       dtype=input.dtype, device=input.device)
    k = _fractional_sizes(kernel_size, nd, "kernel_size", name)
    out = _fractional_sizes(output_size, nd, "output_size", name)
    where = f"{name}()" if nd == 2 else f"{name}_out()"
    shape = list(input.shape)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{where}: Expected {nd + 1}D or {nd + 2}D tensor, but got: {shape}")
    for i in range(1, input.ndim):
        if shape[i] <= 0:
            raise RuntimeError(f"{where}: Expected input to have non-zero size for non-batch dimensions, but "
                               f"got{shape} with dimension {i} being empty.")
    for dim, ki, oi, n in zip(("time", "height", "width")[3 - nd:], k, out, shape[-nd:]):
        if oi + ki - 1 > n - (nd == 3):                   # torch: 3-d needs one spare element
            raise RuntimeError(f"{where}: pool {dim} {ki} too large relative to input {dim} {n}")
    if any(o < 0 for o in out):
        o = next(o for o in out if o < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {o}: {shape[:-nd] + list(out)}")
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.ndim != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.ndim}")
    if samples.shape[0] < (1 if input.ndim == nd + 1 else shape[0]):
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != shape[-nd - 1]:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {samples.shape[2]}.")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"{name}_out_frame\" not implemented for '{_SHORT[input._data.dtype.name]}'")
    if samples.requires_grad:
        raise RuntimeError(f"The function '{name}' is not differentiable with respect to argument "
                           "'random_samples'. This input cannot have requires_grad True.")
    y, ind = _fractional_max_pool(input, samples, k, out)
    return (y, ind) if return_indices else y


def _tuple(v, n):
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return (int(v[0]),) * n
        return tuple(int(i) for i in v)
    return (int(v),) * n


# ---- interpolation (separable: one (out, in) resampling matrix per spatial dim) -----------------------
_resample, _ = adjoint_pair("_resample", _apply_along, _apply_along_t, node_name="UpsampleBackward0")


def _cubic(t, a=-0.75):
    """Weights of the 4 taps around a sample at fractional offset ``t`` (torch's A = -0.75)."""
    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return (c2(t + 1), c1(t), c1(1 - t), c2(2 - t))


def resample_matrix(n_in, n_out, mode, align_corners, scale_factor):
    """The (n_out, n_in) matrix of 1-d nearest / linear / cubic resampling, as torch computes it."""
    m = np.zeros((n_out, n_in))
    i = np.arange(n_out, dtype=np.float64)
    if mode in ("nearest", "nearest-exact"):
        scale = 1.0 / scale_factor if scale_factor else n_in / n_out
        src = np.floor((i + 0.5) * scale if mode == "nearest-exact" else i * scale).astype(np.int64)
        m[np.arange(n_out), np.minimum(src, n_in - 1)] = 1.0
        return m
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = i * scale
    else:
        scale = 1.0 / scale_factor if scale_factor else n_in / n_out
        src = (i + 0.5) * scale - 0.5
        if mode != "cubic":
            src = np.maximum(src, 0.0)
    i0 = np.floor(src).astype(np.int64)
    t = src - i0
    rows = np.arange(n_out)
    if mode == "linear":
        i0 = np.minimum(i0, n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        np.add.at(m, (rows, i0), 1 - t)
        np.add.at(m, (rows, i1), t)
        return m
    for k, w in zip(range(-1, 3), _cubic(t)):
        np.add.at(m, (rows, np.clip(i0 + k, 0, n_in - 1)), w)
    return m


def _antialias_filter(x, mode):
    """PIL's resampling filters as torch's antialiased resize uses them (cubic with a = -0.5)."""
    x = np.abs(x)
    if mode == "linear":
        return np.maximum(0.0, 1.0 - x)
    a = -0.5
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))


def antialias_matrix(n_in, n_out, mode, align_corners, scale_factor):
    """The (n_out, n_in) matrix of antialiased 1-d linear / cubic resampling: when shrinking, the filter
    is stretched by the scale so that every input pixel contributes; each row is normalised to sum 1."""
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        scale = 1.0 / scale_factor if scale_factor else n_in / n_out
    stretch = max(scale, 1.0)
    support = (1.0 if mode == "linear" else 2.0) * stretch
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = scale * (i + 0.5)
        lo, hi = max(int(center - support + 0.5), 0), min(int(center + support + 0.5), n_in)
        w = _antialias_filter((np.arange(lo, hi) - center + 0.5) / stretch, mode)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0 else w
    return m


def interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias=False):
    """Shared body of ``F.interpolate`` for nearest, (bi/tri)linear, bicubic and area modes."""
    nd = input.ndim - 2
    sp = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out = tuple(size) if isinstance(size, (list, tuple)) else (size,) * max(nd, 0)
        if len(out) != nd and isinstance(size, (list, tuple)):
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {list(sp)} and output size of {size}. Please provide input "
                             "tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        scales = (None,) * nd
    elif scale_factor is not None:
        scales = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * max(nd, 0)
        if len(scales) != nd and isinstance(scale_factor, (list, tuple)):
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(sp)} and scale_factor of shape {scale_factor}. Please "
                             "provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                             "(s1, s2, ...,sK) format.")
        out = tuple(int(np.floor(s * f)) for s, f in zip(sp, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    else:
        raise ValueError("either size or scale_factor should be defined")
    kind = {"nearest": "nearest", "nearest-exact": "nearest-exact", "linear": "linear", "bilinear": "linear",
            "trilinear": "linear", "bicubic": "cubic", "area": "area"}.get(mode)
    if kind is None or not 1 <= nd <= 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if antialias and (mode not in ("bilinear", "bicubic") or input.ndim != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                         "4-D tensor as input")
    if mode == "area":
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
        return adaptive_avg_pool(input, out, nd)           # torch: area resampling is adaptive average pooling
    need = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}.get(mode)
    if need is not None and need != nd:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {need + 2}D input")
    if kind.startswith("nearest") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    xp = input._device.xp
    matrix = antialias_matrix if antialias else resample_matrix
    mats = [xp.asarray(matrix(sp[j], out[j], kind, bool(align_corners), scales[j]).astype(input._data.dtype))
            for j in range(nd)]
    return _resample(input, mats)
