"""The ``gloo`` backend: collectives as messages over the TCP mesh of ``transport``.

Each collective call takes the next sequence number of its group; every message of that call is
tagged with it, so calls match up across ranks by program order alone. Reductions gather to the
group's first rank, which combines the contributions in rank order and sends the result back:
every rank ends with bit-identical values (what data-parallel training needs), at the cost of
that rank's bandwidth. ``async_op=True`` operations run in order on one background thread.

A group's methods take group ranks and arguments already checked by ``distributed_c10d``.
"""
from __future__ import annotations

import queue
import threading

import numpy as np

from .._tensor import Tensor
from .reduce_op import RedOpType, combine
from .transport import Mesh
from .work import PollWork, Work, write


class GlooBackend:
    """The gloo side of the default group: the store, this rank's mesh, the thread of async operations."""

    name = "gloo"

    def __init__(self, store, prefix: str, rank: int, world_size: int, timeout: float, owns_store: bool) -> None:
        self.store, self.owns_store = store, owns_store
        self.rank, self.world_size = rank, world_size
        self.mesh = Mesh(store, prefix, rank, world_size, timeout)
        self._jobs: queue.Queue | None = None

    def group(self, ranks: list[int], gid: int) -> GlooGroup:
        return GlooGroup(self, ranks, gid)

    def run_async(self, fn) -> Work:
        """Run ``fn`` on the background thread, after any async operation issued before it."""
        if self._jobs is None:
            self._jobs = queue.Queue()
            threading.Thread(target=self._worker, daemon=True, name="ember-dist-async").start()
        work = Work()
        self._jobs.put((fn, work))
        return work

    def _worker(self) -> None:
        while True:
            fn, work = self._jobs.get()
            if fn is None:
                return
            try:
                fn()
                work._finish()
            except Exception as e:          # noqa: BLE001 - re-raised by wait()
                work._finish(e)

    def close(self) -> None:
        if self._jobs is not None:
            self._jobs.put((None, None))
        self.mesh.close()
        if self.owns_store:
            self.store.close()


