"""Matrix products and friends: matmul (``@``), mm/bmm/mv/dot, addmm & co, einsum, tensordot,
trace, tril/triu, diag, cross, kron, matrix_power.

``matmul`` calls the backend's ``matmul`` on the operands as they are (no copies, no casts);
its backward is a matmul with transposed operands (``_mmt``), so it stays on BLAS and
differentiates again.  ``einsum``'s backward is an einsum of the gradient with the other
operands; repeated subscripts (diagonals) are handled with identity operands.
"""
from __future__ import annotations

import string
import warnings
from collections import namedtuple

import numpy as np

from .._dtype import C_NAMES
from .._tensor import Tensor, make
from ._registry import _SHORT, apply, apply_binary, bind, defop, variant
from ._util import check_tensor, check_tensors, inplace_from
from .reduction import _vector_norm, return_type

PUBLIC = {}


def _bind(op, **kw):
    return bind(op, namespace=PUBLIC, **kw)


def _public(fn, method=True):
    PUBLIC[fn.__name__] = fn
    if method:
        setattr(Tensor, fn.__name__, fn)
    return fn


def _dt(a):
    return _SHORT[a.dtype.name] if a.dtype.name in _SHORT else str(a.dtype)


def _same_dtype(a, b):
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_cname(a)} != {_cname(b)}")


def _cname(a):
    return C_NAMES.get(a.dtype.name, a.dtype.name)


def _shape_x(s):
    return "x".join(map(str, s))


# ---- matmul ---------------------------------------------------------------------------------------
@defop("_mmt", nin=2)
def _mmt(ctx, a, b, ta=False, tb=False):
    """``op(a) @ op(b)`` where op transposes the last two dims when its flag is set."""
    ctx.ta, ctx.tb = ta, tb
    ctx.save_for_backward(a, b)
    xp = ctx.xp
    out = xp.matmul(xp.swapaxes(a, -1, -2) if ta else a, xp.swapaxes(b, -1, -2) if tb else b)
    return out if out.dtype == a.dtype else out.astype(a.dtype)    # ml_dtypes: bf16 @ bf16 -> f32


@_mmt.backward
def _(ctx, g):
    a, b = ctx.saved_tensors
    ta, tb = ctx.ta, ctx.tb
    n = ctx.needs_input_grad
    ga = gb = None
    if n[0]:
        ga = _mmt(b, g, tb, True) if ta else _mmt(g, b, False, not tb)
    if n[1]:
        gb = _mmt(g, a, True, ta) if tb else _mmt(a, g, not ta, False)
    return ga, gb


@defop("matmul", nin=2, node_name="MmBackward0")
def _matmul(ctx, a, b):
    """Matrix product with NumPy/torch rank rules: 1-D dot, vector-matrix, batched broadcasting."""
    if a.dtype != b.dtype:
        _same_dtype(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        _matmul_size_error(a, b)
    if b.ndim == 1 and a.ndim <= 2:
        ctx.__class__ = _Dot if a.ndim == 1 else _Mv
    ctx.save_for_backward(a, b)
    try:
        out = ctx.xp.matmul(a, b)
        return out if out.dtype == a.dtype else out.astype(a.dtype)    # ml_dtypes: bf16 @ bf16 -> f32
    except ValueError:
        raise RuntimeError(_batch_mismatch(a.shape[:-2], b.shape[:-2])) from None


def _matmul_size_error(a, b):
    """torch's message for mismatched inner sizes (batched operands folded as torch folds them)."""
    k, kb = a.shape[-1], (b.shape[-2] if b.ndim > 1 else b.shape[0])
    if a.ndim == 1 and b.ndim == 1:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{k}] and src [{kb}] to have the "
                           f"same number of elements, but got {k} and {kb} elements respectively")
    if b.ndim == 1:
        m = a.size // k
        raise RuntimeError(f"size mismatch, got input ({m}), mat ({m}x{k}), vec ({kb})")
    if b.ndim == 2:
        m = a.size // k if a.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({m}x{k} and {_shape_x(b.shape)})")
    msg = _batch_mismatch(a.shape[:-2], b.shape[:-2])
    if msg:
        raise RuntimeError(msg)
    batch = 1
    for n in _broadcast_batch(a.shape[:-2], b.shape[:-2]):
        batch *= n
    raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k}] "
                       f"but got: [{batch}, {kb}].")


