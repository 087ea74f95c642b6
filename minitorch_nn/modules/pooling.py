"""Pooling: MaxPool2d and AvgPool2d over non-padded windows."""

from typing import Final

import torch
import torch.nn.functional as F
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.modules.conv import pair

__all__ = ["AvgPool2d", "MaxPool2d"]


class _Pool2d(Module):
    fresh_output = True
    fresh_grad_input = True
    kernel_size: Final[tuple[int, int]]
    stride: Final[tuple[int, int]]

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(name, "kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else pair(name, "stride", stride)
        self._input_shape: torch.Size | None = None
        self._output_shape: torch.Size | None = None

    def _check_input(self, input: Tensor) -> None:
        self._check_floating(input)
        if input.dim() != 4 or input.shape[2] < self.kernel_size[0] or input.shape[3] < self.kernel_size[1]:
            raise ValueError(
                f"{self!r}: expected input of shape (N, C, H, W) with H, W >= {self.kernel_size}, "
                f"got {shape_str(input)}"
            )

    def _check_grad(self, grad_output: Tensor) -> torch.Size:
        """Check ``grad_output`` against the last output; return the input's shape."""
        if self._input_shape is None or self._output_shape is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        self._check_grad_output(grad_output, self._output_shape)
        return self._input_shape

    @override
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    r"""The maximum over each :math:`k_h \times k_w` window, as ``torch.nn.MaxPool2d``.

    ``forward`` caches where each maximum came from; ``backward`` routes each
    output gradient to that input element, adding where windows overlap.

    Args:
        kernel_size: the window, an int or a pair.
        stride: the step between windows. Default: ``kernel_size``.

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: :math:`(N, C, H_{out}, W_{out})`, :math:`H_{out} = \lfloor (H - k_h) / s_h \rfloor + 1`.

    Example:
        >>> pool = MaxPool2d(2)
        >>> pool(torch.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])).tolist()
        [[[[4.0]]]]
        >>> pool.backward(torch.tensor([[[[1.0]]]])).tolist()
        [[[[0.0, 0.0], [1.0, 0.0]]]]
    """

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ) -> None:
        super().__init__(kernel_size, stride)
        self._indices: Tensor | None = None

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the window maxima; cache their flat indices in each input plane."""
        self._check_input(input)
        output, self._indices = F.max_pool2d(input, self.kernel_size, self.stride, return_indices=True)
        self._input_shape, self._output_shape = input.shape, output.shape
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Scatter-add ``grad_output`` to the positions of the maxima."""
        n, c, h, w = self._check_grad(grad_output)
        indices = self._cached(self._indices)
        grad_input = grad_output.new_zeros(n, c, h * w)
        grad_input.scatter_add_(2, indices.flatten(2), grad_output.flatten(2))
        return grad_input.view(n, c, h, w)


class AvgPool2d(_Pool2d):
    r"""The mean over each :math:`k_h \times k_w` window, as ``torch.nn.AvgPool2d``.

    ``backward`` spreads each output gradient evenly, :math:`1/(k_h k_w)` to
    every element of its window, adding where windows overlap.

    Args:
        kernel_size: the window, an int or a pair.
        stride: the step between windows. Default: ``kernel_size``.

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: :math:`(N, C, H_{out}, W_{out})`, :math:`H_{out} = \lfloor (H - k_h) / s_h \rfloor + 1`.

    Example:
        >>> pool = AvgPool2d(2)
        >>> pool(torch.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])).tolist()
        [[[[2.5]]]]
        >>> pool.backward(torch.tensor([[[[1.0]]]])).tolist()
        [[[[0.25, 0.25], [0.25, 0.25]]]]
    """

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the window means; cache the shapes."""
        self._check_input(input)
        output = F.avg_pool2d(input, self.kernel_size, self.stride)
        self._input_shape, self._output_shape = input.shape, output.shape
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Fold ``grad_output / (kh kw)``, repeated over each window, back onto the input."""
        n, c, h, w = self._check_grad(grad_output)
        window = self.kernel_size[0] * self.kernel_size[1]
        spread = (grad_output / window).reshape(n, c, 1, -1).expand(n, c, window, -1)
        return F.fold(spread.reshape(n, c * window, -1), (h, w), self.kernel_size, stride=self.stride)
