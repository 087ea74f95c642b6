"""Evaluation: loss and classification error on held-out data, and the confusion matrix."""

from typing import NamedTuple

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.module import Loss, Module

__all__ = ["Evaluation", "batch_total", "confusion_matrix", "error_count", "evaluate", "labels_of", "pooled"]


def _summed(loss: Loss) -> bool:
    return getattr(loss, "reduction", "mean") == "sum"


def batch_total(loss: Loss, value: float, samples: int) -> float:
    """A batch's share of a pooled loss: the batch's sum, whatever the criterion's reduction.

    ``value`` is what ``loss`` returned for a batch of ``samples``: a mean
    (``reduction="mean"``, the default of every loss here), or already a sum.

    Example:
        >>> import minitorch_nn as mn
        >>> batch_total(mn.MSELoss(), 0.5, 10), batch_total(mn.MSELoss(reduction="sum"), 5.0, 10)
        (5.0, 5.0)
    """
    return value if _summed(loss) else value * samples


def pooled(loss: Loss, total: float, samples: int) -> float:
    """The loss of many batches as if they were one: the mean over ``samples``, or the sum for ``"sum"``.

    With ``batch_total`` this makes an epoch's (or an evaluation's) loss
    independent of the batch size: it is what ``loss`` gives on all the
    samples at once, under its own reduction.

    Example:
        >>> import minitorch_nn as mn
        >>> pooled(mn.MSELoss(), 5.0 + 3.0, 16), pooled(mn.MSELoss(reduction="sum"), 5.0 + 3.0, 16)
        (0.5, 8.0)
    """
    return total if _summed(loss) else total / max(samples, 1)


class Evaluation(NamedTuple):
    """What ``evaluate`` measured: the loss, the error rate (``None`` for non-class targets), the count.

    The loss is the criterion's value on all of the data at once, under its
    reduction: the mean over the samples, or their sum for ``reduction="sum"``.

    Example:
        >>> Evaluation(loss=0.25, error=0.1, samples=1000).error
        0.1
    """

    loss: float
    error: float | None
    samples: int


def labels_of(output: Tensor, target: Tensor) -> Tensor | None:
    """Class labels of ``target``: itself if it holds indices, its arg-max if it is one-hot like ``output``.

    ``None`` when the target is neither (a regression target).
    """
    if not target.is_floating_point() and target.dim() == 1:
        return target
    if target.is_floating_point() and target.dim() == 2 and target.shape == output.shape:
        return target.argmax(dim=1)
    return None


def error_count(output: Tensor, target: Tensor) -> Tensor | None:
    """How many rows of ``output`` have their arg-max away from the label, as a 0-dim tensor."""
    labels = labels_of(output, target)
    if labels is None or output.dim() != 2:
        return None
    return (output.argmax(dim=1) != labels).sum()


def _chunks(data: tuple[Tensor, Tensor], batch_size: int) -> list[tuple[Tensor, Tensor]]:
    input, target = data
    size = input.shape[0] if batch_size == 0 else batch_size
    return list(zip(torch.split(input, size), torch.split(target, size), strict=True))


@torch.no_grad()
def evaluate(model: Module, loss: Loss, data: tuple[Tensor, Tensor], *, batch_size: int = 0) -> Evaluation:
    """The loss and the error rate of ``model`` on ``data``, in evaluation mode.

    The model's ``training`` flag is restored afterwards. Batches are taken in
    order; ``batch_size=0`` evaluates everything in one batch.

    Args:
        model: the network.
        loss: the criterion, e.g. ``MSELoss()``.
        data: ``(input, target)``; ``target`` holds class indices (N,) or one-hot rows (N, C).
        batch_size: samples per forward pass, 0 for all at once. Default: 0.

    Returns:
        ``Evaluation(loss, error, count)``: the loss on all of ``data`` under the
        criterion's reduction (the mean over the samples, or their sum for
        ``reduction="sum"``; the same for every ``batch_size`` up to rounding),
        the fraction misclassified (``None`` for targets that are not class
        labels), and the number of samples.

    Example:
        >>> import minitorch_nn as mn
        >>> model = mn.Linear(2, 2, generator=torch.Generator().manual_seed(0))
        >>> with torch.no_grad():
        ...     _ = model.weight.value.copy_(torch.eye(2))
        ...     _ = model.bias.value.zero_()
        >>> data = (torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]), torch.tensor([0, 1, 1]))
        >>> result = evaluate(model, mn.CrossEntropyLoss(), data)
        >>> result.error, result.samples
        (0.3333333333333333, 3)
    """
    was_training = model.training
    model.eval()
    try:
        total, errors, count, countable = 0.0, 0, 0, True
        for input, target in _chunks(data, batch_size):
            output = model(input)
            total += batch_total(loss, float(loss(output, target)), input.shape[0])
            wrong = error_count(output, target)
            countable = countable and wrong is not None
            errors += int(wrong) if wrong is not None else 0
            count += input.shape[0]
    finally:
        model.train(was_training)
    return Evaluation(pooled(loss, total, count), errors / count if countable and count else None, count)


@torch.no_grad()
def confusion_matrix(
    model: Module, data: tuple[Tensor, Tensor], num_classes: int, *, batch_size: int = 0
) -> Tensor:
    """Count ``(true class, predicted class)`` pairs: a (C, C) int64 tensor, rows are the true classes.

    Example:
        >>> import minitorch_nn as mn
        >>> model = mn.Identity()
        >>> data = (torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]]), torch.tensor([0, 0, 1]))
        >>> confusion_matrix(model, data, 2)
        tensor([[1, 1],
                [1, 0]])
    """
    was_training = model.training
    model.eval()
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    try:
        for input, target in _chunks(data, batch_size):
            output = model(input)
            labels = labels_of(output, target)
            if labels is None:
                raise ValueError(f"confusion_matrix: expected class targets, got shape {tuple(target.shape)}")
            pairs = labels.cpu() * num_classes + output.argmax(dim=1).cpu()
            matrix += torch.bincount(pairs, minlength=num_classes**2).view(num_classes, num_classes)
    finally:
        model.train(was_training)
    return matrix
