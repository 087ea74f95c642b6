"""Softmax and LogSoftmax along one dimension, numerically stable for huge logits."""

from typing import Final

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.modules.activation import Elementwise

__all__ = ["LogSoftmax", "Softmax"]


class _AlongDim(Elementwise):
    saves = "output"
    fresh_grad_input = True
    dim: Final[int]

    def __init__(self, dim: int) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"{type(self).__name__}: expected dim to be an int, got {type(dim).__name__}")
        self.dim = dim

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Apply along ``dim``; cache the output for ``backward``."""
        if not -input.dim() <= self.dim < max(input.dim(), 1):
            raise ValueError(
                f"{self!r}: expected input with dimension {self.dim}, got shape {shape_str(input)}"
            )
        return super().forward(input)

    @override
    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    r"""Softmax :math:`y_i = e^{x_i} / \sum_j e^{x_j}` along ``dim``.

    The backward pass is :math:`y \odot (g - \sum_j g_j y_j)`, from the cached output.
    The max is subtracted before exponentiating, so logits of :math:`\pm 10^4` are fine.

    Args:
        dim: the dimension the probabilities sum to 1 along.

    Shape:
        - Input: :math:`(*)`, any shape with dimension ``dim``.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> softmax = Softmax(dim=1)
        >>> softmax(torch.tensor([[0.0, 1e4]])).tolist()
        [[0.0, 1.0]]
        >>> softmax.backward(torch.tensor([[1.0, 1.0]])).tolist()
        [[0.0, 0.0]]
    """

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.softmax(input, self.dim)

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return saved * (grad_output - (grad_output * saved).sum(self.dim, keepdim=True))


class LogSoftmax(_AlongDim):
    r"""Log-softmax :math:`y_i = x_i - \log \sum_j e^{x_j}` along ``dim``.

    The backward pass is :math:`g - e^{y} \sum_j g_j`, from the cached output.
    Computed with the log-sum-exp shift, so logits of :math:`\pm 10^4` give finite values.

    Args:
        dim: the dimension to normalise along.

    Shape:
        - Input: :math:`(*)`, any shape with dimension ``dim``.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> log_softmax = LogSoftmax(dim=1)
        >>> log_softmax(torch.tensor([[0.0, 1e4]])).tolist()
        [[-10000.0, 0.0]]
        >>> log_softmax.backward(torch.tensor([[0.0, 1.0]])).tolist()
        [[0.0, 0.0]]
    """

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.log_softmax(input, self.dim)

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return grad_output - torch.exp(saved) * grad_output.sum(self.dim, keepdim=True)
