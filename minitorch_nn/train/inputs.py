"""What ``fit`` checks before it starts, and where its metrics go."""

import os
from contextlib import ExitStack
from typing import TextIO

from minitorch_nn._types import Tensor
from minitorch_nn.checkpoint.io import PathLike
from minitorch_nn.history import History

__all__ = ["check_count", "check_data", "open_metrics"]


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
    """The metrics stream, starting with the records a resumed run already has."""
    if metrics is None:
        return None
    if isinstance(metrics, str | os.PathLike):
        metrics = stack.enter_context(open(metrics, "w"))  # noqa: SIM115  # closed by the stack
    for record in history:
        metrics.write(record.to_json() + "\n")
    return metrics
