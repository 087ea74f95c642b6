"""Class labels as one-hot rows, the targets of a squared-error loss."""

import torch

from minitorch_nn._types import Tensor

__all__ = ["one_hot"]


def one_hot(labels: Tensor, num_classes: int, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """Rows of zeros with a 1 at each label's column.

    Args:
        labels: class indices in ``[0, num_classes)``.
        num_classes: the number of columns.
        dtype: the dtype of the rows. Default: ``torch.float32``.

    Shape:
        - labels: :math:`(N,)`, integer.
        - Output: :math:`(N, C)`, ``dtype``.

    Example:
        >>> one_hot(torch.tensor([2, 0]), 3)
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    return torch.zeros(labels.shape[0], num_classes, dtype=dtype, device=labels.device).scatter_(
        1, labels.view(-1, 1), 1.0
    )
