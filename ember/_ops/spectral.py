"""Spectral ops (``ember.fft``): discrete Fourier transforms on the backend's ``fft`` module.

Three kernels do all the work, as in torch: complex-to-complex (``FftC2C``), real-to-complex
(``FftR2C``, optionally one-sided) and complex-to-real (``FftC2R``).  Each is linear, so its
backward is a transform too: the adjoint of ``fft`` with norm ``m`` is ``ifft`` with the dual norm
(``backward`` <-> ``forward``, ``ortho`` stays).  One-sided spectra get torch's Hermitian weighting
(the gradient of ``irfft`` counts each non-edge bin twice).  Padding/trimming to ``n``/``s`` is a
linear op of its own whose adjoint trims/pads back.  The public functions compose these.
"""
from __future__ import annotations

import numpy as _np

from .._dtype import get_default_dtype
from .._tensor import Tensor, make, wrap_dim
from ._registry import _SHORT, adjoint_pair, defop
from ._util import check_tensor, factory_device, factory_dtype
from .shape import roll

PUBLIC = {}     # nothing in the top-level namespace: these live in ``ember.fft``

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_COMPLEX_OF = {_np.dtype(_np.float32): _np.complex64, _np.dtype(_np.float64): _np.complex128,
               _np.dtype(_np.complex64): _np.complex64, _np.dtype(_np.complex128): _np.complex128}
_REAL_OF = {_np.dtype(_np.complex64): _np.float32, _np.dtype(_np.complex128): _np.float64,
            _np.dtype(_np.float32): _np.float32, _np.dtype(_np.float64): _np.float64}


# ---- resizing to n / s: zero-pad or trim each transformed dim at its end --------------------------
def _resize_arr(xp, x, dims, sizes):
    shape = list(x.shape)
    for d, n in zip(dims, sizes):
        shape[d] = n
    out = xp.zeros(shape, dtype=x.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(x.shape, shape))
    out[common] = x[common]
    return out


_resize, _unresize = adjoint_pair(
    "_fft_resize", lambda xp, x, dims, sizes, old: _resize_arr(xp, x, dims, sizes),
    lambda xp, g, dims, sizes, old: _resize_arr(xp, g, dims, old))


def _sized(x: Tensor, dims, sizes) -> Tensor:
    old = tuple(x.shape[d] for d in dims)
    return x if old == tuple(sizes) else _resize(x, tuple(dims), tuple(sizes), old)


# ---- the three kernels -----------------------------------------------------------------------------
@defop("_fft_c2c", node_name="FftC2CBackward0")
def _fft_c2c(ctx, x, dims, norm, forward):
    ctx.args = (dims, norm, forward)
    f = ctx.xp.fft.fftn if forward else ctx.xp.fft.ifftn
    return f(x, axes=dims, norm=norm).astype(x.dtype, copy=False)


@_fft_c2c.backward
def _(ctx, g):
    dims, norm, forward = ctx.args
    return _fft_c2c(g, dims, _DUAL[norm], not forward)


@defop("_fft_r2c", node_name="FftR2CBackward0")
def _fft_r2c(ctx, x, dims, norm, onesided):
    """The forward transform of a real ``x`` (only the first ``n // 2 + 1`` bins of the last dim
    when ``onesided``)."""
    ctx.args = (dims, norm, onesided, x.shape[dims[-1]])
    f = ctx.xp.fft.rfftn if onesided else ctx.xp.fft.fftn
    return f(x, axes=dims, norm=norm).astype(_COMPLEX_OF[x.dtype], copy=False)


@_fft_r2c.backward
def _(ctx, g):
    dims, norm, onesided, n = ctx.args
    if onesided:
        g = _sized(g, (dims[-1],), (n,))
    return _fft_c2c(g, dims, _DUAL[norm], False).real


@defop("_fft_c2r", node_name="FftC2RBackward0")
def _fft_c2r(ctx, x, dims, norm, last_n):
    """The inverse transform of a one-sided spectrum ``x`` to a real signal of ``last_n`` samples
    along the last dim (``x`` holds ``last_n // 2 + 1`` bins there)."""
    ctx.args = (dims, norm, last_n, x.dtype.kind != "c")
    s = [x.shape[d] for d in dims[:-1]] + [last_n]
    return ctx.xp.fft.irfftn(x, s=s, axes=dims, norm=norm).astype(_REAL_OF[x.dtype], copy=False)


