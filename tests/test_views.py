"""View semantics (shared storage, strides, version counters), in-place shape ops and errors, vs torch."""
import numpy as np
import pytest
import torch

import ember


def _pair(*shape, dtype=np.float32):
    a = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    return ember.tensor(a), torch.tensor(a)


VIEWS = {
    "t": lambda x: x.t(),
    "transpose": lambda x: x.transpose(0, 1),
    "swapaxes": lambda x: x.swapaxes(-1, 0),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "permute": lambda x: x.permute(1, 0),
    "expand": lambda x: x.unsqueeze(0).expand(2, 3, 4),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "narrow0": lambda x: x.narrow(0, 1, 2),
    "select": lambda x: x.select(1, 2),
    "diagonal": lambda x: x.diagonal(),
    "diagonal_off": lambda x: x.diagonal(-1),
    "unfold": lambda x: x.unfold(1, 2, 1),
    "squeeze": lambda x: x.unsqueeze(1).squeeze(),
    "unsqueeze": lambda x: x.unsqueeze(-1),
    "flatten": lambda x: x.flatten(),
    "unflatten": lambda x: x.t().unflatten(0, (2, 2)),
    "movedim": lambda x: x.movedim(0, 1),
    "view": lambda x: x.view(2, 6),
    "split": lambda x: x.split(1, 1)[1],
    "chunk": lambda x: x.chunk(2)[1],
    "unbind": lambda x: x.unbind(1)[2],
    "tensor_split": lambda x: x.tensor_split(3, 1)[1],
    "broadcast_to": lambda x: ember.broadcast_to(x, (2, 3, 4)) if isinstance(x, ember.Tensor)
    else torch.broadcast_to(x, (2, 3, 4)),
    "ravel": lambda x: x.ravel(),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_strides_and_storage(name):
    e, t = _pair(3, 4)
    ev, tv = VIEWS[name](e), VIEWS[name](t)
    assert tuple(ev.shape) == tuple(tv.shape)
    assert ev.stride() == tv.stride()
    assert ev.is_contiguous() == tv.is_contiguous()
    assert ev.storage_offset() == tv.storage_offset()
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    assert ev._base is e
    assert ev._version is e._version
    writer = (e, t) if name in ("expand", "broadcast_to", "unfold") else (ev, tv)   # overlapping: write the base
    writer[0].add_(1)
    writer[1].add_(1)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())
    assert e._version_value == t._version == ev._version_value


def test_write_through_view_changes_base():
    x = ember.zeros(2, 3)
    x.view(6)[0] = 5
    x.t()[2, 1] = 7
    x.select(0, 1).mul_(2)
    assert x.tolist() == [[5, 0, 0], [0, 0, 14]]
    v = x.diagonal()
    v.add_(1)
    assert x.tolist() == [[6, 0, 0], [0, 1, 14]]
    y = ember.zeros(3)
    y.select(0, 1).add_(1)
    y.unbind()[2].add_(2)
    y[0].add_(3)
    assert y.tolist() == [3, 1, 2] and y._version_value == 3


def test_view_of_view_shares_base_and_version():
    x = ember.zeros(4, 6)
    v = x.t().narrow(0, 1, 3).unfold(1, 2, 2)
    assert v._base is x and v._version is x._version
    before = x._version_value
    v.add_(1)
    assert x._version_value == before + 1
    assert x.sum().item() == 3 * 4


def test_multi_output_views_share_version():
    x = ember.zeros(4, 2)
    parts = x.split(2)
    assert all(p._base is x and p._version is x._version for p in parts)
    parts[1].add_(1)
    assert x.tolist() == [[0, 0], [0, 0], [1, 1], [1, 1]]
    assert x._version_value == 1
    rows = list(x)
    rows[0].mul_(3)
    assert x._version_value == 2


