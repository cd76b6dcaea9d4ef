"""nn.init: deterministic fills equal torch's, random fills have torch's distributions and bounds."""
import math

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
from ember.nn import init


def _pair(shape):
    return enn.Parameter(ember.empty(*shape)), torch.nn.Parameter(torch.empty(*shape))


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                                  ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu",)])
def test_calculate_gain(args):
    assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(4, 3), (8, 3, 5, 5), (2, 6, 3)])
def test_fan_in_and_fan_out(shape):
    e, t = _pair(shape)
    assert init._calculate_fan_in_and_fan_out(e) == torch.nn.init._calculate_fan_in_and_fan_out(t)


def test_deterministic_fills_equal_torch():
    for fn, shape, extra in [("constant_", (3, 4), (0.25,)), ("ones_", (3, 4), ()), ("zeros_", (3, 4), ()),
                             ("eye_", (3, 5), ()), ("dirac_", (4, 2, 3), ()), ("dirac_", (6, 2, 3, 3), (2,)),
                             ("dirac_", (4, 4, 3, 3, 3), ())]:
        e, t = _pair(shape)
        v0 = e._version[0]
        out = getattr(init, fn)(e, *extra)
        getattr(torch.nn.init, fn)(t, *extra)
        assert out is e and e.requires_grad and e.grad_fn is None and e._version[0] > v0
        np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


@pytest.mark.parametrize("fn,args,msg", [
    ("eye_", ((2, 2, 2),), "Only tensors with 2 dimensions are supported"),
    ("dirac_", ((2, 2),), "Only tensors with 3, 4, or 5 dimensions are supported"),
    ("dirac_", ((3, 2, 3), 2), "dim 0 must be divisible by groups"),
    ("xavier_uniform_", ((3,),), "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"),
    ("kaiming_normal_", ((3, 3), 0, "fan_x"), "Mode fan_x not supported, please use one of ['fan_in', 'fan_out']"),
    ("orthogonal_", ((3,),), "Only tensors with 2 or more dimensions are supported"),
    ("sparse_", ((3, 3, 3), 0.5), "Only tensors with 2 dimensions are supported"),
])
def test_errors_match_torch(fn, args, msg):
    shape, rest = args[0], args[1:]
    e, t = _pair(shape)
    with pytest.raises(ValueError) as ei:
        getattr(init, fn)(e, *rest)
    with pytest.raises(ValueError) as ti:
        getattr(torch.nn.init, fn)(t, *rest)
    assert str(ei.value) == str(ti.value) == msg


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.min(), a.max(), a.mean(), a.std()


def test_uniform_and_normal():
    e = enn.Parameter(ember.empty(200, 100))
    lo, hi, mean, _ = _stats(init.uniform_(e, -2.0, 3.0))
    assert -2.0 <= lo and hi <= 3.0 and abs(mean - 0.5) < 0.05
    _, _, mean, std = _stats(init.normal_(e, 1.0, 2.0))
    assert abs(mean - 1.0) < 0.05 and abs(std - 2.0) < 0.05
    assert e.requires_grad and e.grad_fn is None


@pytest.mark.parametrize("shape", [(256, 128), (64, 32, 3, 3)])
def test_xavier_and_kaiming_bounds_and_std(shape):
    e, t = _pair(shape)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(e)
    a = math.sqrt(3.0) * 1.5 * math.sqrt(2.0 / (fan_in + fan_out))
    lo, hi, _, std = _stats(init.xavier_uniform_(e, gain=1.5))
    assert -a <= lo and hi <= a and abs(std - a / math.sqrt(3)) < 0.05 * a
    _, _, _, std = _stats(init.xavier_normal_(e))
    assert abs(std - math.sqrt(2.0 / (fan_in + fan_out))) < 0.05 * std
    gain = init.calculate_gain("leaky_relu", math.sqrt(5))
    bound = gain * math.sqrt(3.0 / fan_in)
    lo, hi, _, std = _stats(init.kaiming_uniform_(e, a=math.sqrt(5)))
    assert -bound <= lo and hi <= bound and abs(std - bound / math.sqrt(3)) < 0.05 * bound
    _, _, _, std = _stats(init.kaiming_normal_(e, mode="fan_out", nonlinearity="relu"))
    assert abs(std - math.sqrt(2.0 / fan_out)) < 0.05 * std


def test_kaiming_zero_element_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(ember.empty(0, 3))


@pytest.mark.parametrize("a,b", [(-2.0, 2.0), (0.5, 1.0), (-0.1, 3.0)])
def test_trunc_normal(a, b):
    e = ember.empty(100, 100)
    init.trunc_normal_(e, mean=0.2, std=1.0, a=a, b=b)
    x = e.numpy().astype(np.float64)
    assert x.min() >= a and x.max() <= b
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    al, be = a - 0.2, b - 0.2
    z = cdf(be) - cdf(al)
    mean = 0.2 + (pdf(al) - pdf(be)) / z
    std = math.sqrt(1 + (al * pdf(al) - be * pdf(be)) / z - ((pdf(al) - pdf(be)) / z) ** 2)
    assert abs(x.mean() - mean) < 0.03 and abs(x.std() - std) < 0.03


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    e = ember.empty(*shape)
    init.orthogonal_(e, gain=2.0)
    m = e.numpy().reshape(shape[0], -1).astype(np.float64) / 2.0
    small = m.T @ m if shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=1e-5)


def test_sparse():
    e = ember.empty(10, 6)
    init.sparse_(e, sparsity=0.3, std=0.5)
    x = e.numpy()
    assert ((x == 0).sum(axis=0) >= 3).all()


def test_generator_and_manual_seed_reproducible():
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    a, b = ember.empty(5, 5), ember.empty(5, 5)
    init.kaiming_uniform_(a, generator=g1)
    init.kaiming_uniform_(b, generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    ember.manual_seed(3)
    init.normal_(a)
    ember.manual_seed(3)
    init.normal_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning, match="`nn.init.constant` is now deprecated in favor of `nn.init.constant_`"):
        init.constant(ember.empty(2), 1.0)
