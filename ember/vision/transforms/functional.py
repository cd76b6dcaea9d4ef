"""``torchvision.transforms.functional``: each op takes a PIL image or a (..., C, H, W) tensor."""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from enum import Enum

import numpy as np

import ember

from .._pil import is_pil_image, pil_image
from . import _functional_pil as F_pil
from . import _functional_tensor as F_t


class InterpolationMode(Enum):
    """Resampling filters; the value is the name torch's ``interpolate`` / this module uses."""
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_CODES = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
              4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def interpolation_mode(value) -> InterpolationMode:
    """Accept an InterpolationMode, a Pillow filter code (0-5) or a mode name."""
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, int):
        if value not in _PIL_CODES:
            raise ValueError(f"Unknown Pillow interpolation code {value}")
        return _PIL_CODES[value]
    if isinstance(value, str):
        return InterpolationMode(value)
    raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                    f"constant, got {type(value).__name__}")


def _is_tensor(img) -> bool:
    return isinstance(img, ember.Tensor)


def _dispatch(name, img, *args, **kwargs):
    """Run the tensor or PIL implementation of ``name``."""
    if _is_tensor(img):
        return getattr(F_t, name)(img, *args, **kwargs)
    if is_pil_image(img):
        return getattr(F_pil, name)(img, *args, **kwargs)
    raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


# ---- conversions --------------------------------------------------------------------------------
def _pil_array(pic):
    """A PIL image's pixels as an (H, W, C) array of the dtype its mode stores."""
    if pic.mode == "1":
        return np.asarray(pic, dtype=np.uint8) * 255
    dtypes = {"I": np.int32, "I;16": np.int16, "F": np.float32}
    arr = np.array(pic, dtype=dtypes.get(pic.mode, np.uint8), copy=True)
    return arr[:, :, None] if arr.ndim == 2 else arr


def to_tensor(pic):
    """PIL image or (H, W[, C]) ndarray -> (C, H, W) tensor; uint8 data is scaled to float [0, 1]."""
    if not (is_pil_image(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        arr = _pil_array(pic)
    img = ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    if img.dtype == ember.uint8:
        return img.to(ember.get_default_dtype()).div(255)
    return img


def pil_to_tensor(pic):
    """PIL image -> (C, H, W) tensor of the image's own dtype, values unchanged."""
    if not is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    return ember.from_numpy(np.ascontiguousarray(_pil_array(pic).transpose(2, 0, 1)))


_MODES_BY_CHANNELS = {2: "LA", 3: "RGB", 4: "RGBA"}
_MODES_BY_DTYPE = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.uint16): "I;16",
                   np.dtype(np.int32): "I", np.dtype(np.float32): "F"}


def to_pil_image(pic, mode=None):
    """(C, H, W) tensor or (H, W, C) ndarray -> PIL image; float data is taken as [0, 1] and scaled."""
    Image = pil_image()
    if _is_tensor(pic):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic.unsqueeze(0)
        if pic.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-3]} channels.")
        if pic.is_floating_point() and mode != "F":
            pic = pic.mul(255).byte()
        arr = pic.detach().cpu().numpy().transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        if arr.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[-1]} channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = arr.shape[-1]
    if channels == 1:
        arr = arr[:, :, 0]
        inferred = _MODES_BY_DTYPE.get(arr.dtype)
        if inferred is None:
            raise TypeError(f"Input type {arr.dtype} is not supported")
        if arr.dtype == np.float32 and mode == "L":
            raise TypeError("Input type float32 cannot be converted to mode L")
    else:
        if arr.dtype != np.uint8:
            raise TypeError(f"Input type {arr.dtype} is not supported for {channels}-channel images")
        inferred = _MODES_BY_CHANNELS[channels]
    img = Image.fromarray(np.ascontiguousarray(arr))
    if mode is not None and mode != img.mode:
        img = img.convert(mode)
    return img


def convert_image_dtype(image, dtype=ember.float32):
    if not _is_tensor(image):
        raise TypeError("Input img should be Tensor Image")
    return F_t.convert_image_dtype(image, dtype)


