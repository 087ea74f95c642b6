"""Pooling: MaxPool2d and AvgPool2d over (padded, dilated) windows, and AdaptiveAvgPool2d.

Each takes ``torch.nn``'s arguments and computes torch's output sizes. The
forward passes are torch's kernels; the backward passes are ATen's fused
derivative kernels, which honour ``torch.channels_last``. The derivations are
in the docstrings and in ``docs/modules.md``.
"""

from abc import abstractmethod
from typing import Final

import torch
import torch.nn.functional as F
from typing_extensions import override

from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d", "as_pair"]

_aten = torch.ops.aten


def as_pair(owner: str, name: str, value: object, minimum: int = 1) -> tuple[int, int]:
    """``value`` as a pair of ints >= ``minimum``, from an int or a pair; raise naming ``owner`` if not.

    Example:
        >>> as_pair("MaxPool2d", "stride", 2)
        (2, 2)
        >>> as_pair("MaxPool2d", "padding", (0, 1), minimum=0)
        (0, 1)
    """
    values = (value, value) if isinstance(value, int) else value
    if (
        not isinstance(values, tuple | list)
        or len(values) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in values)
    ):
        raise TypeError(f"{owner}: expected {name} to be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{owner}: expected {name} >= {minimum}, got {value!r}")
    return values[0], values[1]


def _output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """Torch's pooled size along one dimension (``pooling_output_shape`` in ATen).

    In ``ceil_mode`` the last window may overhang the padded input, but it must
    start inside the input or its left padding.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _as_batch(module: Module, input: Tensor, smallest: tuple[int, int]) -> tuple[Tensor, bool]:
    r"""``input`` as an :math:`(N, C, H, W)` batch (an unbatched :math:`(C, H, W)` one as a batch of one,
    a view), and whether it came unbatched; raise unless it is either, with :math:`C \ge 1` and
    :math:`H, W` at least ``smallest`` (as torch, which takes an empty batch but no other empty dimension)."""
    module._check_floating(input)
    if input.dim() not in (3, 4) or (
        input.shape[-3] < 1 or input.shape[-2] < smallest[0] or input.shape[-1] < smallest[1]
    ):
        raise ValueError(
            f"{module!r}: expected input of shape (N, C, H, W) or (C, H, W) with C >= 1 and "
            f"H, W >= {smallest}, got {shape_str(input)}"
        )
    return (input, False) if input.dim() == 4 else (input.unsqueeze(0), True)


def _grad_batch(module: Module, grad_output: Tensor, shape: torch.Size | None, unbatched: bool) -> Tensor:
    """``grad_output`` checked against the last output's batched ``shape`` (without its batch dimension
    if the input came unbatched), as a batch."""
    assert shape is not None  # set together with the cached input
    if unbatched:
        module._check_grad_output(grad_output, shape[1:])
        return grad_output.unsqueeze(0)
    module._check_grad_output(grad_output, shape)
    return grad_output


class _Pool2d(Module):
    """Windows of ``kernel_size`` every ``stride``, on an input padded by ``padding``.

    The public attributes hold the arguments as given, as torch's do (``kernel_size=3`` stays ``3``);
    the pairs the kernels take are private.
    """

    fresh_output = True
    fresh_grad_input = True
    kernel_size: Final[int | tuple[int, int]]
    stride: Final[int | tuple[int, int]]
    padding: Final[int | tuple[int, int]]
    ceil_mode: Final[bool]

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None,
        padding: int | tuple[int, int],
        dilation: int | tuple[int, int],
        ceil_mode: bool,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self._kernel = as_pair(name, "kernel_size", kernel_size)
        self._stride = self._kernel if stride is None else as_pair(name, "stride", stride)
        self._padding = as_pair(name, "padding", padding, minimum=0)
        self._dilation = as_pair(name, "dilation", dilation)
        half = (self._kernel[0] // 2, self._kernel[1] // 2)
        if self._padding[0] > half[0] or self._padding[1] > half[1]:
            raise ValueError(
                f"{name}: expected padding at most half of kernel_size, <= {half}, got {padding!r}"
            )
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = check_bool(name, "ceil_mode", ceil_mode)
        self._min_size = (self._smallest_input(0), self._smallest_input(1))
        self._input: Tensor | None = None  # what forward was given, as a batch
        self._output_shape: torch.Size | None = None  # the shape of the output, as a batch
        self._unbatched = False  # whether forward was given one (C, H, W) sample

    def _output_hw(self, h: int, w: int) -> tuple[int, int]:
        k, s, p, d = self._kernel, self._stride, self._padding, self._dilation
        return (
            _output_size(h, k[0], s[0], p[0], d[0], self.ceil_mode),
            _output_size(w, k[1], s[1], p[1], d[1], self.ceil_mode),
        )

    def _smallest_input(self, axis: int) -> int:
        """The smallest size along ``axis`` that gives at least one window."""
        k, s, p, d = (pair[axis] for pair in (self._kernel, self._stride, self._padding, self._dilation))
        size = 1
        while _output_size(size, k, s, p, d, self.ceil_mode) < 1:
            size += 1
        return size

    def _pool(self, input: Tensor) -> Tensor:
        """Check ``input``, pool it as a batch, cache what ``backward`` needs; return the output in the
        input's batching."""
        batch, unbatched = _as_batch(self, input, self._min_size)
        output = self._pool_batch(batch)
        self._input, self._output_shape, self._unbatched = batch, output.shape, unbatched
        return output.squeeze(0) if unbatched else output

    @abstractmethod
    def _pool_batch(self, input: Tensor) -> Tensor:
        """The pooled :math:`(N, C, H, W)` batch ``input``; cache what ``backward`` needs but the input."""

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the pooled input; cache the input (and, for the maximum, where each maximum is)."""
        return self._pool(input)

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return the input gradient (ATen's fused derivative kernel); no parameters."""
        input = self._cached(self._input)
        grad = _grad_batch(self, grad_output, self._output_shape, self._unbatched)
        grad_input = self._backward_batch(grad, input)
        return grad_input.squeeze(0) if self._unbatched else grad_input

    @abstractmethod
    def _backward_batch(self, grad_output: Tensor, input: Tensor) -> Tensor:
        """The input gradient for a batch."""


