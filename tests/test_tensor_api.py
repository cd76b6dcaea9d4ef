"""The Tensor API against torch: construction and dtype inference, memory sharing, Python
protocols, every operator (plain, reflected, in-place), conversions, defaults, DLPack, errors."""
from __future__ import annotations

import operator
import warnings

import ml_dtypes
import numpy as np
import pytest

import ember
from tests.conftest import stable_id

import torch

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]


def dname(dt) -> str:
    return str(dt).rsplit(".", 1)[-1]


def as_np(x):
    """Values of an ember or torch tensor (or a Python value) as a NumPy array, floats widened."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        x = x.float() if x.dtype == torch.bfloat16 else x
        a = x.numpy()
    elif isinstance(x, ember.Tensor):
        a = x.detach().numpy(force=True)
    else:
        a = np.asarray(x)
    return a.astype(np.float64) if a.dtype.kind == "f" or a.dtype == ml_dtypes.bfloat16 else a


def check(e, t, rtol=None):
    """Same type of result, dtype, shape and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert dname(e.dtype) == dname(t.dtype)
        assert tuple(e.shape) == tuple(t.shape)
        if rtol is None:
            rtol = 1e-2 if t.dtype in (torch.float16, torch.bfloat16) else 1e-6
        np.testing.assert_allclose(as_np(e), as_np(t), rtol=rtol, atol=0, equal_nan=True)
    else:
        assert type(e) is type(t), (e, t)
        assert e == t or (e != e and t != t)


def pair(values, dtype, requires_grad=False):
    a = np.asarray(values)
    if dtype == "bfloat16":
        e = ember.from_numpy(a.astype(ml_dtypes.bfloat16))
        t = torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
    else:
        e = ember.from_numpy(a.astype(dtype))
        t = torch.from_numpy(a.astype(dtype))
    if requires_grad:
        e.requires_grad_(True)
        t.requires_grad_(True)
    return e, t


def both(fn_e, fn_t):
    """Run the same call in ember and torch: equal results, or the same exception type."""
    try:
        rt = fn_t()
    except Exception as exc:  # torch's error is the spec
        with pytest.raises(type(exc)):
            fn_e()
        return None, None
    re = fn_e()
    return re, rt


# ---- construction and dtype inference --------------------------------------------------------------
DATA = [
    1, 2.5, True, 1 + 2j, [1, 2], [1.0, 2], [1, 2.5], [True, False], [True, 2], [True, 2.5],
    [[1, 2], [3, 4]], [[1.5], [2.5]], [], [[]], [[], []], [1 + 1j, 2],
    np.array([1.5, 2.5]), np.array([1.5, 2.5], dtype=np.float32), np.array([1, 2], dtype=np.int32),
    np.array([True]), np.array(3.0), np.array([1, 2], dtype=np.uint8),
    np.float64(1.5), np.float32(2.5), np.int32(3), np.int64(4), np.bool_(True), np.float16(1.5),
    [np.float64(1.0), 2],
    [np.float32(1.0), 2.0],
    [[np.int32(1)], [np.int32(2)]],
]


@pytest.mark.parametrize("data", DATA, ids=stable_id)
def test_tensor_dtype_inference(data):
    check(*both(lambda: ember.tensor(data), lambda: torch.tensor(data)))


@pytest.mark.parametrize("data", [1.5, [1, 2.5], [1 + 1j], np.array([1.5], dtype=np.float32), 3],
                         ids=stable_id)
def test_tensor_dtype_inference_follows_default_dtype(data):
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        check(ember.tensor(data), torch.tensor(data))
    finally:
        torch.set_default_dtype(torch.float32)


def test_tensor_from_tensors():
    check(ember.tensor([ember.tensor(1.0), ember.tensor(2.0)]),
          torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]))
    e = ember.tensor([1.0, 2.0])
    c = ember.tensor(e)
    assert c.data_ptr() != e.data_ptr()
    check(c, torch.tensor([1.0, 2.0]))


@pytest.mark.parametrize("name", [n for n in NAMES if n != "bfloat16"])
def test_tensor_explicit_dtype(name):
    check(ember.tensor([0, 1, 2], dtype=getattr(ember, name)),
          torch.tensor([0, 1, 2], dtype=getattr(torch, name)))