def _broadcast_batch(sa, sb):
    n = max(len(sa), len(sb))
    sa = (1,) * (n - len(sa)) + tuple(sa)
    sb = (1,) * (n - len(sb)) + tuple(sb)
    return tuple(max(x, y) for x, y in zip(sa, sb))


def _batch_mismatch(sa, sb):
    """torch's broadcast error for batch dims that do not broadcast, else None."""
    n = max(len(sa), len(sb))
    sa = (1,) * (n - len(sa)) + tuple(sa)
    sb = (1,) * (n - len(sb)) + tuple(sb)
    for i, (x, y) in enumerate(zip(sa, sb)):
        if x != y and x != 1 and y != 1:
            return (f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                    f"non-singleton dimension {i}")
    return None


@_matmul.backward
def _(ctx, g):
    a, b = ctx.saved_tensors
    n = ctx.needs_input_grad
    da, db = a._data.ndim, b._data.ndim
    if da == 1 and db == 1:
        return (g * b if n[0] else None), (g * a if n[1] else None)
    ga = gb = None
    if da == 1:                                   # (k) @ (..., k, n) -> (..., n)
        g2 = g.reshape(g.shape[:-1] + (1, g.shape[-1]))
        if n[0]:
            ga = _mmt(g2, b, False, True)
            ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],))
        if n[1]:
            gb = _mmt(a.reshape(1, a.shape[0]), g2, True, False)
        return ga, gb
    if db == 1:                                   # (..., m, k) @ (k) -> (..., m)
        g2 = g.reshape(g.shape + (1,))
        if n[0]:
            ga = _mmt(g2, b.reshape(1, b.shape[0]), False, False)
        if n[1]:
            gb = _mmt(a, g2, True, False)
            gb = gb.reshape(gb.shape[:-1])
        return ga, gb
    return (_mmt(g, b, False, True) if n[0] else None), (_mmt(a, g, True, False) if n[1] else None)


_Dot = variant(_matmul, "DotBackward0")
_Mv = variant(_matmul, "MvBackward0")


def matmul(input, other):
    """``input @ other`` on the two-tensor fast path of the registry."""
    return apply_binary(_matmul, input, other)


def _rmatmul(self, other):
    return apply_binary(_matmul, other, self)


PUBLIC["matmul"] = Tensor.matmul = Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = _rmatmul


def _need_matrix(x, what):
    if x.dim() != 2:
        raise RuntimeError(f"{what} must be a matrix")


@_public
def mm(input, mat2):
    """Matrix product of two 2-D tensors (no broadcasting)."""
    check_tensor(input, "mm")
    check_tensor(mat2, "mm", "mat2", 2)
    _need_matrix(input, "self")
    _need_matrix(mat2, "mat2")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_x(input.shape)} and "
                           f"{_shape_x(mat2.shape)})")
    return matmul(input, mat2)


