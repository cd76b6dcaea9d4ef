"""``Parameter`` and ``Buffer``: tensors that a Module registers when assigned as attributes."""
from __future__ import annotations

from .._ops.creation import empty
from .._printing import tensor_repr
from .._tensor import Tensor, make
from ..serialization._load import register_parameter_class

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


class Parameter(Tensor):
    """A Tensor that is a module parameter; ``Parameter(data)`` shares ``data``'s storage."""

    _is_parameter = True

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = empty(0)
        if requires_grad and not (data.dtype.is_floating_point or data.dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t = make(data._data, data._device, False, cls)
        t._version = data._version
        t.requires_grad = requires_grad
        return t

    def __repr__(self):
        return "Parameter containing:\n" + tensor_repr(self, prefix="tensor(")

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(make(self._data.copy(), self._device), self._requires_grad)
        if self._grad is not None:
            result._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))


class _BufferMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """A Tensor marked as module state (``nn.Buffer(t, persistent=True)``): assigning it registers a buffer."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


class UninitializedTensorMixin:
    """A placeholder of a lazy module whose shape is not known yet: it keeps a dtype and a device (so that
    ``module.to(...)`` before the first forward applies) until ``materialize(shape)`` gives it storage and
    turns it into ``cls_to_become``."""

    cls_to_become: type

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocate uninitialised storage of ``shape`` and become a regular Parameter/Tensor in place."""
        self.data = empty(tuple(shape) if isinstance(shape, (tuple, list)) else (shape,),
                          device=self.device if device is None else device,
                          dtype=self.dtype if dtype is None else dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}>"

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


def is_lazy(param) -> bool:
    """Whether ``param`` is an uninitialised parameter or buffer of a lazy module."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter of a lazy module before its first forward; becomes a Parameter."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer of a lazy module before its first forward; becomes a Tensor."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None, persistent: bool = True):
        e = empty(0, device=device, dtype=dtype)
        t = make(e._data, e._device, requires_grad, cls)
        t.persistent = persistent
        return t


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


register_parameter_class(Parameter)
