"""Saving and loading in PyTorch's checkpoint format (``ember.save``/``ember.load``)."""
from ._load import (CheckpointError, add_safe_globals, clear_safe_globals, get_safe_globals, load,
                    register_parameter_class)
from ._save import save

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "CheckpointError"]
