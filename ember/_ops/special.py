"""Special functions of ``ember.special`` that the other families do not already hold.

No SciPy: the normal distribution functions reuse the error-function kernels of ``pointwise``
(FreeBSD's rational approximations, Wichura's AS241); the Hurwitz zeta function is polygamma's
kernel; the Bessel and Airy functions are Cephes' approximations in ``_bessel``, as torch's.
Each backward is written in Tensor ops; like torch, the Bessel and Airy functions other than
i0e/i1e have none (their results do not require grad).
"""
from __future__ import annotations

import math as _math

import numpy as _np

from .._tensor import Tensor
from . import _bessel
from ._out import write_out
from ._registry import _SHORT, defop, variant
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
    _erfc,
    _horner,
    _hurwitz_zeta,
    _lgamma,
    _special_i1,
    add,
    exp,
    lgamma,
    log,
    mul,
    sign,
    where,
)
from .pointwise import erf as _erf_op
from .pointwise import i0 as _i0_op

PUBLIC = {}     # nothing in the top-level namespace: these live in ``ember.special``

_SQRT2 = _math.sqrt(2.0)
_SQRT1_2 = _math.sqrt(0.5)     # M_SQRT1_2
_SQRT_2PI = _math.sqrt(2 * _math.pi)


def _public(op, name, argname="input", doc=None):
    """``torch.special.<name>(<argname>, *, out=None)``: ``op`` on a Tensor (not a number or list)."""
    def public(input, *, out=None):
        x = check_tensor(input, f"special_{name}", argname)
        return op(x) if out is None else op(x, out=out)
    public.__name__ = public.__qualname__ = name
    public.__doc__ = doc or f"torch.special.{name}, elementwise."
    public._op = op
    return public


def _check_dtype(dt, kernel, half):
    """torch's CPU kernel ``kernel`` takes real floating dtypes only, the half types if ``half``."""
    if dt.kind == "c" or (not half and dt.itemsize == 2):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_SHORT[dt.name]}'")


def _special(name, fwd, grad, save="x", node_name=None, half=True, kernel=None):
    """A one-input op ``special_<name>`` from ``fwd(xp, x)`` on arrays and ``grad(g, x, y)``.

    float16/bfloat16 run in float32 where torch takes them (``half``); ``kernel`` names torch's CPU
    kernel in its dtype errors (default ``<name>_cpu``).
    """
    @in_float32
    def forward(ctx, x):
        y = fwd(ctx.xp, x)
        ctx.save_for_backward(x if "x" in save else None, y if "y" in save else None)
        return y

    @defop(f"special_{name}", promote="float", node_name=node_name)
    def op(ctx, x):
        _check_dtype(x.dtype, kernel or f"{name}_cpu", half)
        return forward(ctx, x)

    @op.backward
    def _(ctx, g):
        x, y = ctx.saved_tensors
        return grad(g, x, y)

    return _public(op, name)


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


def ndtr(input, *, out=None):
    """torch.special.ndtr: Φ(x), the standard normal CDF, elementwise.

    torch composes it from other ops, ``(1 + erf(x * √½)) * 0.5`` (so it reaches 0 below x ≈ -8.3),
    and so does ember: the same rounding steps, and the same autograd graph (``MulBackward1`` on top).
    """
    x = check_tensor(input, "special_ndtr")
    _check_dtype(x._data.dtype, "erf_vml_cpu", True)
    y = _scalar_node(_scalar_node(1 + _erf_op(_scalar_node(x * _SQRT1_2, _MulScalar)), _AddScalar) * 0.5,
                     _MulScalar)
    return y if out is None else write_out("special_ndtr", out, y)


# the nodes of torch's Tensor-Scalar overloads, which its composite functions record
_MulScalar = variant(mul, "MulBackward1")
_AddScalar = variant(add, "AddBackward1")


def _scalar_node(t, cls):
    if t.grad_fn is not None:
        t.grad_fn.__class__ = cls
    return t


log_ndtr = _special("log_ndtr", _log_ndtr, lambda g, x, y: g * exp(-x * x / 2 - y) / _SQRT_2PI, save="xy",
                    half=False)
ndtri = _special("ndtri", _ndtri, lambda g, x, y: g * _SQRT_2PI * exp(y * y / 2), save="y", half=False)
erfcx = _special("erfcx", _erfcx, lambda g, x, y: g * (2 * x * y - 2 / _math.sqrt(_math.pi)), save="xy",
                 half=False)


# ---- modified Bessel functions of the first kind: torch.i0's family, which has gradients --------------
def _i1e_grad(g, x, y):
    zero = x == 0
    xs = where(zero, 1.0, x)
    return g * where(zero, 0.5, i0e(x) - y * (sign(x) + 1 / xs))


