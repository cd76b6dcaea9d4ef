"""Process groups and collectives (``torch.distributed`` with the ``gloo`` backend), over the TCP
mesh of ``transport``.

Each collective call takes the next sequence number of its group; every message of that call is
tagged with it, so calls match up across ranks by program order alone. Reductions gather to the
group's first rank, which combines the contributions in rank order and sends the result back:
every rank ends with bit-identical values (what data-parallel training needs), at the cost of
that rank's bandwidth. Tensors must be on the cpu.
"""
from __future__ import annotations

import enum
import os
import pickle
import queue
import threading
import warnings
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import numpy as np

from .._tensor import Tensor
from .store import DistBackendError, Store, TCPStore, seconds
from .transport import Mesh

default_pg_timeout = timedelta(minutes=30)


class Backend(str):
    """A backend name (``Backend.GLOO == "gloo"``)."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(  # noqa: TRY004 - torch's error type
                f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        return super().__new__(cls, name.lower())


class RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """How a reduction combines the ranks' tensors (``ReduceOp.SUM``, ``.PRODUCT``, ``.MIN``, ``.MAX``,
    ``.AVG``, and bitwise ``.BAND``/``.BOR``/``.BXOR`` for integer and bool tensors)."""

    RedOpType = RedOpType
    SUM, AVG, PRODUCT = RedOpType.SUM, RedOpType.AVG, RedOpType.PRODUCT
    MIN, MAX = RedOpType.MIN, RedOpType.MAX
    BAND, BOR, BXOR = RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR


_COMBINE = {RedOpType.SUM: np.add, RedOpType.AVG: np.add, RedOpType.PRODUCT: np.multiply,
            RedOpType.MIN: np.minimum, RedOpType.MAX: np.maximum, RedOpType.BAND: np.bitwise_and,
            RedOpType.BOR: np.bitwise_or, RedOpType.BXOR: np.bitwise_xor}
_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _check_op(op, dtype: np.dtype) -> RedOpType:
    op = RedOpType(op)
    integral = dtype.kind in "iub"
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and not integral:
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if op == RedOpType.AVG and integral:
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_SCALAR_NAMES[dtype.name]}")
    return op


def _combine(arrays, op: RedOpType, size: int):
    """Reduce ``arrays`` (in rank order, so every run combines them identically)."""
    out = arrays[0].copy()
    for a in arrays[1:]:
        _COMBINE[op](out, a, out=out)
    if op == RedOpType.AVG:
        out /= size
    return out


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


class _RecvWork(Work):
    """``irecv``'s Work: the message is filed by the mailbox; taking it writes the tensor."""

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
        self._try(block=True)
        return super().wait(timeout)

    def is_completed(self) -> bool:
        self._try(block=False)
        return super().is_completed()


class ProcessGroup:
    """A set of ranks that run collectives together; ``rank()`` and ``size()`` are within the group."""

    def __init__(self, world: _World, ranks: list[int], gid: int) -> None:
        self._world, self._ranks, self._id = world, list(ranks), gid
        self._group_rank = {g: i for i, g in enumerate(self._ranks)}
        self._seq = 0

    def rank(self) -> int:
        return self._group_rank[self._world.rank]

    def size(self) -> int:
        return len(self._ranks)

    def name(self) -> str:
        return str(self._id)

    def __repr__(self) -> str:
        return f"ProcessGroup(ranks={self._ranks}, backend=gloo)"

    # --- messaging by group rank ---------------------------------------------------------------
    def _next_tag(self):
        self._seq += 1
        return ("c", self._id, self._seq)

    def _send(self, to: int, tag, array) -> None:
        raw = np.ascontiguousarray(array).reshape(-1).view(np.uint8)     # as bytes: bfloat16 has no buffer format
        self._world.mesh.send(self._ranks[to], tag, (array.dtype.name, array.shape), raw)

    def _send_bytes(self, to: int, tag, data: bytes) -> None:
        self._world.mesh.send(self._ranks[to], tag, None, data)

    def _peers(self, frm) -> list[int]:
        """Global ranks of group rank ``frm`` (None: every other member)."""
        return [r for r in (self._ranks if frm is None else [self._ranks[frm]]) if r != self._world.rank]

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
        return self._decode(self._world.mesh.recv(self._peers(frm), tag), like)

    def _recv_bytes(self, frm: int, tag) -> bytes:
        return self._world.mesh.recv([self._ranks[frm]], tag)[2]


