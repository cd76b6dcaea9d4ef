"""``torch.multiprocessing``: the standard library's ``multiprocessing`` plus ``spawn``/``start_processes``.

ember tensors pickle by value, so they cross process boundaries through ``Queue``, ``Pipe`` and
``Pool`` as copies: a child writing into a tensor it received does not change the parent's (torch
moves tensors to shared memory instead). The sharing strategy is recorded for API compatibility.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import tempfile
import traceback
import warnings
from multiprocessing import *  # noqa: F403  (torch.multiprocessing re-exports all of it)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies", "spawn",
           "start_processes", "ProcessContext", "ProcessException", "ProcessRaisedException",
           "ProcessExitedException"] + multiprocessing.__all__

_SHARING_STRATEGIES = {"file_descriptor", "file_system"} if sys.platform != "darwin" else {"file_system"}
_sharing = ["file_descriptor" if sys.platform != "darwin" else "file_system"]


def set_sharing_strategy(new_strategy: str) -> None:
    """Choose how tensors would be shared between processes (one of ``get_all_sharing_strategies()``)."""
    assert new_strategy in _SHARING_STRATEGIES
    _sharing[0] = new_strategy


def get_sharing_strategy() -> str:
    return _sharing[0]


def get_all_sharing_strategies() -> set[str]:
    return set(_SHARING_STRATEGIES)


class ProcessException(Exception):
    """A spawned process failed; ``error_index`` is its index, ``error_pid`` its pid."""

    def __init__(self, msg: str, error_index: int, error_pid: int):
        super().__init__(msg)
        self.msg, self.error_index, self.error_pid = msg, error_index, error_pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """The process's function raised; the message carries the child's traceback."""


class ProcessExitedException(ProcessException):
    """The process died from a signal or exited with a non-zero code without raising."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int, signal_name: str | None = None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid, self.exit_code, self.signal_name)


def _run(fn, i, args, error_file):
    """Child entry point: ``fn(i, *args)``; an exception's traceback goes to ``error_file``, exit code 1."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        with open(error_file, "w") as f:
            f.write(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes ``start_processes(join=False)`` started; ``join()`` waits and reports failures."""

    def __init__(self, processes, error_files):
        self.processes, self.error_files = processes, error_files
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """True once every process has exited cleanly; raises for the first that failed (stopping the rest)."""
        if not self.sentinels:
            return True
        failed = None
        for sentinel in multiprocessing.connection.wait(list(self.sentinels), timeout=timeout):
            i = self.sentinels.pop(sentinel)
            self.processes[i].join()
            if self.processes[i].exitcode != 0:
                failed = i
                break
        if failed is None:
            return not self.sentinels
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        for p in self.processes:
            p.join(30 if grace_period is None else grace_period)
            if p.is_alive():
                p.kill()
                p.join()
        self._raise(failed)

    def _raise(self, i):
        process, path = self.processes[i], self.error_files[i]
        with open(path) as f:
            trace = f.read()
        if trace:
            raise ProcessRaisedException(f"\n\n-- Process {i:d} terminated with the following error:\n{trace}",
                                         i, process.pid)
        code = process.exitcode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"<Unknown signal {-code}>"
            raise ProcessExitedException(f"process {i:d} terminated with signal {name}", i, process.pid,
                                         code, name)
        raise ProcessExitedException(f"process {i:d} terminated with exit code {code:d}", i, process.pid, code)

    def __del__(self):
        for path in getattr(self, "error_files", ()):
            if os.path.exists(path):
                os.unlink(path)


def start_processes(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn"):
    """Start ``nprocs`` processes running ``fn(i, *args)``; join them (None) or return a ProcessContext."""
    ctx = multiprocessing.get_context(start_method)
    processes, error_files = [], []
    for i in range(nprocs):
        fd, path = tempfile.mkstemp(prefix="ember-spawn-")
        os.close(fd)
        p = ctx.Process(target=_run, args=(fn, i, args, path), daemon=daemon)
        p.start()
        processes.append(p)
        error_files.append(path)
    context = ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False, start_method: str = "spawn"):
    """``start_processes`` with the ``spawn`` start method (any other ``start_method`` warns and is ignored)."""
    if start_method != "spawn":
        warnings.warn(f"spawn() always starts processes with 'spawn' (got start_method={start_method!r}); "
                      "use start_processes(...) for another start method.", FutureWarning, stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
