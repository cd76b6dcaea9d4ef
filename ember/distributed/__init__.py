"""``torch.distributed`` for cpu tensors: process groups, collectives and a TCP store, on one machine
or many, through the ``gloo`` backend (pure Python over sockets) or the ``mpi`` backend (mpi4py).

Start one process per rank (``torchrun``, ``ember.multiprocessing.spawn``, or by hand) and call
``init_process_group("gloo")`` in each, or start them with ``mpiexec -n N`` and call
``init_process_group("mpi")``; then use the collectives; ``nn.parallel.DistributedDataParallel``
averages gradients over the default group.
"""
from .distributed_c10d import (  # noqa: F401  (the public API)
    Backend, GroupMember, ProcessGroup, ReduceOp, all_gather, all_gather_into_tensor,
    all_gather_object, all_reduce, all_to_all, all_to_all_single, barrier, broadcast,
    broadcast_object_list, default_pg_timeout, destroy_process_group, gather, gather_object,
    get_backend, get_global_rank, get_group_rank, get_process_group_ranks, get_rank, get_world_size,
    group, init_process_group, irecv, is_available, is_gloo_available, is_initialized,
    is_mpi_available, is_nccl_available, is_torchelastic_launched, isend, new_group, recv, reduce,
    reduce_scatter, reduce_scatter_tensor, scatter, send)
from .store import DistBackendError, DistError, DistStoreError, Store, TCPStore  # noqa: F401
from .work import Work  # noqa: F401
