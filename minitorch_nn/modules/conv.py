"""Convolution: Conv2d, with its backward pass written as two more convolutions."""

from typing import Final

import torch
import torch.nn.functional as F
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.modules.linear import check_size, default_parameters

__all__ = ["Conv2d", "pair"]


def pair(owner: str, name: str, value: int | tuple[int, int], minimum: int = 1) -> tuple[int, int]:
    """``value`` as a pair of ints >= ``minimum``, from an int or a 2-tuple."""
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise TypeError(f"{owner}: expected {name} to be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{owner}: expected {name} >= {minimum}, got {value!r}")
    return values[0], values[1]


class Conv2d(Module):
    r"""2-D cross-correlation :math:`y_{n,o} = b_o + \sum_c W_{o,c} \star x_{n,c}`, as ``torch.nn.Conv2d``.

    ``forward`` runs torch's convolution kernel and caches the input. ``backward``
    writes both gradients as convolutions too: the weight gradient
    :math:`\partial L / \partial W_{o,c,i,j} = \sum_{n,p,q} G_{n,o,p,q} X_{n,c,sp+i,sq+j}` is a
    correlation of the input with the output gradient :math:`G`, and the input gradient is the
    transposed convolution of :math:`G` with :math:`W`, the adjoint of the forward map. (In matrix
    form, with :math:`P = \operatorname{unfold}(x)`, these are :math:`\sum_n G_n P_n^T` and
    :math:`\operatorname{fold}(W^T G)`; the convolution kernels compute the same sums faster.)

    Args:
        in_channels: channels of the input, :math:`C`.
        out_channels: channels of the output, :math:`O`.
        kernel_size: :math:`(k_h, k_w)`, or one int for both.
        stride: step between patches, an int or a pair. Default: 1.
        padding: zeros added on each side, an int or a pair. Default: 0.
        bias: learn an additive bias per output channel. Default: ``True``.
        generator: random generator for the initial values. Default: torch's global one.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: :math:`(N, O, H_{out}, W_{out})` with
          :math:`H_{out} = \lfloor (H + 2 p_h - k_h) / s_h \rfloor + 1`, and likewise for :math:`W`.

    Attributes:
        weight: ``Parameter`` of shape ``(out_channels, in_channels, kh, kw)``, drawn from
            :math:`U(-k, k)` with :math:`k = 1/\sqrt{C k_h k_w}`, as torch does.
        bias: ``Parameter`` of shape ``(out_channels,)``, from the same distribution, or ``None``.

    Example:
        >>> conv = Conv2d(1, 4, 3, padding=1, generator=torch.Generator().manual_seed(0))
        >>> conv
        Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
        >>> conv(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 4, 28, 28])
        >>> conv.backward(torch.ones(2, 4, 28, 28)).shape
        torch.Size([2, 1, 28, 28])
        >>> conv.bias.grad.tolist()
        [1568.0, 1568.0, 1568.0, 1568.0]
    """

    fresh_output = True
    fresh_grad_input = True
    in_channels: Final[int]
    out_channels: Final[int]
    kernel_size: Final[tuple[int, int]]
    stride: Final[tuple[int, int]]
    padding: Final[tuple[int, int]]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_size("Conv2d", "in_channels", in_channels)
        self.out_channels = check_size("Conv2d", "out_channels", out_channels)
        self.kernel_size = pair("Conv2d", "kernel_size", kernel_size)
        self.stride = pair("Conv2d", "stride", stride)
        self.padding = pair("Conv2d", "padding", padding, minimum=0)
        self.weight, self.bias = default_parameters(
            (out_channels, in_channels, *self.kernel_size),
            bias,
            generator=generator,
            device=device,
            dtype=dtype,
        )
        self._input: Tensor | None = None

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the convolution of ``input``; cache ``input`` (not a copy) for ``backward``."""
        self._check_floating(input)
        if input.dim() != 4 or input.shape[1] != self.in_channels:
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.in_channels}, H, W), got {shape_str(input)}"
            )
        self._check_like(input, self.weight.value)
        padded = (input.shape[2] + 2 * self.padding[0], input.shape[3] + 2 * self.padding[1])
        if padded[0] < self.kernel_size[0] or padded[1] < self.kernel_size[1]:
            raise ValueError(f"{self!r}: expected padded input of at least {self.kernel_size}, got {padded}")
        self._input = input
        bias = None if self.bias is None else self.bias.value
        return F.conv2d(input, self.weight.value, bias, self.stride, self.padding)

    def _shapes(self, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        """The cached input, and ``grad_output`` as (N, O, L) after checking its shape."""
        input = self._cached(self._input)
        n, _, h, w = input.shape
        out_h = (h + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
        out_w = (w + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
        self._check_grad_output(grad_output, (n, self.out_channels, out_h, out_w))
        return input, grad_output.reshape(n, self.out_channels, out_h * out_w)

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Add the weight and bias gradients (see ``accumulate_grad``); return the input gradient,
        the transposed convolution of ``grad_output`` with ``weight``."""
        self.accumulate_grad(grad_output)
        input = self._cached(self._input)
        sizes = zip(input.shape[2:], self.padding, self.kernel_size, strict=True)
        padded = [size + 2 * pad - k for size, pad, k in sizes]
        # conv_transpose2d is the adjoint of conv2d: each output gradient is spread back, through the
        # kernel, over the input patch it came from, and summed where patches overlap. output_padding
        # restores the rows and columns that a stride > 1 skipped.
        leftover = [size % stride for size, stride in zip(padded, self.stride, strict=True)]
        return F.conv_transpose2d(
            grad_output, self.weight.value, stride=self.stride, padding=self.padding, output_padding=leftover
        )

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Add to ``weight.grad`` the correlation of the input with ``grad_output``, and to ``bias.grad``
        the sums of ``grad_output`` over N, H and W; skip the input gradient."""
        input = self._cached(self._input)
        n, _, h, w = input.shape
        out_h = (h + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
        out_w = (w + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
        self._check_grad_output(grad_output, (n, self.out_channels, out_h, out_w))
        # dW[o, c, i, j] = sum over n, p, q of G[n, o, p, q] * X[n, c, s p + i, s q + j]: a convolution
        # over the batch, with the input's channels as the batch and the output gradient as the kernel,
        # dilated by the stride. It can overshoot the kernel size when the stride skipped a border.
        weight_grad = F.conv2d(
            input.transpose(0, 1), grad_output.transpose(0, 1), padding=self.padding, dilation=self.stride
        )
        kh, kw = self.kernel_size
        self.weight.grad.add_(weight_grad.transpose(0, 1)[:, :, :kh, :kw])
        if self.bias is not None:
            self.bias.grad.add_(grad_output.sum(dim=(0, 2, 3)))

    @override
    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}{bias}"
        )