def test_view_on_transposed_raises_and_reshape_copies():
    e, t = _pair(2, 3)
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
        e.t().view(6)
    with pytest.raises(RuntimeError):
        t.t().view(6)
    r = e.t().reshape(6)
    assert r._base is None and r.is_contiguous()
    np.testing.assert_array_equal(r.numpy(), t.t().reshape(6).numpy())
    r.add_(100)
    assert e.max().item() == 5
    f = e.t().flatten()
    assert f._base is None and f.tolist() == t.t().flatten().tolist()


def test_copies_do_not_share():
    e, t = _pair(2, 3)
    for fn in (lambda x: x.flip(0), lambda x: x.roll(1), lambda x: x.repeat(1, 1), lambda x: x.clone(),
               lambda x: x.t().contiguous(), lambda x: x.tile(1), lambda x: x.rot90(4)):
        c, tc = fn(e), fn(t)
        assert c._base is None
        assert c.stride() == tc.stride()
        c.add_(1)
    assert e.tolist() == t.tolist()
    assert e.contiguous() is e


def test_clone_memory_formats():
    e, t = _pair(2, 3, 4, 5)
    assert e.permute(0, 2, 1, 3).clone().stride() == t.permute(0, 2, 1, 3).clone().stride()
    assert (e.permute(0, 2, 1, 3).clone(memory_format=ember.contiguous_format).stride()
            == t.permute(0, 2, 1, 3).clone(memory_format=torch.contiguous_format).stride())
    assert (e.clone(memory_format=ember.channels_last).stride()
            == t.clone(memory_format=torch.channels_last).stride())
    assert e[:, :, ::2].clone().stride() == t[:, :, ::2].clone().stride()
    assert repr(ember.preserve_format) == "torch.preserve_format"


def test_expand_shares_version():
    x = ember.zeros(3, 1)
    y = x.expand(3, 4)
    assert y._base is x and y._version is x._version and y.stride() == (1, 0)


def test_inplace_shape_variants():
    for name, args in (("t_", ()), ("transpose_", (0, 1)), ("swapaxes_", (1, 0)), ("squeeze_", ()),
                       ("unsqueeze_", (1,)), ("squeeze_", (0,))):
        e, t = _pair(1, 3)
        r, tr = getattr(e, name)(*args), getattr(t, name)(*args)
        assert r is e
        assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
        assert e._version_value == t._version
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D"):
        ember.zeros(2, 2, 2).t()


