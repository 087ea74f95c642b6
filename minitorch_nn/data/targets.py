"""Class labels: checked against the classes, and as one-hot rows (the targets of a squared-error loss)."""

import torch

from minitorch_nn._types import Tensor

__all__ = ["check_labels", "one_hot"]


def check_labels(labels: Tensor, num_classes: int, owner: str) -> None:
    """Refuse class labels outside ``[0, num_classes)``, saying how many and which comes first.

    Args:
        labels: integer class labels, in the order they were read.
        num_classes: the number of classes.
        owner: who refuses them, the start of the message (``"one_hot"``, ``"load_data: <file>"``).

    Raises:
        ValueError: if any label is negative or at least ``num_classes``.

    Example:
        >>> check_labels(torch.tensor([0, 9, 3]), 10, "load_data: /d/l.gz")
        >>> check_labels(torch.tensor([0, 12, 3, 10]), 10, "load_data: /d/l.gz")
        Traceback (most recent call last):
            ...
        ValueError: load_data: /d/l.gz: expected labels in [0, 10), got 2 outside (the first at index 1: 12)
    """
    bad = (labels < 0) | (labels >= num_classes)
    count = int(bad.sum())
    if count:
        first = int(bad.reshape(-1).to(torch.uint8).argmax())
        raise ValueError(
            f"{owner}: expected labels in [0, {num_classes}), got {count} outside "
            f"(the first at index {first}: {int(labels.reshape(-1)[first])})"
        )


def one_hot(labels: Tensor, num_classes: int, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """Rows of zeros with a 1 at each label's column.

    Args:
        labels: class indices in ``[0, num_classes)``, of any integer dtype.
        num_classes: the number of columns, >= 1.
        dtype: the dtype of the rows. Default: ``torch.float32``.

    Shape:
        - labels: :math:`(N,)`, integer.
        - Output: :math:`(N, C)`, ``dtype``.

    Raises:
        TypeError: if ``labels`` are not integers.
        ValueError: if ``labels`` are not of shape (N,), ``num_classes`` < 1, or a label is not
            in ``[0, num_classes)``.

    Example:
        >>> one_hot(torch.tensor([2, 0]), 3)
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"one_hot: expected integer labels, got {labels.dtype}")
    if labels.dim() != 1:
        raise ValueError(f"one_hot: expected labels of shape (N,), got {tuple(labels.shape)}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"one_hot: expected num_classes to be an int >= 1, got {num_classes!r}")
    check_labels(labels, num_classes, "one_hot")
    return torch.zeros(labels.shape[0], num_classes, dtype=dtype, device=labels.device).scatter_(
        1, labels.long().view(-1, 1), 1.0
    )
