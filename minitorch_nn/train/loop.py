"""``fit``: the training loop, with progress bars, JSON metrics, checkpoints and non-finite checks."""

import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

import torch
from tqdm import tqdm

from minitorch_nn._types import Tensor
from minitorch_nn.checkpoint import (
    CheckpointLock,
    OutputPathError,
    load_checkpoint,
    output_path_problem,
    save_checkpoint,
)
from minitorch_nn.checkpoint.io import PathLike
from minitorch_nn.data.batches import TensorLoader
from minitorch_nn.diagnostics import Diagnostics
from minitorch_nn.distributed import broadcast_module, is_distributed, is_main_process
from minitorch_nn.history import EpochRecord, History
from minitorch_nn.module import Loss, Module
from minitorch_nn.optim.lr_scheduler import Scheduler
from minitorch_nn.optim.optimizer import OptimizerBase
from minitorch_nn.train.evaluation import Evaluation, batch_total, error_count, evaluate, pooled
from minitorch_nn.train.finite import (
    NonFiniteError,
    first_nonfinite_backward,
    first_nonfinite_forward,
    grads_are_finite,
)
from minitorch_nn.train.inputs import check_count, check_data, open_metrics
from minitorch_nn.train.parallel import Parallel
from minitorch_nn.train.progress import Progress

__all__ = ["fit"]

# What a NonFiniteError names when the replay of the failing batch is finite throughout.
NOT_REPEATED = "no module when replayed (the failure did not repeat)"
ANOTHER_PROCESS = "the batch of another process (this process's batch replays finite)"

Batches = Sequence[tuple[Tensor, Tensor]] | TensorLoader


def _batches(
    data: tuple[Tensor, Tensor], batch_size: int, shuffle: bool, generator: torch.Generator
) -> Batches:
    """Full batch: the tensors themselves, in order; otherwise a loader that reshuffles each epoch."""
    if batch_size == 0 or (batch_size >= data[0].shape[0] and not shuffle):
        return [data]
    return TensorLoader(*data, batch_size=batch_size, shuffle=shuffle, generator=generator)


def _step(
    model: Module, loss: Loss, optimizer: OptimizerBase, batch: tuple[Tensor, Tensor],
    parallel: Parallel | None, where: tuple[int, int], diagnostics: Diagnostics | None = None,
) -> tuple[float, int | None, int]:  # fmt: skip
    """zero_grad, forward, loss, accumulate_grad, (all-reduce,) finite checks, step; return the totals."""
    input, target = batch
    if diagnostics is not None:
        diagnostics.start_step()
    optimizer.zero_grad()
    output = model(input)
    value = float(loss(output, target))
    wrong = error_count(output, target)
    if parallel is None and not math.isfinite(value):
        culprit = first_nonfinite_forward(model, loss, input, target)
        raise NonFiniteError(f"non-finite loss ({value})", *where, culprit or NOT_REPEATED)
    model.accumulate_grad(loss.backward())  # in a group, a NaN too: every process must reach the all-reduce
    total = batch_total(loss, value, input.shape[0])
    totals = (total, None if wrong is None else int(wrong), input.shape[0])
    if parallel is not None:
        loss_sum, errors, samples, any_bad = parallel.reduce_step(total, wrong, input.shape[0])
        totals = (loss_sum, errors, samples)
        if any_bad:
            culprit = first_nonfinite_forward(model, loss, input, target)
            raise NonFiniteError("non-finite loss", *where, culprit or ANOTHER_PROCESS)
    if not grads_are_finite(optimizer.params):
        culprit = first_nonfinite_backward(model, loss, input, target)
        raise NonFiniteError(
            "non-finite gradient", *where, culprit or (ANOTHER_PROCESS if parallel else NOT_REPEATED)
        )
    if diagnostics is None:
        optimizer.step()
        return totals
    diagnostics.before_update(optimizer.params)
    optimizer.step()
    diagnostics.end_step()
    return totals


def _train_epoch(
    model: Module, loss: Loss, optimizer: OptimizerBase, batches: Batches, epoch: int, progress: Progress,
    parallel: Parallel | None, diagnostics: Diagnostics | None = None,
) -> tuple[float, float | None]:  # fmt: skip
    """One pass over the batches; the epoch's loss (``pooled``) and error rate (over all processes)."""
    model.train()
    total, errors, count, countable = 0.0, 0, 0, True
    progress.start_epoch(epoch, len(batches))
    for index, (input, target) in enumerate(batches, 1):
        loss_sum, wrong, samples = _step(
            model, loss, optimizer, (input, target), parallel, (epoch, index), diagnostics
        )
        total, count = total + loss_sum, count + samples
        countable = countable and wrong is not None
        errors += wrong or 0
        progress.batch(pooled(loss, total, count), errors, count)
    return pooled(loss, total, count), errors / count if countable else None