def test_tensor_copies_numpy():
    a = np.arange(3.0)
    t = ember.tensor(a)
    a[0] = 7
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_tensor_requires_grad_and_device(standin_cuda):
    t = ember.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    c = ember.tensor([1, 2], device="cuda")
    assert c.device == ember.device("cuda:0") and c.is_cuda


@pytest.mark.parametrize("data", [
    "abc", [1, "a"], [[1, 2], [3]],
    [2 ** 63],
    object(),
], ids=stable_id)
def test_tensor_bad_data(data):
    both(lambda: ember.tensor(data), lambda: torch.tensor(data))


def test_tensor_int_requires_grad_errors():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2], requires_grad=True)


# ---- memory sharing with NumPy --------------------------------------------------------------------
def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6.0).reshape(2, 3)
    t = ember.from_numpy(a)
    assert t.dtype is ember.float64 and t.shape == (2, 3)
    a[0, 0] = 100.0
    assert t.tolist()[0][0] == 100.0
    t += 1
    assert a[0, 0] == 101.0
    assert t.data_ptr() == a.__array_interface__["data"][0]


def test_from_numpy_keeps_strides():
    a = np.arange(6).reshape(2, 3).T
    e, t = ember.from_numpy(a), torch.from_numpy(a)
    assert e.stride() == t.stride() and e.is_contiguous() == t.is_contiguous() is False
    check(e, t)


def test_from_numpy_errors():
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])
    with pytest.raises(TypeError):
        ember.from_numpy(np.array(["a"]))
    a = np.arange(3.0)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        ember.from_numpy(a)


def test_as_tensor_sharing():
    a = np.arange(3.0)
    t = ember.as_tensor(a)
    a[1] = 9
    assert t.tolist() == [0.0, 9.0, 2.0]
    c = ember.as_tensor(a, dtype=ember.float32)  # a different dtype copies
    a[1] = 5
    assert c.tolist() == [0.0, 9.0, 2.0] and c.dtype is ember.float32
    e = ember.tensor([1, 2])
    assert ember.as_tensor(e) is e
    check(ember.as_tensor([1, 2.5]), torch.as_tensor([1, 2.5]))
    check(ember.as_tensor(e, dtype=ember.float64), torch.as_tensor(torch.tensor([1, 2]), dtype=torch.float64))


def test_numpy_shares_memory():
    t = ember.tensor([1.0, 2.0, 3.0])
    a = t.numpy()
    a[0] = -1
    assert t.tolist()[0] == -1.0
    t.mul_(2)
    assert a[1] == 4.0


def test_numpy_requires_grad_error():
    t = ember.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    assert t.detach().numpy().tolist() == [1.0]
    assert t.numpy(force=True).tolist() == [1.0]


def test_numpy_cuda_error(standin_cuda):
    with pytest.raises(TypeError, match="cuda"):
        ember.tensor([1.0]).cuda().numpy()


def test_array_protocol():
    t = ember.tensor([[1, 2], [3, 4]])
    a = np.asarray(t)
    assert a.dtype == np.int64 and a.tolist() == [[1, 2], [3, 4]]
    assert np.shares_memory(a, t.numpy())
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert np.array(t, copy=True).ctypes.data != t.data_ptr()


def test_array_protocol_requires_grad_like_torch():
    both(lambda: np.asarray(ember.tensor([1.0], requires_grad=True)),
         lambda: np.asarray(torch.tensor([1.0], requires_grad=True)))


# ---- Python scalars, containers and protocols ------------------------------------------------------
@pytest.mark.parametrize("name", ["float32", "float64", "int64", "int32", "uint8", "bool", "float16",
                                  "bfloat16", "complex64"])
def test_item_tolist(name):
    e, t = pair([[1, 0, 2]], name)
    check(e.tolist(), t.tolist())
    check(e[0, 2].item() if hasattr(ember.Tensor, "__getitem__") else e.reshape(-1)._data[2].item(),
          t[0, 2].item())
    e0, t0 = pair(2, name)
    check(e0.item(), t0.item())
    check(e0.tolist(), t0.tolist())
    check(type(e0.item()), type(t0.item()))


def test_item_errors():
    with pytest.raises(RuntimeError, match="2 elements cannot be converted to Scalar"):
        ember.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError):
        ember.tensor([]).item()
    assert ember.tensor([[5]]).item() == 5


