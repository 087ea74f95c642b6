"""Data parallelism with ``torch.distributed``: one process per device, gradients all-reduced.

Launch with ``torchrun``; ``fit`` and ``minitorch-nn train`` detect the
process group and shard the data, average the gradients in buckets, and
reduce the metrics, so the same script runs on one process or many.
"""

from minitorch_nn.distributed.allreduce import GradientBuckets
from minitorch_nn.distributed.setup import (
    DistributedContext,
    broadcast_module,
    init_from_env,
    is_distributed,
    is_main_process,
    rank,
    world_size,
)

__all__ = [
    "DistributedContext",
    "GradientBuckets",
    "broadcast_module",
    "init_from_env",
    "is_distributed",
    "is_main_process",
    "rank",
    "world_size",
]
