"""Losses: regression (MSELoss, L1Loss, HuberLoss, on a shared element-wise base) and classification
on logits (CrossEntropyLoss, BCEWithLogitsLoss).
"""

from abc import abstractmethod
from typing import Final, Literal

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Loss

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "ElementwiseLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "Reduction",
]

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


# --- Classification losses on logits: CrossEntropyLoss and BCEWithLogitsLoss ----------
class CrossEntropyLoss(Loss):
    r"""Cross-entropy of logits :math:`\ell_n = -\sum_c q_{nc} \log \operatorname{softmax}(x_n)_c`.

    The target is either class indices, read as one-hot rows, or class
    probabilities. With label smoothing :math:`\varepsilon` the target rows become
    :math:`q = (1 - \varepsilon) t + \varepsilon / C`. The log-softmax uses the
    log-sum-exp shift, so logits of any size stay finite. The gradient is
    :math:`\operatorname{softmax}(x) \sum_c q_c - q`, divided by :math:`N` for ``"mean"``.

    Args:
        reduction: ``"mean"`` averages over the batch, ``"sum"`` adds up. Default: ``"mean"``.
        label_smoothing: :math:`\varepsilon` in [0, 1]. Default: 0.0.

    Shape:
        - Input: :math:`(N, C)` logits.
        - Target: :math:`(N,)` int64 class indices in :math:`[0, C)`, or :math:`(N, C)`
          floating-point class probabilities.
        - Output: :math:`()`, a 0-dim tensor.

    Example:
        >>> loss = CrossEntropyLoss()
        >>> logits = torch.tensor([[0.0, 0.0], [1e4, -1e4]])
        >>> loss(logits, torch.tensor([0, 1])).item()
        10000.3466796875
        >>> loss.backward().tolist()
        [[-0.25, 0.25], [0.5, -0.5]]
    """

    reduction: Final[Reduction]
    label_smoothing: Final[float]

    def __init__(self, reduction: Reduction = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.reduction = check_reduction("CrossEntropyLoss", reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: expected label_smoothing in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)
        self._log_probs: Tensor | None = None
        self._soft_target: Tensor | None = None

    def _soft(self, input: Tensor, target: Tensor) -> Tensor:
        """The target as smoothed probability rows of the input's shape."""
        classes = input.shape[1]
        if target.is_floating_point():
            if target.shape != input.shape:
                expected = f"expected probability target of shape {shape_str(input)}"
                raise ValueError(f"{self!r}: {expected}, got {shape_str(target)}")
            soft = target
        else:
            if target.shape != input.shape[:1] or target.dtype != torch.int64:
                raise ValueError(
                    f"{self!r}: expected int64 class-index target of shape ({input.shape[0]},), "
                    f"got {target.dtype} of shape {shape_str(target)}"
                )
            if target.numel() and not target.is_cuda:  # on a GPU the check would cost a sync
                low, high = (int(v) for v in torch.aminmax(target))
                if not 0 <= low <= high < classes:
                    expected = f"expected class indices in [0, {classes})"
                    raise ValueError(f"{self!r}: {expected}, got values in [{low}, {high}]")
            soft = torch.zeros_like(input).scatter_(1, target.view(-1, 1), 1.0)
        if self.label_smoothing:
            soft = soft * (1 - self.label_smoothing) + self.label_smoothing / classes
        return soft

    @override
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Return the loss; cache the log-probabilities and the smoothed target."""
        self._check_floating(input)
        if input.dim() != 2:
            raise ValueError(f"{self!r}: expected input of shape (N, C), got {shape_str(input)}")
        self._soft_target = self._soft(input, target)
        self._log_probs = torch.log_softmax(input, dim=1)
        loss = -torch.sum(self._soft_target * self._log_probs)
        return loss if self.reduction == "sum" else loss / input.shape[0]

    @override
    def backward(self) -> Tensor:
        """Return ``softmax(input) * q.sum(1) - q``, divided by N for ``"mean"``."""
        log_probs, soft = self._cached(self._log_probs), self._cached(self._soft_target)
        grad = torch.exp(log_probs).mul_(soft.sum(dim=1, keepdim=True)).sub_(soft)
        return grad if self.reduction == "sum" else grad.div_(log_probs.shape[0])

    @override
    def extra_repr(self) -> str:
        smoothing = f", label_smoothing={self.label_smoothing}" if self.label_smoothing else ""
        return f"reduction={self.reduction!r}{smoothing}"


class BCEWithLogitsLoss(Loss):
    r"""Binary cross-entropy of logits :math:`\ell = -t \log \sigma(x) - (1 - t) \log(1 - \sigma(x))`.

    Computed as :math:`\max(x, 0) - x t + \log(1 + e^{-|x|})`, stable for any
    logit. The gradient is :math:`\sigma(x) - t`, divided by the element count for ``"mean"``.

    Args:
        reduction: ``"mean"`` or ``"sum"``. Default: ``"mean"``.

    Shape:
        - Input: :math:`(*)` logits, any shape.
        - Target: :math:`(*)`, the shape of the input, values in [0, 1].
        - Output: :math:`()`, a 0-dim tensor.

    Example:
        >>> loss = BCEWithLogitsLoss(reduction="sum")
        >>> loss(torch.tensor([0.0, 1e4]), torch.tensor([1.0, 1.0])).item()
        0.6931471824645996
        >>> loss.backward().tolist()
        [-0.5, 0.0]
    """

    reduction: Final[Reduction]

    def __init__(self, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction("BCEWithLogitsLoss", reduction)
        self._input: Tensor | None = None
        self._target: Tensor | None = None

    @override
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Return the loss; cache ``input`` and ``target`` (not copies)."""
        self._check_pair(input, target)
        self._input, self._target = input, target
        loss = torch.sum(input.clamp(min=0) - input * target + torch.log1p(torch.exp(-input.abs())))
        return loss if self.reduction == "sum" else loss / input.numel()

    @override
    def backward(self) -> Tensor:
        """Return ``sigmoid(input) - target``, divided by the element count for ``"mean"``."""
        input, target = self._cached(self._input), self._cached(self._target)
        grad = torch.sigmoid(input).sub_(target)
        return grad if self.reduction == "sum" else grad.div_(input.numel())

    @override
    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
