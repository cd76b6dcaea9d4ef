"""Image ops on tensors of shape (..., C, H, W), written with ember ops so they run on any device."""
from __future__ import annotations

import math

import numpy as np

import ember
import ember.nn.functional as F

_INT_DTYPES = (ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64)


def check_image(img) -> None:
    if not isinstance(img, ember.Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    if img.ndim < 2:
        raise TypeError(f"Tensor is not a torch image: expected at least 2 dims, got shape {tuple(img.shape)}")


def get_dimensions(img) -> list:
    check_image(img)
    channels = 1 if img.ndim == 2 else img.shape[-3]
    return [channels, img.shape[-2], img.shape[-1]]


def max_value(dtype) -> float:
    return 1.0 if dtype.is_floating_point else float(ember.iinfo(dtype).max)


def convert_image_dtype(img, dtype=ember.float32):
    """Rescale values between dtypes: floats live in [0, 1], integers in [0, dtype max]."""
    if img.dtype == dtype:
        return img
    if img.dtype.is_floating_point:
        if dtype.is_floating_point:
            return img.to(dtype)
        if (img.dtype, dtype) in ((ember.float32, ember.int32), (ember.float32, ember.int64),
                                  (ember.float64, ember.int64)):
            raise RuntimeError(f"The cast from {img.dtype} to {dtype} cannot be performed safely.")
        # (max + 1 - eps) maps 1.0 to max while spreading [0, 1) evenly over the integer bins
        return (img * (max_value(dtype) + 1.0 - 1e-3)).to(dtype)
    if dtype.is_floating_point:
        return img.to(dtype) / max_value(img.dtype)
    in_max, out_max = int(max_value(img.dtype)), int(max_value(dtype))
    if in_max > out_max:
        return ember.div(img, (in_max + 1) // (out_max + 1), rounding_mode="floor").to(dtype)
    return img.to(dtype) * ((out_max + 1) // (in_max + 1))


def _to_float(img):
    """``img`` as float for resampling, and how to cast the result back."""
    if img.dtype.is_floating_point:
        return img, None
    return img.to(ember.float32), img.dtype


def _from_float(img, dtype):
    if dtype is None:
        return img
    lo, hi = (0, 255) if dtype == ember.uint8 else (None, None)
    img = img.round()
    if lo is not None:
        img = img.clamp(lo, hi)
    return img.to(dtype)


def normalize(img, mean, std, inplace=False):
    check_image(img)
    if not img.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {img.dtype}.")
    if img.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{img.size()}")
    mean = ember.as_tensor(mean, dtype=img.dtype, device=img.device)
    std = ember.as_tensor(std, dtype=img.dtype, device=img.device)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {img.dtype}, leading to division by zero.")
    mean = mean.view(-1, 1, 1) if mean.ndim == 1 else mean
    std = std.view(-1, 1, 1) if std.ndim == 1 else std
    if inplace:
        return img.sub_(mean).div_(std)
    return (img - mean) / std


# ---- resampling ---------------------------------------------------------------------------------
def resize(img, size, interpolation="bilinear", antialias=True):
    """Resize the last two dims to ``size`` = [h, w]; antialias applies to bilinear/bicubic downscaling."""
    check_image(img)
    if interpolation not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError("This interpolation mode is unsupported with Tensor input")
    h, w = img.shape[-2:]
    if [h, w] == list(size):
        return img
    x, dtype = _to_float(img)
    lead = x.shape[:-2]
    x = x.reshape(1, -1, h, w)
    smooth = interpolation in ("bilinear", "bicubic")
    x = F.interpolate(x, size=list(size), mode=interpolation, align_corners=False if smooth else None,
                      antialias=bool(antialias) and smooth)
    return _from_float(x.reshape(*lead, *size), dtype)


# ---- geometry -----------------------------------------------------------------------------------
def pad(img, padding, fill=0, padding_mode="constant"):
    """``padding`` is [left, top, right, bottom]; modes constant, edge, reflect, symmetric."""
    check_image(img)
    left, top, right, bottom = padding
    if padding_mode == "constant":
        lead = img.shape[:-2]
        out = F.pad(img.reshape(-1, *img.shape[-2:]), [left, right, top, bottom], value=fill)
        return out.reshape(*lead, *out.shape[-2:])
    # gather rows and columns by the source index each padded position takes in this mode
    rows = np.pad(np.arange(img.shape[-2]), (top, bottom), mode=padding_mode)
    cols = np.pad(np.arange(img.shape[-1]), (left, right), mode=padding_mode)
    img = img.index_select(-2, ember.as_tensor(rows, device=img.device))
    return img.index_select(-1, ember.as_tensor(cols, device=img.device))


def crop(img, top, left, height, width):
    """Crop; any part of the box outside the image is filled with zeros."""
    _, h, w = get_dimensions(img)
    bottom, right = top + height, left + width
    if left < 0 or top < 0 or right > w or bottom > h:
        inner = img[..., max(top, 0):min(bottom, h), max(left, 0):min(right, w)]
        ltrb = [max(-left, 0), max(-top, 0), max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        return pad(inner, ltrb)
    return img[..., top:bottom, left:right]


def hflip(img):
    check_image(img)
    return img.flip(-1)


def vflip(img):
    check_image(img)
    return img.flip(-2)


def rotate(img, angle, interpolation="nearest", expand=False, center=None, fill=None):
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (default: the image centre)."""
    check_image(img)
    if expand:
        raise NotImplementedError("rotate(expand=True) is only supported for PIL images")
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")
    h, w = img.shape[-2:]
    cx, cy = (0.0, 0.0) if center is None else (center[0] - w * 0.5, center[1] - h * 0.5)
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    # output pixel centres, relative to the image centre, mapped back to where they come from
    xs = np.arange(w) - w * 0.5 + 0.5 - cx
    ys = np.arange(h) - h * 0.5 + 0.5 - cy
    gx, gy = np.meshgrid(xs, ys)
    src_x = cos * gx - sin * gy + cx
    src_y = sin * gx + cos * gy + cy
    grid = np.stack([src_x * 2 / w, src_y * 2 / h], axis=-1)[None]
    x, dtype = _to_float(img)
    lead = x.shape[:-2]
    x = x.reshape(1, -1, h, w)
    grid = ember.as_tensor(grid, dtype=x.dtype, device=x.device)
    if fill is not None:
        x = ember.cat([x, ember.ones_like(x[:, :1])], dim=1)
    out = F.grid_sample(x, grid, mode=interpolation, padding_mode="zeros", align_corners=False)
    if fill is not None:
        out, mask = out[:, :-1], out[:, -1:]
        if interpolation == "nearest":
            mask = (mask > 0.5).to(out.dtype)
        channels = get_dimensions(img)[0]
        per_channel = np.broadcast_to(np.asarray(fill, dtype=np.float64).reshape(-1), (channels,))
        fill_t = ember.as_tensor(np.tile(per_channel, out.shape[1] // channels), dtype=out.dtype,
                                 device=out.device).reshape(1, -1, 1, 1)
        out = out * mask + (1.0 - mask) * fill_t
    return _from_float(out.reshape(*lead, h, w), dtype)


# ---- colour -------------------------------------------------------------------------------------
def _check_channels(img, allowed):
    c = get_dimensions(img)[0]
    if c not in allowed:
        raise TypeError(f"Input image tensor permitted channel values are {allowed}, but found {c}")


def rgb_to_grayscale(img, num_output_channels=1):
    """ITU-R 601-2 luma (L = 0.2989 R + 0.587 G + 0.114 B), as PIL's ``convert('L')``."""
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _check_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = img.unbind(-3)
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(-3)
    else:
        gray = img.clone()
    return gray.expand(img.shape) if num_output_channels == 3 else gray


def _blend(a, b, ratio):
    return (ratio * a + (1.0 - ratio) * b).clamp(0, max_value(a.dtype)).to(a.dtype)


def _check_factor(name, factor):
    if factor < 0:
        raise ValueError(f"{name} ({factor}) is not non-negative.")


def adjust_brightness(img, brightness_factor):
    _check_factor("brightness_factor", brightness_factor)
    _check_channels(img, [1, 3])
    return _blend(img, ember.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    _check_factor("contrast_factor", contrast_factor)
    _check_channels(img, [3, 1])
    dtype = img.dtype if img.is_floating_point() else ember.float32
    gray = rgb_to_grayscale(img) if img.shape[-3] == 3 else img
    mean = gray.to(dtype).mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img, saturation_factor):
    _check_factor("saturation_factor", saturation_factor)
    _check_channels(img, [1, 3])
    if img.shape[-3] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb_to_hsv(img):
    """Hexcone HSV, every channel in [0, 1]."""
    r, g, b = img.unbind(-3)
    v = img.amax(dim=-3)
    chroma = v - img.amin(dim=-3)
    flat = chroma == 0
    safe_chroma = ember.where(flat, ember.ones_like(chroma), chroma)
    s = chroma / ember.where(v == 0, ember.ones_like(v), v)
    # hue sector by which channel is the maximum (red wins ties, then green)
    h_r = (g - b) / safe_chroma
    h_g = 2.0 + (b - r) / safe_chroma
    h_b = 4.0 + (r - g) / safe_chroma
    h = ember.where(v == r, h_r, ember.where(v == g, h_g, h_b))
    h = ember.where(flat, ember.zeros_like(h), h)
    return ember.remainder(h / 6.0, 1.0), s, v


def _hsv_to_rgb(h, s, v):
    """Inverse of ``_rgb_to_hsv``: each channel follows its own piecewise-linear hue curve."""
    def channel(n):
        k = ember.remainder(n + h * 6.0, 6.0)
        ramp = ember.minimum(k, 4.0 - k).clamp(0.0, 1.0)
        return v - v * s * ramp
    return ember.stack([channel(5.0), channel(3.0), channel(1.0)], dim=-3)


def adjust_hue(img, hue_factor):
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check_channels(img, [1, 3])
    if img.shape[-3] == 1:
        return img
    dtype = img.dtype
    h, s, v = _rgb_to_hsv(convert_image_dtype(img, ember.float32))
    out = _hsv_to_rgb(ember.remainder(h + hue_factor, 1.0), s, v)
    return convert_image_dtype(out, dtype)


def gaussian_kernel1d(kernel_size, sigma):
    x = np.arange(kernel_size) - (kernel_size - 1) / 2
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(img, kernel_size, sigma):
    """Separable Gaussian blur with reflect padding; ``kernel_size`` and ``sigma`` are [x, y]."""
    check_image(img)
    kx = gaussian_kernel1d(kernel_size[0], sigma[0])
    ky = gaussian_kernel1d(kernel_size[1], sigma[1])
    x, dtype = _to_float(img)
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    x = x.reshape(-1, 1, h, w)
    x = pad(x, [kernel_size[0] // 2, kernel_size[1] // 2, kernel_size[0] // 2, kernel_size[1] // 2],
            padding_mode="reflect")
    kernel = ember.as_tensor(np.outer(ky, kx), dtype=x.dtype, device=x.device)[None, None]
    x = F.conv2d(x, kernel)
    return _from_float(x.reshape(*lead, h, w), dtype)


def erase(img, i, j, h, w, v, inplace=False):
    check_image(img)
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img
