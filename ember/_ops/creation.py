"""Tensor construction: ``tensor``, ``as_tensor``, ``from_numpy`` and the factories."""
from __future__ import annotations

import numpy as np

from .. import _backend
from .._dtype import (_FROM_NP, bool_, float32, from_numpy_dtype, get_default_dtype, int64,
                      to_dtype)
from .._tensor import Tensor, make
from ._util import factory_device, factory_dtype, size_args

PUBLIC = {}


def public(fn):
    PUBLIC[fn.__name__] = fn
    return fn


def _infer_array(data, dtype):
    """Data → NumPy array with PyTorch's dtype inference (Python floats → default dtype)."""
    if isinstance(data, Tensor):
        arr = data._data if data._device.type == "cpu" else data.numpy(force=True)
        return arr if dtype is None else arr.astype(dtype.np)
    if isinstance(data, (np.ndarray, np.generic)):
        from_numpy_dtype(data.dtype)
        return np.asarray(data) if dtype is None else np.asarray(data).astype(dtype.np)
    if dtype is not None:
        try:
            return np.asarray(data, dtype=dtype.np)
        except OverflowError:
            return np.asarray(data).astype(dtype.np)
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flatten(data)):
        data = _tensors_to_lists(data)
    arr = np.asarray(data)
    k = arr.dtype.kind
    if k == "f":
        return arr.astype(get_default_dtype().np, copy=False)
    if k == "c":
        return arr.astype(get_default_dtype().to_complex().np, copy=False)
    if k in "iu":
        return arr.astype(np.int64, copy=False)
    if k == "b":
        return arr
    if k == "O" or k == "U" or k == "S":
        raise TypeError(f"Could not infer dtype of {type(data).__name__}"
                        if k != "O" else "too many dimensions 'str'" if isinstance(data, str)
                        else f"Could not infer dtype of {type(_flatten(data)[0]).__name__}")
    return arr


def _flatten(x):
    if isinstance(x, (list, tuple)):
        out = []
        for e in x:
            out.extend(_flatten(e))
        return out
    return [x]


def _tensors_to_lists(x):
    if isinstance(x, Tensor):
        return x.tolist()
    if isinstance(x, (list, tuple)):
        return [_tensors_to_lists(e) for e in x]
    return x


def _place(arr, dev):
    if dev.type == "cpu":
        return arr
    return _backend.to_device_array(arr, _backend.CPU, dev)


@public
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Copy ``data`` (nested lists, scalars, arrays, tensors) into a new tensor."""
    dt = None if dtype is None else to_dtype(dtype)
    dev = _backend.canonical(device) if device is not None else (
        data._device if isinstance(data, Tensor) else _backend.CPU)
    arr = _infer_array(data, dt)
    if dev.type == "cpu" and (arr is getattr(data, "_data", None) or isinstance(data, np.ndarray)
                              or arr.base is not None):
        arr = arr.copy()
    t = make(_place(np.ascontiguousarray(arr), dev), dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


@public
def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can."""
    dt = None if dtype is None else to_dtype(dtype)
    if isinstance(data, Tensor):
        out = data
        if dt is not None and dt is not data.dtype:
            out = out.to(dt)
        if device is not None and _backend.canonical(device) != data._device:
            out = out.to(device)
        return out
    dev = factory_device(device)
    if isinstance(data, np.ndarray) and dev.type == "cpu" and (dt is None or dt.np == data.dtype):
        from_numpy_dtype(data.dtype)
        return make(data, dev)
    arr = _infer_array(data, dt)
    return make(_place(arr, dev), dev)


asarray = public(lambda obj, *, dtype=None, device=None, copy=None, requires_grad=False:
                 (tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad) if copy
                  else as_tensor(obj, dtype=dtype, device=device).requires_grad_(requires_grad)
                  if requires_grad else as_tensor(obj, dtype=dtype, device=device)))
asarray.__name__ = "asarray"
PUBLIC["asarray"] = asarray


@public
def from_numpy(ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (writes show through both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    from_numpy_dtype(ndarray.dtype)
    if not ndarray.flags.writeable:
        import warnings
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support "
                      "non-writable tensors.", UserWarning, stacklevel=2)
    return make(ndarray, _backend.CPU)


def _factory(fill):
    def f(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
        shape = size_args(size)
        dev = factory_device(device)
        dt = factory_dtype(dtype, get_default_dtype())
        t = make(fill(dev.xp, shape, dt.np), dev)
        if requires_grad:
            t.requires_grad_(True)
        if out is not None:
            out._data = t._data
            return out
        return t
    return f


zeros = public(_factory(lambda xp, s, d: xp.zeros(s, dtype=d)))
zeros.__name__ = "zeros"
ones = _factory(lambda xp, s, d: xp.ones(s, dtype=d))
ones.__name__ = "ones"
empty = _factory(lambda xp, s, d: xp.empty(s, dtype=d))
empty.__name__ = "empty"
PUBLIC.update(zeros=zeros, ones=ones, empty=empty)


def _like(fill, name):
    def f(input, *, dtype=None, layout=None, device=None, requires_grad=False,
          memory_format=None):
        dev = input._device if device is None else _backend.canonical(device)
        dt = input.dtype if dtype is None else to_dtype(dtype)
        t = make(fill(dev.xp, input._data.shape, dt.np), dev)
        if requires_grad:
            t.requires_grad_(True)
        return t
    f.__name__ = name
    PUBLIC[name] = f
    return f


zeros_like = _like(lambda xp, s, d: xp.zeros(s, dtype=d), "zeros_like")
ones_like = _like(lambda xp, s, d: xp.ones(s, dtype=d), "ones_like")
empty_like = _like(lambda xp, s, d: xp.empty(s, dtype=d), "empty_like")


def _scalar_fill_dtype(v):
    if isinstance(v, bool):
        return bool_
    if isinstance(v, int):
        return int64
    if isinstance(v, complex):
        return get_default_dtype().to_complex()
    return get_default_dtype()


@public
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    shape = size_args((size,) if isinstance(size, (tuple, list)) else (size,))
    dev = factory_device(device)
    dt = _scalar_fill_dtype(fill_value) if dtype is None else to_dtype(dtype)
    t = make(dev.xp.full(shape, fill_value, dtype=dt.np), dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


@public
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    dev = input._device if device is None else _backend.canonical(device)
    dt = input.dtype if dtype is None else to_dtype(dtype)
    t = make(dev.xp.full(input._data.shape, fill_value, dtype=dt.np), dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def new_methods():
    """``t.new_zeros(...)`` & co: factories defaulting to ``t``'s dtype and device."""
    def mk(fn, name):
        def meth(self, *size, dtype=None, device=None, requires_grad=False, **kw):
            return fn(*size, dtype=self.dtype if dtype is None else dtype,
                      device=self._device if device is None else device, requires_grad=requires_grad)
        meth.__name__ = name
        setattr(Tensor, name, meth)
    mk(zeros, "new_zeros")
    mk(ones, "new_ones")
    mk(empty, "new_empty")

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **kw):
        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                    device=self._device if device is None else device, requires_grad=requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **kw):
        return tensor(data, dtype=self.dtype if dtype is None else dtype,
                      device=self._device if device is None else device, requires_grad=requires_grad)
    Tensor.new_full = new_full
    Tensor.new_tensor = new_tensor


new_methods()
