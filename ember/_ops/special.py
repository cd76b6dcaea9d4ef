"""Special functions of ``ember.special`` that the other families do not already hold.

No SciPy: the normal distribution functions reuse the error-function kernels of ``pointwise``
(FreeBSD's rational approximations, Wichura's AS241); the Hurwitz zeta function is polygamma's
kernel; the exponentially scaled Bessel functions use their power series below |x| = 30 and
Hankel's asymptotic expansion above.  Each backward is written in Tensor ops.
"""
from __future__ import annotations

import math as _math

import numpy as _np

from ._registry import defop
from ._util import check_tensor, in_float32
from .pointwise import (
    _EI_A,
    _EI_B,
    _EI_C,
    _EI_D,
    _EI_E,
    _EI_F,
    _RA,
    _RB,
    _SA,
    _SB,
    _erf,
    _erfc,
    _horner,
    _hurwitz_zeta,
    _i1,
    _lgamma,
    exp,
    lgamma,
    log,
    sign,
    where,
)

PUBLIC = {}     # nothing in the top-level namespace: these live in ``ember.special``

_SQRT2 = _math.sqrt(2.0)
_SQRT_2PI = _math.sqrt(2 * _math.pi)


def _special(name, fwd, grad, save="x"):
    """A one-input op ``special_<name>`` from ``fwd(xp, x)`` on arrays and ``grad(g, x, y)``."""
    @defop(f"special_{name}", promote="float")
    @in_float32
    def op(ctx, x):
        y = fwd(ctx.xp, x)
        ctx.save_for_backward(x if "x" in save else None, y if "y" in save else None)
        return y

    @op.backward
    def _(ctx, g):
        x, y = ctx.saved_tensors
        return grad(g, x, y)

    def public(input):
        return op(check_tensor(input, f"special_{name}"))
    public.__name__ = public.__qualname__ = name
    public.__doc__ = f"torch.special.{name}, elementwise."
    public._op = op
    return public


# ---- entropy and the normal distribution -----------------------------------------------------------
def _entr(xp, x):
    with _quiet():
        out = xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1)), xp.where(x == 0, 0, -xp.inf))
    return xp.where(xp.isnan(x), x, out).astype(x.dtype, copy=False)


def _quiet():
    """Silence NumPy's warnings for the inf/NaN a special function returns on purpose."""
    return _np.errstate(all="ignore")


def _erfcx(xp, x):
    """``exp(x²) erfc(x)``, computed without the exp for x >= 1/0.35 so that it never underflows."""
    a = xp.abs(x)
    w = 1 / xp.maximum(a * a, 1e-300)
    r = xp.where(a < 1 / 0.35, _horner(w, _RA), _horner(w, _RB)) / xp.where(a < 1 / 0.35, _horner(w, _SA),
                                                                            _horner(w, _SB))
    with _quiet():
        far = xp.exp(-0.5625 + r) / a
        near = xp.exp(x * x) * _erfc(xp, x)
        neg = 2 * xp.exp(x * x) - far            # x <= -1/0.35: erfcx(x) = 2 exp(x²) - erfcx(-x)
    out = xp.where(a < 1 / 0.35, near, xp.where(x > 0, far, neg))
    return out.astype(x.dtype, copy=False)


def _log_ndtr(xp, x):
    """log Φ(x): from erfcx in the lower tail (no underflow), from log1p(-Φ(-x)) elsewhere."""
    with _quiet():
        low = xp.log(_erfcx(xp, -x / _SQRT2) / 2) - x * x / 2
        high = xp.log1p(-_erfc(xp, x / _SQRT2) / 2)
    return xp.where(x < -1, low, high).astype(x.dtype, copy=False)


def _ndtri(xp, p):
    """Φ⁻¹(p) = √2 erfinv(2p - 1), with the tail variable taken from min(p, 1 - p) directly."""
    z = 2 * p - 1
    r = 0.180625 - 0.25 * z * z
    central = z * _horner(r, _EI_A) / _horner(r, _EI_B)
    q = xp.minimum(p, 1 - p)
    with _quiet():
        t = xp.sqrt(-xp.log(xp.where(q > 0, q, 1.0)))
    u, v = t - 1.6, t - 5.0
    tail = xp.where(t <= 5, _horner(u, _EI_C) / _horner(u, _EI_D), _horner(v, _EI_E) / _horner(v, _EI_F))
    tail = xp.where(q == 0, xp.inf, tail)
    out = _SQRT2 * xp.where(xp.abs(z) <= 0.85, central, xp.copysign(tail, z))
    return xp.where((p >= 0) & (p <= 1), out, xp.nan).astype(p.dtype, copy=False)


entr = _special("entr", _entr, lambda g, x, y: -g * (log(x) + 1))
# torch computes Φ(x) as (1 + erf(x / √2)) / 2 (so it reaches 0 below x ≈ -8.3); ember matches it
ndtr = _special("ndtr", lambda xp, x: ((1 + _erf(xp, x / _SQRT2)) / 2).astype(x.dtype, copy=False),
                lambda g, x, y: g * exp(-x * x / 2) / _SQRT_2PI)
