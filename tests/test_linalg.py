"""Linear algebra beyond the OpInfo table: torch's errors, decompositions, matmul's fast path."""
import numpy as np
import pytest
import torch

import ember


def _both(fn, *arrays):
    """Run ``fn`` through ember and torch on the same arrays; both must raise the same error."""
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            fn(lib, *[lib.tensor(a) for a in arrays])
        msgs.append((type(info.value), str(info.value)))
    assert msgs[0] == msgs[1]


F, D = np.float32, np.float64


@pytest.mark.parametrize("fn,shapes", [
    (lambda lib, a, b: lib.mm(a, b), [((2, 3), F), ((4, 5), F)]),
    (lambda lib, a, b: lib.mm(a, b), [((2, 3), F), ((3, 2), D)]),
    (lambda lib, a, b: lib.matmul(a, b), [((2, 3), F), ((3, 2), D)]),
    (lambda lib, a, b: a @ b, [((3,), F), ((4,), F)]),
    (lambda lib, a, b: a @ b, [((2, 3), F), ((4,), F)]),
    (lambda lib, a, b: a @ b, [((3,), F), ((4, 2), F)]),
    (lambda lib, a, b: a @ b, [((2, 2, 3), F), ((3, 4, 2), F)]),
    (lambda lib, a, b: a @ b, [((), F), ((3,), F)]),
    (lambda lib, a, b: lib.bmm(a, b), [((2, 2, 3), F), ((3, 3, 2), F)]),
    (lambda lib, a, b: lib.bmm(a, b), [((2, 2, 3), F), ((2, 4, 2), F)]),
    (lambda lib, a, b: lib.bmm(a, b), [((2, 3), F), ((2, 4, 2), F)]),
    (lambda lib, a, b: lib.mm(a, b), [((3,), F), ((3, 2), F)]),
    (lambda lib, a, b: lib.mv(a, b), [((2, 3), F), ((4,), F)]),
    (lambda lib, a, b: lib.dot(a, b), [((3,), F), ((4,), F)]),
    (lambda lib, a, b: lib.dot(a, b), [((3, 1), F), ((3,), F)]),
    (lambda lib, a, b: lib.dot(a, b), [((3,), F), ((3,), D)]),
    (lambda lib, a, b: lib.einsum("ij,jk", a, b), [((2, 3), F), ((4, 2), F)]),
    (lambda lib, a, b: lib.einsum("ij,jk", a, b), [((2, 3), F), ((3, 2), D)]),
    (lambda lib, a, b: lib.tensordot(a, b, dims=1), [((2, 3), F), ((4, 2), F)]),
    (lambda lib, a, b: lib.linalg.cross(a, b), [((2, 4), F), ((2, 4), F)]),
])
def test_errors_match_torch(fn, shapes):
    _both(fn, *[np.ones(s, dtype=d) for s, d in shapes])


def test_matmul_no_promotion_and_int():
    a = ember.tensor([[1, 2], [3, 4]])
    assert (a @ a).dtype == ember.int64 and (a @ a).tolist() == [[7, 10], [15, 22]]
    assert ember.matmul(ember.ones(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)).dtype == ember.float64


def test_matmul_calls_backend_on_the_arrays_as_they_are(monkeypatch):
    a, b = ember.randn(4, 3), ember.randn(3, 5)
    seen = []
    real = np.matmul

    def spy(x, y, *args, **kw):
        seen.append((x, y))
        return real(x, y, *args, **kw)
    monkeypatch.setattr(np, "matmul", spy)
    out = a @ b
    assert seen and seen[0][0] is a._data and seen[0][1] is b._data
    assert out.dtype == ember.float32


def test_rmatmul_and_methods():
    a = ember.randn(2, 3)
    b = np.ones((3, 2), dtype=np.float32)
    assert (a @ ember.tensor(b)).shape == (2, 2)
    assert a.mm(ember.tensor(b)).shape == (2, 2)
    assert a.matmul(ember.tensor(b)).shape == (2, 2)
    assert a.mv(ember.ones(3)).shape == (2,)


def test_matmul_double_backward():
    a = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    b = ember.randn(3, 2, dtype=ember.float64, requires_grad=True)
    (ga,) = ember.autograd.grad((a @ b).sum() * 1.0, [a], create_graph=True)
    (gb,) = ember.autograd.grad((ga * ga).sum(), [b])
    ta = torch.tensor(a.detach().numpy(), requires_grad=True)
    tb = torch.tensor(b.detach().numpy(), requires_grad=True)
    (tga,) = torch.autograd.grad((ta @ tb).sum(), [ta], create_graph=True)
    (tgb,) = torch.autograd.grad((tga * tga).sum(), [tb])
    np.testing.assert_allclose(gb.numpy(), tgb.numpy(), rtol=1e-10)


