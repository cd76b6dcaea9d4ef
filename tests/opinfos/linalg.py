"""OpInfos for matrix products, einsum/tensordot, triangles/diagonals, cross and torch.linalg."""
import numpy as np

from tests.opinfo import OpInfo, Sample, r


def _matmul(rng):
    return [Sample((r(rng, 3), r(rng, 3)), desc="dot"),
            Sample((r(rng, 3), r(rng, 3, 4)), desc="vec-mat"),
            Sample((r(rng, 2, 3), r(rng, 3)), desc="mat-vec"),
            Sample((r(rng, 2, 3), r(rng, 3, 4)), desc="mat-mat"),
            Sample((r(rng, 5, 2, 3), r(rng, 3, 4)), desc="batch-mat"),
            Sample((r(rng, 2, 3), r(rng, 5, 3, 4)), desc="mat-batch"),
            Sample((r(rng, 2, 1, 2, 3), r(rng, 4, 3, 2)), desc="broadcast-batch"),
            Sample((r(rng, 3), r(rng, 2, 2, 3, 4)), desc="vec-batch"),
            Sample((r(rng, 2, 2, 4, 3), r(rng, 3)), desc="batch-vec"),
            Sample((r(rng, 2, 3, dtype=np.float64), r(rng, 3, 2, dtype=np.float64)), desc="f64"),
            Sample((r(rng, 2, 3, dtype=np.int64), r(rng, 3, 2, dtype=np.int64)), grad=False, desc="int")]


