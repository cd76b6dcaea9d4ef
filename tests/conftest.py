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