def test_einsum_repeated_index_grad():
    x = ember.randn(3, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.einsum("ii->i", t), [x])
    assert ember.autograd.gradcheck(lambda t: ember.einsum("iij->j", t), [ember.randn(2, 2, 3, dtype=ember.float64,
                                                                                     requires_grad=True)])


def _spd(n=4):
    a = np.random.default_rng(0).standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


def test_decompositions_reconstruct():
    a = ember.tensor(np.random.default_rng(1).standard_normal((4, 3)))
    q, r = ember.linalg.qr(a)
    np.testing.assert_allclose((q @ r).numpy(), a.numpy(), atol=1e-12)
    u, s, vh = ember.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(((u * s) @ vh).numpy(), a.numpy(), atol=1e-12)
    np.testing.assert_allclose(s.numpy(), torch.linalg.svdvals(torch.tensor(a.numpy())).numpy(), rtol=1e-12)
    assert ember.linalg.svd(a).U.shape == (4, 4)
    h = ember.tensor(_spd())
    w, v = ember.linalg.eigh(h)
    tw, _ = torch.linalg.eigh(torch.tensor(_spd()))
    np.testing.assert_allclose(w.numpy(), tw.numpy(), rtol=1e-12)
    np.testing.assert_allclose((v @ ember.diag(w) @ ember.einsum("ij->ji", v)).numpy(), _spd(), atol=1e-10)
    np.testing.assert_allclose(ember.linalg.pinv(a).numpy(), torch.linalg.pinv(torch.tensor(a.numpy())).numpy(),
                               atol=1e-12)
    res = ember.linalg.slogdet(h)
    assert res.sign.item() == 1.0 and abs(res.logabsdet.item() - np.log(np.linalg.det(_spd()))) < 1e-10


def test_linalg_errors():
    with pytest.raises(RuntimeError, match="not positive-definite"):
        ember.linalg.cholesky(-ember.eye(2))
    with pytest.raises(RuntimeError, match="singular"):
        ember.linalg.inv(ember.zeros(2, 2))
    with pytest.raises(RuntimeError, match="square matrices"):
        ember.linalg.inv(ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        ember.linalg.det(ember.zeros(2, 2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="singular"):
        ember.linalg.solve(ember.zeros(2, 2), ember.ones(2))


def test_cholesky_upper_and_solve_left():
    a = ember.tensor(_spd())
    u = ember.linalg.cholesky(a, upper=True)
    np.testing.assert_allclose(u.numpy(), torch.linalg.cholesky(torch.tensor(_spd()), upper=True).numpy(),
                               rtol=1e-12)
    b = ember.tensor(np.ones((2, 4)))
    np.testing.assert_allclose(ember.linalg.solve(a, b, left=False).numpy(),
                               torch.linalg.solve(torch.tensor(_spd()), torch.ones(2, 4, dtype=torch.float64),
                                                  left=False).numpy(), rtol=1e-10)


@pytest.mark.parametrize("sa,sb", [((2, 2, 3), (2, 4, 2)), ((2, 2, 3), (4, 2)), ((3,), (2, 4, 2)),
                                   ((2, 2, 3), (4,)), ((2, 3), (5, 4, 2)), ((2, 1, 2, 3), (3, 4, 2))])
def test_batched_matmul_errors(sa, sb):
    _both(lambda lib, a, b: a @ b, np.ones(sa, dtype=F), np.ones(sb, dtype=F))


@pytest.mark.parametrize("fn", [
    lambda lib, a: a @ a, lambda lib, a: lib.mm(a, a), lambda lib, a: lib.bmm(a[None], a[None]),
    lambda lib, a: lib.mv(a, a[0]), lambda lib, a: a[0] @ a[0], lambda lib, a: lib.matmul(a[None], a),
    lambda lib, a: lib.einsum("ij,jk->ik", a, a), lambda lib, a: lib.einsum("ii->i", a),
    lambda lib, a: lib.tensordot(a, a, 1), lambda lib, a: (a.requires_grad_() @ a).sum().backward() or a.grad,
])
def test_bfloat16_products_stay_bfloat16(fn):
    vals = np.arange(1.0, 10.0, dtype=np.float32).reshape(3, 3) / 7
    e = fn(ember, ember.tensor(vals).bfloat16())
    t = fn(torch, torch.tensor(vals).bfloat16())
    assert str(e.dtype) == str(t.dtype) == "torch.bfloat16"
    np.testing.assert_array_equal(e.float().numpy(), t.float().numpy())
