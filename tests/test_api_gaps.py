"""torch-level functions and Tensor methods filled in against torch 2.13: values, dtypes, grads,
errors, and the small Tensor/dtype API (finfo/iinfo, legacy typed constructors, flags, resize_)."""
import warnings

import numpy as np
import pytest

import ember

import torch

LIBS = (torch, ember)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def same(f, *, tol=1e-5):
    """``f(lib)`` through both libraries: equal shapes, dtypes and values (nested tuples too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = f(torch), f(ember)
    _same(a, b, tol)
    return b


def _same(a, b, tol):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, tol)
        return
    if not isinstance(a, torch.Tensor):
        assert str(a) == str(b), (a, b)
        return
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)
    np.testing.assert_allclose(_np(b), _np(a), rtol=tol, atol=tol, equal_nan=True)


def raises(f, exc, match=None):
    """Both libraries raise ``exc`` (with the same message, or one matching ``match``)."""
    msgs = []
    for lib in LIBS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(exc) as info:
                f(lib)
        msgs.append(str(info.value))
    if match is None:
        assert msgs[1] == msgs[0], msgs
    else:
        assert match in msgs[1], msgs


# ---- pointwise ------------------------------------------------------------------------------------
def test_pointwise_values_and_dtypes():
    x = np.array([-2.5, -1.0, 0.0, 0.3, 1.7, 35.0], dtype=np.float32)
    same(lambda l: (l.i0(l.tensor(x)), l.i0(l.tensor([0, 1, 2]))))
    same(lambda l: (l.sinc(l.tensor(x)), l.sinc(l.tensor([0, 1, 2]))))
    same(lambda l: l.frexp(l.tensor(x)))
    same(lambda l: l.frexp(l.tensor(x, dtype=l.float16)))
    same(lambda l: (l.float_power(l.tensor([1, 2]), 2), l.float_power(2, l.tensor([1.0, 2.0])),
                    l.tensor([1.0, 2.0], dtype=l.float64).float_power_(3)))
    same(lambda l: l.logaddexp2(l.tensor(x), l.tensor(x[::-1].copy())))
    same(lambda l: l.heaviside(l.tensor([1, 0, -1]), l.tensor([7])))
    same(lambda l: l.nextafter(l.tensor([1.0]), l.tensor([2.0], dtype=l.float64)))
    same(lambda l: l.mvlgamma(l.tensor([3, 4]), 2))
    same(lambda l: l.tensor([1.0, 2.0]).sinc_())


def test_frexp_is_a_named_tuple():
    m, e = ember.frexp(ember.tensor([3.0]))
    assert ember.frexp(ember.tensor([3.0])).exponent.dtype is ember.int32
    assert repr(ember.frexp(ember.tensor([3.0]))).startswith("torch.return_types.frexp(")
    assert m.item() == 0.75 and e.item() == 2


def test_pointwise_grads():
    x = np.array([-2.5, -1.0, 0.2, 0.3, 1.7], dtype=np.float64)   # torch's sinc'' is NaN at 0

    def grads(l):
        t = l.tensor(x, requires_grad=True)
        y = l.i0(t).sum() + l.sinc(t).sum() + l.frexp(t * 3).mantissa.sum() + l.mvlgamma(t.abs() + 2, 3).sum()
        (g,) = l.autograd.grad(y, t, create_graph=True)
        (gg,) = l.autograd.grad(g.sum(), t)
        return g, gg
    same(grads)


def test_pointwise_errors():
    raises(lambda l: l.heaviside(l.tensor([1, 0]), l.tensor([0.5])), RuntimeError)
    raises(lambda l: l.heaviside(l.tensor([1.0]), 2), TypeError)
    raises(lambda l: l.nextafter(l.tensor([1]), l.tensor([2])), NotImplementedError)
    raises(lambda l: l.frexp(l.tensor([1, 2])), RuntimeError)
    raises(lambda l: l.tensor([1.0, 2.0]).float_power_(2), RuntimeError)
    raises(lambda l: l.mvlgamma(l.tensor([3.0]), 0), RuntimeError)
    raises(lambda l: l.logaddexp2(l.tensor([3]), l.tensor([1])), NotImplementedError)
    raises(lambda l: l.heaviside(l.tensor([1.0], requires_grad=True), l.tensor([0.5])).sum().backward(),
           RuntimeError)


# ---- reductions -----------------------------------------------------------------------------------
def test_reduction_values():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    same(lambda l: l.logcumsumexp(l.tensor([[-1000.0, 0.0, 5.0]]), 1))
    same(lambda l: l.quantile(l.tensor(x), l.tensor([0.2, 0.8]), dim=0, keepdim=True, interpolation="nearest"))
    same(lambda l: l.nanquantile(l.tensor([[np.nan, 1.0, 2.0], [np.nan] * 3]), 0.5, dim=1))
    same(lambda l: l.quantile(l.tensor([[np.nan, 1.0, 2.0]]), 0.5, dim=1))
    same(lambda l: (l.histc(l.tensor(x), bins=4, min=-1, max=1), l.histc(l.tensor([1.0, 1.0]), bins=3)))
    same(lambda l: (l.bincount(l.tensor([1, 3, 3])), l.bincount(l.tensor([], dtype=l.int64), minlength=2),
                    l.bincount(l.tensor([0, 2]), l.tensor([1.0, 2.0])),
                    l.bincount(l.tensor([0, 2]), l.tensor([1, 2]))))
    same(lambda l: (l.cov(l.tensor([[1, 2, 4], [1, 3, 2]])), l.corrcoef(l.tensor(x)), l.cov(l.tensor(x[0]))))
    same(lambda l: (l.dist(l.tensor(x), l.tensor(x[0])), l.dist(l.tensor(x), l.tensor(x[1]), 0),
                    l.dist(l.tensor(x), l.tensor(x[1]), float("inf"))))
    same(lambda l: l.renorm(l.tensor(x), 3, 1, 0.5))
    same(lambda l: l.tensor(x).renorm_(1, 0, 1.0))


def test_reduction_errors():
    raises(lambda l: l.quantile(l.tensor([1, 2, 3]), 0.5), RuntimeError)
    raises(lambda l: l.quantile(l.tensor([1.0, 2.0]), 1.5), RuntimeError)
    raises(lambda l: l.quantile(l.tensor([1.0, 2.0]), l.tensor([0.5], dtype=l.float64)), RuntimeError)
    raises(lambda l: l.quantile(l.tensor([1.0, 2.0]), 0.5, interpolation="foo"), RuntimeError)
    raises(lambda l: l.quantile(l.tensor([]), 0.5), RuntimeError)
    raises(lambda l: l.histc(l.tensor([1, 2])), NotImplementedError)
    raises(lambda l: l.histc(l.tensor([1.0]), min=3, max=0), RuntimeError)
    raises(lambda l: l.bincount(l.tensor([1, -2])), RuntimeError)
    raises(lambda l: l.bincount(l.tensor([[1, 2]])), RuntimeError)
    raises(lambda l: l.bincount(l.tensor([1.0])), NotImplementedError)
    raises(lambda l: l.logcumsumexp(l.tensor([1, 2]), 0), NotImplementedError)
    raises(lambda l: l.cov(l.ones(2, 2, 2)), RuntimeError)
    raises(lambda l: l.renorm(l.ones(3, 2), -1, 0, 1), RuntimeError)
    raises(lambda l: l.renorm(l.ones(3, 2), 2, 5, 1), IndexError)


# ---- shape ----------------------------------------------------------------------------------------
def test_shape_functions():
    same(lambda l: l.hsplit(l.arange(8.0).reshape(2, 4), [1, 3]))
    same(lambda l: (l.vsplit(l.arange(8).reshape(4, 2), 2), l.dsplit(l.arange(8).reshape(1, 2, 4), 2)))
    same(lambda l: (l.diff(l.tensor([1, 3, 6, 10]), n=2), l.diff(l.tensor([True, False, False])),
                    l.diff(l.tensor([1, 3, 6]), prepend=l.tensor([0.5])), l.diff(l.tensor([1, 3]), n=0)))
    same(lambda l: (l.combinations(l.tensor([1, 2, 3]), 0), l.combinations(l.tensor([1, 2, 3]), 4),
                    l.combinations(l.tensor([1, 2]), 3, with_replacement=True)))
    same(lambda l: (l.cartesian_prod(l.tensor([1, 2])), l.block_diag(),
                    l.block_diag(l.tensor([1, 2]), l.tensor(3.0), l.ones(2, 2, dtype=l.int32))))
    same(lambda l: (l.row_stack([l.ones(2), l.zeros(2)]), l.as_strided(l.arange(6.0), (2, 2), (1, 2), 1)))
    same(lambda l: (l.vander(l.tensor([1, 2, 3])), l.vander(l.tensor([1.5, 2.0]), N=4, increasing=True),
                    l.vander(l.tensor([True, False])), l.vander(l.tensor([1, 2]), N=0)))


def test_shape_errors():
    raises(lambda l: l.hsplit(l.ones(2, 4), 3), RuntimeError)
    raises(lambda l: l.hsplit(l.tensor(1.0), 3), RuntimeError)
    raises(lambda l: l.vsplit(l.ones(4), 2), RuntimeError)
    raises(lambda l: l.dsplit(l.ones(2, 2), 2), RuntimeError)
    raises(lambda l: l.diff(l.tensor(3.0)), RuntimeError)
    raises(lambda l: l.diff(l.tensor([1, 3]), n=-1), RuntimeError)
    raises(lambda l: l.diff(l.tensor([[1, 3]]), prepend=l.tensor([0])), RuntimeError)
    raises(lambda l: l.combinations(l.ones(2, 2)), RuntimeError)
    raises(lambda l: l.combinations(l.ones(2), -1), RuntimeError)
    raises(lambda l: l.cartesian_prod(l.tensor([1, 2]), l.tensor([1.0])), RuntimeError)
    raises(lambda l: l.block_diag(l.ones(2, 2, 2)), RuntimeError)
    raises(lambda l: l.vander(l.ones(2, 2)), RuntimeError)
    raises(lambda l: l.vander(l.ones(2), N=-1), RuntimeError)


# ---- complex --------------------------------------------------------------------------------------
def test_complex_functions():
    same(lambda l: (l.view_as_real(l.complex(l.tensor([1.0, 2.0]), l.tensor([[3.0], [4.0]]))),
                    l.polar(l.tensor([1.0, 2.0], dtype=l.float64), l.tensor([0.5, 3.0], dtype=l.float64)),
                    l.view_as_complex(l.arange(12.0).reshape(3, 4)[:, :2])))
    same(lambda l: (l.real(l.tensor([1 + 2j])), l.imag(l.tensor([1 + 2j])), l.tensor([1 + 2j]).imag,
                    l.ones(2).real, l.ones(2).cfloat(), l.ones(2).cdouble()))
    t = ember.ones(3)
    assert t.real is t and ember.is_complex(t.cfloat()) and not ember.is_complex(t)
    c = ember.tensor([1 + 2j, 3 - 1j])
    c.real.mul_(2)                          # real/imag are views
    assert c.tolist() == [2 + 2j, 6 - 1j]


def test_complex_grads():
    def grads(l):
        a = l.tensor([1.0, 2.0], requires_grad=True)
        b = l.tensor([3.0, -4.0], requires_grad=True)
        z = l.complex(a, b)
        y = (l.view_as_real(z) * l.tensor([1.0, 2.0])).sum() + (z.imag * 3).sum() + z.real.sum()
        return l.autograd.grad(y, (a, b))
    same(grads)


def test_complex_errors():
    raises(lambda l: l.view_as_real(l.ones(3)), RuntimeError)
    raises(lambda l: l.view_as_complex(l.ones(3)), RuntimeError)
    raises(lambda l: l.view_as_complex(l.ones(2, 3)[:, :2]), RuntimeError)
    raises(lambda l: l.ones(3).imag, RuntimeError)
    raises(lambda l: l.complex(l.ones(3), l.ones(3, dtype=l.float64)), RuntimeError)
    raises(lambda l: l.complex(l.ones(3, dtype=l.int64), l.ones(3, dtype=l.int64)), RuntimeError)
    raises(lambda l: l.complex(l.ones(2), 1.0), TypeError)


# ---- linalg ---------------------------------------------------------------------------------------
def test_linalg_aliases():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    b = rng.standard_normal((3, 2))
    same(lambda l: l.svd(l.tensor(b)).S)
    same(lambda l: l.svd(l.tensor(b), compute_uv=False))
    U, S, V = ember.svd(ember.tensor(b), some=False)
    assert tuple(U.shape) == (3, 3) and tuple(V.shape) == (2, 2)
    U, S, V = ember.svd(ember.tensor(a))
    np.testing.assert_allclose((U @ ember.diag(S) @ V.mT).numpy(), a, atol=1e-10)
    assert repr(ember.svd(ember.tensor(a))).startswith("torch.return_types.svd(")
    same(lambda l: [x.abs() for x in l.qr(l.tensor(b), some=False)])
    same(lambda l: (l.logdet(l.tensor(-np.eye(3))), l.logdet(l.zeros(2, 2)), l.tensor(a).logdet()))
    same(lambda l: l.pinverse(l.tensor(b)))
    same(lambda l: l.chain_matmul(l.tensor(a)))
    same(lambda l: l.matrix_exp(l.tensor(a) * 6), tol=1e-8)
    same(lambda l: l.cdist(l.tensor([[0.0, 1.0], [1.0, 1.0]]), l.tensor([[0.0, 1.0]])))


def test_cdist_grad_at_zero_distance():
    def grads(l):
        x = l.tensor([[0.0, 1.0], [1.0, 1.0]], requires_grad=True)
        return l.autograd.grad(l.cdist(x, x).sum(), x)
    same(grads)


def test_linalg_errors():
    raises(lambda l: l.chain_matmul(), RuntimeError)
    raises(lambda l: l.chain_matmul(l.ones(2)), RuntimeError)
    raises(lambda l: l.triangular_solve(l.ones(2), l.eye(2)), RuntimeError)
    raises(lambda l: l.matrix_exp(l.ones(2, 3)), RuntimeError)
    raises(lambda l: l.cdist(l.ones(3), l.ones(4, 3)), RuntimeError)
    raises(lambda l: l.cdist(l.ones(3, 2), l.ones(4, 3)), RuntimeError)
    raises(lambda l: l.cdist(l.ones(2, 3, dtype=l.int64), l.ones(2, 3, dtype=l.int64)), RuntimeError)
    raises(lambda l: l.cdist(l.ones(2, 3), l.ones(2, 3), p=-1), RuntimeError)
    raises(lambda l: l.cdist(l.ones(2, 3), l.ones(2, 3, dtype=l.float64)), RuntimeError)


# ---- indexing -------------------------------------------------------------------------------------
def test_indexing_functions():
    same(lambda l: (l.isin(l.tensor([3, 4]), l.tensor([1.0, 4.0])), l.isin(3, l.tensor([3, 4])),
                    l.isin(l.tensor([3, 4]), 4, invert=True)))
    same(lambda l: l.ones(3, dtype=l.int64).index_reduce_(0, l.tensor([0, 0, 2]), l.tensor([1, 2, 4]), "mean"))
    same(lambda l: l.zeros(7, 3).fill_diagonal_(2, wrap=True))
    same(lambda l: l.zeros(3, 3, dtype=l.int64).fill_diagonal_(2.7))
    t = ember.tensor([1, 2])
    assert 2 in t and 5 not in t and ember.tensor([1]) in t


def test_indexing_errors():
    raises(lambda l: l.ones(3).index_reduce_(0, l.tensor([0]), l.ones(1), "sum"), RuntimeError)
    raises(lambda l: l.zeros(3, 3, 2).fill_diagonal_(2), RuntimeError)
    raises(lambda l: l.zeros(3).fill_diagonal_(2), RuntimeError)
    raises(lambda l: [1] in l.tensor([1, 2]), RuntimeError)


# ---- dtype info, legacy types, Tensor flags -------------------------------------------------------
@pytest.mark.parametrize("name", ["float32", "float64", "float16", "bfloat16", "complex64", "complex128"])
def test_finfo(name):
    a, b = torch.finfo(getattr(torch, name)), ember.finfo(getattr(ember, name))
    assert repr(a) == repr(b)
    for f in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(a, f) == getattr(b, f), f
    assert repr(torch.finfo()) == repr(ember.finfo())


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    a, b = torch.iinfo(getattr(torch, name)), ember.iinfo(getattr(ember, name))
    assert repr(a) == repr(b)
    assert (a.bits, a.max, a.min, a.dtype) == (b.bits, b.max, b.min, b.dtype)


def test_dtype_info_errors():
    raises(lambda l: l.finfo(l.int32), TypeError)
    raises(lambda l: l.iinfo(l.float32), TypeError)
    raises(lambda l: l.iinfo(l.bool), TypeError)


def test_legacy_typed_constructors():
    same(lambda l: (l.FloatTensor(2, 3).shape, l.FloatTensor([1, 2]), l.LongTensor([1.5, 2]), l.FloatTensor(),
                    l.BoolTensor([1, 0]), l.ByteTensor(2).dtype, l.FloatTensor(l.Size([2, 3])).shape,
                    l.FloatTensor((2, 3)), l.DoubleTensor(2).dtype, l.HalfTensor([1]), l.IntTensor([1]),
                    l.ShortTensor([1]), l.CharTensor([1]), l.BFloat16Tensor([1]).dtype))
    same(lambda l: (l.ones(2).type(l.LongTensor), l.ones(2).type("torch.LongTensor"), l.ones(2).long().type()))
    assert isinstance(ember.ones(2), ember.FloatTensor)
    assert not isinstance(ember.ones(2).long(), ember.FloatTensor)
    assert isinstance(ember.ones(2).long(), ember.LongTensor)
    assert repr(ember.FloatTensor) == repr(torch.FloatTensor) and ember.FloatTensor.dtype is ember.float32
    t = ember.tensor([1.0, 2.0], dtype=ember.float64)
    assert ember.DoubleTensor(t) is t
    raises(lambda l: l.FloatTensor(l.tensor([1, 2])), TypeError, match="expected")
    raises(lambda l: l.FloatTensor([1, 2], device="meta"), RuntimeError)
    # a CUDA tensor type without CUDA fails in torch's dispatcher (not in torch.cuda's lazy init)
    for cuda_type in (lambda l: l.cuda.FloatTensor, lambda l: l.cuda.LongTensor, lambda l: "torch.cuda.DoubleTensor"):
        raises(lambda l, cuda_type=cuda_type: l.ones(2).type(cuda_type(l)), RuntimeError,
               match="Cannot initialize CUDA without ATen_cuda library.")


def test_tensor_flags_and_predicates():
    for lib in LIBS:
        t = lib.ones(2)
        assert repr(t.layout) == "torch.strided" and t.layout is lib.strided
        assert (t.is_sparse, t.is_quantized, t.is_meta, t.is_pinned()) == (False, False, False, False)
        assert not t.is_shared() and t.share_memory_() is t and t.is_shared()
        assert lib.tensor(1).is_signed() and not lib.tensor(1, dtype=lib.uint8).is_signed()
        assert lib.ones(1, dtype=lib.complex64).is_signed() and not lib.tensor(True).is_signed()
        assert lib.tensor([2.0]).is_nonzero() and not lib.tensor([0.0]).is_nonzero()
        assert lib.tensor(1.0).is_same_size(lib.tensor(2.0)) and not t.is_same_size(lib.ones(3))
        assert lib.is_nonzero(lib.tensor(3)) and lib.is_same_size(t, lib.zeros(2))
    # a CPU-only build has no accelerator to pin memory for (ember's tests run without CUDA)
    raises(lambda l: l.ones(2).pin_memory(), RuntimeError)
    raises(lambda l: l.ones(2).untyped_storage().pin_memory(), RuntimeError)
    raises(lambda l: l.ones(2).pin_memory("cpu"), RuntimeError)
    raises(lambda l: l.ones(2).pin_memory("cuda"), RuntimeError,
           match="Cannot initialize CUDA without ATen_cuda library.")
    for make in (lambda l: l.tensor([1.0], pin_memory=True), lambda l: l.ones(2, pin_memory=True),
                 lambda l: l.full((2,), 1.0, pin_memory=True), lambda l: l.arange(3, pin_memory=True),
                 lambda l: l.randn(2, pin_memory=True), lambda l: l.randperm(3, pin_memory=True)):
        raises(make, RuntimeError)
    for lib in LIBS:
        assert lib.ones(2, pin_memory=False).tolist() == [1.0, 1.0]
        assert lib.ones(2).untyped_storage().is_pinned() is False
        with pytest.warns(DeprecationWarning, match="The argument 'device' of Tensor.is_pinned"):
            assert lib.ones(2).is_pinned("cuda") is False
    raises(lambda l: l.tensor([1.0, 2.0]).is_nonzero(), RuntimeError)
    raises(lambda l: l.tensor([]).is_nonzero(), RuntimeError)


def test_untyped_storage():
    t = ember.arange(6.0)
    s = t[2:].untyped_storage()
    ts = torch.arange(6.0)[2:].untyped_storage()
    assert (s.nbytes(), s.size()) == (ts.nbytes(), ts.size())
    assert s.data_ptr() == t.data_ptr()


def test_apply_and_map():
    same(lambda l: (l.ones(2).apply_(lambda v: v * 2), l.ones(2, 2).map_(l.tensor([1.0, 2.0]), lambda a, b: a + b),
                    l.ones(2, dtype=l.int32).apply_(lambda v: v + 1.7)))
    raises(lambda l: l.ones(2, requires_grad=True).apply_(lambda v: v), RuntimeError)
    raises(lambda l: l.ones(2).map_(l.tensor([1, 2]), lambda a, b: a), TypeError)
    raises(lambda l: l.ones(2).map_(l.ones(3), lambda a, b: a), RuntimeError)


def test_resize():
    def resized(l):
        t = l.arange(6.0)
        v = t[2:]
        v.resize_(2)
        v[0] = 100                          # shrinking keeps sharing the storage
        return (t, l.arange(6.0).resize_(2, 2), l.arange(6.0).resize_(2, 4)[:, :3].shape,
                l.arange(6.0).resize_((3,)), l.arange(6.0).resize_as_(l.ones(2, 2)),
                l.arange(6.0)[::2].resize_(2), l.arange(6.0).reshape(2, 3).t().resize_(4))
    same(resized)
    raises(lambda l: l.arange(6.0, requires_grad=True).resize_(3), RuntimeError)


def test_imatmul_is_out_of_place():
    for lib in LIBS:
        a = lib.ones(2, 2)
        before = a
        a @= lib.ones(2, 3)
        assert a is not before and tuple(a.shape) == (2, 3)


def test_linalg_module_additions():
    same(lambda l: (l.linalg.multi_dot([l.arange(3.0), l.ones(3, 2), l.arange(2.0)]),
                    l.linalg.multi_dot([l.ones(2, 3), l.ones(3)]), l.linalg.matrix_exp(l.eye(2) * 2)))
    raises(lambda l: l.linalg.multi_dot([l.ones(2, 2)]), RuntimeError)
    raises(lambda l: l.linalg.multi_dot([l.ones(3, 2, 2), l.ones(2, 2)]), RuntimeError)
    raises(lambda l: l.linalg.multi_dot([l.ones(2, 2), l.ones(2, 2, dtype=l.float64)]), RuntimeError)
    raises(lambda l: l.linalg.multi_dot([l.ones(2, 3), l.ones(2, 2)]), RuntimeError)
    raises(lambda l: l.linalg.multi_dot([l.ones(2, 3), l.ones(3), l.ones(2, 2)]), RuntimeError)

    def grads(l):
        a = l.tensor([[0.5, 1.0], [2.0, -1.0]], requires_grad=True)
        return l.autograd.grad(l.linalg.multi_dot([a, a, a]).sum(), a)
    same(grads)


# ---- out= ------------------------------------------------------------------------------------------
OUT_CALLS = {
    "add": (lambda lib, o: lib.add(lib.ones(2, 3), 1, out=o), lambda lib: lib.empty(2, 3)),
    "add_resize_empty": (lambda lib, o: lib.add(lib.ones(2, 3), 1, out=o), lambda lib: lib.empty(0)),
    "add_int_into_float": (lambda lib, o: lib.add(lib.arange(3), 1, out=o), lambda lib: lib.empty(3)),
    "exp": (lambda lib, o: lib.exp(lib.zeros(2), out=o), lambda lib: lib.empty(2)),
    "sum_dim": (lambda lib, o: lib.sum(lib.ones(2, 3), 1, out=o), lambda lib: lib.empty(2)),
    "mean": (lambda lib, o: lib.mean(lib.ones(2, 3), 0, out=o), lambda lib: lib.empty(3)),
    "matmul": (lambda lib, o: lib.matmul(lib.ones(2, 2), lib.ones(2, 2), out=o), lambda lib: lib.empty(2, 2)),
    "mm": (lambda lib, o: lib.mm(lib.ones(2, 2), lib.ones(2, 2), out=o), lambda lib: lib.empty(2, 2)),
    "where": (lambda lib, o: lib.where(lib.tensor([True, False]), lib.ones(2), lib.zeros(2), out=o),
              lambda lib: lib.empty(2)),
    "clamp": (lambda lib, o: lib.clamp(lib.tensor([3., 1.]), 0, 2, out=o), lambda lib: lib.empty(2)),
    "eq": (lambda lib, o: lib.eq(lib.ones(2), 1, out=o), lambda lib: lib.empty(2, dtype=lib.bool)),
    "cumsum": (lambda lib, o: lib.cumsum(lib.ones(3), 0, out=o), lambda lib: lib.empty(3)),
    "index_select": (lambda lib, o: lib.index_select(lib.arange(3.), 0, lib.tensor([2, 0]), out=o),
                     lambda lib: lib.empty(2)),
    "max_dim": (lambda lib, o: lib.max(lib.tensor([[1., 3.], [4., 2.]]), 1, out=o),
                lambda lib: (lib.empty(2), lib.empty(2, dtype=lib.int64))),
    "sort": (lambda lib, o: lib.sort(lib.tensor([3., 1., 2.]), out=o),
             lambda lib: (lib.empty(3), lib.empty(3, dtype=lib.int64))),
}


@pytest.mark.parametrize("name", list(OUT_CALLS))
def test_out_argument_writes_into_the_given_tensor(name):
    call, make_out = OUT_CALLS[name]
    got = []
    for lib in LIBS:
        out = make_out(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = call(lib, out)
        if isinstance(out, tuple):
            assert all(a is b for a, b in zip(r, out)) and r.values is out[0]
            got.append([(str(o.dtype), o.tolist()) for o in out])
        else:
            assert r is out
            got.append((str(out.dtype), out.tolist()))
    assert got[0] == got[1]


def test_out_writes_through_a_view_of_another_tensor():
    res = []
    for lib in LIBS:
        base = lib.zeros(3, 2)
        lib.add(lib.ones(2), 1, out=base[1])
        res.append(base.tolist())
    assert res[0] == res[1]


@pytest.mark.parametrize("call", [
    lambda lib: lib.add(lib.ones(2), 1, out=lib.empty(2, dtype=lib.int64)),
    lambda lib: lib.add(lib.ones(2, requires_grad=True), 1, out=lib.empty(2)),
    lambda lib: lib.mul(lib.ones(2), 1, out=lib.empty(2, requires_grad=True)),
    lambda lib: lib.add(lib.ones(2), 1, out=[1]),
])
def test_out_argument_errors_as_torch(call):
    errs = []
    for lib in LIBS:
        with pytest.raises(Exception) as info:
            call(lib)
        errs.append((type(info.value).__name__, str(info.value)))
    assert errs[0] == errs[1]


def test_out_resize_warns_as_torch():
    for lib in LIBS:
        with pytest.warns(UserWarning, match="was resized since it had shape \\[3\\]"):
            lib.add(lib.ones(2), 1, out=lib.empty(3))


# ---- in-place variants made of other ops, legacy new(), conj family ------------------------------------
INPLACE_COMPOSITES = {
    "cumsum_": lambda lib, y: y.cumsum_(0),
    "cumprod_": lambda lib, y: y.cumprod_(0),
    "addmm_": lambda lib, y: y.view(3, 1).addmm_(lib.full((3, 2), 0.5), lib.ones(2, 1), beta=2, alpha=0.5),
    "addmv_": lambda lib, y: y.addmv_(lib.full((3, 2), 0.5), lib.ones(2)),
    "addr_": lambda lib, y: y.view(3, 1).addr_(lib.ones(3), lib.full((1,), 3.0)),
    "baddbmm_": lambda lib, y: y.view(1, 3, 1).baddbmm_(lib.ones(1, 3, 2), lib.ones(1, 2, 1)),
    "addbmm_": lambda lib, y: y.view(3, 1).addbmm_(lib.ones(2, 3, 2), lib.ones(2, 2, 1)),
}


@pytest.mark.parametrize("name", list(INPLACE_COMPOSITES))
def test_inplace_composites_values_and_grads(name):
    res = []
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1
        INPLACE_COMPOSITES[name](lib, y)
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        plain = lib.tensor([1.0, 2.0, 3.0])
        INPLACE_COMPOSITES[name](lib, plain)
        res.append((y.tolist(), x.grad.tolist(), plain.tolist()))
    assert res[0] == res[1]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        INPLACE_COMPOSITES[name](ember, ember.tensor([1.0, 2.0, 3.0], requires_grad=True))


def test_legacy_new_and_get_device():
    for args in [(), (2, 3), ([1, 2],), ((2, 3),)]:
        e, t = ember.ones(2, dtype=ember.float64).new(*args), torch.ones(2, dtype=torch.float64).new(*args)
        assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
        if args and isinstance(args[0], (list, tuple)):
            assert e.tolist() == t.tolist()
    assert tuple(ember.ones(1).new(ember.Size([2, 3])).shape) == (2, 3)
    with pytest.raises(TypeError, match="data must be a sequence"):
        ember.ones(1).new(2.5)
    assert ember.ones(1).get_device() == torch.ones(1).get_device() == -1


def test_conj_family_on_real_and_complex():
    for lib in LIBS:
        x = lib.ones(2)
        assert x.conj() is x and x.resolve_conj() is x and x.resolve_neg() is x
        assert not x.is_conj() and not x.is_neg() and x.isreal().tolist() == [True, True]
    e, t = ember.tensor([1 + 2j, 3 + 0j]), torch.tensor([1 + 2j, 3 + 0j])
    assert ember.conj(e).tolist() == torch.conj(t).resolve_conj().tolist()
    assert e.isreal().tolist() == t.isreal().tolist() == [False, True]


@pytest.mark.parametrize("call,same_text", [
    (lambda lib: lib.where(lib.ones(4) > 0, lib.ones(2, 3), 0.0), True),
    (lambda lib: lib.randperm(-1), True),
    (lambda lib: lib.full((2,), "a"), True),
    (lambda lib: lib.ones(1).type("torch.float32"), True),
    (lambda lib: lib.ones(1).type("FloatTensor"), True),
    (lambda lib: lib.normal(lib.zeros(2), -1.0), True),
    (lambda lib: lib.arange(6.0).reshape(2.5), False),
    (lambda lib: lib.arange(6.0).view("a"), False),
    (lambda lib: lib.arange(6.0).view(2, 3.0), False),
])
def test_bad_inputs_raise_torch_exception_types(call, same_text):
    errs = []
    for lib in LIBS:
        with pytest.raises(Exception) as info:
            call(lib)
        errs.append((type(info.value), str(info.value)))
    assert errs[0][0] is errs[1][0], errs
    if same_text:
        assert errs[0][1] == errs[1][1]


def test_legacy_tensor_of_a_tensor_is_an_alias_as_torch():
    for lib in (torch, ember):
        a = lib.tensor([1, 2])
        b = lib.Tensor(a)
        b[0] = 5
        assert a.tolist() == [5, 2] and str(b.dtype) == "torch.int64"


def test_flatten_of_a_scalar_checks_dims_as_torch():
    for lib in (torch, ember):
        assert tuple(lib.ones(()).flatten(-1, 0).shape) == (1,)
    with pytest.raises(IndexError) as te:
        torch.ones(()).flatten(1)
    with pytest.raises(IndexError) as ee:
        ember.ones(()).flatten(1)
    assert str(ee.value) == str(te.value)


def test_float_of_a_tensor_requiring_grad_warns_once_as_torch(monkeypatch):
    import ember._tensor as et
    monkeypatch.setattr(et, "_WARNED_FLOAT_OF_GRAD", False)
    a = ember.tensor(3.0, requires_grad=True)
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True to a scalar") as rec:
        assert float(a) == 3.0
        float(a)
    assert len([w for w in rec if "Converting" in str(w.message)]) == 1


def test_tensor_and_parameter_classes_print_their_public_names_as_torch():
    """``type(t)`` shows ``<class 'ember.Tensor'>`` as torch's shows ``<class 'torch.Tensor'>``; the class
    still pickles by name, and ``torch.typename`` spells it as torch."""
    import pickle
    for e, t in ((type(ember.ones(1)), type(torch.ones(1))),
                 (type(ember.nn.Parameter(ember.ones(1))), type(torch.nn.Parameter(torch.ones(1))))):
        assert repr(e) == repr(t).replace("torch", "ember") and e.__qualname__ == t.__qualname__
        assert pickle.loads(pickle.dumps(e)) is e
    assert ember.typename(ember.Tensor) == torch.typename(torch.Tensor) == "torch.Tensor"
    p = pickle.loads(pickle.dumps(ember.nn.Parameter(ember.ones(2))))
    assert type(p) is ember.nn.Parameter and p.requires_grad