i0 = _public(_i0_op, "i0")
i1 = _public(_special_i1, "i1")
i0e = _special("i0e", _bessel.i0e, lambda g, x, y: g * (i1e(x) - sign(x) * y), save="xy",
               node_name="SpecialI0EBackward0")
i1e = _special("i1e", _bessel.i1e, _i1e_grad, save="xy", node_name="SpecialI1EBackward0")


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

# ---- functions torch gives no gradient: Bessel and Airy functions, orthogonal polynomials ---------------
def _no_grad_op(name, kernel, argname="input", doc=None):
    """``special_<name>`` from ``kernel(xp, x)``: float32/float64 only (torch's CPU kernels refuse the
    half types and complex), integers and bools computed in the default float dtype."""
    @defop(f"special_{name}", promote="float", differentiable=False)
    def op(ctx, x):
        _check_dtype(x.dtype, f"{name}_cpu", half=False)
        return kernel(ctx.xp, x).astype(x.dtype, copy=False)
    return _public(op, name, argname, doc)


airy_ai = _no_grad_op("airy_ai", _bessel.airy_ai, "x", "Airy function Ai(x).")
bessel_j0 = _no_grad_op("bessel_j0", _bessel.j0, doc="Bessel function of the first kind of order 0.")
bessel_j1 = _no_grad_op("bessel_j1", _bessel.j1, doc="Bessel function of the first kind of order 1.")
bessel_y0 = _no_grad_op("bessel_y0", _bessel.y0, doc="Bessel function of the second kind of order 0.")
bessel_y1 = _no_grad_op("bessel_y1", _bessel.y1, doc="Bessel function of the second kind of order 1.")
modified_bessel_i0 = _no_grad_op("modified_bessel_i0", _bessel.i0,
                                 doc="Modified Bessel function of the first kind of order 0.")
modified_bessel_i1 = _no_grad_op("modified_bessel_i1", _bessel.modified_i1,
                                 doc="Modified Bessel function of the first kind of order 1.")
modified_bessel_k0 = _no_grad_op("modified_bessel_k0", _bessel.k0,
                                 doc="Modified Bessel function of the second kind of order 0.")
modified_bessel_k1 = _no_grad_op("modified_bessel_k1", _bessel.k1,
                                 doc="Modified Bessel function of the second kind of order 1.")
scaled_modified_bessel_k0 = _no_grad_op("scaled_modified_bessel_k0", _bessel.k0e, "x",
                                        "exp(x) K0(x): the scaled modified Bessel function of order 0.")
scaled_modified_bessel_k1 = _no_grad_op("scaled_modified_bessel_k1", _bessel.k1e, "x",
                                        "exp(x) K1(x): the scaled modified Bessel function of order 1.")
spherical_bessel_j0 = _no_grad_op("spherical_bessel_j0", _bessel.spherical_j0, "x",
                                  "Spherical Bessel function of the first kind of order 0: sin(x) / x.")


# torch's kernels run in the input's dtype (so float32 overflows to inf, then NaN, where float64 would
# not), take a closed form at the ends of [-1, 1] and, for large degrees inside it, a trigonometric
# form; the three-term recurrence everywhere else.
def _recurrence(xp, x, n, first, step, use):
    """P_n(x) from P_0 = 1, P_1 = ``first`` and P_{k+1} = step(k, P_k, P_{k-1}), where ``use``."""
    out = xp.where(n == 0, xp.ones_like(x), first)
    need = use & (n >= 2)
    prev, cur = xp.ones_like(x), first
    for k in range(1, int(n[need].max()) if need.any() else 1):
        prev, cur = cur, step(k, cur, prev)
        out = xp.where(n == k + 1, cur, out)
    return out


# the degree above which torch takes the trigonometric form inside (-1, 1): (plain, shifted)
_TRIG_FROM = {"t": (6, 6), "u": (8, 6), "v": (8, 6), "w": (8, 4)}