@_fft_c2r.backward
def _(ctx, g):
    dims, norm, last_n, real_in = ctx.args
    gi = _fft_r2c(g, dims, _DUAL[norm], True)
    bins = last_n // 2 + 1
    twice = last_n - bins                   # bins 1..twice stand for two bins of the full spectrum
    if twice > 0:
        shape = [1] * g.ndim
        shape[dims[-1]] = bins
        w = _np.ones(bins, dtype=_REAL_OF[g._data.dtype])
        w[1:1 + twice] = 2
        gi = gi * make(g._device.xp.asarray(w.reshape(shape)), g._device)
    return gi.real if real_in else gi


# ---- argument handling ------------------------------------------------------------------------------
def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


_REAL_ONLY = {"rfft": "{} expects a real input tensor, but got {}", "ihfft": "{} expects a real input tensor, "
              "but got {}", "rfftn": "{} expects a real-valued input tensor, but got {}",
              "ihfftn": "Only supports floating-point dtypes, but found: {1}"}


def _input(x, fname):
    """``x`` checked, integers/bools promoted to the default float dtype (as torch)."""
    check_tensor(x, f"fft_{fname}")
    dt = x.dtype
    if dt._category < 2:
        return x.to(get_default_dtype())
    if x._data.dtype not in _COMPLEX_OF:
        raise RuntimeError(f"Unsupported dtype {_SHORT.get(dt.name, dt.name)}")
    if fname in _REAL_ONLY and dt._category == 3:
        raise RuntimeError(_REAL_ONLY[fname].format(fname, _SHORT[dt.name]))
    return x


