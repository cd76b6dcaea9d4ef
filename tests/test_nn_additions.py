"""Fold/Unfold, LPPool, multi-(label) margin losses, RMSNorm, triplet loss with a distance function, pdist,
gumbel_softmax, feature alpha dropout, the *_with_indices pools and interpolate(mode='area') against torch:
values, gradients (double backward where torch's composition has it), reprs, state_dicts and errors."""
import math

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF
from ember.autograd import gradcheck, gradgradcheck

import torch
TF = torch.nn.functional

from .test_nn_extra import _backward_both, _same_error  # noqa: E402

_DT = {"float32": (torch.float32, ember.float32), "float64": (torch.float64, ember.float64),
       "float16": (torch.float16, ember.float16), "bfloat16": (torch.bfloat16, ember.bfloat16)}


def _pair(a, grad=None, dtype="float64"):
    """The same array as a torch and an ember tensor (requires_grad for floats unless told)."""
    g = a.dtype.kind == "f" if grad is None else grad
    if a.dtype.kind != "f":
        return torch.tensor(a), ember.tensor(a)
    tdt, edt = _DT[dtype]
    return torch.tensor(a, dtype=tdt, requires_grad=g), ember.tensor(a).to(edt).requires_grad_(g)


def _close(e, t, atol=1e-10, rtol=1e-7):
    t = t.detach().float().numpy() if t.dtype in (torch.float16, torch.bfloat16) else t.detach().numpy()
    e = e.detach().float().numpy() if e.dtype in (ember.float16, ember.bfloat16) else e.detach().numpy()
    assert e.shape == t.shape
    np.testing.assert_allclose(e, t, atol=atol, rtol=rtol)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- Fold / Unfold ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,kw", [((2, 3, 5, 6), dict(kernel_size=(2, 3), dilation=1, padding=1, stride=2)),
                                      ((3, 5, 6), dict(kernel_size=2)),
                                      ((1, 2, 7, 7), dict(kernel_size=3, dilation=2, padding=(1, 0), stride=(1, 2)))])
def test_unfold_module(shape, kw):
    tx, ex = _pair(_rand(*shape))
    tm, em = torch.nn.Unfold(**kw), enn.Unfold(**kw)
    assert repr(em) == repr(tm)
    t, e = tm(tx), em(ex)
    _close(e, t)
    _backward_both(t, e)
    _close(ex.grad, tx.grad)
    assert gradgradcheck(em, (ex.detach().requires_grad_(),))


@pytest.mark.parametrize("shape,out,kw", [((2, 12, 9), (4, 5), dict(kernel_size=2, padding=1, stride=2)),
                                          ((12, 9), (4, 5), dict(kernel_size=2, padding=1, stride=2)),
                                          ((1, 18, 4), (5, 6), dict(kernel_size=(3, 2), dilation=(1, 2), stride=2))])
def test_fold_module(shape, out, kw):
    tx, ex = _pair(_rand(*shape))
    tm, em = torch.nn.Fold(out, **kw), enn.Fold(out, **kw)
    assert repr(em) == repr(tm)
    t, e = tm(tx), em(ex)
    _close(e, t)
    _backward_both(t, e)
    _close(ex.grad, tx.grad)
    assert gradgradcheck(em, (ex.detach().requires_grad_(),))


