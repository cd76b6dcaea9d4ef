"""OpInfos for reductions: sums/products, max/min families, statistics, norms, cumulative ops."""
import numpy as np

from tests.opinfo import OpInfo, Sample, r


def _ties(rng):
    return np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.5, 2.0], [0.0, -4.0, -4.0, 1.0]], dtype=np.float32)


def _dims(rng, extra=()):
    """Tie-free float samples over the usual dim forms, plus ``extra``."""
    return [Sample((r(rng, 3, 4),)),
            Sample((r(rng, 3, 4),), {"dim": 1}),
            Sample((r(rng, 2, 3, 4),), {"dim": -1, "keepdim": True}, desc="negdim-keepdim"),
            Sample((r(rng, 2, 3, 4),), {"dim": (0, -1)}, desc="tuple"),
            Sample((r(rng),), {"dim": 0}, desc="zerodim"), *extra]


def _one_dim(rng):
    return [Sample((r(rng, 3, 4),), {"dim": 1}),
            Sample((r(rng, 2, 3, 4),), {"dim": -2, "keepdim": True}, desc="negdim-keepdim"),
            Sample((r(rng, 5),), {"dim": 0}),
            Sample((r(rng),), {"dim": 0}, desc="zerodim")]


def _ints(rng, *shape, low=-3, high=3):
    return r(rng, *shape, dtype=np.int64, low=low, high=high)


def _prod(rng):
    zero1 = r(rng, 3, 4, low=0.5, high=1.5)
    zero1[0, 1] = 0
    zero2 = zero1.copy()
    zero2[0, 3] = 0
    return [Sample((r(rng, 3, 4, low=0.5, high=1.5),)),
            Sample((r(rng, 3, 4, low=0.5, high=1.5),), {"dim": -1, "keepdim": True}),
            Sample((zero1,), {"dim": 1}, desc="one-zero"),
            Sample((zero2,), {"dim": 1}, desc="two-zeros"),
            Sample((zero1,), desc="zero-full"),
            Sample((_ints(rng, 3, 4),), {"dim": 0}, grad=False, desc="int"),
            Sample((r(rng, 4, dtype=np.bool_),), grad=False, desc="bool"),
            Sample((r(rng, 3, low=0.5, high=1.5),), {"dtype": np.float64}, desc="dtype")]


def _nan(rng):
    x = r(rng, 3, 4)
    x[1, 2] = np.nan
    x[0, 0] = np.nan
    return x


def _cumprod(rng):
    z = r(rng, 2, 5, low=0.5, high=1.5)
    z[0, 2] = 0
    z[1, 1] = z[1, 3] = 0
    return [Sample((r(rng, 3, 4, low=0.5, high=1.5),), {"dim": 1}),
            Sample((r(rng, 3, 4, low=0.5, high=1.5),), {"dim": -2}),
            Sample((z,), {"dim": 1}, desc="zeros"),
            Sample((r(rng),), {"dim": 0}, desc="zerodim"),
            Sample((_ints(rng, 4),), {"dim": 0}, grad=False, desc="int")]


def _with_dtype(f):
    def fn(lib, a, **k):
        if "dtype" in k:
            k["dtype"] = getattr(lib, np.dtype(k["dtype"]).name)
        return f(lib, a, **k)
    return fn


def _pair(name, call, samples, **kw):
    """``values`` (with gradients) and ``indices`` of a named-tuple op as two entries.

    Split because gradcheck would difference the integer ``indices`` output too.
    """
    def indices_samples(rng):
        return [Sample(s.arrays, s.kwargs, False, s.desc) for s in samples(rng)]
    return [OpInfo(name, lambda lib, *a, **k: call(lib, *a, **k).values, samples, **kw),
            OpInfo(name + "_indices", lambda lib, *a, **k: call(lib, *a, **k).indices, indices_samples,
                   grad=False)]