def test_shape_and_size():
    e, t = pair(np.zeros((2, 3, 4)), "float32")
    assert e.shape == t.shape and isinstance(e.shape, ember.Size) and isinstance(e.shape, tuple)
    assert e.size() == t.size() and e.size(1) == t.size(1) and e.size(-1) == t.size(-1)
    assert e.dim() == t.dim() == e.ndim == 3
    assert e.numel() == t.numel() == 24 and ember.numel(e) == 24
    assert e.stride() == t.stride() and e.stride(0) == t.stride(0) and e.stride(-1) == 1
    assert e.is_contiguous()
    assert repr(e.shape) == repr(t.shape) and e.shape.numel() == 24
    with pytest.raises(IndexError, match=r"range of \[-3, 2\], but got 3"):
        e.size(3)
    e0, t0 = pair(1.0, "float32")
    assert e0.shape == t0.shape == () and e0.dim() == 0 and e0.numel() == 1 and e0.stride() == ()


def test_T_and_mT():
    e, t = pair(np.arange(6).reshape(2, 3), "int64")
    check(e.T, t.T)
    check(e.mT, t.mT)
    e3, t3 = pair(np.arange(24).reshape(2, 3, 4), "int64")
    check(e3.mT, t3.mT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(e3.T, t3.T)
    e1, t1 = pair(np.arange(3), "int64")
    check(e1.T, t1.T)
    with pytest.raises(RuntimeError, match="matrices"):
        e1.mT
    assert e.T.data_ptr() == e.data_ptr() and e.T.stride() == t.T.stride()


def test_data_attribute():
    e = ember.tensor([1.0, 2.0], requires_grad=True)
    d = e.data
    assert not d.requires_grad and d.grad_fn is None and d.data_ptr() == e.data_ptr()
    d.mul_(3)
    assert e.detach().tolist() == [3.0, 6.0]
    e.data = ember.tensor([5.0, 6.0])
    assert e.requires_grad and e.detach().tolist() == [5.0, 6.0]


def test_len_iter():
    e, t = pair(np.arange(6).reshape(3, 2), "int64")
    assert len(e) == len(t) == 3
    rows = list(e)
    assert len(rows) == 3
    for re, rt in zip(rows, t):
        check(re, rt)
    e0 = ember.tensor(1.0)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(e0)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(e0)


@pytest.mark.parametrize("values,name", [([3.7], "float32"), (-2.5, "float64"), ([[7]], "int64"),
                                         (True, "bool"), (0, "int32")], ids=str)
def test_bool_float_int(values, name):
    e, t = pair(values, name)
    for conv in (bool, float, int, complex):
        check(conv(e), conv(t))


@pytest.mark.parametrize("conv", [bool, float,
                                  int],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("values", [[1.0, 2.0], [], [[1, 2]]], ids=str)
def test_bool_float_int_errors(values, conv):
    e, t = pair(values, "float32")
    both(lambda: conv(e), lambda: conv(t))


@pytest.mark.parametrize("values,name", [(1, "int64"), ([2], "int32"), (True, "bool"), (1, "uint8"),
                                         (1.0, "float32"), ([0, 1], "int64")], ids=str)
def test_index(values, name):
    e, t = pair(values, name)
    lst = [10, 20, 30]
    check(*both(lambda: lst[e], lambda: lst[t]))
    check(*both(lambda: operator.index(e), lambda: operator.index(t)))


def test_hash_is_identity():
    a, b = ember.tensor([1.0]), ember.tensor([1.0])
    assert len({a, b}) == 2 and a in {a: 1}


# ---- operators ----------------------------------------------------------------------------------------
A = [[1, -2, 3], [4, 5, -6]]
B = [[2, 3, 1], [1, 2, 2]]

BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
    "and": operator.and_, "or": operator.or_, "xor": operator.xor,
    "lshift": operator.lshift, "rshift": operator.rshift,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
    "gt": operator.gt, "ge": operator.ge,
}
INPLACE = {
    "iadd": operator.iadd, "isub": operator.isub, "imul": operator.imul, "itruediv": operator.itruediv,
    "ifloordiv": operator.ifloordiv, "imod": operator.imod, "ipow": operator.ipow,
    "iand": operator.iand, "ior": operator.ior, "ixor": operator.ixor,
    "ilshift": operator.ilshift, "irshift": operator.irshift,
}
TENSOR_PAIRS = [("int64", "int64"), ("float32", "float32"), ("int64", "float32"), ("bool", "bool"),
                ("int32", "float64"), ("uint8", "int8"), ("bool", "int16"), ("float16", "float32"),
                ("bfloat16", "float16"), ("int64", "bool")]
SCALARS = [2, 1.5, True, -3]


def _operand(values, name):
    if name == "bool":
        return pair(np.asarray(values) > 1, "bool")
    return pair(values, name)


@pytest.mark.parametrize("op", BINARY, ids=str)
@pytest.mark.parametrize("names", TENSOR_PAIRS, ids="-".join)
def test_binary_tensor_tensor(op, names):
    fn = BINARY[op]
    ea, ta = _operand(A, names[0])
    eb, tb = _operand(B, names[1])
    check(*both(lambda: fn(ea, eb), lambda: fn(ta, tb)))


@pytest.mark.parametrize("op", BINARY, ids=str)
@pytest.mark.parametrize("name", ["int64", "float32", "bool", "uint8", "float16"])
@pytest.mark.parametrize("scalar", SCALARS, ids=stable_id)
def test_binary_tensor_scalar_and_reflected(op, name, scalar):
    fn = BINARY[op]
    e, t = _operand(B, name)
    check(*both(lambda: fn(e, scalar), lambda: fn(t, scalar)))
    check(*both(lambda: fn(scalar, e), lambda: fn(scalar, t)))


@pytest.mark.parametrize("op", ["add", "mul", "truediv", "lt", "eq"])
def test_binary_zero_dim_operand(op):
    fn = BINARY[op]
    e, t = pair(A, "int32")
    e0, t0 = pair(2.5, "float64")
    check(*both(lambda: fn(e, e0), lambda: fn(t, t0)))
    check(*both(lambda: fn(e0, e), lambda: fn(t0, t)))


@pytest.mark.parametrize("scalar", [np.float64(2.5), np.int64(2), np.float32(1.5), np.bool_(True)],
                         ids=stable_id)
def test_binary_numpy_scalars(scalar):
    e, t = pair(B, "int32")
    check(*both(lambda: e + scalar, lambda: t + scalar))
    check(*both(lambda: e * scalar, lambda: t * scalar))


@pytest.mark.parametrize("other", ["a", None, [1, 2, 3], object()], ids=stable_id)
def test_binary_wrong_types(other):
    e, t = pair(B, "float32")
    both(lambda: e + other, lambda: t + other)
    both(lambda: other * e, lambda: other * t)
    check(*both(lambda: e == other, lambda: t == other))


@pytest.mark.parametrize("op", INPLACE, ids=str)
@pytest.mark.parametrize("names", [("int64", "int64"), ("float32", "float32"), ("int64", "float32"),
                                   ("float32", "int64"), ("bool", "bool"), ("int32", "int64"),
                                   ("float64", "float16")], ids="-".join)
def test_inplace_tensor(op, names):
    fn = INPLACE[op]
    ea, ta = _operand(A, names[0])
    eb, tb = _operand(B, names[1])
    re, rt = both(lambda: fn(ea, eb), lambda: fn(ta, tb))
    if rt is not None:
        assert re is ea
        check(re, rt)


@pytest.mark.parametrize("op", INPLACE, ids=str)
@pytest.mark.parametrize("name", ["int64", "float32", "bool"])
@pytest.mark.parametrize("scalar", SCALARS, ids=stable_id)
def test_inplace_scalar(op, name, scalar):
    fn = INPLACE[op]
    e, t = _operand(B, name)
    re, rt = both(lambda: fn(e, scalar), lambda: fn(t, scalar))
    if rt is not None:
        assert re is e
        check(re, rt)


def test_inplace_shares_and_bumps_version():
    a = np.arange(3.0)
    e = ember.from_numpy(a)
    v = e._version_value
    e += 1
    assert a.tolist() == [1.0, 2.0, 3.0] and e._version_value == v + 1


def test_inplace_broadcast_into_smaller_errors():
    e, t = pair([1.0, 2.0], "float32")
    e2, t2 = pair(np.ones((2, 2)), "float32")
    both(lambda: operator.iadd(e, e2), lambda: operator.iadd(t, t2))


def test_inplace_on_leaf_requiring_grad_errors():
    e = ember.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        e += 1


@pytest.mark.parametrize("shapes", [((2, 3), (3, 2)), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)),
                                    ((2, 2, 3), (3, 4))], ids=str)