def normalize(tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
    """(x - mean[c]) / std[c] per channel of a float (..., C, H, W) tensor."""
    return F_t.normalize(tensor, mean, std, inplace)


# ---- sizes --------------------------------------------------------------------------------------
def get_dimensions(img) -> list:
    """[channels, height, width]."""
    return _dispatch("get_dimensions", img)


def get_image_size(img) -> list:
    """[width, height]."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img) -> int:
    return get_dimensions(img)[0]


def _resized_size(height, width, size, max_size):
    """[h, w] for a requested size: an int (or 1-sequence) sets the shorter side, keeping the aspect."""
    if isinstance(size, int) or len(size) == 1:
        short, long = (width, height) if width <= height else (height, width)
        want = size if isinstance(size, int) else size[0]
        new_short, new_long = want, int(want * long / short)
        if max_size is not None:
            if max_size <= want:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for "
                                 f"the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return [new_long, new_short] if width <= height else [new_short, new_long]
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                         "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    return list(size)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` ([h, w], or an int for the shorter side). PIL images always antialias."""
    mode = interpolation_mode(interpolation)
    if not isinstance(size, (int, list, tuple)):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    if isinstance(size, (list, tuple)) and len(size) not in (1, 2):
        raise ValueError(f"If size is a sequence, it should have 1 or 2 values, got {len(size)}")
    _, h, w = get_dimensions(img)
    out = _resized_size(h, w, size, max_size)
    if is_pil_image(img):
        if mode == InterpolationMode.NEAREST_EXACT:
            raise ValueError("InterpolationMode.NEAREST_EXACT is unsupported with PIL Image input")
        return F_pil.resize(img, out, mode.value)
    return F_t.resize(img, out, mode.value, bool(antialias))


# ---- geometry -----------------------------------------------------------------------------------
def _ltrb(padding):
    """Padding as [left, top, right, bottom] from an int or a 1-, 2- or 4-sequence."""
    if isinstance(padding, numbers.Number):
        if not isinstance(padding, int):
            raise TypeError(f"Got inappropriate padding arg: {padding}")
        return [padding] * 4
    if not isinstance(padding, (list, tuple)):
        raise TypeError("Got inappropriate padding arg")
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return list(padding)
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    return _dispatch("pad", img, _ltrb(padding), fill, padding_mode)


def crop(img, top: int, left: int, height: int, width: int):
    return _dispatch("crop", img, top, left, height, width)


def _pair(size):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if len(size) == 1:
        return size[0], size[0]
    return size[0], size[1]


def center_crop(img, output_size):
    """Crop the centre; an image smaller than the crop is zero-padded (evenly, extra on the right/bottom)."""
    crop_h, crop_w = _pair(output_size)
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        dw, dh = max(crop_w - w, 0), max(crop_h - h, 0)
        img = pad(img, [dw // 2, dh // 2, (dw + 1) // 2, (dh + 1) // 2], fill=0)
        _, h, w = get_dimensions(img)
        if (crop_h, crop_w) == (h, w):
            return img
    return crop(img, round((h - crop_h) / 2.0), round((w - crop_w) / 2.0), crop_h, crop_w)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img):
    return _dispatch("hflip", img)


def vflip(img):
    return _dispatch("vflip", img)


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False, center=None,
           fill=None):
    """Rotate counter-clockwise by ``angle`` degrees."""
    mode = interpolation_mode(interpolation)
    if center is not None and len(center) != 2:
        raise ValueError("Center must be a sequence of length 2")
    return _dispatch("rotate", img, float(angle), mode.value, expand, center, fill)


# ---- colour -------------------------------------------------------------------------------------
def rgb_to_grayscale(img, num_output_channels: int = 1):
    if is_pil_image(img):
        return F_pil.to_grayscale(img, num_output_channels)
    return _dispatch("rgb_to_grayscale", img, num_output_channels)


to_grayscale = rgb_to_grayscale


def adjust_brightness(img, brightness_factor: float):
    return _dispatch("adjust_brightness", img, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    return _dispatch("adjust_contrast", img, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    return _dispatch("adjust_saturation", img, saturation_factor)


def adjust_hue(img, hue_factor: float):
    return _dispatch("adjust_hue", img, hue_factor)


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel ([kx, ky], odd and positive); sigma defaults from the kernel size."""
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    kernel_size = list(kernel_size)
    if len(kernel_size) == 1:
        kernel_size = kernel_size * 2
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    if any(k % 2 == 0 or k < 0 for k in kernel_size):
        raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    elif isinstance(sigma, numbers.Number):
        sigma = [float(sigma)] * 2
    else:
        sigma = [float(s) for s in sigma] * (2 if len(sigma) == 1 else 1)
    if any(s <= 0 for s in sigma):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    if is_pil_image(img):
        out = F_t.gaussian_blur(pil_to_tensor(img), kernel_size, sigma)
        return to_pil_image(out, mode=img.mode)
    return F_t.gaussian_blur(img, kernel_size, sigma)


def erase(img, i: int, j: int, h: int, w: int, v, inplace: bool = False):
    """Set the box [i:i+h, j:j+w] of a tensor image to ``v``."""
    if not _is_tensor(img):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    return F_t.erase(img, i, j, h, w, v, inplace)
