"""Tensor construction: ``tensor``, ``as_tensor``, ``from_numpy`` and the factories."""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _backend
from .._dtype import (ALL, _FROM_NP, bool_, float32, from_numpy_dtype, get_default_dtype, int64,
                      promote_types, to_dtype)
from .._tensor import Size, Tensor, make
from ._registry import _SHORT, defop
from ._util import check_tensor, check_tensors, factory_device, factory_dtype, no_pinned_memory, size_args

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
        except ValueError:
            _check_ragged(data, dtype)
            raise
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flatten(data)):
        data = _tensors_to_lists(data)
    try:
        arr = np.asarray(data)
    except ValueError:
        _check_ragged(data)
        raise
    k = arr.dtype.kind
    if k == "O" or arr.dtype == np.uint64:
        _refuse_elements(data)
    if k in "fiub" and isinstance(data, (list, tuple)):
        items = _flatten(data)
        if any(isinstance(v, np.generic) for v in items):
            return arr.astype(_element_dtype(items).np, copy=False)
    if k == "f":
        return arr.astype(get_default_dtype().np, copy=False)
    if k == "c":
        return arr.astype(get_default_dtype().to_complex().np, copy=False)
    if k in "iu":
        return arr.astype(np.int64, copy=False)
    if k == "b":
        return arr
    if k == "U" or k == "S":
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    return arr


def _check_ragged(data, dtype=None, dim=0):
    """torch's error for nested sequences of unequal lengths (NumPy's names no dimension)."""
    if not isinstance(data, (list, tuple)) or not data:
        return
    first = data[0]
    n = len(first) if isinstance(first, (list, tuple)) else None
    for e in data[1:]:
        m = len(e) if isinstance(e, (list, tuple)) else None
        if m != n:
            if m is None:
                raise TypeError("not a sequence")
            if n is None:       # a number, then a sequence: read as the number's type
                if (dtype._category >= 2) if dtype is not None else not isinstance(first, (bool, int)):
                    raise TypeError(f"must be real number, not {type(e).__name__}")
                raise TypeError(f"'{type(e).__name__}' object cannot be interpreted as an integer")
            raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {m})")
    for e in data:
        _check_ragged(e, dtype, dim + 1)


def _refuse_elements(data):
    """torch's errors for data NumPy could only hold as objects (or as uint64)."""
    for v in _flatten(data):
        if isinstance(v, int) and not -2 ** 63 <= v < 2 ** 63:
            raise ValueError("Overflow when unpacking long long")
        if isinstance(v, str):
            raise TypeError("too many dimensions 'str'")
        if not isinstance(v, (int, float, complex, np.generic)):
            raise RuntimeError(f"Could not infer dtype of {type(v).__name__}")


def _element_dtype(items):
    """torch's dtype for a list mixing NumPy scalars (their own dtype) and Python numbers."""
    dt = None
    for v in items:
        d = (from_numpy_dtype(v.dtype) if isinstance(v, np.generic) else bool_ if isinstance(v, bool)
             else int64 if isinstance(v, int) else get_default_dtype() if isinstance(v, float)
             else get_default_dtype().to_complex())
        dt = d if dt is None else promote_types(dt, d)
    return dt


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
    if pin_memory:
        no_pinned_memory()
    dt = None if dtype is None else to_dtype(dtype)
    dev = _backend.canonical(device) if device is not None else (
        data._device if isinstance(data, Tensor) else _backend._DEFAULT[0])
    arr = _infer_array(data, dt)
    if dev.type == "cpu" and (arr is getattr(data, "_data", None) or isinstance(data, np.ndarray)
                              or arr.base is not None):
        arr = arr.copy()
    t = make(_place(arr if arr.flags.c_contiguous else arr.copy(), dev), dev)
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
    if any(st < 0 for st in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with "
                         "negative strides are not currently supported. (You can probably work around "
                         "this by making a copy of your array  with array.copy().) ")
    if not ndarray.flags.writeable:
        import warnings
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support "
                      "non-writable tensors.", UserWarning, stacklevel=2)
    return make(ndarray, _backend.CPU)


