"""Saving/loading a 100 MB state_dict, ember vs torch (same filesystem); mmap load vs full load.

Rounds interleave ember and torch so both see the same machine load; figures are best-of-N, and
each timing starts after ``os.sync()`` so no earlier file's writeback runs during it.
``ember.save`` is atomic and crash-safe (temp file, fsync, rename); torch.save writes in place
without fsync, so the fsync share of ember's save is measured and printed too.

Run:  python bench/bench_serialization.py
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _util import _fmt  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402
from ember.serialization import _format  # noqa: E402

torch.set_num_threads(2)
ROUNDS = 9


class _Durability:
    """Times ``os.fsync`` in ember's save; ``skip=True`` drops the durability work altogether
    (the early writeback started per chunk and the final fsync) to measure what it costs."""

    def __init__(self, skip=False):
        self.skip, self.spent, self.real = skip, 0.0, os.fsync

    def __call__(self, fd):
        t = time.perf_counter()
        if not self.skip:
            self.real(fd)
        self.spent += time.perf_counter() - t

    def __enter__(self):
        os.fsync = self
        if self.skip:
            _format.start_writeback(0)          # resolve it once, then switch it off
            self.writeback = _format._WRITEBACK[:]
            _format._WRITEBACK[:] = [None]
        return self

    def __exit__(self, *exc):
        os.fsync = self.real
        if self.skip:
            _format._WRITEBACK[:] = self.writeback


def timed(fn):
    os.sync()       # every timing starts with no writeback of earlier files in flight
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def line(name, e, t, target=None):
    ratio = e / t
    mark = "" if target is None else (f"≤ {target}x " + ("ok" if ratio <= target else "MISS"))
    return f"| {name} | {_fmt(e)} | {_fmt(t)} | {ratio:.2f}x | {mark} |"


def main():
    rng = np.random.default_rng(0)
    arrays = {f"layer{i}.weight": rng.standard_normal((1024, 1024), dtype=np.float32) for i in range(25)}
    e_sd = {k: ember.tensor(v) for k, v in arrays.items()}
    t_sd = {k: torch.tensor(v) for k, v in arrays.items()}
    d = tempfile.mkdtemp()
    ep, tp = os.path.join(d, "e.pt"), os.path.join(d, "t.pt")
    times: dict = {}

    def rec(key, seconds):
        times.setdefault(key, []).append(seconds)

    try:
        for _ in range(ROUNDS):
            rec("t_save", timed(lambda: torch.save(t_sd, tp)))
            with _Durability() as fs:
                rec("e_save", timed(lambda: ember.save(e_sd, ep)))
            rec("e_fsync", fs.spent)
            with _Durability(skip=True):
                rec("e_save_nofsync", timed(lambda: ember.save(e_sd, ep)))
            rec("t_load", timed(lambda: torch.load(tp, weights_only=True)))
            rec("e_load", timed(lambda: ember.load(ep)))
            rec("t_mmap", timed(lambda: torch.load(tp, weights_only=True, mmap=True)))
            rec("e_mmap", timed(lambda: ember.load(ep, mmap=True)))
    finally:
        shutil.rmtree(d)
    b = {k: min(v) for k, v in times.items()}
    save_round = int(np.argmin(times["e_save"]))
    fsync_share = times["e_fsync"][save_round] / times["e_save"][save_round]
    print(f"state_dict: {sum(a.nbytes for a in arrays.values()) / 2**20:.0f} MiB in {len(arrays)} tensors, "
          f"best of {ROUNDS} interleaved rounds\n")
    print("| benchmark | ember | torch | ratio | target |\n|---|---|---|---|---|")
    print(line("save 100 MB (ember: temp file + fsync + rename)", b["e_save"], b["t_save"], 1.2))
    print(line("save 100 MB, ember without writeback/fsync (not crash-safe; reference)", b["e_save_nofsync"],
               b["t_save"]))
    print(line("load 100 MB (ember checks every record's CRC-32)", b["e_load"], b["t_load"], 1.2))
    print(line("load mmap=True", b["e_mmap"], b["t_mmap"]))
    print(f"| ember mmap=True load / ember full load | {_fmt(b['e_mmap'])} | {_fmt(b['e_load'])} (full) | "
          f"{b['e_mmap'] / b['e_load']:.3f}x | ≤ 0.1x {'ok' if b['e_mmap'] <= 0.1 * b['e_load'] else 'MISS'} |")
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(f"\nember.save's final fsync wait (fastest round): {_fmt(times['e_fsync'][save_round])} of "
          f"{_fmt(times['e_save'][save_round])} ({fsync_share:.0%}); durability work in all (best save minus "
          f"best save without it): {(b['e_save'] - b['e_save_nofsync']) * 1e3:+.1f} ms.\nMedians over rounds: save "
          f"{_fmt(med['e_save'])} (without durability {_fmt(med['e_save_nofsync'])}) vs torch "
          f"{_fmt(med['t_save'])}; load {_fmt(med['e_load'])} vs torch {_fmt(med['t_load'])}.")


if __name__ == "__main__":
    main()
