"""``ember.utils``: helpers beside the core (``ember.utils.safetensors``, ``ember.utils.data``, ``ember.utils.checkpoint``)."""

from . import checkpoint, data, safetensors  # noqa: E402,F401
