"""Type promotion and broadcasting as properties checked against torch (hypothesis).

Operands are dim>0 tensors, 0-dim tensors and Python scalars: the three priority classes of
torch's promotion (a 0-dim tensor or scalar only lifts the result's category, never its width).
"""
from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember

import torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64"]
SCALARS = {"bool": True, "int": 2, "float": 1.5}
PROPS = settings(max_examples=150, deadline=None, database=None)


def dname(dt) -> str:
    return str(dt).rsplit(".", 1)[-1]


def make(kind, name):
    """An (ember, torch) operand pair: kind 'tensor' (shape (3,)), '0-dim' or 'scalar'."""
    if kind == "scalar":
        return SCALARS[name], SCALARS[name]
    values = [True, True, True] if name == "bool" else [1, 2, 3]  # no zero divisors
    if kind == "0-dim":
        values = values[1]
    return (ember.tensor(values, dtype=getattr(ember, name)),
            torch.tensor(values, dtype=getattr(torch, name)))


tensor_operand = st.tuples(st.sampled_from(["tensor", "0-dim"]), st.sampled_from(DTYPES))
any_operand = st.one_of(tensor_operand, st.tuples(st.just("scalar"), st.sampled_from(list(SCALARS))))
# at least one tensor, in either position
operand_pairs = st.one_of(st.tuples(tensor_operand, any_operand), st.tuples(any_operand, tensor_operand))


def values(x):
    if isinstance(x, torch.Tensor):
        return x.to(torch.float64).numpy() if x.dtype.is_floating_point else x.numpy()
    return x.detach().numpy(force=True).astype(np.float64) if x.dtype.is_floating_point \
        else x.detach().numpy(force=True)


def assert_same_outcome(fn, ea, eb, ta, tb):
    """ember computes what torch computes (dtype, shape, values), or raises torch's error type."""
    try:
        rt = fn(ta, tb)
    except Exception as exc:  # torch's error is the spec
        with pytest.raises(type(exc)):
            fn(ea, eb)
        return
    re = fn(ea, eb)
    assert dname(re.dtype) == dname(rt.dtype)
    assert tuple(re.shape) == tuple(rt.shape)
    np.testing.assert_allclose(values(re), values(rt), rtol=1e-2, equal_nan=True)


def test_promote_types_table():
    names = DTYPES + ["complex64", "complex128"]
    for a in names:
        for b in names:
            got = ember.promote_types(getattr(ember, a), getattr(ember, b))
            assert dname(got) == dname(torch.promote_types(getattr(torch, a), getattr(torch, b))), (a, b)


def test_can_cast_table():
    names = DTYPES + ["complex64", "complex128"]
    for a in names:
        for b in names:
            got = ember.can_cast(getattr(ember, a), getattr(ember, b))
            assert got == torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


@PROPS
@given(st.sampled_from(DTYPES), st.sampled_from(DTYPES))
def test_promote_types(a, b):
    got = ember.promote_types(getattr(ember, a), getattr(ember, b))
    assert dname(got) == dname(torch.promote_types(getattr(torch, a), getattr(torch, b)))
    assert got is ember.promote_types(getattr(ember, b), getattr(ember, a))


@PROPS
@given(operand_pairs)
def test_result_type(pair):
    (ka, da), (kb, db) = pair
    ea, ta = make(ka, da)
    eb, tb = make(kb, db)
    assert dname(ember.result_type(ea, eb)) == dname(torch.result_type(ta, tb)), pair


ARITH = {"add": operator.add, "mul": operator.mul, "truediv": operator.truediv,
         "floordiv": operator.floordiv}


@PROPS
@given(operand_pairs, st.sampled_from(list(ARITH)))
def test_arithmetic_result_dtype(pair, op):
    (ka, da), (kb, db) = pair
    ea, ta = make(ka, da)
    eb, tb = make(kb, db)
    assert_same_outcome(ARITH[op], ea, eb, ta, tb)


def _all_operand_pairs():
    kinds = [(k, d) for k in ("tensor", "0-dim") for d in DTYPES] + [("scalar", s) for s in SCALARS]
    return [(a, b) for a in kinds for b in kinds if "scalar" not in (a[0], b[0]) or a[0] != b[0]]


