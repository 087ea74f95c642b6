"""What ``fit`` checks before it starts, and where its metrics go."""

import json
import os
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from minitorch_nn._types import Tensor
from minitorch_nn.checkpoint.io import PathLike, atomic_write
from minitorch_nn.history import History

__all__ = ["check_continues", "check_count", "check_data", "open_metrics"]


def check_data(owner: str, name: str, data: object) -> tuple[Tensor, Tensor]:
    """Raise unless ``data`` is a non-empty ``(input, target)`` pair of tensors with finite inputs."""
    if not (isinstance(data, tuple | list) and len(data) == 2 and all(isinstance(t, Tensor) for t in data)):
        raise TypeError(f"{owner}: expected {name} to be a pair (input, target) of tensors, got {data!r:.60}")
    input, target = data
    if input.dim() == 0 or target.dim() == 0 or input.shape[0] != target.shape[0]:
        raise ValueError(
            f"{owner}: expected {name} input and target with the same first dimension, "
            f"got {tuple(input.shape)} and {tuple(target.shape)}"
        )
    if input.shape[0] == 0:
        raise ValueError(f"{owner}: expected a non-empty {name}, got 0 samples")
    if input.is_floating_point() and not bool(input.isfinite().all()):
        bad = int((~input.isfinite()).reshape(input.shape[0], -1).any(dim=1).nonzero()[0, 0])
        raise ValueError(f"{owner}: {name} input contains NaN or Inf (first in sample {bad})")
    return input, target


def check_count(owner: str, name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{owner}: expected {name} to be an int >= {least}, got {value!r}")
    return value


def open_metrics(stack: ExitStack, metrics: PathLike | TextIO | None, history: History) -> TextIO | None:
    """The metrics stream, holding one line for each record ``history`` already has.

    A fresh run (an empty ``history``) starts the file anew. A resumed run
    keeps the file's lines and appends to them: the one line that the
    checkpoint's history does not hold yet (an epoch whose metrics were
    written but whose checkpoint was not) is dropped, missing ones are
    written from the history, and a file whose lines disagree with the
    history, or run on beyond it (another run's), is refused.
    """
    if metrics is None:
        return None
    if not isinstance(metrics, str | os.PathLike):
        for record in history:
            metrics.write(record.to_json() + "\n")
        return metrics
    if len(history) and os.path.lexists(metrics):
        check_continues(metrics, history)
    atomic_write(metrics, "".join(record.to_json() + "\n" for record in history).encode())
    return stack.enter_context(open(metrics, "a"))  # closed by the stack


def check_continues(path: PathLike, history: History) -> None:
    """Raise ``ValueError`` unless the metrics file at ``path`` agrees with ``history`` line by line."""
    try:
        lines = Path(path).read_text().splitlines()
        kept = [json.loads(line) for line in lines[: len(history)]]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"fit: cannot continue the metrics file {path}: {error}") from None
    for index, (line, record) in enumerate(zip(kept, history, strict=False)):
        if isinstance(line, dict):
            line.pop("diagnostics", None)  # written by fit(..., diagnostics=True); not in the history
        if line != json.loads(record.to_json()):
            raise ValueError(
                f"fit: the metrics file {path} does not continue the checkpoint's history: line {index + 1} "
                f"is {lines[index][:80]!r}, expected {record.to_json()[:80]!r}; give another metrics file"
            )
    beyond = [line for line in lines[len(history) :] if line.strip()]
    if len(beyond) > 1 or (beyond and _epoch_of(beyond[0]) != len(history) + 1):
        raise ValueError(
            f"fit: the metrics file {path} has {len(history) + len(beyond)} lines, more than the "
            f"checkpoint's {len(history)} epochs and the one a run stopped between its two writes "
            "leaves: its later lines belong to another run; give another metrics file"
        )


def _epoch_of(line: str) -> object:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record.get("epoch") if isinstance(record, dict) else None
