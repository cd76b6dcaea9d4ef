"""``torch.backends.mkldnn``: oneDNN switches (recorded); ember's CPU kernels are NumPy's, not oneDNN's."""
from __future__ import annotations

enabled = True
deterministic = False


def is_available() -> bool:
    return False
