"""ember.fft against torch.fft: values, dtypes, shapes, gradients (float64), double backward, errors."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
REAL = RNG.standard_normal((4, 6))
CPLX = REAL + 1j * RNG.standard_normal((4, 6))
NORMS = (None, "backward", "forward", "ortho")


def _np(t):
    t = t.detach()
    return t.resolve_conj().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _loss(lib, y):
    """A real loss that weighs real and imaginary parts differently."""
    if y.is_complex():
        return (y.real ** 2 + 3 * y.imag + y.real * y.imag).sum()
    return (y ** 2 + y).sum()


def _compare(name, x, atol=1e-9, grad=True, **kw):
    outs = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=grad)
        y = getattr(lib.fft, name)(t, **kw)
        if grad:
            _loss(lib, y).backward()
        outs.append((_np(y), str(y.dtype), _np(t.grad) if grad else None))
    (a, da, ga), (b, db, gb) = outs
    assert da == db
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, atol=atol, rtol=1e-6)
    if grad:
        np.testing.assert_allclose(ga, gb, atol=atol, rtol=1e-6)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fft", "ifft", "hfft", "irfft"])
@pytest.mark.parametrize("n,dim", [(None, -1), (None, 0), (3, -1), (8, 0), (5, 1)])
@pytest.mark.parametrize("x", [REAL, CPLX], ids=["real", "complex"])
def test_one_dim_complex_or_real_input(name, n, dim, norm, x):
    _compare(name, x, n=n, dim=dim, norm=norm)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["rfft", "ihfft"])
@pytest.mark.parametrize("n,dim", [(None, -1), (None, 0), (3, -1), (8, 0), (5, 1)])
def test_one_dim_real_input(name, n, dim, norm):
    _compare(name, REAL, n=n, dim=dim, norm=norm)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fftn", "ifftn", "irfftn", "hfftn", "rfftn", "ihfftn"])
@pytest.mark.parametrize("s,dim", [(None, None), ((3, 8), None), (None, (1, 0)), ((5, -1), (1, 0)),
                                   ((3,), None), (None, (0,))])
def test_n_dim(name, s, dim, norm):
    xs = REAL if name in ("rfftn", "ihfftn") else CPLX
    _compare(name, xs, s=s, dim=dim, norm=norm)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2"])
@pytest.mark.parametrize("s", [None, (3, 5), (7, 4)])
def test_two_dim(name, s, norm):
    xs = RNG.standard_normal((2, 4, 6))
    if name not in ("rfft2", "ihfft2"):
        xs = xs + 1j * RNG.standard_normal((2, 4, 6))
    _compare(name, xs, s=s, norm=norm)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fftn", "rfftn", "irfftn"])
def test_float32_values_and_dtypes(name):
    x = RNG.standard_normal((3, 5, 8)).astype(np.float32)
    _compare(name, x, atol=1e-4)
    if name not in ("rfft", "ihfft", "rfftn"):
        _compare(name, (x + 1j * x[::-1]).astype(np.complex64), atol=1e-4)


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "fftn"])
def test_integer_and_bool_input_promote_to_default_float(name):
    for v in ([1, 2, 3, 4], [True, False, True]):
        _compare(name, np.array(v), atol=1e-6, grad=False)
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        _compare(name, np.array([1, 2, 3, 4]), grad=False)
    finally:
        torch.set_default_dtype(torch.float32)


def test_grad_fn_names_match_torch():
    for lib in (ember, torch):
        x = lib.tensor(REAL, requires_grad=True)
        names = [lib.fft.fft(x).grad_fn.name(), lib.fft.rfft(x).grad_fn.name(),
                 lib.fft.irfft(x).grad_fn.name(), lib.fft.fft(x.to(lib.complex128)).grad_fn.name()]
        assert names == ["FftR2CBackward0", "FftR2CBackward0", "FftC2RBackward0", "FftC2CBackward0"]


def test_abs_loss_gradient_matches_torch():
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(CPLX, requires_grad=True)
        r = lib.tensor(REAL, requires_grad=True)
        (lib.fft.fft2(x, norm="ortho").abs().sum() + lib.fft.rfft(r, n=9).abs().sum()).backward()
        grads.append((_np(x.grad), _np(r.grad)))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, atol=1e-10)


def _sq(z):
    return z.real ** 2 + z.real * z.imag


@pytest.mark.parametrize("fn", [
    lambda a, b: _sq(ember.fft.rfft(a, n=5)),
    lambda a, b: ember.fft.irfft(ember.complex(a, b), n=7, norm="ortho") ** 2,
    lambda a, b: _sq(ember.fft.fftn(a, s=(2, 6))),
    lambda a, b: _sq(ember.fft.ifft2(ember.complex(a, b), s=(5, 3), norm="forward")),
    lambda a, b: ember.fft.hfft(ember.complex(a, b), dim=0) ** 2,
    lambda a, b: _sq(ember.fft.ihfftn(a, s=(4, 5))),
    lambda a, b: ember.fft.rfft(a * b).abs(),
], ids=["rfft", "irfft", "fftn", "ifft2", "hfft", "ihfftn", "rfft_abs"])
def test_gradcheck_and_double_backward(fn):
    a = ember.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    b = ember.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


def test_fftfreq_rfftfreq_and_shifts():
    for n, d in ((1, 1.0), (5, 0.5), (6, 2.0), (0, 1.0), (7, 0.1), (1, 0.0)):
        for f in ("fftfreq", "rfftfreq"):
            a, b = getattr(ember.fft, f)(n, d), getattr(torch.fft, f)(n, d)
            assert str(a.dtype) == str(b.dtype) and a.shape == b.shape
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    a = ember.fft.fftfreq(4, dtype=ember.float64, requires_grad=True)
    assert a.dtype == ember.float64 and a.requires_grad
    x = np.arange(30).reshape(2, 3, 5)
    for f in ("fftshift", "ifftshift"):
        for dim in (None, 0, -1, (1, 2)):
            kw = {} if dim is None else {"dim": dim}
            np.testing.assert_array_equal(getattr(ember.fft, f)(ember.tensor(x), **kw).numpy(),
                                          getattr(torch.fft, f)(torch.tensor(x), **kw).numpy())
    _compare("fftshift", CPLX, dim=0)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.fft.fft(x, n=0),
    lambda lib, x: lib.fft.fft(x, n=-1),
    lambda lib, x: lib.fft.fft(x, dim=2),
    lambda lib, x: lib.fft.fft(x, norm="bad"),
    lambda lib, x: lib.fft.rfft(x.to(lib.complex64)),
    lambda lib, x: lib.fft.ihfft(x.to(lib.complex64)),
    lambda lib, x: lib.fft.rfftn(x.to(lib.complex64)),
    lambda lib, x: lib.fft.rfft2(x.to(lib.complex64)),
    lambda lib, x: lib.fft.ihfftn(x.to(lib.complex64)),
    lambda lib, x: lib.fft.fftn(x, s=(2, 3), dim=(0,)),
    lambda lib, x: lib.fft.fftn(x, dim=(0, 0)),
    lambda lib, x: lib.fft.fftn(x, s=(1, 2, 3)),
    lambda lib, x: lib.fft.fft(x.half()),
    lambda lib, x: lib.fft.irfft(x, n=0),
    lambda lib, x: lib.fft.irfft(x[:, :1]),
    lambda lib, x: lib.fft.fft([1.0, 2.0]),
    lambda lib, x: lib.fft.fftshift([1.0]),
    lambda lib, x: lib.fft.fftfreq(-1),
])
def test_bad_input_errors_match_torch(call):
    got = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            call(lib, lib.tensor(REAL))
        got.append((type(info.value), str(info.value)))
    assert got[0] == got[1]


def test_complex_autograd_conjugates_like_torch():
    """mul/div/abs backward on complex tensors and a complex gradient reaching a real input."""
    grads = []
    for lib in (ember, torch):
        t = lib.tensor(REAL[0], requires_grad=True)
        c = lib.tensor(CPLX[0], requires_grad=True)
        z = t * (1 + 2j)
        loss = (z.real ** 2 + z.imag ** 2).sum() + (c * c / (c + 3)).abs().sum() + (z * c).imag.sum()
        loss.backward()
        grads.append((_np(t.grad), _np(c.grad)))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10)
