"""ember.special's Bessel and Airy functions (and torch.i0's family) against torch.special.

Values are compared on wide grids (negative, near 0, the kernels' branch points, large, ±inf, NaN)
in float64 and float32.  Tolerances: 16 ulp relative plus 4 ulp of 1 absolute (the absolute part
covers the zeros of J and Y, where both libraries' last-bit differences in log/cos are amplified).
Largest differences seen against torch 2.13: 8 ulp (float64) and 13 ulp (float32) away from zeros.
"""
import numpy as np
import pytest
import torch

import ember
import ember.special as es
from ember.autograd import gradcheck, gradgradcheck

NO_GRAD = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0"]
I_FAMILY = ["i0", "i0e", "i1", "i1e"]
ALL = NO_GRAD + I_FAMILY


def _grid():
    rng = np.random.default_rng(7)
    branch = [1e-5, 0.5, 2.0, 2.09, 5.0, 8.0, 8.3203353, 26.0, 30.0, 88.0, 103.892, 104.0, 700.0, 713.0, 720.0]
    pos = np.concatenate([np.logspace(-40, 4, 300), rng.uniform(0, 12, 300), rng.uniform(12, 150, 100),
                          np.nextafter(branch, 0), branch, np.nextafter(branch, np.inf),
                          [1e-300, 5e-324, 1e6, 1e10, 1e20, 1e300, np.inf]])
    return np.concatenate([pos, -pos, [0.0, -0.0, np.nan]])


GRID = _grid()
TOL = {np.float64: (16 * 2.0 ** -52, 4 * 2.0 ** -52), np.float32: (16 * 2.0 ** -23, 4 * 2.0 ** -23)}


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ALL)
def test_values_match_torch(name, dtype):
    x = GRID.astype(dtype)
    a = getattr(es, name)(ember.tensor(x))
    b = getattr(torch.special, name)(torch.tensor(x))
    assert str(a.dtype) == str(b.dtype)
    a, b = _np(a), _np(b)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.array_equal(np.isposinf(a), np.isposinf(b)) and np.array_equal(np.isneginf(a), np.isneginf(b))
    assert np.array_equal(np.signbit(a[a == 0]), np.signbit(b[a == 0]))     # signed zeros, e.g. j1(-0.0)
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ALL)
def test_shapes_and_integer_inputs(name):
    fn_e, fn_t = getattr(es, name), getattr(torch.special, name)
    for data in ([[3, -1, 0], [1, 2, 7]], [True, False], 4):
        a, b = fn_e(ember.tensor(data)), fn_t(torch.tensor(data))
        assert str(a.dtype) == str(b.dtype) == "torch.float32" and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(_np(a), _np(b), rtol=2e-6, atol=1e-7)
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        a, b = fn_e(ember.tensor([1, 5, 9])), fn_t(torch.tensor([1, 5, 9]))
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)
    assert str(a.dtype) == str(b.dtype) == "torch.float64"
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-14)


def _outcome(fn, *args, **kw):
    try:
        r = fn(*args, **kw)
    except Exception as e:       # noqa: BLE001  (the error type and text are what is compared)
        return type(e).__name__, str(e)
    return str(r.dtype), r.detach().float().numpy().round(2).tolist()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "complex64", "complex128"])
@pytest.mark.parametrize("name", ALL)
def test_half_and_complex_dtypes(name, dtype):
    """The i0 family runs float16/bfloat16 in float32 as torch; the others refuse them, as torch."""
    got = [_outcome(getattr(ns, name), lib.tensor([0.5, 2.0, 9.0]).to(getattr(lib, dtype)))
           for lib, ns in ((ember, es), (torch, torch.special))]
    assert got[0] == got[1]


@pytest.mark.parametrize("name", ALL)
def test_out_argument_and_bad_input(name):
    x = np.array([0.25, 1.5, 6.0])
    outs = []
    for lib, ns in ((ember, es), (torch, torch.special)):
        fn = getattr(ns, name)
        out = lib.empty(3, dtype=lib.float64)
        r = fn(lib.tensor(x, dtype=lib.float32), out=out)
        assert r is out
        outs.append(_np(out))
        outs.append(_outcome(fn, lib.tensor(x), out=lib.empty(3, dtype=lib.int64)))
        outs.append(_outcome(fn, 2.0))
        outs.append(_outcome(fn, [1.0, 2.0]))
    np.testing.assert_allclose(outs[0], outs[4], rtol=2e-6)
    assert outs[1:4] == outs[5:8]


@pytest.mark.parametrize("name", NO_GRAD)
def test_no_gradient_as_torch(name):
    """torch records no graph for these: the result does not require grad and backward fails."""
    got = []
    for lib, ns in ((ember, es), (torch, torch.special)):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = getattr(ns, name)(x)
        assert not y.requires_grad and y.grad_fn is None
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        got.append(str(info.value))
    assert got[0] == got[1]


def test_tensor_methods_as_torch():
    for name in ALL + ["i0_"]:
        assert hasattr(ember.Tensor, name) == hasattr(torch.Tensor, name), name
    x = np.array([-3.0, 0.2, 9.5])
    np.testing.assert_allclose(_np(ember.tensor(x).i0()), _np(torch.tensor(x).i0()), rtol=1e-14)
    a, b = ember.tensor(x), torch.tensor(x)
    a.i0_(), b.i0_()
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-14)
    np.testing.assert_allclose(_np(ember.i0(ember.tensor(x))), _np(torch.i0(torch.tensor(x))), rtol=1e-14)


@pytest.mark.parametrize("name", I_FAMILY)
def test_i_family_gradients(name):
    x = np.array([-40.0, -9.0, -8.0, -3.3, -0.2, 0.0, 0.3, 4.5, 8.0, 8.5, 31.0])
    grads = []
    for lib, ns in ((ember, es), (torch, torch.special)):
        t = lib.tensor(x, requires_grad=True)
        y = getattr(ns, name)(t)
        assert type(y.grad_fn).__name__ == type(getattr(torch.special, name)(torch.tensor(x, requires_grad=True))
                                                .grad_fn).__name__
        (y * lib.tensor(np.linspace(0.5, 1.5, x.size))).sum().backward()
        grads.append(_np(t.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-13, atol=1e-300)
    t = ember.tensor([-2.5, -0.3, 0.4, 3.1, 9.0], dtype=ember.float64, requires_grad=True)
    fn = getattr(es, name)
    assert gradcheck(fn, (t,)) and gradgradcheck(fn, (t,))
