"""Element-wise activations: ``Tanh``."""

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module

__all__ = ["Tanh"]


class Tanh(Module):
    r"""Hyperbolic tangent, element-wise: :math:`y = \tanh(x)`.

    Its derivative is :math:`1 - \tanh^2(x) = 1 - y^2`, so ``forward`` caches
    the output rather than the input.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> tanh = Tanh()
        >>> tanh(torch.tensor([0.0, 1.0], dtype=torch.float64)).round(decimals=4).tolist()
        [0.0, 0.7616]
        >>> tanh.backward(torch.ones(2, dtype=torch.float64)).round(decimals=4).tolist()
        [1.0, 0.42]
    """

    def __init__(self) -> None:
        super().__init__()
        self._output: Tensor | None = None

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return ``tanh(input)``; cache that output for ``backward``."""
        self._check_floating(input)
        self._output = torch.tanh(input)
        return self._output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return ``grad_output * (1 - output²)``. No parameters, nothing accumulated."""
        output = self._cached(self._output)
        if grad_output.shape != output.shape:
            raise ValueError(
                f"{self!r}: expected grad_output of shape {shape_str(output)}, got {shape_str(grad_output)}"
            )
        return grad_output * (1 - output * output)
