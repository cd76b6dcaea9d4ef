"""Tensor: a backend array plus device and autograd fields.

Operators and methods that compute (``+``, ``exp``, ``sum``...) are bound onto Tensor by
``ember._ops`` from each op's single definition; this module holds the data model only.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np

from . import _backend
from ._dtype import _FROM_NP, from_numpy_dtype, get_default_dtype


class Size(tuple):
    """``torch.Size``: a tuple of dimension lengths."""

    __slots__ = ()

    def __repr__(self):
        return f"torch.Size([{', '.join(str(int(s)) for s in self)}])"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __reduce__(self):
        return (Size, (tuple(self),))


class Tensor:
    """A multi-dimensional array with autograd, device and dtype, as ``torch.Tensor``."""

    __module__ = "ember"    # public name ``ember.Tensor`` (as torch's is ``torch.Tensor``), e.g. in type(t)
    __slots__ = ("_data", "_device", "_version", "__weakref__", "__dict__")
    # rarely-set autograd fields live in the instance dict only once set (cheap construction)
    _requires_grad = False
    grad_fn = None
    _grad = None
    _base = None
    _output_nr = 0
    _retains_grad = False
    _hooks = None
    _leaf_edge = None      # (AccumulateGrad, 0) once a leaf requiring grad enters a graph
    _is_view = False
    _view_version = 0       # the storage version a view's grad_fn was recorded at
    __array_ufunc__ = None   # make NumPy defer to Tensor's reflected operators
    __array_priority__ = 1000

    # ---- basic properties ------------------------------------------------------------
    @property
    def dtype(self):
        return _FROM_NP[self._data.dtype]

    @property
    def device(self):
        return self._device

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        if self._data.size == 0:
            st = _contiguous_strides(self._data.shape)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self) -> int:
        base = _root_array(self._data)
        return (_address(self._data) - _address(base)) // self._data.itemsize

    def data_ptr(self) -> int:
        return _address(self._data)

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    def get_device(self) -> int:
        """The cuda device index, or -1 on cpu."""
        return -1 if self._device.type == "cpu" else (self._device.index or 0)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version_value(self) -> int:
        return self._version[0]

    # ---- autograd fields -------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.grad_fn is not None and not flag:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if flag and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            import warnings
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.dtype is not self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type ({value.dtype} vs {self.dtype})")
            if value._device != self._device:
                raise RuntimeError("assigned grad has data located on a different device")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor of "
                    f"size '{list(self._data.shape)}'. Please ensure that the gradient and the tensor "
                    "are the same size")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self) -> "Tensor":
        """This tensor's storage without its autograd history (writes are not tracked)."""
        t = make(self._data, self._device)
        t._is_view = True
        return t

    @data.setter
    def data(self, value: "Tensor"):
        self._data = value._data
        self._device = value._device

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    # ---- conversion to Python / NumPy ------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if force:
            return _backend.to_device_array(self._data, self._device, _backend.CPU) \
                if self._device.type != "cpu" else self._data
        if self._device.type != "cpu":
            raise TypeError(f"can't convert {self._device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        a = self.numpy(force=True)
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return _host(self).reshape(()).item()

    def tolist(self):
        return _host(self).tolist()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self):
        if self._requires_grad and not _WARNED_FLOAT_OF_GRAD:
            _warn_float_of_grad()
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __complex__(self):
        return complex(self.item())

    def __index__(self):
        if self._data.size != 1 or self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __repr__(self, *, tensor_contents=None):
        from ._printing import tensor_repr
        return tensor_repr(self, tensor_contents=tensor_contents)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (_host(self).copy(), str(self._device), self._requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment.")
        memo[id(self)] = t = make(self._data.copy(), self._device, self._requires_grad, type(self))
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        for k, v in self.__dict__.items():
            if k not in _AUTOGRAD_STATE:
                t.__dict__[k] = copy.deepcopy(v, memo)
        return t


# per-instance autograd fields a deepcopy rebuilds rather than copies
_AUTOGRAD_STATE = frozenset(("_requires_grad", "grad_fn", "_grad", "_base", "_output_nr", "_retains_grad",
                             "_hooks", "_leaf_edge", "_is_view", "_view_version"))


def _rebuild(arr, device, requires_grad):
    dev = _backend.Device(device)
    return make(_backend.to_device_array(arr, _backend.CPU, dev), dev, requires_grad)


_WARNED_FLOAT_OF_GRAD = False
WARN_ALWAYS = [False]       # torch.set_warn_always: the warnings below then come at every call
_WARNED = set()             # the keys warn_once has warned under


def warn_once(key, message, category=UserWarning, stacklevel=2):
    """torch's ``TORCH_WARN_ONCE``: warn the first time ``key`` (one per warning site) is met in the
    process, or every time under ``set_warn_always(True)``."""
    if key in _WARNED and not WARN_ALWAYS[0]:
        return
    _WARNED.add(key)
    warnings.warn(message, category, stacklevel=stacklevel + 1)


def _warn_float_of_grad():
    """torch warns once per process when ``float()`` drops a tensor's autograd history."""
    global _WARNED_FLOAT_OF_GRAD
    _WARNED_FLOAT_OF_GRAD = not WARN_ALWAYS[0]
    warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                  "Consider using tensor.detach() first.", UserWarning, stacklevel=3)


def make(data, device, requires_grad=False, cls=Tensor):
    """Wrap a backend array as a Tensor without copying (the hot path of every op)."""
    t = _new(cls)
    t._data = data
    t._device = device
    t._version = [0]
    if requires_grad:
        t._requires_grad = True
    return t


_new = object.__new__


def tensors_in(obj):
    """Every Tensor inside ``obj`` (nested tuples, lists and dict values), in order."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from tensors_in(o)


def _host(t: Tensor):
    d = t._data
    return d if t._device.type == "cpu" else _backend.to_device_array(d, t._device, _backend.CPU)


def _root_array(a):
    while getattr(a, "base", None) is not None and hasattr(a.base, "__array_interface__"):
        a = a.base
    return a


def _address(a) -> int:
    if hasattr(a, "__array_interface__"):
        return a.__array_interface__["data"][0]
    return int(a.data.ptr)


def _contiguous_strides(shape):
    st, acc = [], 1
    for s in reversed(shape):
        st.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(st))


def _wrap_dim(dim, ndim):
    """Normalise a possibly negative dim; IndexError naming the valid range, as torch."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


wrap_dim = _wrap_dim


def _detach(self) -> Tensor:
    """A tensor sharing storage (and version counter) with ``self``, without history."""
    t = make(self._data, self._device)
    t._version = self._version
    t._is_view = True
    return t


def _detach_(self) -> Tensor:
    if self._base is not None and self._base._requires_grad:
        raise RuntimeError("Can't detach views in-place. Use detach() instead.")
    self.grad_fn = None
    self._requires_grad = False
    return self


Tensor.detach = _detach
Tensor.detach_ = _detach_
