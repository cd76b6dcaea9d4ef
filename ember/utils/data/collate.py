"""``default_collate`` (a list of samples -> one batch) and ``default_convert`` (one sample -> tensors).

Both recurse into dicts, namedtuples, tuples and lists. Leaves become tensors with torch's dtypes:
tensors are stacked, NumPy arrays and scalars keep their dtype, Python ``float`` -> float64,
``int`` -> int64, ``bool`` -> bool; strings and bytes stay a list.
"""
from __future__ import annotations

import collections.abc
import copy
import re
from typing import Callable

import numpy as np

from ..._dtype import float64
from ..._ops.creation import as_tensor, tensor
from ..._ops.shape import stack
from ..._tensor import Tensor

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

_STR_OR_OBJECT = re.compile("[SaUO]")   # NumPy dtype kinds that cannot become a tensor
_UNSUPPORTED = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_numpy(x) -> bool:
    return type(x).__module__ == "numpy" and not isinstance(x, (np.str_, np.bytes_))


def _rebuild(like, items: list):
    """``items`` in a container of ``like``'s type: a copy for mutable ones, else built from a list;
    a plain list when the type cannot be built that way."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            clone[:] = items
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _rebuild_mapping(like, items: dict):
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(items)
            return clone
        return type(like)(items)
    except TypeError:
        return items


def default_convert(data):
    """NumPy arrays/scalars inside ``data`` become tensors; everything else is kept (tuples -> lists).

    What ``DataLoader`` applies to each sample when ``batch_size=None`` (no batching).
    """
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and _STR_OR_OBJECT.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data


def collate(batch: list, *, collate_fn_map: dict | None = None):
    """Collate ``batch`` leaf types through ``collate_fn_map`` (type or tuple of types -> function
    ``fn(batch, *, collate_fn_map)``) and containers structurally; extend a copy of
    ``default_collate_fn_map`` to teach ``default_collate`` a new leaf type."""
    elem = batch[0]
    if collate_fn_map is not None:
        fn = collate_fn_map.get(type(elem))
        if fn is None:
            fn = next((f for t, f in collate_fn_map.items() if isinstance(elem, t)), None)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map)
                                       for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild(elem, columns)
    raise TypeError(_UNSUPPORTED.format(type(elem)))


def _collate_tensors(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def _collate_arrays(batch, *, collate_fn_map=None):
    if _STR_OR_OBJECT.search(batch[0].dtype.str):
        raise TypeError(_UNSUPPORTED.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalars(batch, *, collate_fn_map=None):
    return as_tensor(batch)


def _collate_floats(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=float64)


def _collate_ints(batch, *, collate_fn_map=None):
    return tensor(batch)


def _keep(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict[type | tuple, Callable] = {
    Tensor: _collate_tensors,
    np.ndarray: _collate_arrays,
    (np.bool_, np.number, np.object_): _collate_numpy_scalars,
    float: _collate_floats,
    int: _collate_ints,
    str: _keep,
    bytes: _keep,
}


def default_collate(batch: list):
    """Stack a list of samples into a batch, keeping the samples' structure (see module doc).

    ``[(x0, y0), (x1, y1)]`` -> ``[stack([x0, x1]), tensor([y0, y1])]``; a tuple sample gives a list,
    as in torch. Tensors of different shapes raise ``stack``'s error.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
