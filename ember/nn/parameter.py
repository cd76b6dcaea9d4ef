"""``Parameter`` and ``Buffer``: tensors that a Module registers when assigned as attributes."""
from __future__ import annotations

from .._ops.creation import empty
from .._printing import tensor_repr
from .._tensor import Tensor, make
from ..serialization._load import register_parameter_class

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """A Tensor that is a module parameter; ``Parameter(data)`` shares ``data``'s storage."""

    _is_parameter = True

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = empty(0)
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


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


register_parameter_class(Parameter)
