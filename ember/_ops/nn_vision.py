"""Spatial transformers: affine_grid (sampling grids from affine matrices) and grid_sample.

grid_sample is written once for 2-D and 3-D: a grid point's coordinates (x, y[, z], in [-1, 1]) are
unnormalised to pixel space and folded in by the padding mode, then the input is read at the
surrounding corners (bilinear), the nearest pixel (nearest) or a 4x4 neighbourhood (bicubic, 2-D).
The backward (in Tensor ops, so differentiable again) scatters into the input and differentiates
the interpolation weights for the grid.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np

from .._grad_state import state as _grad_state
from .._tensor import Tensor, make
from ._registry import defop
from .shape import cat as ember_cat, stack as ember_stack

PUBLIC = {}
_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_PADDINGS = ("zeros", "border", "reflection")
_CUBIC_A = -0.75


# ---- affine_grid -------------------------------------------------------------------------------
def _linspace(xp, n, align_corners, dtype):
    """torch's base-grid axis: ``n`` points over [-1, 1], pulled in by ``(n - 1) / n`` unless aligned."""
    if n <= 1:
        return xp.zeros(n, dtype)
    r = xp.linspace(-1, 1, n, dtype=dtype)
    return r if align_corners else r * dtype.type((n - 1) / n)


def _base_grid(xp, spatial, align_corners, dtype):
    """(prod(spatial), k + 1) rows ``[x, y(, z), 1]`` over the output grid, x fastest."""
    axes = [_linspace(xp, n, align_corners, dtype) for n in spatial]
    mesh = xp.meshgrid(*axes, indexing="ij")
    cols = [m.reshape(-1) for m in reversed(mesh)]
    return xp.stack(cols + [xp.ones_like(cols[0])], axis=1)


@defop("affine_grid_generator", node_name="AffineGridGeneratorBackward0")
def _affine_grid(ctx, theta, spatial, align_corners):
    base = _base_grid(ctx.xp, spatial, align_corners, theta.dtype)
    ctx.base, ctx.spatial = base, spatial
    n = theta.shape[0]
    return (base @ theta.transpose(0, 2, 1)).reshape((n,) + tuple(spatial) + (len(spatial),))


@_affine_grid.backward
def _(ctx, g):
    n, k = g.shape[0], len(ctx.spatial)
    return g.reshape(n, -1, k).mT.matmul(make(ctx.base, ctx.device))


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """Sampling grid (N, H, W, 2) or (N, D, H, W, 3) of the affine maps ``theta`` (N, 2, 3) or (N, 3, 4)."""
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                      "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                      "documentation of grid_sample for details.", stacklevel=2)
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    shown, size = size, list(size)
    if len(size) == 4:
        if theta.ndim != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {shown}. "
                             f"Got {_size(theta)}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.ndim != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {shown}. "
                             f"Got {_size(theta)}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {shown}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the "
                      "documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {shown}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {theta.shape[2]}] but got: [{theta.shape[0]}, {theta.shape[2]}].")
    return _affine_grid(theta, tuple(int(s) for s in spatial), bool(align_corners))


def _size(t):
    return f"torch.Size([{', '.join(map(str, t.shape))}])"


# ---- grid_sample: source coordinates ---------------------------------------------------------------
def _unnormalize(c, size, align_corners):
    """Grid coordinate in [-1, 1] to pixel space, and d(pixel)/d(grid)."""
    if align_corners:
        return (c + 1) * ((size - 1) / 2), (size - 1) / 2
    return ((c + 1) * size - 1) / 2, size / 2


def _reflect(xp, c, twice_low, twice_high):
    """Reflect ``c`` into [twice_low / 2, twice_high / 2]; also the +-1 derivative."""
    if twice_low == twice_high:
        return xp.zeros_like(c), xp.zeros_like(c)
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = c - lo
    sign = xp.where(c < 0, -1, 1).astype(c.dtype)
    c = xp.abs(c)
    extra = xp.fmod(c, span)
    even = xp.floor(c / span) % 2 == 0
    return xp.where(even, extra + lo, span - extra + lo), xp.where(even, sign, -sign)


def _clip(xp, c, size):
    """Clamp ``c`` to [0, size - 1]; derivative 0 where clamped."""
    return xp.clip(c, 0, size - 1), ((c > 0) & (c < size - 1)).astype(c.dtype)