@_public
def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors with equal batch sizes."""
    if input.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, _, k = input.shape
    if tuple(mat2.shape[:2]) != (b, k):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] "
                           f"but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    return matmul(input, mat2)


@_public
def mv(input, vec):
    """Matrix-vector product."""
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec.dim()}, {input.dim()}, "
                           f"{vec.dim()}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({_shape_x(input.shape)}), vec ({vec.shape[0]})")
    return matmul(input, vec)


@_public
def dot(input, tensor):
    """Inner product of two 1-D tensors."""
    if input.dim() != 1 or tensor.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {tensor.dim()}D tensors")
    if input.dtype is not tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_dt(input)} and {_dt(tensor)}")
    return matmul(input, tensor)


def vdot(input, other):
    """``dot`` with the first argument conjugated (real tensors: same as ``dot``)."""
    return dot(input.conj() if input.is_complex() else input, other)


_public(vdot)


@_public
def inner(input, other):
    """Sum of products over the last dims (scalars multiply)."""
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    la = string.ascii_letters[:input.dim() - 1]
    lb = string.ascii_letters[26:26 + other.dim() - 1]
    return einsum(f"{la}z,{lb}z->{la}{lb}", input, other)


@_public
def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    if input.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"outer: expected 1D tensors, but got {input.dim()}D and {vec2.dim()}D")
    return input.reshape(input.shape[0], 1) * vec2.reshape(1, vec2.shape[0])


PUBLIC["ger"] = outer
Tensor.ger = outer


def _scaled_sum(input, prod, beta, alpha):
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod + input * 0 if input.shape != prod.shape else prod
    return (input if beta == 1 else input * beta) + prod


@_public
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


@_public
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


@_public
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


@_public
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    return _scaled_sum(input, einsum("bij,bjk->ik", batch1, batch2) if batch1.dim() == 3 and
                       batch2.dim() == 3 else bmm(batch1, batch2), beta, alpha)


@_public
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


for _fn in (addmm, addmv, baddbmm, addbmm, addr):
    def _inplace(self, *args, _fn=_fn, **kw):
        return inplace_from(self, lambda x: _fn(x, *args, **kw))
    _inplace.__name__ = _fn.__name__ + "_"
    setattr(Tensor, _inplace.__name__, _inplace)


# ---- einsum ---------------------------------------------------------------------------------------
def _parse_einsum(eq, shapes):
    """Equation with ellipses expanded to letters and an explicit output; checks sizes."""
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(shapes) > len(subs) else
                           "einsum(): fewer operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in used]
    nell = 0
    for s, shp in zip(subs, shapes):
        n = len(s.replace("...", ""))
        if "..." in s:
            nell = max(nell, len(shp) - n)
        elif n != len(shp):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does not "
                               f"match the number of dimensions ({len(shp)}) for operand "
                               f"{subs.index(s)} and no ellipsis was given")
    ell = "".join(free[:nell])
    out_subs = []
    for s, shp in zip(subs, shapes):
        if "..." in s:
            k = len(shp) - len(s.replace("...", ""))
            s = s.replace("...", ell[nell - k:] if k else "")
        out_subs.append(s)
    if arrow:
        rhs = rhs.replace("...", ell)
    else:
        counts = {}
        for s in out_subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    sizes = {}
    for i, (s, shp) in enumerate(zip(out_subs, shapes)):
        for c, n in zip(s, shp):
            m = sizes.get(c)
            if m is None or m == 1:
                sizes[c] = n
            elif n != m and n != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does "
                                   f"not broadcast with previously seen size {m}")
    return out_subs, rhs, sizes


@defop("einsum", nin=0)
def _einsum(ctx, *args):
    *arrays, subs, rhs = args
    ctx.subs, ctx.rhs = subs, rhs
    ctx.save_for_backward(*arrays)
    eq = ",".join(subs) + "->" + rhs
    xp = ctx.xp
    bf16 = arrays[0].dtype if arrays[0].dtype.kind == "V" else None
    if bf16 is not None:        # NumPy's einsum refuses bfloat16: compute in float32
        arrays = [a.astype(np.float32) for a in arrays]
    if len(arrays) == 1:
        out = xp.einsum(eq, arrays[0])
        out = out.copy() if xp.may_share_memory(out, arrays[0]) else out
    else:
        out = xp.einsum(eq, *arrays, optimize=len(arrays) > 2 or "greedy")
    return out if bf16 is None else out.astype(bf16)


@_einsum.backward
def _(ctx, g):
    ops = ctx.saved_tensors
    subs, rhs = ctx.subs, ctx.rhs
    used = set("".join(subs) + rhs)
    free = [c for c in string.ascii_letters if c not in used]
    grads = []
    for i, (need, s) in enumerate(zip(ctx.needs_input_grad, subs)):
        if not need:
            grads.append(None)
            continue
        x = ops[i]
        shape = x.shape
        in_subs = [rhs] + [t for j, t in enumerate(subs) if j != i]
        in_ops = [g] + [t for j, t in enumerate(ops) if j != i]
        target, seen = [], {}
        for c, n in zip(s, shape):
            if c in seen:                     # repeated subscript: a diagonal, via an identity
                d = free.pop()
                in_subs.append(c + d)
                in_ops.append(make(x._device.xp.eye(seen[c], n, dtype=x._data.dtype), x._device))
                target.append(d)
            else:
                seen[c] = n
                target.append(c)
        have = set("".join(in_subs))
        keep = [c for c in target if c in have]
        gi = _run_einsum(in_subs, "".join(keep), in_ops)
        if len(keep) != len(target):            # subscripts summed only within this operand
            gi = gi.reshape(tuple(n if c in have else 1 for c, n in zip(target, shape)))
            gi = gi.expand(tuple(shape))
        grads.append(gi)
    return tuple(grads)


def _run_einsum(subs, rhs, operands):
    return apply(_einsum, tuple(operands), (tuple(subs), rhs))


def einsum(equation, *operands):
    """Einstein summation over ``operands`` as described by ``equation``."""
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): argument 'operands' must be tuple of Tensors, but found "
                            f"element of type {type(t).__name__} at pos {i}")
    d0 = operands[0].dtype
    for t in operands[1:]:
        if t.dtype is not d0:
            raise RuntimeError(f"expected scalar type {_dt(operands[0])} but found {_dt(t)}")
    subs, rhs, _ = _parse_einsum(equation, [t.shape for t in operands])
    return _run_einsum(subs, rhs, operands)


PUBLIC["einsum"] = einsum


def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` trailing dims of ``a`` with leading dims of ``b`` (or given dim lists)."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(a.dim() - dims, a.dim()))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
    da = [d % a.dim() for d in da]
    db = [d % b.dim() for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x - a.dim() if x >= a.dim() - len(da) else x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.dim())]
    sb = [next(letters) for _ in range(b.dim())]
    for x, y in zip(da, db):
        sb[y] = sa[x]
    rhs = [c for i, c in enumerate(sa) if i not in da] + [c for i, c in enumerate(sb) if i not in db]
    return _run_einsum(("".join(sa), "".join(sb)), "".join(rhs), (a, b))


PUBLIC["tensordot"] = tensordot


@_public
def kron(input, other):
    """Kronecker product."""
    n = max(input.dim(), other.dim())
    sa = (1,) * (n - input.dim()) + tuple(input.shape)
    sb = (1,) * (n - other.dim()) + tuple(other.shape)
    a = input.reshape(tuple(x for s in sa for x in (s, 1)))
    b = other.reshape(tuple(x for s in sb for x in (1, s)))
    return (a * b).reshape(tuple(x * y for x, y in zip(sa, sb)))


# ---- trace, triangles, diagonals, cross ------------------------------------------------------------
@defop("trace")
def trace(ctx, x):
    """Sum of the main diagonal of a 2-D tensor."""
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    ctx.shape = x.shape
    return ctx.xp.trace(x, dtype=x.dtype if x.dtype.kind in "fV" else ctx.xp.int64)


@trace.backward
def _(ctx, g):
    return g * make(ctx.xp.eye(*ctx.shape, dtype=g._data.dtype), g._device)


@defop("tril")
def tril(ctx, x, diagonal=0):
    """Lower triangle of the last two dims (others zeroed)."""
    if x.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    ctx.k = diagonal
    return ctx.xp.tril(x, diagonal)


@tril.backward
def _(ctx, g):
    return tril(g, ctx.k)


@defop("triu")
def triu(ctx, x, diagonal=0):
    """Upper triangle of the last two dims (others zeroed)."""
    if x.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    ctx.k = diagonal
    return ctx.xp.triu(x, diagonal)


@triu.backward
def _(ctx, g):
    return triu(g, ctx.k)


_bind(trace)
_bind(tril, inplace=True)
_bind(triu, inplace=True)


def _diag_selectors(xp, m, n, k, dtype):
    """R (m x L), C (L x n) with ``R @ diag(v) @ C`` placing v on diagonal ``k`` of an m x n matrix."""
    r0, c0 = max(-k, 0), max(k, 0)
    L = max(min(m - r0, n - c0), 0)
    return xp.eye(m, L, -r0, dtype=dtype), xp.eye(L, n, c0, dtype=dtype)


@defop("diag")
def diag(ctx, x, diagonal=0):
    """1-D → 2-D matrix with ``x`` on a diagonal; 2-D → 1-D copy of a diagonal."""
    if x.ndim not in (1, 2):
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{x.ndim}D")
    ctx.k, ctx.shape = diagonal, x.shape
    out = ctx.xp.diag(x, diagonal)
    return out.copy() if x.ndim == 2 else out


@diag.backward
def _(ctx, g):
    if len(ctx.shape) == 1:
        return diag(g, ctx.k)
    r, c = _diag_selectors(ctx.xp, *ctx.shape, ctx.k, g._data.dtype)
    dev = g._device
    return einsum("il,l,lj->ij", make(r, dev), g, make(c, dev))


_bind(diag)


@_public
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Batched ``diag``: the last dim of ``input`` on a diagonal of two new dims ``dim1``, ``dim2``."""
    check_tensor(input, "diag_embed")
    n = input.shape[-1] + abs(offset)
    r, c = _diag_selectors(input._device.xp, n, n, offset, input._data.dtype)
    dev = input._device
    out = einsum("il,...l,lj->...ij", make(r, dev), input, make(c, dev))
    nd = out.dim()
    d1, d2 = dim1 % nd, dim2 % nd
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return out if (d1, d2) == (nd - 2, nd - 1) else out.movedim((nd - 2, nd - 1), (d1, d2))


