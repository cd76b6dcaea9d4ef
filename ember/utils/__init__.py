"""``ember.utils``: helpers beside the core (``ember.utils.safetensors``, ``ember.utils.data``, ``ember.utils.checkpoint``;
``ember.utils.tensorboard`` is imported only on demand, to keep ``import ember`` fast)."""

from . import checkpoint, data, safetensors  # noqa: E402,F401
