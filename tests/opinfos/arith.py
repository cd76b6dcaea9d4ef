"""OpInfos for the arithmetic core (add/sub/mul/div/pow/neg/exp) and sum/mean/view/reshape."""
import numpy as np

from tests.opinfo import OpInfo, Sample, r


def _bin(rng):
    return [Sample((r(rng, 3, 4), r(rng, 3, 4))),
            Sample((r(rng, 3, 4), r(rng, 4)), desc="broadcast"),
            Sample((r(rng, 2, 1, 3), r(rng, 4, 1)), desc="broadcast2"),
            Sample((r(rng), r(rng, 3)), desc="zerodim"),
            Sample((r(rng, 3, 4), r(rng, 3, 4, dtype=np.float64)), desc="promote"),
            Sample((r(rng, 3, dtype=np.int64), r(rng, 3)), desc="int-float")]


OPINFOS = [
    OpInfo("add", lambda lib, a, b: lib.add(a, b), _bin, ref=lambda a, b: a + b),
    OpInfo("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), _bin),
    OpInfo("sub", lambda lib, a, b: a - b, _bin),
    OpInfo("mul", lambda lib, a, b: a * b, _bin),
    OpInfo("div", lambda lib, a, b: a / b,
           lambda rng: [Sample((r(rng, 3, 4), r(rng, 3, 4, low=0.5, high=2))),
                        Sample((r(rng, 3, dtype=np.int64), r(rng, 3, dtype=np.int64, low=1, high=3)), grad=False)]),
    OpInfo("scalar_ops", lambda lib, a: (a + 1, 2 - a, a * 3.5, a / 2, 1 / (a + 3), a ** 2, 2 ** a),
           lambda rng: [Sample((r(rng, 3, 2),)), Sample((r(rng, 4, dtype=np.int64, low=0, high=3),), grad=False)]),
    OpInfo("neg", lambda lib, a: -a, lambda rng: [Sample((r(rng, 2, 3),))]),
    OpInfo("exp", lambda lib, a: lib.exp(a), lambda rng: [Sample((r(rng, 2, 3),)),
                                                            Sample((r(rng, 3, dtype=np.int64),), grad=False)]),
    OpInfo("pow", lambda lib, a, b: lib.pow(a, b),
           lambda rng: [Sample((r(rng, 3, 4, low=0.5, high=2), r(rng, 3, 4)))]),
    OpInfo("sum", lambda lib, a, **kw: a.sum(**kw),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 3, 4),), {"dim": 1}),
                        Sample((r(rng, 2, 3, 4),), {"dim": (0, -1), "keepdim": True}),
                        Sample((r(rng, 3, dtype=np.int32),), grad=False),
                        Sample((r(rng, 3, dtype=np.bool_),), grad=False)]),
    OpInfo("mean", lambda lib, a, **kw: a.mean(**kw),
           lambda rng: [Sample((r(rng, 3, 4),)), Sample((r(rng, 2, 3, 4),), {"dim": -2})]),
    OpInfo("view", lambda lib, a: a.view(4, -1) * 2, lambda rng: [Sample((r(rng, 2, 6),))]),
    OpInfo("reshape", lambda lib, a: a.reshape(3, 2, 1), lambda rng: [Sample((r(rng, 2, 3),))]),
    OpInfo("expand", lambda lib, a: a.expand(2, 3, 4) * 1.5, lambda rng: [Sample((r(rng, 3, 1),))]),
]
