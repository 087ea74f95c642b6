"""What the examples share: argument parsing, and training with ``minitorch_nn.train.fit``.

The loop itself (zero the gradients, forward, loss, backward, step) is
spelled out in ``two_layer_mnist.py`` and ``disk.py``; the image examples
use the library's ``fit``, and print one line per epoch.
"""

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

import minitorch_nn as mn


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
    """Per-epoch figures of one training run, as the examples report them."""

    train_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, history: mn.train.History) -> "History":
        """The figures of ``fit``'s records: accuracy is one minus the error rate."""
        return cls(
            history.train_loss,
            [1.0 - (error or 0.0) for error in history.eval_error],
            history.seconds,
        )


def fit(
    model: mn.Module,
    criterion: mn.Loss,
    optimizer: mn.OptimizerBase,
    train: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    scheduler: mn.Scheduler | None = None,
    log: bool = True,
) -> History:
    """Train with ``minitorch_nn.train.fit`` (shuffled mini-batches drawn from ``generator``), measuring
    test accuracy after each epoch; print one line per epoch."""

    def report(record: mn.train.EpochRecord) -> None:
        accuracy = 100 * (1.0 - (record.eval_error or 0.0))
        print(
            f"epoch {record.epoch:3d}  train loss {record.train_loss:.4f}  test accuracy {accuracy:.2f}%"
            f"  ({record.seconds:.1f} s)",
            flush=True,
        )

    history = mn.train.fit(
        model, criterion, optimizer, train, epochs=epochs, batch_size=batch_size, eval_data=test,
        scheduler=scheduler, generator=generator, eval_batch_size=1000, progress=False,
        on_epoch_end=report if log else None,
    )  # fmt: skip
    return History.of(history)


def limit(tensors: Sequence[Tensor], count: int | None) -> list[Tensor]:
    """The first ``count`` rows of each tensor (all of them for ``None``)."""
    return [t[:count] for t in tensors]
