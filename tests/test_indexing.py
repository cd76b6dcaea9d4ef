"""Indexing beyond the OpInfo table: setitem, views, version counters, in-place variants, errors."""
import numpy as np
import pytest
import torch

import ember

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7 - 1


def both(fn, requires_grad=True, data=X):
    """Run ``fn(lib, x)`` on ember and torch; return both results and both inputs."""
    out = []
    for lib in (ember, torch):
        x = lib.tensor(data.copy(), requires_grad=requires_grad)
        out.append((fn(lib, x), x))
    return out


def close(e, t):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-6)


def grads_match(fn, data=X):
    (eo, ex), (to, tx) = both(fn, data=data)
    close(eo, to)
    w = np.random.default_rng(0).uniform(0.5, 1.5, tuple(to.shape)).astype(np.float32)
    (eo * ember.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    close(ex.grad, tx.grad)


# ---- reading ------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [
    0, -1, (1, 2), (0, 1, 3), slice(None, None, 2), (Ellipsis, 1), (None, 1, None), (slice(1, 5), Ellipsis, None),
    (0, slice(None), [0, 0, 3]), ([1, 0, 1], slice(None), 2), ([0, 1], slice(1, 3), [3, 0]), ([[0], [1]], [0, 2]),
    (slice(None), [2, 2, 2]), (True,), (0, False), (1, [True, False, True]), Ellipsis, (),
])
def test_getitem_grad_vs_torch(key):
    grads_match(lambda lib, x: x[key] * 2)


def test_getitem_index_tensor_kinds():
    for idx in (np.array([1, 1, 0]), [1, 1, 0]):
        grads_match(lambda lib, x: x[lib.tensor(idx) if isinstance(idx, np.ndarray) else idx])
    grads_match(lambda lib, x: x[:, lib.tensor([2, 0, 2], dtype=lib.int32)])
    grads_match(lambda lib, x: x[lib.tensor(1), lib.tensor([[0, 2], [2, 2]])])
    grads_match(lambda lib, x: x[lib.tensor(X > 0)])
    grads_match(lambda lib, x: x[:, lib.tensor(np.array([[True, False, True, True]] * 3))])


def test_repeated_indices_accumulate():
    grads_match(lambda lib, x: x[[0, 0, 0, 1], [1, 1, 2, 1]])
    grads_match(lambda lib, x: x.index_select(2, lib.tensor([3, 3, 0, 3])))
    grads_match(lambda lib, x: x.gather(2, lib.tensor(np.zeros((2, 3, 5), dtype=np.int64))))
    grads_match(lambda lib, x: x.take(lib.tensor([5, 5, 5, 0])))


def test_basic_index_is_view():
    x = ember.tensor(X.copy())
    for v in (x[1], x[:, 1:], x[..., None], x[0, 1, 2], x[...]):
        assert v._base is x and v._version is x._version
        assert np.shares_memory(v.numpy(), x.numpy())
    v = x[0, 1:, ::2]
    assert v.stride() == torch.tensor(X)[0, 1:, ::2].stride()
    v[...] = 0
    assert float(x[0, 1, 0]) == 0 and x._version[0] == 1
    a = x[[0, 1]]
    assert a._base is None and not np.shares_memory(a.numpy(), x.numpy())


def test_grad_fn_names():
    x = ember.tensor(X.copy(), requires_grad=True)
    t = torch.tensor(X.copy(), requires_grad=True)
    for key in (0, slice(1, None), None, Ellipsis, (0, slice(1, None)), (slice(1, None), 0), [0, 1]):
        assert type(x[key].grad_fn).__name__ == type(t[key].grad_fn).__name__


def test_double_backward_through_index():
    for lib in (ember, torch):
        x = lib.tensor(X.copy(), requires_grad=True)
        y = (x[[0, 0, 1], 1:] ** 2).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (g[0, 1:, ::2] ** 2).sum().backward()
        if lib is ember:
            eg = x.grad.numpy()
        else:
            np.testing.assert_allclose(eg, x.grad.numpy(), rtol=1e-6)