def fit(
    model: Module,
    loss: Loss,
    optimizer: OptimizerBase,
    train_data: tuple[Tensor, Tensor],
    *,
    epochs: int,
    batch_size: int,
    eval_data: tuple[Tensor, Tensor] | None = None,
    scheduler: Scheduler | None = None,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    eval_batch_size: int | None = None,
    progress: bool | None = None,
    metrics: PathLike | TextIO | None = None,
    checkpoint: PathLike | None = None,
    resume: bool = False,
    metadata: Mapping[str, object] | None = None,
    on_epoch_end: Callable[[EpochRecord], None] | None = None,
    diagnostics: bool = False,
) -> History:
    """Train ``model`` for ``epochs`` epochs of mini-batch steps; return the per-epoch history.

    Each step is ``zero_grad``, ``forward``, ``loss``, ``accumulate_grad``,
    ``step``. After each epoch the scheduler steps, ``eval_data`` is evaluated,
    a record is appended to the history (and written to ``metrics`` as one
    JSON line), the checkpoint is saved atomically, and ``on_epoch_end`` is
    called. A NaN or Inf loss or gradient stops training with a
    ``NonFiniteError`` naming the epoch, the batch and the module that first
    produced it; no step is taken with it and no checkpoint is written.

    In a ``torch.distributed`` process group of several processes (under
    ``torchrun``), each process trains on its shard of ``train_data``
    (``batch_size`` per process), the gradients are averaged in bucketed
    all-reduces, the metrics are global, and only rank 0 shows progress and
    writes metrics and checkpoints; see ``minitorch_nn.distributed``.

    Args:
        model: the network; trained in place.
        loss: the criterion.
        optimizer: updates ``model``'s parameters.
        train_data: ``(input, target)``; targets are class indices (N,) or one-hot rows (N, C).
        epochs: the total number of epochs (when resuming, including those already done).
        batch_size: samples per step; 0 for full-batch steps (in data order).
        eval_data: ``(input, target)`` evaluated after each epoch. Default: none.
        scheduler: stepped after each epoch. Default: none.
        shuffle: draw a new order every epoch (not for full batches). Default: ``True``.
        generator: draws the order; saved in checkpoints. Default: one seeded from torch's global RNG.
        eval_batch_size: samples per evaluation forward pass, 0 for all. Default: ``batch_size``.
        progress: show tqdm bars; ``None`` shows them only when stderr is a terminal. Default: ``None``.
        metrics: a path (or open text file) receiving one JSON line per epoch; a fresh run replaces the
            file, a resumed one keeps its lines and appends (refusing a file whose lines disagree with
            the checkpoint's history). Default: none.
        checkpoint: a path saved after every epoch, locked against other runs (``CheckpointLock``)
            while ``fit`` runs. Default: none.
        resume: first load ``checkpoint`` (model, optimizer, scheduler, RNG states, history)
            and continue from its epoch; the result is bit-identical to an uninterrupted run.
        metadata: JSON-serialisable extras stored in the checkpoint (e.g. the network spec).
        on_epoch_end: called with each new record (e.g. to print a log line).
        diagnostics: gather per-layer statistics through hooks (``minitorch_nn.diagnostics``): each
            epoch's ``EpochDiagnostics.to_dict()`` goes to ``history.diagnostics`` and, as the key
            ``diagnostics``, into its metrics line; each new kind of ``Verdict`` is printed once as a
            one-line hint on stderr (unless ``progress=False``). The hooks are removed when ``fit``
            returns or raises, and training is bit-identical to a run without. Default: ``False``.

    Returns:
        The ``History``, one ``EpochRecord`` per epoch (resumed ones included).

    Raises:
        NonFiniteError: on a NaN or Inf loss or gradient.
        ValueError: on an empty data set, a bad count, non-finite inputs, ``resume`` beyond ``epochs``,
            or a metrics file that does not continue the resumed history.
        CheckpointError: if the checkpoint is broken, does not fit, or is locked by another run.
        OutputPathError: if ``checkpoint`` or ``metrics`` names a folder, a device or another
            non-regular file, or a path whose folder is missing (checked before the first epoch).

    Example:
        >>> import minitorch_nn as mn
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(64, 2, generator=g)
        >>> y = (x[:, 0] > x[:, 1]).long()
        >>> model = mn.Sequential(mn.Linear(2, 8, generator=g), mn.Tanh(), mn.Linear(8, 2, generator=g))
        >>> optimizer = mn.SGD(model.parameters(), lr=0.5)
        >>> loss = mn.CrossEntropyLoss()
        >>> history = fit(model, loss, optimizer, (x, y), epochs=20, batch_size=16, generator=g)
        >>> len(history), history[-1].train_error < history[0].train_error
        (20, True)
    """
    train_data = check_data("fit", "train_data", train_data)
    eval_data = check_data("fit", "eval_data", eval_data) if eval_data is not None else None
    check_count("fit", "epochs", epochs, 0)
    check_count("fit", "batch_size", batch_size, 0)
    eval_size = (
        batch_size if eval_batch_size is None else check_count("fit", "eval_batch_size", eval_batch_size, 0)
    )
    if generator is None:
        generator = torch.Generator().manual_seed(int(torch.empty((), dtype=torch.int64).random_()))
    main = is_main_process()
    for name, path in (("checkpoint", checkpoint), ("metrics", metrics)):
        if main and isinstance(path, str | os.PathLike) and (problem := output_path_problem(path)):
            raise OutputPathError(f"fit: {name}: {problem}")
    with ExitStack() as stack:
        if checkpoint is not None and main:
            stack.enter_context(CheckpointLock(checkpoint))  # held until the last epoch is saved
        history = (
            _resumed(checkpoint, model, optimizer, scheduler, generator, epochs) if resume else History()
        )
        parallel = Parallel(optimizer.params) if is_distributed() else None
        batches: Batches
        if parallel is not None:
            broadcast_module(model)
            batches = parallel.batches(train_data, batch_size, shuffle, generator.initial_seed())
        else:
            batches = _batches(train_data, batch_size, shuffle, generator)
        log = open_metrics(stack, metrics, history) if main else None
        bars = stack.enter_context(Progress(progress if main else False, len(history), epochs))
        monitor = (
            stack.enter_context(_Monitor(model, progress is not False and main)) if diagnostics else None
        )
        for epoch in range(len(history) + 1, epochs + 1):
            start, lr = time.perf_counter(), optimizer.lr
            if parallel is not None:
                parallel.set_epoch(epoch - 1)
            train_loss, train_error = _train_epoch(
                model,
                loss,
                optimizer,
                batches,
                epoch,
                bars,
                parallel,
                monitor.diagnostics if monitor else None,
            )
            if scheduler is not None:
                scheduler.step()
            held_out = _evaluate(model, loss, eval_data, eval_size, parallel)
            record = EpochRecord(
                epoch, train_loss, train_error,
                held_out.loss if held_out else None, held_out.error if held_out else None,
                lr, time.perf_counter() - start,
            )  # fmt: skip
            history.append(record)
            line = record.to_json()
            if monitor is not None:
                found = monitor.end_epoch(epoch)
                history.diagnostics.append(found)
                line = json.dumps({**json.loads(line), "diagnostics": found})
            if log is not None:
                log.write(line + "\n")
                log.flush()
            if checkpoint is not None and main:
                save_checkpoint(
                    checkpoint, model, optimizer=optimizer, scheduler=scheduler,
                    generator=generator, history=history, metadata=metadata,
                )  # fmt: skip
            bars.end_epoch(record)
            if on_epoch_end is not None and main:
                on_epoch_end(record)
    return history


