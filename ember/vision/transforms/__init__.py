"""``torchvision.transforms``: image transforms for PIL images and tensors (v1 API)."""
from . import functional  # noqa: F401
from .transforms import *
from .transforms import __all__  # noqa: F401
