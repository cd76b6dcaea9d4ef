"""OpInfos for sorting and selection: sort, argsort, msort, topk, unique, searchsorted, bucketize."""
import numpy as np

from tests.opinfo import OpInfo, Sample, r
from tests.opinfos.reduction import _pair


def _sort_samples(rng):
    return [Sample((r(rng, 3, 5),)),
            Sample((r(rng, 3, 5),), {"dim": 0, "descending": True}),
            Sample((r(rng, 2, 3, 4),), {"dim": -2, "stable": True}, desc="negdim"),
            Sample((r(rng),), desc="zerodim"),
            Sample((r(rng, 8, dtype=np.int64, low=0, high=2),), {"stable": True}, grad=False, desc="int-ties"),
            Sample((r(rng, 8, dtype=np.int64, low=0, high=2),), {"stable": True, "descending": True},
                   grad=False, desc="int-ties-desc")]


def _nan_ties(rng):
    return np.array([[2.0, np.nan, 1.0, 2.0, np.nan, -1.0]], dtype=np.float32)


def _topk_samples(rng):
    return [Sample((r(rng, 3, 5),), {"k": 2}),
            Sample((r(rng, 3, 5),), {"k": 3, "dim": 0, "largest": False}),
            Sample((r(rng, 2, 3, 4),), {"k": 4, "dim": -1}),
            Sample((r(rng, 4),), {"k": 0}, desc="k0"),
            Sample((r(rng),), {"k": 1}, desc="zerodim")]


def _ints(rng, *shape):
    return r(rng, *shape, dtype=np.int64, low=0, high=3)


OPINFOS = [
    *_pair("sort", lambda lib, a, **kw: lib.sort(a, **kw), _sort_samples),
    OpInfo("sort_nan", lambda lib, a: tuple(a.sort(stable=True)) + tuple(a.sort(descending=True, stable=True)),
           lambda rng: [Sample((_nan_ties(rng),), grad=False)], grad=False),
    OpInfo("argsort", lambda lib, a, **kw: lib.argsort(a, **kw), _sort_samples, grad=False),
    OpInfo("msort", lambda lib, a: lib.msort(a), lambda rng: [Sample((r(rng, 4, 3),))]),
    *_pair("topk", lambda lib, a, **kw: a.topk(**kw), _topk_samples),
    OpInfo("unique", lambda lib, a, **kw: lib.unique(a, **kw),
           lambda rng: [Sample((_ints(rng, 3, 4),), grad=False),
                        Sample((_ints(rng, 3, 4),), {"return_inverse": True, "return_counts": True}, grad=False),
                        Sample((_ints(rng, 5, 2),), {"dim": 0, "return_inverse": True, "return_counts": True},
                               grad=False, desc="dim"),
                        Sample((r(rng, 6, dtype=np.bool_),), {"return_counts": True}, grad=False, desc="bool")],
           grad=False),
    OpInfo("unique_method", lambda lib, a: a.unique(sorted=True, return_inverse=True),
           lambda rng: [Sample((r(rng, 4).round(),), grad=False)], grad=False),
    OpInfo("unique_consecutive", lambda lib, a, **kw: lib.unique_consecutive(a, **kw),
           lambda rng: [Sample((_ints(rng, 10),), grad=False),
                        Sample((_ints(rng, 2, 6),), {"return_inverse": True, "return_counts": True}, grad=False),
                        Sample((np.array([[1, 2], [1, 2], [0, 1], [1, 2]]),),
                               {"dim": 0, "return_inverse": True, "return_counts": True}, grad=False, desc="dim")],
           grad=False),
    OpInfo("searchsorted", lambda lib, s, v, **kw: lib.searchsorted(s, v, **kw),
           lambda rng: [Sample((np.array([1.0, 2.0, 2.0, 3.0]), np.array([[2.0, 0.5], [3.5, 2.5]])), grad=False),
                        Sample((np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 3.0])), {"right": True}, grad=False),
                        Sample((np.sort(r(rng, 2, 5), axis=1), r(rng, 2, 3)), {"side": "right"}, grad=False,
                               desc="batched"),
                        Sample((np.array([1, 3, 5]), np.array([3, 4])), {"out_int32": True}, grad=False,
                               desc="int32")], grad=False),
    OpInfo("bucketize", lambda lib, x, b, **kw: lib.bucketize(x, b, **kw),
           lambda rng: [Sample((r(rng, 3, 4), np.array([-1.0, 0.0, 1.0], dtype=np.float32)), grad=False),
                        Sample((np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0])), {"right": True}, grad=False)],
           grad=False),
]
