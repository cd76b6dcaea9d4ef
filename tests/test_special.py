"""ember.special against torch.special: values (float32/float64), dtypes, gradients (float64), errors."""
import numpy as np
import pytest
import torch

import ember
import ember.special as es
from ember.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
EDGE = [0.0, -0.0, 1e-300, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 2.0, 5, -5, 12, -12, 29.9, 30.5, -30.5,
        40, -40, 800, -800, np.inf, -np.inf, np.nan]
DOMAINS = {
    "real": np.concatenate([RNG.standard_normal(40) * 4, EDGE]),
    "prob": np.concatenate([RNG.random(40), [0, 1, 1e-300, 1e-20, 1 - 1e-12, 0.5, 0.075, 0.925, 0.975,
                                             0.02, 1e-5, -0.1, 1.1, np.nan]]),
    "pos": np.concatenate([RNG.random(40) * 10 + 0.01, [1e-5, 0.5, 1.5, 2.5, 50, 170.5]]),
    "unit": np.concatenate([RNG.random(40) * 0.98 + 0.01, [0.5, 1e-3, 0.999]]),
}

UNARY = [("entr", "real"), ("ndtr", "real"), ("log_ndtr", "real"), ("ndtri", "prob"), ("erfcx", "real"),
         ("i0", "real"), ("i0e", "real"), ("i1", "real"), ("i1e", "real"), ("expit", "real"),
         ("erf", "real"), ("erfc", "real"), ("erfinv", "prob"), ("exp2", "real"), ("expm1", "real"),
         ("log1p", "pos"), ("digamma", "pos"), ("psi", "pos"), ("gammaln", "pos"), ("sinc", "real"),
         ("round", "real"), ("logit", "unit"), ("spherical_bessel_j0", "real"), ("modified_bessel_i0", "pos"),
         ("modified_bessel_i1", "pos")]


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("name,domain", UNARY)
def test_unary_values_float64(name, domain):
    x = DOMAINS[domain]
    a = getattr(es, name)(ember.tensor(x))
    b = getattr(torch.special, name)(torch.tensor(x))
    assert str(a.dtype) == str(b.dtype) == "torch.float64"
    rtol = 1e-9 if name in ("gammaln", "digamma", "psi") else 1e-12
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("name,domain", UNARY)
def test_unary_values_float32(name, domain):
    x = DOMAINS[domain].astype(np.float32)
    a = getattr(es, name)(ember.tensor(x))
    b = getattr(torch.special, name)(torch.tensor(x))
    assert str(a.dtype) == str(b.dtype) == "torch.float32"
    np.testing.assert_allclose(_np(a), _np(b), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["entr", "ndtr", "log_ndtr", "erfcx", "i0e", "i1e", "expit"])
def test_integer_input_promotes(name):
    x = np.array([-3, 0, 1, 4])
    a, b = getattr(es, name)(ember.tensor(x)), getattr(torch.special, name)(torch.tensor(x))
    assert str(a.dtype) == str(b.dtype)
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6)


GRAD = [("entr", [0.1, 0.5, 2.0, 7.0]), ("ndtr", [-40, -12, -3.3, -1, -0.2, 0.3, 1.2, 4.5, 12, 40]),
        ("log_ndtr", [-40, -12, -3.3, -1, -0.2, 0.3, 1.2, 4.5, 12, 40]),
        ("erfcx", [-3.3, -1, -0.2, 0.0, 0.3, 1.2, 4.5, 12, 40, 800]),
        ("i0e", [-40, -12, -3.3, -0.2, 0.0, 0.3, 4.5, 31, 800]), ("i1e", [-40, -12, -3.3, -0.2, 0.0, 0.3, 4.5, 31, 800]),
        ("i1", [-12, -3.3, -0.2, 0.0, 0.3, 4.5, 31]), ("ndtri", [1e-20, 0.01, 0.3, 0.5, 0.9, 0.999999]),
        ("expit", [-5, 0.0, 3.0]), ("gammaln", [0.3, 2.5, 7.0]), ("logit", [0.2, 0.7])]


