"""Pointwise special functions against torch's CPU kernels, in ulps, over wide grids (float32 and float64):
lgamma, digamma, polygamma(1), erfc (its far tail), erf, erfinv, expm1, log1p, mvlgamma; their exact special
values (zeros, poles, infinities, NaN) and gradients."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck

DTYPES = [np.float32, np.float64]


def _ordered(a):
    """Float bit patterns as integers that are ordered like the floats (so ulp distance = difference)."""
    i = a.view(np.int32 if a.dtype == np.float32 else np.int64).astype(np.int64)
    m = 0x7FFFFFFF if a.dtype == np.float32 else 0x7FFFFFFFFFFFFFFF
    return np.where(i < 0, -(i & m), i)


def ulps(a, b):
    """Elementwise distance in ulps (NaN against NaN is 0, NaN against a number is inf)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype
    na, nb = np.isnan(a), np.isnan(b)
    with np.errstate(all="ignore"):
        oa, ob = _ordered(a), _ordered(b)
        far = np.abs(oa.astype(np.float64) - ob.astype(np.float64)) > 2.0 ** 60
        d = np.where(far, np.inf, np.abs(oa - ob).astype(np.float64))
    return np.where(na & nb, 0, np.where(na | nb, np.inf, d))


def grid(dt, lo=-60.0, hi=60.0):
    """A wide grid: dense linear pieces, tiny and huge magnitudes of both signs, both sides of every
    non-positive integer, the zeros of lgamma and digamma, random points and inf/NaN."""
    rng = np.random.default_rng(0)
    tiny = -44 if dt == np.float32 else -300
    big = 38 if dt == np.float32 else 307
    eps = np.logspace(-7 if dt == np.float32 else -15, -1, 12)
    parts = [np.linspace(lo, hi, 24001), np.linspace(-3, 3, 12001), rng.uniform(lo, hi, 12000),
             np.logspace(tiny, big, 3000), -np.logspace(tiny, big, 3000),
             np.array([0.0, -0.0, np.inf, -np.inf, np.nan])]
    for k in range(0, 60):
        parts += [-k + eps, -k - eps]
    for z in (1.0, 2.0, 1.4616321449683622, -0.5040830082644554, -2.457024738220800, -2.747682046941,
              -3.143580888349, -3.955294284858):
        steps = np.arange(-50, 51) * float(np.spacing(dt(z)))
        parts += [z + eps, z - eps, z + steps]
    return np.unique(np.concatenate(parts).astype(dt))


def _both(fn_e, fn_t, x):
    return fn_e(ember.tensor(x)).numpy(), fn_t(torch.from_numpy(x)).numpy()


def _check(d, tol, x, e, t):
    i = int(np.argmax(d))
    assert d.max() <= tol, f"{d.max()} ulps at x={x[i]!r}: ember {e[i]!r}, torch {t[i]!r}"


# ---- lgamma --------------------------------------------------------------------------------------
def test_lgamma_float32_ulps():
    x = grid(np.float32)
    e, t = _both(ember.lgamma, torch.lgamma, x)
    # torch's float32 (libm's lgammaf) loses relative accuracy next to the zeros on the negative axis;
    # ember is within an ulp of torch's float64 there, and within an ulp of torch's float32 elsewhere
    near_neg_zero = (x < -0.5) & (np.abs(t) < 0.1)
    keep = ~near_neg_zero
    _check(ulps(e[keep], t[keep]), 1, x[keep], e[keep], t[keep])
    t64 = torch.lgamma(torch.from_numpy(x[near_neg_zero]).double()).float().numpy()
    _check(ulps(e[near_neg_zero], t64), 1, x[near_neg_zero], e[near_neg_zero], t64)


