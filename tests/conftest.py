import re
import pytest

import ember
from ember import _backend


@pytest.fixture
def standin_cuda():
    """Back ``cuda`` with NumPy for the duration of a test (no GPU here)."""
    _backend.use_standin_cuda(True)
    try:
        yield
    finally:
        _backend.use_standin_cuda(False)


@pytest.fixture(autouse=True)
def _fresh_defaults():
    prev = ember.get_default_dtype()
    yield
    ember.set_default_dtype(prev)


def stable_id(value):
    """A parametrize id that is identical in every xdist worker (no memory addresses)."""
    text = repr(value)
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)
