"""Process groups and collectives (``torch.distributed``): the public functions, their argument checks,
and the default group's state. The data moves through a backend: ``gloo`` (``gloo.py``, pure Python
over TCP) or ``mpi`` (``mpi.py``, over mpi4py); each process group holds its backend's group object,
and every public function checks its arguments once and hands group ranks and arrays to it.
Tensors must be on the cpu.
"""
from __future__ import annotations

import os
import pickle
import warnings
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from .._tensor import Tensor
from .gloo import GlooBackend
from .reduce_op import ReduceOp, check_op
from .store import Store, TCPStore, seconds

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


class ProcessGroup:
    """A set of ranks that run collectives together; ``rank()`` and ``size()`` are within the group.
    ``_impl`` is the backend's object for it (None in the processes outside the group)."""

    def __init__(self, world: _World, ranks: list[int], gid: int) -> None:
        self._world, self._ranks, self._id = world, list(ranks), gid
        self._group_rank = {g: i for i, g in enumerate(self._ranks)}
        self._impl = world.backend.group(self._ranks, gid) if world.rank in self._group_rank else None

    def rank(self) -> int:
        return self._group_rank[self._world.rank]

    def size(self) -> int:
        return len(self._ranks)

    def name(self) -> str:
        return str(self._id)

    def __repr__(self) -> str:
        return f"ProcessGroup(ranks={self._ranks}, backend={self._world.backend.name})"


class _World:
    """The default group's state: the backend (which knows this process's rank), every group made."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.rank, self.world_size = backend.rank, backend.world_size
        self.groups: list[ProcessGroup] = []
        self.default = self.new_group(list(range(self.world_size)))

    def new_group(self, ranks) -> ProcessGroup:
        pg = ProcessGroup(self, ranks, len(self.groups))
        self.groups.append(pg)
        return pg

    def close(self) -> None:
        self.backend.close()


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
    """Whether mpi4py (which the ``mpi`` backend runs on) is installed."""
    try:
        import mpi4py  # noqa: F401  (the package only: MPI itself starts with the mpi backend)
    except ImportError:
        return False
    return True


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
    """Join the default process group. With ``"gloo"`` (the default) every one of ``world_size``
    processes calls this with its ``rank``, meeting through ``init_method`` (``env://``, the default,
    reads MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE as torchrun sets them; or ``tcp://host:port``)
    or a ``store``. With ``"mpi"`` the processes are started by ``mpiexec``, which gives their ranks.
    """
    if _state["world"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend or Backend.GLOO)
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in: ember runs collectives on the "
                           "cpu; use backend='gloo' or backend='mpi'")
    if name in (Backend.MPI, "cpu:mpi"):
        if world_size != -1 or rank != -1:
            warnings.warn(f"For MPI backend, world_size ({world_size}) and rank ({rank}) are ignored since they "
                          "are assigned by the MPI runtime.", stacklevel=2)
        from .mpi import MPIBackend  # lazily: mpi4py is an extra
        impl = MPIBackend()
    elif name in (Backend.GLOO, "cpu:gloo"):
        impl = _gloo_backend(init_method, timeout, world_size, rank, store)
    else:
        raise ValueError(f"Unknown backend type {backend}; ember.distributed supports 'gloo' and 'mpi'")
    try:
        world = _World(impl)
    except BaseException:
        impl.close()
        raise
    _state["world"] = world
    GroupMember.WORLD = world.default


def _gloo_backend(init_method, timeout, world_size: int, rank: int, store) -> GlooBackend:
    """Meet the other ranks through ``init_method`` or ``store``, and connect to each of them."""
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
        return GlooBackend(store, f"ember/pg{_state['inits']}/", rank, world_size, timeout_s, owns_store)
    except BaseException:
        if owns_store:
            store.close()
        raise


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
    return Backend(_resolve(group)._world.backend.name)


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
        raise RuntimeError(f"ember.distributed supports cpu tensors only, got a tensor on {t.device}")
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


# --- collectives: checked here, run by the group's backend ------------------------------------------
def broadcast(tensor: Tensor, src: int | None = None, group=None, async_op: bool = False,
              group_src: int | None = None):
    """Copy ``src``'s ``tensor`` into every rank's ``tensor``."""
    _array(tensor)
    pg = _member(group, "broadcast")
    if pg is None:
        return None
    return pg._impl.broadcast(tensor, _root(pg, src, group_src, "broadcast"), async_op)


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` across the group with ``op``; every rank receives the result in place."""
    a = _array(tensor)
    pg = _member(group, "all_reduce")
    if pg is None:
        return None
    return pg._impl.all_reduce(tensor, check_op(op, a.dtype), async_op)


def reduce(tensor: Tensor, dst: int | None = None, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst: int | None = None):
    """Reduce ``tensor`` across the group into ``dst``'s ``tensor``; the other ranks' are left as they were."""
    a = _array(tensor)
    pg = _member(group, "reduce")
    if pg is None:
        return None
    op = check_op(op, a.dtype)
    return pg._impl.reduce(tensor, _root(pg, dst, group_dst, "reduce"), op, async_op)


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
    return pg._impl.all_gather(tensor_list, a, async_op)


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
    _root_list(pg, root, gather_list, "gather_list", "gather", a, "destination")
    return pg._impl.gather(a, gather_list if pg.rank() == root else None, root, async_op)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None, group=None,
            async_op: bool = False, group_src: int | None = None):
    """Each rank r's ``tensor`` receives ``src``'s ``scatter_list[r]``."""
    a = _array(tensor)
    pg = _member(group, "scatter")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "scatter")
    ins = _root_list(pg, root, scatter_list, "scatter_list", "scatter", a, "source")
    return pg._impl.scatter(tensor, ins, root, async_op)


