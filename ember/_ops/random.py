"""Random sampling: rand/randn/randint/randperm/normal/bernoulli/multinomial/poisson, the
``*_like`` variants and the in-place ``Tensor.uniform_``/``normal_``/... fills, plus ``fill_``
and ``zero_``.

Every op takes ``generator=`` (default: the device's default generator, see ``ember._random``).
Samples are not differentiable; ``normal`` with tensor mean/std records a node whose gradients
are zero, as torch's.  Same seed, same numbers, but not torch's numbers (different streams).
"""
from __future__ import annotations

import math

import numpy as np

from .._dtype import get_default_dtype, int64, to_dtype
from .._random import generator_for
from .._tensor import Tensor, make
from ._registry import _SHORT, apply, check_inplace_allowed, defop
from ._util import check_tensor, factory_device, no_pinned_memory, size_args
from .creation import into_out as _into

PUBLIC = {}


def _public(fn):
    PUBLIC[fn.__name__] = fn
    return fn


def _sampler(generator, dev):
    return generator_for(generator, dev).rng_for(dev)


def _float_dtype(dtype, kernel):
    dt = get_default_dtype() if dtype is None else to_dtype(dtype)
    if not dt.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_SHORT[dt.name]}\'')
    return dt


def _uniform(r, shape, npdt, low=0.0, high=1.0):
    gdt = npdt if npdt in (np.float32, np.float64) else np.float32
    u = r.random(shape, dtype=gdt)
    if low != 0.0 or high != 1.0:      # in place: a fresh temporary of a large draw costs its page faults
        u *= high - low
        u += low
    return u if u.dtype == npdt else u.astype(npdt)


def _normal(r, shape, npdt, mean=0.0, std=1.0):
    gdt = npdt if npdt in (np.float32, np.float64) else np.float32
    z = r.standard_normal(shape, dtype=gdt)
    if std != 1.0:                      # in place, as in _uniform
        z *= std
    if mean != 0.0:
        z += mean
    return z if z.dtype == npdt else z.astype(npdt)