# ---- writing ------------------------------------------------------------------------------
@pytest.mark.parametrize("key,value", [
    (0, 1.5), ((slice(None), 1), np.array([1., 2., 3., 4.], dtype=np.float32)), ((0, [0, 2]), 7),
    (([0, 1], [1, 1], [3, 3]), np.array([5., 6.], dtype=np.float32)), ((Ellipsis, 0), np.float64(2)),
    ((1, slice(None), None), np.ones((3, 1, 1), np.float64)), (np.array([True, False]), -1.0),
    (0, np.ones((1, 1, 3, 4), np.float32)), ("positive", 0.0),
])
def test_setitem_values_and_grads(key, value):
    res = []
    for lib in (ember, torch):
        x = lib.tensor(X.copy(), requires_grad=True)
        v = lib.tensor(value, requires_grad=True) if isinstance(value, np.ndarray) else value
        y = x * 2
        ver = y._version if lib is torch else y._version[0]
        if isinstance(key, str):
            y[y > 0] = v                         # mask from a comparison
        else:
            y[lib.tensor(key) if isinstance(key, np.ndarray) else key] = v
        assert (y._version if lib is torch else y._version[0]) == ver + 1
        (y * y).sum().backward()
        res.append((y, x, v))
    (ey, ex, ev), (ty, tx, tv) = res
    close(ey, ty)
    close(ex.grad, tx.grad)
    if isinstance(value, np.ndarray):
        close(ev.grad, tv.grad)
        assert ev.grad.dtype.name == tv.grad.dtype.__repr__().split(".")[-1]


def test_setitem_cast_and_no_grad():
    x = ember.zeros(3, dtype=ember.int64)
    x[0] = 2.7
    x[1] = ember.tensor(3.9)
    x[ember.tensor([True, False, False])] = ember.tensor([9.5])
    assert x.tolist() == [9, 3, 0] and x._version[0] == 3
    y = ember.zeros(2, 3)
    y[:, 1] = ember.tensor([1., 2.], dtype=ember.float64)
    assert y.dtype == ember.float32 and y.tolist() == [[0, 1, 0], [0, 2, 0]]
    y[1:] = y[:1]                                # overlapping source and target
    assert y.tolist() == [[0, 1, 0], [0, 1, 0]]


def test_setitem_leaf_refused_and_no_grad_allowed():
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x[0] = 2
    with ember.no_grad():
        x[0] = 2
    assert x.tolist() == [2, 1, 1] and x.grad_fn is None


def test_setitem_value_requires_grad_into_plain_tensor():
    res = []
    for lib in (ember, torch):
        v = lib.tensor([1.5, 2.5], requires_grad=True)
        y = lib.zeros(2, 3)
        y[:, 0] = v
        assert y.requires_grad and not y.is_leaf
        (y * 3).sum().backward()
        res.append(v.grad)
    close(*res)


def test_inplace_on_view_of_nonleaf():
    # y = x * 1; y[0] = 0  and  y[:, 1].mul_(2): the base's history goes through CopySlices
    for fn in (lambda lib, x: _set(x * 1, 0, 0.0),
               lambda lib, x: _set(x * 1, (slice(None), 1), lib.tensor([3.0, 4.0, 5.0, 6.0])),
               lambda lib, x: _mul_view(x * 1),
               lambda lib, x: _set_view(x * 1, lib)):
        grads_match(lambda lib, x: fn(lib, x) ** 2)


def _set(y, key, v):
    y[key] = v
    return y


def _mul_view(y):
    y[:, 1].mul_(2)
    return y


def _set_view(y, lib):
    v = y[1]
    v[lib.tensor([0, 2]), 1:3] = 5.0
    v[0, 0] = 3.0
    v[2, 3] = y.sum() * 0 + 3     # a value with history, written through a view
    return y


def test_saved_tensor_modified_by_setitem():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * y
    y[0] = 5
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


