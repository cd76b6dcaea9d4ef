"""Image ops on PIL images, done by Pillow itself (so results are Pillow's, as in torchvision)."""
from __future__ import annotations

import numpy as np

from .._pil import is_pil_image, pil_image

# InterpolationMode value -> Pillow resampling filter
_PIL_FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}


def check_image(img) -> None:
    if not is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def get_dimensions(img) -> list:
    check_image(img)
    channels = len(img.getbands())
    return [channels, img.height, img.width]


def _filter(interpolation):
    if interpolation not in _PIL_FILTERS:
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with PIL Image input")
    return _PIL_FILTERS[interpolation]


def resize(img, size, interpolation="bilinear"):
    check_image(img)
    h, w = size
    if (img.height, img.width) == (h, w):
        return img
    return img.resize((w, h), _filter(interpolation))


def _fill_for(img, fill):
    """Pillow wants an int per band (a tuple for multi-band images)."""
    if fill is None:
        fill = 0
    bands = len(img.getbands())
    if isinstance(fill, (int, float)):
        return int(fill) if bands == 1 else tuple([int(fill)] * bands)
    fill = tuple(int(f) for f in fill)
    if len(fill) == 1:
        fill = fill * bands
    if len(fill) != bands:
        raise ValueError(f"The number of elements in 'fill' does not match the number of bands of the image "
                         f"({len(fill)} != {bands})")
    return fill[0] if bands == 1 else fill


def pad(img, padding, fill=0, padding_mode="constant"):
    """``padding`` is [left, top, right, bottom]."""
    check_image(img)
    left, top, right, bottom = padding
    if padding_mode == "constant":
        Image = pil_image()
        out = Image.new(img.mode, (img.width + left + right, img.height + top + bottom), _fill_for(img, fill))
        out.paste(img, (left, top))
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    arr = np.asarray(img)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
    out = pil_image().fromarray(np.pad(arr, widths, mode=padding_mode))
    return out.convert(img.mode) if out.mode != img.mode else out


def crop(img, top, left, height, width):
    check_image(img)
    return img.crop((left, top, left + width, top + height))


def hflip(img):
    check_image(img)
    return img.transpose(pil_image().Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    check_image(img)
    return img.transpose(pil_image().Transpose.FLIP_TOP_BOTTOM)


def rotate(img, angle, interpolation="nearest", expand=False, center=None, fill=None):
    check_image(img)
    return img.rotate(angle, _filter(interpolation), expand, center, fillcolor=_fill_for(img, fill))


def to_grayscale(img, num_output_channels=1):
    check_image(img)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    gray = img.convert("L")
    return gray if num_output_channels == 1 else pil_image().merge("RGB", (gray, gray, gray))


def _enhance(kind, img, factor, name):
    check_image(img)
    if factor < 0:
        raise ValueError(f"{name} ({factor}) is not non-negative.")
    from PIL import ImageEnhance
    return getattr(ImageEnhance, kind)(img).enhance(factor)


def adjust_brightness(img, factor):
    return _enhance("Brightness", img, factor, "brightness_factor")


def adjust_contrast(img, factor):
    return _enhance("Contrast", img, factor, "contrast_factor")


def adjust_saturation(img, factor):
    return _enhance("Color", img, factor, "saturation_factor")


def adjust_hue(img, hue_factor):
    """Shift the hue band of Pillow's 8-bit HSV, wrapping around the colour circle."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    check_image(img)
    if img.mode in ("L", "1", "I", "F"):
        return img
    Image = pil_image()
    h, s, v = img.convert("HSV").split()
    shift = np.int64(int(hue_factor * 255))
    hue = ((np.asarray(h, dtype=np.int64) + shift) % 256).astype(np.uint8)
    return Image.merge("HSV", (Image.fromarray(hue), s, v)).convert(img.mode)