def test_inplace_shape_variant_keeps_history():
    a = ember.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    b = a * 2
    b.t_()
    assert tuple(b.shape) == (3, 1)
    (b * ember.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert a.grad.tolist() == [[2.0, 4.0, 6.0]]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        a.t_()


def test_T_properties(monkeypatch):
    monkeypatch.setattr(ember._tensor, "_WARNED", set())     # torch warns once per process
    e, t = _pair(2, 3, 4)
    with pytest.warns(UserWarning, match="x.T"):
        assert tuple(e.T.shape) == tuple(t.T.shape) == (4, 3, 2)
    assert e.mT.stride() == t.mT.stride()
    assert tuple(e.mH.shape) == (2, 4, 3)
    for getter in (lambda x: x.H, lambda x: x.mT):
        with pytest.raises(RuntimeError) as ee:
            getter(e[0, 0])
        with pytest.raises(RuntimeError) as te:
            getter(t[0, 0])
        assert str(ee.value) == str(te.value)


def test_multi_output_grads_flow_into_several_outputs():
    def run(lib, x):
        a, b, c = x.split([1, 2, 1], dim=1)
        u = x.unbind(0)
        k = x.chunk(2, dim=-1)
        return (a * 2).sum() + (c ** 2).sum() + u[1].sum() * 3 + (k[0] * u[0][:2]).sum() \
            + b.t().sum() * 0.5
    xe = ember.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    xt = torch.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    run(ember, xe).backward()
    run(torch, xt).backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_double_backward_through_views():
    for fn in (lambda x: x.narrow(1, 1, 2), lambda x: x.select(0, 1), lambda x: x.diagonal(1),
               lambda x: x.unfold(1, 2, 1), lambda x: x.repeat_interleave(2, 0)):
        xs = [lib.tensor(np.linspace(0.5, 2, 12).reshape(3, 4), requires_grad=True) for lib in (ember, torch)]
        gs = []
        for lib, x in zip((ember, torch), xs):
            y = (fn(x) ** 3).sum()
            (g,) = lib.autograd.grad(y, x, create_graph=True)
            (gg,) = lib.autograd.grad((g * g).sum(), x)
            gs.append(gg.detach().numpy())
        np.testing.assert_allclose(gs[0], gs[1], rtol=1e-10)


def test_iter_uses_unbind():
    e, t = _pair(3, 2)
    assert [r.tolist() for r in e] == [r.tolist() for r in t]
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(ember.tensor(1.0))


def _same_error(fn, exc):
    with pytest.raises(exc) as te:
        fn(torch)()
    with pytest.raises(exc) as ee:
        fn(ember)()
    assert str(ee.value) == str(te.value).split("\n")[0]


ERRORS = [
    (lambda L: lambda: L.cat([L.zeros(2, 3), L.zeros(3, 2)], 1), RuntimeError),
    (lambda L: lambda: L.cat([L.zeros(2, 3), L.zeros(2, 2, 1)]), RuntimeError),
    (lambda L: lambda: L.cat([L.zeros(()), L.zeros(2)]), RuntimeError),
    (lambda L: lambda: L.cat([]), ValueError),
    (lambda L: lambda: L.cat([L.zeros(2), 1]), TypeError),
    (lambda L: lambda: L.cat([L.zeros(2, 3)], 2), IndexError),
    (lambda L: lambda: L.stack([L.zeros(2, 3), L.zeros(3, 3)]), RuntimeError),
    (lambda L: lambda: L.stack([]), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).split([1, 1], 1), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).split([3, -1], 1), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).split(0), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).split(-1), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).permute(0), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).permute(0, 0), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).permute(0, 2), IndexError),
    (lambda L: lambda: L.zeros(2, 3).squeeze(2), IndexError),
    (lambda L: lambda: L.zeros(2, 3).squeeze((0, 5)), IndexError),
    (lambda L: lambda: L.zeros(2, 3).unsqueeze(3), IndexError),
    (lambda L: lambda: L.zeros(2, 3).transpose(0, 2), IndexError),
    (lambda L: lambda: L.zeros(2, 3).narrow(0, 1, 2), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).narrow(0, 3, 1), IndexError),
    (lambda L: lambda: L.zeros(2, 3).narrow(0, 0, -1), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).select(0, 2), IndexError),
    (lambda L: lambda: L.zeros(()).select(0, 0), IndexError),
    (lambda L: lambda: L.zeros(2, 3).chunk(0), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).tensor_split(0), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).unfold(1, 4, 1), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).unfold(1, 2, 0), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).diagonal(0, 0, 0), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).flatten(1, 0), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).unflatten(1, (2, 2)), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).movedim((0, 1), (0,)), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).movedim((0, 0), (0, 1)), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).repeat(2), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).roll(1, (0, 1)), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).flip(0, 0), RuntimeError),
    (lambda L: lambda: L.rot90(L.zeros(2, 3), 1, (0, 0)), RuntimeError),
    (lambda L: lambda: L.zeros(3).rot90(), RuntimeError),
    (lambda L: lambda: L.fliplr(L.zeros(3)), RuntimeError),
    (lambda L: lambda: L.zeros(2, 3).repeat_interleave(L.tensor([1, 2, 3])), RuntimeError),
    (lambda L: lambda: L.broadcast_shapes((2, 3), (3, 2)), RuntimeError),
    (lambda L: lambda: L.broadcast_to(L.zeros(2, 3), (3, 3)), RuntimeError),
    (lambda L: lambda: L.broadcast_tensors(L.zeros(2, 3), L.zeros(3, 3)), RuntimeError),
    (lambda L: lambda: L.zeros(()).unbind(), IndexError),
    (lambda L: lambda: L.zeros(2, 2, 2).t_(), RuntimeError),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_match_torch(k):
    fn, exc = ERRORS[k]
    if k == len(ERRORS) - 1:   # t_ names itself in torch's message
        with pytest.raises(exc, match="expects a tensor with <= 2 dimensions, but self is 3D"):
            fn(ember)()
        return
    _same_error(fn, exc)


