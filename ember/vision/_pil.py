"""Pillow, imported only when an image operation needs it (the ``vision`` extra)."""
from __future__ import annotations

import sys

from .._optional import require


def pil_image():
    """The ``PIL.Image`` module, or an ImportError naming the extra to install."""
    return require("PIL.Image", "this operation needs Pillow", "vision")


def is_pil_image(obj) -> bool:
    """True for a PIL image; never imports Pillow (an image cannot exist without it loaded)."""
    mod = sys.modules.get("PIL.Image")
    return mod is not None and isinstance(obj, mod.Image)