@pytest.mark.parametrize("name,values", GRAD)
def test_unary_gradients_match_torch(name, values):
    x = np.array(values, dtype=np.float64)
    w = np.linspace(0.5, 1.5, x.size)
    grads = []
    for lib, ns in ((ember, es), (torch, torch.special)):
        t = lib.tensor(x, requires_grad=True)
        (getattr(ns, name)(t) * lib.tensor(w)).sum().backward()
        grads.append(_np(t.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("name", ["entr", "ndtr", "log_ndtr", "erfcx", "i0e", "i1e", "ndtri"])
def test_gradcheck_and_double_backward(name):
    x = ember.tensor([0.2, 0.45, 0.7] if name in ("ndtri", "entr") else [-2.5, -0.3, 0.4, 3.1],
                     dtype=ember.float64, requires_grad=True)
    fn = getattr(es, name)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_xlog1py_values_gradients_and_scalars():
    x = np.array([0.0, 0.0, 1.0, -2.0, 0.0, 3.0])
    y = np.array([-1.0, np.nan, 0.5, 2.0, 3.0, -0.5])
    outs = []
    for lib, ns in ((ember, es), (torch, torch.special)):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        out = ns.xlog1py(a, b)
        out[2:].sum().backward()
        outs.append([_np(out), _np(a.grad), _np(b.grad), _np(ns.xlog1py(a, 2.0)), _np(ns.xlog1py(2.0, b))])
    for u, v in zip(*outs):
        np.testing.assert_allclose(u, v, rtol=1e-12)
    a = ember.tensor([0.5, -1.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([0.3, 2.0], dtype=ember.float64, requires_grad=True)
    assert gradcheck(es.xlog1py, (a, b)) and gradgradcheck(es.xlog1py, (a, b))


def test_zeta_values_gradient_and_errors():
    s = np.linspace(1.1, 8, 13)
    q = np.concatenate([np.linspace(0.1, 20, 10), [-2.0, -2.5, 0.0]])
    a = es.zeta(ember.tensor(s), ember.tensor(q))
    b = torch.special.zeta(torch.tensor(s), torch.tensor(q))
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12)
    np.testing.assert_allclose(_np(es.zeta(ember.tensor(s), 2.0)), _np(torch.special.zeta(torch.tensor(s), 2.0)),
                               rtol=1e-12)
    np.testing.assert_allclose(_np(es.zeta(ember.tensor([1.0, 0.5]), ember.tensor([1.0, 1.0]))),
                               _np(torch.special.zeta(torch.tensor([1.0, 0.5]), torch.tensor([1.0, 1.0]))))
    grads = []
    for lib, ns in ((ember, es), (torch, torch.special)):
        qq = lib.tensor([0.5, 2.0, 7.0], dtype=lib.float64, requires_grad=True)
        ns.zeta(lib.tensor([2.0, 3.5, 4.0], dtype=lib.float64), qq).sum().backward()
        grads.append(_np(qq.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)
    msgs = []
    for lib, ns in ((ember, es), (torch, torch.special)):
        ss = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(NotImplementedError) as info:
            ns.zeta(ss, lib.tensor([1.0, 2.0], dtype=lib.float64)).sum().backward()
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma(name):
    a = np.concatenate([RNG.random(60) * 30 + 0.01, [0.1, 0.5, 1, 5, 50, 100, 200, 500, 1e-3, 7,
                                                     0, 0, 1, -1, 1, np.inf, np.inf, 2, 0.5, np.nan, 1]])
    x = np.concatenate([RNG.random(60) * 40, [0.01, 3, 1, 5, 60, 90, 210, 450, 1e-5, 70,
                                              0, 1, 0, 1, -1, 1, np.inf, np.inf, 1e-300, 1, np.nan]])
    e = getattr(es, name)(ember.tensor(a), ember.tensor(x))
    t = getattr(torch.special, name)(torch.tensor(a), torch.tensor(x))
    # torch's asymptotic series for large a is good to ~2e-9; ember's series/continued fraction to ~1e-12
    np.testing.assert_allclose(_np(e), _np(t), rtol=5e-9, atol=1e-300)
    e32 = getattr(es, name)(ember.tensor(a.astype(np.float32)), ember.tensor(np.float32(2.5)))
    t32 = getattr(torch.special, name)(torch.tensor(a.astype(np.float32)), torch.tensor(np.float32(2.5)))
    assert e32.dtype == ember.float32
    np.testing.assert_allclose(_np(e32), _np(t32), rtol=2e-5, atol=1e-6)
    grads, msgs = [], []
    for lib, ns in ((ember, es), (torch, torch.special)):
        xx = lib.tensor([0.3, 2.0, 9.0], dtype=lib.float64, requires_grad=True)
        getattr(ns, name)(lib.tensor([0.5, 3.0, 7.5], dtype=lib.float64), xx).sum().backward()
        grads.append(_np(xx.grad))
        aa = lib.tensor([2.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(NotImplementedError) as info:
            getattr(ns, name)(aa, lib.tensor([1.0], dtype=lib.float64)).sum().backward()
        msgs.append(str(info.value))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)
    assert msgs[0] == msgs[1]
    xx = ember.tensor([0.3, 2.0, 9.0], dtype=ember.float64, requires_grad=True)
    fn = getattr(es, name)
    assert gradcheck(lambda t: fn(ember.tensor([0.5, 3.0, 7.5], dtype=ember.float64), t), (xx,))


POLYS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
         "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("name", POLYS)
def test_orthogonal_polynomials(name):
    x = np.linspace(-1.5, 2.5, 17)
    for n in (-1, 0, 1, 2, 3, 7, 12):
        a, b = getattr(es, name)(ember.tensor(x), n), getattr(torch.special, name)(torch.tensor(x), n)
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12)
    nt = np.array([0, 1, 2, 3, 5, 8, 9, 3, 2, 1, 0, 4, 4, 6, 7, 2, 3])
    a = getattr(es, name)(ember.tensor(x), ember.tensor(nt))
    b = getattr(torch.special, name)(torch.tensor(x), torch.tensor(nt))
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12)
    for lib, ns in ((ember, es), (torch, torch.special)):
        assert str(getattr(ns, name)(lib.tensor(x.astype(np.float32)), 3).dtype) == "torch.float32"
        assert str(getattr(ns, name)(0.5, lib.tensor([1, 2, 3])).dtype) == "torch.float32"


def test_aliases_of_existing_ops():
    x = RNG.standard_normal((3, 4))
    for name, args in (("softmax", (1,)), ("log_softmax", (0,)), ("logsumexp", (1,)), ("xlogy", (2.0,)),
                       ("multigammaln", (2,))):
        xs = np.abs(x) + 1 if name == "multigammaln" else x
        a = getattr(es, name)(ember.tensor(xs), *args)
        b = getattr(torch.special, name)(torch.tensor(xs), *args)
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12)
    np.testing.assert_allclose(_np(es.polygamma(2, ember.tensor(np.array([0.5, 3.0])))),
                               _np(torch.special.polygamma(2, torch.tensor(np.array([0.5, 3.0])))), rtol=1e-10)


@pytest.mark.parametrize("call", [
    lambda ns, lib: ns.ndtr([1.0, 2.0]),
    lambda ns, lib: ns.entr("x"),
    lambda ns, lib: ns.log_ndtr(2.0),
    lambda ns, lib: ns.gammainc(lib.tensor([1.0]), 2.0),
    lambda ns, lib: ns.gammaincc([1.0], lib.tensor([1.0])),
    lambda ns, lib: ns.multigammaln(lib.tensor([2.0]), 0),
    lambda ns, lib: ns.polygamma(-1, lib.tensor([2.0])),
])
def test_bad_input_errors(call):
    got = []
    for lib, ns in ((ember, es), (torch, torch.special)):
        with pytest.raises(Exception) as info:
            call(ns, lib)
        got.append((type(info.value), str(info.value)))
    assert got[0] == got[1]