@pytest.mark.parametrize("names", [("float32", "float32"), ("int64", "int64"), ("float64", "float64")],
                         ids="-".join)
def test_matmul(shapes, names):
    rng = np.random.default_rng(0)
    ea, ta = pair(rng.integers(-3, 4, shapes[0]), names[0])
    eb, tb = pair(rng.integers(-3, 4, shapes[1]), names[1])
    check(*both(lambda: ea @ eb, lambda: ta @ tb))


def test_matmul_inplace_and_errors():
    ea, ta = pair(np.eye(2) * 2, "float32")
    eb, tb = pair([[1, 2], [3, 4]], "float32")
    re, rt = both(lambda: operator.imatmul(ea, eb), lambda: operator.imatmul(ta, tb))
    check(re, rt)
    both(lambda: ea @ ember.tensor([1.0, 2.0, 3.0]), lambda: ta @ torch.tensor([1.0, 2.0, 3.0]))
    both(lambda: ea @ 2, lambda: ta @ 2)


@pytest.mark.parametrize("name", ["int64", "float32", "bool", "uint8", "int8", "float16", "float64"])
@pytest.mark.parametrize("op", [operator.neg, operator.pos, operator.abs, operator.invert],
                         ids=lambda f: f.__name__)
def test_unary_operators(op, name):
    e, t = _operand(A, name)
    check(*both(lambda: op(e), lambda: op(t)))


