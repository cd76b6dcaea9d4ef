"""``Work``, the handle of a pending operation, and writing a result into a tensor (shared by the backends)."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from .._tensor import Tensor
from .store import DistBackendError, seconds


def write(t: Tensor, value) -> None:
    """Store a received ``value`` in ``t`` (an in-place write: the version counter moves)."""
    t._data[...] = value
    t._version[0] += 1


class Work:
    """A pending operation (``async_op=True``); ``wait()`` blocks until it is done and re-raises its error."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._result: list = []

    def _finish(self, error: BaseException | None = None) -> None:
        self._error = error
        self._done.set()

    def wait(self, timeout: timedelta | None = None) -> bool:
        if not self._done.wait(None if timeout is None else seconds(timeout)):
            raise DistBackendError("Work.wait timed out")
        if self._error is not None:
            raise self._error
        return True

    def is_completed(self) -> bool:
        return self._done.is_set()

    def is_success(self) -> bool:
        return self._done.is_set() and self._error is None

    def exception(self):
        return self._error

    def result(self) -> list:
        self.wait()
        return self._result


class PollWork(Work):
    """A Work completed by the thread that asks about it: ``take(block)`` finishes the operation (waiting
    for it if ``block``) and returns whether it is done."""

    def __init__(self, take) -> None:
        super().__init__()
        self._take = take

    def _try(self, block: bool) -> None:
        if not self._done.is_set():
            try:
                if self._take(block):
                    self._finish()
            except Exception as e:          # noqa: BLE001 - re-raised by wait()
                self._finish(e)

    def wait(self, timeout: timedelta | None = None) -> bool:
        if timeout is None:
            self._try(block=True)
            return super().wait()
        deadline = time.monotonic() + seconds(timeout)
        self._try(block=False)
        while not self._done.is_set() and time.monotonic() < deadline:
            time.sleep(0.001)
            self._try(block=False)
        return super().wait(timedelta(0))

    def is_completed(self) -> bool:
        self._try(block=False)
        return super().is_completed()
