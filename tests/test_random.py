"""Random ops: reproducibility, generators, state round trips, shapes/dtypes vs torch, moments."""
import math

import numpy as np
import pytest
import torch

import ember

N = 100_000


def test_manual_seed_reproducible():
    ember.manual_seed(123)
    a = (ember.rand(5), ember.randn(3), ember.randint(0, 10, (4,)), ember.randperm(6))
    ember.manual_seed(123)
    b = (ember.rand(5), ember.randn(3), ember.randint(0, 10, (4,)), ember.randperm(6))
    for x, y in zip(a, b):
        assert np.array_equal(x.numpy(), y.numpy())
    assert ember.initial_seed() == 123
    assert not np.array_equal(ember.rand(5).numpy(), a[0].numpy())


def test_generator_objects_independent_of_default():
    g1 = ember.Generator().manual_seed(7)
    g2 = ember.Generator().manual_seed(7)
    ember.manual_seed(0)
    x = ember.randn(4, generator=g1)
    ember.rand(10)  # the default generator does not disturb g2
    y = ember.randn(4, generator=g2)
    assert np.array_equal(x.numpy(), y.numpy())
    assert g1.initial_seed() == 7
    assert isinstance(g1.manual_seed(1), ember.Generator)
    t = ember.zeros(3)
    t.uniform_(generator=ember.Generator().manual_seed(5))
    u = ember.zeros(3).uniform_(generator=ember.Generator().manual_seed(5))
    assert np.array_equal(t.numpy(), u.numpy())


def test_rng_state_round_trip():
    ember.manual_seed(42)
    state = ember.get_rng_state()
    assert state.dtype == ember.uint8 and state.dim() == 1
    a = ember.rand(6)
    ember.set_rng_state(state)
    assert np.array_equal(ember.rand(6).numpy(), a.numpy())
    g = ember.Generator()
    s = g.get_state()
    b = ember.randn(3, generator=g)
    g.set_state(s)
    assert np.array_equal(ember.randn(3, generator=g).numpy(), b.numpy())
    with pytest.raises(RuntimeError, match="RNG state size"):
        g.set_state(ember.zeros(3, dtype=ember.uint8))
    with pytest.raises(TypeError):
        g.set_state(ember.zeros(45))


def test_seed_returns_new_seed():
    s = ember.seed()
    assert isinstance(s, int) and ember.initial_seed() == s


@pytest.mark.parametrize("call", [
    lambda lib: lib.rand(2, 3), lambda lib: lib.rand((2, 3), dtype=lib.float64),
    lambda lib: lib.randn(4), lambda lib: lib.randn(2, 2, dtype=lib.float16),
    lambda lib: lib.randint(5, (3,)), lambda lib: lib.randint(2, 5, (2, 2)),
    lambda lib: lib.randint(0, 5, (2,), dtype=lib.float32), lambda lib: lib.randperm(5),
    lambda lib: lib.randperm(4, dtype=lib.int32), lambda lib: lib.normal(0.0, 1.0, (3,)),
    lambda lib: lib.normal(lib.zeros(2, 3), lib.ones(3)), lambda lib: lib.normal(lib.zeros(2), 2.0),
    lambda lib: lib.normal(1.0, lib.ones(2, dtype=lib.float64)),
    lambda lib: lib.bernoulli(lib.full((3,), 0.5)), lambda lib: lib.bernoulli(lib.zeros(3), 0.3),
    lambda lib: lib.multinomial(lib.ones(4), 2), lambda lib: lib.multinomial(lib.ones(2, 4), 6, True),
    lambda lib: lib.poisson(lib.ones(3)), lambda lib: lib.rand_like(lib.zeros(2, dtype=lib.float64)),
    lambda lib: lib.randn_like(lib.zeros(2, 3)), lambda lib: lib.randint_like(lib.zeros(2), 3),
    lambda lib: lib.randint_like(lib.zeros(2, dtype=lib.int32), 1, 3),
    lambda lib: lib.zeros(3, dtype=lib.int64).random_(2, 5), lambda lib: lib.zeros(3).random_(5),
    lambda lib: lib.zeros(2, 2).exponential_(), lambda lib: lib.zeros(2).bernoulli_(0.5),
    lambda lib: lib.zeros(2, dtype=lib.float64).normal_(), lambda lib: lib.zeros(3).fill_(2.5),
    lambda lib: lib.ones(3, dtype=lib.int64).zero_(),
])
def test_shapes_and_dtypes_match_torch(call):
    e, t = call(ember), call(torch)
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype) == str(t.dtype)


def _moments(x):
    a = x.numpy().astype(np.float64)
    return a.mean(), a.std()


