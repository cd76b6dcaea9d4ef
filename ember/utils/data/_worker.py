"""What a DataLoader worker process runs, and the fetchers it shares with the single-process path."""
from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from ..._random import manual_seed
from ..._threads import set_num_threads

STATUS_CHECK_INTERVAL = 1.0   # seconds between checks that the other side is still alive


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: its ``id`` (0 .. ``num_workers`` - 1),
    the ``seed`` its generators were seeded with, and its own copy of the ``dataset``."""
    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's ``WorkerInfo``; ``None`` in the main process."""
    return _worker_info


class MapFetcher:
    """One batch from a map-style dataset: ``dataset[i]`` per index (or one ``__getitems__``)."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if auto_collation and getitems else None

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.getitems is not None:
            return self.collate_fn(self.getitems(index))
        return self.collate_fn([self.dataset[i] for i in index])


class IterableFetcher:
    """The next batch (``len(index)`` items) of an iterable dataset; ``StopIteration`` at its end."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.iterator = iter(dataset)
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        items = []
        for _ in index:
            try:
                items.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not items or (self.drop_last and len(items) < len(index)):
            raise StopIteration
        return self.collate_fn(items)


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process as its type and traceback text."""

    def __init__(self, where: str) -> None:
        exc_type, exc, tb = sys.exc_info()
        self.exc_type = exc_type
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self):
        """Raise the same exception type here, its message holding the worker's traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            raise KeyError(_Verbatim(msg))
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


class _Verbatim(str):
    """A KeyError argument that prints as itself (KeyError would show its repr, quotes and ``\\n``)."""

    def __repr__(self) -> str:
        return self


@dataclass(frozen=True)
class WorkerDone:
    """A worker's answer once its iterable dataset is exhausted."""
    worker_id: int


@dataclass(frozen=True)
class Resume:
    """Sent to persistent workers at the start of a new epoch; they answer ``(Resume(), None)``."""


def numpy_seed(base_seed: int, worker_id: int) -> list:
    """The seed torch gives NumPy's global generator in a worker: a SeedSequence over the ids."""
    mask = 0xFFFF_FFFF
    return np.random.SeedSequence([worker_id, base_seed & mask, base_seed >> 32, 0]).generate_state(4).tolist()


def worker_loop(fetcher_cls, dataset, index_queue, result_queue, done_event, auto_collation, collate_fn,
                drop_last, base_seed, init_fn, worker_id, num_workers) -> None:
    """Serve ``(task_idx, index)`` requests from ``index_queue`` until ``None`` arrives or the parent dies.

    Seeds ``random``, ember and NumPy from ``base_seed + worker_id`` first, so random augmentations
    differ between workers and repeat run to run.
    """
    global _worker_info
    try:
        set_num_threads(1)
        seed = base_seed + worker_id
        random.seed(seed)
        manual_seed(seed)
        np.random.seed(numpy_seed(base_seed, worker_id))
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = fetcher_cls(dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where)
        ended = False
        parent = os.getppid()
        while os.getppid() == parent:
            try:
                request = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if request is None:
                break
            if isinstance(request, Resume):
                result_queue.put((request, None))
                ended = False
                fetcher = fetcher_cls(dataset, auto_collation, collate_fn, drop_last)
                continue
            if done_event.is_set() or ended:
                continue
            task_idx, index = request
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if fetcher_cls is MapFetcher:
                        data = ExceptionWrapper(where)
                    else:
                        data, ended = WorkerDone(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where)
            result_queue.put((task_idx, data))
            del data, request
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        result_queue.cancel_join_thread()
        result_queue.close()