def _pad_coord(xp, c, size, padding, align_corners):
    """Apply ``padding`` (border / reflection fold the coordinate in range); value and derivative."""
    if padding == "border":
        return _clip(xp, c, size)
    if padding == "reflection":
        if align_corners:
            c, d = _reflect(xp, c, 0, 2 * (size - 1))
        else:
            c, d = _reflect(xp, c, -1, 2 * size - 1)
        c, d2 = _clip(xp, c, size)
        return c, d * d2
    return c, None


def _source(xp, grid, sizes, padding, align_corners):
    """Per spatial dim (D, H, W order): pixel coordinate and d(pixel)/d(grid)."""
    k = len(sizes)
    out = []
    for d, size in enumerate(sizes):
        c, scale = _unnormalize(grid[..., k - 1 - d], size, align_corners)
        c, dpad = _pad_coord(xp, c, size, padding, align_corners)
        out.append((c, scale if dpad is None else dpad * grid.dtype.type(scale)))
    return out


def _taps(xp, idx, sizes):
    """Flat offsets into (N * prod(sizes)) of integer positions ``idx`` (per dim), and the in-bounds mask."""
    n = idx[0].shape[0]
    ok = xp.ones(idx[0].shape, bool)
    flat = xp.arange(n).reshape((n,) + (1,) * (idx[0].ndim - 1))
    for i, size in zip(idx, sizes):
        ok &= (i >= 0) & (i < size)
        flat = flat * size + xp.clip(i, 0, size - 1)
    return flat, ok


def _cubic(t):
    """Cubic-convolution weights of the 4 taps at offsets -1, 0, 1, 2 for fraction ``t``."""
    a = _CUBIC_A

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_grad(t):
    """d(weight)/dt of the 4 cubic taps."""
    a = _CUBIC_A
    x0, x1, x2, x3 = -1 - t, -t, 1 - t, 2 - t
    return [-((-3 * a * x0 - 10 * a) * x0 - 8 * a), -((-3 * (a + 2) * x1 - 2 * (a + 3)) * x1),
            -((3 * (a + 2) * x2 - 2 * (a + 3)) * x2), -((3 * a * x3 - 10 * a) * x3 + 8 * a)]


# per mode: 1-d tap weights and their derivatives as functions of the fraction t (arrays or Tensors)
_WEIGHTS = {0: lambda t: [1 - t, t], 1: lambda t: [1], 2: _cubic}
_DWEIGHTS = {0: lambda t: [-1, 1], 1: lambda t: [0], 2: _cubic_grad}


def _stencil(xp, grid, sizes, mode, padding, align_corners):
    """Per spatial dim (D, H, W order): (integer tap positions, fraction t, dt/dgrid).

    The positions are piecewise constant in the grid and ``t`` piecewise linear (slope ``dt/dgrid``),
    so ``t + (grid - grid0) * slope`` is exact to every order around the sampled point.
    """
    k = len(sizes)
    dims = []
    if mode == 2:
        for d, size in enumerate(sizes):
            c, scale = _unnormalize(grid[..., k - 1 - d], size, align_corners)
            c0 = xp.floor(c)
            pos = []
            for i in range(4):
                q = c0 + (i - 1)
                if padding != "zeros":
                    q = _pad_coord(xp, q, size, padding, align_corners)[0]
                pos.append(q.astype(np.int64))
            dims.append((pos, c - c0, grid.dtype.type(scale)))
    elif mode == 1:
        dims = [([xp.rint(c).astype(np.int64)], None, None) for c, _ in _source(xp, grid, sizes, padding, align_corners)]
    else:
        for c, dc in _source(xp, grid, sizes, padding, align_corners):
            c0 = xp.floor(c).astype(np.int64)
            dims.append(([c0, c0 + 1], c - c0, dc))
    return dims


def _combos(dims):
    return itertools.product(*[range(len(pos)) for pos, _, _ in dims])


def _tap_weight(per_dim, combo, skip=None):
    """Product over dims of the chosen 1-d weights (leaving out dim ``skip``)."""
    w = 1
    for d, j in enumerate(combo):
        if d != skip:
            w = w * per_dim[d][j]
    return w


def _grid_sampler(ctx, x, grid, mode, padding, align_corners):
    xp = ctx.xp
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    rows = xp.moveaxis(x, 1, -1).reshape(-1, c)                  # (N * prod(sizes), C)
    dims = _stencil(xp, grid, sizes, mode, padding, align_corners)
    ws = [_WEIGHTS[mode](t) for _, t, _ in dims]
    out = xp.zeros(grid.shape[:-1] + (c,), x.dtype)
    for combo in _combos(dims):
        flat, ok = _taps(xp, [dims[d][0][j] for d, j in enumerate(combo)], sizes)
        out += rows[flat] * xp.where(ok, _tap_weight(ws, combo), 0)[..., None]
    ctx.save_for_backward(x, grid)
    ctx.cfg = (mode, padding, align_corners)
    return xp.ascontiguousarray(xp.moveaxis(out, -1, 1))