def test_cat_dtype_promotion_and_empty():
    e = ember.cat([ember.ones(2, dtype=ember.int32), ember.zeros(0), ember.ones(1, dtype=ember.bool)])
    t = torch.cat([torch.ones(2, dtype=torch.int32), torch.zeros(0), torch.ones(1, dtype=torch.bool)])
    assert str(e.dtype) == str(t.dtype) and e.tolist() == t.tolist()
    assert tuple(ember.cat([ember.zeros(0), ember.zeros(0)]).shape) == (0,)
    out = ember.zeros(4)
    r = ember.cat([ember.ones(2), ember.ones(2)], out=out)
    assert r is out and out.tolist() == [1, 1, 1, 1]


def test_broadcast_shapes_and_atleast():
    assert ember.broadcast_shapes((2, 1), (3,), 1) == torch.broadcast_shapes((2, 1), (3,), 1)
    assert isinstance(ember.broadcast_shapes(2, (3, 1)), ember.Size)
    x = ember.zeros(3)
    assert isinstance(ember.atleast_2d(x), ember.Tensor)
    assert isinstance(ember.atleast_2d(x, x), tuple) and isinstance(ember.atleast_2d([x]), tuple)
    assert [tuple(ember.atleast_3d(ember.zeros(s)).shape) for s in ((), (3,), (2, 3))] == \
        [tuple(torch.atleast_3d(torch.zeros(s)).shape) for s in ((), (3,), (2, 3))]


def test_chunk_and_split_counts():
    for n, c in ((5, 3), (6, 4), (0, 3), (2, 5)):
        assert [tuple(p.shape) for p in ember.zeros(n).chunk(c)] == [tuple(p.shape) for p in torch.zeros(n).chunk(c)]
        assert [tuple(p.shape) for p in ember.zeros(n).tensor_split(c)] == \
            [tuple(p.shape) for p in torch.zeros(n).tensor_split(c)]
    assert len(ember.zeros(0).split(2)) == len(torch.zeros(0).split(2))


@pytest.mark.parametrize("view", [lambda y: y.narrow(0, 1, 2), lambda y: y.t(), lambda y: y.diagonal(),
                                  lambda y: y.select(1, 2), lambda y: y.permute(1, 0).unsqueeze(0)])
def test_inplace_through_view_grads(view):
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
        y = x * 2
        view(y).mul_(3)
        (y * y).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_view_history_regenerated_after_base_modified_in_place():
    """A view used after its base (or another view of it) was written in place reads the new
    values and backpropagates through the new history, as torch's regenerated view does."""
    import torch

    def run(lib):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = w * 1
        v = x[1:]
        x.mul_(2)
        u = x[:2]
        x[2] = 10.0
        ((v * lib.tensor([1.0, 3.0])).sum() + u.sum()).backward()
        return w.grad.tolist(), v.tolist(), type(v.grad_fn).__name__
    assert run(ember) == run(torch)


def _outcome(fn, lib):
    """``fn(lib)``'s values, or its exception type and message."""
    try:
        r = fn(lib)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e)
    return r.tolist() if hasattr(r, "tolist") else r


