"""Factories against torch: shapes, dtypes, values (arange/linspace edge cases) and errors."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _same(e, t, exact=True):
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    if exact:
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    else:
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("args,kw", [
    ((5,), {}), ((1, 10, 3), {}), ((0, 1, 0.1), {}), ((1, 2.5, 0.5), {}), ((0, 1, 0.3), {}),
    ((10, 0, -3), {}), ((-1.5, 2.2, 0.7), {}), ((0,), {}), ((3, 3), {}), ((5.0,), {}),
    ((0, 5), {"dtype": "float64"}), ((0, 2, 0.25), {"dtype": "float64"}), ((0, 10, 3), {"dtype": "int32"}),
    ((0, 1, 0.1), {"dtype": "float64"}), ((-5, 5, 1.5), {}), ((1, 4), {"dtype": "float16"}),
])
def test_arange(args, kw):
    ekw = {k: getattr(ember, v) for k, v in kw.items()}
    tkw = {k: getattr(torch, v) for k, v in kw.items()}
    _same(ember.arange(*args, **ekw), torch.arange(*args, **tkw))


def test_arange_tensor_bounds_and_errors():
    _same(ember.arange(ember.tensor(4)), torch.arange(torch.tensor(4)))
    _same(ember.arange(ember.tensor(1.5)), torch.arange(torch.tensor(1.5)))
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="step must be nonzero"):
            lib.arange(0, 1, 0)
        with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent"):
            lib.arange(1, 0, 1)


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 3.5, 7), (0, 10, 1), (1, 0, 4), (0, 1, 0),
                                  (-3.3, 7.1, 11), (0, 1, 100), (0.1, 0.9, 33)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_linspace(args, dtype):
    e = ember.linspace(*args, dtype=getattr(ember, dtype))
    t = torch.linspace(*args, dtype=getattr(torch, dtype))
    _same(e, t, exact=dtype != "float64")


def test_linspace_logspace_defaults():
    _same(ember.linspace(0, 1, 5), torch.linspace(0, 1, 5))
    _same(ember.logspace(0, 2, 3), torch.logspace(0, 2, 3))
    _same(ember.logspace(-1, 1, 5, base=2.0, dtype=ember.float64),
          torch.logspace(-1, 1, 5, base=2.0, dtype=torch.float64), exact=False)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
            lib.linspace(0, 1, -1)


def test_range_inclusive_and_deprecated():
    with pytest.warns(UserWarning, match="deprecated"):
        e = ember.range(0, 1, 0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(e, torch.range(0, 1, 0.25))
        _same(ember.range(1, 4), torch.range(1, 4))
        _same(ember.range(0, 3, dtype=ember.int64), torch.range(0, 3, dtype=torch.int64))


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,)])
def test_eye(args):
    _same(ember.eye(*args), torch.eye(*args))
    _same(ember.eye(*args, dtype=ember.int64), torch.eye(*args, dtype=torch.int64))


@pytest.mark.parametrize("args", [(3, 3), (3, 4, 1), (4, 3, -1), (1, 1), (3, 2, 5), (0, 3)])
def test_tri_indices(args):
    _same(ember.tril_indices(*args), torch.tril_indices(*args))
    _same(ember.triu_indices(*args), torch.triu_indices(*args))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    ea, eb, ec = ember.arange(3), ember.arange(2) * 10, ember.tensor([5, 6, 7, 8])
    ta, tb, tc = torch.arange(3), torch.arange(2) * 10, torch.tensor([5, 6, 7, 8])
    for e, t in zip(ember.meshgrid(ea, eb, indexing=indexing), torch.meshgrid(ta, tb, indexing=indexing)):
        _same(e, t)
    for e, t in zip(ember.meshgrid([ea, eb, ec], indexing=indexing), torch.meshgrid([ta, tb, tc], indexing=indexing)):
        _same(e, t)


def test_meshgrid_grad_and_default_warning():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.warns(UserWarning, match="indexing"):
        x, y = ember.meshgrid(a, b)
    (x * y).sum().backward()
    assert a.grad.tolist() == [6.0, 6.0] and b.grad.tolist() == [3.0, 3.0, 3.0]


def test_scalar_tensor_and_empty_strided():
    _same(ember.scalar_tensor(3), torch.scalar_tensor(3))
    _same(ember.scalar_tensor(2, dtype=ember.int64), torch.scalar_tensor(2, dtype=torch.int64))
    e = ember.empty_strided((2, 3), (1, 2))
    t = torch.empty_strided((2, 3), (1, 2))
    assert e.shape == t.shape and e.stride() == t.stride() and e.dtype == ember.float32


@pytest.mark.parametrize("name,args", [("zeros", (2, 3)), ("ones", ((2, 3),)), ("empty", (2,)),
                                       ("full", ((2,), 1.5)), ("eye", (2,)), ("arange", (3,)),
                                       ("linspace", (0, 1, 3)), ("logspace", (0, 1, 3)),
                                       ("rand", (2,)), ("randn", (2,)), ("scalar_tensor", (1.0,))])
def test_factories_take_dtype_device_requires_grad(name, args, standin_cuda):
    t = getattr(ember, name)(*args, dtype=ember.float64, device="cuda", requires_grad=True)
    assert t.dtype == ember.float64 and t.device.type == "cuda" and t.requires_grad


def test_size_input_and_out():
    z = ember.zeros(ember.Size([2, 3]))
    assert z.shape == (2, 3)
    out = ember.empty(0)
    r = ember.zeros(2, 2, out=out)
    assert r is out and out.shape == (2, 2)
    r = ember.full((3,), 2.0, out=out)
    assert r is out and out.tolist() == [2.0, 2.0, 2.0]
    r = ember.arange(4, out=ember.empty(0, dtype=ember.int64))
    assert r.tolist() == [0, 1, 2, 3]


def test_like_factories():
    x = ember.zeros(2, 3, dtype=ember.float64)
    for f in (ember.zeros_like, ember.ones_like, ember.empty_like, ember.rand_like, ember.randn_like):
        y = f(x)
        assert y.shape == x.shape and y.dtype == ember.float64
    assert ember.full_like(x, 7).tolist() == [[7.0] * 3] * 2


def test_size_keyword():
    for name in ("zeros", "ones", "empty", "rand", "randn"):
        assert getattr(ember, name)(size=(2, 3)).shape == getattr(torch, name)(size=(2, 3)).shape


def test_out_keeps_its_dtype():
    out = ember.empty(0, dtype=ember.int64)
    ember.zeros(3, out=out)
    assert out.dtype == ember.int64 and out.tolist() == [0, 0, 0]


@pytest.mark.parametrize("data", [
    [[1, 2], [3]], [[1, 2], 3], [1, [2, 3]], [[[1], [2]], [[1], [2, 3]]], [[1., 2.], [3., 4., 5.]],
])
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_ragged_nested_lists_raise_as_torch(data, dtype):
    errs = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            lib.tensor(data, dtype=None if dtype is None else getattr(lib, dtype))
        errs.append((type(info.value), str(info.value)))
    assert errs[0] == errs[1]


def test_from_numpy_refuses_negative_strides_as_torch():
    a = np.arange(6.0)[::-1]
    errs = []
    for lib in (ember, torch):
        with pytest.raises(ValueError) as info:
            lib.from_numpy(a)
        errs.append(str(info.value))
    assert errs[0] == errs[1]