class MaxPool2d(_Pool2d):
    r"""The maximum over each window, :math:`y_o = \max_{q \in W(o)} x_q`, as ``torch.nn.MaxPool2d``.

    Window :math:`W(o)` of output :math:`o = (i, j)` holds the elements
    :math:`(s_h i - p_h + d_h a,\; s_w j - p_w + d_w b)` for :math:`0 \le a < k_h`, :math:`0 \le b < k_w`.
    Padding is :math:`-\infty`, so a maximum always comes from the input. The
    output copies one input element per window, :math:`y_o = x_{a(o)}`, so
    :math:`\partial L / \partial x_q = \sum_{o:\, a(o) = q} g_o`: ``backward`` routes each output
    gradient to where its maximum came from, adding where windows overlap, and
    every other element gets 0 (at tied maxima the function has a kink; the
    gradient goes to the index torch's kernel chose).

    Args:
        kernel_size: the window :math:`(k_h, k_w)`, an int or a pair.
        stride: the step between windows. Default: ``kernel_size``.
        padding: :math:`-\infty` added on each side, at most half the kernel. Default: 0.
        dilation: the step between the elements of a window. Default: 1.
        return_indices: must be ``False``: ``forward`` returns one tensor. The indices of the
            last ``forward`` are the ``indices`` property. Default: ``False``.
        ceil_mode: round the output size up instead of down, so that a last, partial window
            counts (it must start inside the input or its left padding). Default: ``False``.

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: :math:`(N, C, H_{out}, W_{out})`,
          :math:`H_{out} = \lfloor (H + 2 p_h - d_h (k_h - 1) - 1) / s_h \rfloor + 1`
          (:math:`\lceil\cdot\rceil` in ``ceil_mode``), and likewise for :math:`W`.

    Raises:
        ValueError: for ``return_indices=True``, a padding over half the kernel, or a
            size, stride or dilation below 1.

    Example:
        >>> pool = MaxPool2d(3, 2, 1)
        >>> pool
        MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> pool(x).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
        >>> pool.indices.tolist()
        [[[[5, 7], [13, 15]]]]
        >>> pool.backward(torch.ones(1, 1, 2, 2)).sum().item()
        4.0
    """

    dilation: Final[int | tuple[int, int]]
    return_indices: Final[bool]

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)
        self.dilation = dilation
        if check_bool("MaxPool2d", "return_indices", return_indices):
            raise ValueError(
                "MaxPool2d: expected return_indices=False (forward returns one tensor; "
                "read the indices of the last forward from the indices property), got True"
            )
        self.return_indices = return_indices
        self._indices: Tensor | None = None

    @property
    def indices(self) -> Tensor:
        r"""The flat index, within its :math:`H \times W` input plane, of each maximum of the last
        ``forward``: what ``torch.nn.MaxPool2d(..., return_indices=True)`` returns (int64, the
        output's shape). Read-only; a later ``forward`` makes a new tensor and leaves this one as is.
        """
        if self._indices is None:
            raise RuntimeError(f"{self!r}: indices read before forward")
        return self._indices.squeeze(0) if self._unbatched else self._indices

    @override
    def _pool_batch(self, input: Tensor) -> Tensor:
        """The window maxima; cache the indices of the maxima."""
        output, self._indices = F.max_pool2d(
            input, self._kernel, self._stride, self._padding, self._dilation, self.ceil_mode, True
        )
        return output

    @override
    def _backward_batch(self, grad_output: Tensor, input: Tensor) -> Tensor:
        """Add each ``grad_output`` element at the position of its maximum (ATen's fused kernel)."""
        indices = self._cached(self._indices)
        k, s, p, d = self._kernel, self._stride, self._padding, self._dilation
        grad: Tensor = _aten.max_pool2d_with_indices_backward(
            grad_output, input, k, s, p, d, self.ceil_mode, indices
        )
        return grad

    @override
    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(_Pool2d):
    r"""The mean over each window, :math:`y_o = \frac{1}{D_o} \sum_{q \in \text{window}(o)} x_q`,
    as ``torch.nn.AvgPool2d``.

    Padding is zeros. The divisor :math:`D_o` is ``divisor_override`` if given;
    else, with ``count_include_pad``, the number of window elements inside the
    padded input (:math:`k_h k_w`, less only for a ``ceil_mode`` window that
    overhangs it); else the number inside the input itself. The map is linear,
    so :math:`\partial L / \partial x_q = \sum_{o:\, q \in \text{window}(o)} g_o / D_o`:
    ``backward`` spreads :math:`g_o / D_o` over the input elements of each
    window, adding where windows overlap (padding receives nothing).

    Args:
        kernel_size: the window :math:`(k_h, k_w)`, an int or a pair.
        stride: the step between windows. Default: ``kernel_size``.
        padding: zeros added on each side, at most half the kernel. Default: 0.
        ceil_mode: round the output size up instead of down, so that a last, partial window
            counts (it must start inside the input or its left padding). Default: ``False``.
        count_include_pad: count the padding's zeros in the divisor. Default: ``True``.
        divisor_override: divide every window's sum by this (>= 1) instead. Default: ``None``.

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: :math:`(N, C, H_{out}, W_{out})`,
          :math:`H_{out} = \lfloor (H + 2 p_h - k_h) / s_h \rfloor + 1`
          (:math:`\lceil\cdot\rceil` in ``ceil_mode``), and likewise for :math:`W`.

    Example:
        >>> pool = AvgPool2d(2, padding=1, count_include_pad=False)
        >>> pool
        AvgPool2d(kernel_size=2, stride=2, padding=1)
        >>> pool(torch.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])).tolist()
        [[[[1.0, 2.0], [4.0, 3.0]]]]
        >>> AvgPool2d(2, padding=1)(torch.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])).tolist()
        [[[[0.25, 0.5], [1.0, 0.75]]]]
        >>> pool = AvgPool2d(2)
        >>> pool(torch.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])).tolist()
        [[[[2.5]]]]
        >>> pool.backward(torch.tensor([[[[1.0]]]])).tolist()
        [[[[0.25, 0.25], [0.25, 0.25]]]]
    """

    count_include_pad: Final[bool]
    divisor_override: Final[int | None]

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = check_bool("AvgPool2d", "count_include_pad", count_include_pad)
        if divisor_override is not None:
            if isinstance(divisor_override, bool) or not isinstance(divisor_override, int):
                kind = type(divisor_override).__name__
                raise TypeError(f"AvgPool2d: expected divisor_override to be an int or None, got {kind}")
            if divisor_override < 1:
                raise ValueError(f"AvgPool2d: expected divisor_override >= 1, got {divisor_override}")
        self.divisor_override = divisor_override

    @override
    def _pool_batch(self, input: Tensor) -> Tensor:
        """The window means."""
        output: Tensor = F.avg_pool2d(
            input,
            self._kernel,
            self._stride,
            self._padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )
        return output

    @override
    def _backward_batch(self, grad_output: Tensor, input: Tensor) -> Tensor:
        """Spread each ``grad_output`` element divided by its window's divisor over the window."""
        grad: Tensor = _aten.avg_pool2d_backward(
            grad_output,
            input,
            self._kernel,
            self._stride,
            self._padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )
        return grad

    @override
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    r"""The mean over windows that tile the input into a fixed output size, as ``torch.nn.AdaptiveAvgPool2d``.

    Output row :math:`i` of :math:`H_{out}` averages the input rows
    :math:`[\lfloor i H / H_{out} \rfloor, \lceil (i + 1) H / H_{out} \rceil)`, and likewise
    for columns, so windows may differ in size by one and may overlap when
    :math:`H_{out}` does not divide :math:`H`. Each output is a mean over its window
    :math:`R_o`, so :math:`\partial L / \partial x_q = \sum_{o:\, q \in R_o} g_o / |R_o|`.
    ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Args:
        output_size: :math:`(H_{out}, W_{out})`, an int for both, or a pair in which ``None``
            keeps the input's size along that dimension.

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: :math:`(N, C, H_{out}, W_{out})`.

    Example:
        >>> pool = AdaptiveAvgPool2d((None, 1))
        >>> pool
        AdaptiveAvgPool2d(output_size=(None, 1))
        >>> pool(torch.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])).tolist()
        [[[[1.5], [3.5]]]]
        >>> pool.backward(torch.ones(1, 1, 2, 1)).tolist()
        [[[[0.5, 0.5], [0.5, 0.5]]]]
    """

    fresh_output = True
    fresh_grad_input = True
    output_size: Final[int | tuple[int | None, int | None] | None]

    def __init__(self, output_size: int | tuple[int | None, int | None] | None) -> None:
        super().__init__()
        sizes = output_size if isinstance(output_size, tuple | list) else (output_size, output_size)
        if len(sizes) != 2 or any(
            size is not None and (isinstance(size, bool) or not isinstance(size, int)) for size in sizes
        ):
            raise TypeError(
                "AdaptiveAvgPool2d: expected output_size to be an int, None or a pair of them, "
                f"got {output_size!r}"
            )
        if any(size is not None and size < 1 for size in sizes):
            raise ValueError(f"AdaptiveAvgPool2d: expected output_size >= 1, got {output_size!r}")
        self.output_size = output_size
        self._sizes: tuple[int | None, int | None] = (sizes[0], sizes[1])
        self._input: Tensor | None = None  # what forward was given, as a batch
        self._output_shape: torch.Size | None = None  # the shape of the output, as a batch
        self._unbatched = False  # whether forward was given one (C, H, W) sample

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the window means; cache the input (for its shape and memory format)."""
        batch, unbatched = _as_batch(self, input, (1, 1))
        height, width = self._sizes
        size = (batch.shape[2] if height is None else height, batch.shape[3] if width is None else width)
        output = F.adaptive_avg_pool2d(batch, size)
        self._input, self._output_shape, self._unbatched = batch, output.shape, unbatched
        return output.squeeze(0) if unbatched else output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Spread each ``grad_output`` element, divided by its window's size, over the window."""
        input = self._cached(self._input)
        grad_output = _grad_batch(self, grad_output, self._output_shape, self._unbatched)
        grad_input = self._backward_batch(grad_output, input)
        return grad_input.squeeze(0) if self._unbatched else grad_input

    def _backward_batch(self, grad_output: Tensor, input: Tensor) -> Tensor:
        assert self._output_shape is not None  # set together with the input
        if self._output_shape[2:] == (1, 1):
            # Global pooling is the mean: g / (H W) at every pixel, one pass in the input's memory format
            # (on channels_last, 30x faster than the adaptive kernel, and bit for bit torch's mean gradient).
            return torch.div(
                grad_output.expand(input.shape), input.shape[2] * input.shape[3], out=torch.empty_like(input)
            )
        grad: Tensor = _aten._adaptive_avg_pool2d_backward(grad_output, input)
        return grad

    @override
    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
