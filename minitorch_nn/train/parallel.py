"""``fit`` in a process group: sharded batches, one bucketed all-reduce per step, global metrics.

Every process holds the whole model and the whole data set. Each epoch a
``DistributedSampler`` gives each process its shard (reshuffled from the
same seed and the epoch number, so all processes agree without talking);
each step's gradients are averaged across processes, so all take the same
step. The step's loss, error count, sample count and a non-finite flag ride
in the last gradient bucket: global metrics cost no extra collective, and
every process sees a NaN on any of them and stops together.
"""

import math

import torch
import torch.distributed as dist
from torch.utils.data.distributed import DistributedSampler

from minitorch_nn._types import Tensor
from minitorch_nn.data.batches import TensorLoader
from minitorch_nn.distributed import GradientBuckets, rank, world_size
from minitorch_nn.module import Loss, Module
from minitorch_nn.parameter import Parameter
from minitorch_nn.train.evaluation import Evaluation, batch_total, evaluate, pooled

__all__ = ["Parallel", "StepTotals"]

StepTotals = tuple[float, int | None, int, bool]
"""A step's loss sum, error count (``None`` for non-class targets), sample count, and whether any
process's loss was non-finite, over all processes."""


class Parallel:
    """What ``fit`` needs to train in a process group of ``world_size() > 1`` processes.

    Args:
        params: the optimizer's parameters, whose gradients are averaged.
        bucket_cap_mb: the largest gradient bucket, in MB.
    """

    def __init__(self, params: list[Parameter], bucket_cap_mb: float = 25.0) -> None:
        self.rank, self.world_size = rank(), world_size()
        self.buckets = GradientBuckets(params, bucket_cap_mb=bucket_cap_mb, extras=4)
        self.sampler: DistributedSampler[int] | None = None

    def batches(self, data: tuple[Tensor, Tensor], batch_size: int, shuffle: bool, seed: int) -> TensorLoader:
        """This process's shard, in batches of ``batch_size`` (0: the whole shard in one batch)."""
        count = data[0].shape[0]
        shard: DistributedSampler[int] = DistributedSampler(
            range(count),  # type: ignore[arg-type]  # the sampler only takes len() of its "dataset"
            num_replicas=self.world_size,
            rank=self.rank,
            shuffle=shuffle,
            seed=seed,
        )
        self.sampler = shard
        size = batch_size if batch_size > 0 else math.ceil(count / self.world_size)
        return TensorLoader(*data, batch_size=size, sampler=self.sampler)

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle for ``epoch`` (counted from 0), the same way on every process."""
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def reduce_step(self, loss_total: float, wrong: Tensor | None, count: int) -> StepTotals:
        """Average the gradients; return the step's totals over all processes (one collective per bucket).

        ``loss_total`` is this process's batch total (``evaluation.batch_total``).
        """
        grad = self.buckets.buckets[-1][0].grad
        finite = math.isfinite(loss_total)
        values = [loss_total if finite else 0.0, -1.0 if wrong is None else float(wrong), count, not finite]
        local = torch.tensor(values, dtype=grad.dtype, device=grad.device)
        totals = self.buckets.all_reduce(local)
        assert totals is not None
        loss_sum, errors, samples, bad = totals.tolist()
        countable = errors >= 0 and wrong is not None
        return loss_sum, round(errors) if countable else None, round(samples), bad > 0

    def evaluate(self, model: Module, loss: Loss, data: tuple[Tensor, Tensor], batch_size: int) -> Evaluation:
        """Each process evaluates every ``world_size``-th sample; the sums are reduced (exact figures)."""
        shard = (data[0][self.rank :: self.world_size], data[1][self.rank :: self.world_size])
        local = (
            evaluate(model, loss, shard, batch_size=batch_size) if shard[0].shape[0] else Evaluation(0, 0, 0)
        )
        device = next(iter(model.parameters())).device
        errors = -1.0 if local.error is None else local.error * local.samples
        total = batch_total(loss, local.loss, local.samples)
        sums = torch.tensor([total, errors, float(local.samples)], device=device)
        dist.all_reduce(sums)
        loss_sum, wrong, samples = sums.tolist()
        error = round(wrong) / samples if local.error is not None and wrong >= 0 else None
        return Evaluation(pooled(loss, loss_sum, round(samples)), error, round(samples))
