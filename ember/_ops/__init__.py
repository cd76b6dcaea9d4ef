"""Every op, grouped by family; importing this package binds them onto Tensor.

``PUBLIC`` collects the functions exposed as ``ember.<name>``.
"""
from importlib import import_module

_FAMILIES = ("creation", "pointwise", "reduction", "shape", "conversion", "views")
PUBLIC = {}
for _fam in _FAMILIES:
    _m = import_module(f"{__name__}.{_fam}")
    PUBLIC.update(getattr(_m, "PUBLIC", {}))