INPLACE_ON_EXPANDED = {
    "add_": lambda e: e.add_(1),
    "mul_": lambda e: e.mul_(2),
    "exp_": lambda e: e.exp_(),
    "clamp_": lambda e: e.clamp_(0, 1),
    "copy_": lambda e: e.copy_(e.clone()),
    "uniform_": lambda e: e.uniform_(),
    "scatter_": lambda e: e.scatter_(1, e.new_zeros((2, 1)).long(), 1.0),
    "fill_": lambda e: e.fill_(1),                          # torch allows these three
    "zero_": lambda e: e.zero_(),
    "setitem": lambda e: e.__setitem__(0, 1.0),
}


@pytest.mark.parametrize("op", list(INPLACE_ON_EXPANDED))
def test_inplace_on_expanded_tensor_as_torch(op):
    def run(lib):
        base = lib.zeros(3)
        r = INPLACE_ON_EXPANDED[op](base.expand(2, 3))
        return base if op != "uniform_" else r.shape
    te, tt = _outcome(run, ember), _outcome(run, torch)
    assert str(te) == str(tt)


VIEW_DTYPE = {
    "same_size": lambda lib: lib.arange(6.).reshape(2, 3).view(lib.int32),
    "narrower": lambda lib: lib.arange(6.).reshape(2, 3).view(lib.float16),
    "bfloat16": lambda lib: lib.arange(6.).reshape(2, 3).view(lib.bfloat16).float(),
    "wider": lambda lib: lib.arange(4.).view(lib.float64),
    "to_bool": lambda lib: lib.tensor([0, 1, 2], dtype=lib.uint8).view(lib.bool),
    "keyword": lambda lib: lib.arange(4.).view(dtype=lib.int32),
    "0dim_same": lambda lib: lib.tensor(1.).view(lib.int32),
    "0dim_other": lambda lib: lib.tensor(1.).view(lib.float16),
    "odd_last": lambda lib: lib.arange(6.).reshape(2, 3).view(lib.float64),
    "strided_last": lambda lib: lib.arange(6.).reshape(2, 3)[:, ::2].view(lib.float16),
    "offset": lambda lib: lib.arange(6.).reshape(2, 3)[:, 1:].view(lib.float64),
    "transposed_same": lambda lib: lib.arange(6.).reshape(2, 3).t().view(lib.int32).stride(),
}


@pytest.mark.parametrize("case", list(VIEW_DTYPE))
def test_view_dtype_as_torch(case):
    assert _outcome(VIEW_DTYPE[case], ember) == _outcome(VIEW_DTYPE[case], torch)


def test_view_dtype_shares_storage_and_version_without_history():
    for lib in (ember, torch):
        base = lib.zeros(4, requires_grad=True)
        v = base.detach().view(lib.int32)
        v[0] = 1065353216                                  # the bits of 1.0
        version = (lambda t: t._version) if lib is torch else (lambda t: t._version_value)
        assert base[0].item() == 1.0 and version(base) == version(v) == 1
        w = base.view(lib.int32)
        assert w.grad_fn is None and not w.requires_grad


def test_expand_with_fewer_sizes_raises_as_torch():
    msgs = [_outcome(lambda lib: lib.zeros(2, 1, dtype=lib.float64).expand(3), lib) for lib in (ember, torch)]
    assert msgs[0] == msgs[1] and msgs[0][0] == "RuntimeError" and "DoubleTensor" in msgs[0][1]


_T_WARNINGS = """
import warnings, {lib} as T
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for shape in ((2, 3, 4), (2,), (2, 3, 4), (), ()):
        T.ones(shape).T
    T.set_warn_always(True)
    T.ones(3).T
    T.ones(()).T
print([str(w.message)[:40] for w in caught])
"""


def test_T_deprecation_warns_once_per_process_as_torch():
    import subprocess
    import sys
    out = [subprocess.run([sys.executable, "-c", _T_WARNINGS.format(lib=lib)], capture_output=True, text=True,
                          check=True).stdout for lib in ("ember", "torch")]
    assert out[0] == out[1] and out[0].count("'") == 8
