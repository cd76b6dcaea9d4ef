"""Every op, grouped by family; importing this package binds them onto Tensor.

``PUBLIC`` collects the functions exposed as ``ember.<name>``.
"""
from importlib import import_module

_FAMILIES = ("creation", "pointwise", "reduction", "shape", "conversion", "views", "indexing", "nn_misc", "nn_conv", "activation")
_FAMILIES += ("linalg", "random")
_FAMILIES += ("nn_pool", "nn_norm", "nn_loss")
_FAMILIES += ("sorting",)
_FAMILIES += ("nn_act_extra", "nn_bag", "nn_ctc", "nn_vision")
_FAMILIES += ("spectral", "special")
PUBLIC = {}
for _fam in _FAMILIES:
    _m = import_module(f"{__name__}.{_fam}")
    PUBLIC.update(getattr(_m, "PUBLIC", {}))

from ._aliases import install as _install_aliases  # noqa: E402
from .._tensor import Tensor as _Tensor  # noqa: E402

_install_aliases(_Tensor, PUBLIC)

from ._out import install as _install_out  # noqa: E402

_install_out(PUBLIC)