class GlooGroup:
    """One process group's collectives over the mesh, addressed by group rank."""

    def __init__(self, backend: GlooBackend, ranks: list[int], gid: int) -> None:
        self._backend, self._mesh, self._ranks, self._id = backend, backend.mesh, ranks, gid
        self._group_rank = {g: i for i, g in enumerate(ranks)}
        self._me, self._n = self._group_rank[backend.rank], len(ranks)
        self._seq = 0

    # --- messaging by group rank ---------------------------------------------------------------
    def _next_tag(self):
        self._seq += 1
        return ("c", self._id, self._seq)

    def _run(self, fn, async_op: bool):
        """Run the collective ``fn(tag)`` now, or on the background thread with ``async_op``."""
        tag = self._next_tag()
        if async_op:
            return self._backend.run_async(lambda: fn(tag))
        fn(tag)
        return None

    def _send(self, to: int, tag, array) -> None:
        raw = np.ascontiguousarray(array).reshape(-1).view(np.uint8)     # as bytes: bfloat16 has no buffer format
        self._mesh.send(self._ranks[to], tag, (array.dtype.name, array.shape), raw)

    def _send_bytes(self, to: int, tag, data: bytes) -> None:
        self._mesh.send(self._ranks[to], tag, None, data)

    def _peers(self, frm) -> list[int]:
        """Global ranks of group rank ``frm`` (None: every other member)."""
        return [r for r in (self._ranks if frm is None else [self._ranks[frm]]) if r != self._backend.rank]

    def _decode(self, message, like):
        """(group rank of the sender, array) from a received message, checked against ``like``'s
        dtype and size (ranks passing different ones is an error, not a reinterpretation)."""
        src, (dtype, shape), payload = message
        if dtype != like.dtype.name or np.prod(shape) != like.size:
            raise RuntimeError(f"ProcessGroupGloo: rank {src} sent a {dtype} tensor of shape {tuple(shape)} "
                               f"where a {like.dtype.name} tensor of {like.size} elements was expected")
        return self._group_rank[src], np.frombuffer(payload, dtype=like.dtype).reshape(like.shape)

    def _recv(self, frm, tag, like):
        """The next ``tag`` message from group rank ``frm`` (None: any) as (sender's group rank, array)."""
        return self._decode(self._mesh.recv(self._peers(frm), tag), like)

    def _recv_bytes(self, frm: int, tag) -> bytes:
        return self._mesh.recv([self._ranks[frm]], tag)[2]

    def _reduce_to(self, tag, a, root: int, op: RedOpType):
        """The reduction of every rank's ``a`` at group rank ``root`` (None elsewhere)."""
        if self._me != root:
            self._send(root, tag, a)
            return None
        parts = [a if r == root else self._recv(r, tag, a)[1] for r in range(self._n)]
        return combine(parts, op, self._n)

    def _broadcast_from(self, tag, t: Tensor, root: int, value=None) -> None:
        if self._me == root:
            for r in range(self._n):
                if r != root:
                    self._send(r, tag, t._data if value is None else value)
            if value is not None:
                write(t, value)
        else:
            write(t, self._recv(root, tag, t._data)[1])

    def _exchange(self, tag, outgoing, incoming) -> None:
        """Send ``outgoing[r]`` to each other group rank r and fill ``incoming[r]`` from it (None: skip)."""
        for r in range(self._n):
            if r != self._me and outgoing[r] is not None:
                self._send(r, tag, outgoing[r])
        for r in range(self._n):
            if r != self._me and incoming[r] is not None:
                write(incoming[r], self._recv(r, tag, incoming[r]._data)[1])

    # --- collectives: inputs are arrays, outputs Tensors ---------------------------------------
    def all_reduce(self, t: Tensor, op: RedOpType, async_op: bool):
        return self._run(lambda tag: self._broadcast_from(tag, t, 0, self._reduce_to(tag, t._data, 0, op)), async_op)

    def broadcast(self, t: Tensor, root: int, async_op: bool):
        return self._run(lambda tag: self._broadcast_from(tag, t, root), async_op)

    def reduce(self, t: Tensor, root: int, op: RedOpType, async_op: bool):
        def run(tag):
            result = self._reduce_to(tag, t._data, root, op)
            if result is not None:
                write(t, result)
        return self._run(run, async_op)

    def all_gather(self, outs: list[Tensor], a, async_op: bool):
        def run(tag):
            write(outs[self._me], a)
            self._exchange(tag, [a] * self._n, outs)
        return self._run(run, async_op)

    def gather(self, a, outs: list[Tensor] | None, root: int, async_op: bool):
        def run(tag):
            if self._me != root:
                self._send(root, tag, a)
                return
            write(outs[root], a)
            self._exchange(tag, [None] * self._n, outs)
        return self._run(run, async_op)

    def scatter(self, t: Tensor, ins: list | None, root: int, async_op: bool):
        def run(tag):
            if self._me == root:
                write(t, ins[root])
                self._exchange(tag, ins, [None] * self._n)
            else:
                write(t, self._recv(root, tag, t._data)[1])
        return self._run(run, async_op)

    def reduce_scatter(self, out: Tensor, ins: list, op: RedOpType, async_op: bool):
        def run(tag):
            for r in range(self._n):
                if r != self._me:
                    self._send(r, tag, ins[r])
            parts = [ins[r] if r == self._me else self._recv(r, tag, out._data)[1] for r in range(self._n)]
            write(out, combine(parts, op, self._n))
        return self._run(run, async_op)

    def all_to_all(self, outs: list[Tensor], ins: list, async_op: bool):
        def run(tag):
            write(outs[self._me], ins[self._me])
            self._exchange(tag, ins, outs)
        return self._run(run, async_op)

    def barrier(self, async_op: bool):
        token = np.zeros(0, dtype=np.uint8)

        def run(tag):
            if self._me != 0:
                self._send(0, tag, token)
                self._recv(0, tag, token)
                return
            for r in range(1, self._n):
                self._recv(r, tag, token)
            for r in range(1, self._n):
                self._send(r, tag, token)
        return self._run(run, async_op)

    # --- point to point ------------------------------------------------------------------------
    def isend(self, a, dst: int, tag: int) -> Work:
        """Already complete when it returns: the receiver buffers messages."""
        self._send(dst, ("p", self._id, tag), a)
        work = Work()
        work._finish()
        return work

    def irecv(self, t: Tensor, src: int | None, tag: int) -> Work:
        """Receives when the Work is waited on (or polled); ``work._source`` is the sender's global rank."""
        mtag = ("p", self._id, tag)
        mailbox = self._mesh.mailbox
        work = None

        def take(block: bool) -> bool:
            if block:
                message = self._mesh.recv(self._peers(src), mtag)
            else:
                with mailbox.cond:
                    message = mailbox.poll(self._peers(src), mtag)
                if message is None:
                    return False
            sender, value = self._decode(message, t._data)
            work._source = self._ranks[sender]
            work._result = [t]
            write(t, value)
            return True
        work = PollWork(take)
        return work

    # --- pickled objects, as bytes -------------------------------------------------------------
    def broadcast_bytes(self, data: bytes | None, root: int) -> bytes:
        tag = self._next_tag()
        if self._me != root:
            return self._recv_bytes(root, tag)
        for r in range(self._n):
            if r != root:
                self._send_bytes(r, tag, data)
        return data

    def all_gather_bytes(self, data: bytes) -> list[bytes]:
        tag = self._next_tag()
        for r in range(self._n):
            if r != self._me:
                self._send_bytes(r, tag, data)
        return [data if r == self._me else self._recv_bytes(r, tag) for r in range(self._n)]

    def gather_bytes(self, data: bytes, root: int) -> list[bytes] | None:
        tag = self._next_tag()
        if self._me != root:
            self._send_bytes(root, tag, data)
            return None
        return [data if r == root else self._recv_bytes(r, tag) for r in range(self._n)]
