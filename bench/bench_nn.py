"""nn training steps (issue 3), ember vs torch, plus peak RSS of each training.

MLP 784-512-256-10 (ReLU, CrossEntropyLoss, SGD momentum 0.9, batch 128) and a LeNet-style CNN
(conv 1->32->64 3x3 pad 1, relu, maxpool 2, two Linear; batch 64 on 28x28).  A step is
zero_grad, forward, loss, backward, optimizer step.

Timing interleaves the two libraries (one block of ember steps, one block of torch steps, repeated)
and keeps each one's best block, so load drifting on a shared machine hits both alike.

Peak RSS is ``getrusage(RUSAGE_SELF).ru_maxrss`` of a fresh subprocess per library and model that
imports only that library and trains ``--steps`` steps.  Linux carries the parent's high-water mark
into a child across fork/exec, so these subprocesses are started before this process imports
either library (it is then ~10 MiB, below both figures).

Run:  python bench/bench_nn.py [--rounds 15] [--steps 30] [--cpu]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

TARGETS = {"mlp": 1.3, "cnn": 2.0}
RSS_TARGET = 0.5


def build(lib, kind):
    """One training step of ``kind`` ('mlp' or 'cnn') written against ``lib`` (ember or torch)."""
    nn = lib.nn
    lib.manual_seed(0)
    if kind == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                              nn.Linear(256, 10))
        x = lib.randn(128, 1, 28, 28)
        y = lib.randint(0, 10, (128,))
    else:
        model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
        x = lib.randn(64, 1, 28, 28)
        y = lib.randint(0, 10, (64,))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def _rss_child(libname, kind, steps):
    import resource
    lib = __import__(libname)
    if libname == "torch":
        lib.set_num_threads(2)
    step = build(lib, kind)
    for _ in range(steps):
        step()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_rss(libname, kind, steps):
    """Peak RSS in MiB of ``steps`` training steps in a fresh process."""
    out = subprocess.check_output([sys.executable, os.path.abspath(__file__), "--rss", libname, kind, str(steps)])
    return float(out)


def interleaved(fe, ft, rounds, number):
    """Best seconds per call of ``fe`` and ``ft``, timed in alternating blocks of ``number`` calls."""
    for f in (fe, ft):
        for _ in range(3):
            f()
    best_e = best_t = float("inf")
    for _ in range(rounds):
        for f, which in ((fe, 0), (ft, 1)):
            t = time.perf_counter()
            for _ in range(number):
                f()
            dt = (time.perf_counter() - t) / number
            if which == 0:
                best_e = min(best_e, dt)
            else:
                best_t = min(best_t, dt)
    return best_e, best_t


def cpu_per_step(step, rounds, number):
    """Best CPU seconds per call with one thread (a load-insensitive view of the work done)."""
    for _ in range(2):
        step()
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(number):
            step()
        best = min(best, (time.process_time() - t) / number)
    return best


def _mark(ratio, target):
    return "ok" if ratio <= target else "MISS"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15, help="alternating timing blocks per library")
    ap.add_argument("--steps", type=int, default=30, help="training steps per peak-RSS subprocess")
    ap.add_argument("--cpu", action="store_true",
                    help="also report single-thread CPU time per step (needs threadpoolctl for NumPy's BLAS)")
    args = ap.parse_args(argv)

    rss = {(lib, kind): peak_rss(lib, kind, args.steps) for kind in TARGETS for lib in ("ember", "torch")}

    import torch

    import ember
    torch.set_num_threads(2)
    print("| train step | ember | torch | ember/torch | target | |")
    print("|---|---|---|---|---|---|")
    for kind, target in TARGETS.items():
        e, t = interleaved(build(ember, kind), build(torch, kind), args.rounds, 10 if kind == "mlp" else 3)
        r = e / t
        print(f"| {kind} | {e * 1e3:.2f} ms | {t * 1e3:.2f} ms | {r:.2f}x | <= {target}x | {_mark(r, target)} |")
    print()
    print(f"| peak RSS ({args.steps} steps) | ember | torch | ember/torch | target | |")
    print("|---|---|---|---|---|---|")
    for kind in TARGETS:
        re_, rt = rss["ember", kind], rss["torch", kind]
        r = re_ / rt
        print(f"| {kind} | {re_:.0f} MiB | {rt:.0f} MiB | {r:.2f}x | <= {RSS_TARGET}x | {_mark(r, RSS_TARGET)} |")
    if args.cpu:
        from threadpoolctl import threadpool_limits
        torch.set_num_threads(1)
        print()
        print("| CPU time per step, 1 thread | ember | torch | ember/torch |")
        print("|---|---|---|---|")
        with threadpool_limits(1):
            for kind in TARGETS:
                n = 10 if kind == "mlp" else 3
                e = cpu_per_step(build(ember, kind), args.rounds, n)
                t = cpu_per_step(build(torch, kind), args.rounds, n)
                print(f"| {kind} | {e * 1e3:.2f} ms | {t * 1e3:.2f} ms | {e / t:.2f}x |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--rss":
        _rss_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
