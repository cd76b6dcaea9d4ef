"""ember: PyTorch's API and semantics, in readable Python on NumPy."""
from __future__ import annotations

import numpy as _np

from . import _backend
from ._backend import Device as device, get_default_device, set_default_device
from ._dtype import (bfloat16, bool_ as bool, complex64, complex128, dtype, float16, float32,  # noqa: A004
                     float64, get_default_dtype, int8, int16, int32, int64, promote_types,
                     set_default_dtype, uint8, can_cast as _can_cast)
from ._grad_state import is_grad_enabled
from ._tensor import Size, Tensor
from . import _ops
from ._ops import PUBLIC as _PUBLIC
from ._ops._util import check_tensor
from . import autograd
from .autograd import enable_grad, inference_mode, no_grad, set_grad_enabled
from .autograd.grad_mode import is_inference_mode_enabled
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .autograd.anomaly_mode import set_detect_anomaly as set_anomaly_enabled
from . import cuda
from . import serialization
from .serialization import load, save
from . import hub
from ._printing import get_printoptions, set_printoptions
from ._dlpack import from_dlpack
from . import linalg
from ._random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,  # noqa: F401
                      seed, set_rng_state)

globals().update(_PUBLIC)

from . import nn, optim, utils  # noqa: E402  (torch.nn / .optim / .utils are importable attributes)
from . import amp, cpu  # noqa: E402
from .cuda import amp as _cuda_amp  # noqa: E402,F401  (ember.cuda.amp)
from .amp import autocast  # noqa: E402
globals().update(amp.autocast_mode.PUBLIC)
from . import _threads, _torch_nn  # noqa: E402
from . import func  # noqa: E402,F401  (torch.func.functional_call)
globals().update(_torch_nn.PUBLIC)
globals().update(_threads.PUBLIC)
from . import _runtime, backends, compiler  # noqa: E402,F401
from .compiler import compile  # noqa: E402,A001
globals().update(_runtime.PUBLIC)

_np.seterr(all="ignore")  # torch is silent on inf/nan results; NumPy would warn

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128

__version__ = "0.1.0"


def is_tensor(obj) -> "builtins.bool":
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> "builtins.bool":
    check_tensor(input, "is_floating_point")
    return input.is_floating_point()


def numel(input: Tensor) -> "builtins.int":
    check_tensor(input, "numel")
    return input.numel()


def can_cast(from_, to) -> "builtins.bool":
    return _can_cast(from_, to)


def result_type(tensor1, tensor2):
    """The dtype ``tensor1 op tensor2`` would compute in (torch.result_type)."""
    from ._ops._registry import compute_dtype
    return compute_dtype((tensor1, tensor2), "default")


def __getattr__(name):
    """``ember.multiprocessing``, ``ember.testing``, ``ember.distributions``, ``ember.onnx``,
    ``ember.distributed``, ``ember.fft``, ``ember.special`` and ``ember.jit`` load on first use, keeping
    ``import ember`` fast."""
    if name in ("multiprocessing", "testing", "distributions", "onnx", "distributed", "fft", "special", "jit"):
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