def _spd(rng, n=3, batch=()):
    a = rng.uniform(-1, 1, size=batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(np.float32)


def _sq(rng, *shape):
    return (rng.uniform(-1, 1, size=shape) + 3 * np.eye(shape[-1])).astype(np.float32)


def _einsum_samples(rng):
    return [Sample((r(rng, 2, 3), r(rng, 3, 4)), {"eq": "ij,jk->ik"}),
            Sample((r(rng, 2, 3), r(rng, 3, 4)), {"eq": "ij,jk"}, desc="implicit"),
            Sample((r(rng, 3, 3),), {"eq": "ii->i"}, desc="diag"),
            Sample((r(rng, 3, 3),), {"eq": "ii"}, desc="trace"),
            Sample((r(rng, 3, 4),), {"eq": "ij->"}, desc="sum"),
            Sample((r(rng, 3, 4),), {"eq": "ij->j"}, desc="colsum"),
            Sample((r(rng, 3, 4),), {"eq": "ij->ji"}, desc="transpose"),
            Sample((r(rng, 2, 3, 4), r(rng, 2, 4, 5)), {"eq": "bij,bjk->bik"}, desc="bmm"),
            Sample((r(rng, 2, 5, 3, 4), r(rng, 4, 2)), {"eq": "...ij,jk->...ik"}, desc="ellipsis"),
            Sample((r(rng, 3), r(rng, 4)), {"eq": "i,j->ij"}, desc="outer"),
            Sample((r(rng, 2, 3), r(rng, 3), r(rng, 3, 2)), {"eq": "ij,j,jk->ik"}, desc="three"),
            Sample((r(rng, 1, 3), r(rng, 4, 3)), {"eq": "ij,ij->ij"}, desc="broadcast1")]


OPINFOS = [
    OpInfo("matmul", lambda lib, a, b: lib.matmul(a, b), _matmul, ref=lambda a, b: a @ b),
    OpInfo("matmul_op", lambda lib, a, b: a @ b, _matmul),
    OpInfo("mm", lambda lib, a, b: lib.mm(a, b), lambda rng: [Sample((r(rng, 2, 3), r(rng, 3, 4)))]),
    OpInfo("bmm", lambda lib, a, b: a.bmm(b), lambda rng: [Sample((r(rng, 2, 2, 3), r(rng, 2, 3, 4)))]),
    OpInfo("mv", lambda lib, a, b: lib.mv(a, b), lambda rng: [Sample((r(rng, 2, 3), r(rng, 3)))]),
    OpInfo("dot", lambda lib, a, b: lib.dot(a, b), lambda rng: [Sample((r(rng, 3), r(rng, 3)))]),
    OpInfo("vdot", lambda lib, a, b: lib.vdot(a, b), lambda rng: [Sample((r(rng, 3), r(rng, 3)))]),
    OpInfo("inner", lambda lib, a, b: lib.inner(a, b),
           lambda rng: [Sample((r(rng, 3), r(rng, 3))), Sample((r(rng, 2, 3), r(rng, 4, 3)))]),
    OpInfo("outer", lambda lib, a, b: (lib.outer(a, b), lib.ger(a, b)),
           lambda rng: [Sample((r(rng, 3), r(rng, 4)))]),
    OpInfo("addmm", lambda lib, c, a, b, **kw: lib.addmm(c, a, b, **kw),
           lambda rng: [Sample((r(rng, 2, 4), r(rng, 2, 3), r(rng, 3, 4))),
                        Sample((r(rng, 4), r(rng, 2, 3), r(rng, 3, 4)), {"beta": 0.5, "alpha": 2.0})]),
    OpInfo("addmv", lambda lib, c, a, b: lib.addmv(c, a, b, beta=2, alpha=0.5),
           lambda rng: [Sample((r(rng, 2), r(rng, 2, 3), r(rng, 3)))]),
    OpInfo("addr", lambda lib, c, a, b: lib.addr(c, a, b, alpha=2),
           lambda rng: [Sample((r(rng, 2, 3), r(rng, 2), r(rng, 3)))]),
    OpInfo("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=0.5),
           lambda rng: [Sample((r(rng, 2, 2, 4), r(rng, 2, 2, 3), r(rng, 2, 3, 4)))]),
    OpInfo("addbmm", lambda lib, c, a, b: lib.addbmm(c, a, b, alpha=1.5),
           lambda rng: [Sample((r(rng, 2, 4), r(rng, 3, 2, 3), r(rng, 3, 3, 4)))]),
    OpInfo("einsum", lambda lib, *ts, eq: lib.einsum(eq, *ts), _einsum_samples,
           ref=lambda *a, eq: np.einsum(eq, *a)),
    OpInfo("einsum_list", lambda lib, a, b: lib.einsum("ij,jk->ik", [a, b]),
           lambda rng: [Sample((r(rng, 2, 3), r(rng, 3, 4)))]),
    OpInfo("tensordot", lambda lib, a, b, **kw: lib.tensordot(a, b, **kw),
           lambda rng: [Sample((r(rng, 2, 3, 4), r(rng, 3, 4, 5))),
                        Sample((r(rng, 2, 3), r(rng, 3, 4)), {"dims": 1}),
                        Sample((r(rng, 2, 3), r(rng, 4, 5)), {"dims": 0}),
                        Sample((r(rng, 4, 3, 2), r(rng, 2, 4)), {"dims": ([0, 2], [1, 0])})],
           ref=lambda a, b, dims=2: np.tensordot(a, b, dims)),
    OpInfo("kron", lambda lib, a, b: lib.kron(a, b),
           lambda rng: [Sample((r(rng, 2, 3), r(rng, 2, 2))), Sample((r(rng, 2), r(rng, 3, 2)))],
           ref=np.kron),
    OpInfo("trace", lambda lib, a: lib.trace(a),
           lambda rng: [Sample((r(rng, 3, 3),)), Sample((r(rng, 2, 4),)),
                        Sample((r(rng, 3, 3, dtype=np.int64),), grad=False)]),
    OpInfo("tril", lambda lib, a, **kw: lib.tril(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 2, 3, 3),), {"diagonal": -1}),
                        Sample((r(rng, 3, 4),), {"diagonal": 2})], ref=lambda a, diagonal=0: np.tril(a, diagonal)),
    OpInfo("triu", lambda lib, a, **kw: a.triu(**kw),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 2, 3, 3),), {"diagonal": 1})]),
    OpInfo("diag", lambda lib, a, **kw: lib.diag(a, **kw),
           lambda rng: [Sample((r(rng, 3),)), Sample((r(rng, 3),), {"diagonal": -1}),
                        Sample((r(rng, 3, 3),)), Sample((r(rng, 3, 4),), {"diagonal": 1}),
                        Sample((r(rng, 4, 3),), {"diagonal": -2})]),
    OpInfo("diag_embed", lambda lib, a, **kw: lib.diag_embed(a, **kw),
           lambda rng: [Sample((r(rng, 2, 3),)), Sample((r(rng, 3),), {"offset": 1}),
                        Sample((r(rng, 2, 3),), {"offset": -1, "dim1": 0, "dim2": 2}),
                        Sample((r(rng, 2, 3),), {"dim1": -1, "dim2": 0})]),
    OpInfo("cross", lambda lib, a, b, **kw: lib.cross(a, b, **kw),
           lambda rng: [Sample((r(rng, 4, 3), r(rng, 4, 3)), {"dim": 1}),
                        Sample((r(rng, 3, 2), r(rng, 3, 2)), {"dim": 0})]),
    OpInfo("linalg.cross", lambda lib, a, b: lib.linalg.cross(a, b),
           lambda rng: [Sample((r(rng, 2, 3), r(rng, 1, 3)))]),
    OpInfo("matrix_power", lambda lib, a, n: lib.linalg.matrix_power(a, n) if n >= 0 else a.matrix_power(n),
           lambda rng: [Sample((_sq(rng, 3, 3), 3)), Sample((_sq(rng, 2, 3, 3), 0)),
                        Sample((_sq(rng, 3, 3), -2))], atol=1e-4, rtol=1e-4),
    OpInfo("linalg.inv", lambda lib, a: lib.linalg.inv(a),
           lambda rng: [Sample((_sq(rng, 3, 3),)), Sample((_sq(rng, 2, 3, 3),))], atol=1e-5, rtol=1e-4),
    OpInfo("linalg.det", lambda lib, a: (lib.linalg.det(a), a.det()),
           lambda rng: [Sample((_sq(rng, 3, 3),)), Sample((_sq(rng, 2, 3, 3),))], atol=1e-4, rtol=1e-4),
    OpInfo("linalg.slogdet", lambda lib, a: lib.linalg.slogdet(a).logabsdet * lib.slogdet(a).sign,
           lambda rng: [Sample((_sq(rng, 3, 3),))], atol=1e-5, rtol=1e-4),
    OpInfo("linalg.solve", lambda lib, a, b: lib.linalg.solve(a, b),
           lambda rng: [Sample((_sq(rng, 3, 3), r(rng, 3, 2))), Sample((_sq(rng, 3, 3), r(rng, 3)), desc="vec"),
                        Sample((_sq(rng, 2, 3, 3), r(rng, 2, 3)), desc="batch-vec")], atol=1e-5, rtol=1e-4),
    OpInfo("linalg.cholesky", lambda lib, a: lib.linalg.cholesky(
        lib.einsum("ij,kj->ik", a, a) + lib.eye(3, dtype=a.dtype, device=a.device) * 3),
           lambda rng: [Sample((r(rng, 3, 3),))], atol=1e-5, rtol=1e-4),
    OpInfo("linalg.cholesky_upper", lambda lib, a: lib.linalg.cholesky(a, upper=True),
           lambda rng: [Sample((_spd(rng),), grad=False)], atol=1e-5, rtol=1e-4),
    OpInfo("linalg.vector_norm", lambda lib, a, **kw: lib.linalg.vector_norm(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 3, 4),), {"dim": 1}),
                        Sample((r(rng, 3, 4),), {"ord": 1, "dim": (0, 1), "keepdim": True}),
                        Sample((r(rng, 3, 4),), {"ord": 3, "dim": 0}),
                        Sample((r(rng, 3, 4),), {"ord": float("inf"), "dim": -1}),
                        Sample((r(rng, 3, 4),), {"ord": 0}, grad=False)], atol=1e-5, rtol=1e-5),
    OpInfo("linalg.norm", lambda lib, a, **kw: lib.linalg.norm(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 3, 4),), {"dim": 1}),
                        Sample((r(rng, 2, 3, 4),), {"dim": (1, 2)}), Sample((r(rng, 3, 4),), {"ord": "fro"})]),
    OpInfo("linalg.matrix_norm", lambda lib, a, **kw: lib.linalg.matrix_norm(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 2, 3, 4),), {"ord": 1}, grad=False),
                        Sample((r(rng, 3, 4),), {"ord": "nuc"}, grad=False)], atol=1e-5, rtol=1e-5),
    OpInfo("linalg.svdvals", lambda lib, a: lib.linalg.svdvals(a), lambda rng: [Sample((r(rng, 3, 4),), grad=False)],
           atol=1e-5, rtol=1e-5),
    OpInfo("linalg.eigvalsh", lambda lib, a: lib.linalg.eigvalsh(a + a.transpose(-1, -2)),
           lambda rng: [Sample((_spd(rng),)), Sample((r(rng, 2, 3, 3),), desc="batch")], atol=1e-4, rtol=1e-5),
    # eigenvectors are defined up to sign: compare the sign-free V * V
    OpInfo("linalg.eigh", lambda lib, a: (lambda wv: (wv.eigenvalues, wv.eigenvectors * wv.eigenvectors))(
        lib.linalg.eigh(a + a.transpose(-1, -2))),
           lambda rng: [Sample((r(rng, 3, 3),)), Sample((r(rng, 2, 4, 4),), desc="batch")],
           atol=1e-4, rtol=1e-4, grad_atol=1e-3, grad_rtol=1e-3),
    OpInfo("linalg.pinv", lambda lib, a: lib.linalg.pinv(a), lambda rng: [Sample((r(rng, 3, 4),), grad=False)],
           atol=1e-4, rtol=1e-4),
    OpInfo("linalg.matrix_rank", lambda lib, a: lib.linalg.matrix_rank(a),
           lambda rng: [Sample((r(rng, 3, 4),), grad=False),
                        Sample((np.ones((3, 3), dtype=np.float32),), grad=False)]),
]