OPINFOS = [
    OpInfo("sum_to_size", lambda lib, a: a.sum_to_size(3, 1) * 1.0,
           lambda rng: [Sample((r(rng, 2, 3, 4),))]),
    OpInfo("nansum", lambda lib, a, **kw: lib.nansum(a, **kw),
           lambda rng: [*_dims(rng), Sample((_nan(rng),), {"dim": 1}, desc="nan"),
                        Sample((_ints(rng, 3, 4),), grad=False, desc="int")]),
    OpInfo("nanmean", lambda lib, a, **kw: a.nanmean(**kw),
           lambda rng: [*_dims(rng), Sample((_nan(rng),), {"dim": 1}, desc="nan")]),
    OpInfo("prod", _with_dtype(lambda lib, a, **kw: a.prod(**kw)), _prod),
    OpInfo("amax", lambda lib, a, **kw: a.amax(**kw), _dims),
    OpInfo("amin", lambda lib, a, **kw: lib.amin(a, **kw), _dims),
    OpInfo("max_full", lambda lib, a: a.max(), lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng),))]),
    OpInfo("min_full", lambda lib, a: lib.min(a), lambda rng: [Sample((r(rng, 3, 4),)),
                                                              Sample((_ints(rng, 5),), grad=False)]),
    *_pair("max_dim", lambda lib, a, **kw: lib.max(a, **kw), _one_dim),
    *_pair("min_dim", lambda lib, a, **kw: a.min(**kw), _one_dim),
    # ties are kinks: the gradient is compared with torch's (shared evenly / sent to the index)
    OpInfo("max_min_ties", lambda lib, a: (a.max(), a.amin(1), a.amax(0, keepdim=True), a.max(1)[0],
                                           a.min(0)[0], lib.median(a)),
           lambda rng: [Sample((_ties(rng),))], gradcheck=False),
    OpInfo("aminmax", lambda lib, a, **kw: tuple(lib.aminmax(a, **kw)),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 3, 4),), {"dim": 1, "keepdim": True}),
                        Sample((_ints(rng, 3, 4),), {"dim": 0}, grad=False, desc="int")]),
    OpInfo("argmax", lambda lib, a, **kw: a.argmax(**kw),
           lambda rng: [Sample((r(rng, 3, 4),), grad=False), Sample((r(rng, 3, 4),), {"dim": -1}, grad=False),
                        Sample((r(rng, 3, 4),), {"dim": None, "keepdim": True}, grad=False),
                        Sample((r(rng, 2, 3),), {"dim": 0, "keepdim": True}, grad=False),
                        Sample((_ties(rng),), {"dim": 1}, grad=False, desc="ties"),
                        Sample((_nan(rng),), {"dim": 1}, grad=False, desc="nan")], grad=False),
    OpInfo("argmin", lambda lib, a, **kw: lib.argmin(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),), grad=False), Sample((_ints(rng, 3, 4),), {"dim": 0}, grad=False),
                        Sample((_ties(rng),), {"dim": 1}, grad=False, desc="ties")], grad=False),
    OpInfo("var", lambda lib, a, **kw: a.var(**kw),
           lambda rng: [*_dims(rng)[:4], Sample((r(rng, 3, 4),), {"dim": 1, "correction": 0}),
                        Sample((r(rng, 3, 4),), {"dim": 0, "unbiased": False, "keepdim": True})]),
    OpInfo("var_legacy", lambda lib, a: (lib.var(a, 0, True, True), a.var(False)),
           lambda rng: [Sample((r(rng, 3, 4),))]),
    OpInfo("std", lambda lib, a, **kw: lib.std(a, **kw),
           lambda rng: [*_dims(rng)[:4], Sample((r(rng, 3, 4),), {"dim": (0, 1), "correction": 2})]),
    OpInfo("std_mean", lambda lib, a, **kw: lib.std_mean(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 3, 4),), {"dim": 1, "keepdim": True})]),
    OpInfo("var_mean", lambda lib, a, **kw: lib.var_mean(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),), {"dim": (0, 1), "correction": 0})]),
    OpInfo("norm", lambda lib, a, **kw: a.norm(**kw),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 3, 4),), {"dim": 1}),
                        Sample((r(rng, 3, 4),), {"p": 1, "dim": -1, "keepdim": True}),
                        Sample((r(rng, 3, 4),), {"p": float("inf"), "dim": 0}),
                        Sample((r(rng, 3, 4),), {"p": -float("inf")}),
                        Sample((r(rng, 3, 4, low=0.3, high=2),), {"p": 3, "dim": (0, 1)}),
                        Sample((r(rng, 3, 4, low=0.3, high=2),), {"p": 0.5, "dim": 1}),
                        Sample((r(rng, 2, 3),), {"p": "fro", "dim": (0, 1)})]),
    OpInfo("norm_zero", lambda lib, a: (a.norm(dim=1), a.norm(p=3, dim=1)),
           lambda rng: [Sample((np.array([[0.0, 0.0], [1.0, -2.0]], dtype=np.float32),))],
           gradcheck=False),  # the zero row is a kink of the norm (torch's subgradient is 0)
    OpInfo("logsumexp", lambda lib, a, **kw: lib.logsumexp(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),), {"dim": 1}),
                        Sample((r(rng, 2, 3, 4),), {"dim": (0, 2), "keepdim": True}),
                        Sample((r(rng, 3, 4, low=80, high=90),), {"dim": 0}, desc="large"),
                        Sample((_ints(rng, 3, 4),), {"dim": 1}, grad=False, desc="int")]),
    OpInfo("cumsum", _with_dtype(lambda lib, a, **kw: a.cumsum(**kw)),
           lambda rng: [Sample((r(rng, 3, 4),), {"dim": 1}), Sample((r(rng, 3, 4),), {"dim": -2}),
                        Sample((r(rng),), {"dim": 0}, desc="zerodim"),
                        Sample((_ints(rng, 3, 4).astype(np.int32),), {"dim": 1}, grad=False, desc="int32"),
                        Sample((r(rng, 4, dtype=np.bool_),), {"dim": 0}, grad=False, desc="bool"),
                        Sample((_ints(rng, 4),), {"dim": 0, "dtype": np.float32}, grad=False, desc="dtype")]),
    OpInfo("cumsum_double", lambda lib, a: lib.cumsum(lib.cumsum(a, 0) * a, 1),
           lambda rng: [Sample((r(rng, 3, 4),))]),
    OpInfo("cumprod", _with_dtype(lambda lib, a, **kw: lib.cumprod(a, **kw)), _cumprod),
    *_pair("cummax", lambda lib, a, **kw: a.cummax(**kw),
           lambda rng: [Sample((r(rng, 3, 4),), {"dim": 1}), Sample((r(rng, 3, 4),), {"dim": -2}),
                        Sample((r(rng),), {"dim": 0}, desc="zerodim"),
                        Sample((_ints(rng, 6),), {"dim": 0}, grad=False, desc="int-ties")]),
    *_pair("cummin", lambda lib, a, **kw: lib.cummin(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),), {"dim": 1}),
                        Sample((_ints(rng, 6),), {"dim": 0}, grad=False, desc="int-ties")]),
    OpInfo("cummax_ties", lambda lib, a: tuple(a.cummax(1)) + tuple(a.cummin(0)),
           lambda rng: [Sample((_ties(rng),)), Sample((_nan(rng),), grad=False, desc="nan")],
           gradcheck=False),  # ties are kinks
    OpInfo("all_any", lambda lib, a, **kw: (a.all(**kw), lib.any(a, **kw)),
           lambda rng: [Sample((r(rng, 3, 4, dtype=np.bool_),), grad=False),
                        Sample((r(rng, 3, 4, dtype=np.bool_),), {"dim": 1, "keepdim": True}, grad=False),
                        Sample((_ints(rng, 3, 4, low=0, high=2),), {"dim": -2}, grad=False, desc="int"),
                        Sample((_ints(rng, 3, 4, low=0, high=2).astype(np.uint8),), {"dim": 0}, grad=False,
                               desc="uint8"),
                        Sample((r(rng, 3, 4),), {"dim": (0, 1)}, grad=False, desc="float")], grad=False),
    OpInfo("count_nonzero", lambda lib, a, **kw: lib.count_nonzero(a, **kw),
           lambda rng: [Sample((_ints(rng, 3, 4, low=0, high=2),), grad=False),
                        Sample((_ints(rng, 3, 4, low=0, high=2),), {"dim": (0, 1)}, grad=False),
                        Sample((r(rng, 2, 3, dtype=np.bool_),), {"dim": -1}, grad=False)], grad=False),
    OpInfo("median", lambda lib, a: a.median(), lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 5),)),
                                                          Sample((_nan(rng),), grad=False, desc="nan")]),
    *_pair("mode", lambda lib, a, **kw: a.mode(**kw),
           lambda rng: [*_one_dim(rng), Sample((r(rng, 3, 8, dtype=np.int64, low=0, high=3),), {"dim": 1},
                                               grad=False, desc="int-ties")]),
    OpInfo("mode_ties", lambda lib, a: (lib.mode(a, 0, True).values, a.mode().values),
           lambda rng: [Sample((_ties(rng),))], gradcheck=False),  # ties are kinks
    OpInfo("order_nan", lambda lib, a: tuple(a.median(1)) + tuple(a.kthvalue(3, 1)) + tuple(a.kthvalue(1, 0)),
           lambda rng: [Sample((_nan(rng),), grad=False)], grad=False),
    *_pair("median_dim", lambda lib, a, **kw: lib.median(a, **kw), _one_dim),
    *_pair("kthvalue", lambda lib, a, **kw: a.kthvalue(**kw),
           lambda rng: [Sample((r(rng, 3, 4),), {"k": 2}), Sample((r(rng, 3, 4),), {"k": 3, "dim": 0, "keepdim": True}),
                        Sample((r(rng),), {"k": 1}, desc="zerodim")]),
]