def test_lgamma_float64_ulps():
    x = grid(np.float64)
    e, t = _both(ember.lgamma, torch.lgamma, x)
    pos = x >= -0.5
    _check(ulps(e[pos], t[pos]), 3, x[pos], e[pos], t[pos])
    # x < -0.5: the reflection log(π / |x sin(πx)|) - lgamma(-x) cancels near the negative zeros, so the
    # error there is a few ulps of the larger term, not of the result
    neg = ~pos & np.isfinite(t)
    scale = np.abs(torch.lgamma(torch.from_numpy(-x[neg])).numpy()) + np.abs(t[neg]) + 1
    err = np.abs(e[neg] - t[neg])
    assert (err <= 4 * np.finfo(np.float64).eps * scale).all()
    close = np.abs(t[neg]) >= 0.5 * scale                  # no cancellation: ulps of the result
    _check(ulps(e[neg][close], t[neg][close]), 4, x[neg][close], e[neg][close], t[neg][close])
    # -20 < x < -2 (the negative zeros) steps up to [1.5, 2.5) instead: a few ulps unless |lgamma| is small
    mid = neg & (x > -20) & (x < -2)
    err = np.abs(e[mid] - t[mid])
    assert (err <= 8 * np.finfo(np.float64).eps * np.maximum(np.abs(t[mid]), 0.1)).all()
    away = mid & (np.abs(t) >= 0.1)
    _check(ulps(e[away], t[away]), 6, x[away], e[away], t[away])


@pytest.mark.parametrize("dt", DTYPES)
def test_lgamma_special_values(dt):
    x = np.array([1.0, 2.0, 0.0, -0.0, -1.0, -2.0, -100.0, -2.0 ** 60, np.inf, -np.inf, np.nan, 0.5, 3.0,
                  1e-30, -1e-30, 1e30], dt)
    e, t = _both(ember.lgamma, torch.lgamma, x)
    assert e[0] == 0 and e[1] == 0                       # exact zeros at 1 and 2, as torch
    assert np.isinf(e[2:10]).all() and (e[2:10] > 0).all()
    assert np.isnan(e[10])
    _check(ulps(e, t), 1, x, e, t)


def test_lgamma_float32_overflow_matches_torch():
    x = np.array([3e36, 4.0371e36, 4.0371103e36, 4.0372e36, 1e37, 3.4e38], np.float32)
    e, t = _both(ember.lgamma, torch.lgamma, x)
    np.testing.assert_array_equal(e, t)


# ---- digamma and trigamma --------------------------------------------------------------------------
def test_digamma_float64_ulps():
    x = grid(np.float64)
    e, t = _both(ember.digamma, torch.digamma, x)
    _check(ulps(e, t), 1, x, e, t)


def test_digamma_float32_ulps():
    x = grid(np.float32)
    e, t = _both(ember.digamma, torch.digamma, x)
    big = np.abs(t) >= 0.5
    _check(ulps(e[big], t[big]), 4, x[big], e[big], t[big])
    # near the roots the recurrence cancels (in torch as in ember): absolute error of a few float32 eps
    fin = np.isfinite(t)
    err = np.abs(e[fin].astype(np.float64) - t[fin])
    assert (err <= 8 * np.finfo(np.float32).eps * (1 + np.abs(t[fin]))).all()
    assert ((np.isnan(e) == np.isnan(t)) & (np.isinf(e) == np.isinf(t))).all()


@pytest.mark.parametrize("dt", DTYPES)
def test_digamma_special_values(dt):
    x = np.array([0.0, -0.0, -1.0, -7.0, np.inf, -np.inf, np.nan, 1.0, 10.0, -0.5, 1e-30], dt)
    e, t = _both(ember.digamma, torch.digamma, x)
    assert e[0] == -np.inf and e[1] == np.inf and np.isnan(e[2:4]).all() and e[4] == np.inf
    assert np.isnan(e[5:7]).all()
    _check(ulps(e, t), 1, x, e, t)


@pytest.mark.parametrize("dt,tol", [(np.float32, 6), (np.float64, 2)])
def test_trigamma_ulps(dt, tol):
    x = grid(dt)
    e, t = _both(lambda v: ember.polygamma(1, v), lambda v: torch.polygamma(1, v), x)
    _check(ulps(e, t), tol, x, e, t)