def _new(arr, dev, requires_grad):
    t = make(arr, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


# ---- factories ------------------------------------------------------------------------------------
@_public
def rand(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    if pin_memory:
        no_pinned_memory()
    dt = _float_dtype(dtype, "check_uniform_bounds")
    dev = factory_device(device)
    size = args if size is None else (size,)
    return _into(out, _new(_uniform(_sampler(generator, dev), size_args(size), dt.np), dev,
                           requires_grad))


@_public
def randn(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False) -> Tensor:
    """Standard normal samples."""
    if pin_memory:
        no_pinned_memory()
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    dev = factory_device(device)
    size = args if size is None else (size,)
    return _into(out, _new(_normal(_sampler(generator, dev), size_args(size), dt.np), dev,
                           requires_grad))


def _check_range(low, high):
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")


def _integers(r, low, high, shape, npdt):
    return r.integers(low, high, size=shape, dtype=np.int64).astype(npdt, copy=False)


@_public
def randint(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if pin_memory:
        no_pinned_memory()
    if size is None:
        args, size = args[:-1], args[-1]
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("randint() received an invalid combination of arguments")
    low, high = int(low), int(high)
    _check_range(low, high)
    dt = int64 if dtype is None else to_dtype(dtype)
    dev = factory_device(device)
    arr = _integers(_sampler(generator, dev), low, high, size_args((size,)), dt.np)
    return _into(out, _new(arr, dev, requires_grad))


@_public
def randperm(n, *, generator=None, out=None, dtype=int64, layout=None, device=None,
             requires_grad=False, pin_memory=False) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    if pin_memory:
        no_pinned_memory()
    if isinstance(n, (bool, float, complex)) or not hasattr(n, "__index__"):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    n = n.__index__()
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = to_dtype(dtype)
    dev = factory_device(device)
    r = _sampler(generator, dev)
    arr = r.permutation(n) if dev.type == "cpu" else dev.xp.argsort(r.random(n))
    return _into(out, _new(arr.astype(dt.np, copy=False), dev, requires_grad))


def _like(input, dtype, device):
    dev = input._device if device is None else factory_device(device)
    return dev, (input.dtype if dtype is None else to_dtype(dtype))


@_public
def rand_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    check_tensor(input, "rand_like")
    dev, dt = _like(input, dtype, device)
    return rand(input.shape, generator=generator, dtype=dt, device=dev, requires_grad=requires_grad)


@_public
def randn_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    check_tensor(input, "randn_like")
    dev, dt = _like(input, dtype, device)
    return randn(input.shape, generator=generator, dtype=dt, device=dev, requires_grad=requires_grad)


@_public
def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:
    check_tensor(input, "randint_like")
    if high is None:
        low, high = 0, low
    dev, dt = _like(input, dtype, device)
    return randint(low, high, input.shape, generator=generator, dtype=dt, device=dev,
                   requires_grad=requires_grad)


# ---- normal ---------------------------------------------------------------------------------------
@defop("normal", nin=2, node_name="NormalBackward3")
def _normal_tt(ctx, mean, std, generator):
    if (std < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    xp = ctx.xp
    shape = xp.broadcast_shapes(mean.shape, std.shape)
    z = _normal(generator_for(generator, ctx.device).rng_for(ctx.device), shape, mean.dtype)
    return z * std + mean


@_normal_tt.backward
def _(ctx, g):
    zero = g * 0
    return zero, zero


@_public
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Normal samples: tensor mean and/or std (broadcast), or scalars with ``size``."""
    if pin_memory:
        no_pinned_memory()
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if mt or st:
        ref = mean if mt else std
        if not mt:
            mean = make(ref._device.xp.asarray(mean, dtype=ref._data.dtype), ref._device)
        if not st:
            if std < 0:
                raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
            std = make(ref._device.xp.asarray(std, dtype=ref._data.dtype), ref._device)
        return _into(out, apply(_normal_tt, (mean, std), (generator,)))
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments - got (float, float), "
                        "but expected a size")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    dev = factory_device(device)
    arr = _normal(_sampler(generator, dev), size_args((size,)), dt.np, float(mean), float(std))
    return _into(out, _new(arr, dev, requires_grad))


# ---- bernoulli, multinomial, poisson ---------------------------------------------------------------
def _check_p(p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")


@_public
def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples with success probability ``input`` (or the scalar ``p``), in input's dtype."""
    check_tensor(input, "bernoulli")
    dev = input._device
    r = _sampler(generator, dev)
    if p is None:
        probs = input._data
        if probs.size and ((probs < 0).any() or (probs > 1).any()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this "
                               "error message be improved?  If so, please report an enhancement request "
                               "to PyTorch.)")
    else:
        _check_p(p)
        probs = p
    u = r.random(input._data.shape, dtype=np.float64 if input._data.dtype == np.float64 else np.float32)
    return _into(out, make((u < probs).astype(input._data.dtype), dev))


@_public
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None) -> Tensor:
    """Indices drawn from the rows of ``input`` (non-negative weights), with or without replacement."""
    p = input._data
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if p.dtype.kind not in "fV":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_SHORT[input.dtype.name]}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n = p.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    dev = input._device
    xp = dev.xp
    p2 = p.reshape(-1, n).astype(np.float64)
    if not bool(xp.isfinite(p2).all()) or bool((p2 < 0).any()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    total = p2.sum(axis=1, keepdims=True)
    if bool((total <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    r = _sampler(generator, dev)
    rows = p2.shape[0]
    if replacement:
        cdf = xp.cumsum(p2 / total, axis=1)
        cdf[:, -1] = 1.0
        u = r.random((rows, num_samples))
        idx = xp.stack([xp.searchsorted(cdf[i], u[i], side="right") for i in range(rows)])
        idx = xp.minimum(idx, n - 1)
    else:                                   # exponential race: the k smallest E_i / p_i win
        keys = r.standard_exponential((rows, n)) / p2
        idx = xp.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    idx = idx.astype(np.int64, copy=False)
    return _into(out, make(idx.reshape(p.shape[:-1] + (num_samples,)), dev))


@_public
def poisson(input, generator=None) -> Tensor:
    """Poisson samples with rates ``input``, in input's dtype."""
    check_tensor(input, "poisson")
    dev = input._device
    lam = input._data
    if lam.size and (lam < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return make(_sampler(generator, dev).poisson(lam).astype(lam.dtype), dev)


Tensor.bernoulli = bernoulli
Tensor.multinomial = multinomial


# ---- in-place fills ---------------------------------------------------------------------------------
@defop("_fill_random", node_name="FillBackward0")
def _overwrite(ctx, x, values):
    return values if hasattr(values, "shape") else ctx.xp.asarray(values, dtype=x.dtype)


@_overwrite.backward
def _(ctx, g):
    return g * 0


def _write(self, values):
    """Overwrite ``self`` with ``values`` (an array or scalar) in place; no gradient flows back."""
    check_inplace_allowed(self)
    return apply(_overwrite, (self,), (values,), None, target=self)


def _float_self(self, kernel):
    if self._data.dtype.kind not in "fV" and self.dtype.name != "bfloat16":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_SHORT[self.dtype.name]}\'')


def _drawable_in_place(self) -> bool:
    """Whether NumPy's generator can draw straight into ``self``'s memory (a contiguous float32/64 cpu
    array that may be written): a large ``normal_``/``uniform_`` then touches no temporary."""
    a = self._data
    if type(a) is not np.ndarray or a.dtype.type not in (np.float32, np.float64) or not a.flags.c_contiguous:
        return False
    check_inplace_allowed(self)         # before the draw overwrites anything
    return True


def _scaled_in_place(self, scale, shift):
    a = self._data
    if scale != 1.0:
        a *= scale
    if shift != 0.0:
        a += shift
    return _write(self, a)              # the write as any in-place op records it (version, autograd)


def _r(self, generator):
    return _sampler(generator, self._device)


def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kw):
    """Fill with uniform samples on [from, to)."""
    from_ = kw.pop("from", from_)
    _float_self(self, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
    r = _r(self, generator)
    if _drawable_in_place(self):
        r.random(dtype=self._data.dtype, out=self._data)
        return _scaled_in_place(self, to - from_, from_)
    return _write(self, _uniform(r, self._data.shape, self._data.dtype, from_, to))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples."""
    _float_self(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    r = _r(self, generator)
    if _drawable_in_place(self):
        r.standard_normal(dtype=self._data.dtype, out=self._data)
        return _scaled_in_place(self, std, mean)
    return _write(self, _normal(r, self._data.shape, self._data.dtype, mean, std))


def _random_bound(dt):
    if dt.is_floating_point:
        return (1 << {"float16": 11, "bfloat16": 8, "float32": 24}.get(dt.name, 53)) + 1
    if dt.name == "bool":
        return 2
    return int(np.iinfo(dt.np).max) + 1


def random_(self, from_=0, to=None, *, generator=None, **kw):
    """Fill with integers uniform on [from, to) (``random_(to)``: [0, to); no bounds: dtype's range)."""
    from_ = kw.pop("from", from_)
    if to is None and from_ != 0:
        from_, to = 0, from_
    if to is None:
        to = _random_bound(self.dtype)
    _check_range(from_, to)
    return _write(self, _integers(_r(self, generator), from_, to, self._data.shape, self._data.dtype))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with exponential samples of rate ``lambd``."""
    if self._data.dtype.kind not in "fV" and self.dtype.name != "bfloat16":
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_SHORT[self.dtype.name]}")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    e = _r(self, generator).standard_exponential(self._data.shape)
    return _write(self, (e / lambd).astype(self._data.dtype))


def geometric_(self, p, *, generator=None):
    """Fill with geometric samples (trials until the first success, ``>= 1``)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _write(self, _r(self, generator).geometric(p, self._data.shape).astype(self._data.dtype))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with samples whose logarithm is normal(mean, std)."""
    _float_self(self, "log_normal_cpu")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    z = _r(self, generator).standard_normal(self._data.shape)
    return _write(self, self._device.xp.exp(z * std + mean).astype(self._data.dtype))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy samples."""
    _float_self(self, "cauchy_cpu")
    u = _r(self, generator).random(self._data.shape)
    return _write(self, (median + sigma * self._device.xp.tan(math.pi * (u - 0.5))).astype(self._data.dtype))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples of success probability ``p`` (float or broadcastable tensor)."""
    probs = p._data if isinstance(p, Tensor) else p
    if not isinstance(p, Tensor):
        _check_p(p)
    u = _r(self, generator).random(self._data.shape)
    return _write(self, (u < probs).astype(self._data.dtype))


def fill_(self, value):
    """Fill with ``value`` (a number or a 0-dim tensor)."""
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.dim()} dimensions.")
        value = value.item()
    return _write(self, value)


def zero_(self):
    """Fill with zeros."""
    return _write(self, 0)


for _f in (uniform_, normal_, random_, exponential_, geometric_, log_normal_, cauchy_, bernoulli_,
           fill_, zero_):
    setattr(Tensor, _f.__name__, _f)
