"""Pointwise semantics beyond values: ==/hash, bool-returning predicates, error types and messages,
in-place paths, create_graph through activations, and the no-SciPy special functions."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from ember._ops import activation as F


def both(fn):
    """Run ``fn`` with ember and torch; return both exceptions (or results)."""
    out = []
    for lib in (ember, torch):
        try:
            out.append(fn(lib))
        except Exception as e:  # noqa: BLE001 - compared below
            out.append(e)
    return out


def same_error(fn, match=None):
    e, t = both(fn)
    assert isinstance(t, Exception), "torch did not raise"
    assert type(e) is type(t), (e, t)
    if match is None:
        assert str(e) == str(t), (str(e), str(t))
    else:
        assert match in str(e)


# ---- == and hashing -------------------------------------------------------------------------
def test_eq_returns_tensor_and_tensor_stays_hashable():
    a = ember.tensor([1.0, 2.0])
    b = ember.tensor([1.0, 3.0])
    r = a == b
    assert isinstance(r, ember.Tensor) and r.dtype is ember.bool
    assert r.tolist() == [True, False]
    assert hash(a) == id(a)
    assert len({a, b, a}) == 2 and {a: 1}[a] == 1
    assert a in [a] and b not in {a}


def test_eq_with_foreign_objects_falls_back_like_torch():
    a = ember.tensor([1.0])
    assert (a == None) is False  # noqa: E711
    assert (a != "x") is True
    with pytest.raises(TypeError):
        a < None  # noqa: B015


def test_reflected_comparisons_and_dtype_mixing():
    a = ember.tensor([1, 2, 3])
    assert (1.5 < a).tolist() == [False, True, True]
    assert (a == ember.tensor([1.0, 2.5, 3.0])).tolist() == [True, False, True]
    assert (ember.tensor(2.0) > a).tolist() == [True, False, False]


def test_comparison_broadcast_error_names_sizes():
    same_error(lambda lib: lib.tensor([1.0, 2.0]) == lib.tensor([1.0, 2.0, 3.0]))


def test_allclose_and_equal_return_python_bools():
    a = ember.tensor([1.0, 2.0])
    assert ember.allclose(a, a + 1e-9) is True
    assert ember.allclose(a, a + 1.0) is False
    assert a.allclose(a) is True
    assert ember.equal(a, ember.tensor([1.0, 2.0])) is True
    assert ember.equal(a, ember.tensor([1.0, 2.0, 3.0])) is False
    assert ember.equal(ember.tensor([1]), ember.tensor([1.0])) is True
    n = ember.tensor([float("nan")])
    assert ember.allclose(n, n) is False and ember.allclose(n, n, equal_nan=True) is True


def test_isclose_requires_matching_dtypes():
    same_error(lambda lib: lib.isclose(lib.tensor([1.0]), lib.tensor([1])))
    same_error(lambda lib: lib.allclose(lib.tensor([1.0]), lib.tensor([1])))


# ---- error types -----------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda lib: lib.tensor([1.0]) & lib.tensor([1.0]),
    lambda lib: lib.bitwise_or(lib.tensor([1]), lib.tensor([1.0])),
    lambda lib: lib.bitwise_xor(lib.tensor([1.5]), 1),
    lambda lib: lib.tensor([1.0]) << 1,
    lambda lib: lib.tensor([1.0]) >> 1,
    lambda lib: lib.bitwise_not(lib.tensor([1.0])),
    lambda lib: ~lib.tensor([1.0]),
    lambda lib: lib.abs(lib.tensor([True])),
])
def test_bitwise_and_abs_error_types(fn):
    same_error(fn)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.tensor([1, 2]) % lib.tensor([0, 1]),
    lambda lib: lib.fmod(lib.tensor([1, 2]), 0),
    lambda lib: lib.tensor([1, 2]) ** -1,
    lambda lib: lib.tensor([4]).sqrt_(),
    lambda lib: lib.tensor([4]).sigmoid_(),
    lambda lib: lib.clamp(lib.tensor([1.0])),
    lambda lib: lib.where(lib.tensor([1.0]), 1.0, 2.0),
    lambda lib: lib.lerp(lib.tensor([1.0]), lib.tensor([1.0], dtype=lib.float64), 0.5),
    lambda lib: lib.positive(lib.tensor([True])),
    lambda lib: lib.tensor([True]) - lib.tensor([False]),
])
def test_runtime_errors_match_torch(fn):
    same_error(fn)


def test_activation_argument_errors():
    x = ember.tensor([1.0])
    t = torch.tensor([1.0])
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(x, approximate="x")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(RuntimeError) as e:
        F.softshrink(x, -1)
    with pytest.raises(RuntimeError) as et:
        torch.nn.functional.softshrink(t, -1)
    assert str(e.value) == str(et.value)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        ember.softmax(ember.tensor([1, 2]), 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.softmax(ember.tensor([1.0, 2.0]), 1)


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.tensor([1.0, -1.0], requires_grad=True)
    for f in (lambda: x.relu_(), lambda: x.clamp_(0, 1), lambda: F.relu(x, inplace=True),
              lambda: x.abs_(), lambda: x.lerp_(x, 0.5)):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            f()


# ---- in-place and autograd -------------------------------------------------------------------
def test_inplace_ops_bump_version_and_rewrite_grad_fn():
    x = ember.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = x * 1
    v = y._version_value
    for op, name in ((lambda t: t.relu_(), "ReluBackward0"), (lambda t: t.sigmoid_(), "SigmoidBackward0"),
                     (lambda t: t.clamp_(0.1, 0.6), "ClampBackward1"),
                     (lambda t: F.leaky_relu(t, 0.2, inplace=True), "LeakyReluBackward0")):
        out = op(y)
        assert out is y and type(y.grad_fn).__name__ == name
    assert y._version_value == v + 4


def test_inplace_gradients_match_torch():
    grads = []
    for lib, f in ((ember, F), (torch, torch.nn.functional)):
        x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        a = f.leaky_relu((x * 1).sigmoid_() * 3 - 1, 0.2, inplace=True)
        b = (x * 1).clamp_(-0.5, 1.0)
        c = f.elu(x * 2, inplace=True)
        (a.sum() + (b * b).sum() + c.sum()).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_inplace_result_dtype_kept_for_comparisons():
    a = ember.tensor([1.0, 2.0, 3.0])
    a.lt_(2.5)
    assert a.dtype is ember.float32 and a.tolist() == [1.0, 1.0, 0.0]


def test_relu_subgradient_at_zero_and_clamp_at_bounds():
    x = ember.tensor([0.0, -1.0, 1.0, 0.5], requires_grad=True)
    (ember.relu(x) + ember.clamp(x, -1.0, 1.0)).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 2.0, 2.0]


@pytest.mark.parametrize("name,kw", [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}),
                                     ("mish", {}), ("softplus", {}), ("elu", {}), ("logsigmoid", {}),
                                     ("softsign", {})])
def test_second_derivative_of_activations(name, kw):
    xs = np.array([-1.3, -0.2, 0.4, 1.7])
    x = ember.tensor(xs, requires_grad=True)
    (g,) = ember.autograd.grad(getattr(F, name)(x, **kw).sum(), x, create_graph=True)
    g.sum().backward()
    t = torch.tensor(xs, requires_grad=True)
    (tg,) = torch.autograd.grad(getattr(torch.nn.functional, name)(t, **kw).sum(), t, create_graph=True)
    tg.sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_softmax_second_derivative():
    xs = np.array([[0.3, -1.0, 2.0], [1.0, 1.0, 0.5]])
    x = ember.tensor(xs, requires_grad=True)
    t = torch.tensor(xs, requires_grad=True)
    w = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    for lib, inp in ((ember, x), (torch, t)):
        (g,) = lib.autograd.grad((lib.log_softmax(inp, 1) * lib.tensor(w)).sum() +
                                 (lib.softmax(inp, 0) ** 2).sum(), inp, create_graph=True)
        (g ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_pow_exponent_grad_at_zero_base():
    for lib in (ember, torch):
        x = lib.tensor([0.0, 0.0, 2.0], requires_grad=True)
        y = lib.tensor([2.0, -1.0, 0.0], requires_grad=True)
        (x ** y).sum().backward()
        if lib is torch:
            np.testing.assert_array_equal(ex.numpy(), x.grad.numpy())
            np.testing.assert_array_equal(ey.numpy(), y.grad.numpy())
        else:
            ex, ey = x.grad, y.grad


def test_softmax_is_stable_for_large_inputs():
    x = ember.tensor([[1000.0, 1001.0, -1000.0]])
    assert np.isfinite(ember.softmax(x, 1).numpy()).all()
    assert np.isfinite(ember.log_softmax(x, 1).numpy()).all()
    np.testing.assert_allclose(F.logsigmoid(ember.tensor([-200.0, 200.0])).numpy(), [-200.0, 0.0])
    np.testing.assert_allclose(ember.sigmoid(ember.tensor([-200.0, 200.0])).numpy(), [0.0, 1.0])


# ---- special functions without SciPy ---------------------------------------------------------
@pytest.mark.parametrize("name,lo,hi", [("erf", -7, 7), ("erfc", -7, 30), ("erfinv", -0.999999, 0.999999)])
def test_special_functions_match_torch_in_float64(name, lo, hi):
    """Within a few ulp of torch (erfc's far tail skips s_erf.c's split-exponent trick)."""
    xs = np.linspace(lo, hi, 4001)
    e = getattr(ember, name)(ember.tensor(xs)).numpy()
    t = getattr(torch, name)(torch.tensor(xs)).numpy()
    np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-300)


def test_special_function_edge_values():
    v = ember.tensor([float("-inf"), -1.0, 1.0, float("inf"), float("nan"), 2.0])
    tv = torch.tensor(v.tolist())
    for name in ("erf", "erfc", "erfinv"):
        np.testing.assert_allclose(getattr(ember, name)(v).numpy(), getattr(torch, name)(tv).numpy(),
                                   rtol=1e-6)


def test_where_scalars_take_condition_device_and_torch_dtype():
    c = ember.tensor([True, False])
    assert ember.where(c, 1, 2).dtype is ember.int64
    assert ember.where(c, 1.0, 2).dtype is ember.float32
    assert ember.where(c, ember.tensor([1, 2], dtype=ember.int32), 2.5).dtype is ember.float32
    assert ember.where(c, ember.tensor(1.0, dtype=ember.float64), ember.tensor([1, 2])).dtype is ember.float64


@pytest.mark.parametrize("a,b,alpha", [
    ("int64", "int64", 1.5), ("int64", "int64", 1.0), ("float32", "float32", True),
    ("float32", "float32", 1j), ("bool", "bool", 2), ("int64", "float32", 1.5), ("int8", "int8", 3),
])
@pytest.mark.parametrize("op", ["add", "sub"])
def test_alpha_of_a_wider_category_is_refused_as_torch(op, a, b, alpha):
    if op == "sub" and a == "bool":
        return same_error(lambda lib: lib.sub(lib.ones(2, dtype=getattr(lib, a)),
                                              lib.ones(2, dtype=getattr(lib, b)), alpha=alpha))
    e, t = both(lambda lib: getattr(lib, op)(lib.ones(2, dtype=getattr(lib, a)),
                                             lib.ones(2, dtype=getattr(lib, b)), alpha=alpha))
    if isinstance(t, Exception):
        assert type(e) is type(t) and str(e) == str(t), (e, t)
    else:
        assert str(e.dtype) == str(t.dtype) and e.tolist() == t.tolist()


@pytest.fixture
def warn_always():
    """Both libraries under ``set_warn_always(True)`` (their once-per-process warnings then always come)."""
    before = torch.is_warn_always_enabled(), ember.is_warn_always_enabled()
    torch.set_warn_always(True)
    ember.set_warn_always(True)
    yield
    torch.set_warn_always(before[0])
    ember.set_warn_always(before[1])


@pytest.mark.parametrize("name", ["addcmul", "addcdiv", "addcmul_", "addcdiv_", "Tensor.addcmul"])
def test_addcmul_addcdiv_accept_the_deprecated_value_first_overload(name, warn_always):
    """The seed's ``torch.addcdiv(t, 0.1, t1, t2)``: torch warns (the same text) and still computes it."""
    out, texts = [], []
    for lib in (ember, torch):
        t = lib.tensor([[-0.5, 0.3, 1.2]])
        t1, t2 = lib.tensor([[1.], [2.], [3.]]), lib.tensor([[1., 2., 4.]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if name.endswith("_"):
                r = getattr(t.expand(3, 3).clone(), name)(0.1, t1, t2)
            elif name.startswith("Tensor."):
                r = getattr(t, name[7:])(0.1, t1, t2)
            else:
                r = getattr(lib, name)(t, 0.1, t1, t2)
        texts.append([str(w.message).split(" (Triggered internally")[0] for w in caught])
        if lib is ember:
            assert [w.filename for w in caught] == [__file__]
        out.append(r.numpy())
    assert texts[0] == texts[1] and len(texts[0]) == 1
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


_DEPRECATED_OVERLOADS = """
import warnings, {lib} as T
warnings.simplefilter("always")
t = T.ones(2)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    T.addcmul(t, 0.1, t, t); T.addcdiv(t, 0.1, t, t); t.addcmul_(0.1, t, t)
    T.set_warn_always(True)
    T.addcdiv(t, 0.1, t, t); t.addcdiv(0.1, t, t)
print(len(caught))
"""


def test_deprecated_overload_warns_once_per_process_unless_warn_always():
    """torch's TORCH_WARN_ONCE: one warning for all deprecated overloads, then one per call under
    set_warn_always(True)."""
    counts = [subprocess.run([sys.executable, "-c", _DEPRECATED_OVERLOADS.format(lib=lib)], capture_output=True,
                             text=True, check=True).stdout for lib in ("ember", "torch")]
    assert counts[0] == counts[1] == "3\n"


@pytest.mark.parametrize("call", [
    "floor()", "ceil()", "trunc()", "isnan()", "isinf()", "isfinite()", "isposinf()", "nan_to_num()",
    "nan_to_num(1.0, 2.0, -3.0)", "frac()", "exp()", "abs()", "clamp(-1, 1)",
])
def test_bfloat16_pointwise_as_torch(call):
    vals = np.array([-2.7, -1.5, -0.3, 0.0, 0.4, 1.5, 2.5, np.nan, np.inf, -np.inf], dtype=np.float32)
    e = eval("x." + call, {"x": ember.tensor(vals).bfloat16()})
    t = eval("x." + call, {"x": torch.tensor(vals).bfloat16()})
    assert str(e.dtype) == str(t.dtype)
    np.testing.assert_array_equal(e.float().numpy(), t.float().numpy())


def test_bfloat16_trace_keeps_dtype():
    e, t = ember.eye(3).bfloat16().trace(), torch.eye(3).bfloat16().trace()
    assert str(e.dtype) == str(t.dtype) and e.item() == t.item()


HALF_UNARY = ["sigmoid", "erfinv", "lgamma", "digamma", "exp", "log1p", "tanh", "rsqrt", "expm1",
              "nn.functional.gelu", "nn.functional.silu", "nn.functional.mish", "nn.functional.softplus",
              "nn.functional.hardswish", "nn.functional.hardsigmoid", "nn.functional.logsigmoid",
              "nn.functional.softsign"]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", HALF_UNARY)
def test_half_precision_math_rounds_once_as_torch(name, dtype):
    """torch computes these in float32 and rounds once; step-by-step half arithmetic would not match."""
    vals = np.array([-2.7, -1.5, -0.3, 0.0, 0.4, 0.77, 1.5, 2.5, 3.7, 11.3], dtype=np.float32)
    if name in ("erfinv",):
        vals = vals / 12
    res = []
    for lib in (ember, torch):
        x = lib.tensor(vals).to(getattr(lib, dtype))
        y = eval("lib." + name + "(x)", {"lib": lib, "x": x})
        res.append((str(y.dtype), y.float().numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_array_equal(res[0][1], res[1][1])


def test_relu_refuses_bool_as_torch():
    same_error(lambda lib: lib.tensor([True, False]).relu())
    same_error(lambda lib: lib.relu(lib.tensor([True])))


@pytest.mark.parametrize("name", ["atan2", "hypot", "maximum", "minimum", "fmax", "fmin", "logaddexp",
                                  "logical_and", "logical_or", "logical_xor"])
def test_tensor_only_binary_ops_refuse_python_numbers_as_torch(name):
    same_error(lambda lib: getattr(lib, name)(lib.ones(2), 2))
    same_error(lambda lib: getattr(lib, name)(2.5, lib.ones(2)), match="must be Tensor, not float")


# functions of one Tensor that torch refuses a Python number for ("i0(): argument 'input' (position 1) must
# be Tensor, not float"): the registry's ops (and their in-place forms) and the plain Python functions
NUMBER_REFUSERS = (  # noqa: SIM905 - a long list reads better as words
    "abs_ acos acos_ acosh arccos arcsin arcsinh arctan arctan_ arctanh asin asinh atan atanh_ ceil_ cos cosh "
    "deg2rad digamma erf erf_ erfc erfinv exp exp2 exp_ expm1 fix_ floor_ frac_ i0 i0_ lgamma log log10 log1p "
    "log2 log_ logit logit_ neg_ negative_ nan_to_num_ rad2deg reciprocal rsqrt sigmoid sigmoid_ sin sin_ sinh "
    "sqrt square_ tan tanh tanh_ trunc_ argsort atleast_1d atleast_2d atleast_3d bernoulli block_diag "
    "broadcast_tensors cartesian_prod celu_ chain_matmul clamp clamp_ clip clip_ combinations conj corrcoef cov "
    "detach detach_ diag_embed diff empty_like flatten fliplr flipud imag is_complex is_conj is_floating_point "
    "is_neg is_nonzero isreal matrix_exp median meshgrid numel ones_like pdist pinverse poisson positive rand_like "
    "randint_like randn_like ravel real relu_ repeat_interleave resolve_conj resolve_neg rot90 rrelu_ selu_ sinc_ "
    "unbind vander where zeros_like randperm einsum broadcast_shapes").split()


def test_functions_of_a_tensor_refuse_a_python_number_as_torch():
    """``ember.i0(2.0)``: torch's TypeError (or its own error) rather than an AttributeError from inside."""
    wrong = []
    for name in NUMBER_REFUSERS:
        e, t = both(lambda lib, name=name: getattr(lib, name)(2.0))
        if type(e) is not type(t) or ("must be Tensor, not float" in str(t) and
                                       "must be Tensor, not float" not in str(e)):
            wrong.append((name, e, t))
    assert not wrong
    same_error(lambda lib: lib.i0(2.0))
    same_error(lambda lib: lib.sin_(2.0))
    same_error(lambda lib: lib.flatten(2.0))
    same_error(lambda lib: lib.zeros_like(3))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
def test_where_with_a_zero_branch_is_bitwise_torchs(dtype, shape):
    """``where(c, x, 0)`` and ``where(c, 0, x)`` (ReLU's backward) keep inf, nan and -0 of x exactly."""
    rng = np.random.default_rng(0)
    vals = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1.5, -2.25, 3e4])
    a = rng.choice(vals, size=shape)
    c = rng.random(shape) > 0.5
    for ex, tx in ((ember.tensor(a).to(getattr(ember, dtype)), torch.tensor(a).to(getattr(torch, dtype))),
                   (ember.tensor(a.T.copy()).to(getattr(ember, dtype)).T,       # non-contiguous
                    torch.tensor(a.T.copy()).to(getattr(torch, dtype)).T)):
        ec, tc = ember.tensor(c), torch.tensor(c)
        for e, t in ((ember.where(ec, ex, 0), torch.where(tc, tx, 0)),
                     (ember.where(ec, 0.0, ex), torch.where(tc, 0.0, tx))):
            assert e.dtype == getattr(ember, dtype) and tuple(e.shape) == tuple(t.shape)
            ev, tv = e.float().numpy(), t.float().numpy()
            np.testing.assert_array_equal(np.signbit(ev), np.signbit(tv))
            np.testing.assert_array_equal(ev, tv)


@pytest.mark.parametrize("kw", [dict(min="t", max=2.0), dict(min=0.0, max="t")])
def test_clamp_refuses_a_tensor_and_a_number_bound_as_torch(kw):
    for lib in (torch, ember):
        x = lib.ones(2, 3)
        args = {k: (lib.zeros(3) if v == "t" else v) for k, v in kw.items()}
        with pytest.raises(TypeError, match="invalid combination of arguments"):
            lib.clamp(x, **args)
        with pytest.raises(TypeError, match="invalid combination of arguments"):
            x.clamp_(**args)
    np.testing.assert_array_equal(ember.clamp(ember.ones(2, 3), min=ember.zeros(3)).numpy(), np.ones((2, 3)))


@pytest.mark.parametrize("a,b", [([3], [4]), ([True], [True]), ([3], [4.0]), ([True], [1.0])])
def test_hypot_of_two_integer_tensors_is_refused_as_torch(a, b):
    t = e = None
    try:
        t = torch.hypot(torch.tensor(a), torch.tensor(b))
    except NotImplementedError as te:
        with pytest.raises(NotImplementedError) as ee:
            ember.hypot(ember.tensor(a), ember.tensor(b))
        assert str(ee.value) == str(te)
        return
    e = ember.hypot(ember.tensor(a), ember.tensor(b))
    assert str(e.dtype) == str(t.dtype)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