def _mismatches(op):
    """Operand pairs where ember's outcome differs from torch's, as readable lines."""
    fn = ARITH[op]
    bad = []
    for pair in _all_operand_pairs():
        (ka, da), (kb, db) = pair
        ea, ta = make(ka, da)
        eb, tb = make(kb, db)
        try:
            assert_same_outcome(fn, ea, eb, ta, tb)
        except BaseException as exc:  # noqa: BLE001 - collected into one report
            bad.append(f"{ka} {da} , {kb} {db}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    return bad


def test_result_type_exhaustive():
    bad = []
    for (ka, da), (kb, db) in _all_operand_pairs():
        ea, ta = make(ka, da)
        eb, tb = make(kb, db)
        got, want = dname(ember.result_type(ea, eb)), dname(torch.result_type(ta, tb))
        if got != want:
            bad.append(f"{ka} {da} , {kb} {db}: {got} != {want}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("op", list(ARITH))
def test_arithmetic_exhaustive(op):
    bad = _mismatches(op)
    assert not bad, f"{len(bad)} mismatches:\n" + "\n".join(bad[:40])


COMPARE = {"lt": operator.lt, "le": operator.le, "eq": operator.eq, "ne": operator.ne,
           "gt": operator.gt, "ge": operator.ge}


@PROPS
@given(operand_pairs, st.sampled_from(list(COMPARE)))
def test_comparison_gives_bool(pair, op):
    (ka, da), (kb, db) = pair
    ea, ta = make(ka, da)
    eb, tb = make(kb, db)
    assert_same_outcome(COMPARE[op], ea, eb, ta, tb)
    assert COMPARE[op](ea, eb).dtype is ember.bool


@PROPS
@given(st.sampled_from(DTYPES), st.sampled_from(["int", "float", "bool"]))
def test_result_type_follows_default_dtype(name, scalar):
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        ea, ta = make("tensor", name)
        eb, tb = make("scalar", scalar)
        assert dname(ember.result_type(ea, eb)) == dname(torch.result_type(ta, tb))
        assert_same_outcome(operator.truediv, ea, eb, ta, tb)
    finally:
        torch.set_default_dtype(torch.float32)


# ---- broadcasting -----------------------------------------------------------------------------------
@st.composite
def broadcastable_shapes(draw):
    """Two shapes that broadcast: a common shape, leading dims dropped, some dims set to 1."""
    full = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))
    out = []
    for _ in range(2):
        keep = draw(st.integers(0, len(full)))
        shape = full[len(full) - keep:]
        ones = draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
        out.append(tuple(1 if o else s for s, o in zip(shape, ones)))
    return tuple(out)


@st.composite
def incompatible_shapes(draw):
    a, b = draw(broadcastable_shapes())
    n = min(len(a), len(b))
    if n == 0:
        a, b = a + (2,), b + (3,)
    else:
        i = draw(st.integers(1, n))
        sa = draw(st.integers(2, 4))
        sb = draw(st.integers(2, 4).filter(lambda s: s != sa))
        a = a[:len(a) - i] + (sa,) + a[len(a) - i + 1:]
        b = b[:len(b) - i] + (sb,) + b[len(b) - i + 1:]
    return a, b


@PROPS
@given(broadcastable_shapes(), st.sampled_from(["float32", "int64"]))
def test_broadcast_shape(shapes, name):
    sa, sb = shapes
    rng = np.random.default_rng(0)
    a = rng.integers(1, 5, sa).astype(name)
    b = rng.integers(1, 5, sb).astype(name)
    ea, eb = ember.from_numpy(a), ember.from_numpy(b)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    expected = np.broadcast_shapes(sa, sb)
    for fn in (operator.add, operator.mul, operator.truediv):
        r = fn(ea, eb)
        assert tuple(r.shape) == tuple(fn(ta, tb).shape) == expected
        np.testing.assert_allclose(values(r), values(fn(ta, tb)), rtol=1e-6)


@PROPS
@given(incompatible_shapes())
def test_broadcast_mismatch_raises(shapes):
    sa, sb = shapes
    with pytest.raises(ValueError):
        np.broadcast_shapes(sa, sb)
    with pytest.raises(RuntimeError):
        torch.ones(sa) + torch.ones(sb)
    ea, eb = ember.from_numpy(np.ones(sa, np.float32)), ember.from_numpy(np.ones(sb, np.float32))
    for fn in (operator.add, operator.mul, operator.sub):
        with pytest.raises(RuntimeError, match="must match the size"):
            fn(ea, eb)
