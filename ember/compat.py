"""Run PyTorch code on ember: ``alias_torch()`` resolves ``torch``/``torchvision`` imports to ember.

Never active unless asked (``python -m ember run script.py`` or ``ember.compat.alias_torch()``).
A torch API ember lacks fails with "ember does not implement torch.X yet" instead of a
confusing error further on.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

_ROOTS = {"torch": "ember", "torchvision": "ember.vision"}


def _target(fullname):
    root, _, rest = fullname.partition(".")
    base = _ROOTS.get(root)
    if base is None:
        return None
    return base + ("." + rest if rest else "")


class _AliasModule(types.ModuleType):
    """``torch.<x>`` as seen by user code: ember's module, with torch-named error messages."""

    def __init__(self, alias, target):
        super().__init__(alias)
        object.__setattr__(self, "_ember_target", target)
        # submodules are left to __getattr__, which gives their torch-named aliases (the target's own
        # module-level __getattr__ is not copied: it would answer first, with ember's lazy submodules)
        self.__dict__.update({k: v for k, v in vars(target).items()
                              if k not in ("__name__", "__loader__", "__spec__", "__getattr__")
                              and not isinstance(v, types.ModuleType)})

    def __getattr__(self, name):
        target = object.__getattribute__(self, "_ember_target")
        try:
            value = getattr(target, name)
        except AttributeError:
            sub = f"{target.__name__}.{name}"
            try:
                value = importlib.import_module(sub)
            except ImportError:
                raise AttributeError(f"ember does not implement {self.__name__}.{name} yet") from None
        if isinstance(value, types.ModuleType) and value.__name__.startswith("ember"):
            return importlib.import_module(f"{self.__name__}.{name}")
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        tgt = _target(fullname)
        if tgt is None:
            return None
        try:
            importlib.import_module(tgt)
        except ImportError:
            raise ImportError(f"ember does not implement {fullname} yet", name=fullname) from None
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec):
        return _AliasModule(spec.name, sys.modules[_target(spec.name)])

    def exec_module(self, module):
        module.__path__ = []


_finder = _Finder()
_hidden: dict = {}   # real torch modules set aside while aliased, restored by unalias_torch


class _AliasedPreparation(dict):
    """The data a spawned (or forkserver) child reads before it imports ``__main__``: unpickling it
    aliases torch in the child first, so ``mp.spawn`` workers and spawn-context DataLoader workers of a
    script run by ``python -m ember run`` get ember too."""

    def __reduce__(self):
        return (_aliased_preparation, (dict(self),))


def _aliased_preparation(data):
    alias_torch()
    return data


def _preparation_data(name):
    return _AliasedPreparation(_original_preparation_data(name))


_original_preparation_data = None


def alias_torch() -> None:
    """Make ``import torch`` (and ``torchvision``) give ember, for this process and the processes it
    spawns."""
    global _original_preparation_data
    if _finder not in sys.meta_path:
        for name in [n for n in sys.modules if n.split(".")[0] in _ROOTS]:
            _hidden[name] = sys.modules.pop(name)
        sys.meta_path.insert(0, _finder)
        spawn = importlib.import_module("multiprocessing.spawn")
        _original_preparation_data = spawn.get_preparation_data
        spawn.get_preparation_data = _preparation_data


def unalias_torch() -> None:
    """Undo ``alias_torch`` (a real torch imported before is restored as it was)."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
        for name in [n for n in sys.modules if n.split(".")[0] in _ROOTS]:
            if isinstance(sys.modules[name], _AliasModule):
                del sys.modules[name]
        sys.modules.update(_hidden)
        _hidden.clear()
        sys.modules["multiprocessing.spawn"].get_preparation_data = _original_preparation_data