def test_fold_unfold_errors():
    for shape, kw in [((1, 1, 1, 4, 4), dict(kernel_size=2)), ((4, 4), dict(kernel_size=2)),
                      ((2, 0, 4, 4), dict(kernel_size=2)), ((1, 3, 1, 1), dict(kernel_size=2)),
                      ((2, 3, 4, 4), dict(kernel_size=(2, 2, 2))), ((2, 3, 4, 4), dict(kernel_size=2, padding=-1)),
                      ((2, 3, 4, 4), dict(kernel_size=0)), ((2, 3, 4, 4), dict(kernel_size=2, stride=0)),
                      ((2, 3, 4, 4), dict(kernel_size=2, dilation=0))]:
        if len(shape) == 2:     # torch indexes a missing dim: IndexError with its own range text
            with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
                EF.unfold(ember.zeros(shape), **kw)
            continue
        _same_error(lambda: TF.unfold(torch.zeros(shape), **kw), lambda: EF.unfold(ember.zeros(shape), **kw))
    for shape, out, kw in [((1, 1, 12, 9), (4, 4), dict(kernel_size=2)), ((2, 0, 9), (4, 4), dict(kernel_size=2)),
                           ((12, 9), (4, 4), dict(kernel_size=2, stride=3)), ((13, 9), (4, 4), dict(kernel_size=2)),
                           ((2, 12, 9), (4, 4, 4), dict(kernel_size=2)),
                           ((2, 12, 9), (4, 4), dict(kernel_size=2, dilation=(1, 0)))]:
        _same_error(lambda: TF.fold(torch.zeros(shape), out, **kw), lambda: EF.fold(ember.zeros(shape), out, **kw))


# ---- LPPool ------------------------------------------------------------------------------------------
LP_CASES = [(1, (2, 3, 9), dict(kernel_size=3, stride=2)), (1, (3, 8), dict(kernel_size=2, ceil_mode=True)),
            (2, (2, 3, 6, 7), dict(kernel_size=3, stride=2, ceil_mode=True)), (2, (3, 5, 5), dict(kernel_size=(2, 3))),
            (3, (1, 2, 4, 5, 6), dict(kernel_size=2, stride=(1, 2, 2))), (3, (2, 4, 4, 4), dict(kernel_size=(2, 1, 3)))]


@pytest.mark.parametrize("nd,shape,kw", LP_CASES)
@pytest.mark.parametrize("p", [1, 2, 3.0, 1.5, float("inf"), -float("inf")])
def test_lp_pool(nd, shape, kw, p):
    tx, ex = _pair(_rand(*shape, seed=nd))
    t = getattr(TF, f"lp_pool{nd}d")(tx, p, **kw)
    e = getattr(EF, f"lp_pool{nd}d")(ex, p, **kw)
    _close(e, t)            # non-integer p: windows with a negative sum are nan in both
    _backward_both(t, e)
    _close(ex.grad, tx.grad)


@pytest.mark.parametrize("nd,shape,kw", LP_CASES[::2])
def test_lp_pool_module(nd, shape, kw):
    tm = getattr(torch.nn, f"LPPool{nd}d")(2, **kw)
    em = getattr(enn, f"LPPool{nd}d")(2, **kw)
    assert repr(em) == repr(tm)
    tx, ex = _pair(_rand(*shape))
    _close(em(ex), tm(tx))
    assert gradgradcheck(em, (ex.detach().requires_grad_(),))
    assert repr(enn.LPPool2d(1.5, 2, 1, True)) == repr(torch.nn.LPPool2d(1.5, 2, 1, True))


def test_lp_pool_zero_window_has_zero_gradient():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2:, 2:] = [[1.0, 2.0], [0.5, 3.0]]
    for p in (2, 1.5, 3.0):
        tx, ex = _pair(x)
        t, e = TF.lp_pool2d(tx, p, 2), EF.lp_pool2d(ex, p, 2)
        _close(e, t)
        t.sum().backward()
        e.sum().backward()
        assert np.isfinite(ex.grad.numpy()).all()
        _close(ex.grad, tx.grad)


def test_lp_pool_errors():
    # the pooling kernels' own checks (the same exception type as torch; the texts are avg_pool's)
    for nd, shape in [(1, (1, 2, 3, 4)), (2, (1, 2, 3, 4, 4)), (3, (2, 4, 4))]:
        with pytest.raises(RuntimeError):
            getattr(TF, f"lp_pool{nd}d")(torch.zeros(shape), 2, 2)
        with pytest.raises(RuntimeError, match=rf"avg_pool{nd}d: Expected .*{list(shape)}".replace("[", r"\[")):
            getattr(EF, f"lp_pool{nd}d")(ember.zeros(shape), 2, 2)