@pytest.mark.parametrize("sample,mean,std", [
    (lambda: ember.rand(N), 0.5, math.sqrt(1 / 12)),
    (lambda: ember.randn(N), 0.0, 1.0),
    (lambda: ember.normal(2.0, 3.0, (N,)), 2.0, 3.0),
    (lambda: ember.normal(ember.full((N,), -1.0), ember.full((N,), 0.5)), -1.0, 0.5),
    (lambda: ember.zeros(N).uniform_(-2, 4), 1.0, math.sqrt(36 / 12)),
    (lambda: ember.zeros(N).normal_(5, 2), 5.0, 2.0),
    (lambda: ember.zeros(N).exponential_(2.0), 0.5, 0.5),
    (lambda: ember.zeros(N).bernoulli_(0.3), 0.3, math.sqrt(0.21)),
    (lambda: ember.bernoulli(ember.full((N,), 0.8)), 0.8, math.sqrt(0.16)),
    (lambda: ember.zeros(N).geometric_(0.5), 2.0, math.sqrt(2.0)),
    (lambda: ember.poisson(ember.full((N,), 4.0)), 4.0, 2.0),
    (lambda: ember.randint(0, 10, (N,)), 4.5, math.sqrt(99 / 12)),
    (lambda: ember.zeros(N).log_normal_(0.0, 0.5), math.exp(0.125), math.sqrt((math.exp(0.25) - 1) * math.exp(0.25))),
])
def test_moments(sample, mean, std):
    ember.manual_seed(0)
    m, s = _moments(sample())
    assert abs(m - mean) < 0.02 * max(1.0, abs(mean)) + 4 * std / math.sqrt(N)
    assert abs(s - std) < 0.02 * std


def test_cauchy_median():
    ember.manual_seed(0)
    x = ember.zeros(N).cauchy_(1.0, 2.0).numpy()
    assert abs(np.median(x) - 1.0) < 0.05
    assert abs(np.percentile(x, 75) - 3.0) < 0.1


def test_randint_bounds_and_randperm():
    x = ember.randint(-3, 4, (10_000,)).numpy()
    assert x.min() == -3 and x.max() == 3
    y = ember.zeros(10_000, dtype=ember.int64).random_(5).numpy()
    assert y.min() == 0 and y.max() == 4
    p = ember.randperm(50)
    assert p.dtype == ember.int64 and sorted(p.tolist()) == list(range(50))
    assert ember.randperm(0).shape == (0,)


def test_multinomial():
    ember.manual_seed(0)
    for _ in range(20):
        s = ember.multinomial(ember.tensor([0.1, 0.2, 0.3, 0.4, 0.5]), 5).tolist()
        assert sorted(s) == [0, 1, 2, 3, 4]
    s = ember.multinomial(ember.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]]), 2).tolist()
    assert set(s[0]) == {0, 2} and s[1][0] == 1
    counts = np.bincount(ember.multinomial(ember.tensor([1.0, 2.0, 7.0]), N, True).numpy(), minlength=3)
    np.testing.assert_allclose(counts / N, [0.1, 0.2, 0.7], atol=0.01)
    with pytest.raises(RuntimeError, match="without replacement"):
        ember.multinomial(ember.ones(3), 4)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        ember.multinomial(ember.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError, match="element < 0"):
        ember.multinomial(ember.tensor([1.0, -1.0]), 1)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        ember.multinomial(ember.zeros(3), 1)


def test_errors_match_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
            lib.randint(5, 3, (2,))
        with pytest.raises(NotImplementedError, match="check_uniform_bounds"):
            lib.rand(2, dtype=lib.int64)
        with pytest.raises(NotImplementedError, match="normal_kernel_cpu"):
            lib.randn(2, dtype=lib.int64)
        with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
            lib.normal(lib.zeros(2), lib.tensor([-1.0, 1.0]))
        with pytest.raises(RuntimeError, match="p_in >= 0"):
            lib.bernoulli(lib.tensor([1.5]))
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib.zeros(2, requires_grad=True).uniform_()


def test_normal_grads_are_zero_like_torch():
    m = ember.zeros(3, requires_grad=True)
    s = ember.ones(3, requires_grad=True)
    y = ember.normal(m, s)
    assert y.requires_grad
    y.sum().backward()
    assert not m.grad.numpy().any() and not s.grad.numpy().any()


def test_inplace_fill_on_nonleaf_cuts_gradient():
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    y.normal_()
    (y * 3).sum().backward()
    assert not x.grad.numpy().any()
    z = ember.ones(2, 2)
    z.fill_(ember.tensor(4.0))
    assert z.tolist() == [[4.0, 4.0], [4.0, 4.0]]
    assert z._version[0] == 1


def test_requires_grad_and_device_kwargs(standin_cuda):
    assert ember.rand(2, requires_grad=True).requires_grad
    assert ember.randn(2, device="cuda").device.type == "cuda"
    ember.manual_seed(1)
    a = ember.rand(4, device="cuda")
    ember.manual_seed(1)
    b = ember.rand(4, device="cuda")
    assert a.device.type == "cuda" and np.array_equal(a.cpu().numpy(), b.cpu().numpy())
    x = ember.zeros(3, device="cuda").normal_()
    assert x.device.type == "cuda"
    assert ember.randperm(5, device="cuda").device.type == "cuda"
    assert sorted(ember.randperm(5, device="cuda").tolist()) == [0, 1, 2, 3, 4]
    assert ember.multinomial(ember.ones(3, device="cuda"), 2).device.type == "cuda"


def test_out_argument():
    out = ember.empty(0)
    r = ember.rand(3, out=out)
    assert r is out and out.shape == (3,)
