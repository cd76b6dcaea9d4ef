"""``ember.autocast``: regions where listed ops run in float16/bfloat16 (matmuls, convs) or float32.

While autocast is off nothing here runs: the op wrappers are installed over the public entry points
(``ember.mm``, ``Tensor.__matmul__``, ``F.linear``, ...) when some thread first enables autocast and
removed when the last one disables it. A wrapper acts only in threads whose autocast is on for the
inputs' device type; it casts the inputs by the op's policy (torch's Autocast Op Reference) and runs
the op with autocast suspended, so the ops it calls do not cast again. The casts are ``Tensor.to``, so
gradients flow back to float32 leaves in float32.
"""
from __future__ import annotations

import collections.abc
import functools
import threading
import warnings

from .. import _autocast, _backend
from .._autocast import state as _state
from .._dtype import bfloat16, float16, float32, float64
from .._dtype import dtype as _dtype
from .._tensor import Tensor

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]


# ---- state functions (torch.is_autocast_enabled & co) -------------------------------------------

def _device_type(device_type, fn: str) -> str:
    if not isinstance(device_type, str):
        raise TypeError(f"{fn}(): argument 'device_type' (position 1) must be str, not "
                        f"{type(device_type).__name__}")
    _backend.Device(device_type)        # torch's error for an unknown device string
    return device_type


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast works on ``device_type`` (``'cpu'`` and ``'cuda'`` in ember)."""
    return _device_type(device_type, "is_autocast_available") in _autocast.DEVICE_TYPES


def _check_available(device_type: str, message: str = "unsupported scalarType") -> str:
    if device_type not in _autocast.DEVICE_TYPES:
        raise RuntimeError(message)
    return device_type


_UNKNOWN = "unknown device type for autocast in get_autocast_dispatch_key_from_device_type"


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for ``device_type`` in this thread (no argument: ``'cuda'``, as torch)."""
    return _state.enabled[_check_available(_device_type(device_type, "is_autocast_enabled"), _UNKNOWN)]


def get_autocast_dtype(device_type: str) -> _dtype:
    """The lower-precision dtype autocast uses on ``device_type`` in this thread."""
    return _state.dtype[_check_available(_device_type(device_type, "get_autocast_dtype"))]


def set_autocast_dtype(device_type: str, dtype: _dtype) -> None:
    _state.dtype[_check_available(_device_type(device_type, "set_autocast_dtype"))] = dtype


def set_autocast_enabled(*args) -> None:
    """``set_autocast_enabled(device_type, enabled)``; the legacy one-argument form means ``'cuda'``."""
    if len(args) == 1:
        device_type, enabled, pos = "cuda", args[0], 1
    else:
        device_type, enabled = args
        pos = 2
        _device_type(device_type, "set_autocast_enabled")
    if not isinstance(enabled, bool):
        raise TypeError(f"set_autocast_enabled(): argument 'enabled' (position {pos}) must be bool, not "
                        f"{type(enabled).__name__}")
    _check_available(device_type, _UNKNOWN)
    if _state.enabled[device_type] != enabled:
        _state.enabled[device_type] = enabled
        _count_enabled(1 if enabled else -1)


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Drop the lower-precision copies of weights cached in this thread's autocast region."""
    _state.cache.clear()


def autocast_increment_nesting() -> int:
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting() -> int:
    _state.nesting -= 1
    return _state.nesting


def _deprecated(old: str, new: str):
    warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning,
                  stacklevel=3)


def is_autocast_cpu_enabled() -> bool:
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype() -> _dtype:
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype: _dtype) -> None:
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype() -> _dtype:
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype: _dtype) -> None:
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


PUBLIC = {f.__name__: f for f in (
    is_autocast_enabled, get_autocast_dtype, set_autocast_dtype, set_autocast_enabled,
    is_autocast_cache_enabled, set_autocast_cache_enabled, clear_autocast_cache,
    autocast_increment_nesting, autocast_decrement_nesting, is_autocast_cpu_enabled,
    set_autocast_cpu_enabled, get_autocast_cpu_dtype, set_autocast_cpu_dtype, get_autocast_gpu_dtype,
    set_autocast_gpu_dtype)}


# ---- the context manager ------------------------------------------------------------------------

