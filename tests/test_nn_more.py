"""Fractional max pooling, AdaptiveLogSoftmaxWithLoss, NLLLoss2d / Container, func.functional_call and
nn.utils.skip_init against torch: values, indices, gradients, reprs, state_dict keys and torch's errors."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF
from ember.autograd import gradcheck

import torch
TF = torch.nn.functional

from .test_nn_extra import _same_error  # noqa: E402

_DT = {"float32": (torch.float32, ember.float32), "float64": (torch.float64, ember.float64),
       "float16": (torch.float16, ember.float16), "bfloat16": (torch.bfloat16, ember.bfloat16)}


def _both(a, dtype="float64", grad=False):
    """The same values as a torch and an ember tensor of ``dtype``."""
    td, ed = _DT[dtype]
    t = torch.tensor(a).to(td)
    e = ember.tensor(a).to(ed)
    if grad:
        t.requires_grad_(True)
        e.requires_grad_(True)
    return t, e


def _np(t):
    t = t.detach()
    return (t.float() if t.dtype in (torch.bfloat16, ember.bfloat16) else t).numpy()


def _samples(n, c, nd, dtype, seed=0):
    return _both(np.random.default_rng(seed).random((n, c, nd)), dtype)


# ---- fractional max pooling -----------------------------------------------------------------------
POOL2D = [((2, 3, 7, 8), 2, (4, 5)), ((2, 3, 11, 13), (3, 2), (5, 6)), ((3, 9, 9), 3, (3, 3)),
          ((4, 2, 50, 61), (3, 2), (17, 29)), ((1, 1, 5, 6), 2, (1, 1)), ((2, 2, 6, 6), 2, (5, 5))]
POOL3D = [((2, 3, 5, 6, 7), 2, (3, 4, 5)), ((2, 5, 6, 5), (2, 1, 3), (3, 4, 2)), ((1, 2, 9, 8, 7), 3, (4, 3, 2))]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("shape,k,out", POOL2D + POOL3D)
def test_fractional_max_pool_matches_torch(shape, k, out, dtype):
    nd = len(out)
    x = np.random.default_rng(1).standard_normal(shape)
    tx, ex = _both(x, dtype)
    ts, es = _samples(shape[0] if len(shape) == nd + 2 else 1, shape[-nd - 1], nd, dtype)
    tf, ef = (TF.fractional_max_pool2d, EF.fractional_max_pool2d) if nd == 2 else \
        (TF.fractional_max_pool3d, EF.fractional_max_pool3d)
    ty, ti = tf(tx, k, output_size=out, return_indices=True, _random_samples=ts)
    ey, ei = ef(ex, k, output_size=out, return_indices=True, _random_samples=es)
    assert ey.dtype == _DT[dtype][1] and ei.dtype == ember.int64
    assert tuple(ey.shape) == tuple(ty.shape)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    np.testing.assert_array_equal(_np(ey), _np(ty))
    plain = ef(ex, k, output_size=out, _random_samples=es)
    np.testing.assert_array_equal(_np(plain), _np(ty))


@pytest.mark.parametrize("shape,k,out", POOL2D + POOL3D)
def test_fractional_max_pool_grads_match_torch(shape, k, out):
    nd = len(out)
    x = np.random.default_rng(2).standard_normal(shape)
    tx, ex = _both(x, grad=True)
    ts, es = _samples(shape[0] if len(shape) == nd + 2 else 1, shape[-nd - 1], nd, "float64", seed=3)
    tf, ef = (TF.fractional_max_pool2d, EF.fractional_max_pool2d) if nd == 2 else \
        (TF.fractional_max_pool3d, EF.fractional_max_pool3d)
    ty = tf(tx, k, output_size=out, _random_samples=ts)
    ey = ef(ex, k, output_size=out, _random_samples=es)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    g = np.random.default_rng(4).standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_fractional_max_pool_grad_fn_names():
    ts, es = _samples(1, 2, 2, "float32")
    ty = TF.fractional_max_pool2d(torch.randn(1, 2, 6, 6, requires_grad=True), 2, output_size=3, _random_samples=ts)
    ey = EF.fractional_max_pool2d(ember.randn(1, 2, 6, 6, requires_grad=True), 2, output_size=3, _random_samples=es)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__ == "FractionalMaxPool2DBackward0"
    ts, es = _samples(1, 2, 3, "float32")
    ty = TF.fractional_max_pool3d(torch.randn(1, 2, 6, 6, 6, requires_grad=True), 2, output_size=3,
                                  _random_samples=ts)
    ey = EF.fractional_max_pool3d(ember.randn(1, 2, 6, 6, 6, requires_grad=True), 2, output_size=3,
                                  _random_samples=es)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__ == "FractionalMaxPool3DBackward0"


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_gradcheck(nd):
    shape = (2, 2, 7, 6) if nd == 2 else (1, 2, 5, 6, 5)
    x = ember.tensor(np.random.default_rng(5).standard_normal(shape), requires_grad=True)
    s = ember.tensor(np.random.default_rng(6).random((shape[0], 2, nd)))
    f = EF.fractional_max_pool2d if nd == 2 else EF.fractional_max_pool3d
    assert gradcheck(lambda x: f(x, 2, output_size=(4 if nd == 2 else 3,) * nd, _random_samples=s), (x,))


def test_fractional_max_pool_output_ratio_and_unbatched():
    x = np.random.default_rng(7).standard_normal((3, 10, 9))
    tx, ex = _both(x)
    ts, es = _samples(1, 3, 2, "float64")
    ty = TF.fractional_max_pool2d(tx, 2, output_ratio=(0.5, 0.7), _random_samples=ts)
    ey = EF.fractional_max_pool2d(ex, 2, output_ratio=(0.5, 0.7), _random_samples=es)
    assert tuple(ey.shape) == tuple(ty.shape) == (3, 5, 6)
    np.testing.assert_array_equal(ey.numpy(), ty.numpy())
    x3 = np.random.default_rng(8).standard_normal((2, 8, 7, 6))
    tx, ex = _both(x3)
    ts, es = _samples(1, 2, 3, "float64")
    ty = TF.fractional_max_pool3d(tx, 2, output_ratio=0.5, _random_samples=ts)
    ey = EF.fractional_max_pool3d(ex, 2, output_ratio=0.5, _random_samples=es)
    np.testing.assert_array_equal(ey.numpy(), ty.numpy())


def test_fractional_max_pool_nan_and_ties():
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = np.nan
    x[0, 0, 4, 4] = -np.inf
    tx, ex = _both(x)
    ts, es = _samples(1, 1, 2, "float64", seed=11)
    ty, ti = TF.fractional_max_pool2d(tx, 2, output_size=4, return_indices=True, _random_samples=ts)
    ey, ei = EF.fractional_max_pool2d(ex, 2, output_size=4, return_indices=True, _random_samples=es)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    np.testing.assert_array_equal(ey.numpy(), ty.numpy())


def test_fractional_max_pool_draws_samples_from_ember_rng():
    x = ember.randn(2, 3, 9, 9)
    ember.manual_seed(123)
    y1, i1 = EF.fractional_max_pool2d(x, 2, output_size=4, return_indices=True)
    ember.manual_seed(123)
    s = ember.rand(2, 3, 2)
    y2, i2 = EF.fractional_max_pool2d(x, 2, output_size=4, return_indices=True, _random_samples=s)
    np.testing.assert_array_equal(i1.numpy(), i2.numpy())
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    y3 = EF.fractional_max_pool2d(x, 2, output_size=4)
    assert tuple(y3.shape) == (2, 3, 4, 4)
    # every output is the max of some 2x2 window of its plane
    windows = np.lib.stride_tricks.sliding_window_view(x.numpy(), (2, 2), axis=(2, 3)).max(axis=(-1, -2))
    for n in range(2):
        for c in range(3):
            assert np.isin(y3.numpy()[n, c], windows[n, c]).all()


def test_fractional_max_pool_modules():
    ts, es = _samples(2, 3, 2, "float32")
    tm = torch.nn.FractionalMaxPool2d(3, output_size=(4, 5), return_indices=True, _random_samples=ts)
    em = enn.FractionalMaxPool2d(3, output_size=(4, 5), return_indices=True, _random_samples=es)
    assert repr(em) == repr(tm) == "FractionalMaxPool2d()"
    assert list(em.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    assert em.kernel_size == tm.kernel_size and em.output_size == tm.output_size and em.output_ratio is None
    x = np.random.default_rng(9).standard_normal((2, 3, 9, 10)).astype(np.float32)
    tx, ex = _both(x, "float32")
    (ty, ti), (ey, ei) = tm(tx), em(ex)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    np.testing.assert_array_equal(ey.numpy(), ty.numpy())
    tm = torch.nn.FractionalMaxPool2d(2, output_ratio=0.5)
    em = enn.FractionalMaxPool2d(2, output_ratio=0.5)
    assert list(em.state_dict()) == list(tm.state_dict()) == []
    assert em.output_ratio == tm.output_ratio == (0.5, 0.5)
    assert tuple(em(ex).shape) == tuple(tm(tx).shape)
    ts3, es3 = _samples(2, 3, 3, "float32")
    tm3 = torch.nn.FractionalMaxPool3d(2, output_size=3, _random_samples=ts3)
    em3 = enn.FractionalMaxPool3d(2, output_size=3, _random_samples=es3)
    assert repr(em3) == repr(tm3) == "FractionalMaxPool3d()"
    assert em3.kernel_size == tm3.kernel_size == (2, 2, 2)
    x3 = np.random.default_rng(10).standard_normal((2, 3, 6, 7, 5)).astype(np.float32)
    tx3, ex3 = _both(x3, "float32")
    np.testing.assert_array_equal(em3(ex3).numpy(), tm3(tx3).numpy())


def _fx(shape, dtype="float32"):
    return _both(np.random.default_rng(12).standard_normal(shape), dtype)


def _fmp_errors():
    x4 = _fx((2, 3, 7, 8))
    x5 = _fx((2, 3, 5, 6, 7))
    s2 = _samples(2, 3, 2, "float32")
    s3 = _samples(2, 3, 3, "float32")
    F2 = (TF.fractional_max_pool2d, EF.fractional_max_pool2d)
    F3 = (TF.fractional_max_pool3d, EF.fractional_max_pool3d)
    cases = {
        "no_size": (F2, x4, (2,), {}, None),
        "ratio_float": (F2, x4, (2,), {"output_ratio": 0.5}, None),
        "ratio_len3": (F2, x4, (2,), {"output_ratio": (0.5, 0.5, 0.5)}, s2),
        "pool_height": (F2, x4, (2,), {"output_size": (7, 4)}, s2),
        "pool_width": (F2, x4, (2,), {"output_size": (4, 8)}, s2),
        "kernel_too_big": (F2, x4, (9,), {"output_size": (4, 4)}, s2),
        "kernel_len": (F2, x4, ((2, 2, 2),), {"output_size": (4, 4)}, s2),
        "out_len": (F2, x4, (2,), {"output_size": (4, 4, 4)}, s2),
        "ndim": (F2, _fx((7, 8)), (2,), {"output_size": (4, 4)}, s2),
        "ndim5": (F2, _fx((1, 2, 3, 7, 8)), (2,), {"output_size": (4, 4)}, s2),
        "empty": (F2, _fx((2, 3, 0, 8)), (2,), {"output_size": (4, 4)}, s2),
        "negative": (F2, x4, (2,), {"output_size": (-1, 4)}, s2),
        "samples_dtype": (F2, x4, (2,), {"output_size": (4, 4)}, _samples(2, 3, 2, "float64")),
        "samples_ndim": (F2, x4, (2,), {"output_size": (4, 4)}, (s2[0][0], s2[1][0])),
        "samples_batch": (F2, x4, (2,), {"output_size": (4, 4)}, _samples(1, 3, 2, "float32")),
        "samples_channels": (F2, x4, (2,), {"output_size": (4, 4)}, _samples(2, 4, 2, "float32")),
        "samples_last": (F2, x4, (2,), {"output_size": (4, 4)}, _samples(2, 3, 3, "float32")),
        "int_input": (F2, (x4[0].long(), x4[1].long()), (2,), {"output_size": (4, 4)},
                      (s2[0].long(), s2[1].long())),
        "no_size3": (F3, x5, (2,), {}, None),
        "ratio_short3": (F3, x5, (2,), {"output_ratio": (0.5, 0.5)}, s3),
        "pool_time": (F3, x5, (2,), {"output_size": (5, 4, 4)}, s3),
        "pool_time_edge": (F3, x5, (2,), {"output_size": (4, 4, 4)}, s3),
        "kernel_len3": (F3, x5, ((2, 2),), {"output_size": (3, 4, 5)}, s3),
        "out_len3": (F3, x5, (2,), {"output_size": (3, 4)}, s3),
        "ndim3": (F3, _fx((5, 6, 7)), (2,), {"output_size": (3, 4, 5)}, s3),
        "empty3": (F3, _fx((2, 3, 0, 6, 7)), (2,), {"output_size": (3, 4, 5)}, s3),
        "samples_last3": (F3, x5, (2,), {"output_size": (3, 4, 5)}, s2),
        "int_input3": (F3, (x5[0].long(), x5[1].long()), (2,), {"output_size": (3, 4, 5)},
                       (s3[0].long(), s3[1].long())),
    }
    return cases


_FMP_ERRORS = _fmp_errors()


@pytest.mark.parametrize("case", sorted(_FMP_ERRORS))
def test_fractional_max_pool_errors(case):
    (tf, ef), x, args, kw, s = _FMP_ERRORS[case]
    _same_error(lambda: tf(x[0], *args, **kw, _random_samples=None if s is None else s[0]),
                lambda: ef(x[1], *args, **kw, _random_samples=None if s is None else s[1]))


def test_fractional_max_pool_samples_requiring_grad_error():
    ts, es = _samples(1, 1, 2, "float32")
    _same_error(lambda: TF.fractional_max_pool2d(torch.randn(1, 1, 6, 6), 2, output_size=3,
                                                 _random_samples=ts.requires_grad_()),
                lambda: EF.fractional_max_pool2d(ember.randn(1, 1, 6, 6), 2, output_size=3,
                                                 _random_samples=es.requires_grad_()))


@pytest.mark.parametrize("nd,args,kw", [
    (2, (3,), {}), (2, (3, 2, 0.5), {}), (2, (3,), {"output_ratio": 1.5}), (2, (3,), {"output_ratio": (0.5, 0)}),
    (2, (3,), {"output_ratio": (0.5,)}), (3, (0,), {"output_ratio": 0.5}), (3, ((2, 0, 2),), {"output_size": 2}),
    (3, (3,), {}), (3, (3,), {"output_ratio": (0.5, 0.5, 1)}), (3, (3,), {"output_ratio": (0.5, 0.5)}),
])
def test_fractional_max_pool_module_errors(nd, args, kw):
    name = f"FractionalMaxPool{nd}d"
    _same_error(lambda: getattr(torch.nn, name)(*args, **kw), lambda: getattr(enn, name)(*args, **kw))


# ---- AdaptiveLogSoftmaxWithLoss ---------------------------------------------------------------------
def _asm_pair(in_features=16, n_classes=20, cutoffs=(4, 10, 15), div_value=2.0, head_bias=True):
    torch.manual_seed(0)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value=div_value,
                                             head_bias=head_bias).double()
    em = enn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value=div_value,
                                        head_bias=head_bias).double()
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def test_adaptive_log_softmax_structure_and_init():
    for kw in [{}, {"div_value": 2.0, "head_bias": True}, {"div_value": 3.0}]:
        tm = torch.nn.AdaptiveLogSoftmaxWithLoss(24, 30, [5, 12, 20], **kw)
        em = enn.AdaptiveLogSoftmaxWithLoss(24, 30, [5, 12, 20], **kw)
        assert repr(em) == repr(tm)
        ts, es = tm.state_dict(), em.state_dict()
        assert list(es) == list(ts)
        assert all(tuple(es[k].shape) == tuple(ts[k].shape) and es[k].dtype == ember.float32 for k in ts)
        for k, v in es.items():         # nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            if v.numel() == 0:              # div_value 3: the second cluster's projection has 24 // 27 = 0 features
                continue
            bound = 1 / np.sqrt(24 if k.endswith(("head.weight", "head.bias", ".0.weight")) else v.shape[1])
            assert np.abs(v.numpy()).max() <= bound and v.numpy().std() > bound / 4
        assert (em.cutoffs, em.shortlist_size, em.n_clusters, em.head_size) == \
            (tm.cutoffs, tm.shortlist_size, tm.n_clusters, tm.head_size)


def test_adaptive_log_softmax_matches_torch():
    tm, em = _asm_pair()
    rng = np.random.default_rng(13)
    tx, ex = _both(rng.standard_normal((12, 16)), grad=True)
    target = np.array([0, 3, 4, 9, 10, 14, 15, 19, 2, 12, 17, 5])
    tt, et = torch.tensor(target), ember.tensor(target)
    to, eo = tm(tx, tt), em(ex, et)
    assert type(eo).__name__ == "_ASMoutput" and eo._fields == ("output", "loss")
    np.testing.assert_allclose(eo.output.detach().numpy(), to.output.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(eo.loss.item(), to.loss.item(), rtol=1e-12)
    to.loss.backward()
    eo.loss.backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, tp), (ename, ep) in zip(tm.named_parameters(), em.named_parameters()):
        assert name == ename
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(em.log_prob(ex).detach().numpy(), tm.log_prob(tx).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.exp(em.log_prob(ex).detach().numpy()).sum(1), 1.0, rtol=1e-12)


def test_adaptive_log_softmax_predict_all_branches():
    tm, em = _asm_pair()
    rng = np.random.default_rng(14)
    tx, ex = _both(rng.standard_normal((40, 16)))
    with torch.no_grad():
        head_b = tm.head.bias.numpy()
    for bias in (np.full(7, 0.0), np.array([9.0, 9, 9, 9, -9, -9, -9]), np.array([-9.0, -9, -9, -9, 9, 9, 9])):
        with torch.no_grad():
            tm.head.bias.copy_(torch.tensor(bias))
        with ember.no_grad():
            em.head.bias.copy_(ember.tensor(bias))
        tp, ep = tm.predict(tx), em.predict(ex)
        assert ep.dtype == ember.int64
        np.testing.assert_array_equal(ep.numpy(), tp.numpy())
        np.testing.assert_array_equal(ep.numpy(), em.log_prob(ex).argmax(dim=1).numpy())
    assert head_b.shape == (7,)


def test_adaptive_log_softmax_unbatched_and_float32():
    tm, em = _asm_pair(head_bias=False)
    tx, ex = _both(np.random.default_rng(15).standard_normal(16))
    for c in (2, 11, 18):
        to, eo = tm(tx, torch.tensor(c)), em(ex, ember.tensor(c))
        assert tuple(eo.output.shape) == tuple(to.output.shape) == ()
        np.testing.assert_allclose(eo.output.item(), to.output.item(), rtol=1e-12)
        np.testing.assert_allclose(eo.loss.item(), to.loss.item(), rtol=1e-12)
    tm, em = tm.float(), em.float()
    tx, ex = _both(np.random.default_rng(16).standard_normal((5, 16)), "float32")
    target = np.array([1, 19, 7, 12, 0])
    to, eo = tm(tx, torch.tensor(target)), em(ex, ember.tensor(target))
    assert eo.output.dtype == ember.float32
    np.testing.assert_allclose(eo.output.detach().numpy(), to.output.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_adaptive_log_softmax_trains():
    ember.manual_seed(0)
    m = enn.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7])
    opt = ember.optim.SGD(m.parameters(), lr=0.5)
    rng = np.random.default_rng(17)
    xs = rng.standard_normal((64, 8))
    x = ember.tensor(xs, dtype=ember.float32)
    y = ember.tensor((xs @ rng.standard_normal((8, 12))).argmax(1))
    first = m(x, y).loss.item()
    for _ in range(100):
        opt.zero_grad()
        loss = m(x, y).loss
        loss.backward()
        opt.step()
    assert loss.item() < first * 0.5


@pytest.mark.parametrize("make_x,target", [
    (lambda: np.zeros((4, 16)), [0, 1, 20, 3]), (lambda: np.zeros((4, 16)), [0, -1, 2, 3]),
    (lambda: np.zeros((3, 16)), [0, 1, 2, 3]), (lambda: np.zeros((4, 2, 16)), [0, 1, 2, 3]),
    (lambda: np.zeros((2, 16)), 3), (lambda: np.zeros((2, 16)), [[0, 1]]),
])
def test_adaptive_log_softmax_forward_errors(make_x, target):
    tm, em = _asm_pair()
    tx, ex = _both(make_x())
    _same_error(lambda: tm(tx, torch.tensor(target)), lambda: em(ex, ember.tensor(target)))


@pytest.mark.parametrize("cutoffs", [[], [5, 3], [0, 4], [4, 20], [4, 4, 8], [2.5, 8]])
def test_adaptive_log_softmax_cutoff_errors(cutoffs):
    _same_error(lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs),
                lambda: enn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs))


# ---- NLLLoss2d and Container ------------------------------------------------------------------------
def _warned(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [(x.category, str(x.message)) for x in w]


def test_nllloss2d():
    tw, ew = _both(np.array([1.0, 2.0, 0.5]))
    tl, twarn = _warned(lambda: torch.nn.NLLLoss2d(weight=tw, ignore_index=1))
    el, ewarn = _warned(lambda: enn.NLLLoss2d(weight=ew, ignore_index=1))
    assert ewarn == twarn and twarn[0][0] is FutureWarning
    assert isinstance(el, enn.NLLLoss) and repr(el) == repr(tl) == "NLLLoss2d()"
    assert list(el.state_dict()) == list(tl.state_dict()) == ["weight"]
    rng = np.random.default_rng(18)
    tx, ex = _both(rng.standard_normal((2, 3, 4, 5)), grad=True)
    target = rng.integers(0, 3, (2, 4, 5))
    tv, ev = tl(TF.log_softmax(tx, 1), torch.tensor(target)), el(EF.log_softmax(ex, 1), ember.tensor(target))
    np.testing.assert_allclose(ev.item(), tv.item(), rtol=1e-12)
    tv.backward()
    ev.backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_container():
    assert hasattr(torch.nn, "Container")
    torch.manual_seed(0)
    tc, twarn = _warned(lambda: torch.nn.Container(a=torch.nn.Linear(2, 3), b=torch.nn.ReLU()))
    ec, ewarn = _warned(lambda: enn.Container(a=enn.Linear(2, 3), b=enn.ReLU()))
    assert ewarn == twarn and twarn[0][0] is FutureWarning
    assert repr(ec) == repr(tc)
    assert list(ec.state_dict()) == list(tc.state_dict()) == ["a.weight", "a.bias"]
    assert isinstance(ec, enn.Module) and ec.a is ec._modules["a"]


# ---- functional_call ------------------------------------------------------------------------------------
class _TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.bn = torch.nn.BatchNorm1d(3)
        self.out = torch.nn.Linear(3, 2)

    def forward(self, x, scale=1.0):
        return self.out(torch.relu(self.bn(self.fc(x)))) * scale


class _ENet(enn.Module):
    def __init__(self):
        super().__init__()
        self.fc = enn.Linear(4, 3)
        self.bn = enn.BatchNorm1d(3)
        self.out = enn.Linear(3, 2)

    def forward(self, x, scale=1.0):
        return self.out(ember.relu(self.bn(self.fc(x)))) * scale


_TNet.__name__ = _ENet.__name__ = "Net"          # error messages name the module class


def _nets():
    tm, em = _TNet().double(), _ENet().double()
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def test_functional_call_matches_torch_and_leaves_module_unchanged():
    tm, em = _nets()
    before = {k: v.numpy().copy() for k, v in em.state_dict().items()}
    rng = np.random.default_rng(19)
    new = {"fc.weight": rng.standard_normal((3, 4)), "out.bias": rng.standard_normal(2),
           "bn.running_mean": rng.standard_normal(3)}
    tp = {k: torch.tensor(v, requires_grad=k != "bn.running_mean") for k, v in new.items()}
    ep = {k: ember.tensor(v, requires_grad=k != "bn.running_mean") for k, v in new.items()}
    tx, ex = _both(rng.standard_normal((5, 4)))
    ty = torch.func.functional_call(tm, tp, (tx,), {"scale": 2.0})
    ey = ember.func.functional_call(em, ep, (ex,), {"scale": 2.0})
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    # train-mode BatchNorm updated the given running_mean in place, not the module's
    np.testing.assert_allclose(ep["bn.running_mean"].numpy(), tp["bn.running_mean"].numpy(), rtol=1e-12)
    assert not np.allclose(ep["bn.running_mean"].numpy(), new["bn.running_mean"])
    ty.sum().backward()
    ey.sum().backward()
    for k in ("fc.weight", "out.bias"):
        np.testing.assert_allclose(ep[k].grad.numpy(), tp[k].grad.numpy(), rtol=1e-10, atol=1e-12)
    assert em.fc.weight.grad is None and em.out.bias.grad is None
    assert em.fc.bias.grad is not None
    after = em.state_dict()
    for k in before:
        if k not in ("bn.running_mean", "bn.running_var", "bn.num_batches_tracked"):
            np.testing.assert_array_equal(after[k].numpy(), before[k], err_msg=k)
    np.testing.assert_array_equal(after["bn.running_mean"].numpy(), before["bn.running_mean"])
    assert isinstance(em.fc.weight, enn.Parameter) and isinstance(em.fc._parameters["weight"], enn.Parameter)
    # a non-tuple args is one positional argument; a list of disjoint dicts is merged
    ey2 = ember.func.functional_call(em.eval(), [{"fc.weight": ep["fc.weight"]}, {"out.bias": ep["out.bias"]}], ex)
    ty2 = torch.func.functional_call(tm.eval(), [{"fc.weight": tp["fc.weight"]}, {"out.bias": tp["out.bias"]}], tx)
    np.testing.assert_allclose(ey2.detach().numpy(), ty2.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_stateless_functional_call_warns():
    tm, em = _nets()
    tx, ex = _both(np.ones((2, 4)))
    ty, twarn = _warned(lambda: torch.nn.utils.stateless.functional_call(tm, {}, tx))
    ey, ewarn = _warned(lambda: ember.nn.utils.stateless.functional_call(em, {}, ex))
    assert ewarn == twarn and twarn[0][0] is FutureWarning
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-12)


def _tied(nn):
    m = nn.Sequential(nn.Linear(3, 3, bias=False), nn.Linear(3, 3, bias=False)).double()
    m[1].weight = m[0].weight
    return m


def test_functional_call_tied_weights():
    tm, em = _tied(torch.nn), _tied(enn)
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    w = np.random.default_rng(20).standard_normal((3, 3))
    tw, ew = _both(w)
    tx, ex = _both(np.random.default_rng(21).standard_normal((2, 3)))
    for tie in (True, False):
        ty = torch.func.functional_call(tm, {"0.weight": tw}, (tx,), tie_weights=tie)
        ey = ember.func.functional_call(em, {"0.weight": ew}, (ex,), tie_weights=tie)
        np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        assert ey.requires_grad == ty.requires_grad == (not tie)
    ey = ember.func.functional_call(em, {"0.weight": ew}, (ex,))
    np.testing.assert_allclose(ey.numpy(), ex.numpy() @ w.T @ w.T, rtol=1e-12)
    tw2, ew2 = _both(w * 2)
    _same_error(lambda: torch.func.functional_call(tm, {"0.weight": tw, "1.weight": tw2}, (tx,)),
                lambda: ember.func.functional_call(em, {"0.weight": ew, "1.weight": ew2}, (ex,)))
    ey = ember.func.functional_call(em, {"0.weight": ew, "1.weight": ew}, (ex,))
    np.testing.assert_allclose(ey.numpy(), ex.numpy() @ w.T @ w.T, rtol=1e-12)


@pytest.mark.parametrize("case", ["strict_missing", "strict_unexpected", "repeated", "not_dicts", "not_dict",
                                  "bad_value", "bad_path", "not_tensor_attr"])
def test_functional_call_errors(case):
    tm, em = _nets()
    tx, ex = _both(np.ones((2, 4)))
    tw, ew = _both(np.ones((3, 4)))
    args = {"strict_missing": lambda w: ({"fc.weight": w},), "strict_unexpected": lambda w: ({"fc.nope": w},),
            "repeated": lambda w: ([{"fc.weight": w}, {"fc.weight": w}],), "not_dicts": lambda w: ([{}, 3],),
            "not_dict": lambda w: (3,), "bad_value": lambda w: ({"fc.weight": 3},),
            "bad_path": lambda w: ({"nope.weight": w},), "not_tensor_attr": lambda w: ({"fc.in_features": w},)}[case]
    kw = {"strict": True} if case.startswith("strict") else {}
    _same_error(lambda: torch.func.functional_call(tm, *args(tw), (tx,), **kw),
                lambda: ember.func.functional_call(em, *args(ew), (ex,), **kw))
    assert isinstance(em.fc.weight, enn.Parameter) and isinstance(em.fc.in_features, int)


def test_functional_call_restores_after_forward_error_and_strict_ok():
    _, em = _nets()
    orig = em.fc.weight
    with pytest.raises(RuntimeError):
        ember.func.functional_call(em, {"fc.weight": ember.ones(3, 4)}, (ember.ones(2, 5),))
    assert em.fc.weight is orig
    full = {k: v.clone() for k, v in em.state_dict(keep_vars=True).items()}
    y = ember.func.functional_call(em, full, (ember.ones(2, 4, dtype=ember.float64),), strict=True)
    assert tuple(y.shape) == (2, 2) and em.fc.weight is orig


# ---- skip_init ----------------------------------------------------------------------------------------
def test_skip_init():
    ember.manual_seed(7)
    m = enn.utils.skip_init(enn.Linear, 5, 3, bias=True)
    after_skip = ember.rand(4).numpy()
    ember.manual_seed(7)
    np.testing.assert_array_equal(ember.rand(4).numpy(), after_skip)   # no random numbers drawn
    tm = torch.nn.utils.skip_init(torch.nn.Linear, 5, 3, bias=True)
    assert type(m) is enn.Linear and repr(m) == repr(tm)
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert m.weight.requires_grad and m.weight.device.type == "cpu"
    c = enn.utils.skip_init(enn.Conv2d, 2, 4, 3, dtype=ember.float64)
    assert tuple(c.weight.shape) == (4, 2, 3, 3) and c.weight.dtype == ember.float64
    # the initialisers work again afterwards
    assert enn.init.kaiming_uniform_(ember.zeros(3, 3)).abs().max().item() > 0


def test_skip_init_errors():
    class TNoDevice(torch.nn.Module):
        def __init__(self, n):
            super().__init__()

    class ENoDevice(enn.Module):
        def __init__(self, n):
            super().__init__()

    _same_error(lambda: torch.nn.utils.skip_init(TNoDevice, 3), lambda: enn.utils.skip_init(ENoDevice, 3))
    _same_error(lambda: torch.nn.utils.skip_init(int, 3), lambda: enn.utils.skip_init(int, 3))
    _same_error(lambda: torch.nn.utils.skip_init(3), lambda: enn.utils.skip_init(3))


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_double_backward(nd):
    shape = (2, 2, 7, 6) if nd == 2 else (1, 2, 5, 6, 5)
    x = np.random.default_rng(22).standard_normal(shape)
    tx, ex = _both(x, grad=True)
    ts, es = _samples(shape[0], 2, nd, "float64", seed=23)
    out = (4 if nd == 2 else 3,) * nd
    tf, ef = (TF.fractional_max_pool2d, EF.fractional_max_pool2d) if nd == 2 else \
        (TF.fractional_max_pool3d, EF.fractional_max_pool3d)
    assert ember.autograd.gradgradcheck(lambda x: ef(x, 2, output_size=out, _random_samples=es), (ex,))
    g = np.random.default_rng(24).standard_normal(shape[:2] + out)
    tg, eg = _both(g, grad=True)
    (tgx,) = torch.autograd.grad(tf(tx, 2, output_size=out, _random_samples=ts), tx, tg, create_graph=True)
    (egx,) = ember.autograd.grad(ef(ex, 2, output_size=out, _random_samples=es), ex, eg, create_graph=True)
    w = np.random.default_rng(25).standard_normal(shape)
    (tgg,) = torch.autograd.grad((tgx * torch.tensor(w)).sum(), tg)
    (egg,) = ember.autograd.grad((egx * ember.tensor(w)).sum(), eg)
    np.testing.assert_allclose(egg.numpy(), tgg.numpy(), rtol=1e-12, atol=1e-12)
