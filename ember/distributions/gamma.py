"""The gamma family and its relatives: Gamma, Chi2, Beta, Dirichlet.

Gamma samples come from Marsaglia and Tsang's rejection sampler. ``rsample`` differentiates them
implicitly: a sample ``z = F^{-1}(u; a)`` moves with the concentration ``a`` as
``dz/da = -(dF/da) / (dF/dz)``, where ``F`` is the regularised lower incomplete gamma function
(its series and the series' derivative are summed together below). Beta and Dirichlet samples
are normalised gamma samples, so their gradients follow by the chain rule.
"""
from __future__ import annotations

import ember
from ember import Size
from ember.autograd import Function

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

_SERIES_TOL = 1e-17


def _gammainc_and_grad(a, x):
    """``P(a, x)`` (regularised lower incomplete gamma) and ``dP/da``, in float64, summing
    ``P = sum_n T_n`` with ``T_0 = x^a e^-x / Gamma(a+1)`` and ``T_n = T_{n-1} x / (a+n)``."""
    a, x = a.double(), x.double().clamp(min=ember.finfo(ember.float64).tiny)
    log_x = x.log()
    term = (a * log_x - x - ember.lgamma(a + 1)).exp()
    dlog = log_x - ember.digamma(a + 1)                     # d log T_n / da, less the harmonic part
    total, dtotal = term.clone(), term * dlog
    for n in range(1, 100000):
        term = term * x / (a + n)
        dlog = dlog - 1 / (a + n)
        total, dtotal = total + term, dtotal + term * dlog
        if n % 8 == 0 and bool(((n > x - a) & (term <= _SERIES_TOL * total)).all()):
            break
    return total.clamp(max=1.0), dtotal


def _gamma_log_pdf(a, x):
    return ember.xlogy(a - 1, x) - x - ember.lgamma(a)


class _GammaInc(Function):
    """``P(a, x)``, differentiable in ``x`` (its derivative in ``a`` is not defined, as torch's)."""

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        with ember.no_grad():
            return _gammainc_and_grad(a, x)[0].to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        return None, grad * _gamma_log_pdf(a, x).exp()


class _StandardGamma(Function):
    """Samples of Gamma(``a``, 1) with the implicit reparameterisation gradient in ``a``."""

    @staticmethod
    def forward(ctx, a):
        z = _sample_standard_gamma(a.detach())
        ctx.save_for_backward(a, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        a, z = ctx.saved_tensors
        with ember.no_grad():
            _, dp_da = _gammainc_and_grad(a, z)
            dz_da = -dp_da / _gamma_log_pdf(a.double(), z.double()).exp()
        return grad * dz_da.to(grad.dtype)


def _sample_standard_gamma(alpha):
    """Marsaglia-Tsang: for ``a >= 1`` accept ``d v`` (``v = (1 + c x)^3``, x normal); smaller
    ``a`` are boosted to ``a + 1`` and scaled by ``u^(1/a)``."""
    dt, dev = alpha.dtype, alpha.device
    boost = alpha < 1
    a = ember.where(boost, alpha + 1, alpha)
    d = a - 1 / 3
    c = (9 * d).rsqrt()
    out = ember.zeros_like(alpha)
    todo = ember.ones_like(alpha, dtype=ember.bool)
    while bool(todo.any()):
        x = ember.randn(alpha.shape, dtype=dt, device=dev)
        v = (1 + c * x) ** 3
        u = ember.rand(alpha.shape, dtype=dt, device=dev)
        ok = (v > 0) & (u.log() < 0.5 * x * x + d - d * v + d * v.clamp(min=1e-300).log())
        out = ember.where(ok & todo, d * v, out)
        todo = todo & ~ok
    u = ember.rand(alpha.shape, dtype=dt, device=dev)
    out = ember.where(boost, out * u.pow(1 / alpha), out)
    return out.clamp(min=ember.finfo(dt).tiny)


def standard_gamma(alpha):
    """Gamma(``alpha``, 1) samples; reparameterised when ``alpha`` requires grad."""
    if alpha.requires_grad and ember.is_grad_enabled():
        return _StandardGamma.apply(alpha)
    return _sample_standard_gamma(alpha)


def _clamp_no_grad(value, lo=None, hi=None):
    """Clamp the values but pass the gradient through unchanged (as torch's in-place clamp on
    ``.detach()``)."""
    return value + (value.detach().clamp(min=lo, max=hi) - value.detach())


class Gamma(Distribution):
    """Gamma with shape ``concentration`` and inverse scale ``rate``."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Gamma, batch_shape, ("concentration", "rate"), _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return _clamp_no_grad(value, lo=ember.finfo(value.dtype).tiny)

    def log_prob(self, value):
        value = ember.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return ember.xlogy(c, r) + ember.xlogy(c - 1, value) - r * value - ember.lgamma(c)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c, x = ember.broadcast_tensors(self.concentration, self.rate * value)
        return _GammaInc.apply(c, x)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + ember.lgamma(c) + (1.0 - c) * ember.digamma(c)


class Chi2(Gamma):
    """Chi-squared with ``df`` degrees of freedom: Gamma(df/2, 1/2)."""
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, self._get_checked_instance(Chi2, _instance))

    @property
    def df(self):
        return self.concentration * 2


class Dirichlet(Distribution):
    """Dirichlet over the simplex, with ``concentration`` of shape ``batch_shape + (K,)``."""
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self._event_shape)
        return self._init_expanded(new, batch_shape)

    def rsample(self, sample_shape=()):
        g = standard_gamma(self.concentration.expand(self._extended_shape(sample_shape)))
        x = g / g.sum(-1, keepdim=True)
        finfo = ember.finfo(x.dtype)
        return _clamp_no_grad(x, lo=finfo.tiny, hi=1 - finfo.eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return ember.xlogy(c - 1.0, value).sum(-1) + ember.lgamma(c.sum(-1)) - ember.lgamma(c).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        corner = ember.nn.functional.one_hot(mode.argmax(-1), cm1.shape[-1]).to(mode.dtype)
        return ember.where((self.concentration < 1).all(-1, keepdim=True), corner, mode)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k, a0 = c.size(-1), c.sum(-1)
        return (ember.lgamma(c).sum(-1) - ember.lgamma(a0) - (k - a0) * ember.digamma(a0)
                - ((c - 1.0) * ember.digamma(c)).sum(-1))


class Beta(Distribution):
    """Beta on [0, 1] with ``concentration1`` (alpha) and ``concentration0`` (beta); a Dirichlet
    over two categories."""
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(ember.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        return self._init_expanded(new, batch_shape)

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(ember.stack([value, 1.0 - value], -1))

    def entropy(self):
        return self._dirichlet.entropy()
