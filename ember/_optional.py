"""Optional dependencies (Pillow, onnx, mpi4py, ...): imported only when a feature needs them."""
from __future__ import annotations

import importlib


def require(module: str, needs: str, extra: str):
    """``module`` imported, or an ImportError saying ``<needs>: pip install 'ember[<extra>]'``
    (``needs`` names the feature and the package, e.g. "ember.onnx.export needs the onnx package")."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{needs}: pip install 'ember[{extra}]'") from None
