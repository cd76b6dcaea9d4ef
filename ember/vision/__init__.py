"""``ember.vision``: torchvision's role — transforms, models, datasets and image utils on ember."""
from . import datasets, models, transforms, utils  # noqa: F401

__version__ = "0.1.0"
