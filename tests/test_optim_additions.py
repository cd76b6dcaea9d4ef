"""Rprop and ASGD specifics (their N-step cases are in test_optim.CASES) and optim.swa_utils (AveragedModel,
SWALR, update_bn, the averaging functions) against torch: scheduler curves, averaged weights."""
import copy
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.optim as eoptim
from ember.optim import swa_utils as eswa
from torch.optim import swa_utils as tswa

from .test_optim import _assert_params


def test_rprop_sign_flips_and_clamped_step_sizes():
    """Gradients that alternate in sign shrink the step (and skip the update); steady ones grow it to the cap."""
    kw = dict(lr=0.1, etas=(0.5, 1.2), step_sizes=(0.01, 0.15))
    tp = [torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))]
    ep = [enn.Parameter(ember.zeros(4, dtype=ember.float64))]
    topt, eopt = torch.optim.Rprop(tp, **kw), eoptim.Rprop(ep, **kw)
    for i in range(8):
        g = np.array([1.0, (-1.0) ** i, 0.0 if i % 3 else 1.0, -2.0])
        tp[0].grad, ep[0].grad = torch.tensor(g), ember.tensor(g)
        topt.step()
        eopt.step()
        _assert_params(tp, ep, 1e-14)
        np.testing.assert_allclose(eopt.state[ep[0]]["step_size"].numpy(), topt.state[tp[0]]["step_size"].numpy())
        np.testing.assert_allclose(eopt.state[ep[0]]["prev"].numpy(), topt.state[tp[0]]["prev"].numpy())
    assert eopt.state[ep[0]]["step_size"].numpy()[0] == 0.15


def test_complex_params():
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3,)) + 1j * rng.standard_normal((3,)))
    for name in ("Rprop", "ASGD"):
        tp, ep = [torch.nn.Parameter(torch.tensor(a))], [enn.Parameter(ember.tensor(a))]
        topt, eopt = getattr(torch.optim, name)(tp, lr=0.1), getattr(eoptim, name)(ep, lr=0.1)
        for _ in range(5):
            g = rng.standard_normal(3) + 1j * rng.standard_normal(3)
            tp[0].grad, ep[0].grad = torch.tensor(g), ember.tensor(g)
            topt.step()
            eopt.step()
        np.testing.assert_allclose(ep[0].detach().numpy(), tp[0].detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["Rprop", "ASGD"])
def test_repr_and_defaults_match_torch(name):
    tp, ep = [torch.nn.Parameter(torch.ones(2))], [enn.Parameter(ember.ones(2))]
    assert repr(getattr(eoptim, name)(ep)) == repr(getattr(torch.optim, name)(tp))


@pytest.mark.parametrize("make_bad", [
    lambda o, P: o.Rprop([P], lr=-1), lambda o, P: o.Rprop([P], etas=(1.5, 1.2)),
    lambda o, P: o.Rprop([P], etas=(0.5, 0.9)), lambda o, P: o.ASGD([P], lr=-0.5),
    lambda o, P: o.ASGD([P], weight_decay=-1.0)])
def test_bad_arguments_match_torch(make_bad):
    with pytest.raises(ValueError) as te:
        make_bad(torch.optim, torch.nn.Parameter(torch.ones(1)))
    with pytest.raises(ValueError) as ee:
        make_bad(eoptim, enn.Parameter(ember.ones(1)))
    assert str(ee.value) == str(te.value)


# ---- swa_utils ----------------------------------------------------------------------------------------
def _models(seed=0, bn=True):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(4, 5)] + ([torch.nn.BatchNorm1d(5)] if bn else []) + [torch.nn.ReLU(),
                                                                                     torch.nn.Linear(5, 2)]
    tm = torch.nn.Sequential(*layers)
    em = enn.Sequential(*[getattr(enn, type(m).__name__)(*_ctor_args(m)) for m in layers])
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def _ctor_args(m):
    if isinstance(m, torch.nn.Linear):
        return m.in_features, m.out_features
    if isinstance(m, torch.nn.BatchNorm1d):
        return (m.num_features,)
    return ()


