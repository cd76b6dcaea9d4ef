"""``nn.parallel.DistributedDataParallel``: one model replica per process; gradients are averaged over
the process group during ``backward``, so every replica takes the same optimizer step.

At construction rank 0's parameters and buffers are copied to every rank. Each parameter gets a
post-accumulate-grad hook; when the last expected gradient of a backward pass has arrived, the
gradients are flattened into buckets of at most ``bucket_cap_mb``, each bucket is all-reduced
(summed, then divided by the world size) and the averages are written back into ``.grad``.
Reductions run in a fixed parameter order, so all ranks issue the same collectives.
"""
from __future__ import annotations

import contextlib

from ... import distributed as dist
from ..._grad_state import is_grad_enabled
from ..._ops._registry import AccumulateGrad
from ..._ops.shape import cat
from ..._tensor import Tensor, tensors_in
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]


def _leaves_reached(outputs) -> set[int]:
    """ids of the leaf tensors whose gradients a backward from ``outputs`` would reach."""
    seen, found = set(), set()
    stack = [t.grad_fn for t in tensors_in(outputs) if t.grad_fn is not None]
    found.update(id(t) for t in tensors_in(outputs) if t.grad_fn is None and t.requires_grad)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad:
            found.add(id(node.variable))
        stack.extend(e[0] for e in node._edges if e is not None)
    return found


class DistributedDataParallel(Module):
    """Wraps ``module`` (reachable as ``.module``, so state_dict keys gain the ``module.`` prefix) and
    averages its gradients across ``process_group`` (the default group if None) in every backward.

    ``no_sync()`` skips the averaging (gradients accumulate locally) until a backward outside it.
    ``find_unused_parameters=True`` walks the autograd graph after each forward so parameters the
    output does not depend on do not hold the reduction back. ember keeps gradients as separate
    tensors: ``gradient_as_bucket_view`` and ``static_graph`` are accepted and change nothing.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None, skip_all_reduce_unused_params: bool = False) -> None:
        super().__init__()
        self.process_group = process_group if process_group is not None else dist.GroupMember.WORLD
        if self.process_group is None:
            dist.get_world_size()           # raises torch's "not initialized" error
        if device_ids is not None or output_device is not None:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with single-device/"
                f"multiple-device GPU modules or CPU modules, but got device_ids {device_ids}, output_device "
                f"{output_device}, and module parameters {{device(type='cpu')}}.")
        self.module = module
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._params = [p for p in module.parameters() if p.requires_grad]
        if not self._params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any "
                               "parameter that requires a gradient.")
        self._buckets = self._make_buckets()
        self._pending: set[int] | None = None       # params whose gradient this backward still awaits
        self._used: set[int] = set()                # params this forward's output depends on
        self._hooks_fired = False
        self._sync(list(module.parameters()) + list(module.buffers()))
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in self._params]

    def _make_buckets(self) -> list[list[Tensor]]:
        """Parameters in reverse order (roughly the order backward produces their gradients), split
        into runs of one dtype and at most ``bucket_bytes_cap`` bytes."""
        buckets, size = [], 0
        for p in reversed(self._params):
            nbytes = p.numel() * p.element_size()
            if not buckets or buckets[-1][0].dtype != p.dtype or size + nbytes > self.bucket_bytes_cap:
                buckets.append([])
                size = 0
            buckets[-1].append(p)
            size += nbytes
        return buckets

    def _sync(self, tensors) -> None:
        """Copy rank 0's values of ``tensors`` to every rank."""
        src = dist.get_global_rank(self.process_group, 0)
        for t in tensors:
            dist.broadcast(t.detach(), src=src, group=self.process_group)

    def forward(self, *inputs, **kwargs):
        if self._pending and self._hooks_fired:
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. "
                "This error indicates that your module has parameters that were not used in producing loss. "
                "You can enable unused parameter detection by passing the keyword argument "
                "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`. Parameters "
                "that did not receive a gradient: "
                + ", ".join(n for n, p in self.module.named_parameters() if id(p) in self._pending))
        if self.broadcast_buffers and self.require_forward_param_sync:
            buffers = list(self.module.buffers())
            if buffers:
                self._sync(buffers)
        out = self.module(*inputs, **kwargs)
        self._hooks_fired = False
        self._pending = None
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._pending = {id(p) for p in self._params}
            if self.find_unused_parameters:
                reached = _leaves_reached(out)
                self._used = {id(p) for p in self._params if id(p) in reached}
                self._pending &= self._used
                if not self._pending:
                    self._reduce()
        return out

    def _grad_ready(self, param: Tensor) -> None:
        if self._pending is None:
            return
        self._hooks_fired = True
        self._pending.discard(id(param))
        if not self._pending:
            self._reduce()

    def _reduce(self) -> None:
        """Average every bucket's gradients over the group, in place."""
        self._pending = None
        world = dist.get_world_size(self.process_group)
        used = None
        if self.find_unused_parameters:         # a parameter unused on every rank keeps grad None
            flags = cat([p.new_ones(1) if id(p) in self._used else p.new_zeros(1) for p in self._params])
            dist.all_reduce(flags, group=self.process_group)
            used = {id(p) for p, f in zip(self._params, flags.tolist()) if f}
        for bucket in self._buckets:
            flat = cat([(p.grad if p.grad is not None else p.new_zeros(p.shape)).detach().reshape(-1)
                        for p in bucket])
            dist.all_reduce(flat, group=self.process_group)
            flat.div_(world)
            offset = 0
            for p in bucket:
                n = p.numel()
                avg = flat[offset:offset + n].view(p.shape)
                offset += n
                if p.grad is not None:
                    p.grad.detach().copy_(avg)
                elif used is None or id(p) in used:
                    p.grad = avg.clone()

    @contextlib.contextmanager
    def no_sync(self):
        """Inside the block, backward accumulates gradients locally without averaging them."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
