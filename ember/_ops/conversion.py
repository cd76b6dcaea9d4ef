"""dtype and device conversion: ``to``, ``type``, ``float()``/``long()``/..., ``cpu()``/``cuda()``."""
from __future__ import annotations

import math

import numpy as np

from .. import _backend
from .._dtype import ALIASES, _FROM_NP, finfo_np, get_default_dtype, to_dtype
from .._tensor import Tensor, _address, _root_array
from ._registry import apply, check_inplace_allowed, defop
from ._util import check_tensor
from .creation import _LegacyTensorType

PUBLIC = {}


@defop("_to_copy")
def _to_copy(ctx, x, dtype, device, copy):
    src = ctx.device
    ctx.src_device = src
    out = x
    if dtype is not None and x.dtype != dtype.np:
        out = x.astype(dtype.np)
    if device is not None and device != src:
        out = _backend.to_device_array(out, src, device)
        ctx.device = device
    elif copy and out is x:
        out = x.copy()
    return out


@_to_copy.backward
def _(ctx, g):
    if g._device != ctx.src_device:
        return g.to(ctx.src_device)
    return g


def _parse_to(args, kw):
    dtype = kw.pop("dtype", None)
    device = kw.pop("device", None)
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a._device
        elif isinstance(a, (str, _backend.Device, int)) and not isinstance(a, bool):
            if isinstance(a, str) and a.removeprefix("torch.") in ALIASES:
                dtype = a
            else:
                device = a
        elif a is not None:
            dtype = a
    return (None if dtype is None else to_dtype(dtype),
            None if device is None else _backend.canonical(device))


def to(self, *args, non_blocking=False, copy=False, memory_format=None, **kw):
    """Return a tensor with the requested dtype and/or device (``self`` if nothing changes)."""
    dtype, device = _parse_to(args, dict(kw))
    if dtype is not None and dtype.np == self._data.dtype:
        dtype = None
    if device is not None and device == self._device:
        device = None
    if dtype is None and device is None and not copy:
        return self
    out = apply(_to_copy, (self,), (dtype, device, copy))
    if device is not None:
        out._device = device
    return out


def _type(self, dtype=None, non_blocking=False, **kw):
    if dtype is None:
        return _LEGACY.get(self.dtype.name, "torch.Tensor")
    if isinstance(dtype, str):
        if dtype.startswith("torch.cuda.") and dtype.replace(".cuda", "") in _LEGACY_REV:
            return _to_cuda_type(self, _LEGACY_REV[dtype.replace(".cuda", "")])
        if dtype not in _LEGACY_REV:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _LEGACY_REV[dtype]
    elif isinstance(dtype, _LegacyTensorType):
        if dtype.device_type == "cuda":
            return _to_cuda_type(self, dtype.dtype)
        dtype = dtype.dtype
    return to(self, to_dtype(dtype))


# torch's CPU build, asked for a CUDA tensor type (rather than a cuda device), fails in its dispatcher
_NO_ATEN_CUDA = ("Cannot initialize CUDA without ATen_cuda library. (ember: the cuda device needs CuPy, "
                 "pip install 'ember[cuda]', and a GPU.)")


def _to_cuda_type(self, dtype):
    if not _backend.cuda_available():
        raise RuntimeError(_NO_ATEN_CUDA)
    return to(self, dtype).cuda()


_LEGACY = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor",
           "bfloat16": "torch.BFloat16Tensor", "int64": "torch.LongTensor", "int32": "torch.IntTensor",
           "int16": "torch.ShortTensor", "int8": "torch.CharTensor", "uint8": "torch.ByteTensor",
           "bool": "torch.BoolTensor"}
_LEGACY_REV = {v: to_dtype(k) for k, v in _LEGACY.items()}

Tensor.to = to
Tensor.type = _type
for _name, _dt in (("float", "float32"), ("double", "float64"), ("half", "float16"),
                   ("bfloat16", "bfloat16"), ("long", "int64"), ("int", "int32"), ("short", "int16"),
                   ("char", "int8"), ("byte", "uint8"), ("bool", "bool")):
    def _m(self, memory_format=None, _dt=to_dtype(_dt)):
        return to(self, _dt)
    _m.__name__ = _name
    setattr(Tensor, _name, _m)


def _cpu(self, memory_format=None):
    return to(self, _backend.CPU)


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    dev = _backend.canonical("cuda" if device is None else
                             (f"cuda:{device}" if isinstance(device, int) else device))
    dev.xp  # raises the clear "no CUDA" error early
    return to(self, dev)


def type_as(self, other):
    return to(self, other.dtype)


Tensor.cpu = _cpu
Tensor.cuda = _cuda
Tensor.type_as = type_as


@defop("copy", nin=2, node_name="CopyBackwards")
def _copy(ctx, x, src):
    return src.astype(x.dtype, copy=False)


@_copy.backward
def _(ctx, g):
    n = ctx.needs_input_grad
    return (g.new_zeros(g.shape) if n[0] else None), (g if n[1] else None)


