"""A worker for tests/test_distributed.py, started by ``torchrun``: 20 data-parallel steps in float64.

Usage: ``torchrun --standalone --nproc-per-node N tests/distributed_worker.py OUT LOCAL_BATCH``.
Rank 0 writes the final parameters and the history to ``OUT`` (safetensors, history as metadata).
"""

import sys

import safetensors.torch
import torch

import minitorch_nn as mn
from minitorch_nn.distributed import init_from_env
from minitorch_nn.train import fit

SAMPLES, EPOCHS = 160, 2


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


def main(out: str, batch_size: int) -> None:
    torch.set_default_dtype(torch.float64)  # as in the test process (tests/conftest.py)
    context = init_from_env("cpu")
    model, data = problem()
    history = train(model, data, batch_size)
    if context.rank == 0:
        tensors = {name: value.contiguous() for name, value in model.state_dict().items()}
        safetensors.torch.save_file(tensors, out, metadata={"history": history.to_json()})
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
