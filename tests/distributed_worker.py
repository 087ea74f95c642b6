"""A worker for tests/test_distributed.py, started by ``torchrun``: data-parallel training in float64.

Usage: ``torchrun --standalone --nproc-per-node N tests/distributed_worker.py OUT LOCAL_BATCH [SEED]``.
Without ``SEED``: 20 steps in data order; with it: ``SHUFFLED_EPOCHS`` epochs reshuffled from ``SEED``.
Rank 0 writes the final parameters and the history to ``OUT`` (safetensors, history as metadata).

``... tests/distributed_worker.py buckets OUT``: one bucketed all-reduce of gradients that differ
on every rank (``rank_gradient``), split over ``BUCKET_CAP_MB`` buckets; rank ``r`` writes the
averaged gradients and the summed extras to ``OUT.<r>``, with the bucket sizes as metadata.
"""

import json
import sys

import safetensors.torch
import torch

import minitorch_nn as mn
from minitorch_nn.distributed import GradientBuckets, init_from_env
from minitorch_nn.train import fit

SAMPLES, EPOCHS = 160, 2
SHUFFLED_EPOCHS = 3
BUCKET_CAP_MB = 1100 / 2**20  # float64: 6 parameters of 1536, 256, 8192, 256, 768 and 24 bytes


def problem() -> tuple[mn.Sequential, tuple[torch.Tensor, torch.Tensor]]:
    """The network and the data, the same in every process and in the single-process reference."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(SAMPLES, 6, generator=g, dtype=torch.float64)
    y = (x[:, :3].sum(dim=1) > 0).long() + (x[:, 3] > 0.5).long()
    model = mn.Sequential(
        mn.Linear(6, 32, generator=g, dtype=torch.float64),
        mn.Tanh(),
        mn.Linear(32, 32, generator=g, dtype=torch.float64),
        mn.ReLU(),
        mn.Linear(32, 3, generator=g, dtype=torch.float64),
    )
    return model, (x, y)


def train(model: mn.Sequential, data: tuple[torch.Tensor, torch.Tensor], batch_size: int) -> mn.train.History:
    """Two epochs without shuffling: 20 steps of a global batch of 16."""
    optimizer = mn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return fit(
        model, mn.CrossEntropyLoss(), optimizer, data, epochs=EPOCHS, batch_size=batch_size, shuffle=False,
        eval_data=data, progress=False,
    )  # fmt: skip


def sgd(model: mn.Sequential) -> mn.SGD:
    """The optimizer of ``train_shuffled``, and of its single-process reference."""
    return mn.SGD(model.parameters(), lr=0.1, momentum=0.9)


def train_shuffled(
    model: mn.Sequential, data: tuple[torch.Tensor, torch.Tensor], batch_size: int, seed: int
) -> mn.train.History:
    """``SHUFFLED_EPOCHS`` epochs of batches drawn in a new order each epoch, from ``seed``."""
    return fit(
        model, mn.CrossEntropyLoss(), sgd(model), data, epochs=SHUFFLED_EPOCHS, batch_size=batch_size,
        generator=torch.Generator().manual_seed(seed), eval_data=data, progress=False,
    )  # fmt: skip


def rank_gradient(rank: int, index: int, shape: torch.Size) -> torch.Tensor:
    """The gradient rank ``rank`` holds for parameter ``index``: different on every rank."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(1000 * rank + index))


def rank_extras(rank: int) -> torch.Tensor:
    return torch.tensor([1.0 + rank, 10.0 * rank, -2.5])


def all_reduce_buckets(out: str, rank: int) -> None:
    model, _ = problem()
    params = list(model.parameters())
    for index, param in enumerate(params):
        param.grad.copy_(rank_gradient(rank, index, param.shape))
    buckets = GradientBuckets(params, bucket_cap_mb=BUCKET_CAP_MB, extras=3)
    extras = buckets.all_reduce(rank_extras(rank))
    assert extras is not None
    tensors = {str(index): param.grad.contiguous() for index, param in enumerate(params)}
    metadata = {"sizes": json.dumps(buckets.sizes)}
    safetensors.torch.save_file({**tensors, "extras": extras}, f"{out}.{rank}", metadata=metadata)


def main(out: str, batch_size: int, seed: int | None) -> None:
    torch.set_default_dtype(torch.float64)  # as in the test process (tests/conftest.py)
    context = init_from_env("cpu")
    model, data = problem()
    if seed is None:
        history = train(model, data, batch_size)
    else:
        history = train_shuffled(model, data, batch_size, seed)
    if context.rank == 0:
        tensors = {name: value.contiguous() for name, value in model.state_dict().items()}
        safetensors.torch.save_file(tensors, out, metadata={"history": history.to_json()})
    torch.distributed.destroy_process_group()


def buckets_main(out: str) -> None:
    torch.set_default_dtype(torch.float64)
    context = init_from_env("cpu")
    all_reduce_buckets(out, context.rank)
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    if sys.argv[1] == "buckets":
        buckets_main(sys.argv[2])
    else:
        main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