def reduce_scatter(output: Tensor, input_list: list[Tensor], op=ReduceOp.SUM, group=None,
                   async_op: bool = False):
    """Rank r's ``output`` receives the reduction over ranks of their ``input_list[r]``."""
    out = _array(output, "output")
    ins = _arrays(input_list, "input_list")
    pg = _member(group, "reduce_scatter")
    if pg is None:
        return None
    op = check_op(op, out.dtype)
    _same_dtype(ins + [out])
    _list_check("reduce_scatter", ins, pg.size())
    _size_check("reduce_scatter", ins, out)
    return pg._impl.reduce_scatter(output, ins, op, async_op)


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
    return pg._impl.all_to_all(output_tensor_list, ins, async_op)


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
    return pg._impl.barrier(async_op)


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
    """Send ``tensor`` to ``dst``; the returned Work completes once it is sent (gloo: at once, as the
    receiver buffers messages). ``tensor`` must not change before then."""
    a = _array(tensor)
    pg = _member(group, "isend")
    if pg is None:
        return None
    return pg._impl.isend(a, _peer(pg, dst, group_dst, "destination"), tag)


def send(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None) -> None:
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None):
    """Receive into ``tensor`` from ``src`` (any rank if None) when the returned Work is waited on."""
    _array(tensor)
    pg = _member(group, "irecv")
    if pg is None:
        return None
    frm = None if src is None and group_src is None else _peer(pg, src, group_src, "source")
    return pg._impl.irecv(tensor, frm, tag)


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
    if pg.rank() == root:
        pg._impl.broadcast_bytes(pickle.dumps(list(object_list)), root)
    else:
        object_list[:] = pickle.loads(pg._impl.broadcast_bytes(None, root))


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``object_list[r]`` receives rank r's ``obj`` on every rank (``object_list`` has ``world_size`` items)."""
    pg = _member(group, "all_gather_object")
    if pg is None:
        return
    me, n = pg.rank(), pg.size()
    if len(object_list) != n:
        raise ValueError(f"Argument ``object_list`` must have world_size ({n}) items, got {len(object_list)}")
    for r, data in enumerate(pg._impl.all_gather_bytes(pickle.dumps(obj))):
        object_list[r] = obj if r == me else pickle.loads(data)


def gather_object(obj, object_gather_list: list | None = None, dst: int | None = None, group=None,
                  group_dst: int | None = None) -> None:
    """``dst``'s ``object_gather_list[r]`` receives rank r's ``obj``."""
    pg = _member(group, "gather_object")
    if pg is None:
        return
    root = _root(pg, dst, group_dst, "gather")
    me = pg.rank()
    gathered = pg._impl.gather_bytes(pickle.dumps(obj), root)
    if me != root:
        return
    if object_gather_list is None or len(object_gather_list) != pg.size():
        raise ValueError("Argument ``object_gather_list`` must be a list of world_size items on the destination rank.")
    for r, data in enumerate(gathered):
        object_gather_list[r] = obj if r == me else pickle.loads(data)
