"""OpInfos for prelu, glu, rrelu (eval), embedding_bag, ctc_loss, affine_grid and grid_sample."""
import numpy as np

from tests.opinfo import OpInfo, Sample, r


def _F(lib):
    return lib.nn.functional


def _away(rng, *shape):
    """Values at least 0.2 away from 0 (the prelu/rrelu kink)."""
    a = r(rng, *shape, low=0.2, high=2.0)
    return a * np.where(rng.random(shape) > 0.5, 1, -1).astype(a.dtype)


def _bag_samples(rng):
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 0], np.int64)
    off = np.array([0, 2, 2, 5], np.int64)
    return [Sample((r(rng, 6, 3), idx, off)),
            Sample((r(rng, 6, 3), idx, off), {"mode": "sum", "padding_idx": 4}),
            Sample((r(rng, 6, 3), idx, off), {"mode": "max"}),
            Sample((r(rng, 6, 3), idx.reshape(2, 4)), {"mode": "mean"}, desc="2d")]


def _bag(lib, w, idx, off=None, **kw):
    return _F(lib).embedding_bag(idx, w, off, **kw)


def _bag_weighted(lib, w, psw, idx, off):
    return _F(lib).embedding_bag(idx, w, off, mode="sum", per_sample_weights=psw)


def _ctc(lib, x, targets, **kw):
    lp = _F(lib).log_softmax(x, 2)
    return _F(lib).ctc_loss(lp, targets, (6, 5), (3, 2), **kw)


def _ctc_samples(rng):
    tg = np.array([[1, 2, 2], [3, 1, 0]], np.int64)
    return [Sample((r(rng, 6, 2, 4), tg)), Sample((r(rng, 6, 2, 4), tg), {"reduction": "none"}),
            Sample((r(rng, 6, 2, 4), np.array([1, 2, 2, 3, 1], np.int64)), {"reduction": "sum"}, desc="concat")]


def _grid_samples(rng):
    out = []
    for mode in ("bilinear", "bicubic", "nearest"):
        for pad in ("zeros", "border", "reflection"):
            out.append(Sample((r(rng, 2, 2, 3, 4), r(rng, 2, 3, 2, 2, low=-1.2, high=1.2)),
                              {"mode": mode, "padding_mode": pad, "align_corners": pad == "border"},
                              desc=f"{mode}-{pad}"))
    out.append(Sample((r(rng, 1, 2, 2, 3, 4), r(rng, 1, 2, 2, 3, 3, low=-1.2, high=1.2)),
                      {"mode": "bilinear", "padding_mode": "zeros", "align_corners": False}, desc="3d"))
    return out


OPINFOS = [
    OpInfo("prelu", lambda lib, x, w: _F(lib).prelu(x, w),
           lambda rng: [Sample((_away(rng, 2, 3, 4), r(rng, 3))), Sample((_away(rng, 2, 3), r(rng, 1)))]),
    OpInfo("glu", lambda lib, x, dim=-1: _F(lib).glu(x, dim),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 4, 2, 3),), {"dim": 0})]),
    OpInfo("rrelu_eval", lambda lib, x: _F(lib).rrelu(x, 0.1, 0.3), lambda rng: [Sample((_away(rng, 3, 4),))]),
    OpInfo("embedding_bag", _bag, _bag_samples),
    OpInfo("embedding_bag_weighted", _bag_weighted,
           lambda rng: [Sample((r(rng, 6, 3), r(rng, 8), np.array([1, 2, 4, 5, 4, 3, 2, 0], np.int64),
                                np.array([0, 3, 3], np.int64)))]),
    OpInfo("ctc_loss", _ctc, _ctc_samples, atol=1e-4),
    OpInfo("affine_grid", lambda lib, th, **kw: _F(lib).affine_grid(th, **kw),
           lambda rng: [Sample((r(rng, 2, 2, 3),), {"size": (2, 1, 3, 4), "align_corners": False}),
                        Sample((r(rng, 1, 3, 4),), {"size": (1, 1, 2, 3, 2), "align_corners": True})]),
    OpInfo("grid_sample", lambda lib, x, g, **kw: _F(lib).grid_sample(x, g, **kw), _grid_samples, atol=1e-4),
]
