"""Optimizers against torch: equal params and grads for N steps give equal params; state_dict round trips."""
import copy
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.optim as eoptim

SHAPES = [(3, 4), (5,)]

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), maximize=True)),
    ("AdamW", dict(lr=0.1)),
    ("AdamW", dict(lr=0.1, amsgrad=True, maximize=True, weight_decay=0.5)),
    ("Adamax", dict(lr=0.1, weight_decay=0.1)),
    ("Adamax", dict(lr=0.1, maximize=True)),
    ("NAdam", dict(lr=0.1)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, momentum_decay=0.01)),
    ("RAdam", dict(lr=0.1)),
    ("RAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.1, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.1, t0=0, maximize=True)),
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=2.0, weight_decay=0.1)),
    ("Adafactor", dict(lr=0.1, maximize=True)),
]


def _make(name, kw, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    ep = [enn.Parameter(ember.tensor(a)) for a in init]
    return tp, ep, getattr(torch.optim, name)(tp, **kw), getattr(eoptim, name)(ep, **kw), rng


def _steps(tp, ep, topt, eopt, rng, n, dtype=np.float32):
    for _ in range(n):
        for p, q in zip(tp, ep):
            g = rng.standard_normal(tuple(p.shape)).astype(dtype)
            p.grad = torch.tensor(g)
            q.grad = ember.tensor(g)
        topt.step()
        eopt.step()


def _assert_params(tp, ep, tol=1e-6):
    for p, q in zip(tp, ep):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch(name, kw):
    tp, ep, topt, eopt, rng = _make(name, kw)
    _steps(tp, ep, topt, eopt, rng, 10)
    _assert_params(tp, ep)


@pytest.mark.parametrize("name,kw", CASES[1::3], ids=[n for n, _ in CASES[1::3]])
def test_float64(name, kw):
    tp, ep, topt, eopt, rng = _make(name, kw, dtype=np.float64)
    _steps(tp, ep, topt, eopt, rng, 10, np.float64)
    _assert_params(tp, ep, 1e-12)


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_state_dict_matches_torch_and_resumes(name, kw):
    tp, ep, topt, eopt, rng = _make(name, kw)
    _steps(tp, ep, topt, eopt, rng, 4)
    tsd, esd = topt.state_dict(), eopt.state_dict()
    assert esd["param_groups"] == [dict(g) for g in tsd["param_groups"]]
    assert esd["state"].keys() == tsd["state"].keys()
    for i in tsd["state"]:
        assert list(esd["state"][i]) == list(tsd["state"][i])
        for k, v in tsd["state"][i].items():
            ev = esd["state"][i][k]
            assert isinstance(ev, ember.Tensor)
            assert str(ev.dtype) == str(v.dtype) and tuple(ev.shape) == tuple(v.shape)
            np.testing.assert_allclose(ev.numpy(), v.numpy(), rtol=1e-5, atol=1e-6)
    # a fresh optimizer loaded from a deep copy of the state continues exactly like the original
    ep2 = [enn.Parameter(ember.tensor(q.detach().numpy().copy())) for q in ep]
    eopt2 = getattr(eoptim, name)(ep2, **kw)
    eopt2.load_state_dict(copy.deepcopy(esd))
    rng_state = rng.bit_generator.state
    _steps(tp, ep, topt, eopt, rng, 3)
    rng.bit_generator.state = rng_state
    dummy = [torch.nn.Parameter(p.detach().clone()) for p in tp]
    _steps(dummy, ep2, torch.optim.SGD(dummy, lr=0.0), eopt2, rng, 3)
    _assert_params(tp, ep2)


def test_state_dict_loads_torch_state():
    tp, ep, topt, eopt, rng = _make("Adam", dict(lr=0.1))
    _steps(tp, ep, topt, eopt, rng, 3)
    tsd = topt.state_dict()
    converted = {"state": {i: {k: ember.tensor(v.numpy()) for k, v in s.items()} for i, s in tsd["state"].items()},
                 "param_groups": tsd["param_groups"]}
    ep2 = [enn.Parameter(ember.tensor(p.detach().numpy().copy())) for p in tp]
    eopt2 = eoptim.Adam(ep2, lr=0.5)
    eopt2.load_state_dict(converted)
    assert eopt2.param_groups[0]["lr"] == 0.1 and eopt2.param_groups[0]["params"] == ep2
    dummy = [torch.nn.Parameter(p.detach().clone()) for p in tp]
    _steps(tp, ep2, topt, eopt2, rng, 3)
    del dummy
    _assert_params(tp, ep2)


def test_param_groups_and_lr_change():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)).astype(np.float32)
    tp = [torch.nn.Parameter(torch.tensor(a)), torch.nn.Parameter(torch.tensor(b))]
    ep = [enn.Parameter(ember.tensor(a)), enn.Parameter(ember.tensor(b))]
    topt = torch.optim.SGD([{"params": [tp[0]]}, {"params": [tp[1]], "lr": 0.5, "momentum": 0.5}], lr=0.1)
    eopt = eoptim.SGD([{"params": [ep[0]]}, {"params": [ep[1]], "lr": 0.5, "momentum": 0.5}], lr=0.1)
    _steps(tp, ep, topt, eopt, rng, 2)
    topt.param_groups[0]["lr"] = 0.01
    eopt.param_groups[0]["lr"] = 0.01
    _steps(tp, ep, topt, eopt, rng, 2)
    _assert_params(tp, ep)
    assert repr(eopt) == repr(topt)


