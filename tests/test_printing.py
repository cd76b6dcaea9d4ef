"""``repr(tensor)`` must be character-for-character torch's, for every shape, dtype and option."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import ember

import torch

_TORCH_DT = {"bool": torch.bool, "uint8": torch.uint8, "int8": torch.int8, "int16": torch.int16,
             "int32": torch.int32, "int64": torch.int64, "float16": torch.float16,
             "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
             "complex64": torch.complex64, "complex128": torch.complex128}


def pair(values, dtype="float32", requires_grad=False):
    """The same numbers as an ember and a torch tensor (built from NumPy, not ember.tensor)."""
    a = np.asarray(values)
    if dtype == "bfloat16":
        e = ember.from_numpy(a.astype(ml_dtypes.bfloat16))
        t = torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
    else:
        a = a.astype(dtype)
        e, t = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())
    assert e.dtype == getattr(ember, dtype)
    if requires_grad:
        e.requires_grad_(True)
        t.requires_grad_(True)
    return e, t


def same_repr(e, t):
    assert repr(e) == repr(t)
    assert str(e) == str(t)


@pytest.fixture(autouse=True)
def _reset_printoptions():
    yield
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


_rng = np.random.default_rng(0)

VALUES = {
    "int_valued": [[1.0, 2.0]],
    "wide_range": [1e-5, 1e5],
    "small": [1e-5, 2e-5, 3.5e-5],
    "large": [1.5e9, 2.5e9],
    "mixed_sign": [-1.5, 2.25, -3.125, 100.0],
    "randn_2x3": _rng.standard_normal((2, 3)),
    "randn_3x4x5": _rng.standard_normal((3, 4, 5)),
    "randn_2x2x2x2": _rng.standard_normal((2, 2, 2, 2)),
    "long_row": _rng.standard_normal(50),
    "ratio_1000": [1.0, 1000.0],
    "ratio_1001": [1.0, 1001.0],
    "int_valued_sci": [1.0, 1e9],
    "nonfinite": [np.nan, 1.0, np.inf, -np.inf],
    "nonfinite_int_mode": [np.nan, -np.inf, 3.0],
    "only_nonfinite": [np.nan, np.inf],
    "zeros": [0.0, 0.0, 0.0],
    "neg_zero": [-0.0, 1.0],
    "scalar": 3.5,
    "scalar_int_valued": 2.0,
    "scalar_small": 1e-7,
    "scalar_nan": np.nan,
    "thirds": np.arange(30).reshape(5, 6) / 3,
    "ints_wide": [1, -123456, 7],
    "big_row": _rng.standard_normal(2000),
    "big_matrix": _rng.standard_normal((40, 40)) * 100,
    "big_3d": _rng.standard_normal((12, 10, 10)),
    "big_column": _rng.standard_normal((1500, 1)),
    "just_over_threshold": np.arange(1001),
    "at_threshold": np.arange(1000),
    "empty": np.zeros((0,)),
    "empty_2d": np.zeros((0, 3)),
    "empty_3d": np.zeros((2, 0, 4)),
}

FLOAT_DTYPES = ["float32", "float64", "float16", "bfloat16"]
INT_DTYPES = ["int64", "int32", "int16", "int8", "uint8"]


def _fits(values, dtype):
    a = np.asarray(values, dtype=np.float64)
    if dtype in INT_DTYPES:
        info = np.iinfo(dtype)
        return bool(np.all(np.isfinite(a))) and a.min(initial=0) >= info.min and a.max(initial=0) <= info.max
    if dtype == "float16":
        return bool(np.all(np.abs(a[np.isfinite(a)]) < 65504))
    return True


CASES = [pytest.param(v, d, id=f"{k}-{d}") for k, v in VALUES.items()
         for d in FLOAT_DTYPES + INT_DTYPES if _fits(v, d)]


@pytest.mark.parametrize("values,dtype", CASES)
def test_repr_matches_torch(values, dtype):
    vals = np.asarray(values)
    if dtype in INT_DTYPES:
        vals = np.trunc(vals)
    same_repr(*pair(vals, dtype))


@pytest.mark.parametrize("values", [[True, False], [[True], [False]], True, np.ones(1500, bool),
                                    np.zeros((0, 2), bool)])
def test_bool(values):
    same_repr(*pair(values, "bool"))


@pytest.mark.parametrize("values", [[1 + 2j, -3.5 - 0.25j], [[0j, 1j], [-1j, 2 + 0j]], 1.5 - 2j,
                                    [1e-6 + 1e6j, 1 + 1j]])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex(values, dtype):
    same_repr(*pair(values, dtype))


@pytest.mark.parametrize("values", [[[1.0, 2.0]], 3.0, [1e-5, 1e5], np.zeros((2, 0))])
def test_requires_grad(values):
    same_repr(*pair(values, "float32", requires_grad=True))


def test_grad_fn():
    e, t = pair([[1.0, 2.5]], requires_grad=True)
    same_repr(e + 1, t + 1)
    same_repr(e * e, t * t)
    same_repr((e * 2).sum(), (t * 2).sum())
    same_repr(e.detach(), t.detach())


GRAD_FNS = [
    ("sub", lambda x: x - 1), ("exp", lambda x: x.exp()), ("neg", lambda x: -x),
    ("pow_scalar", lambda x: x ** 2), ("mean", lambda x: x.mean()), ("view", lambda x: x.view(2)),
    ("double", lambda x: x.double()), ("expand", lambda x: x.expand(3, 2)), ("mul", lambda x: x * 2),
    ("div", lambda x: x / 2),
    ("rdiv", lambda x: 2 / x),
    ("pow_tensor", lambda x: x ** x),
    ("rsub", lambda x: 1 - x),
    ("reshape", lambda x: x.reshape(2)),
    ("sum_dim", lambda x: x.sum(0)),
]


@pytest.mark.parametrize("name,fn", GRAD_FNS, ids=lambda v: v if isinstance(v, str) else None)
def test_grad_fn_names(name, fn):
    e, t = pair([[1.0, 2.0]], requires_grad=True)
    same_repr(fn(e), fn(t))


def test_default_dtype_changes_suffix():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for d in ("float32", "float64", "complex64", "complex128"):
            same_repr(*pair([1.5, 2.0], d))
        same_repr(*pair(np.zeros(0), "float64"))
        same_repr(*pair(np.zeros(0), "float32"))
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("options", [
    dict(precision=2), dict(precision=8), dict(precision=0), dict(threshold=5),
    dict(threshold=5, edgeitems=1), dict(edgeitems=5), dict(linewidth=40), dict(linewidth=200),
    dict(linewidth=10), dict(sci_mode=True), dict(sci_mode=False), dict(profile="short"),
    dict(profile="full"), dict(profile="short", precision=6), dict(threshold=3, edgeitems=0),
], ids=str)
@pytest.mark.parametrize("key", ["randn_2x3", "wide_range", "long_row", "big_row", "big_matrix",
                                 "int_valued", "scalar", "big_3d", "nonfinite", "zeros"])
def test_printoptions(options, key):
    ember.set_printoptions(**options)
    torch.set_printoptions(**options)
    assert ember.get_printoptions() == torch._tensor_str.get_printoptions()
    same_repr(*pair(VALUES[key], "float64"))
    same_repr(*pair(np.trunc(np.asarray(VALUES[key], dtype=np.float64) * 10).clip(-1e6, 1e6)
                    .astype(np.int64).reshape(np.shape(VALUES[key])), "int64"))


def test_suffix_wrapping_on_narrow_lines():
    ember.set_printoptions(linewidth=30)
    torch.set_printoptions(linewidth=30)
    e, t = pair(np.arange(12.0).reshape(3, 4) / 7, "float64", requires_grad=True)
    same_repr(e, t)
    same_repr(e * 2, t * 2)


def test_printoptions_context_manager_restores():
    with ember._printing.printoptions(precision=1):
        assert repr(pair([1.25])[0]) == "tensor([1.2])"
    assert repr(pair([1.25])[0]) == "tensor([1.2500])"


def test_set_printoptions_resets_sci_mode_like_torch():
    ember.set_printoptions(sci_mode=True)
    ember.set_printoptions(precision=3)
    assert ember.get_printoptions()["sci_mode"] is None


def test_cuda_device_suffix(standin_cuda):
    e = ember.from_numpy(np.array([1.0, 2.0], dtype=np.float32)).cuda()
    assert repr(e) == "tensor([1., 2.], device='cuda:0')"
    e = ember.from_numpy(np.array([1, 2])).to("cuda").double()
    assert repr(e) == "tensor([1., 2.], device='cuda:0', dtype=torch.float64)"
    e = ember.from_numpy(np.array([1.5], dtype=np.float32)).cuda().requires_grad_()
    assert repr(e) == "tensor([1.5000], device='cuda:0', requires_grad=True)"


def test_format_0dim_empty_spec():
    e, t = pair(2.5)
    assert f"{e}" == f"{t}"


def test_format_and_size_repr():
    e, t = pair(2.5)
    assert f"{e:.2f}" == f"{t:.2f}"
    e, t = pair([2.5])
    assert f"{e}" == f"{t}"
    assert repr(pair(np.zeros((2, 3)))[0].shape) == repr(torch.zeros(2, 3).shape)
    assert repr(pair(np.zeros(()))[0].shape) == "torch.Size([])"


def test_subclass_prefix_and_reusable_repr():
    from ember._printing import tensor_repr

    class MyTensor(ember.Tensor):
        pass

    e = pair([1.0, 2.0])[0]
    sub = ember._tensor.make(e._data, e.device, cls=MyTensor)
    assert repr(sub) == "MyTensor([1., 2.])"
    assert tensor_repr(sub, prefix="tensor(") == "tensor([1., 2.])"
    p = torch.nn.Parameter(torch.tensor([[1.0, 2.0]]))
    ep = pair([[1.0, 2.0]], requires_grad=True)[0]
    assert "Parameter containing:\n" + tensor_repr(ep, prefix="tensor(") == repr(p)
