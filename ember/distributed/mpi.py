"""The ``mpi`` backend: collectives as MPI calls (through mpi4py) on the tensors' NumPy buffers.

``mpiexec`` starts the processes and gives each its rank; every process group is an MPI communicator.
Each operation starts as one non-blocking MPI call, in program order (so async operations match up
across ranks exactly like blocking ones), and its Work completes it: ``async_op=False`` waits at
once. Tensors travel as raw bytes. Reductions use MPI's built-in operations for the dtypes MPI
knows, and a user-defined operation that combines NumPy arrays for the others (bool, float16,
bfloat16, min/max of complex numbers).

A group's methods take group ranks and arguments already checked by ``distributed_c10d``.
"""
from __future__ import annotations

import io
import sys
import time

import numpy as np

from .._optional import require
from .._tensor import Tensor
from .reduce_op import COMBINE, RedOpType
from .work import PollWork, Work, write

MPI = require("mpi4py.MPI", "the 'mpi' backend of ember.distributed needs mpi4py and an MPI library", "distributed")

_TYPES = {np.dtype(k): v for k, v in (
    (np.float32, MPI.FLOAT), (np.float64, MPI.DOUBLE), (np.complex64, MPI.C_FLOAT_COMPLEX),
    (np.complex128, MPI.C_DOUBLE_COMPLEX), (np.int8, MPI.INT8_T), (np.int16, MPI.INT16_T),
    (np.int32, MPI.INT32_T), (np.int64, MPI.INT64_T), (np.uint8, MPI.UINT8_T), (np.uint16, MPI.UINT16_T),
    (np.uint32, MPI.UINT32_T), (np.uint64, MPI.UINT64_T))}
_OPS = {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD, RedOpType.MIN: MPI.MIN,
        RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND, RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}
_made: dict = {}        # user-defined datatypes and operations, made once per process


def _reduction(dtype: np.dtype, op: RedOpType):
    """(MPI datatype, MPI operation) that reduce arrays of ``dtype`` with ``op``."""
    if dtype in _TYPES and not (dtype.kind == "c" and op in (RedOpType.MIN, RedOpType.MAX)):
        return _TYPES[dtype], _OPS[op]
    key = (dtype, op)
    if key not in _made:
        def combine(inbuf, inoutbuf, datatype, fn=COMBINE[op]):
            io = np.frombuffer(inoutbuf, dtype)
            fn(np.frombuffer(inbuf, dtype), io, out=io)
        _made[key] = (MPI.BYTE.Create_contiguous(dtype.itemsize).Commit(), MPI.Op.Create(combine, commute=True))
    return _made[key]


def _raw(a) -> np.ndarray:
    """``a``'s bytes as a flat uint8 array (a view when ``a`` is contiguous)."""
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _buffer(t: Tensor) -> np.ndarray:
    """An array MPI may write ``t``'s new value into: ``t``'s own when it is contiguous, else a copy."""
    a = t._data
    return a if a.flags.c_contiguous and a.flags.writeable else a.copy(order="C")


def _store(t: Tensor, buf) -> None:
    """Finish writing ``t`` from its ``_buffer``."""
    if buf is t._data:
        t._version[0] += 1
    else:
        write(t, buf)


def _unpack(raw, outs: list[Tensor]) -> None:
    """Write the consecutive byte runs of ``raw`` into ``outs``."""
    offset = 0
    for o in outs:
        a = o._data
        write(o, raw[offset:offset + a.nbytes].view(a.dtype).reshape(a.shape))
        offset += a.nbytes


def _run(requests, finish, async_op: bool) -> Work | None:
    """A Work that completes ``requests`` and then calls ``finish``; waited on now unless ``async_op``."""
    def take(block: bool) -> bool:
        if block:
            MPI.Request.Waitall(requests)
        elif not MPI.Request.Testall(requests):
            return False
        if finish is not None:
            finish()
        return True
    work = PollWork(take)
    if async_op:
        return work
    work.wait()
    return None


def _abort_after(excepthook):
    """``excepthook``, then the end of the whole MPI job: the other ranks would wait for this one forever
    (what ``python -m mpi4py`` does)."""
    def hook(kind, value, tb):
        # the report goes out in one write: mpiexec may stop forwarding this rank's output once it aborts
        stderr, sys.stderr = sys.stderr, io.StringIO()
        try:
            excepthook(kind, value, tb)
        finally:
            report, sys.stderr = sys.stderr.getvalue(), stderr
        stderr.write(report)
        stderr.flush()
        time.sleep(1.0)     # and mpiexec forwards it before the abort ends this rank's output
        MPI.COMM_WORLD.Abort(1)
    return hook


class MPIBackend:
    """The mpi side of the default group: ``MPI.COMM_WORLD``'s rank and size, and each group's communicator.
    While it lives, an exception that ends this process ends the whole job."""

    name = "mpi"

    def __init__(self) -> None:
        self.comm = MPI.COMM_WORLD
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()
        self._comms: list = []
        self._excepthook = self._hook = sys.excepthook
        if self.world_size > 1:
            sys.excepthook = self._hook = _abort_after(sys.excepthook)

    def group(self, ranks: list[int], gid: int) -> MPIGroup:
        """The group of ``ranks``: a new communicator, made by every one of them (and only them)."""
        everyone = self.comm.Get_group()
        members = everyone.Incl(ranks)
        comm = self.comm.Create_group(members)
        members.Free()
        everyone.Free()
        self._comms.append(comm)
        return MPIGroup(comm, ranks)

    def close(self) -> None:
        for comm in self._comms:
            comm.Free()
        self._comms.clear()
        if sys.excepthook is self._hook:
            sys.excepthook = self._excepthook