def _chebyshev(kind, shifted):
    """Chebyshev polynomials of the first to fourth kind, of x or (shifted) of 2x - 1."""
    def poly(xp, x, n):
        y = x + x - 1 if shifted else x
        nt = n.astype(x.dtype)
        odd = n % 2 == 1
        up = x == 1 if shifted else y > 0
        edge = (x == 1) | (x == 0) if shifted else xp.abs(y) == 1
        if kind == "t":
            at_edge = xp.where(up | ~odd, 1, -1)
        elif kind == "u":
            at_edge = xp.where(up | ~odd, nt + 1, -(nt + 1))
        elif kind == "v":
            at_edge = xp.where(up, 1, xp.where(odd, -(2 * nt + 1), 2 * nt + 1))
        else:
            at_edge = xp.where(up, 2 * nt + 1, xp.where(odd, -1, 1))
        trig = (n > _TRIG_FROM[kind][shifted]) & (xp.abs(y) < 1)
        th = xp.arccos(xp.where(trig, y, 0))
        if kind == "t":
            closed = xp.cos(nt * th)
        elif kind == "u":
            s = xp.sin(th)
            closed = xp.where(s != 0, xp.sin((nt + 1) * th) / s, (nt + 1) * xp.cos((nt + 1) * th) / y)
        elif kind == "v":
            closed = xp.where(xp.sin(th / 2) != 1, xp.cos((nt + 0.5) * th) / xp.cos(th / 2),
                              xp.where(odd, -(2 * nt + 1), 2 * nt + 1))
        else:
            fallback = xp.where(odd, -1, 1) if shifted else xp.where(x > 0, 2 * nt + 1, xp.where(odd, -1, 1))
            closed = xp.where(xp.cos(th / 2) != 1, xp.sin((nt + 0.5) * th) / xp.sin(th / 2), fallback)
        first = {"t": y, "u": y + y, "v": y + y - 1, "w": y + y + 1}[kind]
        out = _recurrence(xp, x, n, first, lambda k, q, p: (y + y) * q - p, ~edge & ~trig)
        return xp.where(edge, at_edge, xp.where(trig, closed, out))
    return poly


def _hermite(prob):
    """Hermite polynomials: physicists' H_n, or probabilists' He_n (``prob``); NaN past torch's limit."""
    def poly(xp, x, n):
        limit = 128 if x.dtype.itemsize == 4 else 512
        if prob:
            out = _recurrence(xp, x, n, x, lambda k, q, p: x * q - k * p, n <= limit)
        else:
            out = _recurrence(xp, x, n, x + x, lambda k, q, p: (x + x) * q - (2 * k) * p, n <= limit)
        return xp.where(n > limit, xp.nan, out)
    return poly


def _laguerre(xp, x, n):
    out = _recurrence(xp, x, n, 1 - x, lambda k, q, p: ((k + k + (1 - x)) * q - k * p) / (k + 1), x != 0)
    return xp.where(x == 0, 1, out)


def _legendre(xp, x, n):
    edge = xp.abs(x) == 1
    out = _recurrence(xp, x, n, x, lambda k, q, p: ((2 * k + 1) * x * q - k * p) / (k + 1), ~edge)
    return xp.where(edge, xp.where((x > 0) | (n % 2 == 0), 1, -1), out)


def _degree(xp, n):
    """torch's ``static_cast<int64_t>(n)``, with NaN, ±inf and out-of-range degrees negative (→ 0)."""
    if n.dtype.kind != "f":
        return n.astype(xp.int64)
    ok = xp.isfinite(n) & (xp.abs(n) < 2.0 ** 63)
    return xp.trunc(xp.where(ok, n, -1)).astype(xp.int64)


def _poly_op(name, poly):
    @defop(f"special_{name}", nin=2, promote="float", differentiable=False)
    def op(ctx, x, n):
        xp = ctx.xp
        dt = (x if hasattr(x, "dtype") else n).dtype
        _check_dtype(dt, f"{name}_cpu", half=False)
        x, n = xp.broadcast_arrays(xp.asarray(x, dtype=dt), xp.asarray(n))
        n = _degree(xp, n)
        return xp.where(n < 0, 0, poly(xp, x, n)).astype(dt, copy=False)

    def public(input, n, *, out=None):
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(
                f"special_{name}() received an invalid combination of arguments - got ({type(input).__name__}, "
                f"{type(n).__name__}), but expected one of:\n * (Tensor x, Tensor n, *, Tensor out = None)\n"
                " * (Number x, Tensor n, *, Tensor out = None)\n * (Tensor x, Number n, *, Tensor out = None)\n")
        return op(input, n) if out is None else op(input, n, out=out)
    public.__name__ = public.__qualname__ = name
    public.__doc__ = f"torch.special.{name}(input, n): the polynomial of degree n at input, elementwise."
    public._op = op
    return public


_POLYS = {"chebyshev_polynomial_" + k: _chebyshev(k, False) for k in "tuvw"}
_POLYS.update({"shifted_chebyshev_polynomial_" + k: _chebyshev(k, True) for k in "tuvw"})
_POLYS.update(hermite_polynomial_h=_hermite(False), hermite_polynomial_he=_hermite(True),
              laguerre_polynomial_l=_laguerre, legendre_polynomial_p=_legendre)
for _name, _poly in _POLYS.items():
    globals()[_name] = _poly_op(_name, _poly)
