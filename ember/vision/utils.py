"""``torchvision.utils``: tile a batch of images into one grid (``make_grid``) and write it (``save_image``)."""
from __future__ import annotations

import math

import ember

from ._pil import pil_image


def _rescale_(t, value_range):
    """Clamp to [low, high] (default: t's own min and max) and map that range onto [0, 1], in place."""
    low, high = value_range if value_range is not None else (float(t.min()), float(t.max()))
    t.clamp_(min=low, max=high)
    t.sub_(low).div_(max(high - low, 1e-5))


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0):
    """(B, C, H, W) tensor or list of (C, H, W) images -> one (C', H', W') image, ``nrow`` images per row."""
    if isinstance(tensor, (list, tuple)):
        tensor = ember.stack(list(tensor), dim=0)
    if not isinstance(tensor, ember.Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() != 4:
        raise ValueError(f"make_grid expects a 2-, 3- or 4-D tensor, got shape {tuple(tensor.shape)}")
    if tensor.size(1) == 1:     # single-channel images become RGB
        tensor = ember.cat([tensor, tensor, tensor], dim=1)
    if normalize:
        tensor = tensor.clone()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        for t in (tensor if scale_each else [tensor]):
            _rescale_(t, value_range)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps, channels, h, w = tensor.shape
    cols = min(nrow, nmaps)
    rows = math.ceil(nmaps / cols)
    cell_h, cell_w = h + padding, w + padding
    grid = ember.full((channels, cell_h * rows + padding, cell_w * cols + padding), pad_value, dtype=tensor.dtype,
                      device=tensor.device)
    for k in range(nmaps):
        top, left = (k // cols) * cell_h + padding, (k % cols) * cell_w + padding
        grid[:, top:top + h, left:left + w] = tensor[k]
    return grid


def save_image(tensor, fp, format=None, **kwargs) -> None:
    """Write ``make_grid(tensor, **kwargs)`` (values in [0, 1]) as an 8-bit image file."""
    grid = make_grid(tensor, **kwargs)
    arr = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", ember.uint8).numpy()
    pil_image().fromarray(arr).save(fp, format=format)
