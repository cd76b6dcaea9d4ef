"""Learning-rate schedulers: the lr curves equal torch's step by step, state_dict round trips."""
import warnings

import pytest
import torch

import ember
import ember.nn as enn
import ember.optim as eoptim
from ember.optim import lr_scheduler as elrs
from torch.optim import lr_scheduler as tlrs


class Scale:
    """A picklable lr_lambda with state (its __dict__ goes into state_dict)."""

    def __init__(self, k):
        self.k = k

    def __call__(self, epoch):
        return self.k ** epoch


SCHEDULERS = [
    ("LambdaLR", lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e)),
    ("LambdaLR-groups", lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), Scale(0.9)])),
    ("MultiplicativeLR", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97)),
    ("StepLR", lambda m, o: m.StepLR(o, step_size=3, gamma=0.1)),
    ("MultiStepLR", lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.5)),
    ("ConstantLR", lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=7)),
    ("LinearLR", lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=20)),
    ("ExponentialLR", lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o, total_iters=25, power=2.0)),
    ("CosineAnnealingLR", lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4)),
    ("CyclicLR-triangular", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR-triangular2", lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3,
                                                     step_size_down=5, mode="triangular2")),
    ("CyclicLR-exp_range", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, mode="exp_range",
                                                   gamma=0.95)),
    ("OneCycleLR", lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=60)),
    ("OneCycleLR-linear-3phase", lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.2], epochs=6, steps_per_epoch=10,
                                                           anneal_strategy="linear", three_phase=True)),
    ("SequentialLR", lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                                     m.ExponentialLR(o, gamma=0.9)], milestones=[5])),
    ("ChainedScheduler", lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=4),
                                                          m.ExponentialLR(o, gamma=0.9)])),
]


def _pair(momentum=True):
    tp = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))]
    ep = [enn.Parameter(ember.ones(2)), enn.Parameter(ember.ones(3))]
    kw = dict(momentum=0.9) if momentum else {}
    topt = torch.optim.SGD([{"params": [tp[0]]}, {"params": [tp[1]], "lr": 0.05}], lr=0.1, **kw)
    eopt = eoptim.SGD([{"params": [ep[0]]}, {"params": [ep[1]], "lr": 0.05}], lr=0.1, **kw)
    return topt, eopt


def _curve(sched, opt, n, keys=("lr", "momentum")):
    out = []
    for _ in range(n):
        opt.step()
        sched.step()
        out.append([(sched.get_last_lr()[i],) + tuple(g.get(k) for k in keys) for i, g in enumerate(opt.param_groups)])
    return out


def _assert_curves(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        for x, y in zip(ra, rb):
            flat = lambda r: [v for item in r for v in (item if isinstance(item, tuple) else (item,))]  # noqa: E731
            assert flat(x) == pytest.approx(flat(y), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name,build", SCHEDULERS, ids=[n for n, _ in SCHEDULERS])
def test_curve_matches_torch(name, build):
    topt, eopt = _pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts, es = build(tlrs, topt), build(elrs, eopt)
    assert es.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    n = 59 if name.startswith("OneCycle") else 60
    _assert_curves(_curve(es, eopt, n), _curve(ts, topt, n))


@pytest.mark.parametrize("name,build", SCHEDULERS, ids=[n for n, _ in SCHEDULERS])
def test_state_dict_resume(name, build):
    topt, eopt = _pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts, es = build(tlrs, topt), build(elrs, eopt)
        _curve(ts, topt, 13)
        _curve(es, eopt, 13)
        sd = es.state_dict()
        assert "optimizer" not in sd
        assert set(sd) == set(ts.state_dict())
        eopt2 = _pair()[1]
        es2 = build(elrs, eopt2)
        eopt2.load_state_dict(eopt.state_dict())
        es2.load_state_dict(sd)
    n = 20 if name.startswith("OneCycle") else 30
    _assert_curves(_curve(es2, eopt2, n), _curve(ts, topt, n))


def test_adam_betas_cycled_like_torch():
    tp, ep = torch.nn.Parameter(torch.ones(2)), enn.Parameter(ember.ones(2))
    topt, eopt = torch.optim.Adam([tp], lr=0.1), eoptim.Adam([ep], lr=0.1)
    ts = tlrs.OneCycleLR(topt, max_lr=0.3, total_steps=20)
    es = elrs.OneCycleLR(eopt, max_lr=0.3, total_steps=20)
    _assert_curves(_curve(es, eopt, 19, ("lr", "betas")), _curve(ts, topt, 19, ("lr", "betas")))


def test_reduce_lr_on_plateau_matches_torch():
    topt, eopt = _pair()
    kw = dict(mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=[0.001, 0.01])
    ts, es = tlrs.ReduceLROnPlateau(topt, **kw), elrs.ReduceLROnPlateau(eopt, **kw)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.79, 0.8] * 2
    for m in metrics:
        ts.step(m)
        es.step(m)
        assert es.get_last_lr() == ts.get_last_lr()
    sd = es.state_dict()
    assert set(sd) == set(ts.state_dict())
    es2 = elrs.ReduceLROnPlateau(eopt, mode="max")
    es2.load_state_dict(sd)
    assert es2.mode == "min" and es2.best == es.best


def test_closed_form_with_epoch():
    topt, eopt = _pair()
    ts, es = tlrs.StepLR(topt, step_size=2, gamma=0.5), elrs.StepLR(eopt, step_size=2, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for e in (3, 7, 4):
            ts.step(e)
            es.step(e)
            assert es.get_last_lr() == ts.get_last_lr()


def test_warns_when_stepped_before_optimizer():
    opt = eoptim.SGD([enn.Parameter(ember.ones(1))], lr=0.1)
    sched = elrs.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        sched.step()


def test_get_lr_outside_step_warns():
    opt = eoptim.SGD([enn.Parameter(ember.ones(1))], lr=0.1)
    sched = elrs.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_bad_arguments():
    opt = eoptim.SGD([enn.Parameter(ember.ones(1))], lr=0.1)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        elrs.StepLR([], step_size=1)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        elrs.StepLR(opt, step_size=1, last_epoch=3)
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1."):
        elrs.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        elrs.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        elrs.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        elrs.ReduceLROnPlateau(opt, factor=1.0)
    sched = elrs.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    opt.step()
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
        sched.step()
