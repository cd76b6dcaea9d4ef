"""Helpers shared by the distributions: parameter broadcasting, probs <-> logits, lazy properties."""
from __future__ import annotations

import math
from numbers import Number

import ember
from ember import Tensor

euler_constant = 0.57721566490153286060


def broadcast_all(*values):
    """Broadcast numbers and tensors to one shape; numbers take the first tensor's dtype/device
    (the default dtype when there is no tensor)."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    opts = (dict(dtype=ember.get_default_dtype()) if like is None
            else dict(dtype=like.dtype, device=like.device))
    return ember.broadcast_tensors(*[v if isinstance(v, Tensor) else ember.tensor(v, **opts)
                                     for v in values])


def standard_normal(shape, dtype, device):
    return ember.randn(shape, dtype=dtype, device=device)


def sum_rightmost(value, dim: int):
    """Sum out the rightmost ``dim`` dimensions."""
    return value.reshape(value.shape[:value.dim() - dim] + (-1,)).sum(-1) if dim else value


def clamp_probs(probs):
    eps = ember.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary: bool = False):
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def probs_to_logits(probs, is_binary: bool = False):
    p = clamp_probs(probs)
    return p.log() - p.neg().log1p() if is_binary else p.log()


def log_scale(scale):
    return math.log(scale) if isinstance(scale, Number) else scale.log()


class lazy_property:
    """A property computed on first read and then stored on the instance (so it shows in
    ``__dict__`` and in ``repr``), computed with grad enabled as it may be a parameter."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with ember.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
