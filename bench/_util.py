"""Side-by-side timing helpers: the same workload through ember and torch in one process."""
from __future__ import annotations

import timeit


def per_call(fn, number=None, repeat=7, min_time=0.2):
    """Best-of-``repeat`` seconds per call, auto-sizing ``number`` to run ~min_time per repeat."""
    if number is None:
        number = 1
        while True:
            t = timeit.timeit(fn, number=number)
            if t >= min_time / 5:
                number = max(1, int(number * (min_time / max(t, 1e-9))))
                break
            number *= 10
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def row(name, t_ember, t_torch, target=None):
    ratio = t_ember / t_torch
    mark = "" if target is None else ("  ok" if ratio <= target else f"  MISS (target <= {target}x)")
    return f"| {name} | {_fmt(t_ember)} | {_fmt(t_torch)} | {ratio:.2f}x |{mark}"


def _fmt(t):
    if t < 1e-3:
        return f"{t * 1e6:.2f} µs"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


HEADER = "| benchmark | ember | torch | ember/torch |\n|---|---|---|---|"
