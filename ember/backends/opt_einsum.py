"""``torch.backends.opt_einsum``: contraction-order search for ``einsum``, on when the opt_einsum package
is installed (as in torch; ember's einsum is NumPy's, which orders contractions itself)."""
from __future__ import annotations

import importlib.util


def is_available() -> bool:
    return importlib.util.find_spec("opt_einsum") is not None


def get_opt_einsum():
    """The opt_einsum module when installed, else None."""
    if not is_available():
        return None
    import opt_einsum
    return opt_einsum


enabled = is_available()
strategy = "auto" if enabled else None
