"""The ``weights=`` argument of the model builders.

torchvision downloads named weights (``"IMAGENET1K_V1"``, ``ResNet18_Weights.DEFAULT``); ember never
touches the network, so ``weights`` is None (random init), a state_dict, or the path of a local
checkpoint such as a torchvision ``.pth`` file. Anything else raises, saying so.
"""
from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Mapping

import ember


def load_weights(model, weights, arch: str):
    """Load ``weights`` (None, a state_dict or a checkpoint path) into ``model`` strictly; returns it."""
    if weights is None:
        return model
    if isinstance(weights, Mapping):
        state = weights
    elif isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights):
        state = ember.load(os.fspath(weights), map_location="cpu")
    else:
        raise RuntimeError(f"{arch}: pretrained weights {weights!r} cannot be downloaded (ember has no network "
                           "access to torchvision's weight store). Pass weights=None, a state_dict, or the path "
                           "of a local checkpoint file, e.g. a torchvision .pth downloaded elsewhere.")
    model.load_state_dict(state)
    return model


def legacy_pretrained(builder):
    """Accept torchvision's pre-0.13 ``pretrained=`` flag on a model builder, as torchvision still does:
    ``pretrained=False`` means ``weights=None`` and ``pretrained=True`` the default pretrained weights
    (which ember cannot download, so ``load_weights`` raises), each with torchvision's deprecation
    warnings."""
    @functools.wraps(builder)
    def build(*args, **kwargs):
        if "pretrained" in kwargs and kwargs.get("weights") is None:
            pretrained = kwargs.pop("pretrained")
            default = "DEFAULT" if pretrained else None
            warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
                          "please use 'weights' instead.", UserWarning, stacklevel=2)
            warnings.warn("Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and "
                          "may be removed in the future. The current behavior is equivalent to passing "
                          f"`weights={default!r}`.", UserWarning, stacklevel=2)
            kwargs["weights"] = default
        return builder(*args, **kwargs)
    return build
