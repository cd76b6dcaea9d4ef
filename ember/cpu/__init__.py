"""``ember.cpu`` (torch.cpu): holds ``ember.cpu.amp``."""
from . import amp  # noqa: F401