def _factory(fill):
    def f(*args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
        if pin_memory:
            no_pinned_memory()
        shape = size_args(args if size is None else (size,))
        dev = factory_device(device)
        dt = factory_dtype(dtype, get_default_dtype())
        t = make(fill(dev.xp, shape, dt.np), dev)
        if requires_grad:
            t.requires_grad_(True)
        return into_out(out, t)
    return f


def into_out(out, t):
    """Honour a factory's ``out=``: ``out`` takes ``t``'s values (resized, in out's dtype), else ``t``."""
    if out is None:
        return t
    a = t._data
    out._data = a if a.dtype == out._data.dtype else a.astype(out._data.dtype)
    out._device = t._device
    out._version[0] += 1
    return out


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
        check_tensor(input, name)
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
    if pin_memory:
        no_pinned_memory()
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, (int, float, complex, np.generic)):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    shape = size_args((size,) if isinstance(size, (tuple, list)) else (size,))
    dev = factory_device(device)
    dt = _scalar_fill_dtype(fill_value) if dtype is None else to_dtype(dtype)
    t = make(dev.xp.full(shape, fill_value, dtype=dt.np), dev)
    if requires_grad:
        t.requires_grad_(True)
    return into_out(out, t)


@public
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    dev = input._device if device is None else _backend.canonical(device)
    dt = input.dtype if dtype is None else to_dtype(dtype)
    t = make(dev.xp.full(input._data.shape, fill_value, dtype=dt.np), dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def _is_float(*xs):
    return any(isinstance(x, float) or (isinstance(x, Tensor) and x.is_floating_point()) for x in xs)


def _new_factory(arr, dev, requires_grad, out):
    t = make(arr, dev)
    if requires_grad:
        t.requires_grad_(True)
    return into_out(out, t)


@public
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False) -> Tensor:
    """Values ``start, start + step, ...`` below ``end``; int64 unless an argument is a float."""
    if pin_memory:
        no_pinned_memory()
    if end is None:
        start, end = 0, start
    dt = (get_default_dtype() if _is_float(start, end, step) else int64) if dtype is None \
        else to_dtype(dtype)
    start, end, step = _num(start), _num(end), _num(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if all(isinstance(v, int) for v in (start, end, step)):
        n = max(-((start - end) // step), 0)
    else:
        n = max(math.ceil((float(end) - float(start)) / float(step)), 0)
    dev = factory_device(device)
    xp = dev.xp
    if dt.is_floating_point and not all(isinstance(v, int) for v in (start, end, step)):
        arr = (start + step * xp.arange(n, dtype=np.float64)).astype(dt.np)
    else:
        arr = xp.arange(start, start + n * step, step, dtype=np.int64)[:n].astype(dt.np, copy=False) \
            if dt.np.kind in "iub" or n == 0 else (start + step * xp.arange(n, dtype=np.float64)).astype(dt.np)
    return _new_factory(arr, dev, requires_grad, out)


@public
def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False) -> Tensor:
    """Deprecated: like ``arange`` but including ``end``, default dtype."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its "
                  "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
                  "which produces values in [start, end).", UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    start, end, step = _num(start), _num(end), _num(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dt = get_default_dtype() if dtype is None else to_dtype(dtype)
    n = int(math.floor((end - start) / step)) + 1
    dev = factory_device(device)
    arr = (start + step * dev.xp.arange(n, dtype=np.float64)).astype(dt.np)
    return _new_factory(arr, dev, requires_grad, out)


def _steps(steps):
    steps = _num(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return int(steps)


def _linspace(xp, start, end, steps, npdt):
    """torch's symmetric linspace: the first half counts up from start, the second down from end.

    Bounds and step are rounded to the output's type (integers: truncated bounds, float64 step),
    then each value is formed in float64 and rounded once (as torch's fused multiply-add does).
    """
    if npdt.kind in "iub":
        st, start, end = np.float64, int(start), int(end)
    else:
        st = npdt.type if npdt.itemsize >= 4 else np.float32
        start, end = float(st(start)), float(st(end))
    if steps == 1:
        return xp.full((1,), start, dtype=np.float64)
    idx = xp.arange(steps, dtype=np.float64)
    step = float(st((st(end) - st(start)) / st(steps - 1)))
    return xp.where(idx < steps // 2, start + step * idx, end - step * (steps - 1 - idx))


@public
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    steps = _steps(steps)
    start, end = _num(start), _num(end)
    dt = get_default_dtype() if dtype is None else to_dtype(dtype)
    dev = factory_device(device)
    arr = _linspace(dev.xp, start, end, steps, dt.np)
    return _new_factory(arr.astype(dt.np, copy=False), dev, requires_grad, out)


@public
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    steps = _steps(steps)
    start, end = _num(start), _num(end)
    dt = get_default_dtype() if dtype is None else to_dtype(dtype)
    dev = factory_device(device)
    xp = dev.xp
    arr = xp.power(float(base), _linspace(xp, start, end, steps, np.dtype(np.float64)))
    return _new_factory(arr.astype(dt.np), dev, requires_grad, out)


@public
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False) -> Tensor:
    """An ``n x m`` matrix with ones on the diagonal."""
    if pin_memory:
        no_pinned_memory()
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    dt = get_default_dtype() if dtype is None else to_dtype(dtype)
    dev = factory_device(device)
    return _new_factory(dev.xp.eye(n, n if m is None else m, dtype=dt.np), dev, requires_grad, out)


def _tri_indices(fn, row, col, offset, dtype, device):
    dev = factory_device(device)
    xp = dev.xp
    r, c = fn(row, offset, col)
    arr = xp.stack([xp.asarray(r), xp.asarray(c)]).astype(to_dtype(dtype).np)
    return make(arr.reshape(2, -1), dev)


@public
def tril_indices(row, col, offset=0, *, dtype=int64, device=None, layout=None) -> Tensor:
    """Coordinates (2 x N) of the lower triangle of a ``row x col`` matrix."""
    return _tri_indices(np.tril_indices, row, col, offset, dtype, device)


@public
def triu_indices(row, col, offset=0, *, dtype=int64, device=None, layout=None) -> Tensor:
    """Coordinates (2 x N) of the upper triangle of a ``row x col`` matrix."""
    return _tri_indices(np.triu_indices, row, col, offset, dtype, device)


@public
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors (``indexing`` 'ij', the default, or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    check_tensors(tensors)
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: "
                           f"{indexing}")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    ts = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    order = [1, 0] + list(builtins.range(2, len(ts))) if swap else list(builtins.range(len(ts)))
    shape = tuple(ts[i].shape[0] for i in order)
    out = []
    for i, t in enumerate(ts):
        pos = order.index(i)
        view = [1] * len(ts)
        view[pos] = t.shape[0]
        out.append(t.reshape(tuple(view)).expand(shape))
    return tuple(out)


@public
def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """A 0-dim tensor holding ``s`` (default dtype unless given)."""
    if pin_memory:
        no_pinned_memory()
    dt = get_default_dtype() if dtype is None else to_dtype(dtype)
    dev = factory_device(device)
    return _new_factory(dev.xp.asarray(_num(s), dtype=dt.np), dev, requires_grad, None)


@public
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """An uninitialised tensor of ``size`` with the given element ``stride``s."""
    if pin_memory:
        no_pinned_memory()
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    n = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    dt = get_default_dtype() if dtype is None else to_dtype(dtype)
    dev = factory_device(device)
    xp = dev.xp
    base = xp.zeros(max(n, 1), dtype=dt.np)
    arr = xp.lib.stride_tricks.as_strided(base, shape=size, strides=tuple(st * dt.itemsize for st in stride))
    return _new_factory(arr, dev, requires_grad, None)


def _legacy_new(cls, *args, device=None, dtype=None):
    """``Tensor(2, 3)`` is an uninitialised float tensor; ``Tensor([1, 2])`` copies data as float;
    ``Tensor(t)`` is an alias of ``t``."""
    if len(args) == 1 and isinstance(args[0], Tensor) and dtype is None and device is None:
        return args[0].view_as(args[0])          # torch: an alias of the tensor, whatever its dtype
    dt = get_default_dtype() if dtype is None else to_dtype(dtype)
    if len(args) == 1 and not isinstance(args[0], (int, Size)):
        return tensor(args[0], dtype=dt, device=device)
    shape = size_args(args) if args else (0,)
    dev = factory_device(device)
    return make(dev.xp.zeros(shape, dtype=dt.np), dev, cls=cls)


Tensor.__new__ = _legacy_new


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
    def new(self, *args, **kw):
        """Legacy ``t.new(...)``: ``t.new(2, 3)``/``t.new(size)`` an uninitialised tensor, ``t.new(data)``
        a copy of ``data``, ``t.new()`` an empty one; all in ``t``'s dtype and device."""
        dev = kw.pop("device", None) or self._device
        if not args:
            return empty(0, dtype=self.dtype, device=dev)
        if len(args) == 1 and not isinstance(args[0], Size) and not isinstance(args[0], int):
            data = args[0]
            if not isinstance(data, (list, tuple, Tensor, np.ndarray)):
                raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
            return tensor(data, dtype=self.dtype, device=dev)
        return empty(*args, dtype=self.dtype, device=dev)
    Tensor.new_full = new_full
    Tensor.new_tensor = new_tensor
    Tensor.new = new


new_methods()


# ---- vander, complex, polar ---------------------------------------------------------------------
@public
def vander(x, N=None, increasing=False) -> Tensor:
    """The Vandermonde matrix of 1-D ``x``: columns ``x ** (N-1), ..., x ** 0`` (or increasing)."""
    check_tensor(x, "vander", "x")
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dt = promote_types(x.dtype, int64)
    powers = arange(n - 1, -1, -1, dtype=dt, device=x._device) if not increasing else arange(n, dtype=dt, device=x._device)
    out = x.to(dt).unsqueeze(1) ** powers
    return out


_COMPLEX_FOR = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128}


@defop("complex", nin=2)
def _complex(ctx, re, im):
    out = ctx.xp.empty(ctx.xp.broadcast_shapes(re.shape, im.shape), dtype=_COMPLEX_FOR[re.dtype])
    out.real[...] = re
    out.imag[...] = im
    return out


@_complex.backward
def _(ctx, g):
    return g.real, g.imag


def _complex_check(ctx, inputs):
    re, im = inputs
    if re.dtype._category != 2 or im.dtype._category != 2:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_SHORT[re.dtype.name]} and {_SHORT[im.dtype.name]}")
    if re.dtype is not im.dtype:
        raise RuntimeError(f"Expected object of scalar type {_SHORT[re.dtype.name]} but got scalar type "
                           f"{_SHORT[im.dtype.name]} for second argument")
    if re._data.dtype not in _COMPLEX_FOR:
        raise TypeError(f"complex(): {re.dtype} inputs need complex32, which ember does not have")


_complex.check = _complex_check


def complex_tensor(real, imag) -> Tensor:
    """The complex tensor ``real + imag * 1j`` (float → complex64, double → complex128)."""
    for name, pos, t in (("real", 1, real), ("imag", 2, imag)):
        if not isinstance(t, Tensor):
            raise TypeError(f"complex(): argument '{name}' (position {pos}) must be Tensor, not {type(t).__name__}")
    return _complex(real, imag)


complex_tensor.__name__ = "complex"
PUBLIC["complex"] = complex_tensor


@public
def polar(abs, angle) -> Tensor:  # noqa: A002 - torch's names
    """The complex tensor with modulus ``abs`` and argument ``angle``."""
    if isinstance(abs, Tensor) and isinstance(angle, Tensor):
        _complex_check(None, (abs, angle))
    return _complex(abs * angle.cos(), abs * angle.sin())


# ---- legacy typed constructors: ``torch.FloatTensor`` & co -------------------------------------------
class _LegacyTensorType(type):
    """``torch.FloatTensor`` (``torch.cuda.FloatTensor``): a constructor of CPU (CUDA) tensors of one dtype,
    and an isinstance check."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj._device.type == cls.device_type

    def __call__(cls, *args, device=None):
        if cls.device_type == "cuda" and not _backend.cuda_available():
            raise TypeError(f"type {cls.__module__}.{cls.__name__} not available. Torch not compiled with CUDA "
                            "enabled.")
        if device is not None and factory_device(device).type != cls.device_type:
            raise RuntimeError(f"legacy constructor expects device type: {cls.device_type} but device type: "
                               f"{factory_device(device).type} was passed")
        if len(args) == 1 and isinstance(args[0], Tensor):
            t = args[0]
            if t.dtype is not cls.dtype:
                raise TypeError(f"expected {cls.dtype} (got {t.dtype})")
            return t
        return _legacy_new(Tensor, *args, dtype=cls.dtype, device=cls.device_type if device is None else device)

    def __repr__(cls):
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def legacy_tensor_types(device_type="cpu") -> dict:
    """The legacy typed constructors of one device type, by name (``FloatTensor``...)."""
    by_name = {d.name: d for d in ALL}
    return {cname: _LegacyTensorType(cname, (), {"dtype": by_name[dname], "device_type": device_type,
                                                 "__module__": "torch" if device_type == "cpu" else "torch.cuda"})
            for cname, dname in (("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("HalfTensor", "float16"),
                                 ("BFloat16Tensor", "bfloat16"), ("LongTensor", "int64"), ("IntTensor", "int32"),
                                 ("ShortTensor", "int16"), ("CharTensor", "int8"), ("ByteTensor", "uint8"),
                                 ("BoolTensor", "bool"))}


def _legacy_types():
    PUBLIC.update(legacy_tensor_types())


_legacy_types()
