"""Loss functions: ``MSELoss``."""

from typing import Final, Literal

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Loss

__all__ = ["MSELoss", "Reduction"]

Reduction = Literal["mean", "sum"]


def _check_reduction(owner: str, reduction: str) -> Reduction:
    if reduction == "mean":
        return "mean"
    if reduction == "sum":
        return "sum"
    raise ValueError(f"{owner}: expected reduction 'mean' or 'sum', got {reduction!r}")


class MSELoss(Loss):
    r"""Squared error :math:`\ell = \sum_i (x_i - t_i)^2`, divided by the element count for ``"mean"``.

    Args:
        reduction: ``"mean"`` averages over every element, ``"sum"`` adds them
            up, as in ``torch.nn.MSELoss``. Default: ``"mean"``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Target: :math:`(*)`, the shape of the input.
        - Output: :math:`()`, a 0-dim tensor.

    Example:
        >>> loss = MSELoss(reduction="sum")
        >>> loss(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])).item()
        5.0
        >>> loss.backward().tolist()
        [[2.0, 4.0]]
    """

    reduction: Final[Reduction]

    def __init__(self, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.reduction = _check_reduction("MSELoss", reduction)
        self._diff: Tensor | None = None

    @override
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Return the loss; cache ``input - target`` for ``backward``."""
        self._check_floating(input)
        self._check_floating(target, "target")
        if target.shape != input.shape:
            raise ValueError(
                f"{self!r}: expected target of shape {shape_str(input)} (the input's), "
                f"got {shape_str(target)}"
            )
        self._diff = input - target
        loss = torch.sum(self._diff * self._diff)
        return loss if self.reduction == "sum" else loss / self._diff.numel()

    @override
    def backward(self) -> Tensor:
        """Return ``2 (input - target)``, divided by the element count for ``"mean"``."""
        diff = self._cached(self._diff)
        scale = 2.0 if self.reduction == "sum" else 2.0 / diff.numel()
        return diff * scale

    @override
    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