@defop("cross", nin=2, promote="default")
def _cross(ctx, a, b, dim):
    ctx.dim = dim
    ctx.save_for_backward(a, b)
    return ctx.xp.cross(a, b, axis=dim)


@_cross.backward
def _(ctx, g):
    a, b = ctx.saved_tensors
    n = ctx.needs_input_grad
    return (_cross(b, g, ctx.dim) if n[0] else None), (_cross(g, a, ctx.dim) if n[1] else None)


def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3)."""
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = tuple(max(x, y) for x, y in zip(input.shape, other.shape))
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = dim % max(input.dim(), 1)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    return apply(_cross, (input, other), (d,))


_public(cross)


@_public
def matrix_power(input, n):
    """``input`` multiplied by itself ``n`` times (``n < 0``: powers of the inverse)."""
    if input.dim() < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{input.shape[-2] if input.dim() > 1 else input.shape[-1]} by "
                           f"{input.shape[-1]} matrices")
    if n == 0:
        eye = make(input._device.xp.eye(input.shape[-1], dtype=input._data.dtype), input._device)
        return input * 0 + eye
    if n < 0:
        input, n = inv(input), -n
    result, base = None, input
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


# ---- torch.linalg: decompositions, inverses, norms --------------------------------------------------
def _square(x, fname):
    if x.ndim < 2:
        raise RuntimeError(f"linalg.{fname}: The input tensor A must have at least 2 dimensions.")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"linalg.{fname}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")
    if x.dtype.kind not in "fcV":
        raise RuntimeError(f"linalg.{fname}: Expected a floating point or complex tensor as input. "
                           f"Got {_dt(x)}")


@defop("linalg_inv", node_name="LinalgInvExBackward0")
def inv(ctx, x):
    """Inverse of (batches of) square matrices."""
    _square(x, "inv")
    try:
        y = ctx.xp.linalg.inv(x)
    except ctx.xp.linalg.LinAlgError:
        raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could not be "
                           "completed because the input matrix is singular.") from None
    ctx.save_for_backward(y)
    return y


@inv.backward
def _(ctx, g):
    (y,) = ctx.saved_tensors
    return -_mmt(_mmt(y, g, True, False), y, False, True)


@defop("linalg_det", node_name="LinalgDetBackward0")
def det(ctx, x):
    """Determinant; its gradient is ``det * inv(A)^T`` (invertible inputs)."""
    _square(x, "det")
    y = ctx.xp.linalg.det(x)
    ctx.save_for_backward(x, y)
    return y


@det.backward
def _(ctx, g):
    x, y = ctx.saved_tensors
    s = (g * y).reshape(tuple(g.shape) + (1, 1))
    return s * inv(x).mT


@defop("linalg_slogdet", nondiff_outputs=(0,), node_name="LinalgSlogdetBackward0")
def _slogdet(ctx, x):
    _square(x, "slogdet")
    sign, logabs = ctx.xp.linalg.slogdet(x)
    ctx.save_for_backward(x)
    return sign, logabs


@_slogdet.backward
def _(ctx, gsign, glog):
    (x,) = ctx.saved_tensors
    return glog.reshape(tuple(glog.shape) + (1, 1)) * inv(x).mT


SlogdetResult = namedtuple("slogdet", "sign logabsdet")
SVDResult = namedtuple("svd", "U S Vh")
QRResult = namedtuple("qr", "Q R")
EighResult = namedtuple("eigh", "eigenvalues eigenvectors")


def slogdet(A):
    """Sign and log of the absolute value of the determinant."""
    return SlogdetResult(*_slogdet(A))


@defop("linalg_solve", nin=2, node_name="LinalgSolveExBackward0")
def _solve(ctx, a, b):
    _square(a, "solve")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {_dt(a)} and B of type {_dt(b)} instead")
    if b.shape[-2] != a.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({_shape_x(a.shape[-2:])} and {_shape_x(b.shape[-2:])})")
    try:
        x = ctx.xp.linalg.solve(a, b)
    except ctx.xp.linalg.LinAlgError:
        raise RuntimeError("torch.linalg.solve: The solver failed because the input matrix is "
                           "singular.") from None
    ctx.save_for_backward(a, x)
    return x


@_solve.backward
def _(ctx, g):
    a, x = ctx.saved_tensors
    gb = _solve(a.mT, g)
    ga = -_mmt(gb, x, False, True) if ctx.needs_input_grad[0] else None
    return ga, gb


def solve(A, B, *, left=True):
    """The solution ``X`` of ``A X = B`` (``B`` a vector or batch of matrices)."""
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        return _solve(A, B.reshape(tuple(B.shape) + (1,))).reshape(
            tuple(A.shape[:-2]) + (A.shape[-1],) if B.dim() > 1 else (A.shape[-1],))
    return _solve(A, B)


@defop("linalg_cholesky", node_name="LinalgCholeskyExBackward0")
def _cholesky(ctx, x):
    _square(x, "cholesky")
    try:
        L = ctx.xp.linalg.cholesky(x)
    except ctx.xp.linalg.LinAlgError:
        raise RuntimeError("linalg.cholesky: The factorization could not be completed because the "
                           "input is not positive-definite.") from None
    ctx.save_for_backward(L)
    return L


@_cholesky.backward
def _(ctx, g):
    (L,) = ctx.saved_tensors
    n = L.shape[-1]
    half = make(ctx.xp.eye(n, dtype=L._data.dtype) * 0.5, L._device)
    P = _mmt(L, g, True, False)
    P = tril(P) - P * half                       # lower triangle, diagonal halved
    Li = inv(L)
    S = _mmt(_mmt(Li, P, True, False), Li)
    return (S + S.mT) * 0.5


def cholesky(A, *, upper=False):
    """Lower (or upper) Cholesky factor of a symmetric positive-definite matrix."""
    L = _cholesky(A)
    return L.mT if upper else L


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x`` over ``dim`` (all elements by default), as a vector."""
    if dtype is not None:
        x = x.to(dtype)
    return _vector_norm(x, float(ord), dim, keepdim)


