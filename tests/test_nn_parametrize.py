"""nn.utils weight_norm / spectral_norm (hooks), parametrize and parametrizations, against torch."""
import copy
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
from ember.nn.utils import parametrize as P

import torch
tnn = torch.nn


def _np(t):
    return t.detach().numpy()


def _copy_state(em, tm):
    em.load_state_dict({k: ember.tensor(_np(v)) for k, v in tm.state_dict().items()})


def _pair(make):
    """The same layer in torch and ember (float64), ember's state copied from torch's."""
    tm, em = make(tnn).double(), make(enn).double()
    _copy_state(em, tm)
    return tm, em


def _run(tm, em, shape, seed=0):
    """Forward + sum().backward() in both; compare outputs and every parameter's grad."""
    x = np.random.default_rng(seed).standard_normal(shape)
    to, eo = tm(torch.tensor(x)), em(ember.tensor(x))
    np.testing.assert_allclose(_np(eo), _np(to), rtol=1e-10, atol=1e-12)
    for m in (tm, em):
        m.zero_grad()
    to.sum().backward()
    eo.sum().backward()
    tp, ep = dict(tm.named_parameters()), dict(em.named_parameters())
    assert list(tp) == list(ep)
    for k in tp:
        np.testing.assert_allclose(_np(ep[k].grad), _np(tp[k].grad), rtol=1e-9, atol=1e-12, err_msg=k)


def _keys(m):
    return list(m.state_dict().keys())


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


# ---- classic weight_norm ------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_hook_matches_torch(dim):
    tm = tnn.utils.weight_norm(tnn.Conv2d(2, 3, 2).double(), dim=dim)
    em = enn.utils.weight_norm(enn.Conv2d(2, 3, 2).double(), dim=dim)
    assert _keys(em) == _keys(tm) == ["bias", "weight_g", "weight_v"]
    assert em.weight_g.shape == tm.weight_g.shape
    assert repr(em) == repr(tm)
    _copy_state(em, tm)
    _run(tm, em, (2, 2, 4, 4))
    np.testing.assert_allclose(_np(em.weight), _np(tm.weight), rtol=1e-12)