def _grid_sampler_grads(ctx, g):
    """Input gradient: ``g`` scattered into the taps by their weights; grid gradient: the taps' values
    times the weights' derivatives.  Written in Tensor ops: under ``create_graph`` the fractions are
    tied to the grid tensor (exactly, see :func:`_stencil`), so every order of derivative works."""
    x, grid = ctx.saved_tensors
    mode, padding, align_corners = ctx.cfg
    need = ctx.needs_input_grad
    xp, dev = ctx.xp, ctx.device
    n, c = x.shape[:2]
    sizes = tuple(x.shape[2:])
    k = len(sizes)
    dims = _stencil(xp, grid._data, sizes, mode, padding, align_corners)
    tied = _grad_state.enabled and grid._requires_grad
    ts = []
    for d, (_, t, slope) in enumerate(dims):
        if t is not None and tied:
            gd = grid[..., k - 1 - d]
            t = gd * make(xp.asarray(slope), dev) + make(t - gd._data * slope, dev)
        elif t is not None:
            t = make(t, dev)
        ts.append(t)
    ws = [_WEIGHTS[mode](t) for t in ts]
    gl = g.movedim(1, -1)                                          # (N, *out, C)
    rows = x.movedim(1, -1).reshape(-1, c) if need[1] and mode != 1 else None
    gx = None
    flats, parts = [], []
    gcomp = [None] * k
    for combo in _combos(dims):
        flat, ok = _taps(xp, [dims[d][0][j] for d, j in enumerate(combo)], sizes)
        flat_t, ok_t = make(flat, dev), make(ok.astype(x._data.dtype), dev)
        if need[0]:
            keep = xp.flatnonzero(ok.reshape(-1))              # taps outside the input add nothing
            flats.append(flat.reshape(-1)[keep])
            parts.append((gl * _tap_weight(ws, combo).unsqueeze(-1) if mode != 1 else gl).reshape(-1, c)[make(keep, dev)])
        if rows is not None:
            v = (rows[flat_t] * gl).sum(-1) * ok_t
            for d in range(k):
                dw = _DWEIGHTS[mode](ts[d])[combo[d]] * make(xp.asarray(dims[d][2]), dev)
                term = v * dw * _tap_weight(ws, combo, skip=d)
                gcomp[d] = term if gcomp[d] is None else gcomp[d] + term
    if need[0]:
        # all taps' contributions added in one scatter
        gx = parts[0].new_zeros((x.numel() // c, c)).index_add(0, make(xp.concatenate(flats), dev),
                                                               ember_cat(parts))
        gx = gx.reshape((n,) + sizes + (c,)).movedim(-1, 1)
    ggrid = None
    if need[1]:
        ggrid = grid.new_zeros(grid.shape) if mode == 1 else ember_stack(gcomp[::-1], -1)
    return gx, ggrid


@defop("grid_sampler_2d", nin=2, node_name="GridSampler2DBackward0")
def _grid_sampler_2d(ctx, x, grid, mode, padding, align_corners):
    return _grid_sampler(ctx, x, grid, mode, padding, align_corners)


@defop("grid_sampler_3d", nin=2, node_name="GridSampler3DBackward0")
def _grid_sampler_3d(ctx, x, grid, mode, padding, align_corners):
    return _grid_sampler(ctx, x, grid, mode, padding, align_corners)


_grid_sampler_2d.backward(_grid_sampler_grads)
_grid_sampler_3d.backward(_grid_sampler_grads)


def _shape(t):
    return f"[{', '.join(map(str, t.shape))}]"


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at the normalised positions of ``grid``."""
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                      "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
                      "documentation of grid_sample for details.", stacklevel=2)
        align_corners = False
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {_NAMES.get(input.dtype.name, input.dtype.name)} but found "
                           f"{_NAMES.get(grid.dtype.name, grid.dtype.name)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {_shape(input)} and grid with sizes {_shape(grid)}")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last dimension, but "
                           f"got grid with sizes {_shape(grid)}")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError("grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {_shape(input)} and grid with sizes {_shape(grid)}")
    for i in range(2, input.ndim):
        if input.shape[i] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input "
                               f"has sizes {_shape(input)} with dimension {i} being empty")
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    op = _grid_sampler_2d if input.ndim == 4 else _grid_sampler_3d
    return op(input, grid, _MODES[mode], padding_mode, bool(align_corners))


_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16"}
