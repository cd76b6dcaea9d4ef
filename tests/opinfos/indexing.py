"""OpInfos for indexing: t[...], gather/scatter, index_*, masked_*, take, nonzero."""
import numpy as np

from tests.opinfo import OpInfo, Sample, r

_MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])


def _x(rng):
    return [Sample((r(rng, 3, 4, 5),))]


def _x2(rng):
    return [Sample((r(rng, 3, 4),))]


def _i(lib, x, v, **kw):
    """An index tensor on ``x``'s device."""
    return lib.tensor(v, device=x.device, **kw)


OPINFOS = [
    OpInfo("getitem_basic", lambda lib, x: (x[1], x[1:, ::2], x[:, None, -1], x[..., 2], x[0, 1, 2], x[-2:, 1:3, ...]),
           _x),
    OpInfo("getitem_index_tensor", lambda lib, x: (x[lib.tensor([0, 2, 0])], x[:, lib.tensor([[1, 1], [3, 0]])],
                                                   x[lib.tensor([0, 2], dtype=lib.int32), 1]), _x),
    OpInfo("getitem_lists", lambda lib, x: (x[[0, 0, 1]], x[np.array([2, -1])], x[0, :, [0, 0, 4]],
                                            x[[0, 1], :, [1, 1]], x[:, [1, 2], [0, 4]]), _x),
    OpInfo("getitem_mixed", lambda lib, x: (x[None, [1, 0], ..., 1:4], x[1:, [0, 0], None, ::2], x[True], x[0, False]),
           _x),
    OpInfo("getitem_mask", lambda lib, x, m: (x[m], x[x > 0], x[1][x[1] < 0.5], x[lib.tensor([True, False, True])], x[:, m[0]], x[1:, m[0]]),
           lambda rng: [Sample((r(rng, 3, 4), _MASK))]),
    OpInfo("index_select", lambda lib, x: (lib.index_select(x, 1, _i(lib, x, [3, 0, 3])), x.index_select(0, _i(lib, x, [2]))),
           _x2),
    OpInfo("gather", lambda lib, x: (lib.gather(x, 1, _i(lib, x, [[0, 0], [3, 1], [2, 2]])),
                                     x.gather(0, _i(lib, x, [[2, 1, 0, 0], [0, 0, 0, 1]]))), _x2),
    OpInfo("scatter", lambda lib, x, s: (x.scatter(1, _i(lib, x, [[0, 2], [3, 1], [1, 2]]), s),
                                         lib.scatter(x, 0, _i(lib, x, [[2, 1, 0, 0]]), 1.5)),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 3, 2)))]),
    OpInfo("scatter_add", lambda lib, x, s: (x.scatter_add(1, _i(lib, x, [[0, 0], [3, 1], [1, 1]]), s),
                                             lib.scatter_add(x, 0, _i(lib, x, [[2, 2, 0, 0], [2, 1, 2, 0]]), lib.ones(2, 4, dtype=x.dtype, device=x.device))),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 3, 2)))]),
    OpInfo("scatter_reduce", lambda lib, x, s, **kw: (x.scatter_reduce(1, _i(lib, x, [[0, 0], [3, 1], [1, 1]]), s, **kw),
                                                      lib.scatter_reduce(x, 0, _i(lib, x, [[2, 2], [0, 2]]), s[:2], **kw)),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 3, 2, low=0.5)), {"reduce": red, "include_self": inc}, desc=f"{red}-{inc}")
                        for red in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)]
           + [Sample((r(rng, 3, 4, dtype=np.int64), r(rng, 3, 2, dtype=np.int64)), {"reduce": "mean"}, grad=False)]),
    OpInfo("scatter_reduce_ties", lambda lib, x, s, **kw: x.scatter_reduce(0, _i(lib, x, [[0, 1], [0, 1]]), s, **kw),
           lambda rng: [Sample((np.array([[1., 2.], [3., 3.]], np.float32), np.array([[1., 3.], [1., 0.]], np.float32)),
                               {"reduce": red}, desc=red) for red in ("amax", "amin")]
           + [Sample((np.array([[0., 2.], [3., 4.]], np.float32), np.array([[5., 0.], [0., 0.5]], np.float32)),
                     {"reduce": "prod", "include_self": inc}, desc=f"prod-zeros-{inc}") for inc in (True, False)],
           gradcheck=False),  # ties and zeros sit on kinks of max/min and of the exclusive product
    OpInfo("index_add", lambda lib, x, s: (x.index_add(0, _i(lib, x, [2, 0, 2]), s), lib.index_add(x, 0, _i(lib, x, [1, 1, 1]), s, alpha=-2.0)),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 3, 4)))]),
    OpInfo("index_copy", lambda lib, x, s: x.index_copy(1, _i(lib, x, [3, 0]), s),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 3, 2)))]),
    OpInfo("index_fill", lambda lib, x: (x.index_fill(1, _i(lib, x, [-1, 0]), -1.5), lib.index_fill(x, 0, _i(lib, x, [1]), 2)),
           _x2),
    OpInfo("index_put", lambda lib, x, v: (x.index_put((_i(lib, x, [0, 2]), _i(lib, x, [1, 3])), v),
                                           x.index_put((_i(lib, x, [0, 0, 2]),), v[0], accumulate=True)),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 2)))]),
    OpInfo("masked_fill", lambda lib, x, m: (x.masked_fill(m, 0.5), lib.masked_fill(x, m[1], -1)), lambda rng: [Sample((r(rng, 3, 4), _MASK))]),
    OpInfo("masked_fill_tensor", lambda lib, x, m, v: x.masked_fill(m, v), lambda rng: [Sample((r(rng, 3, 4), _MASK, r(rng)))]),
    OpInfo("masked_select", lambda lib, x, m: (x.masked_select(m), lib.masked_select(x, m[2])), lambda rng: [Sample((r(rng, 3, 4), _MASK))]),
    OpInfo("masked_scatter", lambda lib, x, m, s: x.masked_scatter(m, s), lambda rng: [Sample((r(rng, 3, 4), _MASK, r(rng, 3, 3)))]),
    OpInfo("take", lambda lib, x: (x.take(_i(lib, x, [[0, 11], [5, 5]])), lib.take(x, _i(lib, x, [-1, 2]))), _x2),
    OpInfo("put", lambda lib, x, s: (x.put(_i(lib, x, [0, 11, 5]), s), x.put(_i(lib, x, [1, 1, 1]), s, accumulate=True)),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 3)))]),
    OpInfo("take_along_dim", lambda lib, x: (lib.take_along_dim(x, _i(lib, x, [[0, 3, 3]]), 1), x.take_along_dim(_i(lib, x, [11, 0])),
                                             lib.take_along_dim(x, _i(lib, x, [[2], [0], [1]]), dim=0)), _x2),
    OpInfo("nonzero", lambda lib, x: (lib.nonzero(x), x.nonzero(as_tuple=True)[1], lib.argwhere(x)),
           lambda rng: [Sample((r(rng, 3, 4, dtype=np.int64, low=-1, high=1),), grad=False),
                        Sample((_MASK,), grad=False)]),
]

