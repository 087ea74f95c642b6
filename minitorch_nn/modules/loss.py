"""Regression losses: MSELoss, L1Loss, HuberLoss, on a shared element-wise base."""

from abc import abstractmethod
from typing import Final, Literal

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor
from minitorch_nn.module import Loss

__all__ = ["ElementwiseLoss", "HuberLoss", "L1Loss", "MSELoss", "Reduction"]

Reduction = Literal["mean", "sum"]


def check_reduction(owner: str, reduction: str) -> Reduction:
    """Return ``reduction`` if it is ``"mean"`` or ``"sum"``, else raise ``ValueError``."""
    if reduction == "mean":
        return "mean"
    if reduction == "sum":
        return "sum"
    raise ValueError(f"{owner}: expected reduction 'mean' or 'sum', got {reduction!r}")


class ElementwiseLoss(Loss):
    """Base of losses that compare ``input`` and ``target`` element by element.

    ``forward`` checks that both are floating point and of one shape, caches
    ``input - target``, and reduces ``pointwise(diff)`` by sum or mean;
    ``backward`` returns ``derivative(diff)``, divided by the element count for ``"mean"``.
    """

    reduction: Final[Reduction]

    def __init__(self, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(type(self).__name__, reduction)
        self._diff: Tensor | None = None

    @abstractmethod
    def pointwise(self, diff: Tensor) -> Tensor:
        """The loss of each element, from ``input - target``."""

    @abstractmethod
    def derivative(self, diff: Tensor) -> Tensor:
        """The derivative of ``pointwise`` with respect to the input, as a new tensor."""

    @override
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Return the reduced loss; cache ``input - target`` for ``backward``."""
        self._check_pair(input, target)
        self._diff = input - target
        loss = torch.sum(self.pointwise(self._diff))
        return loss if self.reduction == "sum" else loss / self._diff.numel()

    @override
    def backward(self) -> Tensor:
        """Return d loss / d input for the last ``forward``."""
        diff = self._cached(self._diff)
        grad = self.derivative(diff)
        return grad if self.reduction == "sum" else grad.div_(diff.numel())

    @override
    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(ElementwiseLoss):
    r"""Squared error :math:`\ell = \sum_i (x_i - t_i)^2`, divided by the element count for ``"mean"``.

    Its gradient is :math:`2 (x - t)`, likewise divided for ``"mean"``.

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

    @override
    def pointwise(self, diff: Tensor) -> Tensor:
        return diff * diff

    @override
    def derivative(self, diff: Tensor) -> Tensor:
        return diff * 2.0


class L1Loss(ElementwiseLoss):
    r"""Absolute error :math:`\ell = \sum_i |x_i - t_i|`, divided by the element count for ``"mean"``.

    Its gradient is :math:`\operatorname{sign}(x - t)`, 0 where :math:`x = t`, as in torch.

    Args:
        reduction: ``"mean"`` or ``"sum"``. Default: ``"mean"``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Target: :math:`(*)`, the shape of the input.
        - Output: :math:`()`, a 0-dim tensor.

    Example:
        >>> loss = L1Loss()
        >>> loss(torch.tensor([1.0, -3.0]), torch.tensor([0.0, 0.0])).item()
        2.0
        >>> loss.backward().tolist()
        [0.5, -0.5]
    """

    @override
    def pointwise(self, diff: Tensor) -> Tensor:
        return diff.abs()

    @override
    def derivative(self, diff: Tensor) -> Tensor:
        return torch.sign(diff)


class HuberLoss(ElementwiseLoss):
    r"""Huber loss: :math:`\frac12 d^2` for :math:`|d| < \delta`, else :math:`\delta (|d| - \frac12 \delta)`.

    Here :math:`d = x - t`. The gradient is :math:`d` clamped to :math:`[-\delta, \delta]`.

    Args:
        reduction: ``"mean"`` or ``"sum"``. Default: ``"mean"``.
        delta: where the loss turns from quadratic to linear; must be > 0. Default: 1.0.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Target: :math:`(*)`, the shape of the input.
        - Output: :math:`()`, a 0-dim tensor.

    Example:
        >>> loss = HuberLoss(reduction="sum", delta=1.0)
        >>> loss(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0])).item()
        2.625
        >>> loss.backward().tolist()
        [0.5, 1.0]
    """

    delta: Final[float]

    def __init__(self, reduction: Reduction = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: expected delta > 0, got {delta}")
        self.delta = float(delta)

    @override
    def pointwise(self, diff: Tensor) -> Tensor:
        size = diff.abs()
        return torch.where(size < self.delta, 0.5 * diff * diff, self.delta * (size - 0.5 * self.delta))

    @override
    def derivative(self, diff: Tensor) -> Tensor:
        return diff.clamp(-self.delta, self.delta)

    @override
    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"