class _Monitor:
    """The diagnostics of one ``fit`` call: hooks while it runs, a hint when a kind of verdict appears."""

    def __init__(self, model: Module, hints: bool) -> None:
        self.hints = hints
        self.diagnostics = Diagnostics(model)
        self._told: set[str] = set()

    def end_epoch(self, epoch: int) -> dict[str, object]:
        found = self.diagnostics.end_epoch(epoch)
        for kind in dict.fromkeys(v.kind for v in found.verdicts):
            if kind not in self._told:
                self._told.add(kind)
                same = [v for v in found.verdicts if v.kind == kind]
                more = f" (and {len(same) - 1} more layers)" if len(same) > 1 else ""
                if self.hints:
                    tqdm.write(f"fit: epoch {epoch}: {same[0].message}{more}", file=sys.stderr)
        return found.to_dict()

    def __enter__(self) -> "_Monitor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.diagnostics.remove()


def _resumed(
    checkpoint: PathLike | None, model: Module, optimizer: OptimizerBase, scheduler: Scheduler | None,
    generator: torch.Generator, epochs: int,
) -> History:  # fmt: skip
    """Load ``checkpoint`` into the model, optimizer, scheduler and generator; return its history."""
    if checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint=<the file to resume from>")
    if not Path(checkpoint).exists():
        raise FileNotFoundError(f"fit: resume=True, but there is no checkpoint at {checkpoint}")
    saved = load_checkpoint(checkpoint, model, optimizer=optimizer, scheduler=scheduler, generator=generator)
    if len(saved.history) > epochs:
        raise ValueError(
            f"fit: the checkpoint has {len(saved.history)} epochs already, more than epochs={epochs}"
        )
    return saved.history


def _evaluate(
    model: Module, loss: Loss, data: tuple[Tensor, Tensor] | None, batch_size: int, parallel: Parallel | None
) -> Evaluation | None:
    if data is None:
        return None
    if parallel is not None:
        return parallel.evaluate(model, loss, data, batch_size)
    return evaluate(model, loss, data, batch_size=batch_size)