# ---- multi-class margin losses ----------------------------------------------------------------------
MM_X = _rand(5, 4, seed=3)
MM_Y = np.array([0, 3, 2, 2, 1])
MM_W = np.random.default_rng(4).uniform(0.5, 2.0, 4)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_multi_margin_loss(p, reduction, weighted, batched, dtype):
    x, y = (MM_X, MM_Y) if batched else (MM_X[1], MM_Y[1])
    tx, ex = _pair(x, dtype=dtype)
    tw, ew = _pair(MM_W, grad=False, dtype=dtype) if weighted else (None, None)
    t = TF.multi_margin_loss(tx, torch.tensor(y), p, 0.7, tw, reduction=reduction)
    e = EF.multi_margin_loss(ex, ember.tensor(y), p, 0.7, ew, reduction=reduction)
    atol = 1e-10 if dtype == "float64" else 1e-6
    _close(e, t, atol=atol, rtol=1e-6)
    assert e.dtype.is_floating_point and str(e.dtype) == str(t.dtype)
    assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__
    _backward_both(t, e)
    _close(ex.grad, tx.grad, atol=atol, rtol=1e-6)


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_double_backward(p):
    ex = ember.tensor(MM_X, requires_grad=True)
    ew = ember.tensor(MM_W)
    assert gradcheck(lambda x: EF.multi_margin_loss(x, ember.tensor(MM_Y), p, 0.9, ew), (ex,))
    assert gradgradcheck(lambda x: EF.multi_margin_loss(x, ember.tensor(MM_Y), p, 0.9, ew, reduction="none"), (ex,))


def test_multi_margin_loss_module_and_errors():
    w = torch.tensor(MM_W)
    tm, em = torch.nn.MultiMarginLoss(p=2, margin=0.5, weight=w), enn.MultiMarginLoss(p=2, margin=0.5,
                                                                                      weight=ember.tensor(MM_W))
    assert repr(em) == repr(tm) == "MultiMarginLoss()"
    assert list(em.state_dict()) == list(tm.state_dict()) == ["weight"]
    _close(em(ember.tensor(MM_X), ember.tensor(MM_Y)), tm(torch.tensor(MM_X), torch.tensor(MM_Y)))
    _close(enn.MultiMarginLoss(reduction="sum", size_average=False)(ember.tensor(MM_X), ember.tensor(MM_Y)),
           torch.nn.MultiMarginLoss(reduction="sum", size_average=False)(torch.tensor(MM_X), torch.tensor(MM_Y)))
    _same_error(lambda: torch.nn.MultiMarginLoss(p=3), lambda: enn.MultiMarginLoss(p=3))
    _same_error(lambda: torch.nn.MultiMarginLoss(weight=torch.ones(2, 2)),
                lambda: enn.MultiMarginLoss(weight=ember.ones(2, 2)))
    x, y = (torch.tensor(MM_X), ember.tensor(MM_X)), (torch.tensor(MM_Y), ember.tensor(MM_Y))
    cases = [lambda L, x, y: L[2].multi_margin_loss(x, y, p=3),
             lambda L, x, y: L[2].multi_margin_loss(x, L[0].tensor([0, 1])),
             lambda L, x, y: L[2].multi_margin_loss(x, L[0].tensor([0, 1, 5, 0, 0])),
             lambda L, x, y: L[2].multi_margin_loss(x, L[0].tensor([0, 1, -1, 0, 0])),
             lambda L, x, y: L[2].multi_margin_loss(x, y, weight=L[0].ones(3, dtype=L[0].float64)),
             lambda L, x, y: L[2].multi_margin_loss(x, y, weight=L[0].ones(4)),
             lambda L, x, y: L[2].multi_margin_loss(x, y, weight=L[0].ones(2, 2)),
             lambda L, x, y: L[2].multi_margin_loss(x, y.float()),
             lambda L, x, y: L[2].multi_margin_loss(x, y.int()),
             lambda L, x, y: L[2].multi_margin_loss(x.reshape(5, 2, 2), y),
             lambda L, x, y: L[2].multi_margin_loss(x[:, :0], y),
             lambda L, x, y: L[2].multi_margin_loss(x, y.reshape(5, 1)),
             lambda L, x, y: L[2].multi_margin_loss(x[0], y[:2]),
             lambda L, x, y: L[2].multi_margin_loss(x, y, reduction="foo")]
    for case in cases:
        _same_error(lambda: case((torch, None, TF), x[0], y[0]), lambda: case((ember, None, EF), x[1], y[1]))