def _perturb(tm, em, rng):
    """Move both models' parameters and buffers the same way (as a training step would)."""
    with torch.no_grad():
        for (_, tp), (_, ep) in zip(tm.state_dict().items(), em.state_dict().items()):
            if tp.is_floating_point():
                d = rng.standard_normal(tuple(tp.shape)).astype(np.float32)
                tp.add_(torch.tensor(d))
                ep._data[...] += d
            else:
                tp.add_(1)
                ep._data[...] += 1


def _assert_same_state(esd, tsd, tol=1e-6):
    assert list(esd) == list(tsd)
    for k, v in tsd.items():
        assert str(esd[k].dtype) == str(v.dtype)
        np.testing.assert_allclose(esd[k].numpy(), v.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", ["swa", "avg_fn_ema", "multi_ema", "multi_swa", "avg_fn_swa"])
@pytest.mark.parametrize("use_buffers", [False, True])
def test_averaged_model_matches_torch(kind, use_buffers):
    tm, em = _models()
    fns = {"swa": ({}, {}),
           "avg_fn_ema": (dict(avg_fn=tswa.get_ema_avg_fn(0.9)), dict(avg_fn=eswa.get_ema_avg_fn(0.9))),
           "multi_ema": (dict(multi_avg_fn=tswa.get_ema_multi_avg_fn(0.8)),
                         dict(multi_avg_fn=eswa.get_ema_multi_avg_fn(0.8))),
           "multi_swa": (dict(multi_avg_fn=tswa.get_swa_multi_avg_fn()),
                         dict(multi_avg_fn=eswa.get_swa_multi_avg_fn())),
           "avg_fn_swa": (dict(avg_fn=tswa.get_swa_avg_fn()), dict(avg_fn=eswa.get_swa_avg_fn()))}[kind]
    tavg = tswa.AveragedModel(tm, use_buffers=use_buffers, **fns[0])
    eavg = eswa.AveragedModel(em, use_buffers=use_buffers, **fns[1])
    assert repr(eavg) == repr(tavg)
    _assert_same_state(eavg.state_dict(), tavg.state_dict())
    rng = np.random.default_rng(1)
    if kind == "multi_swa" and use_buffers:
        # torch's foreach running mean refuses the integer num_batches_tracked buffer (addcdiv)
        for avg, m in ((tavg, tm), (eavg, em)):
            avg.update_parameters(m)
        with pytest.raises(RuntimeError) as te:
            tavg.update_parameters(tm)
        with pytest.raises(RuntimeError) as ee:
            eavg.update_parameters(em)
        assert str(ee.value) == str(te.value)
        return
    for _ in range(4):
        _perturb(tm, em, rng)
        tavg.update_parameters(tm)
        eavg.update_parameters(em)
        _assert_same_state(eavg.state_dict(), tavg.state_dict())
    assert eavg.n_averaged.item() == 4 and eavg.n_averaged.dtype == ember.int64
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    tavg.eval()
    eavg.eval()
    np.testing.assert_allclose(eavg(ember.tensor(x)).detach().numpy(), tavg(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_averaged_model_is_a_copy_and_loads_state():
    tm, em = _models(bn=False)
    eavg = eswa.AveragedModel(em)
    assert eavg.module is not em and eavg.module[0].weight is not em[0].weight
    assert all(not p.requires_grad or p.is_leaf for p in eavg.parameters())
    tavg = tswa.AveragedModel(tm)
    eavg.update_parameters(em)
    tavg.update_parameters(tm)
    eavg2 = eswa.AveragedModel(em)
    eavg2.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tavg.state_dict().items()})
    _assert_same_state(eavg2.state_dict(), tavg.state_dict())
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        eswa.AveragedModel(em, avg_fn=eswa.get_swa_avg_fn(), multi_avg_fn=eswa.get_swa_multi_avg_fn())
    for fn in ("get_ema_avg_fn", "get_ema_multi_avg_fn"):
        with pytest.raises(ValueError) as te:
            getattr(tswa, fn)(1.5)
        with pytest.raises(ValueError) as ee:
            getattr(eswa, fn)(1.5)
        assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("loader_kind", ["tensors", "tuples", "lists"])
def test_update_bn_matches_torch(loader_kind):
    tm, em = _models()
    with torch.no_grad():
        tm[1].running_mean.fill_(5.0)
    em[1].running_mean._data[...] = 5.0
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((n, 4)).astype(np.float32) * 2 + 1 for n in (8, 5, 7)]
    wrap = {"tensors": lambda t: t, "tuples": lambda t: (t, 0), "lists": lambda t: [t, "label"]}[loader_kind]
    tm.eval()
    em.eval()
    tswa.update_bn([wrap(torch.tensor(b)) for b in batches], tm)
    eswa.update_bn([wrap(ember.tensor(b)) for b in batches], em)
    _assert_same_state(em.state_dict(), tm.state_dict(), 1e-5)
    assert not em.training and em[1].momentum == 0.1
    assert em[1].num_batches_tracked.item() == 3


