"""Bucketed gradient all-reduce: a few large collectives per step instead of one per parameter.

Each process computes gradients on its shard of the batch; averaging them
across processes gives every process the gradient of the whole global batch,
so every process takes the same step. Small tensors make slow collectives
(each has a fixed latency), so the gradients are copied into a few flat
buckets of about ``bucket_cap_mb`` megabytes, each bucket is all-reduced in
one call, and the averages are copied back, as ``torch.nn.parallel.
DistributedDataParallel`` does.
"""

from collections.abc import Sequence

import torch
import torch.distributed as dist

from minitorch_nn._types import Tensor
from minitorch_nn.parameter import Parameter

__all__ = ["GradientBuckets"]


class GradientBuckets:
    """Average the ``grad`` of ``params`` across the process group, in a few flat buckets.

    Parameters are grouped in order, by device and dtype, into buckets of at
    most ``bucket_cap_mb`` megabytes (a parameter larger than the cap gets a
    bucket of its own). ``all_reduce`` can carry a few extra numbers in the
    last bucket (such as a step's loss and error counts), summed across
    processes at no extra collective.

    Args:
        params: the parameters whose gradients are averaged, e.g. ``optimizer.params``.
        bucket_cap_mb: the largest bucket, in MB (2**20 bytes). Default: 25, as ``DistributedDataParallel``.
        extras: how many extra numbers ``all_reduce`` carries. Default: 0.

    Attributes:
        buckets: the parameters of each bucket.
        collectives_per_step: collectives one ``all_reduce`` makes (one per bucket; 0 in a single process).

    Example:
        >>> import minitorch_nn as mn
        >>> model = mn.Sequential(mn.Linear(784, 256), mn.ReLU(), mn.Linear(256, 10))
        >>> buckets = GradientBuckets(list(model.parameters()), bucket_cap_mb=0.5)
        >>> [len(b) for b in buckets.buckets], buckets.sizes  # 784*256*4 bytes > 0.5 MB: a bucket alone
        ([1, 3], [200704, 2826])
        >>> buckets.all_reduce(torch.tensor([2.0, 3.0]))  # one process: nothing to average
        tensor([2., 3.])
    """

    def __init__(self, params: Sequence[Parameter], bucket_cap_mb: float = 25.0, extras: int = 0) -> None:
        if bucket_cap_mb <= 0:
            raise ValueError(f"GradientBuckets: expected bucket_cap_mb > 0, got {bucket_cap_mb}")
        cap = bucket_cap_mb * 2**20
        self.buckets: list[list[Parameter]] = []
        size = 0.0
        for param in params:
            nbytes = param.value.numel() * param.value.element_size()
            last = self.buckets[-1] if self.buckets else None
            same_kind = last is not None and (last[0].device, last[0].dtype) == (param.device, param.dtype)
            if last is None or not same_kind or size + nbytes > cap:
                self.buckets.append([param])
                size = nbytes
            else:
                last.append(param)
                size += nbytes
        self.sizes = [sum(p.value.numel() for p in bucket) for bucket in self.buckets]
        self._flat = [
            torch.empty(n + (extras if i == len(self.sizes) - 1 else 0), dtype=b[0].dtype, device=b[0].device)
            for i, (n, b) in enumerate(zip(self.sizes, self.buckets, strict=True))
        ]
        self.extras = extras

    @property
    def collectives_per_step(self) -> int:
        """One collective per bucket in a process group; none in a single process."""
        return len(self.buckets) if dist.is_available() and dist.is_initialized() else 0

    def all_reduce(self, extras: Tensor | None = None) -> Tensor | None:
        """Replace every ``grad`` by its average over the processes; return ``extras`` summed over them.

        In a single process the gradients are left as they are and ``extras`` is returned.
        """
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return extras
        scale = 1.0 / dist.get_world_size()
        for index, (bucket, flat) in enumerate(zip(self.buckets, self._flat, strict=True)):
            grads = [p.grad for p in bucket]
            count = self.sizes[index]
            torch.cat([g.reshape(-1) for g in grads], out=flat[:count])
            carry = index == len(self.buckets) - 1 and extras is not None
            if carry:
                assert extras is not None and extras.numel() == self.extras, (
                    "extras must match the constructor"
                )
                flat[count:].copy_(extras)
            dist.all_reduce(flat)
            flat[:count].mul_(scale)
            views = torch.split(flat[:count], [g.numel() for g in grads])
            for grad, view in zip(grads, views, strict=True):
                grad.copy_(view.view_as(grad))
            if carry:
                return flat[count:].clone()
        return extras