_copy.node_cls.name = lambda self: "torch::autograd::CopyBackwards"   # torch's name() for this node


def copy_(self, src, non_blocking=False):
    """Copy ``src`` into ``self`` in place (broadcast, cast to ``self``'s dtype, across devices)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    check_inplace_allowed(self)
    if src._device != self._device:
        src = src.to(self._device)
    return apply(_copy, (self, src), (), None, target=self)


Tensor.copy_ = copy_

for _name, _dt in (("cfloat", "complex64"), ("cdouble", "complex128")):
    def _m(self, memory_format=None, _dt=to_dtype(_dt)):
        return to(self, _dt)
    _m.__name__ = _name
    setattr(Tensor, _name, _m)


# ---- dtype limits: finfo / iinfo ----------------------------------------------------------------
class finfo:
    """Machine limits of a floating point dtype (of its real part for complex dtypes), as torch.finfo."""

    def __init__(self, type=None):  # noqa: A002 - torch's name
        d = get_default_dtype() if type is None else to_dtype(type)
        if d._category < 2:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        d = d.to_real()
        fi = finfo_np(d)
        self.bits = d.itemsize * 8
        self.eps = float(fi.eps)
        self.max = float(fi.max)
        self.min = float(fi.min)
        self.tiny = self.smallest_normal = float(fi.smallest_normal)
        self.resolution = float(10 ** -int(-math.log10(self.eps)))
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype, as torch.iinfo."""

    def __init__(self, type):  # noqa: A002 - torch's name
        d = to_dtype(type)
        if d.name == "bool":
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d._category != 1:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        ii = np.iinfo(d.np)
        self.bits = d.itemsize * 8
        self.max = int(ii.max)
        self.min = int(ii.min)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# ---- layout, storage and memory flags ------------------------------------------------------------
class layout:
    """A tensor memory layout; ember tensors are always ``torch.strided``."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name


strided = layout("strided")


class UntypedStorage:
    """The bytes behind a tensor (the root array its views share): ``nbytes``, ``data_ptr``, ``size``."""

    def __init__(self, array, device):
        self._array = array
        self.device = device

    def nbytes(self) -> int:
        return int(self._array.nbytes)

    def size(self) -> int:
        return int(self._array.nbytes)

    def data_ptr(self) -> int:
        return _address(self._array)

    def __len__(self):
        return self.size()

    def __repr__(self):
        return f"[torch.storage.UntypedStorage(device={self.device}) of size {self.size()}]"

    def pin_memory(self, device=None):
        _check_pinnable(device)
        return self

    def is_pinned(self, device=None) -> bool:
        return False


def untyped_storage(self) -> UntypedStorage:
    return UntypedStorage(_root_array(self._data), self._device)


def share_memory_(self):
    """Mark the tensor shared (a no-op: ember's CPU tensors live in process memory; see is_shared)."""
    self.__dict__["_shared"] = True
    return self


def is_shared(self) -> bool:
    return self.__dict__.get("_shared", False)


def _device_arg_deprecated(fn, device):
    if device is not None:
        import warnings
        warnings.warn(f"The argument 'device' of Tensor.{fn}() is deprecated. Please do not pass this argument.",
                      DeprecationWarning, stacklevel=3)


def _check_pinnable(device):
    """torch pins host memory for an accelerator: without one (a CPU-only build) it refuses."""
    if device is not None and _backend.canonical(device).type == "cpu":
        raise RuntimeError("CPU device type not an accelerator.")
    if not _backend.cuda_available():
        raise RuntimeError(_NO_ATEN_CUDA if device is not None else
                           "Cannot access accelerator device when none is available.")


def pin_memory(self, device=None):
    """With CUDA, ``self`` (ember has no page-locked host memory to copy into); without an accelerator,
    torch's RuntimeError."""
    _device_arg_deprecated("pin_memory", device)
    _check_pinnable(device)
    return self


def is_pinned(self, device=None) -> bool:
    _device_arg_deprecated("is_pinned", device)
    return False


def is_complex(input) -> bool:
    check_tensor(input, "is_complex")
    return input.is_complex()


def is_signed(self) -> bool:
    return self.dtype.is_signed


def is_nonzero(self) -> bool:
    check_tensor(self, "is_nonzero")
    n = self._data.size
    if n != 1:
        raise RuntimeError("Boolean value of Tensor with " + ("no values" if n == 0 else "more than one value")
                           + " is ambiguous")
    return bool(self.item())


def is_same_size(self, other) -> bool:
    return self._data.shape == other._data.shape


for _fn in (untyped_storage, share_memory_, is_shared, pin_memory, is_signed, is_nonzero, is_same_size):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.is_pinned = is_pinned
Tensor.layout = property(lambda self: strided)
Tensor.is_sparse = Tensor.is_quantized = Tensor.is_meta = property(lambda self: False)
PUBLIC.update(finfo=finfo, iinfo=iinfo, layout=layout, strided=strided, is_complex=is_complex,
              is_nonzero=is_nonzero, is_same_size=is_same_size)