def test_frozen_and_missing_grads_are_skipped():
    p = enn.Parameter(ember.ones(2))
    q = enn.Parameter(ember.ones(2))
    opt = eoptim.Adam([p, q], lr=0.1)
    p.grad = ember.ones(2)
    opt.step()
    assert any(x is q for x in opt.param_groups[0]["params"]) and q not in opt.state
    np.testing.assert_array_equal(q.detach().numpy(), [1, 1])


def test_zero_grad():
    p = enn.Parameter(ember.ones(2))
    opt = eoptim.SGD([p], lr=0.1)
    p.grad = ember.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0, 0])
    opt.zero_grad()
    assert p.grad is None


def test_add_param_group():
    p, q = enn.Parameter(ember.ones(2)), enn.Parameter(ember.ones(3))
    opt = eoptim.SGD([p], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": q, "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["params"] == [q]
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(TypeError, match="optimizer parameters need to be organized in ordered collections"):
        opt.add_param_group({"params": {enn.Parameter(ember.ones(1))}})


def test_closure_returns_loss():
    p = enn.Parameter(ember.tensor([1.0, 2.0]))
    opt = eoptim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6], rtol=1e-6)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(line_search_fn):
    rng = np.random.default_rng(3)
    a = rng.standard_normal(4).astype(np.float32)
    target = rng.standard_normal(4).astype(np.float32)
    tp, ep = torch.nn.Parameter(torch.tensor(a)), enn.Parameter(ember.tensor(a))
    tt, et = torch.tensor(target), ember.tensor(target)
    topt = torch.optim.LBFGS([tp], lr=0.5, max_iter=5, history_size=3, line_search_fn=line_search_fn)
    eopt = eoptim.LBFGS([ep], lr=0.5, max_iter=5, history_size=3, line_search_fn=line_search_fn)

    def closure(opt, p, t):
        def f():
            opt.zero_grad()
            d = p - t
            loss = (d * d * d * d).sum() + (d * d).sum()
            loss.backward()
            return loss
        return f

    for _ in range(3):
        tl = topt.step(closure(topt, tp, tt))
        el = eopt.step(closure(eopt, ep, et))
        assert float(el.detach()) == pytest.approx(float(tl.detach()), rel=1e-5)
    np.testing.assert_allclose(ep.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)
    ts, es = topt.state_dict()["state"][0], eopt.state_dict()["state"][0]
    assert es["n_iter"] == ts["n_iter"] and es["func_evals"] == ts["func_evals"]
    assert list(es) == list(ts)             # same keys in the same order, as a saved checkpoint lists them


def test_lbfgs_rejects_groups():
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        eoptim.LBFGS([{"params": [enn.Parameter(ember.ones(1))]}, {"params": [enn.Parameter(ember.ones(1))]}])