def test_integer_division_by_zero():
    e, t = pair([1, 2], "int64")
    z_e, z_t = pair([0, 0], "int64")
    both(lambda: e // z_e, lambda: t // z_t)
    both(lambda: e % z_e, lambda: t % z_t)


def test_integer_negative_power():
    e, t = pair([1, 2], "int64")
    both(lambda: e ** -1, lambda: t ** -1)


def test_division_by_zero():
    e, t = pair([1, 2], "int64")
    z_e, z_t = pair([0, 0], "int64")
    check(*both(lambda: e / z_e, lambda: t / z_t))
    ef, tf = pair([1.0, -1.0, 0.0], "float32")
    check(*both(lambda: ef / 0.0, lambda: tf / 0.0))
    check(*both(lambda: ef // 0.0, lambda: tf // 0.0))


def test_comparison_results_broadcast():
    ea, ta = pair(np.arange(3).reshape(3, 1), "int64")
    eb, tb = pair(np.arange(4.0), "float32")
    for fn in (operator.lt, operator.eq, operator.ge):
        check(fn(ea, eb), fn(ta, tb))


# ---- conversions ------------------------------------------------------------------------------------
CONVERSIONS = ["float", "double", "half", "bfloat16", "long", "int", "short", "char", "byte", "bool"]


@pytest.mark.parametrize("method", CONVERSIONS)
@pytest.mark.parametrize("name", ["float32", "int64", "bool", "float64", "float16"])
def test_conversion_methods(method, name):
    e, t = pair([[0, 1.5, -2.25, 3]], name)
    check(getattr(e, method)(), getattr(t, method)())


@pytest.mark.parametrize("target", [n for n in NAMES if not n.startswith("complex")])
@pytest.mark.parametrize("name", ["float32", "int64", "bool"])
def test_to_dtype(target, name):
    e, t = pair([0, 1, 2], name)
    check(e.to(getattr(ember, target)), t.to(getattr(torch, target)))
    check(e.to(dtype=getattr(ember, target)), t.to(dtype=getattr(torch, target)))


def test_to_identity_copy_and_other():
    e = ember.tensor([1.0, 2.0])
    assert e.to(ember.float32) is e and e.to("cpu") is e and e.float() is e
    c = e.to(ember.float32, copy=True)
    assert c is not e and c.data_ptr() != e.data_ptr()
    o = ember.tensor([1], dtype=ember.int16)
    check(e.to(o), torch.tensor([1.0, 2.0]).to(torch.tensor([1], dtype=torch.int16)))
    check(e.type_as(o), torch.tensor([1.0, 2.0]).type_as(torch.tensor([1], dtype=torch.int16)))
    assert e.type() == "torch.FloatTensor" and o.type() == "torch.ShortTensor"
    check(e.type("torch.DoubleTensor"), torch.tensor([1.0, 2.0]).type("torch.DoubleTensor"))


def test_to_keeps_autograd():
    e = ember.tensor([1.0, 2.0], requires_grad=True)
    d = e.double()
    assert d.grad_fn is not None and d.requires_grad
    d.sum().backward()
    assert e.grad.dtype is ember.float32 and e.grad.tolist() == [1.0, 1.0]


def test_to_device(standin_cuda):
    e = ember.tensor([1.0, 2.0])
    c = e.to("cuda")
    assert c.device.type == "cuda" and c.to("cuda:0") is c
    b = e.to("cuda", ember.float64)
    assert b.dtype is ember.float64 and b.is_cuda
    assert c.cpu().device == ember.device("cpu")


# ---- default dtype --------------------------------------------------------------------------------------
def test_default_dtype_effects():
    assert ember.get_default_dtype() is ember.float32
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        assert ember.get_default_dtype() is ember.float64
        check(ember.tensor([1.5]), torch.tensor([1.5]))
        check(ember.zeros(2), torch.zeros(2))
        check(ember.ones(2, 2), torch.ones(2, 2))
        ei, ti = pair([1, 2], "int64")
        check(ei / ei, ti / ti)
        check(ei + 0.5, ti + 0.5)
        check(ember.Tensor([1, 2]), torch.Tensor([1, 2]))
        ef, tf = pair([1, 2], "float32")
        check(ef + 0.5, tf + 0.5)
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("d", ["int64", "bool", "complex64"])
def test_set_default_dtype_rejects(d):
    both(lambda: ember.set_default_dtype(getattr(ember, d)),
         lambda: torch.set_default_dtype(getattr(torch, d)))


# ---- legacy constructor -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(2, 3), (3,), ([1, 2],), ([[1.5], [2]],), ([],),
                                  ((2, 3),),
                                  ()],
                         ids=str)
def test_legacy_constructor(args):
    e, t = ember.Tensor(*args), torch.Tensor(*args)
    assert dname(e.dtype) == dname(t.dtype) and tuple(e.shape) == tuple(t.shape)
    if args and isinstance(args[0], (list, tuple)):
        check(e, t)


def test_legacy_constructor_from_size():
    assert tuple(ember.Tensor(ember.Size([2, 3])).shape) == tuple(torch.Tensor(torch.Size([2, 3])).shape)


# ---- DLPack ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["float32", "float64", "float16", "int64", "int32", "int8", "uint8",
                                  "bool", "complex64"])
