"""all_reduce between two local processes: torch's gloo backend, ember's gloo and ember's mpi.

Each backend runs the same loop in 2 ranks: a warm-up, then ROUNDS timed rounds of REPS
``all_reduce(SUM)`` calls on a float32 tensor; the figure is rank 0's best round per call. torch and
ember's gloo ranks start with ``spawn``; ember's mpi ranks start under ``mpiexec`` (``pip install
mpi4py mpich``, in the test extra). The backends run one after another, not interleaved, so read
several runs on a busy machine.

Run:  python bench/bench_distributed.py [--sizes 1000 1000000]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))
from _util import _fmt  # noqa: E402

ROUNDS, REPS = 5, 20


def _loop(lib, dist, n):
    t = lib.ones(n)
    for _ in range(3):
        dist.all_reduce(t)
    best = float("inf")
    for _ in range(ROUNDS):
        dist.barrier()
        start = time.perf_counter()
        for _ in range(REPS):
            dist.all_reduce(t)
        best = min(best, (time.perf_counter() - start) / REPS)
    return best


def _gloo_rank(lib_name, rank, port, sizes, out):
    import importlib
    lib = importlib.import_module(lib_name)
    if lib_name == "torch":
        lib.set_num_threads(1)
    dist = importlib.import_module(lib_name + ".distributed")
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                            timeout=timedelta(seconds=60))
    times = [_loop(lib, dist, n) for n in sizes]
    dist.destroy_process_group()
    if rank == 0:
        out.put(times)


def gloo(lib_name, sizes):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_gloo_rank, args=(lib_name, r, port, sizes, out)) for r in range(2)]
    for p in procs:
        p.start()
    times = out.get(timeout=600)
    for p in procs:
        p.join()
    return times


MPI_SCRIPT = """
import json, sys
sys.path.insert(0, {bench!r})
import ember, ember.distributed as dist
from bench_distributed import _loop
dist.init_process_group("mpi")
times = [_loop(ember, dist, n) for n in {sizes!r}]
if dist.get_rank() == 0:
    print(json.dumps(times))
dist.destroy_process_group()
"""


def mpi(sizes):
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    if mpiexec is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "rank.py")
        with open(script, "w") as f:
            f.write(MPI_SCRIPT.format(bench=os.path.dirname(os.path.abspath(__file__)), sizes=list(sizes)))
        res = subprocess.run([mpiexec, "-n", "2", sys.executable, script], capture_output=True, text=True,
                             timeout=600)
    if res.returncode:
        raise RuntimeError(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 1_000_000])
    sizes = ap.parse_args().sizes
    torch_t, ember_t, mpi_t = gloo("torch", sizes), gloo("ember", sizes), mpi(sizes)
    print("| all_reduce, 2 ranks, float32 | torch gloo | ember gloo | ember/torch | ember mpi | ember mpi/torch |")
    print("|---|---|---|---|---|---|")
    for i, n in enumerate(sizes):
        m = ("n/a", "n/a") if mpi_t is None else (_fmt(mpi_t[i]), f"{mpi_t[i] / torch_t[i]:.2f}x")
        print(f"| {n:,} elements | {_fmt(torch_t[i])} | {_fmt(ember_t[i])} | {ember_t[i] / torch_t[i]:.2f}x "
              f"| {m[0]} | {m[1]} |")


if __name__ == "__main__":
    main()
