"""Core overheads (issue: core): small-op eager cost, a small autograd chain, matmul, import time.

Run:  python bench/bench_core.py
"""
from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _util import HEADER, per_call, row  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402

torch.set_num_threads(2)


def small_add(lib, requires_grad):
    a = lib.ones(4, 4, requires_grad=requires_grad)
    b = lib.ones(4, 4, requires_grad=requires_grad)
    return lambda: a + b


def chain(lib):
    a = lib.ones(4, 4, requires_grad=True)
    b = lib.ones(4, 4, requires_grad=True)

    def f():
        ((a * b) + a).sum().backward()
    return f


def matmul(lib, n=1024):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((n, n), dtype=np.float32))
    y = lib.tensor(rng.standard_normal((n, n), dtype=np.float32))
    return lambda: x @ y


def import_time(mod):
    """Best-of-5 fresh-process import time, with bytecode cached as an installed package has it
    (this machine sets PYTHONDONTWRITEBYTECODE; torch's wheel ships compiled files regardless)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = f"import time; t=time.perf_counter(); import {mod}; print(time.perf_counter()-t)"
    run = [sys.executable, "-c", code]
    subprocess.check_output(run, env=env)            # warm-up: writes __pycache__
    return min(float(subprocess.check_output(run, env=env)) for _ in range(5))


def main():
    print(HEADER)
    print(row("a + b, 4x4 float32", per_call(small_add(ember, False)), per_call(small_add(torch, False)), 1.0))
    print(row("a + b, 4x4 float32, requires_grad", per_call(small_add(ember, True)),
              per_call(small_add(torch, True)), 1.0))
    print(row("((a*b)+a).sum().backward(), 4x4", per_call(chain(ember)), per_call(chain(torch)), 1.0))
    print(row("matmul 1024x1024 float32", per_call(matmul(ember), repeat=5), per_call(matmul(torch), repeat=5), 1.1))
    print(row("import wall time", import_time("ember"), import_time("torch"), 0.2))


if __name__ == "__main__":
    main()
