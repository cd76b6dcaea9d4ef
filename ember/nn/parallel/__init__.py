"""``nn.DataParallel``: ember runs a model in one process on one device, so the wrapper calls its module
directly, as torch's does when there are no GPUs to split the batch over."""
from __future__ import annotations

from ..modules.module import Module

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel(Module):
    """Holds ``module`` (so state_dict keys gain the ``module.`` prefix torch checkpoints have) and runs it."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def __getattr__(name):
    """``DistributedDataParallel`` loads ``ember.distributed`` on first use."""
    if name == "DistributedDataParallel":
        from .distributed import DistributedDataParallel
        return DistributedDataParallel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