class autocast:
    """Context manager / decorator: ops in the region run in the dtype autocast picks for them.

    ``dtype`` defaults to :func:`get_autocast_dtype` (bfloat16 on cpu, float16 on cuda);
    ``cache_enabled`` (default: :func:`is_autocast_cache_enabled`) keeps one lower-precision copy of
    each float32 leaf that requires grad for the whole region. The state is thread-local.
    """

    def __init__(self, device_type: str, dtype: _dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (torch's)
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if device_type == "cuda":
                if not _backend.cuda_available():
                    warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                                  stacklevel=2)
                    enabled = False
            elif self.fast_dtype not in (bfloat16, float16):
                warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                              "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                              "torch.float16 currently.", stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                "Did you mean to use autocast as a context manager? For example:\n"
                "    with torch.autocast(device_type=...):\n"
                "        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


# ---- custom autograd Functions ------------------------------------------------------------------

def _cast(value, device_type: str, dtype: _dtype):
    """``value`` with its floating (non-float64) tensors on ``device_type`` cast to ``dtype``."""
    if isinstance(value, Tensor):
        ok = value.is_floating_point() and value.device.type == device_type and value.dtype is not float64
        return value.to(dtype) if ok else value
    if isinstance(value, (str, bytes)) or hasattr(value, "__array_interface__"):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        it = (_cast(v, device_type, dtype) for v in value)
        return type(value)(it) if isinstance(value, (list, tuple)) else it
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs: _dtype | None = None):
    """Decorate a custom ``Function.forward``: with ``cast_inputs``, run it on inputs cast to that
    dtype with autocast off; without, run it under the current autocast state (recorded for backward)."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (torch's)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate a custom ``Function.backward``: run it with the autocast state its forward saw."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (torch's)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd


# ---- op policies (torch's Autocast Op Reference) ------------------------------------------------

def _eligible(t, device_type):
    return isinstance(t, Tensor) and t._device.type == device_type and t.dtype.is_floating_point \
        and t.dtype is not float64


def _map_tensors(fn, args, kw):
    """Apply ``fn`` to the tensors among ``args``/``kw``, also inside lists and tuples (TensorList)."""
    def one(a):
        if isinstance(a, Tensor):
            return fn(a)
        if type(a) in (list, tuple) and any(isinstance(x, Tensor) for x in a):
            return type(a)(fn(x) if isinstance(x, Tensor) else x for x in a)
        return a
    return tuple(map(one, args)), {k: one(v) for k, v in kw.items()}


def _tensors(args, kw):
    for a in (*args, *kw.values()):
        if isinstance(a, Tensor):
            yield a
        elif type(a) in (list, tuple):
            yield from (x for x in a if isinstance(x, Tensor))


def _cached_cast(t, to, device_type):
    """``t.to(to)`` if autocast may cast it; a float32 leaf weight's copy is reused for the region."""
    if not _eligible(t, device_type) or t.dtype is to:
        return t
    cache = (to is _state.dtype[device_type] and t.dtype is float32 and t._requires_grad
             and t.grad_fn is None and not t._is_view and _state.cache_enabled)
    if not cache:
        return t.to(to)
    hit = _state.cache.get(id(t))
    if hit is None:
        hit = _state.cache[id(t)] = (t, t.to(to))
    return hit[1]


def _lower(args, kw, device_type):
    to = _state.dtype[device_type]
    return _map_tensors(lambda t: _cached_cast(t, to, device_type), args, kw)


def _fp32(args, kw, device_type):
    return _map_tensors(lambda t: _cached_cast(t, float32, device_type), args, kw)


def _fp32_opt_dtype(args, kw, device_type):
    """float32 unless the call names an output ``dtype`` (then the op is not eligible)."""
    if kw.get("dtype") is not None:
        return None
    return _fp32(args, kw, device_type)


def _fp32_pad(args, kw, device_type):
    """F.pad: the reflection and replication pads run in float32 (constant and circular do not)."""
    mode = kw.get("mode", args[2] if len(args) > 2 else "constant")
    return _fp32(args, kw, device_type) if mode in ("reflect", "replicate") else None


def _keep(args, kw, device_type):
    """No casts; the ops it is built from do not autocast (torch's kernel for it is a single op)."""
    return args, kw


def _promote(args, kw, device_type):
    """Cast to the widest floating type among the inputs (and autocast's dtype)."""
    lower = _state.dtype[device_type]
    to = lower
    for t in _tensors(args, kw):
        if not _eligible(t, device_type):
            continue
        d = t.dtype
        if to is float32 or d is float32:
            to = float32
        elif not (to is lower and d is lower):
            raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return _map_tensors(lambda t: _cached_cast(t, to, device_type), args, kw)


def _banned_bce(args, kw, device_type):
    raise RuntimeError(
        "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
        "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
        "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
        "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
        "safe to autocast.")


_CONVS = "conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d"
_LOSSES = ("binary_cross_entropy_with_logits cosine_embedding_loss cross_entropy hinge_embedding_loss kl_div "
           "l1_loss huber_loss margin_ranking_loss mse_loss multilabel_margin_loss multi_margin_loss nll_loss "
           "poisson_nll_loss smooth_l1_loss soft_margin_loss triplet_margin_loss")