ML_T = np.array([[1, 3, -1, 0], [1, 1, 2, -1], [-1, 0, 1, 2], [0, 1, 2, 3], [3, -1, -1, -1]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["batched", "vector", "scalar"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_multilabel_margin_loss(reduction, case, dtype):
    x, y = {"batched": (MM_X, ML_T), "vector": (MM_X[1], ML_T[1]),
            "scalar": (MM_X[0, :1].reshape(()), np.array(0))}[case]
    tx, ex = _pair(x, dtype=dtype)
    t = TF.multilabel_margin_loss(tx, torch.tensor(y), reduction=reduction)
    e = EF.multilabel_margin_loss(ex, ember.tensor(y), reduction=reduction)
    atol = 1e-10 if dtype == "float64" else 1e-6
    _close(e, t, atol=atol, rtol=1e-6)
    assert str(e.dtype) == str(t.dtype)
    assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__
    _backward_both(t, e)
    _close(ex.grad, tx.grad, atol=atol, rtol=1e-6)


def test_multilabel_margin_loss_gradcheck_module_and_errors():
    ex = ember.tensor(MM_X, requires_grad=True)
    assert gradgradcheck(lambda x: EF.multilabel_margin_loss(x, ember.tensor(ML_T), reduction="none"), (ex,))
    tm, em = torch.nn.MultiLabelMarginLoss(reduction="sum"), enn.MultiLabelMarginLoss(reduction="sum")
    assert repr(em) == repr(tm)
    _close(em(ember.tensor(MM_X), ember.tensor(ML_T)), tm(torch.tensor(MM_X), torch.tensor(ML_T)))
    cases = [(np.zeros(4), np.array([3, 0, -1])), (np.zeros(4), np.array([3, 0, -1, 7])),
             (np.zeros((2, 3, 4)), np.zeros((2, 3, 4), np.int64)), (np.zeros((2, 4)), np.zeros((3, 4), np.int64)),
             (np.zeros((2, 4)), np.array([[-2, 0, 0, 0], [0, 0, 0, 0]])), (np.zeros((2, 4)), ML_T[:2].astype(np.int32)),
             (np.zeros((2, 0)), np.zeros((2, 0), np.int64))]
    for x, y in cases:
        _same_error(lambda: TF.multilabel_margin_loss(torch.tensor(x), torch.tensor(y)),
                    lambda: EF.multilabel_margin_loss(ember.tensor(x), ember.tensor(y)))
    _same_error(lambda: TF.multilabel_margin_loss(torch.zeros(2, 4), torch.zeros(2, 4, dtype=torch.long),
                                                  reduction="avg"),
                lambda: EF.multilabel_margin_loss(ember.zeros(2, 4), ember.zeros(2, 4, dtype=ember.long),
                                                  reduction="avg"))


# ---- RMSNorm ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("ns,weighted,eps", [((4,), True, None), ((3, 4), False, None), ((4,), True, 1e-3),
                                             ((2, 3, 4), True, 0.5)])
def test_rms_norm(dtype, ns, weighted, eps):
    tx, ex = _pair(_rand(2, 3, 4), dtype=dtype)
    tw, ew = _pair(np.random.default_rng(1).uniform(0.5, 1.5, ns), dtype=dtype) if weighted else (None, None)
    t, e = TF.rms_norm(tx, ns, tw, eps), EF.rms_norm(ex, ns, ew, eps)
    tol = {"float64": 1e-12, "float32": 1e-6, "float16": 2e-3}[dtype]
    _close(e, t, atol=tol, rtol=tol)
    assert str(e.dtype) == str(t.dtype)
    _backward_both(t, e)
    _close(ex.grad, tx.grad, atol=tol * 10, rtol=tol)
    if weighted:
        _close(ew.grad, tw.grad, atol=tol * 10, rtol=tol)


def test_rms_norm_bfloat16_and_eps_default():
    x = _rand(3, 5) * 1e-4
    t = TF.rms_norm(torch.tensor(x, dtype=torch.bfloat16), (5,))
    e = EF.rms_norm(ember.tensor(x).to(ember.bfloat16), (5,))
    assert str(e.dtype) == str(t.dtype)
    _close(e, t, atol=1e-2, rtol=1e-2)
    tiny = np.full((1, 2), 1e-9)           # eps is machine epsilon: visible for tiny inputs
    _close(EF.rms_norm(ember.tensor(tiny), [2]), TF.rms_norm(torch.tensor(tiny), [2]))


def test_rms_norm_double_backward():
    ex = ember.tensor(_rand(2, 3, 4), requires_grad=True)
    ew = ember.tensor(np.linspace(0.5, 1.5, 4), requires_grad=True)
    assert gradgradcheck(lambda x, w: EF.rms_norm(x, (4,), w), (ex, ew))


def test_rms_norm_module_and_errors():
    for args, kw in [(([3, 4],), {}), ((3,), dict(eps=1e-5, elementwise_affine=False)), ((4,), dict(eps=0.1))]:
        tm, em = torch.nn.RMSNorm(*args, **kw), enn.RMSNorm(*args, **kw)
        assert repr(em) == repr(tm)
        assert list(em.state_dict()) == list(tm.state_dict())
        for k in tm.state_dict():
            _close(em.state_dict()[k], tm.state_dict()[k])
    tm, em = torch.nn.RMSNorm(4, dtype=torch.float64), enn.RMSNorm(4, dtype=ember.float64)
    with torch.no_grad():
        tm.weight.copy_(torch.linspace(0.5, 2, 4, dtype=torch.float64))
    em.load_state_dict({"weight": ember.tensor(tm.weight.detach().numpy())})
    tx, ex = _pair(_rand(2, 3, 4))
    _close(em(ex), tm(tx))
    x = (torch.zeros(2, 3, 4), ember.zeros(2, 3, 4))
    for ns, w in [((3,), None), ((2, 4), None), ((4,), (3,)), ([2, 3, 4, 5], None), ([], None), (4, None)]:
        _same_error(lambda: TF.rms_norm(x[0], ns, None if w is None else torch.ones(w)),
                    lambda: EF.rms_norm(x[1], ns, None if w is None else ember.ones(w)))


# ---- triplet_margin_with_distance_loss, pdist --------------------------------------------------------
def _cos_distance(lib):
    F = TF if lib is torch else EF
    return lambda a, b: 1.0 - F.cosine_similarity(a, b)


@pytest.mark.parametrize("distance", [None, "cosine", "l1"])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_margin_with_distance_loss(distance, swap, reduction):
    arrays = [_rand(6, 5, seed=s) for s in range(3)]
    ts, es = zip(*(_pair(a) for a in arrays))
    fns = {None: (None, None), "cosine": (_cos_distance(torch), _cos_distance(ember)),
           "l1": (torch.nn.PairwiseDistance(p=1), enn.PairwiseDistance(p=1))}[distance]
    t = TF.triplet_margin_with_distance_loss(*ts, distance_function=fns[0], margin=0.8, swap=swap, reduction=reduction)
    e = EF.triplet_margin_with_distance_loss(*es, distance_function=fns[1], margin=0.8, swap=swap,
                                             reduction=reduction)
    _close(e, t)
    _backward_both(t, e)
    for ta, ea in zip(ts, es):
        _close(ea.grad, ta.grad)
    tm = torch.nn.TripletMarginWithDistanceLoss(distance_function=fns[0], margin=0.8, swap=swap, reduction=reduction)
    em = enn.TripletMarginWithDistanceLoss(distance_function=fns[1], margin=0.8, swap=swap, reduction=reduction)
    if distance != "cosine":        # a lambda's repr names its address
        assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict()) == []
    _close(em(*es), tm(*ts))