log_ndtr = _special("log_ndtr", _log_ndtr, lambda g, x, y: g * exp(-x * x / 2 - y) / _SQRT_2PI, save="xy")
ndtri = _special("ndtri", _ndtri, lambda g, x, y: g * _SQRT_2PI * exp(y * y / 2), save="y")
erfcx = _special("erfcx", _erfcx, lambda g, x, y: g * (2 * x * y - 2 / _math.sqrt(_math.pi)), save="xy")


# ---- exponentially scaled modified Bessel functions -----------------------------------------------------
def _scaled_asym(xp, ax, nu):
    """exp(-x) I_nu(x) for large x (Hankel's expansion, x >= 30)."""
    big = xp.maximum(ax, 30.0)
    mu = 4 * nu * nu
    tail, t = 1.0, 1.0
    for k in range(1, 12):
        t = -t * (mu - (2 * k - 1) ** 2) / (k * 8 * big)
        tail = tail + t
    return tail / xp.sqrt(2 * _math.pi * big)


def _i0e(xp, x):
    ax = xp.abs(x)
    small = xp.i0(xp.minimum(ax, 30.0)) * xp.exp(-xp.minimum(ax, 30.0))
    return xp.where(ax <= 30, small, _scaled_asym(xp, ax, 0)).astype(x.dtype, copy=False)


def _i1e(xp, x):
    ax = xp.abs(x)
    small = _i1(xp, xp.minimum(ax, 30.0)) * xp.exp(-xp.minimum(ax, 30.0))
    return (xp.sign(x) * xp.where(ax <= 30, small, _scaled_asym(xp, ax, 1))).astype(x.dtype, copy=False)


def _i1e_grad(g, x, y):
    zero = x == 0
    xs = where(zero, 1.0, x)
    return g * where(zero, 0.5, i0e(x) - y * (sign(x) + 1 / xs))


i0e = _special("i0e", _i0e, lambda g, x, y: g * (i1e(x) - sign(x) * y), save="xy")
i1e = _special("i1e", _i1e, _i1e_grad, save="xy")


# ---- binary: xlog1py, Hurwitz zeta ---------------------------------------------------------------------
@defop("special_xlog1py", nin=2, promote="float", node_name="SpecialXlog1PyBackward0")
def xlog1py(ctx, x, y):
    xp = ctx.xp
    ctx.save_for_backward(x, y)
    with _quiet():
        return xp.where((x == 0) & ~xp.isnan(y), 0, x * xp.log1p(y))


@xlog1py.backward
def _(ctx, g):
    x, y = ctx.saved_tensors
    n = ctx.needs_input_grad
    gx = where((x == 0) & (y <= -1), 0.0, xlog1py(g, y)) if n[0] else None
    return gx, (g * x / (y + 1) if n[1] else None)


@defop("special_zeta", nin=2, promote="float")
def zeta(ctx, s, q):
    ctx.save_for_backward(s, q)
    return _hurwitz_zeta(ctx.xp, s, q).astype((s if hasattr(s, "dtype") else q).dtype, copy=False)


@zeta.backward
def _(ctx, g):
    s, q = ctx.saved_tensors
    if ctx.needs_input_grad[0]:
        raise NotImplementedError("the derivative for 'zeta' is not implemented.")
    return None, g * -s * zeta(s + 1, q)



# ---- regularized incomplete gamma functions ------------------------------------------------------------
def _igamma_pair(xp, a, x):
    """(P(a, x), Q(a, x)): the series for x < a + 1, Legendre's continued fraction (modified Lentz)
    above it; each computes the smaller of the two, the other is one minus it."""
    a, x = xp.broadcast_arrays(xp.asarray(a, dtype=xp.float64), xp.asarray(x, dtype=xp.float64))
    with _quiet():
        ok = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
        aa, xx = xp.where(ok, a, 1.0), xp.where(ok, x, 1.0)
        front = xp.exp(aa * xp.log(xx) - xx - _lgamma(xp, aa))
        use_series = xx < aa + 1
        term = 1 / aa
        total = term
        den = aa
        for _ in range(2000):                       # Σ x^n / (a (a+1) ... (a+n))
            den = den + 1
            term = term * xx / den
            total = total + term
            if not (xp.abs(term) > 1e-17 * xp.abs(total))[use_series].any():
                break
        p_small = front * total
        tiny = 1e-300
        b = xx + 1 - aa
        c = xp.full_like(b, 1 / tiny)
        d = 1 / xp.where(b == 0, tiny, b)
        h = d
        for i in range(1, 2000):
            an = -i * (i - aa)
            b = b + 2
            d = an * d + b
            d = 1 / xp.where(xp.abs(d) < tiny, tiny, d)
            c = b + an / c
            c = xp.where(xp.abs(c) < tiny, tiny, c)
            delta = d * c
            h = h * delta
            if not (xp.abs(delta - 1) > 1e-16)[~use_series].any():
                break
        q_small = front * h
        p = xp.where(use_series, p_small, 1 - q_small)
        q = xp.where(use_series, 1 - p_small, q_small)
    nan = xp.isnan(a) | xp.isnan(x) | (a < 0) | (x < 0) | ((a == 0) & (x == 0)) | (xp.isinf(a) & xp.isinf(x))
    one_p = ((a == 0) & (x > 0)) | (xp.isinf(x) & xp.isfinite(a))
    zero_p = ((x == 0) & (a > 0)) | (xp.isinf(a) & xp.isfinite(x))
    p = xp.where(one_p, 1.0, xp.where(zero_p, 0.0, p))
    q = xp.where(one_p, 0.0, xp.where(zero_p, 1.0, q))
    return xp.where(nan, xp.nan, p), xp.where(nan, xp.nan, q)


