"""``ember.utils``: helpers beside the core (``ember.utils.safetensors``, ``ember.utils.data``)."""

from . import data, safetensors  # noqa: E402,F401