# namespace -> space-separated names, per policy, per device type.  Namespaces: "ember" (torch.*),
# "Tensor" (methods), "F" (nn.functional), "linalg", "fft", "conv" (the convolution nn.Conv* call),
# "rnn" (the recurrent GEMM of nn.RNN*/RNNCell*, torch's linear of the hidden state).
POLICIES = {
    "cpu": {
        _lower: {
            "ember": "matmul mm bmm addmm addbmm baddbmm prelu einsum tensordot inner chain_matmul " + _CONVS,
            "Tensor": "matmul __matmul__ __rmatmul__ mm bmm addmm addbmm baddbmm prelu inner",
            "F": "linear prelu scaled_dot_product_attention " + _CONVS,
            "linalg": "matmul multi_dot",
            "conv": "convolution",
            "rnn": "addmm",
        },
        _keep: {"F": "bilinear"},
        _fp32: {
            "ember": "prod cdist trace inverse pinverse cholesky polar quantile nanquantile view_as_complex",
            "Tensor": "prod trace inverse pinverse cholesky quantile nanquantile",
            "F": "avg_pool3d max_pool3d adaptive_avg_pool3d adaptive_max_pool3d fractional_max_pool2d "
                 "fractional_max_pool3d max_unpool2d max_unpool3d binary_cross_entropy grid_sample ctc_loss "
                 + _LOSSES,
            "linalg": "inv solve cholesky svd svdvals qr eigh eigvalsh matrix_rank",
            "fft": "fft ifft fft2 ifft2 fftn ifftn rfft irfft rfft2 irfft2 rfftn irfftn hfft ihfft",
        },
        _fp32_pad: {"F": "pad"},
        _promote: {"ember": "cat stack index_copy", "Tensor": "index_copy"},
    },
    "cuda": {
        _lower: {
            "ember": "matmul mm bmm addmm addbmm baddbmm addmv addr mv prelu einsum inner chain_matmul " + _CONVS,
            "Tensor": "matmul __matmul__ __rmatmul__ mm bmm addmm addbmm baddbmm addmv addr mv prelu inner",
            "F": "linear prelu scaled_dot_product_attention " + _CONVS,
            "linalg": "matmul multi_dot",
            "conv": "convolution",
            "rnn": "addmm",
        },
        _fp32: {
            "ember": "acos asin cosh erfinv exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan pow "
                     "dist cdist renorm logsumexp cosine_similarity layer_norm group_norm",
            "Tensor": "acos asin cosh erfinv exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan pow "
                      "__pow__ __rpow__ __rtruediv__ dist renorm logsumexp",
            "F": "softplus layer_norm group_norm normalize cosine_similarity pdist " + _LOSSES,
        },
        _fp32_opt_dtype: {
            "ember": "prod sum cumsum cumprod softmax log_softmax norm",
            "Tensor": "prod sum cumsum cumprod softmax log_softmax norm",
            "F": "softmax log_softmax softmin",
            "linalg": "vector_norm matrix_norm",
        },
        _banned_bce: {"F": "binary_cross_entropy"},
        _promote: {
            "ember": "cat stack index_copy addcdiv addcmul atan2 bilinear cross dot tensordot scatter_add",
            "Tensor": "index_copy addcdiv addcmul atan2 cross dot scatter_add index_put",
            "F": "bilinear grid_sample",
        },
    },
}


def _table():
    """``{(namespace, name): {device_type: policy}}`` from POLICIES."""
    table = {}
    for device_type, policies in POLICIES.items():
        for policy, spaces in policies.items():
            for space, names in spaces.items():
                for name in names.split():
                    table.setdefault((space, name), {})[device_type] = policy
    return table


def _wrap(fn, policies):
    """``fn`` casting its inputs by ``policies[device type]`` where this thread autocasts."""
    @functools.wraps(fn)
    def autocast_op(*args, **kw):
        st = _state
        if st.excluded or "out" in kw:
            return fn(*args, **kw)
        device_type = None
        for t in _tensors(args, kw):
            device_type = t._device.type
            if device_type != "cpu":
                break
        policy = policies.get(device_type)
        if policy is None or not st.enabled.get(device_type):
            return fn(*args, **kw)
        cast = policy(args, kw, device_type)
        if cast is None:
            return fn(*args, **kw)
        st.excluded = True
        try:
            return fn(*cast[0], **cast[1])
        finally:
            st.excluded = False
    return autocast_op


def _namespaces():
    import ember

    from .. import fft, linalg
    from .._ops import nn_conv
    from ..nn import functional
    from ..nn.modules import rnn
    return {"ember": ember, "Tensor": Tensor, "F": functional, "linalg": linalg, "fft": fft, "conv": nn_conv,
            "rnn": rnn}


_lock = threading.Lock()
_enabled_count = 0          # (thread, device type) pairs with autocast on, over all threads
_saved = {}                 # (namespace object, name) -> the original attribute, while installed


def _count_enabled(delta: int) -> None:
    """Install the wrappers when autocast first turns on anywhere; remove them when it is off everywhere."""
    global _enabled_count
    with _lock:
        _enabled_count += delta
        if _enabled_count == 1 and delta > 0 and not _saved:
            spaces = _namespaces()
            for (space, name), policies in _table().items():
                ns = spaces[space]
                fn = ns.__dict__[name] if space == "Tensor" else getattr(ns, name)
                _saved[(ns, name)] = fn
                setattr(ns, name, _wrap(fn, policies))
        elif _enabled_count == 0:
            for (ns, name), fn in _saved.items():
                setattr(ns, name, fn)
            _saved.clear()
