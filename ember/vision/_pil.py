"""Pillow, imported only when an image operation needs it (the ``vision`` extra)."""
from __future__ import annotations

import sys


def pil_image():
    """The ``PIL.Image`` module, or an ImportError naming the extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("this operation needs Pillow: pip install 'ember[vision]'") from None
    return Image


def is_pil_image(obj) -> bool:
    """True for a PIL image; never imports Pillow (an image cannot exist without it loaded)."""
    mod = sys.modules.get("PIL.Image")
    return mod is not None and isinstance(obj, mod.Image)
