"""ember.testing against torch.testing 2.13: assert_close passes and fails on the same inputs with the
same exception type and message text; make_tensor's ranges, layout and flags; assert_allclose deprecation."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.testing

import torch
import torch.testing

# (name, make(lib) -> (actual, expected), keyword arguments)
CASES = [
    ("equal", lambda T: (T.tensor([1., 2.]), T.tensor([1., 2.])), {}),
    ("within_default_tol", lambda T: (T.tensor([1., 2., 3., 4.]), T.tensor([1., 2., 3., 4.000001])), {}),
    ("one_of_four", lambda T: (T.tensor([1., 2., 3., 4.]), T.tensor([1., 2., 3., 4.1])), {}),
    ("2d_expected_zero", lambda T: (T.tensor([[1., 2.], [3., 4.]]), T.tensor([[1.5, 2.], [3., 0.]])), {}),
    ("3d_index", lambda T: (T.arange(24.).reshape(2, 3, 4), T.arange(24.).reshape(2, 3, 4) * 1.01), {}),
    ("abs_and_rel_at_different_index", lambda T: (T.tensor([1., 3., 2.]), T.tensor([1., 2., 3.])), {}),
    ("int_not_equal", lambda T: (T.tensor([1, 5, 3]), T.tensor([2, 0, 3])), {}),
    ("int_rel_float32", lambda T: (T.tensor([1, 2, 3]), T.tensor([1, 2, 4])), {}),
    ("bool", lambda T: (T.tensor([True, False]), T.tensor([True, True])), {}),
    ("dtype_mismatch", lambda T: (T.tensor([1., 2.]), T.tensor([1., 2.], dtype=T.float64)), {}),
    ("dtype_unchecked", lambda T: (T.tensor([1., 2.]), T.tensor([1., 2.1], dtype=T.float64)),
     dict(check_dtype=False)),
    ("shape_mismatch", lambda T: (T.tensor([1., 2.]), T.tensor([1., 2., 3.])), {}),
    ("stride_mismatch", lambda T: (T.ones(2, 3).t(), T.ones(3, 2)), dict(check_stride=True)),
    ("stride_unchecked", lambda T: (T.ones(2, 3).t(), T.ones(3, 2)), {}),
    ("zero_dim", lambda T: (T.tensor(1.), T.tensor(1.1)), {}),
    ("nan_vs_nan", lambda T: (T.tensor([float("nan")]), T.tensor([float("nan")])), {}),
    ("nan_equal_nan", lambda T: (T.tensor([float("nan"), 1.]), T.tensor([float("nan"), 1.])), dict(equal_nan=True)),
    ("nan_vs_number", lambda T: (T.tensor([1., float("nan")]), T.tensor([1., 2.])), {}),
    ("inf_vs_inf", lambda T: (T.tensor([float("inf"), -float("inf")]), T.tensor([float("inf"), -float("inf")])), {}),
    ("inf_vs_number", lambda T: (T.tensor([float("inf")]), T.tensor([1e30])), {}),
    ("custom_tol_pass", lambda T: (T.tensor([1., 2.]), T.tensor([1.1, 2.])), dict(rtol=0.2, atol=0)),
    ("custom_tol_fail", lambda T: (T.tensor([1., 2.]), T.tensor([1.5, 2.])), dict(rtol=0.1, atol=0.01)),
    ("only_rtol", lambda T: (T.tensor([1., 2.]), T.tensor([1.1, 2.])), dict(rtol=0.01)),
    ("only_atol", lambda T: (T.tensor([1., 2.]), T.tensor([1.1, 2.])), dict(atol=0.01)),
    ("zero_tols_are_equality", lambda T: (T.tensor([1., 2.]), T.tensor([1.1, 2.])), dict(rtol=0, atol=0)),
    ("float16", lambda T: (T.tensor([1., 2.], dtype=T.float16), T.tensor([1., 2.01], dtype=T.float16)), {}),
    ("float16_pass", lambda T: (T.tensor([1., 2.], dtype=T.float16), T.tensor([1., 2.001], dtype=T.float16)), {}),
    ("bfloat16", lambda T: (T.tensor([1., 2.], dtype=T.bfloat16), T.tensor([1., 2.1], dtype=T.bfloat16)), {}),
    ("float64", lambda T: (T.tensor([1., 2.], dtype=T.float64), T.tensor([1., 2. + 1e-6], dtype=T.float64)), {}),
    ("complex", lambda T: (T.tensor([1 + 1j, 2]), T.tensor([1 + 1j, 2.5])), {}),
    ("list_of_tensors", lambda T: ([T.tensor([1., 2.]), T.tensor([3.])], [T.tensor([1., 2.]), T.tensor([3.5])]), {}),
    ("tuple_vs_list", lambda T: ((T.tensor([1.]), 2), [T.tensor([1.]), 3]), {}),
    ("mapping", lambda T: ({"a": T.tensor([1.]), "b": T.tensor([2.])}, {"a": T.tensor([1.]), "b": T.tensor([2.5])}),
     {}),
    ("nested", lambda T: ({"x": [T.tensor([1.]), {"y": T.tensor([2.])}]}, {"x": [T.tensor([1.]), {"y": T.tensor([2.2])}]}),
     {}),
    ("keys_mismatch", lambda T: ({"a": 1, "c": 2}, {"b": 1, "c": 2}), {}),
    ("length_mismatch", lambda T: ([1, 2], [1, 2, 3]), {}),
    ("int_vs_float", lambda T: (1, 1.0), {}),
    ("int_vs_float_unchecked", lambda T: (1, 1.0), dict(check_dtype=False)),
    ("float_close", lambda T: (1.0, 1.0 + 1e-9), {}),
    ("float_far", lambda T: (1.0, 1.1), {}),
    ("float_vs_zero", lambda T: (0.5, 0.0), {}),
    ("numpy_scalars", lambda T: (np.float32(1.0), np.float32(1.5)), {}),
    ("bools", lambda T: (True, False), {}),
    ("none_vs_none", lambda T: (None, None), {}),
    ("none_vs_number", lambda T: (None, 1), {}),
    ("numpy_arrays", lambda T: (np.array([1., 2.]), np.array([1., 2.5])), {}),
    ("str_message", lambda T: (T.tensor([1., 2.]), T.tensor([1., 2.1])), dict(msg="custom")),
    ("callable_message", lambda T: ([T.tensor([1., 2.])], [T.tensor([1., 2.1])]), dict(msg=lambda m: "X " + m)),
    ("tensor_vs_list", lambda T: (T.tensor([1.]), [1.]), {}),
    ("tensor_vs_float", lambda T: (T.tensor([1.]), 1.), {}),
    ("parameter_vs_tensor", lambda T: (T.nn.Parameter(T.tensor([1., 2.])), T.tensor([1., 2.])), {}),
    ("parameter_vs_tensor_strict", lambda T: (T.nn.Parameter(T.tensor([1., 2.])), T.tensor([1., 2.])),
     dict(allow_subclasses=False)),
    ("structure_error_wins", lambda T: ([T.tensor([1.]), {"a": 1}], [T.tensor([2.]), {"b": 1}]), {}),
]

# the only text that differs: ember's class names where torch prints its own
_TYPE_NAMES = {"ember.Tensor": "torch.Tensor", "ember.nn.parameter.Parameter": "torch.nn.parameter.Parameter"}


def _outcome(lib, fn, make, kwargs):
    try:
        fn(*make(lib), **kwargs)
    except Exception as e:    # noqa: BLE001 - the outcome under test is the exception itself
        text = str(e)
        for mine, theirs in _TYPE_NAMES.items():
            text = text.replace(mine, theirs)
        return type(e).__name__, text
    return None


@pytest.mark.parametrize("make,kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_assert_close_matches_torch(make, kwargs):
    expected = _outcome(torch, torch.testing.assert_close, make, kwargs)
    assert _outcome(ember, ember.testing.assert_close, make, kwargs) == expected


def test_failure_message_text():
    with pytest.raises(AssertionError) as info:
        ember.testing.assert_close(ember.tensor([1., 2., 3., 4.]), ember.tensor([1., 2., 3., 4.1]))
    assert str(info.value) == (
        "Tensor-likes are not close!\n\n"
        "Mismatched elements: 1 / 4 (25.0%)\n"
        "Greatest absolute difference: 0.09999990463256836 at index (3,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 0.024390220642089844 at index (3,) (up to 1.3e-06 allowed)")


def test_random_inputs_agree_with_torch():
    """Same pass/fail and message on many random near-equal float32 pairs (boundary cases included)."""
    rng = np.random.default_rng(0)
    for _ in range(60):
        a = rng.standard_normal(rng.integers(1, 7)).astype(np.float32)
        b = (a + rng.standard_normal(a.shape) * 10.0 ** rng.integers(-8, -3)).astype(np.float32)
        def make(T, a=a, b=b):
            return T.tensor(a), T.tensor(b)
        assert (_outcome(ember, ember.testing.assert_close, make, {})
                == _outcome(torch, torch.testing.assert_close, make, {}))


def test_default_tolerances_per_dtype():
    for dtype, (rtol, atol) in {ember.float16: (1e-3, 1e-5), ember.bfloat16: (0.016, 1e-5),
                                ember.float32: (1.3e-6, 1e-5), ember.float64: (1e-7, 1e-7)}.items():
        hundred = ember.tensor([100.], dtype=dtype)
        ember.testing.assert_close(ember.tensor([100 * (1 + rtol * 0.5)], dtype=dtype), hundred)
        with pytest.raises(AssertionError, match=rf"up to {atol} allowed\)\nGreatest relative .* \(up to {rtol} "):
            ember.testing.assert_close(ember.tensor([100 * (1 + rtol * 8)], dtype=dtype), hundred)


def test_check_device_off_and_mixed_dtype_promotion():
    ember.testing.assert_close(ember.tensor([1, 2]), ember.tensor([1., 2.]), check_dtype=False)
    with pytest.raises(AssertionError, match="Tensor-likes are not close"):
        ember.testing.assert_close(ember.tensor([1, 2]), ember.tensor([1., 2.5]), check_dtype=False)


def test_assert_allclose_is_deprecated_with_looser_defaults():
    with pytest.warns(FutureWarning, match="assert_allclose"):
        ember.testing.assert_allclose(ember.tensor([1., 2.]), [1., 2.00001])   # within rtol=1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ember.testing.assert_allclose(ember.tensor([float("nan")]), [float("nan")])   # equal_nan=True
        with pytest.raises(AssertionError):
            ember.testing.assert_allclose(ember.tensor([1., 2.]), [1., 2.1])


def test_make_tensor_ranges_and_flags():
    ember.manual_seed(0)
    x = ember.testing.make_tensor(200, 3, dtype=ember.float32, device="cpu")
    assert x.shape == (200, 3) and x.dtype == ember.float32 and x.device.type == "cpu"
    assert -9 <= x.min().item() and x.max().item() < 9 and not x.requires_grad
    i = ember.testing.make_tensor((300,), dtype=ember.int64, device="cpu")
    assert i.dtype == ember.int64 and -9 <= i.min().item() and i.max().item() <= 9
    assert {-9, 9} <= set(i.tolist())            # high is exclusive for integers: [-9, 10)
    u = ember.testing.make_tensor(300, dtype=ember.uint8, device="cpu", low=3, high=5)
    assert set(u.tolist()) == {3, 4}
    b = ember.testing.make_tensor(50, dtype=ember.bool, device="cpu")
    assert b.dtype == ember.bool and set(b.tolist()) == {True, False}
    f = ember.testing.make_tensor(4, 5, dtype=ember.float64, device="cpu", low=0.5, high=0.75, requires_grad=True)
    assert f.requires_grad and f.is_leaf and 0.5 <= f.min().item() and f.max().item() < 0.75
    n = ember.testing.make_tensor(3, 4, dtype=ember.float32, device="cpu", noncontiguous=True)
    assert n.shape == (3, 4) and not n.is_contiguous()
    z = ember.testing.make_tensor(400, dtype=ember.int8, device="cpu", low=-1, high=2, exclude_zero=True)
    assert 0 not in z.tolist()
    c = ember.testing.make_tensor(3, dtype=ember.complex64, device="cpu")
    assert c.dtype == ember.complex64
    assert ember.testing.make_tensor(dtype=ember.float32, device="cpu").shape == ()


@pytest.mark.parametrize("dtype,kwargs", [
    ("float32", {"low": 2, "high": 1}), ("float32", {"low": math.nan}), ("uint8", {"low": 300, "high": 400}),
    ("int64", {"requires_grad": True}), ("float32", {"noncontiguous": True, "memory_format": "x"})])
def test_make_tensor_errors_match_torch(dtype, kwargs):
    with pytest.raises(ValueError) as theirs:
        torch.testing.make_tensor(2, dtype=getattr(torch, dtype), device="cpu", **kwargs)
    with pytest.raises(ValueError) as mine:
        ember.testing.make_tensor(2, dtype=getattr(ember, dtype), device="cpu", **kwargs)
    assert str(mine.value) == str(theirs.value)
