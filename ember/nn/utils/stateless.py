"""Call a module with some of its parameters and buffers replaced by given tensors, leaving it unchanged.

The given tensors are put in the module's ``_parameters`` / ``_buffers`` (or as plain attributes) for
the call and the originals put back afterwards, so gradients flow to the given tensors.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any

from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["functional_call"]

_MISSING = object()


def _untie(module: Module, given: dict) -> dict:
    """``given``, plus every name tied (the same tensor) to a given name, mapped to that name's tensor."""
    names_of = {}
    for name, t in [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]:
        names_of.setdefault(id(t), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    out = dict(given)
    for name in given:
        if name not in tied:
            continue
        if len({id(given[n]) for n in tied[name] if n in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied[name])}, which are tied. "
                             "Consider using tie_weights=False")
        for other in tied[name]:
            out[other] = given[name]
    return out


def _owner(module: Module, name: str):
    """(submodule, attribute) that the dotted ``name`` refers to."""
    prefix, _, attr = name.rpartition(".")
    for part in prefix.split(".") if prefix else ():
        try:
            sub = getattr(module, part)
        except AttributeError as e:
            raise AttributeError(f"{module._get_name()} has no attribute `{part}`") from e
        if not isinstance(sub, Module):
            raise TypeError(f"submodule `{prefix}`: {sub} is not an instance of torch.nn.Module")
        module = sub
    if not attr:
        raise KeyError('tensor name must not be empty string ""')
    return module, attr


def _swap(module: Module, name: str, value):
    """Put ``value`` (or nothing, for ``_MISSING``) at ``name``; return what was there."""
    if value is not _MISSING and not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    module, attr = _owner(module, name)
    for slots in (module._parameters, module._buffers):
        if attr in slots:
            old = slots[attr]
            if value is _MISSING:
                del slots[attr]
            else:
                slots[attr] = value
            return old
    old = getattr(module, attr, _MISSING)
    if old is not _MISSING and not isinstance(old, Tensor):
        raise TypeError(f"attribute `{attr}`: {old} is not an instance of torch.Tensor")
    if value is not _MISSING:
        setattr(module, attr, value)
    elif old is not _MISSING:
        delattr(module, attr)
    return old


def _swap_all(module: Module, tensors: dict) -> dict:
    """Swap every entry of ``tensors`` in; on an error, swap back what was done and re-raise."""
    old = {}
    try:
        for name, value in tensors.items():
            old[name] = _swap(module, name, value)
    except Exception:
        for name, value in old.items():
            _swap(module, name, value)
        raise
    return old


@contextlib.contextmanager
def _reparametrize_module(module: Module, parameters_and_buffers: dict, tie_weights: bool = False,
                          strict: bool = False):
    """Within the block, ``module`` uses the given tensors in place of its own."""
    tensors = _untie(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        valid = {n for n, _ in [*module.named_parameters(remove_duplicate=False),
                                *module.named_buffers(remove_duplicate=False)]}
        msgs = []
        unexpected, missing = sorted(set(tensors) - valid), sorted(valid - set(tensors))
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(msgs))
    old = {}
    try:
        old = _swap_all(module, tensors)
        yield
    finally:
        now = _swap_all(module, old)
        # a forward that re-assigned a given name (not in place) hands the new tensor back to the caller
        parameters_and_buffers.update({k: now[k] for k in parameters_and_buffers
                                       if k in now and now[k] is not _MISSING})


def _functional_call(module: Module, parameters_and_buffers: dict, args: Any = None, kwargs: dict | None = None,
                     *, tie_weights: bool = True, strict: bool = False):
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **(kwargs or {}))


def functional_call(module: Module, parameters_and_buffers: dict, args: Any = None, kwargs: dict | None = None,
                    *, tie_weights: bool = True, strict: bool = False):
    """Deprecated spelling of ``torch.func.functional_call`` (one dict only)."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed "
                  "in a future version of PyTorch. Please use `torch.func.functional_call` instead which is a "
                  "drop-in replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