def test_triplet_margin_with_distance_loss_errors():
    a = (torch.zeros(2, 3), ember.zeros(2, 3))
    b = (torch.zeros(3), ember.zeros(3))
    _same_error(lambda: TF.triplet_margin_with_distance_loss(a[0], a[0], b[0]),
                lambda: EF.triplet_margin_with_distance_loss(a[1], a[1], b[1]))
    _same_error(lambda: TF.triplet_margin_with_distance_loss(a[0], a[0], a[0], margin=0),
                lambda: EF.triplet_margin_with_distance_loss(a[1], a[1], a[1], margin=0))
    _same_error(lambda: TF.triplet_margin_with_distance_loss(a[0], a[0], a[0], reduction="avg"),
                lambda: EF.triplet_margin_with_distance_loss(a[1], a[1], a[1], reduction="avg"))
    _same_error(lambda: torch.nn.TripletMarginWithDistanceLoss(margin=-1.0),
                lambda: enn.TripletMarginWithDistanceLoss(margin=-1.0))


@pytest.mark.parametrize("p", [0, 0.5, 1, 2, 3, float("inf")])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4), (1, 3), (0, 3)])
def test_pdist(p, shape):
    x = _rand(*shape, seed=2)
    if shape[0] == 5:
        x[1] = x[0]                 # a zero distance: torch's gradient is 0 there
    tx, ex = _pair(x)
    t, e = torch.pdist(tx, p), EF.pdist(ex, p)
    _close(e, t)
    if t.numel():
        _backward_both(t, e)
        _close(ex.grad, tx.grad)
    assert ember.pdist is EF.pdist