@defop("linalg_matrix_norm", differentiable=False)
def _matrix_norm_fwd(ctx, x, ord, dim, keepdim):
    return ctx.xp.linalg.norm(x, ord, axis=dim, keepdims=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Frobenius (differentiable), nuclear, 1/-1/inf/-inf/2/-2 matrix norms (the latter forward-only)."""
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim)
    dim = tuple(d % A.dim() for d in dim)
    return _matrix_norm_fwd(A, ord, dim, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``linalg.norm``: a vector norm for 1-D input or an int ``dim``, else a matrix norm."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if (dim is not None and len(dim) == 2) or (dim is None and A.dim() == 2):
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                           f"or 2D. Got {A.dim()}D.")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


@defop("linalg_qr", differentiable=False)
def _qr(ctx, x, mode):
    return tuple(ctx.xp.linalg.qr(x, mode=mode))


def qr(A, mode="reduced"):
    """QR decomposition (forward only: no gradient)."""
    return QRResult(*_qr(A, mode))


@defop("linalg_svd", differentiable=False)
def _svd(ctx, x, full_matrices):
    return tuple(ctx.xp.linalg.svd(x, full_matrices=full_matrices))


def svd(A, full_matrices=True):
    """Singular value decomposition ``U, S, Vh`` (forward only: no gradient)."""
    return SVDResult(*_svd(A, full_matrices))


@defop("linalg_svdvals", differentiable=False)
def svdvals(ctx, x):
    """Singular values, descending (forward only: no gradient)."""
    return ctx.xp.linalg.svd(x, compute_uv=False)


@defop("linalg_eigh", node_name="LinalgEighBackward0")
def _eigh(ctx, x, UPLO):
    _square(x, "eigh")
    w, v = ctx.xp.linalg.eigh(x, UPLO=UPLO)
    ctx.save_for_backward(w, v)
    ctx.set_materialize_grads(False)
    return w, v


@_eigh.backward
def _(ctx, gw, gv):
    # gA = V (diag(gw) + skew(V^T gV) / (w_j - w_i)) V^T, as torch (distinct eigenvalues)
    w, v = ctx.saved_tensors
    inner = None
    if gv is not None:
        n = w.shape[-1]
        eye = make(ctx.xp.eye(n, dtype=w._data.dtype), w._device)
        vtgv = _mmt(v, gv, True, False)
        skew = (vtgv - vtgv.mT) * 0.5
        gap = w.reshape(tuple(w.shape[:-1]) + (1, n)) - w.reshape(tuple(w.shape) + (1,))
        inner = skew / (gap + eye) * (1 - eye)
    if gw is not None:
        inner = diag_embed(gw) if inner is None else inner + diag_embed(gw)
    if inner is None:
        return None
    return _mmt(_mmt(v, inner), v, False, True)


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, with gradients."""
    return EighResult(*_eigh(A, UPLO))


def eigvalsh(A, UPLO="L"):
    """Eigenvalues (ascending) of a symmetric matrix, with gradients."""
    return _eigh(A, UPLO)[0]


def _rtol(x, atol, rtol):
    """torch's tolerances: ``rtol`` defaults to eps * max(m, n) unless ``atol`` is positive."""
    if rtol is None:
        rtol = 0.0 if atol not in (None, 0) else float(np.finfo(x.dtype).eps) * max(x.shape[-2:])
    return 0.0 if atol is None else atol, rtol


@defop("linalg_pinv", differentiable=False)
def _pinv(ctx, x, atol, rtol, hermitian):
    xp = ctx.xp
    u, s, vh = xp.linalg.svd(x, full_matrices=False)
    tol = xp.maximum(atol, rtol * s[..., :1]) if s.shape[-1] else atol
    sinv = xp.where(s > tol, 1 / xp.where(s > tol, s, 1), 0).astype(x.dtype)
    return xp.matmul(xp.swapaxes(vh, -1, -2) * sinv[..., None, :], xp.swapaxes(u, -1, -2))


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """Moore-Penrose pseudo-inverse (forward only: no gradient)."""
    atol, rtol = _rtol(A._data, atol, rtol)
    return _pinv(A, atol, rtol, hermitian)


@defop("linalg_matrix_rank", differentiable=False)
def _matrix_rank(ctx, x, atol, rtol, hermitian):
    xp = ctx.xp
    s = xp.linalg.svd(x, compute_uv=False)
    tol = xp.maximum(atol, rtol * s[..., :1]) if s.shape[-1] else atol
    return xp.sum(s > tol, axis=-1).astype(xp.int64)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """Number of singular values above ``max(atol, rtol * largest)``."""
    atol, rtol = _rtol(A._data, atol, rtol)
    return _matrix_rank(A, atol, rtol, hermitian)


def linalg_cross(input, other, *, dim=-1):
    """``linalg.cross``: cross product along ``dim`` (default the last)."""
    return cross(input, other, dim)


PUBLIC.update(det=det, inverse=inv, slogdet=slogdet)
bind(det, "det", function=False)
bind(inv, "inverse", function=False)
Tensor.slogdet = slogdet


# ---- torch.* forms of linalg functions, cdist, chain_matmul, matrix_exp -----------------------------
TorchSVDResult = return_type("svd", ("U", "S", "V"))
TriangularSolveResult = return_type("triangular_solve", ("solution", "cloned_coefficient"))


def _torch_svd(input, some=True, compute_uv=True):
    """``torch.svd``: ``U, S, V`` with ``input = U diag(S) V^H`` (reduced when ``some``)."""
    U, S, Vh = _svd(input, not some)
    if not compute_uv:
        m, n = input.shape[-2:]
        b = tuple(input.shape[:-2])
        return TorchSVDResult((input.new_zeros(b + (m, m)), S, input.new_zeros(b + (n, n))))
    return TorchSVDResult((U, S, Vh.mH))


def _torch_qr(input, some=True):
    """``torch.qr``: ``linalg.qr`` in 'reduced' (``some``) or 'complete' mode."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future "
                  "PyTorch release.", UserWarning, stacklevel=2)
    return QRResult(*_qr(input, "reduced" if some else "complete"))


def _torch_cholesky(input, upper=False):
    """``torch.cholesky``: the lower (or upper) Cholesky factor."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in "
                  "a future PyTorch release.", UserWarning, stacklevel=2)
    return cholesky(input, upper=upper)