@pytest.mark.parametrize("n,tol", [(2, 40), (3, 20)])
def test_polygamma_float64_moderate_range(n, tol):
    x = np.concatenate([np.linspace(-20.25, 30, 4001), np.logspace(-5, 6, 500)])
    x = x[(x > 0) | (x != np.floor(x))]
    e, t = _both(lambda v: ember.polygamma(n, v), lambda v: torch.polygamma(n, v), x)
    _check(ulps(e, t), tol, x, e, t)


@pytest.mark.parametrize("tdt", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("n", [0, 1, 2])
def test_polygamma_half_types(tdt, n):
    xt = torch.linspace(-4.75, 6, 300, dtype=tdt)
    a = torch.polygamma(n, xt)
    b = ember.polygamma(n, ember.tensor(xt.float().numpy()).to(getattr(ember, str(tdt).split(".")[1])))
    assert str(b.dtype) == str(a.dtype)
    np.testing.assert_allclose(b.float().numpy(), a.float().numpy(), rtol=1e-2, atol=1e-2)


# ---- error functions --------------------------------------------------------------------------------
@pytest.mark.parametrize("dt,tol", [(np.float32, 1), (np.float64, 3)])
def test_erfc_ulps(dt, tol):
    x = np.unique(np.concatenate([grid(dt, -10, 30), np.linspace(5, 27.5, 20001).astype(dt)]))
    e, t = _both(ember.erfc, torch.erfc, x)
    _check(ulps(e, t), tol, x, e, t)


@pytest.mark.parametrize("dt,tol", [(np.float32, 1), (np.float64, 1)])
def test_erf_ulps(dt, tol):
    x = grid(dt, -8, 8)
    e, t = _both(ember.erf, torch.erf, x)
    _check(ulps(e, t), tol, x, e, t)


@pytest.mark.parametrize("dt,tol", [(np.float32, 5), (np.float64, 6)])
def test_erfinv_ulps(dt, tol):
    x = np.concatenate([np.linspace(-1, 1, 40001), 1 - np.logspace(-16, -1, 300), [-1.0, 1.0, 1.5, np.nan]])
    x = np.unique(x.astype(dt))
    e, t = _both(ember.erfinv, torch.erfinv, x)
    _check(ulps(e, t), tol, x, e, t)


@pytest.mark.parametrize("name", ["expm1", "log1p"])
@pytest.mark.parametrize("dt", DTYPES)
def test_expm1_log1p_ulps(name, dt):
    x = grid(dt, -40, 40)
    if name == "log1p":
        x = np.concatenate([x, -1 + np.logspace(-7 if dt == np.float32 else -15, 0, 300).astype(dt)])
    e, t = _both(getattr(ember, name), getattr(torch, name), x)
    _check(ulps(e, t), 1, x, e, t)


@pytest.mark.parametrize("dt,tol", [(np.float32, 2), (np.float64, 4)])
def test_mvlgamma_ulps(dt, tol):
    x = np.concatenate([np.linspace(1.0001, 60, 20001), np.logspace(0.01, 30, 300)]).astype(dt)
    e, t = _both(lambda v: ember.mvlgamma(v, 3), lambda v: torch.mvlgamma(v, 3), x)
    _check(ulps(e, t), tol, x, e, t)


# ---- gradients ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfc", "erf"])
def test_gradients_match_torch(name):
    x = np.array([-3.7, -1.2, -0.4, 1e-3, 0.3, 1.0, 1.4616, 2.0, 2.5, 7.3, 40.0, 6.0])
    a = ember.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    getattr(ember, name)(a).sum().backward()
    getattr(torch, name)(b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_lgamma_digamma_gradcheck():
    x = ember.tensor([-2.6, -0.3, 0.2, 1.0, 1.5, 2.0, 3.3, 9.5, 20.0], dtype=ember.float64, requires_grad=True)
    assert gradcheck(ember.lgamma, (x,))
    assert gradcheck(ember.digamma, (x,))
    assert gradcheck(lambda v: ember.polygamma(1, v), (x,))
