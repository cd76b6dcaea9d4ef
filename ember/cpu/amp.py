"""``ember.cpu.amp``: torch's deprecated spellings of ``ember.amp.autocast('cpu')`` and ``GradScaler('cpu')``."""
from __future__ import annotations

import warnings

from .. import amp as _amp
from .._dtype import bfloat16
from .._dtype import dtype as _dtype

__all__ = ["GradScaler", "autocast"]


class autocast(_amp.autocast):
    """``ember.amp.autocast('cpu', ...)``; deprecated (FutureWarning), as in torch."""

    def __init__(self, enabled: bool = True, dtype: _dtype = bfloat16, cache_enabled: bool = True):
        warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """``ember.amp.GradScaler('cpu', ...)``; deprecated (FutureWarning), as in torch."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)
