"""Convolution: Conv2d, with its backward pass written as matrix products over image patches."""

from typing import Final

import torch
import torch.nn.functional as F
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.layers import check_size, default_parameters
from minitorch_nn.module import Module

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
    sees the convolution as a matrix product over image patches: with
    :math:`P = \operatorname{unfold}(x)` of shape :math:`(N, C k_h k_w, L)` and
    :math:`G` the gradient of shape :math:`(N, O, L)`, the weight gradient is
    :math:`\sum_n G_n P_n^T` and the input gradient is
    :math:`\operatorname{fold}(W^T G)`, the adjoint of ``unfold``.

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
        """Add :math:`\\sum_n G_n P_n^T` to ``weight.grad`` and the sums of ``grad_output`` over
        N, H and W to ``bias.grad``; return :math:`\\operatorname{fold}(W^T G)`."""
        self.accumulate_grad(grad_output)
        input, grad = self._shapes(grad_output)
        # Input gradient: each patch's gradient, scattered back and summed where patches overlap.
        patch_grad = torch.matmul(self.weight.value.reshape(self.out_channels, -1).t(), grad)
        return F.fold(patch_grad, input.shape[2:], self.kernel_size, padding=self.padding, stride=self.stride)

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Add the weight and bias gradients; skip the input gradient."""
        input, grad = self._shapes(grad_output)
        patches = F.unfold(input, self.kernel_size, padding=self.padding, stride=self.stride)
        self.weight.grad.add_(torch.einsum("nol,nkl->ok", grad, patches).view_as(self.weight.grad))
        if self.bias is not None:
            self.bias.grad.add_(grad.sum(dim=(0, 2)))

    @override
    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}{bias}"
        )