# ---- in-place variants --------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda lib, y, x: y.scatter_(1, lib.tensor([[[0, 2, 0, 1]]] * 2), 0.5),
    lambda lib, y, x: y.scatter_(2, lib.tensor([[[0, 3]] * 3] * 2), x[..., :2] * 3),
    lambda lib, y, x: y.scatter_add_(0, lib.tensor([[[1, 1, 0, 1]]]), x[:1, :1] * 2),
    lambda lib, y, x: y.index_add_(2, lib.tensor([1, 1]), x[..., 2:] * 2, alpha=0.5),
    lambda lib, y, x: y.index_fill_(1, lib.tensor([0, 2]), -2.0),
    lambda lib, y, x: y.index_copy_(1, lib.tensor([2, 0]), x[:, :2] * 3),
    lambda lib, y, x: y.masked_fill_(lib.tensor(X > 0), 0.25),
    lambda lib, y, x: y.masked_fill_(lib.tensor([True, False, False, True]), (x[0, 0, 0] * 4)),
    lambda lib, y, x: y.masked_scatter_(lib.tensor(X > 0), x.reshape(-1) * 10),
    lambda lib, y, x: y.index_put_((lib.tensor([0, 1, 1]), lib.tensor([2, 0, 0])), lib.tensor(2.0), accumulate=True),
    lambda lib, y, x: y.index_put_((lib.tensor([1]),), x[0] * 2),
    lambda lib, y, x: y.put_(lib.tensor([0, 5, 23]), x[0, 0, :3] * 2),
])
def test_inplace_variants(fn):
    def run(lib, x):
        y = x * 1.5
        ver = y._version if lib is torch else y._version[0]
        out = fn(lib, y, x)
        assert out is y
        assert (y._version if lib is torch else y._version[0]) > ver
        return y * y
    grads_match(run)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_legacy_reduce_values():
    idx = np.array([[0, 1, 0, 0], [2, 2, 1, 0]])
    for reduce in ("add", "multiply"):
        e = ember.tensor(X[0]).scatter(0, ember.tensor(idx), ember.tensor(X[1][:2]), reduce=reduce)
        t = torch.tensor(X[0]).scatter(0, torch.tensor(idx), torch.tensor(X[1][:2]), reduce=reduce)
        close(e, t)
        e = ember.tensor(X[0]).scatter_(0, ember.tensor(idx), 2.0, reduce=reduce)
        t = torch.tensor(X[0]).scatter_(0, torch.tensor(idx), 2.0, reduce=reduce)
        close(e, t)


def test_double_backward_through_setitem_and_gather():
    res = []
    for lib in (ember, torch):
        x = lib.tensor(X.copy(), requires_grad=True)
        y = x * x
        y[:, 1] = x[:, 2] * 3
        z = y.gather(2, lib.tensor(np.array([[[0, 0], [3, 1], [2, 2]]] * 2))).sum()
        (g,) = lib.autograd.grad(z, x, create_graph=True)
        (g * g).sum().backward()
        res.append(x.grad)
    close(*res)


def test_inplace_variants_refuse_leaf():
    x = ember.ones(3, requires_grad=True)
    idx = ember.tensor([0])
    for call in (lambda: x.index_fill_(0, idx, 1.0), lambda: x.scatter_(0, idx, 1.0),
                 lambda: x.masked_fill_(ember.tensor([True, False, False]), 0.0),
                 lambda: x.index_add_(0, idx, ember.ones(1))):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            call()


def test_zero_dim_input():
    for fn in (lambda lib, x: x.index_select(0, lib.tensor([0])), lambda lib, x: x.gather(0, lib.tensor(0)),
               lambda lib, x: x[None][lib.tensor([0, 0])], lambda lib, x: x.index_add(0, lib.tensor([0]), x * 2)):
        grads_match(lambda lib, x: fn(lib, x) * 3, data=np.array(1.5, np.float32))


def test_nonzero_where_single():
    a = np.array([[1, 0], [2, 3]])
    e = ember.where(ember.tensor(a))
    t = torch.where(torch.tensor(a))
    assert len(e) == len(t) and all(x.tolist() == y.tolist() for x, y in zip(e, t))
    assert ember.nonzero(ember.tensor(3.0)).shape == (1, 0)
    assert [v.tolist() for v in ember.nonzero(ember.tensor(3.0), as_tuple=True)] == [[0]]
    assert ember.nonzero(ember.tensor(a)).dtype == ember.int64


# ---- errors -------------------------------------------------------------------------------
def _err(fn, exc, msg):
    for lib in (torch, ember):
        x = lib.tensor(X[0].copy())      # shape (3, 4)
        with pytest.raises(exc) as info:
            fn(lib, x)
        assert msg in str(info.value), (lib.__name__, str(info.value))