# API gaps: logcumsumexp, quantile/nanquantile, cov/corrcoef, dist, renorm, histc, bincount


def _q(lib, a, q):
    return lib.tensor(q, dtype=a.dtype, device=a.device)


OPINFOS += [
    OpInfo("logcumsumexp", lambda lib, a, **kw: lib.logcumsumexp(a, **kw),
           lambda rng: [Sample((r(rng, 3, 4),), {"dim": 1}), Sample((r(rng, 3, 4, low=-60, high=60),), {"dim": 0}),
                        Sample((r(rng, 5, dtype=np.float64),), {"dim": -1}), Sample((r(rng),), {"dim": 0})]),
    OpInfo("quantile", lambda lib, a, **kw: (lib.quantile(a, 0.3, **kw), a.quantile(_q(lib, a, [0.0, 0.55, 1.0]), **kw)),
           lambda rng: [Sample((r(rng, 3, 5),)), Sample((r(rng, 3, 5),), {"dim": 1}),
                        Sample((r(rng, 3, 5),), {"dim": 0, "keepdim": True}),
                        Sample((r(rng, 3, 5),), {"keepdim": True}),
                        *[Sample((r(rng, 4, 5, dtype=np.float64),), {"dim": -1, "interpolation": m}, desc=m)
                          for m in ("lower", "higher", "midpoint", "nearest")]]),
    OpInfo("nanquantile", lambda lib, a, **kw: (lib.nanquantile(a, 0.4, **kw), a.nanquantile(_q(lib, a, [0.1, 0.9]), **kw)),
           lambda rng: [Sample((np.where(r(rng, 3, 5) > 1, np.nan, r(rng, 3, 5)).astype(np.float32),), {"dim": 1}),
                        Sample((np.array([[np.nan, np.nan], [1.0, 2.0]], dtype=np.float32),), {"dim": 1}, grad=False),
                        Sample((r(rng, 3, 5),))]),
    OpInfo("cov", lambda lib, a, **kw: (lib.cov(a, **kw), a.corrcoef()),
           lambda rng: [Sample((r(rng, 3, 5),)), Sample((r(rng, 3, 5),), {"correction": 0}),
                        Sample((r(rng, 6, dtype=np.float64),), desc="1d"),
                        Sample((r(rng, 2, 4, dtype=np.int64, low=0, high=9),), grad=False, desc="int")]),
    OpInfo("cov_weights", lambda lib, a: lib.cov(a, fweights=lib.tensor([1, 2, 1, 3], device=a.device),
                                                 aweights=lib.tensor([0.5, 1.0, 2.0, 1.0], dtype=a.dtype, device=a.device)),
           lambda rng: [Sample((r(rng, 3, 4),))]),
    OpInfo("dist", lambda lib, a, b, **kw: (lib.dist(a, b, **kw), a.dist(b)),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 4))), Sample((r(rng, 3, 4), r(rng, 3, 4)), {"p": 1}),
                        Sample((r(rng, 3), r(rng, 3)), {"p": 3.5})]),
    OpInfo("renorm", lambda lib, a, **kw: (lib.renorm(a, **kw), a.clone().renorm_(**kw) if not a.requires_grad else a),
           lambda rng: [Sample((r(rng, 3, 4),), {"p": 2, "dim": 0, "maxnorm": 1.0}),
                        Sample((r(rng, 3, 4, 2),), {"p": 1, "dim": -1, "maxnorm": 2.0})]),
    OpInfo("histc", lambda lib, a, **kw: lib.histc(a, **kw),
           lambda rng: [Sample((r(rng, 20),), {"bins": 6}, grad=False),
                        Sample((r(rng, 4, 5, dtype=np.float64),), {"bins": 4, "min": -1, "max": 1}, grad=False)], grad=False),
    OpInfo("bincount", lambda lib, a, *w, **kw: lib.bincount(a, *w, **kw),
           lambda rng: [Sample((r(rng, 10, dtype=np.int64, low=0, high=5),), grad=False),
                        Sample((r(rng, 6, dtype=np.int64, low=0, high=3), r(rng, 6)), {"minlength": 6}, grad=False),
                        Sample((r(rng, 6, dtype=np.int64, low=0, high=3), r(rng, 6, dtype=np.int64)), grad=False)],
           grad=False),
]