def test_update_bn_without_batchnorm_and_with_a_generator():
    _, em = _models(bn=False)
    before = {k: v.clone() for k, v in em.state_dict().items()}
    eswa.update_bn([ember.ones(2, 4)], em)
    for k, v in em.state_dict().items():
        assert (v.numpy() == before[k].numpy()).all()
    tm, em = _models()
    x = np.random.default_rng(4).standard_normal((12, 4)).astype(np.float32)
    tswa.update_bn((torch.tensor(x[i:i + 5]) for i in range(0, 12, 5)), tm)
    eswa.update_bn((ember.tensor(x[i:i + 5]) for i in range(0, 12, 5)), em)
    _assert_same_state(em.state_dict(), tm.state_dict(), 1e-5)


@pytest.mark.parametrize("kw", [dict(swa_lr=0.05), dict(swa_lr=0.05, anneal_epochs=3, anneal_strategy="linear"),
                                dict(swa_lr=[0.02, 0.3], anneal_epochs=0), dict(swa_lr=0.5, anneal_epochs=1),
                                dict(swa_lr=0.01, anneal_epochs=4, anneal_strategy="cos")])
def test_swalr_curve_matches_torch(kw):
    def make(lib, optim, sched):
        ps = [lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(3))]
        opt = optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.2}], lr=1.0, momentum=0.9)
        return opt, sched.SWALR(opt, **kw)
    topt, ts = make(torch, torch.optim, tswa)
    eopt, es = make(ember, eoptim, eswa)
    assert es.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(14):
            topt.step()
            eopt.step()
            ts.step()
            es.step()
            assert es.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15), epoch
            if epoch == 5:
                sd = es.state_dict()
                assert sorted(sd) == sorted(ts.state_dict())
    es2 = make(ember, eoptim, eswa)[1]
    es2.load_state_dict(sd)
    assert es2.anneal_func is (eswa.SWALR._cosine_anneal if es2._anneal_strategy == "cos"
                               else eswa.SWALR._linear_anneal)
    assert [g["swa_lr"] for g in eopt.param_groups] == [g["swa_lr"] for g in topt.param_groups]


def test_swalr_errors_and_warning():
    def both(fn):
        with pytest.raises(ValueError) as te:
            fn(torch, torch.optim, tswa)
        with pytest.raises(ValueError) as ee:
            fn(ember, eoptim, eswa)
        assert str(ee.value) == str(te.value)

    def opt(lib, optim):
        return optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)
    both(lambda lib, optim, s: s.SWALR(opt(lib, optim), 0.05, anneal_strategy="exp"))
    both(lambda lib, optim, s: s.SWALR(opt(lib, optim), 0.05, anneal_epochs=-1))
    both(lambda lib, optim, s: s.SWALR(opt(lib, optim), 0.05, anneal_epochs=2.5))
    both(lambda lib, optim, s: s.SWALR(opt(lib, optim), [0.05, 0.1]))
    sched = eswa.SWALR(opt(ember, eoptim), 0.05)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_swa_training_loop_matches_torch():
    """The documented recipe: train, average from epoch 2 on with SWALR, then update_bn."""
    tm, em = _models()
    topt = torch.optim.SGD(tm.parameters(), lr=0.1)
    eopt = eoptim.SGD(em.parameters(), lr=0.1)
    tavg, eavg = tswa.AveragedModel(tm), eswa.AveragedModel(em)
    tsched, esched = tswa.SWALR(topt, swa_lr=0.05, anneal_epochs=2), eswa.SWALR(eopt, swa_lr=0.05, anneal_epochs=2)
    rng = np.random.default_rng(5)
    data = [(rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 2, 6)) for _ in range(3)]
    for epoch in range(5):
        for x, y in data:
            for m, opt, lib, F in ((tm, topt, torch, torch.nn.functional), (em, eopt, ember, enn.functional)):
                opt.zero_grad()
                F.cross_entropy(m(lib.tensor(x)), lib.tensor(y)).backward()
                opt.step()
        if epoch >= 2:
            tavg.update_parameters(tm)
            eavg.update_parameters(em)
            tsched.step()
            esched.step()
    tswa.update_bn([torch.tensor(x) for x, _ in data], tavg)
    eswa.update_bn([ember.tensor(x) for x, _ in data], eavg)
    _assert_same_state(eavg.state_dict(), tavg.state_dict(), 1e-5)