def pinverse(input, rcond=1e-15):
    """Pseudo-inverse, dropping singular values below ``rcond`` times the largest."""
    check_tensor(input, "pinverse")
    return pinv(input, rtol=rcond)


def logdet(input):
    """Log-determinant: NaN for a negative determinant, -inf for a singular matrix."""
    sign, logabs = _slogdet(input)
    return logabs.masked_fill(sign < 0, float("nan"))


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """Solve ``A X = b`` for triangular ``A``: ``(solution, cloned_coefficient)``."""
    warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular and "
                  "will be removed in a future PyTorch release.", UserWarning, stacklevel=2)
    for name, t in (("b", b), ("A", A)):
        if t.ndim < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 dimensions, but "
                               f"it has {t.ndim} dimensions instead")
    if unitriangular:
        eye = make(A._device.xp.eye(A.shape[-1], dtype=A._data.dtype), A._device)
        M = (triu(A, 1) if upper else tril(A, -1)) + eye
    else:
        M = triu(A) if upper else tril(A)
    if transpose:
        M = M.mT
    batch = tuple(np.broadcast_shapes(tuple(b.shape[:-2]), tuple(A.shape[:-2])))
    return TriangularSolveResult((_solve(M, b), A.expand(batch + tuple(A.shape[-2:])).clone()))


