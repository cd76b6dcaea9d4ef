"""safetensors ``save_file``/``load_file``/``save``/``load`` (the safetensors package's format)."""
from ..serialization.safetensors import load, load_file, load_metadata, save, save_file

__all__ = ["save", "load", "save_file", "load_file", "load_metadata"]
