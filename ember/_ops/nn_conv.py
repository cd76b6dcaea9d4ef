"""Convolutions (1-, 2-, 3-d, plain and transposed) as im2col + GEMM.

``im2col`` takes strided windows of the padded input (no Python loop) and copies them once into
``(groups, C/groups * prod(kernel), N * L)``.  The forward and the input gradient multiply the
weight, viewed as ``(groups, O/groups, C/groups * prod(kernel))``, with each sample's columns
passed to BLAS as strided views (``_bmm``), so results come out batch-first with no transpose
copy; the weight gradient is one GEMM over all samples (or a sum of per-sample products when the
kernel is small).  ``col2im`` (the adjoint, used by the input gradient and by transposed
convolution) adds the columns back with one strided slice-add per kernel position.
"""
from __future__ import annotations

from itertools import product

from .._tensor import Tensor
from ._registry import defop

PUBLIC = {}

_CHUNK = 1 << 20        # elements of input-gradient columns computed at once (4 MiB of float32)


def im2col(xp, x, k, s, d, groups):
    """Windows of padded ``x`` (N, C, *spatial) as ``(groups, C/groups * prod(k), N * L)``, and the out shape."""
    nd = len(k)
    n, c = x.shape[:2]
    eff = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    win = xp.lib.stride_tricks.sliding_window_view(x, eff, axis=tuple(range(2, 2 + nd)))
    if any(si != 1 for si in s) or any(di != 1 for di in d):
        win = win[(slice(None), slice(None)) + tuple(slice(None, None, si) for si in s)
                  + tuple(slice(None, None, di) for di in d)]
    out = win.shape[2:2 + nd]
    # (C, *k, N, *out): channel-major rows, sample-major columns
    win = win.transpose((1,) + tuple(range(2 + nd, 2 + 2 * nd)) + (0,) + tuple(range(2, 2 + nd)))
    return win.reshape(groups, -1, n * _prod(out)), out


def _prod(t):
    p = 1
    for v in t:
        p *= v
    return p


def col2im(xp, cols, c, n, padded, k, s, d, out):
    """The adjoint of :func:`im2col`: sum ``(groups, C/groups * prod(k), N * L)`` columns into (C, N, *padded)."""
    nd = len(k)
    cols = cols.reshape((c,) + tuple(k) + (n,) + tuple(out))
    res = xp.zeros((c, n) + tuple(padded), cols.dtype)
    _add_windows(cols.transpose((0, 1 + nd) + tuple(range(1, 1 + nd)) + tuple(range(2 + nd, 2 + 2 * nd))),
                 res, k, s, d, out)
    return res


def _add_windows(cols, res, k, s, d, out):
    """Add window columns ``(A, B, *k, *out)`` into ``res`` ``(A, B, *padded)``, one slice-add per kernel position."""
    for idx in product(*[range(v) for v in k]):
        sl = (slice(None), slice(None)) + tuple(
            slice(i * d[j], i * d[j] + s[j] * (out[j] - 1) + 1, s[j]) for j, i in enumerate(idx))
        res[sl] += cols[(slice(None), slice(None)) + idx]


