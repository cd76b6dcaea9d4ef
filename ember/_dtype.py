"""ember dtypes (``ember.float32`` ...) over NumPy dtypes, and PyTorch's type promotion."""
from __future__ import annotations

import builtins

import numpy as np


class dtype:
    """A tensor element type, printed and compared as ``torch.float32`` is."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed",
                 "_category", "_rank")

    def __init__(self, name, npdtype, category, rank):
        self.name = name
        self.np = np.dtype(npdtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = name not in ("uint8", "bool")
        self._category = category      # 0 bool, 1 integer, 2 floating, 3 complex
        self._rank = rank

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return self.name  # pickles as the module-level singleton

    def to_real(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float64": complex128, "float16": complex64, "bfloat16": complex64,
                "float32": complex64}.get(self.name, self)

    @property
    def is_signed_int(self):
        return self._category == 1 and self.is_signed


class _LazyNumpyDtype(dtype):
    """bfloat16, whose NumPy type is ml_dtypes': that package is imported on first use of ``.np``,
    not with ember (ml_dtypes 0.7 takes ~0.6 s to import, several times the rest of ``import ember``)."""

    __slots__ = ()

    def __init__(self, name, itemsize, category, rank):
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = True
        self._category = category
        self._rank = rank

    @property
    def np(self):
        return _bfloat16_np()


_BF16_NP = []


def _bfloat16_np():
    """NumPy's dtype for bfloat16 (ml_dtypes), imported and registered on first call."""
    if not _BF16_NP:
        import ml_dtypes
        npdt = np.dtype(ml_dtypes.bfloat16)
        _FROM_NP[npdt] = bfloat16
        _BF16_NP.append(npdt)
    return _BF16_NP[0]


bool_ = dtype("bool", np.bool_, 0, 0)
uint8 = dtype("uint8", np.uint8, 1, 1)
int8 = dtype("int8", np.int8, 1, 1)
int16 = dtype("int16", np.int16, 1, 2)
int32 = dtype("int32", np.int32, 1, 3)
int64 = dtype("int64", np.int64, 1, 4)
float16 = dtype("float16", np.float16, 2, 1)
bfloat16 = _LazyNumpyDtype("bfloat16", 2, 2, 1)
float32 = dtype("float32", np.float32, 2, 2)
float64 = dtype("float64", np.float64, 2, 3)
complex64 = dtype("complex64", np.complex64, 3, 2)
complex128 = dtype("complex128", np.complex128, 3, 3)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
       complex64, complex128)
# torch's aliases
ALIASES = {"bool": bool_, "half": float16, "float": float32, "double": float64, "short": int16,
           "int": int32, "long": int64, "cfloat": complex64, "cdouble": complex128}

_FROM_NP = {d.np: d for d in ALL if d is not bfloat16}       # bfloat16 joins when ml_dtypes loads


def from_numpy_dtype(npdt) -> dtype:
    """The ember dtype of a NumPy dtype; TypeError for types tensors cannot hold."""
    d = _FROM_NP.get(npdt)
    if d is None:
        npdt = np.dtype(npdt)
        if npdt.name == "bfloat16" and not _BF16_NP:       # an ml_dtypes array from outside ember
            _bfloat16_np()
        d = _FROM_NP.get(npdt)
        if d is None:
            raise TypeError(
                f"can't convert np.ndarray of type {np.dtype(npdt)}. The only supported types are: "
                "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.")
    return d


def to_dtype(d) -> dtype:
    """Accept an ember dtype, a NumPy dtype, a Python type (float/int/bool) or a name."""
    if isinstance(d, dtype):
        return d
    if d is builtins.float:
        return get_default_dtype()
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    if d is builtins.complex:
        return get_default_dtype().to_complex()
    if isinstance(d, str):
        name = d.removeprefix("torch.").removeprefix("ember.")
        if name in ALIASES:
            return ALIASES[name]
        for x in ALL:
            if x.name == name:
                return x
        raise TypeError(f"invalid dtype name {d!r}")
    try:
        return from_numpy_dtype(d)
    except TypeError:
        raise TypeError(f"dtype must be an ember dtype, got {type(d).__name__}") from None


_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d) -> None:
    d = to_dtype(d)
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError(
            f"only floating-point types are supported as the default type, got {d!r}")
    _default[0] = d


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a._category != b._category:
        hi, lo = (a, b) if a._category > b._category else (b, a)
        if hi._category == 3 and lo._category == 2 and lo._rank > hi._rank:
            return complex128
        return hi
    if a._category == 1:  # integers: uint8 mixes with signed → next signed that holds both
        if a is uint8 or b is uint8:
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a._rank > b._rank else b
    if a._rank == b._rank:  # float16 with bfloat16
        return float32 if a._category == 2 else a
    return a if a._rank > b._rank else b


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL for b in ALL}


def promote_types(a: dtype, b: dtype) -> dtype:
    """``torch.promote_types``: the smallest dtype both can be cast to."""
    return _PROMOTE[(to_dtype(a), to_dtype(b))]


def _combine_categories(higher, lower):
    """Combine the dtype from a higher-priority class of operands with a lower one (torch)."""
    if higher is None:
        return lower
    if lower is None or higher._category >= lower._category:
        return higher
    if higher._category == 2 and lower._category == 3:
        return higher.to_complex()
    if higher._category <= 1 and lower._category >= 2:
        return lower  # e.g. int tensor with a 0-dim float tensor / Python float
    return _PROMOTE[(higher, lower)]


def scalar_dtype(x) -> dtype:
    """The dtype a Python scalar stands for in promotion (a "wrapped number")."""
    if isinstance(x, builtins.bool):
        return bool_
    if isinstance(x, builtins.int):
        return int64
    if isinstance(x, builtins.float):
        return get_default_dtype()
    if isinstance(x, builtins.complex):
        return get_default_dtype().to_complex()
    raise TypeError(f"unsupported scalar type {type(x).__name__}")


def result_type_from(dim_dt, zero_dt, scalar_dt) -> dtype:
    """torch's result_type from the three priority classes (dim>0, 0-dim, Python scalars)."""
    return _combine_categories(dim_dt, _combine_categories(zero_dt, scalar_dt))


def can_cast(from_: dtype, to: dtype) -> bool:
    """``torch.can_cast``: false when a cast would lower the category (float→int, int→bool)."""
    return from_._category <= to._category


def finfo_np(d: dtype):
    if d is bfloat16:
        import ml_dtypes
        return ml_dtypes.finfo(d.np)
    return np.finfo(d.np)


globals()["bool"] = bool_  # ``ember.bool``; unpickles by name like the other dtypes


# torch's C++ scalar type names, as its error messages print them ("expected scalar type float")
C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
           "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
           "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
           "complex128": "c10::complex<double>"}
