"""``ember.utils``: helpers beside the core (``ember.utils.safetensors``)."""

from . import safetensors  # noqa: E402,F401