def _channels_first(xp, a, groups):
    """(N, C, *sp) -> (groups, C/groups, N * L), a copy."""
    n, c = a.shape[:2]
    return xp.ascontiguousarray(a.reshape(n, groups, c // groups, -1).transpose(1, 2, 0, 3)).reshape(
        groups, c // groups, -1)


def _gemm(xp, a, b, ta=False, tb=False):
    """Per-group 2-D GEMM of stacked (groups, ., .) operands, optionally transposed."""
    outs = [(a[i].T if ta else a[i]) @ (b[i].T if tb else b[i]) for i in range(a.shape[0])]
    out = outs[0][None] if len(outs) == 1 else xp.stack(outs)
    return out.astype(a.dtype, copy=False)          # ml_dtypes: bf16 @ bf16 -> f32


def _bmm(xp, a, b):
    """Per-group, per-sample GEMM: (groups, M, K) times (N, groups, K, L) -> (N, groups * M, L), batch-first.

    Strided operands go to BLAS as they are (no transpose copies), and the result is already in
    (N, C, *spatial) order.
    """
    n, g = b.shape[:2]
    if g == 1:
        return xp.matmul(a[0], b[:, 0]).astype(a.dtype, copy=False)
    y = xp.empty((n, g, a.shape[1], b.shape[3]), a.dtype)
    for i in range(g):
        xp.matmul(a[i], b[:, i], out=y[:, i])
    return y.reshape(n, -1, b.shape[3])


def _pad_input(xp, x, pad):
    """Zero-pad the spatial dims of ``x`` by ``pad`` ((before, after) per dim)."""
    if not any(a or b for a, b in pad):
        return x
    res = xp.zeros(x.shape[:2] + tuple(n + a + b for n, (a, b) in zip(x.shape[2:], pad)), x.dtype)
    res[(slice(None), slice(None)) + tuple(slice(a, a + n) for n, (a, _) in zip(x.shape[2:], pad))] = x
    return res


def _crop(a, pad):
    if not any(p0 or p1 for p0, p1 in pad):
        return a
    return a[(slice(None), slice(None)) + tuple(slice(p0, a.shape[2 + i] - p1) for i, (p0, p1) in enumerate(pad))]


def _conv_forward(ctx, x, w, b, stride, pad, dilation, groups, transposed, output_padding):
    xp = ctx.xp
    nd = x.ndim - 2
    n = x.shape[0]
    k = w.shape[2:]
    ctx.args = (stride, pad, dilation, groups, transposed, output_padding)
    if not transposed:
        cols, out = im2col(xp, _pad_input(xp, x, pad), k, stride, dilation, groups)
        y = _bmm(xp, w.reshape(groups, w.shape[0] // groups, -1),
                 cols.reshape(groups, cols.shape[1], n, -1).transpose(2, 0, 1, 3))
        if b is not None:
            y += b.reshape(-1, 1)
        ctx.save_for_backward(x, w, cols)
        return y.reshape((n, w.shape[0]) + tuple(out))
    cin = x.shape[1]
    cout = w.shape[1] * groups
    gcols = _gemm(xp, w.reshape(groups, cin // groups, -1), _channels_first(xp, x, groups), ta=True)
    full = tuple((x.shape[2 + i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + 1 + output_padding[i]
                 for i in range(nd))
    y = _crop(col2im(xp, gcols, cout, n, full, k, stride, dilation, x.shape[2:]), pad)
    if b is not None:
        y += b.reshape((-1, 1) + (1,) * nd)
    ctx.save_for_backward(x, w, None)
    return xp.ascontiguousarray(y.transpose((1, 0) + tuple(range(2, 2 + nd))))


@defop("convolution", nin=3, node_name="ConvolutionBackward0")
def _convolution(ctx, x, w, b, *args):
    return _conv_forward(ctx, x, w, b, *args)


@defop("_convolution_nobias", nin=2, node_name="ConvolutionBackward0")
def _convolution_nobias(ctx, x, w, *args):
    return _conv_forward(ctx, x, w, None, *args)


@defop("_convolution_backward", nin=3, node_name="ConvolutionBackwardBackward0")
def _convolution_backward(ctx, g, x, w, cols, args, need):
    """Gradients of a convolution w.r.t. (input, weight, bias), the ones asked for in ``need``.

    ``cols`` are the forward's saved columns (or None: recomputed when the weight needs them).
    The input gradient reads only the shape of ``x``, the weight gradient only that of ``w``.
    """
    xp = ctx.xp
    ctx.save_for_backward(g, x, w)
    ctx.args, ctx.need = args, need
    stride, pad, dilation, groups, transposed, output_padding = args
    nd = x.ndim - 2
    k = w.shape[2:]
    n = x.shape[0]
    res = []
    if not transposed:
        og = w.shape[0] // groups
        gr = g.reshape(n, groups, og, -1)
        if need[0]:
            # columns of the input gradient, a few samples at a time (a cache-sized buffer, not N * C * k * L)
            wt = w.reshape(groups, og, -1).transpose(0, 2, 1)
            sp = tuple(g.shape[2:])
            gx = xp.zeros(x.shape[:2] + tuple(x.shape[2 + i] + pad[i][0] + pad[i][1] for i in range(nd)), g.dtype)
            chunk = max(1, _CHUNK // (groups * wt.shape[1] * gr.shape[3]))
            for i in range(0, n, chunk):
                gcols = _bmm(xp, wt, gr[i:i + chunk])
                _add_windows(gcols.reshape((-1, x.shape[1]) + tuple(k) + sp), gx[i:i + chunk], k, stride, dilation, sp)
            res.append(xp.ascontiguousarray(_crop(gx, pad)))
        if need[1]:
            if cols is None:
                cols, _ = im2col(xp, _pad_input(xp, x, pad), k, stride, dilation, groups)
            ck = cols.shape[1]
            if ck <= gr.shape[3]:
                # per-sample products (N, groups, O/groups, ck) are smaller than a transposed copy of g
                per = xp.matmul(gr, cols.reshape(groups, ck, n, -1).transpose(2, 0, 3, 1))
                res.append(per.sum(axis=0).reshape(w.shape))
            else:
                res.append(_gemm(xp, _channels_first(xp, g, groups), cols, tb=True).reshape(w.shape))
    else:
        cin = x.shape[1]
        gcols, _ = im2col(xp, _pad_input(xp, g, pad), k, stride, dilation, groups)
        if need[0]:
            res.append(_bmm(xp, w.reshape(groups, cin // groups, -1),
                            gcols.reshape(groups, gcols.shape[1], n, -1).transpose(2, 0, 1, 3)).reshape(x.shape))
        if need[1]:
            res.append(_gemm(xp, _channels_first(xp, x, groups), gcols, tb=True).reshape(w.shape))
    if need[2]:
        res.append(g.sum(axis=(0,) + tuple(range(2, 2 + nd))))
    return tuple(res)


@_convolution_backward.backward
def _(ctx, *ggs):
    """Double backward.  A convolution ``y = conv(x, w) + b`` is bilinear in (x, w), so its backward
    ``(g, x, w) -> (gx, gw, gb)`` is linear in each argument: with ``(ggx, ggw, ggb)`` flowing back,
    ``g`` gets ``conv(ggx, w) + conv(x, ggw) + ggb``, ``x`` gets the input gradient of ``conv(x, ggw)``
    and ``w`` the weight gradient of ``conv(ggx, w)``, both for the output gradient ``g``.
    Everything is again a convolution or its backward, so any order of derivative works.
    """
    g, x, w = ctx.saved_tensors
    args = ctx.args
    it = iter(ggs)
    ggx, ggw, ggb = (next(it) if n else None for n in ctx.need)
    need_g, need_x, need_w = ctx.needs_input_grad
    dg = dx = dw = None
    if need_g:
        for a, b in ((ggx, w), (x, ggw)):
            if a is not None:
                t = _convolution_nobias(a, b, *args)
                dg = t if dg is None else dg + t
        if ggb is not None:
            t = ggb.reshape((1, -1) + (1,) * (g.ndim - 2))
            dg = t.expand(g.shape) if dg is None else dg + t
    if need_x and ggw is not None:
        (dx,) = _convolution_backward(g, x, ggw, None, args, (True, False, False))
    if need_w and ggx is not None:
        (dw,) = _convolution_backward(g, ggx, w, None, args, (False, True, False))
    return dg, dx, dw


def _conv_grads(ctx, g, has_bias):
    x, w, cols = ctx.saved_tensors
    need = tuple(ctx.needs_input_grad) + (() if has_bias else (False,))
    res = iter(_convolution_backward(g, x, w, None if cols is None else cols._data, ctx.args, need))
    out = tuple(next(res) if n else None for n in need)
    return out if has_bias else out[:2]


@_convolution.backward
def _(ctx, g):
    return _conv_grads(ctx, g, True)


@_convolution_nobias.backward
def _(ctx, g):
    return _conv_grads(ctx, g, False)


def _tuple(v, n, name="stride"):
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and n > 1:
            return tuple(int(v[0]) for _ in range(n))
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to "
                               f"match the convolution dimensions, but got {name}={list(v)}")
        return tuple(int(i) for i in v)
    return (int(v),) * n


def _shape_str(s):
    return "[" + ", ".join(str(i) for i in s) + "]"


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, dilation,
                transposed: bool, output_padding, groups: int, name: str = "convolution") -> Tensor:
    """N-d (transposed) convolution; ``padding`` is int/tuple, 'same' or 'valid'."""
    nd = weight.ndim - 2
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got "
                           f"input of size: {_shape_str(input.shape)}")
    unbatched = input.ndim == nd + 1
    if unbatched:
        input = input.reshape((1,) + tuple(input.shape))
    stride = _tuple(stride, nd)
    dilation = _tuple(dilation, nd, "dilation")
    output_padding = _tuple(output_padding, nd, "output_padding")
    k = tuple(weight.shape[2:])
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if isinstance(padding, str):
        if padding == "valid":
            pad = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = [dilation[i] * (k[i] - 1) for i in range(nd)]
            pad = tuple((t // 2, t - t // 2) for t in tot)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pad = tuple((p, p) for p in _tuple(padding, nd, "padding"))
    c = input.shape[1]
    if not transposed:
        if c != weight.shape[1] * groups:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {_shape_str(weight.shape)}, expected input"
                f"{_shape_str(input.shape)} to have {weight.shape[1] * groups} channels, but got {c} "
                "channels instead")
        if weight.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                               f"dimension 0, but got weight of size {_shape_str(weight.shape)} instead")
        padded = [input.shape[2 + i] + pad[i][0] + pad[i][1] for i in range(nd)]
        eff = [dilation[i] * (k[i] - 1) + 1 for i in range(nd)]
        if any(p < e for p, e in zip(padded, eff)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                f"({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input size")
    else:
        if c != weight.shape[0]:
            raise RuntimeError(
                f"Given transposed=1, weight of size {_shape_str(weight.shape)}, expected input"
                f"{_shape_str(input.shape)} to have {weight.shape[0]} channels, but got {c} channels instead")
    if bias is not None and bias.shape[0] != (weight.shape[1] * groups if transposed else weight.shape[0]):
        raise RuntimeError(f"Given weight of size {_shape_str(weight.shape)}, expected bias to be 1-dimensional "
                           f"with {weight.shape[0]} elements, but got bias of size {_shape_str(bias.shape)} instead")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"Input type ({_type_str(input)}) and weight type ({_type_str(weight)}) should be the same")
    args = (stride, pad, dilation, groups, transposed, output_padding)
    if bias is None:
        out = _convolution_nobias(input, weight, *args)
    else:
        out = _convolution(input, weight, bias, *args)
    if unbatched:
        out = out.reshape(tuple(out.shape[1:]))
    return out


def _type_str(t):
    from ._registry import _type_name
    return _type_name(t)
