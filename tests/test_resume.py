"""Resuming from a checkpoint is bit-identical to never stopping, and the same seed repeats a run."""

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn.train import History, fit

Data = tuple[torch.Tensor, torch.Tensor]
MakeOptimizer = Callable[[mn.Sequential], mn.OptimizerBase]

OPTIMIZERS: dict[str, MakeOptimizer] = {
    "sgd-momentum": lambda m: mn.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4),
    "adam": lambda m: mn.Adam(m.parameters(), lr=0.01),
}


def data() -> tuple[Data, Data]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(96, 6, generator=g)
    y = (x[:, :3].sum(dim=1) > 0).long() + (x[:, 3] > 1).long()
    return (x[:64], y[:64]), (x[64:], y[64:])


def network(seed: int) -> mn.Sequential:
    """Parameters, BatchNorm buffers, one Dropout on its own generator and one on torch's global RNG."""
    g = torch.Generator().manual_seed(seed)
    return mn.Sequential(
        mn.Linear(6, 16, generator=g),
        mn.BatchNorm1d(16),
        mn.ReLU(),
        mn.Dropout(0.2, generator=torch.Generator().manual_seed(seed + 1)),
        mn.Linear(16, 16, generator=g),
        mn.Tanh(),
        mn.Dropout(0.1),
        mn.Linear(16, 3, generator=g),
    )


def run(
    make_optimizer: MakeOptimizer, epochs: int, checkpoint: Path | None, resume: bool
) -> tuple[mn.Sequential, History]:
    """A fresh process's view: new objects, the same seeds; train up to ``epochs`` in total."""
    torch.manual_seed(123)
    model = network(0)
    optimizer = make_optimizer(model)
    scheduler = mn.StepLR(optimizer, step_size=3, gamma=0.5)
    train, test = data()
    history = fit(
        model, mn.CrossEntropyLoss(), optimizer, train, epochs=epochs, batch_size=16, eval_data=test,
        scheduler=scheduler, checkpoint=checkpoint, resume=resume, progress=False,
    )  # fmt: skip
    return model, history


def figures(history: History) -> list[tuple[object, ...]]:
    """Everything a record holds except the wall time."""
    return [(r.epoch, r.train_loss, r.train_error, r.eval_loss, r.eval_error, r.lr) for r in history]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_resume_is_bit_identical(name: str, tmp_path: Path) -> None:
    straight, straight_history = run(OPTIMIZERS[name], 10, tmp_path / "straight.safetensors", resume=False)
    path = tmp_path / "stopped.safetensors"
    run(OPTIMIZERS[name], 5, path, resume=False)
    resumed, resumed_history = run(OPTIMIZERS[name], 10, path, resume=True)
    assert figures(resumed_history) == figures(straight_history)
    for (key, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(a, b), key


def test_resume_without_the_state_differs(tmp_path: Path) -> None:
    """The control: restarting from the saved weights alone (no optimizer, RNG or data-order state)
    does not reproduce the run, so the test above is not trivially satisfied."""
    straight, _ = run(OPTIMIZERS["adam"], 10, None, resume=False)
    path = tmp_path / "stopped.safetensors"
    run(OPTIMIZERS["adam"], 5, path, resume=False)
    torch.manual_seed(123)
    model = network(0)
    mn.checkpoint.load_checkpoint(path, model, restore_rng=False)
    train, _ = data()
    optimizer = OPTIMIZERS["adam"](model)
    fit(model, mn.CrossEntropyLoss(), optimizer, train, epochs=5, batch_size=16, progress=False)
    pairs = zip(model.parameters(), straight.parameters(), strict=True)
    assert not all(torch.equal(a.value, b.value) for a, b in pairs)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_same_seed_same_run(name: str) -> None:
    first, first_history = run(OPTIMIZERS[name], 4, None, resume=False)
    second, second_history = run(OPTIMIZERS[name], 4, None, resume=False)
    assert figures(first_history) == figures(second_history)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a.value, b.value)