def _check_n(n):
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _dims_sizes(x, s, dim, default_dim=None):
    """The transformed dims and their sizes (``s`` entries of -1 keep a dim's size)."""
    if dim is None:
        dim = default_dim
    if s is not None and dim is not None and len(s) != len(dim):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        dims = tuple(range(x.ndim - len(s), x.ndim)) if s is not None else tuple(range(x.ndim))
        if s is not None and len(s) > x.ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {x.ndim} dimensions.")
    else:
        dims = tuple(wrap_dim(d, x.ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    sizes = tuple(_check_n(x.shape[d] if s is None or s[i] == -1 else s[i]) for i, d in enumerate(dims))
    return dims, sizes


def _c2c(x, dims, sizes, norm, forward):
    x = _sized(x, dims, sizes)
    if x.dtype._category == 3:
        return _fft_c2c(x, dims, norm, forward)
    if forward:
        return _fft_r2c(x, dims, norm, False)
    return _fft_r2c(x, dims, _DUAL[norm], False).conj()     # ifft of a real x is conj(fft(x)) / N


def _r2c(x, dims, sizes, norm):
    return _fft_r2c(_sized(x, dims, sizes), dims, norm, True)


def _c2r(x, dims, sizes, norm):
    half = list(sizes[:-1]) + [sizes[-1] // 2 + 1]
    return _fft_c2r(_sized(x, dims, half), dims, norm, sizes[-1])


def _irfft_sizes(x, s, dims, sizes):
    """For c2r transforms the default size of the last dim is ``2 * (m - 1)``."""
    if s is None or s[-1] == -1:
        sizes = sizes[:-1] + (_check_n(2 * (x.shape[dims[-1]] - 1)),)
    return sizes


# ---- public: 1-D -----------------------------------------------------------------------------------
def _one(x, n, dim):
    d = wrap_dim(dim, x.ndim)
    return (d,), (_check_n(x.shape[d] if n is None else n),)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The 1-D discrete Fourier transform along ``dim``."""
    x = _input(input, "fft")
    dims, sizes = _one(x, n, dim)
    return _c2c(x, dims, sizes, _norm(norm), True)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The 1-D inverse discrete Fourier transform along ``dim``."""
    x = _input(input, "ifft")
    dims, sizes = _one(x, n, dim)
    return _c2c(x, dims, sizes, _norm(norm), False)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-sided FFT of a real signal: ``n // 2 + 1`` bins."""
    x = _input(input, "rfft")
    dims, sizes = _one(x, n, dim)
    return _r2c(x, dims, sizes, _norm(norm))


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``rfft``: a real signal of ``n`` samples (default ``2 * (m - 1)``)."""
    x = _input(input, "irfft")
    d = wrap_dim(dim, x.ndim)
    n = _check_n(2 * (x.shape[d] - 1) if n is None else n)
    return _c2r(x, (d,), (n,), _norm(norm))


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The FFT of a Hermitian-symmetric signal given by its first half: a real spectrum."""
    x = _input(input, "hfft")
    d = wrap_dim(dim, x.ndim)
    n = _check_n(2 * (x.shape[d] - 1) if n is None else n)
    return _c2r(x.conj(), (d,), (n,), _DUAL[_norm(norm)])


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``hfft``: the one-sided inverse FFT of a real signal."""
    x = _input(input, "ihfft")
    dims, sizes = _one(x, n, dim)
    return _r2c(x, dims, sizes, _DUAL[_norm(norm)]).conj()


# ---- public: n-D -----------------------------------------------------------------------------------
def fftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The n-D discrete Fourier transform over ``dim`` (all dims by default)."""
    x = _input(input, "fftn")
    dims, sizes = _dims_sizes(x, s, dim)
    return _c2c(x, dims, sizes, _norm(norm), True)


def ifftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The n-D inverse discrete Fourier transform."""
    x = _input(input, "ifftn")
    dims, sizes = _dims_sizes(x, s, dim)
    return _c2c(x, dims, sizes, _norm(norm), False)


def rfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The n-D FFT of a real signal, one-sided along the last transformed dim."""
    x = _input(input, "rfftn")
    dims, sizes = _dims_sizes(x, s, dim)
    return _r2c(x, dims, sizes, _norm(norm))


def irfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The inverse of ``rfftn``: a real signal."""
    x = _input(input, "irfftn")
    dims, sizes = _dims_sizes(x, s, dim)
    return _c2r(x, dims, _irfft_sizes(x, s, dims, sizes), _norm(norm))


def hfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The n-D FFT of a Hermitian-symmetric signal given by its one-sided half."""
    x = _input(input, "hfftn")
    dims, sizes = _dims_sizes(x, s, dim)
    return _c2r(x.conj(), dims, _irfft_sizes(x, s, dims, sizes), _DUAL[_norm(norm)])


def ihfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The inverse of ``hfftn``: the one-sided n-D inverse FFT of a real signal."""
    x = _input(input, "ihfftn")
    dims, sizes = _dims_sizes(x, s, dim)
    return _r2c(x, dims, sizes, _DUAL[_norm(norm)]).conj()


def _two(fn, name):
    def f(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> Tensor:
        return fn(input, s, dim, norm)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``{fn.__name__}`` over two dims (the last two by default)."
    return f


fft2, ifft2, rfft2, irfft2, hfft2, ihfft2 = (
    _two(f, f.__name__[:-1] + "2") for f in (fftn, ifftn, rfftn, irfftn, hfftn, ihfftn))


# ---- frequencies and shifts ----------------------------------------------------------------------
def _freq(k, n, d, dtype, device, requires_grad):
    """The integers ``k`` times ``1 / (n * d)``, in ``dtype`` (as torch: a NaN where ``n * d`` is 0)."""
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = factory_dtype(dtype, get_default_dtype())
    dev = factory_device(device)
    with _np.errstate(all="ignore"):
        scale = _np.float64(1.0) / _np.float64(n * d)
        values = k.astype(dt.np) * _np.asarray(scale).astype(dt.np)
    t = make(dev.xp.asarray(values), dev)
    return t.requires_grad_(True) if requires_grad else t


def fftfreq(n: int, d: float = 1.0, *, dtype=None, device=None, requires_grad: bool = False,
            layout=None) -> Tensor:
    """The sample frequencies of an ``n``-point FFT with sample spacing ``d``."""
    k = _np.arange(max(n, 0))
    return _freq(_np.where(k < (n + 1) // 2, k, k - n), n, d, dtype, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, device=None, requires_grad: bool = False,
             layout=None) -> Tensor:
    """The sample frequencies of an ``n``-point ``rfft``: ``0, 1, ..., n // 2`` over ``d * n``."""
    return _freq(_np.arange(max(n // 2 + 1, 0)), n, d, dtype, device, requires_grad)


def _shift(x, dim, sign):
    check_tensor(x, "fft_fftshift" if sign > 0 else "fft_ifftshift")
    dims = tuple(range(x.ndim)) if dim is None else \
        tuple(wrap_dim(d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim))
    return roll(x, tuple(sign * (x.shape[d] // 2) for d in dims), dims)


def fftshift(input: Tensor, dim=None) -> Tensor:
    """Move the zero-frequency bin to the centre (a roll by ``n // 2`` along each dim)."""
    return _shift(input, dim, 1)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """The inverse of ``fftshift``."""
    return _shift(input, dim, -1)


FFT = {f.__name__: f for f in (fft, ifft, rfft, irfft, hfft, ihfft, fftn, ifftn, rfftn, irfftn,
                               hfftn, ihfftn, fft2, ifft2, rfft2, irfft2, hfft2, ihfft2,
                               fftfreq, rfftfreq, fftshift, ifftshift)}
