"""What the examples share: argument parsing, one training epoch, accuracy.

These few lines are the training loop spelled out, as a newcomer would
write it: zero the gradients, forward, loss, backward, step.
"""

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

import minitorch_nn as mn
from minitorch_nn.data import TensorLoader


def parser(
    description: str, *, epochs: int, batch_size: int, lr: float, data: bool = True
) -> argparse.ArgumentParser:
    """The flags every example takes, with its own defaults; ``data`` adds --data-dir and --limit."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    if data:
        p.add_argument("--data-dir", type=Path, default=None, help="folder with the data set's .gz files")
        p.add_argument(
            "--limit", type=int, default=None, help="use only the first N training samples (smoke tests)"
        )
    p.add_argument(
        "--epochs", type=int, default=epochs, help=f"passes over the training set (default: {epochs})"
    )
    p.add_argument(
        "--batch-size", type=int, default=batch_size, help=f"mini-batch size (default: {batch_size})"
    )
    p.add_argument("--lr", type=float, default=lr, help=f"learning rate (default: {lr})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name in ("epochs", "batch_size", "limit"):
        value = getattr(args, name, None)
        if value is not None and value < (0 if name == "epochs" else 1):
            p.error(
                f"--{name.replace('_', '-')} must be {'>= 0' if name == 'epochs' else '>= 1'}, got {value}"
            )


@dataclass
class History:
    """Per-epoch figures of one training run."""

    train_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def train_epoch(model: mn.Module, criterion: mn.Loss, optimizer: mn.Optimizer, loader: TensorLoader) -> float:
    """One pass over ``loader``; return the mean training loss."""
    model.train()
    total, count = torch.zeros(()), 0
    for input, target in loader:
        optimizer.zero_grad()
        loss = criterion(model(input), target)
        model.accumulate_grad(criterion.backward())  # parameter gradients; no gradient for the data
        optimizer.step()
        total += loss * input.shape[0]
        count += input.shape[0]
    return float(total) / max(count, 1)


@torch.no_grad()
def accuracy(model: mn.Module, input: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """The fraction of samples whose arg-max output is the label, in evaluation mode."""
    model.eval()
    correct = sum(
        int((model(x).argmax(dim=1) == y).sum())
        for x, y in TensorLoader(input, labels, batch_size=batch_size)
    )
    return correct / max(labels.shape[0], 1)


def fit(
    model: mn.Module,
    criterion: mn.Loss,
    optimizer: mn.Optimizer,
    loader: TensorLoader,
    test: tuple[Tensor, Tensor],
    epochs: int,
    scheduler: mn.Scheduler | None = None,
    log: bool = True,
) -> History:
    """Train for ``epochs``, measuring test accuracy after each; print one line per epoch."""
    history = History()
    for epoch in range(epochs):
        start = time.perf_counter()
        loss = train_epoch(model, criterion, optimizer, loader)
        if scheduler is not None:
            scheduler.step()
        history.seconds.append(time.perf_counter() - start)
        history.train_loss.append(loss)
        history.test_accuracy.append(accuracy(model, *test))
        if log:
            accuracy_percent = 100 * history.test_accuracy[-1]
            print(
                f"epoch {epoch + 1:3d}  train loss {loss:.4f}  test accuracy {accuracy_percent:.2f}%"
                f"  ({history.seconds[-1]:.1f} s)",
                flush=True,
            )
    return history


def limit(tensors: Sequence[Tensor], count: int | None) -> list[Tensor]:
    """The first ``count`` rows of each tensor (all of them for ``None``)."""
    return [t[:count] for t in tensors]