def test_pdist_gradcheck_and_errors():
    ex = ember.tensor(_rand(4, 3), requires_grad=True)
    assert gradgradcheck(lambda x: EF.pdist(x), (ex,))
    for x, p in [(np.zeros(3), 2), (np.zeros((3, 2)), -1), (np.zeros((3, 2), np.int64), 2)]:
        _same_error(lambda: torch.pdist(torch.tensor(x), p), lambda: EF.pdist(ember.tensor(x), p))


# ---- gumbel_softmax (ember's RNG stream: properties, not torch's values) -------------------------------
def test_gumbel_softmax_soft():
    ember.manual_seed(0)
    logits = ember.tensor(np.log([[0.1, 0.2, 0.7]] * 4000), requires_grad=True)
    y = EF.gumbel_softmax(logits, tau=0.5)
    assert y.shape == logits.shape and y.grad_fn is not None
    np.testing.assert_allclose(y.detach().numpy().sum(-1), 1.0, atol=1e-12)
    assert (y.detach().numpy() > 0).all()
    # argmax of a Gumbel-perturbed logit is a sample from softmax(logits)
    freq = np.bincount(y.detach().numpy().argmax(-1), minlength=3) / 4000
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.7], atol=0.03)
    ember.manual_seed(1)
    hot = EF.gumbel_softmax(logits, tau=0.05).detach().numpy().max(-1)
    ember.manual_seed(1)
    warm = EF.gumbel_softmax(logits, tau=5.0).detach().numpy().max(-1)
    assert hot.mean() > 0.95 and warm.mean() < 0.5      # low tau: near one-hot; high tau: near uniform