# API gaps: index_reduce, fill_diagonal_, isin
OPINFOS += [
    *[OpInfo(f"index_reduce_{red}", (lambda red: lambda lib, x, s, **kw: x.index_reduce(
        0, _i(lib, x, [0, 2, 0]), s, red, **kw))(red),
        lambda rng: [Sample((r(rng, 4, 3), r(rng, 3, 3))),
                     Sample((r(rng, 4, 3), r(rng, 3, 3)), {"include_self": False}, desc="exclude-self")])
      for red in ("prod", "mean", "amax", "amin")],
    OpInfo("index_reduce_dim1", lambda lib, x, s: lib.index_reduce(x, 1, _i(lib, x, [2, 0]), s, "mean"),
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 3, 2)))]),
    OpInfo("fill_diagonal_", lambda lib, x, **kw: (x * 1).fill_diagonal_(0.5, **kw),
           lambda rng: [Sample((r(rng, 3, 3),)), Sample((r(rng, 7, 3),), {"wrap": True}),
                        Sample((r(rng, 2, 5),)), Sample((r(rng, 3, 3, 3),))]),
    OpInfo("isin", lambda lib, a, b, **kw: (lib.isin(a, b, **kw), lib.isin(a, 2, **kw)),
           lambda rng: [Sample((r(rng, 3, 4, dtype=np.int64, low=0, high=5), r(rng, 3, dtype=np.int64, low=0, high=5)),
                               grad=False),
                        Sample((r(rng, 5, dtype=np.int64, low=0, high=5), r(rng, 2, dtype=np.int64, low=0, high=5)),
                               {"invert": True}, grad=False)], grad=False),
]