def test_dlpack_numpy_round_trip_shares_memory(name):
    a = (np.arange(6).reshape(2, 3) % 2).astype(name)
    e = ember.from_dlpack(a)
    assert e.dtype is getattr(ember, name) and e.shape == (2, 3)
    assert e.data_ptr() == a.__array_interface__["data"][0]
    back = np.from_dlpack(e)
    assert np.shares_memory(back, a)
    a[1, 2] = 0
    back[0, 0] = 1
    assert e.tolist() == a.tolist() == back.tolist()


@pytest.mark.parametrize("name", ["float32", "float64", "float16", "int64", "int16", "uint8", "bool",
                                  "complex128"])
def test_dlpack_torch_round_trip_shares_memory(name):
    t = torch.zeros(2, 3, dtype=getattr(torch, name))
    e = ember.from_dlpack(t)
    assert e.dtype is getattr(ember, name) and e.data_ptr() == t.data_ptr()
    t[0, 1] = 1
    assert e.tolist() == t.tolist()
    t2 = torch.from_dlpack(e)
    assert t2.data_ptr() == t.data_ptr() and t2.dtype == t.dtype
    e.numpy()[1, 2] = 1
    assert t2.tolist() == e.tolist() == t.tolist()


def test_dlpack_views_and_scalars():
    t = torch.arange(12.0).reshape(3, 4).t()
    e = ember.from_dlpack(t)
    assert e.stride() == t.stride() and e.tolist() == t.tolist()
    s = ember.from_dlpack(torch.tensor(2.5))
    assert s.shape == () and s.item() == 2.5
    v = torch.from_dlpack(ember.from_numpy(np.arange(10.0)[::3]))
    assert v.stride() == (3,) and v.tolist() == [0.0, 3.0, 6.0, 9.0]