def test_gumbel_softmax_hard_straight_through():
    logits = ember.tensor(_rand(6, 5), requires_grad=True)
    ember.manual_seed(3)
    y_hard = EF.gumbel_softmax(logits, tau=0.7, hard=True, dim=0)
    ember.manual_seed(3)
    y_soft = EF.gumbel_softmax(logits, tau=0.7, dim=0)
    h = y_hard.detach().numpy()
    assert set(np.unique(h)) == {0.0, 1.0} and (h.sum(0) == 1).all()
    assert (h.argmax(0) == y_soft.detach().numpy().argmax(0)).all()
    w = ember.tensor(_rand(6, 5, seed=1))
    (g_hard,) = ember.autograd.grad((y_hard * w).sum(), logits)
    (g_soft,) = ember.autograd.grad((y_soft * w).sum(), logits)
    _close(g_hard, torch.tensor(g_soft.numpy()), atol=1e-12)     # the gradient is the soft sample's
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        EF.gumbel_softmax(logits, eps=1e-5)
    _same_error(lambda: TF.gumbel_softmax(torch.zeros(2, 3, dtype=torch.long)),
                lambda: EF.gumbel_softmax(ember.zeros(2, 3, dtype=ember.long)))


# ---- feature alpha dropout ---------------------------------------------------------------------------
def test_feature_alpha_dropout_channels_and_statistics():
    alpha, p = 1.7580993408473766, 0.3
    a = ((alpha * alpha * p + 1) * (1 - p)) ** -0.5
    b = alpha * a * p
    x = ember.tensor(_rand(400, 8, 5, 3), requires_grad=True)
    ember.manual_seed(0)
    y = EF.feature_alpha_dropout(x, p, True)
    yn, xn = y.detach().numpy(), x.detach().numpy()
    dropped = np.isclose(yn, -alpha * a + b)
    per_channel = dropped.reshape(400, 8, -1)
    assert (per_channel.all(-1) | ~per_channel.any(-1)).all()       # whole channels drop together
    assert abs(per_channel.all(-1).mean() - p) < 0.03
    np.testing.assert_allclose(yn[~dropped], xn[~dropped] * a + b, rtol=1e-12)
    assert abs(yn.mean()) < 0.05 and abs(yn.std() - 1) < 0.05     # SELU's fixed point kept
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, a), rtol=1e-12)
    two_d = EF.feature_alpha_dropout(ember.tensor(_rand(2000, 3)), 0.5, True).numpy()
    a = (alpha * alpha * 0.5 + 1) ** -0.5 * 2 ** 0.5
    assert 0.45 < np.isclose(two_d, -alpha * a + alpha * a * 0.5).mean() < 0.55     # (N, C): elementwise


def test_feature_alpha_dropout_modes_module_and_errors():
    x = ember.tensor(_rand(2, 3, 4))
    assert EF.feature_alpha_dropout(x, 0.5) is x                    # training=False by default
    assert EF.feature_alpha_dropout(x, 0.0, True) is x
    assert EF.feature_alpha_dropout(ember.zeros(3), 0.5, False).shape == (3,)
    _close(EF.feature_alpha_dropout(x, 1.0, True), TF.feature_alpha_dropout(torch.tensor(x.numpy()), 1.0, True))
    ember.manual_seed(5)
    y = EF.feature_alpha_dropout(x.clone(), 0.5, True)
    ember.manual_seed(5)
    z = x.clone()
    assert EF.feature_alpha_dropout(z, 0.5, True, inplace=True) is z
    _close(z, torch.tensor(y.numpy()))
    for m, tm in [(enn.FeatureAlphaDropout(), torch.nn.FeatureAlphaDropout()),
                  (enn.FeatureAlphaDropout(0.2, True), torch.nn.FeatureAlphaDropout(0.2, True))]:
        assert repr(m) == repr(tm)
    m = enn.FeatureAlphaDropout(0.5).eval()
    assert m(x) is x
    _same_error(lambda: TF.feature_alpha_dropout(torch.zeros(3), 0.5, True),
                lambda: EF.feature_alpha_dropout(ember.zeros(3), 0.5, True))
    _same_error(lambda: TF.feature_alpha_dropout(torch.zeros(3), 1.5, False),
                lambda: EF.feature_alpha_dropout(ember.zeros(3), 1.5, False))
    _same_error(lambda: torch.nn.FeatureAlphaDropout(-0.1), lambda: enn.FeatureAlphaDropout(-0.1))


