"""Reductions and sorting beyond the OpInfo table: named tuples, dtypes, errors, double backward."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _pair(data, dtype=np.float64, grad=False):
    a = np.asarray(data, dtype=dtype)
    return (ember.tensor(a.copy(), requires_grad=grad), torch.tensor(a.copy(), requires_grad=grad))


# ---- named tuples ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,call", [
    ("max", lambda lib, x: lib.max(x, 1)), ("min", lambda lib, x: x.min(dim=0, keepdim=True)),
    ("sort", lambda lib, x: x.sort(descending=True)), ("topk", lambda lib, x: lib.topk(x, 2)),
    ("kthvalue", lambda lib, x: x.kthvalue(1)), ("median", lambda lib, x: x.median(1)),
    ("cummax", lambda lib, x: lib.cummax(x, 1)), ("cummin", lambda lib, x: x.cummin(0)),
    ("mode", lambda lib, x: lib.mode(x, 0)),
])
def test_named_tuple_fields_and_repr(name, call):
    e, t = _pair([[1.0, 4.0, 2.0], [3.0, 0.0, 5.0]], np.float32)
    eo, to = call(ember, e), call(torch, t)
    values, indices = eo
    assert values is eo.values and indices is eo.indices and eo[0] is eo.values
    assert isinstance(eo, tuple) and len(eo) == 2
    assert type(eo).__name__ == name
    np.testing.assert_array_equal(eo.values.numpy(), to.values.numpy())
    np.testing.assert_array_equal(eo.indices.numpy(), to.indices.numpy())
    assert eo.indices.dtype == ember.int64
    assert repr(eo) == repr(to)


def test_aminmax_fields():
    e, t = _pair([[1.0, 4.0], [3.0, 0.0]], np.float32)
    eo, to = ember.aminmax(e, dim=1), torch.aminmax(t, dim=1)
    assert eo.min.tolist() == to.min.tolist() and eo.max.tolist() == to.max.tolist()
    assert repr(eo) == repr(to)


def test_max_binary_dispatches_to_maximum():
    e, t = _pair([1.0, 5.0]), _pair([3.0, 2.0])
    assert ember.max(e[0], t[0]).tolist() == [3.0, 5.0]
    assert e[0].min(t[0]).tolist() == [1.0, 2.0]


# ---- dtypes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.uint8, np.int64])
def test_integer_reduction_dtypes(dtype):
    e, t = _pair([[1, 0, 1], [1, 1, 0]], dtype)
    for f in (lambda x: x.sum(), lambda x: x.prod(1), lambda x: x.cumsum(0), lambda x: x.cumprod(1),
              lambda x: x.nansum(), lambda x: x.all(1), lambda x: x.any(),
              lambda x: x.count_nonzero(), lambda x: x.amax(0)):
        assert str(f(e).dtype) == str(f(t).dtype)
    if dtype is not np.bool_:
        assert e.argmax().dtype == ember.int64 and e.median().dtype == e.dtype
    else:
        _same_error(lambda lib, x: x.argmax(), (e, t))
        _same_error(lambda lib, x: x.median(), (e, t))


@pytest.mark.parametrize("call,msg", [
    (lambda lib, x: x.mean(), "mean(): could not infer output dtype"),
    (lambda lib, x: x.std(), "std and var only support floating point"),
    (lambda lib, x: lib.var(x, 0), "std and var only support floating point"),
    (lambda lib, x: x.nanmean(), "nanmean(): expected input to have floating point"),
    (lambda lib, x: x.norm(), "linalg.vector_norm: Expected a floating point"),
])
def test_integer_input_errors(call, msg):
    e, t = _pair([1, 2, 3], np.int64)
    for lib, x in ((torch, t), (ember, e)):
        with pytest.raises(RuntimeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            call(lib, x)


# ---- errors ----------------------------------------------------------------------------------------
def _same_error(call, *tensors):
    with pytest.raises(Exception) as te:
        call(torch, *[t for _, t in tensors])
    with pytest.raises(type(te.value)) as ee:
        call(ember, *[e for e, _ in tensors])
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("call", [
    lambda lib, x: x.sum(dim=2), lambda lib, x: x.max(-3), lambda lib, x: x.amax((0, 2)),
    lambda lib, x: x.argmax(2), lambda lib, x: x.std(dim=5), lambda lib, x: x.cumsum(2),
    lambda lib, x: x.sort(dim=2), lambda lib, x: x.topk(1, dim=-3), lambda lib, x: lib.logsumexp(x, 3),
    lambda lib, x: x.median(2), lambda lib, x: x.prod(2), lambda lib, x: x.all(dim=2),
    lambda lib, x: x.topk(4), lambda lib, x: x.kthvalue(4), lambda lib, x: x.kthvalue(0, 0),
    lambda lib, x: x.amax((0, 0)), lambda lib, x: x.sum_to_size(3, 1),
])
def test_errors_match_torch(call):
    _same_error(call, _pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))


@pytest.mark.parametrize("call", [
    lambda lib, x: x.max(), lambda lib, x: x.min(), lambda lib, x: x.amax(), lambda lib, x: x.argmax(),
    lambda lib, x: lib.amin(x, 1), lambda lib, x: x.max(1), lambda lib, x: x.argmin(1),
    lambda lib, x: x.median(1), lambda lib, x: x.kthvalue(1, 1), lambda lib, x: x.topk(1, 1),
    lambda lib, x: x.mode(1),
])
def test_empty_reductions_need_a_dim(call):
    _same_error(call, _pair(np.zeros((2, 0))))


def test_reductions_of_empty_dims_match_torch():
    e, t = _pair(np.zeros((2, 0)))
    for f in (lambda x: x.sum(1), lambda x: x.prod(1), lambda x: x.amax(0), lambda x: x.max(0).values,
              lambda x: x.all(1), lambda x: x.any(1), lambda x: x.logsumexp(1), lambda x: x.norm(dim=1)):
        a, b = f(e), f(t)
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy())


# ---- gradients ----------------------------------------------------------------------------------------
def _grads(call, data, create_graph=False):
    out = []
    for lib in (ember, torch):
        x = lib.tensor(np.asarray(data, dtype=np.float64), requires_grad=True)
        y = call(lib, x)
        (g,) = (ember if lib is ember else torch).autograd.grad(y.sum(), x, create_graph=create_graph)
        if create_graph:
            (g,) = (ember if lib is ember else torch).autograd.grad((g * g).sum(), x)
        out.append(g.detach().numpy())
    return out


@pytest.mark.parametrize("call", [
    lambda lib, x: x.prod(), lambda lib, x: x.prod(1), lambda lib, x: x.cumprod(1),
    lambda lib, x: x.cumprod(0),
])
@pytest.mark.parametrize("data", [[[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]], [[0.0, 2.0, 0.5], [1.0, -2.0, 0.5]]],
                         ids=["zeros", "zero-first"])
def test_zero_containing_products(call, data):
    e, t = _grads(call, data)
    np.testing.assert_allclose(e, t)


@pytest.mark.parametrize("call", [
    lambda lib, x: x.prod(1), lambda lib, x: x.var(0), lambda lib, x: x.std(1), lambda lib, x: x.logsumexp(1),
    lambda lib, x: x.norm(dim=1), lambda lib, x: x.norm(p=3), lambda lib, x: x.cumsum(1) * x,
    lambda lib, x: x.cumprod(1), lambda lib, x: x.sort(1).values ** 3, lambda lib, x: x.max(0).values ** 2,
    lambda lib, x: x.topk(2).values ** 2, lambda lib, x: x.kthvalue(2).values ** 2,
    lambda lib, x: x.amax(1) ** 2, lambda lib, x: x.nanmean(0) ** 2, lambda lib, x: x.cummax(1).values ** 2,
])
def test_double_backward(call):
    e, t = _grads(call, [[1.5, -0.5, 2.0], [0.7, 1.2, -3.0]], create_graph=True)
    np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-9)


def test_std_of_constant_slice_has_zero_grad():
    e, t = _grads(lambda lib, x: x.std(1), [[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    np.testing.assert_allclose(e, t)


def test_unique_is_not_differentiable():
    x = ember.tensor([1.0, 2.0, 1.0], requires_grad=True)
    assert not x.unique().requires_grad
    assert x.unique(return_counts=True)[1].dtype == ember.int64


def test_zero_dim_inputs():
    e, t = _pair(3.5)
    for f in (lambda x: x.max(0), lambda x: x.sort(), lambda x: x.topk(1), lambda x: x.median(-1),
              lambda x: x.cummax(0), lambda x: x.kthvalue(1)):
        a, b = f(e), f(t)
        assert a.values.shape == () and a.values.item() == b.values.item() and a.indices.item() == 0
    for f in (lambda x: x.sum(0), lambda x: x.amax(-1), lambda x: x.std(0, correction=0), lambda x: x.argmax(0),
              lambda x: x.cumsum(0), lambda x: x.all(0), lambda x: x.logsumexp(0), lambda x: x.norm(dim=0)):
        a, b = f(e), f(t)
        assert a.shape == () and a.item() == b.item()


# ---- float16 / bfloat16: torch accumulates in float32 and rounds once ---------------------------------
HALF_REDUCTIONS = {
    "sum": lambda x: x.sum(), "mean": lambda x: x.mean(), "nansum": lambda x: x.nansum(),
    "nanmean": lambda x: x.nanmean(), "cumsum": lambda x: x.cumsum(0)[-1], "var": lambda x: x.var(),
    "std": lambda x: x.std(0, keepdim=True), "norm": lambda x: x.norm(), "norm1": lambda x: x.norm(1),
    "logsumexp": lambda x: x.logsumexp(0), "logcumsumexp": lambda x: x.logcumsumexp(0)[-1],
    "softmax": lambda x: x.softmax(0)[:3], "log_softmax": lambda x: x.log_softmax(0)[:3],
    "histc": lambda x: x.histc(4),
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("scale", [1.0, 100.0])
@pytest.mark.parametrize("name", list(HALF_REDUCTIONS))
def test_half_precision_reductions_match_torch(name, scale, dtype):
    vals = (np.linspace(0.5, 1.5, 1000) * scale).astype(np.float32)
    e = ember.tensor(vals).to(getattr(ember, dtype))
    t = torch.tensor(vals).to(getattr(torch, dtype))
    re, rt = HALF_REDUCTIONS[name](e), HALF_REDUCTIONS[name](t)
    assert str(re.dtype) == str(rt.dtype)
    np.testing.assert_array_equal(re.float().numpy(), rt.float().numpy())


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "bool"])
def test_mean_of_integers_names_the_dtype_as_torch(dtype):
    errs = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as info:
            lib.ones(2, dtype=getattr(lib, dtype)).mean()
        errs.append(str(info.value))
    assert errs[0] == errs[1]


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("data,correction", [([1., 2.], 2), ([1., 2.], 3), ([1., 2., 4.], 3)])
def test_moment_without_degrees_of_freedom_backward_as_torch(name, data, correction):
    res = []
    for lib in (ember, torch):
        x = lib.tensor(data, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = getattr(x, name)(correction=correction)
        y.backward()
        res.append((y.item(), x.grad.tolist()))
    np.testing.assert_array_equal(np.array(res[0][1]), np.array(res[1][1]))
    assert res[0][0] == res[1][0]
