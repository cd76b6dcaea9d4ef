"""dtype and device conversion: ``to``, ``type``, ``float()``/``long()``/..., ``cpu()``/``cuda()``."""
from __future__ import annotations

from .. import _backend
from .._dtype import ALIASES, _FROM_NP, to_dtype
from .._tensor import Tensor
from ._registry import apply, check_inplace_allowed, defop

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
    if isinstance(dtype, str) and dtype in _LEGACY_REV:
        dtype = _LEGACY_REV[dtype]
    return to(self, to_dtype(dtype))


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