# ---- *_with_indices pools, interpolate(mode='area') ---------------------------------------------------
@pytest.mark.parametrize("name,shape,args", [
    ("adaptive_max_pool1d_with_indices", (2, 3, 7), (3,)), ("adaptive_max_pool2d_with_indices", (2, 3, 7, 5), ((3, 2),)),
    ("adaptive_max_pool3d_with_indices", (1, 2, 5, 4, 6), (2,)), ("max_pool3d_with_indices", (1, 2, 5, 4, 6), (2,)),
    ("max_pool3d_with_indices", (2, 5, 5, 6), (3, 2, 1, 1, True))])
def test_with_indices_pools(name, shape, args):
    tx, ex = _pair(_rand(*shape))
    (t, ti), (e, ei) = getattr(TF, name)(tx, *args), getattr(EF, name)(ex, *args)
    _close(e, t)
    assert ei.dtype == ember.int64 and (ei.numpy() == ti.numpy()).all()
    _backward_both(t, e)
    _close(ex.grad, tx.grad)


@pytest.mark.parametrize("shape,kw", [((2, 3, 7), dict(size=3)), ((2, 3, 7), dict(scale_factor=1.7)),
                                      ((1, 2, 7, 5), dict(scale_factor=0.5)), ((1, 2, 7, 5), dict(size=(11, 3))),
                                      ((1, 2, 7, 5), dict(scale_factor=(1.7, 0.6))),
                                      ((1, 1, 4, 5, 6), dict(size=(2, 3, 4)))])
def test_interpolate_area(shape, kw):
    tx, ex = _pair(_rand(*shape))
    t, e = TF.interpolate(tx, mode="area", **kw), EF.interpolate(ex, mode="area", **kw)
    _close(e, t)
    _backward_both(t, e)
    _close(ex.grad, tx.grad)
    tm, em = torch.nn.Upsample(mode="area", **kw), enn.Upsample(mode="area", **kw)
    assert repr(em) == repr(tm)
    _close(em(ex), tm(tx))


def test_interpolate_area_errors():
    for shape, kw in [((2, 3), dict(size=2)), ((1, 2, 3, 4, 5, 6), dict(size=2)),
                      ((2, 3, 4), dict(size=2, align_corners=False)), ((1, 2, 3, 4), dict(size=2, mode="foo"))]:
        kw = dict(dict(mode="area"), **kw)
        _same_error(lambda: TF.interpolate(torch.zeros(shape), **kw), lambda: EF.interpolate(ember.zeros(shape), **kw))


def test_new_layers_exported():
    for name in ["Fold", "Unfold", "LPPool1d", "LPPool2d", "LPPool3d", "MultiMarginLoss", "MultiLabelMarginLoss",
                 "TripletMarginWithDistanceLoss", "RMSNorm", "FeatureAlphaDropout"]:
        assert getattr(enn, name).__name__ == getattr(torch.nn, name).__name__
    assert math.isclose(ember.rms_norm(ember.ones(2, 3), [3]).sum().item(), 6.0)