class _World:
    """The default group's state: this process's rank, the store, the mesh, every group made."""

    def __init__(self, store, rank: int, world_size: int, timeout: float, prefix: str, owns_store: bool) -> None:
        self.store, self.rank, self.world_size, self.timeout = store, rank, world_size, timeout
        self.owns_store = owns_store
        self.mesh = Mesh(store, prefix, rank, world_size, timeout)
        self.groups: list[ProcessGroup] = []
        self.default = self.new_group(list(range(world_size)))
        self._jobs: queue.Queue | None = None

    def new_group(self, ranks) -> ProcessGroup:
        pg = ProcessGroup(self, ranks, len(self.groups))
        self.groups.append(pg)
        return pg

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


class GroupMember:
    """``GroupMember.WORLD`` is the default group; ``NON_GROUP_MEMBER`` is what ``new_group`` returns
    to ranks outside the new group."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = object()


group = GroupMember
_state: dict = {"world": None, "inits": 0}
_INIT_ERROR = "Default process group has not been initialized, please make sure to call init_process_group."


def _world() -> _World:
    if _state["world"] is None:
        raise ValueError(_INIT_ERROR)
    return _state["world"]


# --- set-up and queries ------------------------------------------------------------------------
def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return _state["world"] is not None


def is_gloo_available() -> bool:
    return True


def is_mpi_available() -> bool:
    return False


def is_nccl_available() -> bool:
    return False


def is_torchelastic_launched() -> bool:
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _rendezvous(init_method: str, rank: int, world_size: int, timeout: float):
    """(store, rank, world_size) from an ``env://`` or ``tcp://host:port`` init method."""
    url = urlparse(init_method)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    rank = int(query.get("rank", rank))
    world_size = int(query.get("world_size", world_size))
    if url.scheme == "env":
        def env(name):
            if name not in os.environ:
                raise ValueError("Error initializing torch.distributed using env:// rendezvous: "
                                 f"environment variable {name} expected, but not set")
            return os.environ[name]
        if rank == -1:
            rank = int(env("RANK"))
        if world_size == -1:
            world_size = int(env("WORLD_SIZE"))
        host, port = env("MASTER_ADDR"), int(env("MASTER_PORT"))
    elif url.scheme == "tcp":
        if rank == -1:
            raise ValueError("Error initializing torch.distributed using tcp:// rendezvous: rank parameter missing")
        if world_size == -1:
            raise ValueError("Error initializing torch.distributed using tcp:// rendezvous: "
                             "world size parameter missing")
        host, port = url.hostname, url.port
    else:
        raise RuntimeError(f"No rendezvous handler for {url.scheme}://")
    if not 0 <= rank < world_size:
        raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {world_size - 1}]")
    return TCPStore(host, port, world_size, is_master=rank == 0, timeout=timedelta(seconds=timeout)), rank, world_size


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store: Store | None = None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Join the default process group: every one of ``world_size`` processes calls this with its
    ``rank``, meeting through ``init_method`` (``env://``, the default, reads MASTER_ADDR,
    MASTER_PORT, RANK and WORLD_SIZE as torchrun sets them; or ``tcp://host:port``) or a ``store``.
    """
    if _state["world"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend or Backend.GLOO)
    if name == Backend.MPI:
        raise RuntimeError("ember.distributed does not implement the 'mpi' backend; use backend='gloo', "
                           "which runs over TCP on one machine or many")
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in: ember runs collectives on the "
                           "cpu; use backend='gloo'")
    if name not in (Backend.GLOO, "cpu:gloo"):
        raise ValueError(f"Unknown backend type {backend}; ember.distributed supports 'gloo'")
    timeout_s = seconds(default_pg_timeout if timeout is None else timeout)
    owns_store = store is None
    if store is not None:
        if init_method is not None:
            raise ValueError("Cannot specify both init_method and store.")
        if world_size <= 0:
            raise ValueError("world_size must be positive if using store")
        if rank < 0:
            raise ValueError("rank must be non-negative if using store")
    else:
        store, rank, world_size = _rendezvous(init_method or "env://", rank, world_size, timeout_s)
    _state["inits"] += 1
    try:
        world = _World(store, rank, world_size, timeout_s, f"ember/pg{_state['inits']}/", owns_store)
    except BaseException:
        if owns_store:
            store.close()
        raise
    _state["world"] = world
    GroupMember.WORLD = world.default


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the default group (closing its connections), or forget a subgroup."""
    world = _world()
    if group is None or group is GroupMember.WORLD:
        _state["world"] = None
        GroupMember.WORLD = None
        world.close()


def new_group(ranks: list[int] | None = None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc: str | None = None):
    """A group of the given global ranks (all ranks by default). Every rank of the default group must
    call it, in the same order; ranks outside the group get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _world()
    ranks = sorted(range(world.world_size) if ranks is None else ranks)
    for r in ranks:
        if not 0 <= r < world.world_size:
            raise ValueError("The new group's rank should be within the world_size set by init_process_group")
    pg = world.new_group(ranks)
    return pg if world.rank in ranks else GroupMember.NON_GROUP_MEMBER


def _resolve(group) -> ProcessGroup:
    world = _world()
    return world.default if group is None or group is GroupMember.WORLD else group


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (the default group if None); -1 if it is not a member."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _resolve(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _resolve(group).size()


def get_backend(group: ProcessGroup | None = None) -> Backend:
    if group is GroupMember.NON_GROUP_MEMBER:
        raise ValueError("Invalid process group specified")
    _resolve(group)
    return Backend(Backend.GLOO)


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    return list(_resolve(group)._ranks)


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    pg = _resolve(group)
    if global_rank not in pg._group_rank:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg._group_rank[global_rank]


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    pg = _resolve(group)
    if not 0 <= group_rank < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg._ranks[group_rank]


# --- argument checks -----------------------------------------------------------------------------
def _array(t, name: str = "tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor "
                        f"but got {type(t)} instead.")
    if t.device.type != "cpu":
        raise RuntimeError(f"ember.distributed (gloo) supports cpu tensors only, got a tensor on {t.device}")
    return t._data


def _arrays(ts, name: str):
    if not isinstance(ts, list) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor] "
                        f"but got {type(ts)} instead.")
    return [_array(t, name) for t in ts]


def _same_dtype(arrays) -> None:
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) > 1:
        from .._dtype import _FROM_NP
        a, b = (_FROM_NP[d] for d in sorted(dtypes, key=str)[:2])
        raise ValueError(f"Invalid usage of tensors with different dtypesFound {a} and  {b}")


def _write(t: Tensor, value) -> None:
    t._data[...] = value
    t._version[0] += 1


def _member(group, op_name: str):
    """The group to run ``op_name`` on, or None (with torch's warning) for a rank outside it."""
    if group is GroupMember.NON_GROUP_MEMBER:
        warnings.warn(f"Running {op_name} on global rank {get_rank()} which does not belong to the given group.",
                      stacklevel=3)
        return None
    return _resolve(group)


def _root(pg: ProcessGroup, global_rank, group_rank, op_name: str) -> int:
    """The group rank of a ``src``/``dst`` given as a global rank or as ``group_src``/``group_dst``."""
    if group_rank is None:
        if global_rank is None:
            global_rank = 0
        if pg is not _world().default:
            return get_group_rank(pg, global_rank)
        group_rank = global_rank
    if not 0 <= group_rank < pg.size():
        raise RuntimeError(f"ProcessGroupGloo::{op_name}: invalid root rank: {group_rank}")
    return group_rank


def _run(pg: ProcessGroup, fn, async_op: bool):
    """Run the collective ``fn(tag)`` now, or on the background thread with ``async_op``."""
    tag = pg._next_tag()
    if async_op:
        return pg._world.run_async(lambda: fn(tag))
    fn(tag)
    return None


def _size_check(op_name: str, arrays, like) -> None:
    for i, a in enumerate(arrays):
        if a.shape != like.shape:
            raise RuntimeError(f"ProcessGroupGloo::{op_name}: invalid tensor size at index {i} "
                               f"(expected ({', '.join(map(str, like.shape))}), got "
                               f"({', '.join(map(str, a.shape))}))")


def _list_check(op_name: str, arrays, n: int) -> None:
    if len(arrays) != n:
        raise RuntimeError(f"ProcessGroupGloo::{op_name}: invalid output tensor list at index 0 "
                           f"(expected length {n}, got {len(arrays)})")


# --- collectives -----------------------------------------------------------------------------------
def _reduce_to(pg: ProcessGroup, tag, a, root: int, op: RedOpType):
    """The reduction of every rank's ``a`` at group rank ``root`` (None elsewhere)."""
    me = pg.rank()
    if me != root:
        pg._send(root, tag, a)
        return None
    parts = [a if r == me else pg._recv(r, tag, a)[1] for r in range(pg.size())]
    return _combine(parts, op, pg.size())


def _broadcast_from(pg: ProcessGroup, tag, t: Tensor, root: int, value=None) -> None:
    me = pg.rank()
    if me == root:
        for r in range(pg.size()):
            if r != me:
                pg._send(r, tag, t._data if value is None else value)
        if value is not None:
            _write(t, value)
    else:
        _write(t, pg._recv(root, tag, t._data)[1])


def broadcast(tensor: Tensor, src: int | None = None, group=None, async_op: bool = False,
              group_src: int | None = None):
    """Copy ``src``'s ``tensor`` into every rank's ``tensor``."""
    _array(tensor)
    pg = _member(group, "broadcast")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "broadcast")
    return _run(pg, lambda tag: _broadcast_from(pg, tag, tensor, root), async_op)


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` across the group with ``op``; every rank receives the result in place."""
    a = _array(tensor)
    pg = _member(group, "all_reduce")
    if pg is None:
        return None
    op = _check_op(op, a.dtype)

    def run(tag):
        _broadcast_from(pg, tag, tensor, 0, _reduce_to(pg, tag, a, 0, op))
    return _run(pg, run, async_op)


def reduce(tensor: Tensor, dst: int | None = None, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst: int | None = None):
    """Reduce ``tensor`` across the group into ``dst``'s ``tensor``; the other ranks' are left as they were."""
    a = _array(tensor)
    pg = _member(group, "reduce")
    if pg is None:
        return None
    op = _check_op(op, a.dtype)
    root = _root(pg, dst, group_dst, "reduce")

    def run(tag):
        result = _reduce_to(pg, tag, a, root, op)
        if result is not None:
            _write(tensor, result)
    return _run(pg, run, async_op)


def _exchange(pg: ProcessGroup, tag, outgoing, incoming) -> None:
    """Send ``outgoing[r]`` to each other group rank r and fill ``incoming[r]`` from it (None: skip)."""
    me = pg.rank()
    for r in range(pg.size()):
        if r != me and outgoing[r] is not None:
            pg._send(r, tag, outgoing[r])
    for r in range(pg.size()):
        if r != me and incoming[r] is not None:
            _write(incoming[r], pg._recv(r, tag, incoming[r]._data)[1])


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group=None, async_op: bool = False):
    """``tensor_list[r]`` receives rank r's ``tensor`` on every rank."""
    outs = _arrays(tensor_list, "tensor_list")
    a = _array(tensor)
    pg = _member(group, "all_gather")
    if pg is None:
        return None
    _same_dtype(outs + [a])
    _list_check("allgather", outs, pg.size())
    _size_check("allgather", outs, a)

    def run(tag):
        _write(tensor_list[pg.rank()], a)
        _exchange(pg, tag, [a] * pg.size(), tensor_list)
    return _run(pg, run, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None, async_op: bool = False):
    """``output_tensor`` (``world_size`` times ``input_tensor``'s size, stacked or concatenated on dim 0)
    receives every rank's ``input_tensor`` in rank order."""
    out, a = _array(output_tensor, "output_tensor"), _array(input_tensor, "input_tensor")
    pg = _member(group, "all_gather_into_tensor")
    if pg is None:
        return None
    _same_dtype([out, a])
    if out.size != a.size * pg.size():
        raise ValueError(f"The size of the output tensor ({out.size}) must be world_size ({pg.size()}) "
                         f"times the size of the input tensor ({a.size})")
    if not output_tensor.is_contiguous():
        raise RuntimeError("Tensors must be contiguous")
    return all_gather(list(output_tensor.view(pg.size(), *a.shape).unbind(0)), input_tensor, pg, async_op)


def _root_list(pg: ProcessGroup, root: int, tensors, name: str, op_name: str, like, role: str):
    """Check the tensor list that only the ``root`` rank passes (gather's and scatter's); its arrays there."""
    if pg.rank() != root:
        if tensors:
            raise ValueError(f"Argument ``{name}`` must NOT be specified on non-{role} ranks.")
        return None
    if not tensors:
        raise ValueError(f"Argument ``{name}`` must be specified on {role} rank.")
    arrays = _arrays(tensors, name)
    _list_check(op_name, arrays, pg.size())
    _size_check(op_name, arrays, like)
    return arrays


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int | None = None, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """``dst``'s ``gather_list[r]`` receives rank r's ``tensor``."""
    a = _array(tensor)
    pg = _member(group, "gather")
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "gather")
    me = pg.rank()
    _root_list(pg, root, gather_list, "gather_list", "gather", a, "destination")

    def run(tag):
        if me != root:
            pg._send(root, tag, a)
            return
        _write(gather_list[me], a)
        _exchange(pg, tag, [None] * pg.size(), gather_list)
    return _run(pg, run, async_op)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None, group=None,
            async_op: bool = False, group_src: int | None = None):
    """Each rank r's ``tensor`` receives ``src``'s ``scatter_list[r]``."""
    a = _array(tensor)
    pg = _member(group, "scatter")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "scatter")
    me = pg.rank()
    ins = _root_list(pg, root, scatter_list, "scatter_list", "scatter", a, "source")

    def run(tag):
        if me == root:
            _write(tensor, ins[me])
            _exchange(pg, tag, ins, [None] * pg.size())
        else:
            _write(tensor, pg._recv(root, tag, a)[1])
    return _run(pg, run, async_op)


def reduce_scatter(output: Tensor, input_list: list[Tensor], op=ReduceOp.SUM, group=None,
                   async_op: bool = False):
    """Rank r's ``output`` receives the reduction over ranks of their ``input_list[r]``."""
    out = _array(output, "output")
    ins = _arrays(input_list, "input_list")
    pg = _member(group, "reduce_scatter")
    if pg is None:
        return None
    op = _check_op(op, out.dtype)
    _same_dtype(ins + [out])
    _list_check("reduce_scatter", ins, pg.size())
    _size_check("reduce_scatter", ins, out)

    def run(tag):
        me = pg.rank()
        for r in range(pg.size()):
            if r != me:
                pg._send(r, tag, ins[r])
        parts = [ins[me] if r == me else pg._recv(r, tag, out)[1] for r in range(pg.size())]
        _write(output, _combine(parts, op, pg.size()))
    return _run(pg, run, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,
                          async_op: bool = False):
    """``reduce_scatter`` with the inputs as the ``world_size`` chunks (on dim 0) of one tensor."""
    out, a = _array(output, "output"), _array(input, "input")
    pg = _member(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    if a.size != out.size * pg.size():
        raise ValueError(f"The size of the input tensor ({a.size}) must be world_size ({pg.size()}) "
                         f"times the size of the output tensor ({out.size})")
    return reduce_scatter(output, list(input.reshape(pg.size(), *out.shape).unbind(0)), op, pg, async_op)


def all_to_all(output_tensor_list: list[Tensor], input_tensor_list: list[Tensor], group=None,
               async_op: bool = False):
    """Rank r's ``output_tensor_list[s]`` receives rank s's ``input_tensor_list[r]``."""
    outs = _arrays(output_tensor_list, "output_tensor_list")
    ins = _arrays(input_tensor_list, "input_tensor_list")
    pg = _member(group, "all_to_all")
    if pg is None:
        return None
    _same_dtype(outs + ins)
    _list_check("alltoall", outs, pg.size())
    _list_check("alltoall", ins, pg.size())

    def run(tag):
        me = pg.rank()
        _write(output_tensor_list[me], ins[me])
        _exchange(pg, tag, ins, output_tensor_list)
    return _run(pg, run, async_op)


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes: list[int] | None = None,
                      input_split_sizes: list[int] | None = None, group=None, async_op: bool = False):
    """``all_to_all`` on the dim-0 slices of one tensor: rank r sends its ``input_split_sizes[s]``-row
    slice s to rank s, which stores it as slice r of ``output`` (equal slices when sizes are None)."""
    _array(output, "output")
    _array(input, "input")
    pg = _member(group, "all_to_all_single")
    if pg is None:
        return None
    if not output.is_contiguous():
        raise RuntimeError("Tensors must be contiguous")

    def slices(t: Tensor, sizes):
        if sizes is None:
            if t.shape[0] % pg.size():
                raise RuntimeError(f"Tensor's dim 0 ({t.shape[0]}) does not divide equally across group size")
            sizes = [t.shape[0] // pg.size()] * pg.size()
        if len(sizes) != pg.size() or sum(sizes) != t.shape[0]:
            raise RuntimeError(f"Split sizes {list(sizes)} do not cover dim 0 ({t.shape[0]}) in {pg.size()} parts")
        return list(t.split(list(sizes)))
    return all_to_all(slices(output, output_split_sizes), slices(input, input_split_sizes), pg, async_op)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group has reached this call."""
    pg = _member(group, "barrier")
    if pg is None:
        return None
    token = np.zeros(0, dtype=np.uint8)

    def run(tag):
        if pg.rank() != 0:
            pg._send(0, tag, token)
            pg._recv(0, tag, token)
            return
        for r in range(1, pg.size()):
            pg._recv(r, tag, token)
        for r in range(1, pg.size()):
            pg._send(r, tag, token)
    return _run(pg, run, async_op)


# --- point to point --------------------------------------------------------------------------------
def _peer(pg: ProcessGroup, global_rank, group_rank, what: str) -> int:
    if group_rank is None:
        group_rank = global_rank if pg is _world().default else get_group_rank(pg, global_rank)
    if not 0 <= group_rank < pg.size():
        raise ValueError(f"Invalid {what} rank: {group_rank} is not in [0, {pg.size() - 1}]")
    if group_rank == pg.rank():
        raise ValueError(f"Invalid {what} rank: {what} rank should not be the same as the rank of the "
                         "current process.")
    return group_rank


def isend(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None):
    """Send ``tensor`` to ``dst``; returns a Work (already complete: the receiver buffers messages)."""
    a = _array(tensor)
    pg = _member(group, "isend")
    if pg is None:
        return None
    pg._send(_peer(pg, dst, group_dst, "destination"), ("p", pg._id, tag), a)
    work = Work()
    work._finish()
    return work


def send(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None) -> None:
    isend(tensor, dst, group, tag, group_dst)


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None):
    """Receive into ``tensor`` from ``src`` (any rank if None) when the returned Work is waited on."""
    a = _array(tensor)
    pg = _member(group, "irecv")
    if pg is None:
        return None
    frm = None if src is None and group_src is None else _peer(pg, src, group_src, "source")
    mtag = ("p", pg._id, tag)
    mailbox = pg._world.mesh.mailbox
    work = None

    def take(block: bool) -> bool:
        if block:
            message = pg._world.mesh.recv(pg._peers(frm), mtag)
        else:
            with mailbox.cond:
                message = mailbox.poll(pg._peers(frm), mtag)
            if message is None:
                return False
        sender, value = pg._decode(message, a)
        work._source = pg._ranks[sender]
        work._result = [tensor]
        _write(tensor, value)
        return True
    work = _RecvWork(take)
    return work


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None) -> int:
    """Receive into ``tensor`` from ``src`` (any rank if None); returns the sender's rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work._source


# --- picklable objects ----------------------------------------------------------------------------
def broadcast_object_list(object_list: list, src: int | None = None, group=None, device=None,
                          group_src: int | None = None) -> None:
    """Replace every rank's ``object_list`` items with ``src``'s (which must be picklable)."""
    pg = _member(group, "broadcast_object_list")
    if pg is None:
        return
    root = _root(pg, src, group_src, "broadcast")
    tag = pg._next_tag()
    if pg.rank() == root:
        data = pickle.dumps(list(object_list))
        for r in range(pg.size()):
            if r != root:
                pg._send_bytes(r, tag, data)
    else:
        object_list[:] = pickle.loads(pg._recv_bytes(root, tag))


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``object_list[r]`` receives rank r's ``obj`` on every rank (``object_list`` has ``world_size`` items)."""
    pg = _member(group, "all_gather_object")
    if pg is None:
        return
    me, n = pg.rank(), pg.size()
    if len(object_list) != n:
        raise ValueError(f"Argument ``object_list`` must have world_size ({n}) items, got {len(object_list)}")
    tag = pg._next_tag()
    data = pickle.dumps(obj)
    for r in range(n):
        if r != me:
            pg._send_bytes(r, tag, data)
    for r in range(n):
        object_list[r] = obj if r == me else pickle.loads(pg._recv_bytes(r, tag))


def gather_object(obj, object_gather_list: list | None = None, dst: int | None = None, group=None,
                  group_dst: int | None = None) -> None:
    """``dst``'s ``object_gather_list[r]`` receives rank r's ``obj``."""
    pg = _member(group, "gather_object")
    if pg is None:
        return
    root = _root(pg, dst, group_dst, "gather")
    me = pg.rank()
    tag = pg._next_tag()
    if me != root:
        pg._send_bytes(root, tag, pickle.dumps(obj))
        return
    if object_gather_list is None or len(object_gather_list) != pg.size():
        raise ValueError("Argument ``object_gather_list`` must be a list of world_size items on the destination rank.")
    for r in range(pg.size()):
        object_gather_list[r] = obj if r == me else pickle.loads(pg._recv_bytes(r, tag))
