"""ember.distributions against torch.distributions: values and parameter gradients of log_prob,
cdf/icdf, entropy, moments and KL (float64, same parameters), shapes, expand, validation errors;
sampling checked statistically (ember's stream is not torch's)."""
import math

import numpy as np
import pytest
import torch
import torch.distributions as TD

import ember
import ember.distributions as ED

RNG = np.random.default_rng(0)
SPD = np.array([[2.0, 0.3, -0.4], [0.3, 1.5, 0.2], [-0.4, 0.2, 1.0]])
SPD2 = np.array([[1.2, -0.2, 0.1], [-0.2, 0.8, 0.3], [0.1, 0.3, 2.2]])
LOC23 = np.array([[0.3, -1.2, 0.5], [1.0, 0.0, -0.4]])
POS3 = np.array([0.5, 1.5, 2.0])


def _tensors(mod, params, grad):
    """Parameter dict for ``mod`` (ember or torch): float arrays become float64 tensors (requiring grad
    when ``grad``); Python numbers stay numbers."""
    out = {}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            t = mod.tensor(v, dtype=mod.float64)
            out[k] = t.requires_grad_(grad) if grad else t
        else:
            out[k] = v
    return out


# name: (constructor over (module D, module M, params), params, value in the support, icdf levels)
CASES = {
    "Normal": (lambda D, M, p: D.Normal(p["loc"], p["scale"]),
               {"loc": np.array([[0.3], [-1.2]]), "scale": POS3}, np.array([0.1, -0.7, 2.5]),
               np.array([0.1, 0.5, 0.93])),
    "Uniform": (lambda D, M, p: D.Uniform(p["low"], p["high"]),
                {"low": np.array([[-1.0], [0.5]]), "high": np.array([2.0, 3.0, 4.0])},
                np.array([0.7, 1.9, 2.2]), np.array([0.1, 0.5, 0.93])),
    "Exponential": (lambda D, M, p: D.Exponential(p["rate"]), {"rate": POS3},
                    np.array([0.3, 1.2, 0.1]), np.array([0.1, 0.5, 0.93])),
    "Laplace": (lambda D, M, p: D.Laplace(p["loc"], p["scale"]),
                {"loc": np.array([[0.3], [-1.2]]), "scale": POS3}, np.array([0.1, -0.7, 2.5]),
                np.array([0.1, 0.5, 0.93])),
    "Cauchy": (lambda D, M, p: D.Cauchy(p["loc"], p["scale"]),
               {"loc": np.array([[0.3], [-1.2]]), "scale": POS3}, np.array([0.1, -0.7, 2.5]),
               np.array([0.1, 0.5, 0.93])),
    "StudentT": (lambda D, M, p: D.StudentT(p["df"], p["loc"], p["scale"]),
                 {"df": np.array([0.8, 1.5, 3.0, 10.0]), "loc": np.array([[0.3], [-1.2]]),
                  "scale": np.array([0.5, 1.5, 2.0, 1.0])}, np.array([0.1, -0.7, 2.5, 0.0]), None),
    "Gamma": (lambda D, M, p: D.Gamma(p["concentration"], p["rate"]),
              {"concentration": np.array([[0.7], [2.5]]), "rate": POS3}, np.array([0.4, 1.3, 2.0]), None),
    "Chi2": (lambda D, M, p: D.Chi2(p["df"]), {"df": np.array([1.5, 4.0, 7.0])},
             np.array([0.4, 3.3, 9.0]), None),
    "Beta": (lambda D, M, p: D.Beta(p["c1"], p["c0"]),
             {"c1": np.array([[0.7], [2.5]]), "c0": np.array([0.5, 1.0, 3.0])},
             np.array([0.2, 0.5, 0.9]), None),
    "Dirichlet": (lambda D, M, p: D.Dirichlet(p["c"]), {"c": np.array([[0.7, 2.0, 1.5], [0.6, 0.4, 0.9]])},
                  np.array([0.2, 0.5, 0.3]), None),
    "BernoulliProbs": (lambda D, M, p: D.Bernoulli(probs=p["p"]), {"p": np.array([0.2, 0.5, 0.9])},
                       np.array([1.0, 0.0, 1.0]), None),
    "BernoulliLogits": (lambda D, M, p: D.Bernoulli(logits=p["l"]), {"l": np.array([[-1.0], [0.3]])},
                        np.array([1.0, 0.0]), None),
    "CategoricalProbs": (lambda D, M, p: D.Categorical(probs=p["p"]),
                         {"p": np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 1.0, 0.25, 0.25]])},
                         np.array([[0, 3], [2, 1], [1, 1]]), None),
    "CategoricalLogits": (lambda D, M, p: D.Categorical(logits=p["l"]),
                          {"l": np.array([[0.1, -2.0, 0.3, 1.4], [0.5, 1.0, -0.25, 0.0]])},
                          np.array([3, 0]), None),
    "OneHotCategorical": (lambda D, M, p: D.OneHotCategorical(probs=p["p"]),
                          {"p": np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]])},
                          np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), None),
    "Binomial": (lambda D, M, p: D.Binomial(10, probs=p["p"]), {"p": np.array([0.2, 0.5, 0.9])},
                 np.array([3.0, 5.0, 10.0]), None),
    "BinomialLogits": (lambda D, M, p: D.Binomial(M.tensor([[5.0], [8.0]], dtype=M.float64), logits=p["l"]),
                       {"l": np.array([-1.0, 0.4, 2.0])}, np.array([3.0, 5.0, 0.0]), None),
    "Multinomial": (lambda D, M, p: D.Multinomial(6, probs=p["p"]),
                    {"p": np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]])}, np.array([1.0, 2.0, 3.0]), None),
    "Poisson": (lambda D, M, p: D.Poisson(p["rate"]), {"rate": np.array([0.5, 2.0, 7.0])},
                np.array([0.0, 3.0, 6.0]), None),
    "Geometric": (lambda D, M, p: D.Geometric(probs=p["p"]), {"p": np.array([0.2, 0.5, 0.9])},
                  np.array([0.0, 2.0, 5.0]), None),
    "LogNormal": (lambda D, M, p: D.LogNormal(p["loc"], p["scale"]),
                  {"loc": np.array([[0.3], [-1.2]]), "scale": POS3}, np.array([0.1, 0.7, 2.5]),
                  np.array([0.1, 0.5, 0.93])),
    "HalfNormal": (lambda D, M, p: D.HalfNormal(p["scale"]), {"scale": POS3},
                   np.array([0.3, 1.0, 2.0]), np.array([0.1, 0.5, 0.93])),
    "Gumbel": (lambda D, M, p: D.Gumbel(p["loc"], p["scale"]),
               {"loc": np.array([[0.3], [-1.2]]), "scale": POS3}, np.array([0.1, -0.7, 2.5]),
               np.array([0.1, 0.5, 0.93])),
    "MVNCovariance": (lambda D, M, p: D.MultivariateNormal(p["loc"], covariance_matrix=p["cov"]),
                      {"loc": LOC23, "cov": SPD}, np.array([0.2, -0.3, 1.1]), None),
    "MVNPrecision": (lambda D, M, p: D.MultivariateNormal(p["loc"], precision_matrix=p["prec"]),
                     {"loc": LOC23, "prec": SPD}, np.array([[0.2, -0.3, 1.1]]), None),
    "MVNScaleTril": (lambda D, M, p: D.MultivariateNormal(p["loc"], scale_tril=p["L"]),
                     {"loc": np.array([0.3, -1.2, 0.5]), "L": np.linalg.cholesky(np.stack([SPD, SPD2]))},
                     np.array([[0.2, -0.3, 1.1], [0.0, 0.1, 0.2], [1.0, 1.0, 1.0]])[:, None], None),
    "LowRankMVN": (lambda D, M, p: D.LowRankMultivariateNormal(p["loc"], p["W"], p["d"]),
                   {"loc": LOC23, "W": np.array([[1.0, 0.2], [-0.5, 0.3], [0.1, 2.0]]), "d": POS3},
                   np.array([0.2, -0.3, 1.1]), None),
    "RelaxedBernoulli": (lambda D, M, p: D.RelaxedBernoulli(p["t"], probs=p["p"]),
                         {"t": np.array(0.7), "p": np.array([0.2, 0.5, 0.9])}, np.array([0.3, 0.5, 0.99]), None),
    "RelaxedBernoulliLogits": (lambda D, M, p: D.RelaxedBernoulli(p["t"], logits=p["l"]),
                               {"t": np.array([0.4, 2.0]), "l": np.array([-1.0, 0.3])},
                               np.array([0.3, 0.8]), None),
    "RelaxedOneHot": (lambda D, M, p: D.RelaxedOneHotCategorical(p["t"], logits=p["l"]),
                      {"t": np.array(0.6), "l": np.array([[0.1, -2.0, 0.3], [0.5, 1.0, -0.25]])},
                      np.array([0.2, 0.5, 0.3]), None),
    "Independent": (lambda D, M, p: D.Independent(D.Normal(p["loc"], p["scale"]), 1),
                    {"loc": LOC23, "scale": np.array([[0.5, 1.5, 2.0], [1.0, 0.7, 0.2]])},
                    np.array([0.2, -0.3, 1.1]), None),
    "Mixture": (lambda D, M, p: D.MixtureSameFamily(D.Categorical(logits=p["w"]), D.Normal(p["loc"], p["scale"])),
                {"w": np.array([0.3, -1.0, 0.5]), "loc": np.array([-1.0, 0.0, 2.0]), "scale": POS3},
                np.array([[0.1], [-0.7], [2.5]]), None),
    "MixtureBatched": (lambda D, M, p: D.MixtureSameFamily(
        D.Categorical(probs=p["w"]), D.Independent(D.Normal(p["loc"], p["scale"]), 1)),
        {"w": np.array([[0.2, 0.8], [0.5, 0.5]]), "loc": RNG.normal(size=(2, 2, 3)),
         "scale": RNG.uniform(0.5, 2, size=(2, 2, 3))}, np.array([0.2, -0.3, 1.1]), None),
    "AffineSigmoid": (lambda D, M, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), [D.AffineTransform(p["a"], p["b"]), D.SigmoidTransform()]),
        {"loc": np.array([0.3, -1.2, 0.5]), "scale": POS3, "a": np.array(0.4), "b": np.array(-1.3)},
        np.array([0.2, 0.5, 0.9]), np.array([0.1, 0.5, 0.93])),
    "ComposeTanhExp": (lambda D, M, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), D.ComposeTransform([D.TanhTransform(), D.ExpTransform()])),
        {"loc": np.array([0.3, -1.2, 0.5]), "scale": POS3}, np.array([0.5, 1.0, 2.5]), None),
    "AffineEventDim": (lambda D, M, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), D.AffineTransform(p["a"], p["b"], event_dim=1)),
        {"loc": LOC23, "scale": np.array([[0.5, 1.5, 2.0], [1.0, 0.7, 0.2]]), "a": np.array([1.0, 0.0, -1.0]),
         "b": np.array([2.0, -0.5, 1.5])}, np.array([0.2, -0.3, 1.1]), None),
}