@pytest.mark.parametrize("fn,exc,msg", [
    (lambda lib, x: x[5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda lib, x: x[:, -5], IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    (lambda lib, x: x[[0, 5]], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda lib, x: x[[0, 1], [0, 9]], IndexError, "index 9 is out of bounds for dimension 1 with size 4"),
    (lambda lib, x: x[::-1], ValueError, "step must be greater than zero"),
    (lambda lib, x: x[lib.tensor([1.0])], IndexError, "tensors used as indices must be long, int, byte or bool tensors"),
    (lambda lib, x: x[lib.tensor([True, False, True, False])], IndexError,
     "The shape of the mask [4] at index 0 does not match the shape of the indexed tensor [3, 4] at index 0"),
    (lambda lib, x: x[0, 0, 0], IndexError, "too many indices for tensor of dimension 2"),
    (lambda lib, x: x[1.5], IndexError, "only integers, slices"),
    (lambda lib, x: x.gather(1, lib.tensor([0, 1])), RuntimeError,
     "Index tensor must have the same number of dimensions as input tensor"),
    (lambda lib, x: x.gather(1, lib.tensor([[0, 9]])), RuntimeError, "index 9 is out of bounds for dimension 1 with size 4"),
    (lambda lib, x: x.gather(1, lib.tensor([[-1]])), RuntimeError, "index -1 is out of bounds for dimension 1 with size 4"),
    (lambda lib, x: x.scatter_add(1, lib.tensor([[-1]]), x), RuntimeError, "index -1 is out of bounds for dimension 1 with size 4"),
    (lambda lib, x: x.index_select(1, lib.tensor([-1])), RuntimeError, "INDICES element is out of DATA bounds, id=-1 axis_dim=4"),
    (lambda lib, x: x.index_add(1, lib.tensor([4]), lib.ones(3, 1)), RuntimeError, "index 4 is out of bounds for dimension 1 with size 4"),
    (lambda lib, x: x.index_copy(1, lib.tensor([-1]), lib.ones(3, 1)), IndexError,
     "index_copy_(): index -1 is out of bounds for dimension 1 with size 4"),
    (lambda lib, x: x.index_select(1, lib.tensor([0.0])), RuntimeError, "index_select(): Expected dtype int32 or int64 for index"),
    (lambda lib, x: x.index_select(1, lib.tensor([[0]])), IndexError, "index_select(): Index is supposed to be a vector"),
    (lambda lib, x: x.scatter(1, lib.tensor([[0, 9]]), 1.0), RuntimeError, "index 9 is out of bounds for dimension 1 with size 4"),
    (lambda lib, x: x.masked_fill(lib.tensor([1.0, 0, 0, 0]), 1.0), RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype float"),
    (lambda lib, x: x.masked_fill(lib.tensor([True, False, True, False]), lib.ones(2)), RuntimeError,
     "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension(s)."),
    (lambda lib, x: x.masked_fill(lib.tensor([1, 0, 0, 0]), 1.0), RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype long int"),
    (lambda lib, x: x.masked_scatter(lib.tensor([1.0, 0, 0, 0], dtype=lib.float64), x), RuntimeError,
     "masked_scatter_ only supports boolean masks, but got mask with dtype Double"),
    (lambda lib, x: x.masked_select(lib.tensor([1.0, 0, 0, 0])), RuntimeError, "masked_select: expected BoolTensor for mask"),
    (lambda lib, x: x.masked_scatter(lib.ones(3, 4, dtype=lib.bool), lib.ones(5)), RuntimeError,
     "Number of elements of source < number of ones in mask"),
    (lambda lib, x: x.take(lib.tensor([12])), IndexError, "out of range: tried to access index 12 on a tensor of 12 elements."),
    (lambda lib, x: x.index_add(0, lib.tensor([0, 1]), lib.ones(3, 4)), RuntimeError,
     "index_add_(): Number of indices (2) should be equal to source.size(dim): (3), for dim: 0"),
    (lambda lib, x: x.index_add(0, lib.tensor([0]), lib.ones(1, 4, dtype=lib.float64)), RuntimeError,
     "index_add_(): self (Float) and source (Double) must have the same scalar type"),
    (lambda lib, x: x.index_copy(0, lib.tensor([0, 1]), lib.ones(3, 4)), IndexError,
     "index_copy_(): Number of indices (2) should be equal to source.size(dim) (3)"),
    (lambda lib, x: x.index_fill(0, lib.tensor([0, 5]), 1.0), IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda lib, x: x.gather(1, lib.tensor([[0]], dtype=lib.int16)), RuntimeError, "gather(): Expected dtype int32/int64 for index"),
    (lambda lib, x: x.take(lib.tensor([0], dtype=lib.int32)), RuntimeError, "take(): Expected a long tensor for index, but got Int"),
    (lambda lib, x: x.index_fill(1, lib.tensor([0], dtype=lib.int32), 1.0), IndexError, "index_fill_(): Expected dtype int64 for index."),
    (lambda lib, x: x.index_copy(1, lib.tensor([[0]]), lib.ones(3, 1)), IndexError, "index_copy_(): Index should have dimension 1 or 0 (got 2)"),
    (lambda lib, x: x.index_add(1, lib.tensor([0.0]), lib.ones(3, 1)), RuntimeError,
     "index_add_(): Expected dtype int32/int64 for index but got: Float"),
    (lambda lib, x: x.put(lib.tensor([0]), lib.ones(2)), IndexError,
     "put_(): Expected source and index to have the same number of elements, but got source.numel() = 2, index.numel() = 1"),
    (lambda lib, x: x.__setitem__(([0, 1], [0, 1]), lib.ones(3)), RuntimeError,
     "shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2]"),
])
def test_errors_match_torch(fn, exc, msg):
    _err(fn, exc, msg)


@pytest.mark.parametrize("dim", [0, 1])
def test_index_add_many_repeats_matches_torch(dim):
    """index_add with long rows and indices repeated past the vectorised passes (add_rows_at)."""
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.integers(0, 6, 300), np.full(100, 2)])      # index 2 repeated > 100 times
    shape = (6, 40) if dim == 0 else (40, 6)
    src_shape = (400, 40) if dim == 0 else (40, 400)
    x, src = rng.standard_normal(shape), rng.standard_normal(src_shape)
    e = ember.tensor(x).index_add(dim, ember.tensor(idx), ember.tensor(src), alpha=0.5)
    t = torch.tensor(x).index_add(dim, torch.tensor(idx), torch.tensor(src), alpha=0.5)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stmt", [
    "a[:, 1] = lib.tensor([1., 2.])", "a[[0, 1]] = lib.ones(3)", "a[0] = lib.ones(2, 4)",
    "a[a > 0] = lib.ones(2)", "a[0:2] = lib.ones(3, 4)", "a[0] = lib.ones(1, 1, 3)",
    "a[:, :2] = lib.ones(3, 3)", "a[...] = lib.ones(2, 1, 4)", "a[0] = lib.ones(5, dtype=lib.int64)",
])
def test_setitem_shape_mismatch_errors_as_torch(stmt):
    errs = []
    for lib in (ember, torch):
        a = lib.zeros(3, 4)
        with pytest.raises(RuntimeError) as info:
            exec(stmt, {"a": a, "lib": lib})
        errs.append(str(info.value))
    assert errs[0] == errs[1]


