"""What the examples share: argument parsing, and training with ``minitorch_nn.train.fit``.

The loop itself (zero the gradients, forward, loss, backward, step) is
spelled out in ``two_layer_mnist.py`` and ``disk.py``; the image examples
use the library's ``fit``, and print one line per epoch.
"""

import argparse
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

import minitorch_nn as mn
from minitorch_nn.data import load_data


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


def cosine_lr(step: int, total: int, peak: float, warmup: int = 0) -> float:
    """The learning rate of step ``step`` (0-based) of ``total``: a linear warm-up over ``warmup`` steps
    from ``peak / warmup`` to ``peak``, then a cosine from ``peak`` down to 0 at step ``total``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return 0.5 * peak * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def accuracy(model: mn.Module, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """The share of ``images`` whose largest logit is at the label, in evaluation mode (then training)."""
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        logits = model(images[start : start + batch_size])
        correct += int((logits.argmax(1) == labels[start : start + batch_size]).sum())
    model.train()
    return correct / max(len(images), 1)


@dataclass
class ScheduledTrainer:
    """A model, its loss and optimizers, and a learning-rate schedule set before every step.

    ``schedule(step)`` gives the rate of each step (0-based), for example ``cosine_lr`` or the ResNet's
    one-cycle. Several optimizers share it: for example one for the weights that decay and one without
    weight decay for the biases, norms and embeddings.
    """

    model: mn.Module
    criterion: mn.Loss
    optimizers: list[mn.OptimizerBase]
    schedule: Callable[[int], float]
    step_count: int = 0

    def step(self, images: Tensor, labels: Tensor) -> float:
        """One training step (zero the gradients, forward, loss, backward, step); return the batch's loss."""
        lr = self.schedule(self.step_count)
        for optimizer in self.optimizers:
            optimizer.lr = lr
            optimizer.zero_grad()
        loss = self.criterion(self.model(images), labels)
        self.model.accumulate_grad(self.criterion.backward())
        for optimizer in self.optimizers:
            optimizer.step()
        self.step_count += 1
        return float(loss)


def add_image_flags(p: argparse.ArgumentParser) -> None:
    """The flags ``image_data`` reads besides ``parser``'s: ``--test-limit`` and ``--threads``."""
    p.add_argument("--test-limit", type=int, default=None, help="use only the first N test images")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")


def split_parameters(
    model: mn.Module, decayed: Callable[[mn.ModuleBase, str, mn.Parameter], bool]
) -> tuple[list[mn.Parameter], list[mn.Parameter]]:
    """The parameters for which ``decayed(module, name, parameter)`` holds (weight decay on), and the rest.

    Each parameter is judged at the module that holds it, under its own name (``"weight"``).
    """
    decay: list[mn.Parameter] = []
    rest: list[mn.Parameter] = []
    for _, module in model.named_modules():
        for name, param in module.named_parameters():
            if "." not in name:  # a child's is judged at the child
                (decay if decayed(module, name, param) else rest).append(param)
    return decay, rest


def image_data(
    args: argparse.Namespace, dataset: Literal["mnist", "fashion-mnist"]
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """Seed torch and set its threads as ``args`` say (``seed``, ``threads``), then load all of
    ``dataset`` as normalised ``(N, 1, 28, 28)`` images from ``args.data_dir``, the training set cut to
    ``args.limit`` and the test set to ``args.test_limit``: ``(train, test)``, each ``(images, labels)``."""
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = load_data(
        args.data_dir, dataset=dataset, full=True, normalize=True, flatten=False
    )
    train = train_x[: args.limit], train_y[: args.limit]
    return train, (test_x[: args.test_limit], test_y[: args.test_limit])


@dataclass
class Run:
    """What one training run of a sequence example measured."""

    epochs: int
    train_seconds: float
    train_loss: list[float]
    test_accuracy: list[float]


def train_epochs(
    trainer: ScheduledTrainer,
    train: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    augment: Callable[[Tensor, torch.Generator], Tensor] | None = None,
) -> Run:
    """Shuffled mini-batches drawn from ``generator``, each passed through ``augment`` if given (with
    ``generator``); test accuracy and one printed line per epoch."""
    images, labels = train
    run = Run(0, 0.0, [], [])
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for i in range(0, len(order), batch_size):
            index = order[i : i + batch_size]
            batch = images[index] if augment is None else augment(images[index], generator)
            total += trainer.step(batch, labels[index]) * len(index)
        run.train_seconds += time.perf_counter() - start
        run.epochs = epoch
        run.train_loss.append(total / max(len(order), 1))
        run.test_accuracy.append(accuracy(trainer.model, *test))
        print(
            f"epoch {epoch:3d}  train loss {run.train_loss[-1]:.4f}  test accuracy "
            f"{100 * run.test_accuracy[-1]:.2f}%  training {run.train_seconds / 60:.1f} min",
            flush=True,
        )
    return run