METHODS = {
    "log_prob": lambda d, M, v, q: d.log_prob(v),
    "cdf": lambda d, M, v, q: d.cdf(v),
    "icdf": lambda d, M, v, q: d.icdf(q),
    "entropy": lambda d, M, v, q: d.entropy(),
    "mean": lambda d, M, v, q: d.mean,
    "mode": lambda d, M, v, q: d.mode,
    "variance": lambda d, M, v, q: d.variance,
    "stddev": lambda d, M, v, q: d.stddev,
    "perplexity": lambda d, M, v, q: d.perplexity(),
}
# torch has no parameter gradient for these (regularised incomplete gamma in its first argument)
NO_GRAD = {("Gamma", "cdf"), ("Chi2", "cdf")}


def _make(mod, name, grad=True):
    ctor, params, value, q = CASES[name]
    D = ED if mod is ember else TD
    p = _tensors(mod, params, grad)
    v = mod.tensor(value, dtype=mod.int64 if value.dtype.kind == "i" else mod.float64)
    qq = None if q is None else mod.tensor(q, dtype=mod.float64)
    return ctor(D, mod, p), p, v, qq


def _close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=atol,
                               equal_nan=True)


def _eval(mod, name, method):
    d, p, v, q = _make(mod, name)
    if method == "icdf" and q is None:
        return NotImplementedError, None, None      # no levels given for this case
    try:
        out = METHODS[method](d, mod, v, q)
    except NotImplementedError:
        return NotImplementedError, None, None
    return out, p, d


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name, method):
    t_out, tp, _ = _eval(torch, name, method)
    e_out, ep, _ = _eval(ember, name, method)
    if t_out is NotImplementedError:
        assert e_out is NotImplementedError, f"torch does not implement {method}, ember does"
        return
    assert e_out is not NotImplementedError, f"ember lacks {name}.{method}"
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert str(e_out.dtype) == str(t_out.dtype)
    _close(e_out.detach().numpy(), t_out.detach().numpy())
    if (name, method) in NO_GRAD or not t_out.requires_grad or not t_out.dtype.is_floating_point:
        return
    w = RNG.uniform(0.5, 1.5, size=tuple(t_out.shape))
    keep = np.isfinite(t_out.detach().numpy())
    w = np.where(keep, w, 0.0)
    (torch.nan_to_num(t_out, 0.0, 0.0, 0.0) * torch.tensor(w)).sum().backward()
    (ember.nan_to_num(e_out, 0.0, 0.0, 0.0) * ember.tensor(w)).sum().backward()
    for k in tp:
        if isinstance(tp[k], torch.Tensor) and tp[k].requires_grad:
            tg, eg = tp[k].grad, ep[k].grad
            if tg is None:
                assert eg is None or not eg.numpy().any(), k
            else:
                assert eg is not None, f"no gradient reached {k}"
                _close(eg.numpy(), tg.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", list(CASES))
def test_shapes_expand_and_repr_match_torch(name):
    t, _, tv, _ = _make(torch, name, grad=False)
    e, _, ev, _ = _make(ember, name, grad=False)
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    assert e.has_rsample == t.has_rsample
    assert e.has_enumerate_support == t.has_enumerate_support
    assert repr(e) == repr(t)
    assert repr(e.support) == repr(t.support)
    assert e.support.event_dim == t.support.event_dim and e.support.is_discrete == t.support.is_discrete
    assert tuple(e.sample().shape) == tuple(t.sample().shape)
    assert tuple(e.sample((4, 1)).shape) == tuple(t.sample((4, 1)).shape)
    big = (5,) + tuple(t.batch_shape)
    te, ee = t.expand(big), e.expand(big)
    assert type(ee) is type(e) and tuple(ee.batch_shape) == tuple(te.batch_shape)
    assert tuple(ee.event_shape) == tuple(te.event_shape)
    x = ee.sample((2,))
    assert tuple(x.shape) == tuple(te.sample((2,)).shape)
    _close(ee.log_prob(x).numpy(), te.log_prob(torch.from_numpy(x.numpy())).numpy())
    if t.has_enumerate_support:
        try:
            want = t.enumerate_support(), t.enumerate_support(False)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                e.enumerate_support()
            return
        _close(e.enumerate_support().numpy(), want[0].numpy())
        _close(e.enumerate_support(False).numpy(), want[1].numpy())


@pytest.mark.parametrize("name", ["MVNCovariance", "MVNPrecision", "MVNScaleTril", "LowRankMVN"])
@pytest.mark.parametrize("attr", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_mvn_matrices_match_torch(name, attr):
    res = {}
    for mod in (torch, ember):
        d, p, _, _ = _make(mod, name)
        m = getattr(d, attr)
        (m * mod.tensor(np.arange(m.numel()).reshape(tuple(m.shape)) % 5 / 5.0)).sum().backward()
        res[mod] = m, p
    (tm, tp), (em, ep) = res[torch], res[ember]
    assert tuple(em.shape) == tuple(tm.shape)
    _close(em.detach().numpy(), tm.detach().numpy())
    for k in tp:
        if tp[k].grad is None:
            assert ep[k].grad is None or not ep[k].grad.numpy().any()
        else:
            _close(ep[k].grad.numpy(), tp[k].grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", list(CASES))
def test_float32_parameters_keep_float32(name):
    """Same cases in float32: dtypes as torch's, values to float32 precision."""
    ctor, params, value, _ = CASES[name]
    res = {}
    for mod, D in ((torch, TD), (ember, ED)):
        p = {k: mod.tensor(v, dtype=mod.float32) for k, v in params.items()}
        d = ctor(D, mod, p)
        v = mod.tensor(value, dtype=mod.int64 if value.dtype.kind == "i" else mod.float32)
        outs = [d.log_prob(v), d.sample((2,))]
        for attr in ("mean", "variance", "entropy"):
            try:
                outs.append(getattr(d, attr)() if attr == "entropy" else getattr(d, attr))
            except NotImplementedError:
                outs.append(None)
        res[mod] = outs
    for i, (e, t) in enumerate(zip(res[ember], res[torch])):
        assert (e is None) == (t is None)
        if t is not None:
            assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
            if i != 1:
                _close(e.detach().numpy(), t.detach().numpy(), rtol=2e-5, atol=2e-6)


def test_distributions_follow_the_parameters_device(standin_cuda):
    dev = "cuda"
    loc = ember.zeros(3, device=dev, requires_grad=True)
    n = ED.Normal(loc, ember.ones(3, device=dev))
    a = ember.full((5,), 2.0, device=dev, requires_grad=True)
    g = ED.Gamma(a, 1.0).rsample()
    g.sum().backward()
    m = ED.MultivariateNormal(ember.zeros(2, device=dev), ember.eye(2, device=dev))
    outs = [n.rsample((4,)), n.log_prob(n.sample()), n.entropy(), g, a.grad,
            ED.Categorical(logits=ember.zeros(2, 3, device=dev)).sample((3,)), m.log_prob(m.sample()),
            ED.Binomial(5, ember.full((2,), 0.3, device=dev)).sample(), ED.Dirichlet(ember.ones(3, device=dev)).sample(),
            ED.Poisson(ember.ones(2, device=dev)).sample(), ED.kl_divergence(m, m)]
    assert all(o.device.type == "cuda" for o in outs)


def test_scalar_parameters_give_empty_batch_shape_and_default_dtype():
    for ctor in (lambda D: D.Normal(0.0, 1.0), lambda D: D.Gamma(2.0, 3.0), lambda D: D.Bernoulli(0.3),
                 lambda D: D.Uniform(0, 2), lambda D: D.StudentT(3.0)):
        e, t = ctor(ED), ctor(TD)
        assert tuple(e.batch_shape) == tuple(t.batch_shape) == ()
        assert str(e.mean.dtype) == str(t.mean.dtype) == "torch.float32"
        assert tuple(e.sample((3,)).shape) == (3,)
        _close(e.log_prob(ember.tensor(1.0)).numpy(), t.log_prob(torch.tensor(1.0)).numpy(), rtol=1e-6, atol=1e-6)


# ---- KL ------------------------------------------------------------------------------------------------
KL_PAIRS = {
    "Normal": (lambda D, p: D.Normal(p["a"], p["b"]), {"a": np.array([0.3, -1.0]), "b": np.array([0.5, 2.0])},
               {"a": np.array([[1.0], [0.0]]), "b": np.array([1.5, 0.7])}),
    "Bernoulli": (lambda D, p: D.Bernoulli(probs=p["a"]), {"a": np.array([0.2, 0.7])}, {"a": np.array([0.5, 0.1])}),
    "BernoulliEdge": (lambda D, p: D.Bernoulli(probs=p["a"]), {"a": np.array([0.0, 1.0, 0.3])},
                      {"a": np.array([0.5, 0.5, 1.0])}),
    "Categorical": (lambda D, p: D.Categorical(probs=p["a"]), {"a": np.array([[0.2, 0.3, 0.5], [0.0, 0.5, 0.5]])},
                    {"a": np.array([0.1, 0.6, 0.3])}),
    "OneHotCategorical": (lambda D, p: D.OneHotCategorical(logits=p["a"]), {"a": np.array([0.2, 0.3, 0.5])},
                          {"a": np.array([1.1, -0.6, 0.3])}),
    "Uniform": (lambda D, p: D.Uniform(p["a"], p["b"]), {"a": np.array([0.0, -1.0]), "b": np.array([1.0, 2.0])},
                {"a": np.array([-0.5, 0.0]), "b": np.array([3.0, 2.5])}),
    "Beta": (lambda D, p: D.Beta(p["a"], p["b"]), {"a": np.array([0.7, 2.0]), "b": np.array([1.5, 3.0])},
             {"a": np.array([1.2, 0.4]), "b": np.array([2.5, 1.0])}),
    "Gamma": (lambda D, p: D.Gamma(p["a"], p["b"]), {"a": np.array([0.7, 2.0]), "b": np.array([1.5, 3.0])},
              {"a": np.array([1.2, 0.4]), "b": np.array([2.5, 1.0])}),
    "Chi2": (lambda D, p: D.Chi2(p["a"]), {"a": np.array([0.7, 2.0])}, {"a": np.array([1.2, 4.0])}),
    "Exponential": (lambda D, p: D.Exponential(p["a"]), {"a": np.array([0.7, 2.0])}, {"a": np.array([1.2, 0.4])}),
    "Laplace": (lambda D, p: D.Laplace(p["a"], p["b"]), {"a": np.array([0.3, -1.0]), "b": np.array([0.5, 2.0])},
                {"a": np.array([1.0, 0.0]), "b": np.array([1.5, 0.7])}),
    "Poisson": (lambda D, p: D.Poisson(p["a"]), {"a": np.array([0.7, 2.0])}, {"a": np.array([1.2, 0.4])}),
    "Geometric": (lambda D, p: D.Geometric(p["a"]), {"a": np.array([0.3, 0.8])}, {"a": np.array([0.5, 0.1])}),
    "Binomial": (lambda D, p: D.Binomial(7, p["a"]), {"a": np.array([0.3, 0.8])}, {"a": np.array([0.5, 0.1])}),
    "Cauchy": (lambda D, p: D.Cauchy(p["a"], p["b"]), {"a": np.array([0.3, -1.0]), "b": np.array([0.5, 2.0])},
               {"a": np.array([1.0, 0.0]), "b": np.array([1.5, 0.7])}),
    "Gumbel": (lambda D, p: D.Gumbel(p["a"], p["b"]), {"a": np.array([0.3, -1.0]), "b": np.array([0.5, 2.0])},
               {"a": np.array([1.0, 0.0]), "b": np.array([1.5, 0.7])}),
    "HalfNormal": (lambda D, p: D.HalfNormal(p["a"]), {"a": np.array([0.7, 2.0])}, {"a": np.array([1.2, 0.4])}),
    "LogNormal": (lambda D, p: D.LogNormal(p["a"], p["b"]), {"a": np.array([0.3, -1.0]), "b": np.array([0.5, 2.0])},
                  {"a": np.array([1.0, 0.0]), "b": np.array([1.5, 0.7])}),
    "Dirichlet": (lambda D, p: D.Dirichlet(p["a"]), {"a": np.array([[0.7, 2.0, 1.0], [3.0, 0.5, 0.5]])},
                  {"a": np.array([1.2, 0.4, 2.0])}),
    "MVN": (lambda D, p: D.MultivariateNormal(p["a"], covariance_matrix=p["b"]), {"a": LOC23, "b": SPD},
            {"a": np.array([0.1, 0.2, 0.3]), "b": np.stack([SPD2, SPD])}),
    "LowRankMVN": (lambda D, p: D.LowRankMultivariateNormal(p["a"], p["w"], p["d"]),
                   {"a": LOC23, "w": np.array([[1.0, 0.2], [-0.5, 0.3], [0.1, 2.0]]), "d": POS3},
                   {"a": np.array([0.1, 0.2, 0.3]), "w": np.array([[0.3], [0.5], [-1.0]]), "d": np.array([1.0, 0.4, 2.0])}),
    "MVNLowRank": ((lambda D, p: D.MultivariateNormal(p["a"], scale_tril=p["b"]),
                    lambda D, p: D.LowRankMultivariateNormal(p["a"], p["w"], p["d"])),
                   {"a": LOC23, "b": np.linalg.cholesky(SPD)},
                   {"a": np.array([0.1, 0.2, 0.3]), "w": np.array([[0.3], [0.5], [-1.0]]), "d": np.array([1.0, 0.4, 2.0])}),
    "LowRankMVN2": ((lambda D, p: D.LowRankMultivariateNormal(p["a"], p["w"], p["d"]),
                     lambda D, p: D.MultivariateNormal(p["a"], precision_matrix=p["b"])),
                    {"a": np.array([0.1, 0.2, 0.3]), "w": np.array([[0.3], [0.5], [-1.0]]), "d": np.array([1.0, 0.4, 2.0])},
                    {"a": LOC23, "b": SPD2}),
    "Independent": (lambda D, p: D.Independent(D.Normal(p["a"], p["b"]), 1), {"a": LOC23, "b": np.abs(LOC23) + 0.5},
                    {"a": np.array([0.1, 0.2, 0.3]), "b": POS3}),
}


@pytest.mark.parametrize("name", list(KL_PAIRS))
def test_kl_divergence_values_and_gradients_match_torch(name):
    ctor, pp, qp = KL_PAIRS[name]
    res = {}
    for mod, D in ((torch, TD), (ember, ED)):
        p, q = _tensors(mod, pp, True), _tensors(mod, qp, True)
        cp, cq = ctor if isinstance(ctor, tuple) else (ctor, ctor)
        kl = D.kl_divergence(cp(D, p), cq(D, q))
        w = np.where(np.isfinite(kl.detach().numpy()), 1.0, 0.0)
        (mod.nan_to_num(kl, 0.0, 0.0, 0.0) * mod.tensor(w)).sum().backward()
        res[mod] = kl, [t.grad for t in list(p.values()) + list(q.values())]
    (tk, tg), (ek, eg) = res[torch], res[ember]
    assert tuple(ek.shape) == tuple(tk.shape)
    _close(ek.detach().numpy(), tk.detach().numpy())
    for a, b in zip(eg, tg):
        if b is None:
            assert a is None or not a.numpy().any()
        else:
            _close(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-10)


def test_kl_registry_dispatch_and_errors():
    msgs = {}
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type Gamma"):
        ED.kl_divergence(ED.Normal(0.0, 1.0), ED.Gamma(1.0, 1.0))
    with pytest.raises(TypeError):
        ED.register_kl(int, ED.Normal)

    class MyNormal(ED.Normal):
        pass

    # a subclass uses its parent's rule until it registers a more specific one
    p, q = MyNormal(0.0, 1.0), MyNormal(1.0, 2.0)
    _close(ED.kl_divergence(p, q).numpy(), ED.kl_divergence(ED.Normal(0.0, 1.0), ED.Normal(1.0, 2.0)).numpy())

    @ED.register_kl(MyNormal, MyNormal)
    def _mine(p, q):
        return ember.tensor(42.0)
    assert ED.kl_divergence(p, q).item() == 42.0
    for D, M in ((TD, torch), (ED, ember)):
        full = [D.MultivariateNormal(M.zeros(n), M.eye(n)) for n in (2, 3)]
        low = [D.LowRankMultivariateNormal(M.zeros(n), M.ones(n, 1), M.ones(n)) for n in (2, 3)]
        for p, q in ((full[0], full[1]), (low[0], low[1]), (full[0], low[1]), (low[0], full[1])):
            with pytest.raises(ValueError) as info:
                D.kl_divergence(p, q)
            msgs.setdefault(D, []).append(str(info.value))
    assert msgs[ED] == msgs[TD]


# ---- validation errors -------------------------------------------------------------------------------
def _raise_both(fn, exc=ValueError):
    msgs = []
    for D, M in ((TD, torch), (ED, ember)):
        with pytest.raises(exc) as info:
            fn(D, M)
        msgs.append(str(info.value))
    assert msgs[1] == msgs[0]


BAD = {
    "normal_scale": lambda D, M: D.Normal(M.tensor([0.0, 1.0]), M.tensor([1.0, -2.0])),
    "normal_scale_f64": lambda D, M: D.Normal(0.0, M.tensor([[1.0], [0.0]], dtype=M.float64)),
    "normal_loc_nan": lambda D, M: D.Normal(M.tensor(float("nan")), 1.0),
    "normal_value_shape": lambda D, M: D.Normal(M.zeros(3), 1.0).log_prob(M.zeros(2)),
    "normal_value_type": lambda D, M: D.Normal(M.zeros(3), 1.0).log_prob(0.5),
    "exponential_value_support": lambda D, M: D.Exponential(M.ones(2)).log_prob(M.tensor([1.0, -1.0])),
    "uniform_value_support": lambda D, M: D.Uniform(M.zeros(2), M.ones(2)).log_prob(M.tensor([0.5, 1.5])),
    "bernoulli_both": lambda D, M: D.Bernoulli(probs=M.tensor(0.3), logits=M.tensor(0.1)),
    "bernoulli_neither": lambda D, M: D.Bernoulli(),
    "bernoulli_probs": lambda D, M: D.Bernoulli(probs=M.tensor([0.3, 1.2])),
    "bernoulli_value": lambda D, M: D.Bernoulli(M.tensor([0.3, 0.2])).log_prob(M.tensor([0.0, 0.5])),
    "categorical_0d": lambda D, M: D.Categorical(probs=M.tensor(1.0)),
    "categorical_logits_0d": lambda D, M: D.Categorical(logits=M.tensor(1.0)),
    "categorical_negative": lambda D, M: D.Categorical(probs=M.tensor([0.5, -0.1, 0.6])),
    "categorical_value": lambda D, M: D.Categorical(probs=M.tensor([0.5, 0.5])).log_prob(M.tensor(2)),
    "gamma_concentration": lambda D, M: D.Gamma(M.tensor([1.0, 0.0]), 1.0),
    "beta": lambda D, M: D.Beta(M.tensor([1.0, -1.0]), 1.0),
    "dirichlet_0d": lambda D, M: D.Dirichlet(M.tensor(1.0)),
    "dirichlet_value": lambda D, M: D.Dirichlet(M.ones(3)).log_prob(M.tensor([0.5, 0.6, 0.1])),
    "binomial_count": lambda D, M: D.Binomial(M.tensor([2.5]), M.tensor([0.5])),
    "poisson_rate": lambda D, M: D.Poisson(M.tensor([-1.0])),
    "geometric_zero": lambda D, M: D.Geometric(M.tensor([0.0, 0.5])),
    "mvn_loc_0d": lambda D, M: D.MultivariateNormal(M.tensor(0.0), M.eye(2)),
    "mvn_none": lambda D, M: D.MultivariateNormal(M.zeros(2)),
    "mvn_two": lambda D, M: D.MultivariateNormal(M.zeros(2), M.eye(2), scale_tril=M.eye(2)),
    "mvn_cov_1d": lambda D, M: D.MultivariateNormal(M.zeros(2), M.ones(2)),
    "mvn_tril_1d": lambda D, M: D.MultivariateNormal(M.zeros(2), scale_tril=M.ones(2)),
    "mvn_prec_1d": lambda D, M: D.MultivariateNormal(M.zeros(2), precision_matrix=M.ones(2)),
    "mvn_tril_upper": lambda D, M: D.MultivariateNormal(M.zeros(2), scale_tril=M.tensor([[1.0, 0.5], [0.0, 1.0]])),
    "mvn_cov_not_pd": lambda D, M: D.MultivariateNormal(M.zeros(2), M.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "lowrank_loc_0d": lambda D, M: D.LowRankMultivariateNormal(M.tensor(0.0), M.ones(1, 1), M.ones(1)),
    "lowrank_factor_1d": lambda D, M: D.LowRankMultivariateNormal(M.zeros(2), M.ones(2), M.ones(2)),
    "lowrank_factor_rows": lambda D, M: D.LowRankMultivariateNormal(M.zeros(2), M.ones(3, 1), M.ones(2)),
    "lowrank_diag": lambda D, M: D.LowRankMultivariateNormal(M.zeros(2), M.ones(2, 1), M.ones(3)),
    "lowrank_batch": lambda D, M: D.LowRankMultivariateNormal(M.zeros(3, 2), M.ones(4, 2, 1), M.ones(2)),
    "relaxed_probs": lambda D, M: D.RelaxedBernoulli(M.tensor(0.5), probs=M.tensor([1.5])),
    "independent_ndims": lambda D, M: D.Independent(D.Normal(M.zeros(3), 1.0), 2),
    "mixture_not_categorical": lambda D, M: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(M.zeros(2), 1.0)),
    "mixture_components": lambda D, M: D.MixtureSameFamily(D.Categorical(M.ones(3)), D.Normal(M.zeros(2), 1.0)),
    "mixture_batch": lambda D, M: D.MixtureSameFamily(D.Categorical(M.ones(4, 2)), D.Normal(M.zeros(3, 2), 1.0)),
    "transformed_list": lambda D, M: D.TransformedDistribution(D.Normal(0.0, 1.0), [1]),
    "transformed_type": lambda D, M: D.TransformedDistribution(D.Normal(0.0, 1.0), 3),
    "broadcast_all": lambda D, M: D.Normal("a", 1.0),
    "set_default_validate_args": lambda D, M: D.Distribution.set_default_validate_args(2),
}


@pytest.mark.parametrize("case", list(BAD))
def test_validation_errors_match_torch(case):
    _raise_both(BAD[case])


def test_validation_can_be_turned_off():
    for D in (TD, ED):
        assert D.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0
        D.Distribution.set_default_validate_args(False)
        try:
            D.Normal(0.0, -1.0)
            D.Exponential(1.0).log_prob(D.Exponential(1.0).mean * -1)
        finally:
            D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        ED.Normal(0.0, -1.0)


@pytest.mark.parametrize("case", ["binomial_entropy", "multinomial_count", "independent_enum"])
def test_not_implemented_match_torch(case):
    fn = {"binomial_entropy": lambda D, M: D.Binomial(M.tensor([2.0, 3.0]), M.tensor(0.5)).entropy(),
          "multinomial_count": lambda D, M: D.Multinomial(M.tensor(3), M.ones(3)),
          "independent_enum": lambda D, M: D.Independent(D.Bernoulli(M.ones(2, 3) / 2), 1).enumerate_support()}
    _raise_both(fn[case], NotImplementedError)


# ---- constraints and transforms ----------------------------------------------------------------------
def test_constraints_check_and_repr_match_torch():
    x = np.array([[0.2, -0.5, 1.0], [0.0, 0.3, 0.7], [1.0, 0.0, 0.0]])
    names = ["real", "positive", "nonnegative", "unit_interval", "boolean", "nonnegative_integer",
             "positive_integer", "simplex", "real_vector", "one_hot", "lower_triangular", "lower_cholesky",
             "positive_definite", "symmetric", "square", "positive_semidefinite"]
    for name in names:
        ec, tc = getattr(ED.constraints, name), getattr(TD.constraints, name)
        assert repr(ec) == repr(tc) and ec.event_dim == tc.event_dim and ec.is_discrete == tc.is_discrete
        np.testing.assert_array_equal(ec.check(ember.tensor(x)).numpy(), tc.check(torch.tensor(x)).numpy())
    for make in (lambda C: C.interval(-0.1, 0.5), lambda C: C.half_open_interval(0.0, 1.0),
                 lambda C: C.greater_than(0.1), lambda C: C.greater_than_eq(0.0), lambda C: C.less_than(0.5),
                 lambda C: C.integer_interval(0, 1), lambda C: C.independent(C.positive, 1),
                 lambda C: C.multinomial(1)):
        ec, tc = make(ED.constraints), make(TD.constraints)
        assert repr(ec) == repr(tc)
        np.testing.assert_array_equal(ec.check(ember.tensor(x)).numpy(), tc.check(torch.tensor(x)).numpy())
    assert ED.constraints.is_dependent(ED.constraints.dependent)
    with pytest.raises(ValueError, match="Cannot determine validity"):
        ED.constraints.dependent.check(ember.zeros(1))


TRANSFORMS = {
    "exp": lambda D, M: D.ExpTransform(),
    "affine": lambda D, M: D.AffineTransform(M.tensor([0.5, -1.0, 2.0], dtype=M.float64), -2.5),
    "sigmoid": lambda D, M: D.SigmoidTransform(),
    "tanh": lambda D, M: D.TanhTransform(),
    "power": lambda D, M: D.PowerTransform(M.tensor(1.7, dtype=M.float64)),
    "compose": lambda D, M: D.ComposeTransform([D.AffineTransform(0.3, 2.0), D.SigmoidTransform(),
                                                D.ExpTransform().inv]),
    "inverse": lambda D, M: D.ExpTransform().inv,
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transforms_match_torch(name):
    x = np.array([0.3, 1.2, 0.05])
    out = {}
    for D, M in ((TD.transforms, torch), (ED.transforms, ember)):
        t = TRANSFORMS[name](D, M)
        xt = M.tensor(x, dtype=M.float64, requires_grad=True)
        y = t(xt)
        ladj = t.log_abs_det_jacobian(xt, y)
        back = t.inv(y)
        (y.sum() + ladj.sum()).backward()
        out[M] = (y, ladj, back, xt.grad, t.sign if not isinstance(t.sign, int) else t.sign, repr(t),
                  t.bijective, t.domain.event_dim, t.codomain.event_dim)
    te, ee = out[torch], out[ember]
    for a, b in zip(ee[:4], te[:4]):
        _close(a.detach().numpy(), b.detach().numpy())
    _close(np.asarray(ee[4].numpy() if hasattr(ee[4], "numpy") else ee[4]),
           np.asarray(te[4].numpy() if hasattr(te[4], "numpy") else te[4]))
    assert ee[5:] == te[5:]


def test_softmax_transform_and_caching():
    x = np.array([[0.3, 1.2, -0.5], [2.0, 0.0, 0.0]])
    _close(ED.SoftmaxTransform()(ember.tensor(x)).numpy(), TD.SoftmaxTransform()(torch.tensor(x)).numpy())
    t = ED.ExpTransform(cache_size=1)
    xt = ember.tensor([0.5, 1.0])
    y = t(xt)
    assert t.inv(y) is xt               # cached: the same tensor comes back
    assert ED.ExpTransform() == ED.ExpTransform() and ED.ExpTransform() != ED.SigmoidTransform()
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        ED.ExpTransform(cache_size=2)


# ---- sampling: statistics ----------------------------------------------------------------------------
N = 20000
CONTINUOUS = {
    "Normal": lambda D: D.Normal(ember.tensor(0.7), ember.tensor(1.3)),
    "Uniform": lambda D: D.Uniform(ember.tensor(-1.0), ember.tensor(2.5)),
    "Exponential": lambda D: D.Exponential(ember.tensor(1.7)),
    "Laplace": lambda D: D.Laplace(ember.tensor(-0.4), ember.tensor(0.8)),
    "Cauchy": lambda D: D.Cauchy(ember.tensor(0.2), ember.tensor(1.5)),
    "GammaSmall": lambda D: D.Gamma(ember.tensor(0.3), ember.tensor(2.0)),
    "GammaLarge": lambda D: D.Gamma(ember.tensor(7.5), ember.tensor(0.5)),
    "Chi2": lambda D: D.Chi2(ember.tensor(3.0)),
    "LogNormal": lambda D: D.LogNormal(ember.tensor(0.1), ember.tensor(0.6)),
    "HalfNormal": lambda D: D.HalfNormal(ember.tensor(1.4)),
    "Gumbel": lambda D: D.Gumbel(ember.tensor(0.5), ember.tensor(2.0)),
}


@pytest.mark.parametrize("name", list(CONTINUOUS))
def test_continuous_samples_follow_the_cdf(name):
    """Kolmogorov-Smirnov: the largest gap between the empirical cdf of 20k draws and ``cdf`` stays
    below the 0.1% critical value 1.95/sqrt(n)."""
    ember.manual_seed(1)
    d = CONTINUOUS[name](ED)
    x = d.sample((N,))
    assert tuple(x.shape) == (N,)
    u = np.sort(d.cdf(x).numpy().astype(np.float64))
    grid = np.arange(1, N + 1) / N
    ks = max(np.abs(grid - u).max(), np.abs(grid - 1 / N - u).max())
    assert ks < 1.95 / math.sqrt(N), ks


MOMENTS = {
    "StudentT": lambda D, M: D.StudentT(M.tensor(6.0), M.tensor(0.5), M.tensor(2.0)),
    "Beta": lambda D, M: D.Beta(M.tensor(0.6), M.tensor(2.5)),
    "Dirichlet": lambda D, M: D.Dirichlet(M.tensor([0.4, 1.5, 3.0])),
    "Bernoulli": lambda D, M: D.Bernoulli(logits=M.tensor([-1.0, 0.5])),
    "Categorical": lambda D, M: D.OneHotCategorical(M.tensor([0.1, 0.2, 0.7])),
    "Binomial": lambda D, M: D.Binomial(M.tensor([4.0, 30.0]), M.tensor([0.3, 0.8])),
    "Multinomial": lambda D, M: D.Multinomial(9, M.tensor([0.1, 0.6, 0.3])),
    "Poisson": lambda D, M: D.Poisson(M.tensor([0.4, 12.0])),
    "Geometric": lambda D, M: D.Geometric(M.tensor([0.15, 0.7])),
    "MVN": lambda D, M: D.MultivariateNormal(M.tensor([1.0, -1.0, 0.0]), M.tensor(SPD, dtype=M.float32)),
    "MVNPrecision": lambda D, M: D.MultivariateNormal(M.zeros(3), precision_matrix=M.tensor(SPD, dtype=M.float32)),
    "LowRankMVN": lambda D, M: D.LowRankMultivariateNormal(M.tensor([1.0, -1.0]), M.tensor([[1.0], [0.5]]),
                                                           M.tensor([0.3, 2.0])),
    "RelaxedBernoulli": lambda D, M: D.RelaxedBernoulli(M.tensor(0.5), logits=M.tensor([-1.0, 0.5])),
    "RelaxedOneHot": lambda D, M: D.RelaxedOneHotCategorical(M.tensor(0.8), M.tensor([0.1, 0.2, 0.7])),
    "Mixture": lambda D, M: D.MixtureSameFamily(D.Categorical(M.tensor([0.3, 0.7])),
                                                D.Normal(M.tensor([-2.0, 1.0]), M.tensor([0.5, 1.0]))),
    "Transformed": lambda D, M: D.TransformedDistribution(D.Normal(M.tensor(0.3), M.tensor(0.8)),
                                                          [D.TanhTransform(), D.AffineTransform(1.0, 2.0)]),
}


@pytest.mark.parametrize("name", list(MOMENTS))
def test_sample_mean_and_variance(name):
    """Sample means within 5 standard errors of the exact mean; sample variances within 10%
    of an exact (or, where torch has none, torch-sampled) variance."""
    ember.manual_seed(2)
    torch.manual_seed(2)
    e, t = MOMENTS[name](ED, ember), MOMENTS[name](TD, torch)
    x = e.sample((N,)).numpy().astype(np.float64)
    assert tuple(x.shape) == (N,) + tuple(t.batch_shape) + tuple(t.event_shape)
    try:
        mean, var = t.mean.numpy(), t.variance.numpy()
    except NotImplementedError:
        ref = t.sample((N,)).numpy().astype(np.float64)
        mean, var = ref.mean(0), ref.var(0)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * np.sqrt(var / N) + 1e-12)
    _close(x.var(0), var, rtol=0.1, atol=1e-3)
    if name == "MVN":
        _close(np.cov(x.T), SPD, rtol=0.1, atol=0.05)
    if name in ("Bernoulli", "Binomial", "Multinomial", "Poisson", "Geometric", "Categorical"):
        assert np.all(x == np.round(x)) and np.all(x >= 0)


def test_discrete_frequencies_match_log_prob():
    ember.manual_seed(3)
    for d in (ED.Categorical(logits=ember.tensor([0.0, 1.0, -1.0, 0.5])),
              ED.Binomial(5, ember.tensor(0.35)), ED.Poisson(ember.tensor(2.5)), ED.Geometric(ember.tensor(0.4))):
        x = d.sample((N,)).numpy()
        for k in range(4):
            p = math.exp(d.log_prob(ember.tensor(float(k)) if not isinstance(d, ED.Categorical)
                                    else ember.tensor(k)).item())
            assert abs((x == k).mean() - p) < 5 * math.sqrt(p * (1 - p) / N) + 1e-9


def test_seed_makes_sampling_reproducible():
    d = ED.Gamma(ember.tensor([0.5, 3.0]), 1.0)
    ember.manual_seed(7)
    a = d.sample((5,)).numpy()
    ember.manual_seed(7)
    np.testing.assert_array_equal(a, d.sample((5,)).numpy())


# ---- rsample gradients -------------------------------------------------------------------------------
def test_location_scale_rsample_gradients_are_exact():
    loc = ember.tensor([0.5, -1.0], dtype=ember.float64, requires_grad=True)
    scale = ember.tensor([2.0, 0.3], dtype=ember.float64, requires_grad=True)
    for D in (ED.Normal, ED.Laplace, ED.Cauchy, ED.Gumbel):
        loc.grad = scale.grad = None
        x = D(loc, scale).rsample((100,))
        x.sum().backward()
        _close(loc.grad.numpy(), [100.0, 100.0])
        _close(scale.grad.numpy(), ((x - loc) / scale).sum(0).detach().numpy())
    loc.grad = None
    L = ember.tensor(np.linalg.cholesky(SPD), requires_grad=True)
    x = ED.MultivariateNormal(ember.tensor([0.5, -1.0, 0.0], dtype=ember.float64, requires_grad=True), scale_tril=L)
    y = x.rsample((10,))
    y.sum().backward()
    assert L.grad is not None and tuple(y.shape) == (10, 3)
    lp = ED.LogNormal(loc, scale).rsample((50,))
    lp.sum().backward()
    _close(loc.grad.numpy(), lp.sum(0).detach().numpy())
    assert not ED.Bernoulli(0.3).has_rsample and not ED.MixtureSameFamily(
        ED.Categorical(ember.ones(2)), ED.Normal(ember.zeros(2), 1.0)).has_rsample


def test_gamma_rsample_gradient_matches_torch_per_sample():
    """The implicit-reparameterisation gradient dz/dalpha at ember's own samples equals torch's
    ``_standard_gamma_grad`` there (torch's is an approximation good to ~1e-3)."""
    ember.manual_seed(4)
    alpha = ember.tensor(np.repeat([0.05, 0.4, 1.0, 3.0, 25.0, 400.0], 300), dtype=ember.float64, requires_grad=True)
    z = ED.Gamma(alpha, 1.0).rsample()
    z.sum().backward()
    ref = torch._standard_gamma_grad(torch.tensor(alpha.detach().numpy()), torch.tensor(z.detach().numpy()))
    ok = z.detach().numpy() > 1e-30     # torch's series is unreliable for denormal-scale samples
    _close(alpha.grad.numpy()[ok], ref.numpy()[ok], rtol=5e-3, atol=1e-6)


def test_gamma_rsample_gradient_is_the_cdf_implicit_derivative():
    """dz/dalpha = -(dP/dalpha)/(dP/dz), with dP/dalpha by central differences of torch's gammainc."""
    ember.manual_seed(5)
    alpha = ember.tensor([0.3, 1.7, 6.0, 60.0], dtype=ember.float64, requires_grad=True)
    rate = ember.tensor([1.0, 2.0, 0.5, 1.0], dtype=ember.float64, requires_grad=True)
    z = ED.Gamma(alpha, rate).rsample()
    z.sum().backward()
    a, x = torch.tensor(alpha.detach().numpy()), torch.tensor((z * rate).detach().numpy())
    h = 1e-6 * a
    dP = (torch.special.gammainc(a + h, x) - torch.special.gammainc(a - h, x)) / (2 * h)
    pdf = TD.Gamma(a, 1.0).log_prob(x).exp()
    _close(alpha.grad.numpy(), (-dP / pdf / torch.tensor(rate.detach().numpy())).numpy(), rtol=1e-5)
    _close(rate.grad.numpy(), (-z / rate).detach().numpy())


@pytest.mark.parametrize("family", ["Gamma", "Beta", "Dirichlet", "Chi2", "StudentT"])
def test_rsample_gradient_of_the_mean_is_unbiased(family):
    """Averaged over draws, d(sample)/d(parameter) is d(mean)/d(parameter) (within 5 standard errors)."""
    ember.manual_seed(6)
    n = 8000
    a0, b0 = 1.4, 2.5
    a = ember.full((n,), a0, dtype=ember.float64, requires_grad=True)
    b = ember.full((n,), b0, dtype=ember.float64, requires_grad=True)
    if family == "Gamma":
        x, ga, gb = ED.Gamma(a, b).rsample(), 1 / b0, -a0 / b0 ** 2
    elif family == "Beta":
        x, ga, gb = ED.Beta(a, b).rsample(), b0 / (a0 + b0) ** 2, -a0 / (a0 + b0) ** 2
    elif family == "Chi2":
        x, ga, gb = ED.Chi2(a).rsample() + 0 * b, 1.0, 0.0
    elif family == "StudentT":   # mean loc: gradient 0 in df, 1 in loc
        a = ember.full((n,), 5.0, dtype=ember.float64, requires_grad=True)
        x, ga, gb = ED.StudentT(a, b).rsample(), 0.0, 1.0
    else:
        x = ED.Dirichlet(ember.stack([a, b, ember.ones(n, dtype=ember.float64)], -1)).rsample()[:, 0]
        s = a0 + b0 + 1
        ga, gb = (s - a0) / s ** 2, -a0 / s ** 2
    x.sum().backward()
    for g, want in ((a.grad.numpy(), ga), (b.grad.numpy(), gb)):
        assert abs(g.mean() - want) < 5 * g.std() / math.sqrt(n) + 1e-12, (g.mean(), want)