@pytest.mark.parametrize("stmt", [
    "a[m] = 0", "a[m] = lib.tensor(0.)", "a[m] = lib.tensor([1., 2.])", "a[lib.tensor([0, 2])] = 0",
    "a[[0, 2]] = lib.tensor([5., 6.])", "a.masked_fill_(m, 0)", "a.index_put_((lib.tensor([0]),), lib.tensor(1.))",
    "a.index_put_((m,), lib.tensor(1.))", "a.index_fill_(0, lib.tensor([0]), 2.)", "a[0] = 3", "a.fill_(3)",
    "b[0, lib.tensor([0, 1])] = 2", "b[:, lib.tensor([0, 1])] = 2", "c[0, lib.tensor([0, 1])] = 2",
    "c[lib.tensor([True, False])] = 1", "b[lib.tensor([True, False])] = 1", "lib.ones(3)[m[:3]] = 0",
])
def test_writes_into_expanded_tensors_warn_as_torch(stmt):
    """torch deprecates index_put_/masked_fill_/index_fill_ on tensors whose elements share memory
    (e.g. a custom backward writing into the expanded grad_output of sum()): same warnings, same values."""
    import warnings
    got = []
    for lib in (ember, torch):
        env = {"lib": lib, "a": lib.ones(1).expand(4), "m": lib.tensor([True, False, True, False]),
               "b": lib.ones(2, 1).expand(2, 3), "c": lib.arange(3.).expand(2, 3)}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(stmt, env)
        # which of the writes to one memory location wins is torch's implementation detail: masked_fill_
        # there writes the masked elements only, ember the whole result
        got.append(([str(w.message).split(" (Triggered internally")[0] for w in caught],
                    None if "masked_fill_" in stmt else (env["a"].tolist(), env["b"].tolist(), env["c"].tolist())))
    assert got[0] == got[1]
