"""Saving/loading a 100 MB state_dict, ember vs torch; mmap load vs full load.

Run:  python bench/bench_serialization.py
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _util import HEADER, row  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402


def best(fn, repeat=5):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main():
    rng = np.random.default_rng(0)
    arrays = {f"layer{i}.weight": rng.standard_normal((1024, 1024), dtype=np.float32) for i in range(25)}
    e_sd = {k: ember.tensor(v) for k, v in arrays.items()}
    t_sd = {k: torch.tensor(v) for k, v in arrays.items()}
    d = tempfile.mkdtemp()
    ep, tp = os.path.join(d, "e.pt"), os.path.join(d, "t.pt")
    print(f"state_dict: {sum(a.nbytes for a in arrays.values()) / 2**20:.0f} MiB in {len(arrays)} tensors")
    print(HEADER)
    print(row("save 100 MB", best(lambda: ember.save(e_sd, ep)), best(lambda: torch.save(t_sd, tp)), 1.2))
    full_e = best(lambda: ember.load(ep))
    print(row("load 100 MB", full_e, best(lambda: torch.load(tp, weights_only=True)), 1.2))
    mm_e = best(lambda: ember.load(ep, mmap=True))
    print(row("load mmap=True", mm_e, best(lambda: torch.load(tp, weights_only=True, mmap=True))))
    print(f"ember mmap load / ember full load: {mm_e / full_e:.3f} (target <= 0.1)")


if __name__ == "__main__":
    main()