def test_weight_norm_hook_initial_value_and_remove():
    em = enn.Linear(4, 3)
    w = _np(em.weight).copy()
    enn.utils.weight_norm(em)
    np.testing.assert_allclose(_np(em.weight), w, rtol=1e-6)
    np.testing.assert_allclose(_np(em.weight_g)[:, 0], np.linalg.norm(w, axis=1), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"):
        enn.utils.weight_norm(em)
    enn.utils.remove_weight_norm(em)
    assert _keys(em) == ["bias", "weight"] and isinstance(em.weight, enn.Parameter)
    assert not em._forward_pre_hooks
    np.testing.assert_allclose(_np(em.weight), w, rtol=1e-6)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        enn.utils.remove_weight_norm(em)


def test_weight_norm_hook_warns_deprecated():
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        enn.utils.weight_norm(enn.Linear(2, 2))


# ---- classic spectral_norm ----------------------------------------------------------------------------
@pytest.mark.parametrize("make,shape", [
    (lambda nn: nn.Linear(4, 3), (2, 4)),
    (lambda nn: nn.Conv2d(2, 3, 2), (1, 2, 3, 3)),
    (lambda nn: nn.ConvTranspose2d(2, 3, 2), (1, 2, 3, 3)),
])
def test_spectral_norm_hook_train_eval_matches_torch(make, shape):
    tm = tnn.utils.spectral_norm(make(tnn).double(), n_power_iterations=2)
    em = enn.utils.spectral_norm(make(enn).double(), n_power_iterations=2)
    assert _keys(em) == _keys(tm) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert em.weight_u.shape == tm.weight_u.shape and em.weight_v.shape == tm.weight_v.shape
    np.testing.assert_allclose(np.linalg.norm(_np(em.weight_u)), 1.0)
    _copy_state(em, tm)
    for step in range(3):                                # power iteration advances u/v each training forward
        _run(tm, em, shape, seed=step)
        np.testing.assert_allclose(_np(em.weight_u), _np(tm.weight_u), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_np(em.weight_v), _np(tm.weight_v), rtol=1e-10, atol=1e-12)
    tm.eval(), em.eval()
    u = _np(em.weight_u).copy()
    _run(tm, em, shape, seed=5)                          # eval: no power iteration
    np.testing.assert_array_equal(_np(em.weight_u), u)
    assert em.state_dict()._metadata[""]["spectral_norm"] == {"weight.version": 1}


def test_spectral_norm_hook_normalises_and_removes():
    ember.manual_seed(0)        # 30 power iterations converge to 1e-6 only with a clear top singular value
    em = enn.utils.spectral_norm(enn.Linear(5, 4).double(), n_power_iterations=30)
    em(ember.zeros(1, 5, dtype=ember.float64))
    assert abs(np.linalg.svd(_np(em.weight), compute_uv=False)[0] - 1) < 1e-6
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        enn.utils.spectral_norm(em)
    w = _np(em.weight).copy()
    enn.utils.remove_spectral_norm(em)
    assert _keys(em) == ["bias", "weight"] and isinstance(em.weight, enn.Parameter)
    assert not em._forward_pre_hooks and not em._state_dict_hooks and not em._load_state_dict_pre_hooks
    np.testing.assert_allclose(_np(em.weight), w, rtol=1e-12)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in"):
        enn.utils.remove_spectral_norm(em)


def test_spectral_norm_hook_loads_version0_checkpoint():
    """Old checkpoints stored the normalised ``weight`` and no ``weight_v``: v is solved for on load."""
    tm = tnn.utils.spectral_norm(tnn.Linear(4, 3).double())
    tm(torch.randn(2, 4, dtype=torch.float64))
    old = {k: v for k, v in tm.state_dict().items() if k != "weight_v"}
    old["weight"] = tm.weight.detach()
    ref = tnn.utils.spectral_norm(tnn.Linear(4, 3).double())
    ref.load_state_dict(old)
    em = enn.utils.spectral_norm(enn.Linear(4, 3).double())
    em.load_state_dict({k: ember.tensor(_np(v)) for k, v in old.items()})
    np.testing.assert_allclose(_np(em.weight_v), _np(ref.weight_v), rtol=1e-8, atol=1e-12)


def test_spectral_norm_hook_errors():
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive, but got n_power_iterations=0"):
        enn.utils.spectral_norm(enn.Linear(2, 2), n_power_iterations=0)


# ---- parametrize --------------------------------------------------------------------------------------
def _symmetric(nn):
    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()
    return Symmetric()


def _scale(nn):
    class Scale(nn.Module):
        def forward(self, X):
            return 2 * X
    return Scale()


def _split(nn):
    class Split(nn.Module):
        def forward(self, A, B):
            return A + B

        def right_inverse(self, X):
            return 0.25 * X, 0.75 * X
    return Split()


def _parametrized_pair(*makes, name="weight"):
    def build(nn):
        m = nn.Linear(3, 3)
        for mk in makes:
            nn.utils.parametrize.register_parametrization(m, name, mk(nn))
        return m
    return _pair(build)


def test_register_parametrization_matches_torch():
    tm, em = _parametrized_pair(_symmetric, _scale)
    assert type(em).__name__ == type(tm).__name__ == "ParametrizedLinear"
    assert P.type_before_parametrizations(em) is enn.Linear
    assert isinstance(em, enn.Linear) and isinstance(em.parametrizations.weight, P.ParametrizationList)
    assert _keys(em) == _keys(tm) == ["bias", "parametrizations.weight.original"]
    assert repr(em).replace("Symmetric", "S") == repr(tm).replace("Symmetric", "S")
    assert P.is_parametrized(em) and P.is_parametrized(em, "weight") and not P.is_parametrized(em, "bias")
    _run(tm, em, (2, 3))
    w = _np(em.weight)
    np.testing.assert_allclose(w, w.T)


def test_parametrization_right_inverse_on_assignment():
    tm, em = _parametrized_pair(_symmetric)
    a = np.random.default_rng(1).standard_normal((3, 3))
    a = a + a.T
    tm.weight, em.weight = torch.tensor(a), ember.tensor(a)
    np.testing.assert_allclose(_np(em.parametrizations.weight.original), _np(tm.parametrizations.weight.original))
    np.testing.assert_allclose(_np(em.weight), a)
    tm2, em2 = _parametrized_pair(_scale)
    with pytest.raises(RuntimeError, match="parametrization Scale does not implement right_inverse."):
        em2.weight = ember.zeros(3, 3, dtype=ember.float64)


def test_parametrization_sequence_right_inverse():
    tm, em = _parametrized_pair(_split)
    assert _keys(em) == _keys(tm) == ["bias", "parametrizations.weight.original0",
                                      "parametrizations.weight.original1"]
    assert em.parametrizations.weight.ntensors == 2 and not em.parametrizations.weight.is_tensor
    _run(tm, em, (2, 3))
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(em, "weight", leave_parametrized=False)
    w = _np(em.weight)
    P.remove_parametrizations(em, "weight")
    assert type(em) is enn.Linear and _keys(em) == ["bias", "weight"]
    np.testing.assert_allclose(_np(em.weight), w)


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations(leave):
    tm, em = _parametrized_pair(_symmetric)
    w, orig = _np(em.weight).copy(), _np(em.parametrizations.weight.original).copy()
    param = em.parametrizations.weight.original
    P.remove_parametrizations(em, "weight", leave_parametrized=leave)
    tnn.utils.parametrize.remove_parametrizations(tm, "weight", leave_parametrized=leave)
    assert type(em) is enn.Linear and not hasattr(em, "parametrizations") and not P.is_parametrized(em)
    assert _keys(em) == _keys(tm) and em.weight is param
    np.testing.assert_allclose(_np(em.weight), w if leave else orig)
    np.testing.assert_allclose(_np(em.weight), _np(tm.weight))
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(em, "weight")


def test_parametrization_errors():
    class Widen(enn.Module):
        def forward(self, X):
            return ember.cat([X, X])
    with pytest.raises(ValueError, match="may not change the shape of the tensor, unless `unsafe` flag is enabled"):
        P.register_parametrization(enn.Linear(2, 2), "weight", Widen())
    m = P.register_parametrization(enn.Linear(2, 2), "weight", Widen(), unsafe=True)
    assert m.weight.shape == (4, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element with name"):
        P.register_parametrization(enn.Linear(2, 2), "nope", Widen())


def test_parametrize_cached():
    calls = []

    class Count(enn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1

    m = P.register_parametrization(enn.Linear(2, 2), "weight", Count())
    calls.clear()
    with P.cached():
        a, b = m.weight, m.weight
    assert len(calls) == 1 and a is b
    m.weight, m.weight
    assert len(calls) == 3


def test_parametrized_buffer_and_deepcopy():
    m = enn.BatchNorm1d(3)
    P.register_parametrization(m, "running_var", _scale(enn))
    assert _keys(m)[:3] == ["weight", "bias", "running_mean"]
    assert "parametrizations.running_var.original" in _keys(m)
    np.testing.assert_allclose(_np(m.running_var), 2 * np.ones(3))
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedBatchNorm1d"
    np.testing.assert_allclose(_np(c.running_var), 2 * np.ones(3))


# ---- parametrizations.weight_norm ---------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, None])
def test_parametrizations_weight_norm_matches_torch(dim):
    tm, em = _pair(lambda nn: nn.utils.parametrizations.weight_norm(nn.Conv1d(2, 3, 2), dim=dim))
    assert _keys(em) == _keys(tm) == ["bias", "parametrizations.weight.original0",
                                      "parametrizations.weight.original1"]
    assert em.parametrizations.weight.original0.shape == tm.parametrizations.weight.original0.shape
    _run(tm, em, (2, 2, 5))
    P.remove_parametrizations(em, "weight")
    tnn.utils.parametrize.remove_parametrizations(tm, "weight")
    assert _keys(em) == _keys(tm)
    np.testing.assert_allclose(_np(em.weight), _np(tm.weight), rtol=1e-12)


def test_parametrizations_weight_norm_loads_old_checkpoint():
    old = tnn.utils.weight_norm(tnn.Linear(3, 2).double())
    em = enn.utils.parametrizations.weight_norm(enn.Linear(3, 2).double())
    _copy_state(em, old)
    np.testing.assert_allclose(_np(em.parametrizations.weight.original0), _np(old.weight_g))
    np.testing.assert_allclose(_np(em.weight), _np(old.weight), rtol=1e-12)


# ---- parametrizations.spectral_norm -------------------------------------------------------------------
@pytest.mark.parametrize("make,shape", [
    (lambda nn: nn.Linear(4, 3), (2, 4)),
    (lambda nn: nn.ConvTranspose1d(2, 3, 2), (1, 2, 3)),
])
def test_parametrizations_spectral_norm_train_eval(make, shape):
    tm, em = _pair(lambda nn: nn.utils.parametrizations.spectral_norm(make(nn)))
    assert _keys(em) == _keys(tm)
    assert "parametrizations.weight.0._u" in _keys(em)
    for step in range(2):
        _run(tm, em, shape, seed=step)
        np.testing.assert_allclose(_np(em.parametrizations.weight[0]._u), _np(tm.parametrizations.weight[0]._u),
                                   rtol=1e-10, atol=1e-12)
    tm.eval(), em.eval()
    u = _np(em.parametrizations.weight[0]._u).copy()
    _run(tm, em, shape, seed=3)
    np.testing.assert_array_equal(_np(em.parametrizations.weight[0]._u), u)


def test_parametrizations_spectral_norm_init_estimates_sigma():
    em = enn.utils.parametrizations.spectral_norm(enn.Linear(6, 4).double()).eval()
    assert abs(np.linalg.svd(_np(em.weight), compute_uv=False)[0] - 1) < 0.05   # 15 power iterations at init


# ---- parametrizations.orthogonal ----------------------------------------------------------------------
@pytest.mark.parametrize("omap", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("fan", [(4, 4), (4, 3), (3, 5)])
def test_orthogonal_matches_torch(omap, fan):
    tm, em = _pair(lambda nn: nn.utils.parametrizations.orthogonal(nn.Linear(*fan).double(), orthogonal_map=omap))
    assert _keys(em) == _keys(tm) == ["bias", "parametrizations.weight.original", "parametrizations.weight.0.base"]
    np.testing.assert_allclose(_np(em.weight), _np(tm.weight), rtol=1e-10, atol=1e-12)
    x = np.random.default_rng(7).standard_normal(tuple(tm.parametrizations.weight.original.shape)) * 0.5
    if omap == "householder":                            # its diagonal holds the signs (as .int())
        np.fill_diagonal(x, [-1, 1, -1])
    with torch.no_grad(), ember.no_grad():               # a non-trivial point of the parametrization
        tm.parametrizations.weight.original.copy_(torch.tensor(x))
        em.parametrizations.weight.original.copy_(ember.tensor(x))
    _run(tm, em, (2, fan[0]))
    w = _np(em.weight)
    q = w if w.shape[0] >= w.shape[1] else w.T
    np.testing.assert_allclose(q.T @ q, np.eye(q.shape[1]), atol=1e-12)


def test_orthogonal_default_map_and_assignment():
    sq = enn.utils.parametrizations.orthogonal(enn.Linear(3, 3))
    rect = enn.utils.parametrizations.orthogonal(enn.Linear(3, 4))
    assert sq.parametrizations.weight[0].orthogonal_map.name == "matrix_exp"
    assert rect.parametrizations.weight[0].orthogonal_map.name == "householder"
    q = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))[0]
    sq.weight = ember.tensor(q, dtype=ember.float32)
    np.testing.assert_allclose(_np(sq.weight), q, atol=1e-5)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices of shape"):
        sq.weight = ember.zeros(2, 3)
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder"'):
        enn.utils.parametrizations.orthogonal(enn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions."):
        enn.utils.parametrizations.orthogonal(enn.Linear(3, 3), "bias")


@pytest.mark.parametrize("omap", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("fan", [(4, 4), (4, 3), (3, 5)])
def test_orthogonal_without_trivialization(omap, fan):
    def build(nn):
        m = nn.Linear(*fan).double()
        m.load_state_dict(state)
        return nn.utils.parametrizations.orthogonal(m, orthogonal_map=omap, use_trivialization=False)
    state = tnn.Linear(*fan).double().state_dict()
    tm = build(tnn)
    state = {k: ember.tensor(_np(v)) for k, v in state.items()}
    em = build(enn)
    assert _keys(em) == _keys(tm) == ["bias", "parametrizations.weight.original"]
    np.testing.assert_allclose(_np(em.parametrizations.weight.original), _np(tm.parametrizations.weight.original),
                               rtol=1e-10, atol=1e-12)
    _run(tm, em, (2, fan[0]))
    q = np.linalg.qr(np.random.default_rng(4).standard_normal((max(fan), min(fan))))[0]
    q = q if q.shape == tuple(tm.weight.shape) else q.T
    if omap == "householder":                            # assignment goes through geqrf
        tm.weight, em.weight = torch.tensor(q), ember.tensor(q)
        np.testing.assert_allclose(_np(em.parametrizations.weight.original),
                                   _np(tm.parametrizations.weight.original), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_np(em.weight), q, atol=1e-12)
    else:
        with pytest.raises(NotImplementedError, match="use_trivialization=False"):
            em.weight = ember.tensor(q)


@pytest.mark.parametrize("omap", ["matrix_exp", "cayley"])
def test_orthogonal_batched_large_norm(omap):
    """A batch of matrices held in a buffer; a large skew part exercises matrix_exp's squaring."""
    def build(nn):
        m = nn.Module()
        m.register_buffer("w", torch.zeros(2, 3, 3, dtype=torch.float64) if nn is tnn
                          else ember.zeros(2, 3, 3, dtype=ember.float64))
        return nn.utils.parametrizations.orthogonal(m, "w", orthogonal_map=omap, use_trivialization=False)
    x = np.random.default_rng(5).standard_normal((2, 3, 3)) * 4
    tm, em = build(tnn), build(enn)
    tm.parametrizations.w.original.copy_(torch.tensor(x))
    em.parametrizations.w.original.copy_(ember.tensor(x))
    np.testing.assert_allclose(_np(em.w), _np(tm.w), rtol=1e-10, atol=1e-12)
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    g = np.random.default_rng(6).standard_normal((2, 3, 3))
    tm.parametrizations.w[0](xt).backward(torch.tensor(g))
    em.parametrizations.w[0](xe).backward(ember.tensor(g))
    np.testing.assert_allclose(_np(xe.grad), _np(xt.grad), rtol=1e-8, atol=1e-10)