def chain_matmul(*matrices):
    """The product of a chain of 2-D matrices (deprecated in torch for ``linalg.multi_dot``)."""
    check_tensors(matrices)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    out = matrices[0]
    if len(matrices) == 1:
        return out.clone()
    for m in matrices[1:]:
        out = mm(out, m)
    return out


def multi_dot(tensors):
    """``linalg.multi_dot``: the chained matrix product; the first/last tensor may be 1-D."""
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for i, t in enumerate(tensors):
        ok = t.ndim == 2 or (t.ndim == 1 and i in (0, n - 1))
        if not ok:
            which = "the first tensor" if i == 0 else "the last tensor" if i == n - 1 else f"tensor {i}"
            raise RuntimeError(f"multi_dot(): {which} must be "
                               f"{'1D or 2D' if i in (0, n - 1) else '2D'} but got {t.ndim}D")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_C_TYPE[tensors[0].dtype.name]} and tensor {i} {_C_TYPE[t.dtype.name]}")
    mats = list(tensors)
    first, last = mats[0].ndim == 1, mats[-1].ndim == 1
    if first:
        mats[0] = mats[0].unsqueeze(0)
    if last:
        mats[-1] = mats[-1].unsqueeze(-1)
    out = mats[0]
    for i, m in enumerate(mats[1:], 1):
        if out.shape[-1] != m.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i - 1} and {i} with shapes {_shape_list(tensors[i - 1])} "
                               f"and {_shape_list(tensors[i])} cannot be multiplied")
        out = mm(out, m)
    if first:
        out = out.squeeze(0)
    if last:
        out = out.squeeze(-1)
    return out