def test_dlpack_device_and_capsule():
    e = ember.from_numpy(np.arange(3.0))
    assert tuple(int(x) for x in e.__dlpack_device__()) == (1, 0)
    f = ember.from_dlpack(e.__dlpack__())
    assert f.data_ptr() == e.data_ptr()
    g = ember.from_dlpack(e, copy=True)
    assert g.data_ptr() != e.data_ptr() and g.tolist() == e.tolist()


def test_dlpack_errors():
    with pytest.raises(BufferError, match="require gradient"):
        ember.tensor([1.0], requires_grad=True).__dlpack__()
    both(lambda: ember.from_dlpack([1, 2]), lambda: torch.from_dlpack([1, 2]))


@pytest.mark.parametrize("call", [
    lambda lib, x: x.sum(axis=0, keepdims=True), lambda lib, x: lib.sum(x, axis=1),
    lambda lib, x: x.mean(axis=-1, keepdims=True), lambda lib, x: x.max(axis=0).values,
    lambda lib, x: x.std(axis=0), lambda lib, x: x.softmax(axis=1), lambda lib, x: x.argmax(axis=1),
    lambda lib, x: lib.cat([x, x], axis=1), lambda lib, x: x.flip(dims=(0,)),
    lambda lib, x: x.permute(dims=(1, 0)), lambda lib, x: x.reshape(shape=(3, 2)),
    lambda lib, x: x.cumsum(axis=1), lambda lib, x: x.squeeze(axis=0),
])
def test_numpy_style_keyword_aliases(call):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    check(call(ember, ember.tensor(a)), call(torch, torch.tensor(a)))


def test_ml_dtypes_loads_on_first_bfloat16_use():
    """``import ember`` does not import ml_dtypes (slow to import); bfloat16 works once used, also for
    bfloat16 arrays made by ml_dtypes before ember touched it."""
    import subprocess
    import sys
    code = ("import sys, ember\n"
            "assert 'ml_dtypes' not in sys.modules\n"
            "print(ember.tensor([1.0, 2.5]), ember.float32)\n"
            "assert 'ml_dtypes' not in sys.modules\n"
            "import ml_dtypes, numpy as np\n"
            "t = ember.from_numpy(np.array([1.5, 3], dtype=ml_dtypes.bfloat16))\n"
            "assert t.dtype is ember.bfloat16 and t.tolist() == [1.5, 3.0]\n"
            "assert (t + ember.ones(2, dtype=ember.bfloat16)).dtype is ember.bfloat16\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dlpack_bfloat16_with_torch_both_ways_zero_copy():
    import gc
    e = ember.arange(6.0).reshape(2, 3).bfloat16()
    t = torch.from_dlpack(e)
    assert t.dtype == torch.bfloat16 and t.stride() == (3, 1) and t.tolist() == e.tolist()
    t[0, 0] = 100
    assert e[0, 0].item() == 100.0                              # torch writes into ember's memory
    src = torch.arange(12.0).reshape(3, 4).bfloat16().t()[1:, ::2]
    back = ember.from_dlpack(src)
    assert back.dtype is ember.bfloat16 and back.stride() == src.stride() and back.tolist() == src.tolist()
    back[0, 0] = -7
    assert src[0, 0].item() == -7.0                             # and ember into torch's
    del src
    gc.collect()
    assert back.sum().item() == torch.arange(12.0).reshape(3, 4).t()[1:, ::2].sum().item() - 1 - 7
    assert ember.from_dlpack(torch.tensor(2.5).bfloat16()).item() == 2.5
    assert tuple(ember.from_dlpack(torch.zeros(0, 3).bfloat16()).shape) == (0, 3)
    for _ in range(50):                                         # round trips free their memory
        a = torch.randn(20).bfloat16()
        assert torch.equal(torch.from_dlpack(ember.from_dlpack(a)), a)


def test_from_dlpack_of_an_ember_tensor_shares_memory_and_version():
    a = ember.arange(3.0)
    b = ember.from_dlpack(a)
    b[0] = 9
    assert a[0].item() == 9.0 and a._version_value == b._version_value
