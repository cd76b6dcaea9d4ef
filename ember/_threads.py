"""``set_num_threads`` / ``get_num_threads``: the threads ember's math (NumPy's BLAS) may use.

ember's parallelism is the BLAS library's.  With ``threadpoolctl`` installed the limit is applied
to it; without, the number is recorded (``get_num_threads`` returns it) and BLAS keeps the count
it started with (set ``OMP_NUM_THREADS`` before starting Python to change that).
"""
from __future__ import annotations

import os

_num_threads = None
_interop = 1


def _blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


def get_num_threads() -> int:
    """Threads used for intra-op parallelism."""
    if _num_threads is not None:
        return _num_threads
    n = _blas_threads()
    if n is None:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return n


def set_num_threads(n: int) -> None:
    """Limit intra-op parallelism (BLAS) to ``n`` threads."""
    global _num_threads
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"set_num_threads(): argument 'int' (position 1) must be int, not {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("Number of threads must be positive")
    _num_threads = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(n, user_api="blas")


def get_num_interop_threads() -> int:
    """Threads for inter-op parallelism (ember runs ops one at a time: 1 unless set)."""
    return _interop


def set_num_interop_threads(n: int) -> None:
    global _interop
    if n <= 0:
        raise RuntimeError("Number of threads must be positive")
    _interop = int(n)


PUBLIC = {f.__name__: f for f in (get_num_threads, set_num_threads, get_num_interop_threads, set_num_interop_threads)}