_C_TYPE = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
           "int64": "long int", "int32": "int", "complex64": "c10::complex<float>",
           "complex128": "c10::complex<double>"}


def _shape_list(t):
    return f"[{', '.join(map(str, t.shape))}]"


def matrix_exp(A):
    """Matrix exponential by scaling and squaring of a Taylor series (differentiable)."""
    check_tensor(A, "matrix_exp")
    _square(A._data, "matrix_exp")
    xp = A._device.xp
    a = A._data
    norm = float(xp.abs(a).sum(-2).max()) if a.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm))) + 1) if norm > 0.5 else 0
    X = A / (2 ** s) if s else A
    eye = make(xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape), A._device)
    out = term = eye
    for k in range(1, 19 if a.dtype.itemsize >= 8 else 11):
        term = matmul(term, X) / k
        out = out + term
    for _ in range(s):
        out = matmul(out, out)
    return out


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise ``p``-norm distances between the rows of ``x1`` and ``x2`` (batched)."""
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
        if t.dtype._category != 2:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_SHORT[t.dtype.name]}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: "
                           f"{x2.shape[-1]}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"expected scalar type {_SHORT[x1.dtype.name]} but found {_SHORT[x2.dtype.name]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return _vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), float(p), -1, False)


PUBLIC.update(svd=_torch_svd, qr=_torch_qr, cholesky=_torch_cholesky, pinverse=pinverse, logdet=logdet,
              triangular_solve=triangular_solve, chain_matmul=chain_matmul, matrix_exp=matrix_exp,
              cdist=cdist)
Tensor.svd, Tensor.qr, Tensor.cholesky = _torch_svd, _torch_qr, _torch_cholesky
for _fn in (pinverse, logdet, triangular_solve, matrix_exp):
    setattr(Tensor, _fn.__name__, _fn)