# API gaps: cdist, matrix_exp, logdet, triangular_solve, chain_matmul, torch.cholesky, torch.svd values


def _gram(lib, a):
    return a @ a.mT + lib.eye(a.shape[-1], dtype=a.dtype, device=a.device) * 3


def _tri(rng, *shape):
    return r(rng, *shape) + 4 * np.eye(shape[-1], dtype=np.float32)


OPINFOS += [
    OpInfo("cdist", lambda lib, a, b, **kw: lib.cdist(a, b, **kw),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 5, 4))), Sample((r(rng, 2, 3, 4), r(rng, 5, 4)), {"p": 1.0}),
                        Sample((r(rng, 3, 2, dtype=np.float64), r(rng, 2, 2, dtype=np.float64)), {"p": 3.0})]),
    OpInfo("matrix_exp", lambda lib, a: lib.matrix_exp(a),
           lambda rng: [Sample((r(rng, 3, 3),)), Sample((r(rng, 2, 4, 4, dtype=np.float64, low=-3, high=3),))],
           atol=1e-4, rtol=1e-4),
    OpInfo("logdet", lambda lib, a: (lib.logdet(_gram(lib, a)), a.logdet()), lambda rng: [Sample((r(rng, 3, 3),))],
           gradcheck=False),  # the second output is NaN where det(a) < 0
    OpInfo("logdet_spd", lambda lib, a: lib.logdet(_gram(lib, a)), lambda rng: [Sample((r(rng, 2, 3, 3),))]),
    OpInfo("triangular_solve", lambda lib, b, a, **kw: tuple(lib.triangular_solve(b, a, **kw)),
           lambda rng: [Sample((r(rng, 3, 2), _tri(rng, 3, 3))),
                        Sample((r(rng, 3, 2), _tri(rng, 3, 3)), {"upper": False, "transpose": True}),
                        Sample((r(rng, 2, 3, 1), _tri(rng, 3, 3)), {"unitriangular": True})], atol=1e-4),
    OpInfo("chain_matmul", lambda lib, a, b, c: lib.chain_matmul(a, b, c),
           lambda rng: [Sample((r(rng, 2, 3), r(rng, 3, 4), r(rng, 4, 2)))]),
    OpInfo("torch_cholesky", lambda lib, a, **kw: lib.cholesky(_gram(lib, a), **kw),
           lambda rng: [Sample((r(rng, 3, 3),)), Sample((r(rng, 3, 3),), {"upper": True})]),
    OpInfo("torch_svd_values", lambda lib, a: lib.svd(a).S, lambda rng: [Sample((r(rng, 4, 3),), grad=False)], grad=False),
    OpInfo("pinverse", lambda lib, a: lib.pinverse(a), lambda rng: [Sample((r(rng, 4, 3),), grad=False)], grad=False,
           atol=1e-4),
]
