"""Tensor ``repr`` exactly as PyTorch prints it, and ``set_printoptions``.

Elements are formatted from their exact values as Python numbers (as torch's ``tolist``), with one
shared width per tensor; floats switch to scientific notation when their magnitudes span more
than three decades or leave [1e-4, 1e8]; tensors above ``threshold`` elements are summarised with
``...`` keeping ``edgeitems`` at each end of every dimension.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from . import _dtype
from ._tensor import Tensor, _host

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES = {"default": _DEFAULTS,
             "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
             "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80}}
_OPTS = dict(_DEFAULTS, sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """Set how tensors print; ``profile`` is 'default', 'short' or 'full' (``torch.set_printoptions``).

    Like torch, ``sci_mode`` is reset to automatic (None) unless given.
    """
    if profile is not None and profile in _PROFILES:
        _OPTS.update(_PROFILES[profile])
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _OPTS[k] = v
    _OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    """The current print options, as keyword arguments for ``set_printoptions``."""
    return dict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options (arguments as ``set_printoptions``)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """One width and notation for every element of a (possibly summarised) array."""

    def __init__(self, arr):
        self.floating = arr.dtype.kind == "f" or arr.dtype.name == "bfloat16"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not self.floating:
            for v in arr.ravel().tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        a = arr.astype(np.float64).ravel()  # exact for every floating dtype
        vals = a[np.isfinite(a) & (a != 0)]
        if vals.size == 0:
            return
        mag = np.abs(vals)
        lo, hi = float(mag.min()), float(mag.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        sci = _OPTS["sci_mode"]
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if sci is None else sci
        p = _OPTS["precision"]
        vals = vals.tolist()
        if self.sci_mode:
            width = max(len(f"{v:.{p}e}") for v in vals)
        elif self.int_mode:
            width = max(len(f"{v:.0f}") for v in vals) + 1
        else:
            width = max(len(f"{v:.{p}f}") for v in vals)
        self.max_width = max(self.max_width, width)

    def format(self, v) -> str:
        if self.floating:
            p = _OPTS["precision"]
            if self.sci_mode:
                s = f"{v:{self.max_width}.{p}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if not (math.isinf(v) or math.isnan(v)):
                    s += "."
            else:
                s = f"{v:.{p}f}"
        else:
            s = str(v)
        return " " * (self.max_width - len(s)) + s


def _values(arr):
    """Python numbers with the array's exact values (floats via float64, as torch's tolist)."""
    if arr.dtype.kind == "f" or arr.dtype.name == "bfloat16":
        arr = arr.astype(np.float64)
    return arr.tolist()


class _Printer:
    """Nested-bracket text of an array, rows indented under their opening bracket."""

    def __init__(self, arr, summarize):
        self.edge = _OPTS["edgeitems"]
        self.linewidth = _OPTS["linewidth"]
        self.summarize = summarize
        self.complex = arr.dtype.kind == "c"
        shown = _summarized(arr, self.edge) if summarize else arr
        if self.complex:
            self.f1, self.f2 = _Formatter(shown.real), _Formatter(shown.imag)
        else:
            self.f1, self.f2 = _Formatter(shown), None

    def element(self, v) -> str:
        if self.f2 is None:
            return self.f1.format(v)
        real = self.f1.format(v.real)
        imag = (self.f2.format(v.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag

    def vector(self, arr, indent) -> str:
        width = self.f1.max_width + 2
        if self.f2 is not None:
            width += self.f2.max_width + 1
        per_line = max(1, math.floor((self.linewidth - indent) / width))
        if self.summarize and not self.edge:
            data = ["..."]
        elif self.summarize and arr.shape[0] > 2 * self.edge:
            data = ([self.element(v) for v in self._list(arr[:self.edge])] + [" ..."]
                    + [self.element(v) for v in self._list(arr[-self.edge:])])
        else:
            data = [self.element(v) for v in self._list(arr)]
        lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"

    def _list(self, arr):
        """Python numbers for ``arr``'s elements (one number for a 0-dim array)."""
        if not self.complex:
            return _values(arr)
        re, im = _values(arr.real), _values(arr.imag)
        return complex(re, im) if arr.ndim == 0 else [complex(r, i) for r, i in zip(re, im)]

    def format(self, arr, indent) -> str:
        nd = arr.ndim
        if nd == 0:
            return self.element(self._list(arr))
        if nd == 1:
            return self.vector(arr, indent)
        n, e = arr.shape[0], self.edge
        if self.summarize and n > 2 * e:
            rows = ([self.format(arr[i], indent + 1) for i in range(e)] + ["..."]
                    + [self.format(arr[i], indent + 1) for i in range(n - e, n)])
        else:
            rows = [self.format(arr[i], indent + 1) for i in range(n)]
        return "[" + ("," + "\n" * (nd - 1) + " " * (indent + 1)).join(rows) + "]"


def _summarized(arr, edge):
    """The elements a summarised print shows (torch's get_summarized_data, for the formatter)."""
    if arr.ndim == 0:
        return arr
    if arr.ndim == 1:
        # as torch: arr[-0:] is the whole array, so edgeitems=0 formats from every element
        return np.concatenate((arr[:edge], arr[-edge:])) if arr.shape[0] > 2 * edge else arr
    if not edge:
        return arr[(slice(0, 0),) * arr.ndim]
    n = arr.shape[0]
    idx = list(range(edge)) + list(range(n - edge, n)) if n > 2 * edge else range(n)
    return np.stack([_summarized(arr[i], edge) for i in idx])


def _body(arr, indent) -> str:
    if arr.size == 0:
        return "[]"
    summarize = arr.size > _OPTS["threshold"]
    return _Printer(arr, summarize).format(arr, indent)


def _add_suffixes(text, suffixes, indent) -> str:
    out = [text]
    last = len(text) - text.rfind("\n") + 1  # torch's measure, quirks included
    lw = _OPTS["linewidth"]
    for s in suffixes:
        if last + len(s) + 2 > lw:
            out.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            out.append(", " + s)
            last += len(s) + 2
    out.append(")")
    return "".join(out)


def tensor_repr(t, *, prefix=None, tensor_contents=None) -> str:
    """``repr(t)`` as torch prints it; ``prefix`` defaults to ``tensor(`` (class name for subclasses).

    ``Parameter`` prints as ``"Parameter containing:\\n" + tensor_repr(p, prefix="tensor(")``.
    """
    if prefix is None:
        prefix = "tensor(" if type(t) is Tensor else type(t).__name__ + "("
    indent = len(prefix)
    suffixes = []
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    dt = t.dtype
    default = _dtype.get_default_dtype()
    arr = _host(t)
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt!r}")
        text = "[]"
    else:
        if not _OPTS["edgeitems"]:
            suffixes.append(f"size={tuple(arr.shape)}")
        default_complex = _dtype.complex128 if default is _dtype.float64 else _dtype.complex64
        if dt not in (default, default_complex, _dtype.int64, _dtype.bool_):
            suffixes.append(f"dtype={dt!r}")
        text = _body(arr, indent)
    if tensor_contents is not None:
        text = tensor_contents
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + text, suffixes, indent)