def _igamma_op(name, which, sign):
    @defop(f"special_{name}", nin=2, promote="float", node_name=f"{'Igamma' if which == 0 else 'Igammac'}Backward0")
    def op(ctx, a, x):
        ctx.save_for_backward(a, x)
        dt = (a if hasattr(a, "dtype") else x).dtype
        return _igamma_pair(ctx.xp, a, x)[which].astype(dt, copy=False)

    @op.backward
    def _(ctx, g):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{'igamma' if which == 0 else 'igammac'}: input' "
                                      "is not implemented.")
        return None, sign * g * exp((a - 1) * log(x) - x - lgamma(a))

    def public(input, other):
        return op(check_tensor(input, f"special_{name}"), check_tensor(other, f"special_{name}", "other", 2))
    public.__name__ = public.__qualname__ = name
    public.__doc__ = f"torch.special.{name}: the regularized {'lower' if which == 0 else 'upper'} incomplete gamma."
    public._op = op
    return public


gammainc = _igamma_op("gammainc", 0, 1)
gammaincc = _igamma_op("gammaincc", 1, -1)

# ---- functions torch gives no gradient: Bessel aliases, spherical j0, orthogonal polynomials ------------
@defop("special_spherical_bessel_j0", promote="float", differentiable=False)
@in_float32
def spherical_bessel_j0(ctx, x):
    xp = ctx.xp
    small = xp.abs(x) < 0.5
    xs = xp.where(small, 1.0, x)
    z = x * x                             # Taylor series of sin(x)/x near 0, to x^12
    series = 1 - z / 6 * (1 - z / 20 * (1 - z / 42 * (1 - z / 72 * (1 - z / 110 * (1 - z / 156)))))
    with _quiet():
        far = xp.where(xp.isinf(x), 0.0, xp.sin(xs) / xs)
    return xp.where(small, series, far).astype(x.dtype, copy=False)


def _three_term(first, step):
    """P_n from P_0 = 1, P_1 = first(x) and P_{k+1} = step(k, x, P_k, P_{k-1})."""
    def poly(xp, x, n):
        out = xp.where(n == 0, 1.0, xp.where(n == 1, first(x), 0.0))
        prev, cur = xp.ones_like(x), first(x)
        for k in range(1, int(n.max()) if n.size else 0):
            prev, cur = cur, step(k, x, cur, prev)
            out = xp.where(n == k + 1, cur, out)
        return out
    return poly


def _cheb(first):
    return _three_term(first, lambda k, x, c, p: 2 * x * c - p)


_POLYS = {
    "chebyshev_polynomial_t": _cheb(lambda x: x),
    "chebyshev_polynomial_u": _cheb(lambda x: 2 * x),
    "chebyshev_polynomial_v": _cheb(lambda x: 2 * x - 1),
    "chebyshev_polynomial_w": _cheb(lambda x: 2 * x + 1),
    "hermite_polynomial_h": _three_term(lambda x: 2 * x, lambda k, x, c, p: 2 * x * c - 2 * k * p),
    "hermite_polynomial_he": _three_term(lambda x: x, lambda k, x, c, p: x * c - k * p),
    "laguerre_polynomial_l": _three_term(lambda x: 1 - x, lambda k, x, c, p: ((2 * k + 1 - x) * c - k * p) / (k + 1)),
    "legendre_polynomial_p": _three_term(lambda x: x, lambda k, x, c, p: ((2 * k + 1) * x * c - k * p) / (k + 1)),
}


def _poly_op(name, poly, shifted=False):
    @defop(f"special_{'shifted_' if shifted else ''}{name}", nin=2, promote="float", differentiable=False)
    def op(ctx, x, n):
        xp = ctx.xp
        dt = (x if hasattr(x, "dtype") else n).dtype
        x, n = xp.broadcast_arrays(xp.asarray(x), xp.asarray(n))
        x = x.astype(xp.float64)
        out = poly(xp, 2 * x - 1 if shifted else x, n.astype(xp.int64))
        return out.astype(dt, copy=False)
    return op


for _name, _poly in _POLYS.items():
    globals()[_name] = _poly_op(_name, _poly)
    if _name.startswith("chebyshev"):
        globals()["shifted_" + _name] = _poly_op(_name, _poly, shifted=True)