class MPIGroup:
    """One process group's collectives on its communicator, addressed by group rank."""

    def __init__(self, comm, ranks: list[int]) -> None:
        self._comm, self._ranks = comm, ranks
        self._me, self._n = comm.Get_rank(), comm.Get_size()

    def _reduced(self, t: Tensor, buf, op: RedOpType):
        """``finish`` of a reduction into ``buf``: AVG divides the sum; the result lands in ``t``."""
        def finish():
            if op == RedOpType.AVG:
                np.divide(buf, self._n, out=buf)
            _store(t, buf)
        return finish

    # --- collectives: inputs are arrays, outputs Tensors ---------------------------------------
    def all_reduce(self, t: Tensor, op: RedOpType, async_op: bool):
        buf = _buffer(t)
        datatype, mop = _reduction(buf.dtype, op)
        request = self._comm.Iallreduce(MPI.IN_PLACE, [_raw(buf), datatype], mop)
        return _run([request], self._reduced(t, buf, op), async_op)

    def broadcast(self, t: Tensor, root: int, async_op: bool):
        buf = _buffer(t)
        request = self._comm.Ibcast([_raw(buf), MPI.BYTE], root)
        return _run([request], None if self._me == root else lambda: _store(t, buf), async_op)

    def reduce(self, t: Tensor, root: int, op: RedOpType, async_op: bool):
        datatype, mop = _reduction(t._data.dtype, op)
        if self._me != root:
            request = self._comm.Ireduce([_raw(t._data), datatype], None, mop, root)
            return _run([request], None, async_op)
        buf = _buffer(t)
        request = self._comm.Ireduce(MPI.IN_PLACE, [_raw(buf), datatype], mop, root)
        return _run([request], self._reduced(t, buf, op), async_op)

    def all_gather(self, outs: list[Tensor], a, async_op: bool):
        raw = np.empty(a.nbytes * self._n, np.uint8)
        request = self._comm.Iallgather([_raw(a), MPI.BYTE], [raw, MPI.BYTE])
        return _run([request], lambda: _unpack(raw, outs), async_op)

    def gather(self, a, outs: list[Tensor] | None, root: int, async_op: bool):
        raw = np.empty(a.nbytes * self._n, np.uint8) if self._me == root else None
        request = self._comm.Igather([_raw(a), MPI.BYTE], None if raw is None else [raw, MPI.BYTE], root)
        return _run([request], None if raw is None else lambda: _unpack(raw, outs), async_op)

    def scatter(self, t: Tensor, ins: list | None, root: int, async_op: bool):
        buf = _buffer(t)
        send = None if ins is None else [np.concatenate([_raw(a) for a in ins]), MPI.BYTE]
        request = self._comm.Iscatter(send, [_raw(buf), MPI.BYTE], root)
        return _run([request], lambda: _store(t, buf), async_op)

    def reduce_scatter(self, out: Tensor, ins: list, op: RedOpType, async_op: bool):
        buf = _buffer(out)
        datatype, mop = _reduction(buf.dtype, op)
        send = np.concatenate([_raw(a) for a in ins])
        request = self._comm.Ireduce_scatter_block([send, datatype], [_raw(buf), datatype], mop)
        return _run([request], self._reduced(out, buf, op), async_op)

    def all_to_all(self, outs: list[Tensor], ins: list, async_op: bool):
        send = np.concatenate([_raw(a) for a in ins])
        raw = np.empty(sum(o._data.nbytes for o in outs), np.uint8)
        send_counts, recv_counts = [a.nbytes for a in ins], [o._data.nbytes for o in outs]
        request = self._comm.Ialltoallv([send, (send_counts, np.cumsum([0] + send_counts[:-1])), MPI.BYTE],
                                        [raw, (recv_counts, np.cumsum([0] + recv_counts[:-1])), MPI.BYTE])
        return _run([request], lambda: _unpack(raw, outs), async_op)

    def barrier(self, async_op: bool):
        return _run([self._comm.Ibarrier()], None, async_op)

    # --- point to point ------------------------------------------------------------------------
    def isend(self, a, dst: int, tag: int) -> Work:
        """Complete once ``a``'s bytes are sent or buffered: it must not change before ``wait()``."""
        return _run([self._comm.Isend([_raw(a), MPI.BYTE], dst, tag)], None, async_op=True)

    def irecv(self, t: Tensor, src: int | None, tag: int) -> Work:
        """Receives into ``t``; ``work._source`` is the sender's global rank."""
        buf = _buffer(t)
        raw = _raw(buf)
        status = MPI.Status()
        request = self._comm.Irecv([raw, MPI.BYTE], MPI.ANY_SOURCE if src is None else src, tag)
        work = None

        def take(block: bool) -> bool:
            if block:
                request.Wait(status)
            elif not request.Test(status):
                return False
            sender = status.Get_source()
            if status.Get_count(MPI.BYTE) != raw.nbytes:
                raise RuntimeError(f"ProcessGroupMPI: rank {self._ranks[sender]} sent {status.Get_count(MPI.BYTE)} "
                                   f"bytes where a {buf.dtype.name} tensor of {buf.size} elements was expected")
            work._source = self._ranks[sender]
            work._result = [t]
            _store(t, buf)
            return True
        work = PollWork(take)
        return work

    # --- pickled objects, as bytes -------------------------------------------------------------
    def broadcast_bytes(self, data: bytes | None, root: int) -> bytes:
        return self._comm.bcast(data, root)

    def all_gather_bytes(self, data: bytes) -> list[bytes]:
        return self._comm.allgather(data)

    def gather_bytes(self, data: bytes, root: int) -> list[bytes] | None:
        return self._comm.gather(data, root)