def test_step_hooks_and_scheduler_flag():
    p = enn.Parameter(ember.ones(2))
    opt = eoptim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    p.grad = ember.ones(2)
    opt.step()
    h1.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]
    assert opt._opt_called


@pytest.mark.parametrize("make_bad,exc,msg", [
    (lambda: eoptim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda: eoptim.SGD([enn.Parameter(ember.ones(1))], lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda: eoptim.SGD([enn.Parameter(ember.ones(1))], lr=0.1, momentum=-0.5), ValueError,
     "Invalid momentum value: -0.5"),
    (lambda: eoptim.SGD([enn.Parameter(ember.ones(1))], lr=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: eoptim.Adam([enn.Parameter(ember.ones(1))], betas=(1.0, 0.999)), ValueError,
     "Invalid beta parameter at index 0: 1.0"),
    (lambda: eoptim.Adam([enn.Parameter(ember.ones(1))], eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
    (lambda: eoptim.Adam([enn.Parameter(ember.ones(1))], weight_decay=-1.0), ValueError,
     "Invalid weight_decay value: -1.0"),
    (lambda: eoptim.RMSprop([enn.Parameter(ember.ones(1))], alpha=-1.0), ValueError, "Invalid alpha value: -1.0"),
    (lambda: eoptim.Adadelta([enn.Parameter(ember.ones(1))], rho=1.5), ValueError, "Invalid rho value: 1.5"),
    (lambda: eoptim.SGD(enn.Parameter(ember.ones(1)), lr=0.1), TypeError,
     "params argument given to the optimizer should be an iterable of Tensors or dicts, but got torch.FloatTensor"),
    (lambda: eoptim.Adafactor([enn.Parameter(ember.ones(1))], beta2_decay=0.5), ValueError,
     "beta2_decay should be <= 0 but is: 0.5"),
    (lambda: eoptim.Adafactor([enn.Parameter(ember.ones(1))], d=0.5), ValueError,
     "Clipping threshold d should be >= 1 but is: 0.5"),
    (lambda: eoptim.SGD([1.0], lr=0.1), TypeError, "optimizer can only optimize Tensors, but one of the params is float"),
])
def test_bad_arguments_match_torch(make_bad, exc, msg):
    with pytest.raises(exc) as info:
        make_bad()
    assert str(info.value) == msg


def test_non_leaf_rejected_like_torch():
    x = ember.ones(2, requires_grad=True) * 2
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        eoptim.SGD([x], lr=0.1)
    tx = torch.ones(2, requires_grad=True) * 2
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        torch.optim.SGD([tx], lr=0.1)


def test_duplicate_parameters_warn():
    p = enn.Parameter(ember.ones(1))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        eoptim.SGD([p, p], lr=0.1)
    assert any("duplicate parameters" in str(x.message) for x in w)


def test_model_training_step_matches_torch():
    """A tiny two-layer model (own Module subclass) trained with Adam gives torch's weights."""
    rng = np.random.default_rng(5)
    w1, w2 = rng.standard_normal((2, 4, 3)).astype(np.float32) * 0.5
    x = rng.standard_normal((8, 4)).astype(np.float32)

    class ENet(enn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = enn.Parameter(ember.tensor(w1))
            self.w2 = enn.Parameter(ember.tensor(w2))

        def forward(self, x):
            return ((x @ self.w1) * (x @ self.w2)).sum()

    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = torch.nn.Parameter(torch.tensor(w1))
            self.w2 = torch.nn.Parameter(torch.tensor(w2))

        def forward(self, x):
            return ((x @ self.w1) * (x @ self.w2)).sum()

    em, tm = ENet(), TNet()
    eo, to = eoptim.Adam(em.parameters(), lr=0.01), torch.optim.Adam(tm.parameters(), lr=0.01)
    for _ in range(5):
        eo.zero_grad()
        to.zero_grad()
        em(ember.tensor(x)).backward()
        tm(torch.tensor(x)).backward()
        eo.step()
        to.step()
    for (n, a), (m, b) in zip(em.named_parameters(), tm.named_parameters()):
        assert n == m
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