@pytest.mark.parametrize("kw", [dict(), dict(lr=0.02, nesterov=False, weight_decay=0.0, momentum=0.9),
                                dict(adjust_lr_fn="match_rms_adamw", ns_steps=3, lr=0.01)])
def test_muon_matches_torch(kw):
    """torch runs the Newton–Schulz iteration in bfloat16: ember rounds to bfloat16 after every product, so
    results agree bit for bit except for a rare rounding tie (one bfloat16 ulp of one update, scaled by lr)."""
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (6, 2), (16, 8)]]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    ep = [enn.Parameter(ember.tensor(a)) for a in init]
    topt, eopt = torch.optim.Muon(tp, **kw), eoptim.Muon(ep, **kw)
    for _ in range(10):
        for p, q in zip(tp, ep):
            g = rng.standard_normal(tuple(p.shape)).astype(np.float32)
            p.grad, q.grad = torch.tensor(g), ember.tensor(g)
        topt.step()
        eopt.step()
    lr = kw.get("lr", 1e-3)
    _assert_params(tp, ep, tol=10 * lr * 2.0 ** -8)
    assert repr(eopt) == repr(topt)
    assert eopt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    for p, q in zip(tp, ep):
        np.testing.assert_allclose(eopt.state[q]["momentum_buffer"].numpy(), topt.state[p]["momentum_buffer"].numpy(),
                                   rtol=1e-6, atol=1e-6)


def test_muon_newton_schulz_is_torchs_bfloat16_iteration():
    """The orthogonalisation equals torch's bfloat16 kernels but for rare rounding ties."""
    from ember.optim.muon import _zeropower_via_newtonschulz
    from torch.optim._muon import _zeropower_via_newtonschulz as torch_ns
    rng = np.random.default_rng(1)
    for shape in [(4, 6), (8, 3), (16, 16), (64, 32)]:
        g = rng.standard_normal(shape).astype(np.float32)
        e = _zeropower_via_newtonschulz(np, g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
        t = torch_ns(torch.tensor(g), (3.4445, -4.7750, 2.0315), 5, 1e-7).float().numpy()
        differ = e != t
        assert differ.mean() < 0.01                      # rounding ties only, the rest bit for bit
        np.testing.assert_allclose(e, t, rtol=2.0 ** -7, atol=0)    # and those by one bfloat16 ulp


@pytest.mark.parametrize("make_bad", [
    lambda o, P: o.Muon([P(3)]), lambda o, P: o.Muon([P(2, 2)], momentum=-1.0),
    lambda o, P: o.Muon([P(2, 2)], adjust_lr_fn="bad"), lambda o, P: o.Muon([P(2, 2)], weight_decay=-0.1),
])
def test_muon_bad_arguments_match_torch(make_bad):
    with pytest.raises(ValueError) as te:
        make_bad(torch.optim, lambda *s: torch.nn.Parameter(torch.ones(*s)))
    with pytest.raises(ValueError) as ee:
        make_bad(eoptim, lambda *s: enn.Parameter(ember.ones(*s)))
    assert str(ee.value) == str(te.value)
