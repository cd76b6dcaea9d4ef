"""``torch.distributions`` on ember: parameterised probability distributions whose ``log_prob``,
``entropy``, ``rsample`` and KL divergences are differentiable through ember's autograd."""
from . import constraints, transforms
from .composite import Independent, MixtureSameFamily
from .continuous import Cauchy, Exponential, Laplace, Normal, StudentT, Uniform
from .discrete import (
                         Bernoulli,
                         Binomial,
                         Categorical,
                         Geometric,
                         Multinomial,
                         OneHotCategorical,
                         Poisson,
)
from .distribution import Distribution
from .gamma import Beta, Chi2, Dirichlet, Gamma
from .kl import kl_divergence, register_kl
from .multivariate_normal import LowRankMultivariateNormal, MultivariateNormal
from .relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from .transformed import Gumbel, HalfNormal, LogNormal, TransformedDistribution
from .transforms import (
                         AbsTransform,
                         AffineTransform,
                         ComposeTransform,
                         ExpTransform,
                         PowerTransform,
                         SigmoidTransform,
                         SoftmaxTransform,
                         TanhTransform,
                         Transform,
                         identity_transform,
)

__all__ = [
    "AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2",
    "ComposeTransform", "Dirichlet", "Distribution", "ExpTransform", "Exponential", "Gamma", "Geometric",
    "Gumbel", "HalfNormal", "Independent", "Laplace", "LogNormal", "LowRankMultivariateNormal",
    "MixtureSameFamily", "Multinomial", "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson",
    "PowerTransform", "RelaxedBernoulli", "RelaxedOneHotCategorical", "SigmoidTransform", "SoftmaxTransform",
    "StudentT", "TanhTransform", "Transform", "TransformedDistribution", "Uniform", "constraints",
    "identity_transform", "kl_divergence", "register_kl", "transforms",
]
