"""Padding layers: constant/zero, reflection, replication and circular, 1-d to 3-d."""
from __future__ import annotations

from .. import functional as F
from .module import Module
from .utils import _ntuple

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    _mode = "constant"
    _n = 2

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(2 * self._n)(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _make(name, base, mode, n, doc):
    return type(name, (base,), {"_mode": mode, "_n": n, "__doc__": doc})


ConstantPad1d = _make("ConstantPad1d", _ConstantPadNd, "constant", 1, "Pad the last dim with a constant.")
ConstantPad2d = _make("ConstantPad2d", _ConstantPadNd, "constant", 2, "Pad the last 2 dims with a constant.")
ConstantPad3d = _make("ConstantPad3d", _ConstantPadNd, "constant", 3, "Pad the last 3 dims with a constant.")
ReflectionPad1d = _make("ReflectionPad1d", _PadNd, "reflect", 1, "Pad the last dim by reflection.")
ReflectionPad2d = _make("ReflectionPad2d", _PadNd, "reflect", 2, "Pad the last 2 dims by reflection.")
ReflectionPad3d = _make("ReflectionPad3d", _PadNd, "reflect", 3, "Pad the last 3 dims by reflection.")
ReplicationPad1d = _make("ReplicationPad1d", _PadNd, "replicate", 1, "Pad the last dim by edge replication.")
ReplicationPad2d = _make("ReplicationPad2d", _PadNd, "replicate", 2, "Pad the last 2 dims by edge replication.")
ReplicationPad3d = _make("ReplicationPad3d", _PadNd, "replicate", 3, "Pad the last 3 dims by edge replication.")
CircularPad1d = _make("CircularPad1d", _PadNd, "circular", 1, "Pad the last dim circularly.")
CircularPad2d = _make("CircularPad2d", _PadNd, "circular", 2, "Pad the last 2 dims circularly.")
CircularPad3d = _make("CircularPad3d", _PadNd, "circular", 3, "Pad the last 3 dims circularly.")


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


ZeroPad1d = _make("ZeroPad1d", _ZeroPadNd, "constant", 1, "Pad the last dim with zeros.")
ZeroPad2d = _make("ZeroPad2d", _ZeroPadNd, "constant", 2, "Pad the last 2 dims with zeros.")
ZeroPad3d = _make("ZeroPad3d", _ZeroPadNd, "constant", 3, "Pad the last 3 dims with zeros.")
