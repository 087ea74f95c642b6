"""Convolution: Conv2d and its adjoint ConvTranspose2d; both backward passes are ATen's fused
``convolution_backward`` kernel."""

from collections.abc import Iterable
from typing import Final

import torch
import torch.nn.functional as F
from typing_extensions import override

from minitorch_nn import init
from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.modules.linear import check_size, default_parameters
from minitorch_nn.parameter import Parameter

__all__ = ["Conv2d", "ConvTranspose2d", "pair"]

PADDING_MODES: Final = ("zeros", "reflect", "replicate", "circular")
# Explicit padding, as F.pad takes it: (left, right, top, bottom).
Pad = tuple[int, int, int, int]


def pair(owner: str, name: str, value: int | tuple[int, int], minimum: int = 1) -> tuple[int, int]:
    """``value`` as a pair of ints >= ``minimum``, from an int or a 2-tuple."""
    values = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, Iterable) else ()
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise TypeError(f"{owner}: expected {name} to be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{owner}: expected {name} >= {minimum}, got {value!r}")
    return values[0], values[1]


def _groups(owner: str, groups: object, in_channels: int, out_channels: int) -> int:
    """``groups`` after checking that it divides both channel counts."""
    groups = check_size(owner, "groups", groups)
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(f"{owner}: expected {name} divisible by groups={groups}, got {name}={channels}")
    return groups


def _padding_mode(owner: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{owner}: expected padding_mode to be a str, got {type(value).__name__}")
    if value not in allowed:
        expected = repr(allowed[0]) if len(allowed) == 1 else f"in {allowed}"
        raise ValueError(f"{owner}: expected padding_mode {expected}, got {value!r}")
    return value


def _conv_padding(value: str | int | tuple[int, int], stride: tuple[int, int]) -> tuple[int, int] | str:
    """Conv2d's ``padding``: ``"same"`` (stride 1 only, as torch), ``"valid"``, an int or a pair."""
    if isinstance(value, str):
        if value not in ("same", "valid"):
            raise ValueError(
                f"Conv2d: expected padding 'same', 'valid', an int or a pair of ints, got {value!r}"
            )
        if value == "same" and stride != (1, 1):
            raise ValueError(f"Conv2d: expected stride 1 with padding='same' (as torch), got stride={stride}")
        return value
    return pair("Conv2d", "padding", value, minimum=0)


def _memory_format(tensor: Tensor) -> torch.memory_format:
    """``torch.channels_last`` for a 4-D tensor laid out so (and not also contiguous), else contiguous."""
    if not tensor.is_contiguous() and tensor.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


def _fold_circular(grad: Tensor, pad: Pad) -> Tensor:
    """The adjoint of circular padding: each border of ``grad`` is added back onto the rows (columns)
    it copied, the top border onto the last ``top`` rows, the bottom border onto the first rows."""
    left, right, top, bottom = pad
    height, width = grad.shape[2] - top - bottom, grad.shape[3] - left - right
    layout = _memory_format(grad)
    rows = grad[:, :, top : top + height].clone(memory_format=layout)
    rows[:, :, height - top :] += grad[:, :, :top]
    rows[:, :, :bottom] += grad[:, :, top + height :]
    folded = rows[:, :, :, left : left + width].clone(memory_format=layout)
    folded[:, :, :, width - left :] += rows[:, :, :, :left]
    folded[:, :, :, :right] += rows[:, :, :, left + width :]
    return folded


def _convolution_backward(
    module: "Conv2d | ConvTranspose2d",
    grad_output: Tensor,
    input: Tensor,
    padding: tuple[int, int],
    output_padding: tuple[int, int] | None,
    input_grad: bool,
) -> Tensor | None:
    """Add the weight and bias gradients of ``module`` (a transposed convolution if ``output_padding``
    is given) with ATen's fused kernel; return the input gradient if ``input_grad``, else ``None``."""
    has_bias = module.bias is not None
    grads: tuple[Tensor | None, Tensor, Tensor | None] = torch.ops.aten.convolution_backward(
        grad_output,
        input,
        module.weight.value,
        [module.out_channels] if has_bias else None,
        module.stride,
        padding,
        module.dilation,
        output_padding is not None,  # transposed
        output_padding or (0, 0),
        module.groups,
        [input_grad, True, has_bias],
    )
    grad_input, grad_weight, grad_bias = grads
    module.weight.grad.add_(grad_weight)
    if module.bias is not None and grad_bias is not None:
        module.bias.grad.add_(grad_bias)
    return grad_input


def _unpad(grad: Tensor, input: Tensor, pad: Pad, padding_mode: str) -> Tensor:
    """The adjoint of ``F.pad(input, pad)`` in ``padding_mode`` applied to ``grad``: the gradient of each
    padded pixel is added onto the pixel it copied (zeros copy nothing: their gradient is dropped)."""
    left, right, top, bottom = pad
    result: Tensor
    if padding_mode == "zeros":
        result = torch.ops.aten.constant_pad_nd(grad, [-left, -right, -top, -bottom])
    elif padding_mode == "reflect":
        result = torch.ops.aten.reflection_pad2d_backward(grad, input, list(pad))
    elif padding_mode == "replicate":
        result = torch.ops.aten.replication_pad2d_backward(grad, input, list(pad))
    else:
        result = _fold_circular(grad, pad)
    return result


def _as_batch(module: "Conv2d | ConvTranspose2d", input: Tensor) -> tuple[Tensor, bool]:
    """``input`` as an :math:`(N, C, H, W)` batch (an unbatched :math:`(C, H, W)` one as a batch of one,
    a view), and whether it came unbatched; raise unless it is either, with ``in_channels`` channels."""
    module._check_floating(input)
    channels = module.in_channels
    if input.dim() not in (3, 4) or input.shape[-3] != channels:
        raise ValueError(
            f"{module!r}: expected input of shape (N, {channels}, H, W) or ({channels}, H, W), "
            f"got {shape_str(input)}"
        )
    if min(input.shape[-2:]) < 1:
        raise ValueError(
            f"{module!r}: expected H, W >= 1 (an empty batch is taken, as torch takes it, but no other "
            f"empty dimension), got input of shape {shape_str(input)}"
        )
    module._check_like(input, module.weight.value)
    return (input, False) if input.dim() == 4 else (input.unsqueeze(0), True)


def _grad_batch(module: "Conv2d | ConvTranspose2d", grad_output: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``grad_output`` checked against the last output's batched ``shape`` (without its batch dimension
    if the input came unbatched), as a batch."""
    if module._unbatched:
        module._check_grad_output(grad_output, shape[1:])
        return grad_output.unsqueeze(0)
    module._check_grad_output(grad_output, shape)
    return grad_output


def _extra_repr(module: "Conv2d | ConvTranspose2d", output_padding: tuple[int, int] = (0, 0)) -> str:
    """What torch's ``_ConvNd.extra_repr`` prints: settings left at their defaults are omitted."""
    text = f"{module.in_channels}, {module.out_channels}, kernel_size={module.kernel_size}"
    text += f", stride={module.stride}"
    if module.padding != (0, 0):
        text += f", padding={module.padding}"
    if module.dilation != (1, 1):
        text += f", dilation={module.dilation}"
    if output_padding != (0, 0):
        text += f", output_padding={output_padding}"
    if module.groups != 1:
        text += f", groups={module.groups}"
    if module.bias is None:
        text += ", bias=False"
    if module.padding_mode != "zeros":
        text += f", padding_mode={module.padding_mode}"
    return text


class Conv2d(Module):
    r"""2-D cross-correlation :math:`y_{n,o} = b_o + \sum_c W_{o,c} \star x_{n,c}`, as ``torch.nn.Conv2d``.

    ``forward`` runs torch's convolution kernel and caches the input. ``backward`` differentiates the
    per-sample matrix product :math:`Y_n = \tilde W P_n + b`, with :math:`P = \operatorname{unfold}(x)`
    the patches as columns (im2col): the weight gradient is :math:`\sum_n G_n P_n^T`, which written
    out is :math:`\partial L / \partial W_{o,c,i,j} = \sum_{n,p,q} G_{n,o,p,q}
    x_{n,c,s p + d i,s q + d j}`, a correlation of the input with the output gradient :math:`G`; the
    bias gradient is :math:`\sum_{n,p,q} G_{n,o,p,q}`; and the input gradient is
    :math:`\operatorname{fold}(\tilde W^T G)`, the transposed convolution of :math:`G` with
    :math:`W` (the adjoint of the forward map). ATen's fused ``convolution_backward`` kernel computes
    those sums without materialising :math:`P`. With ``groups`` :math:`g`, each of the :math:`g`
    channel groups is convolved with its own :math:`O/g` filters, and the sums run within a group.

    A ``padding_mode`` other than ``'zeros'`` pads explicitly (``F.pad``) and convolves with no
    padding; ``backward`` then applies the adjoint of that padding to the input gradient: each padded
    pixel's gradient is added onto the pixel it copied (ATen's ``reflection_pad2d_backward`` and
    ``replication_pad2d_backward``; the wrapped borders folded back for ``'circular'``).

    Args:
        in_channels: channels of the input, :math:`C`.
        out_channels: channels of the output, :math:`O`.
        kernel_size: :math:`(k_h, k_w)`, or one int for both.
        stride: step between patches, an int or a pair. Default: 1.
        padding: added on each side, an int or a pair; or ``'valid'`` (none), or ``'same'`` (an
            output the size of the input; stride 1 only; an odd total :math:`d (k - 1)` puts the
            extra row and column at the bottom and right, as torch does). Default: 0.
        dilation: spacing between kernel taps, an int or a pair. Default: 1.
        groups: channel groups, dividing both ``in_channels`` and ``out_channels``. Default: 1.
        bias: learn an additive bias per output channel. Default: ``True``.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``. Default: ``'zeros'``.
        generator: random generator for the initial values. Default: torch's global one.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(N, C, H, W)`, contiguous or ``torch.channels_last`` (kept so, in the output
          and in the input gradient), or one unbatched sample :math:`(C, H, W)`.
        - Output: :math:`(N, O, H_{out}, W_{out})`, or :math:`(O, H_{out}, W_{out})` for an unbatched
          input (whose input gradient is unbatched too), with
          :math:`H_{out} = \lfloor (H + 2 p_h - d_h (k_h - 1) - 1) / s_h \rfloor + 1`, and likewise
          for :math:`W`.

    Attributes:
        weight: ``Parameter`` of shape ``(out_channels, in_channels / groups, kh, kw)``, drawn from
            :math:`U(-k, k)` with :math:`k = 1/\sqrt{(C / g) k_h k_w}`, as torch does.
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
        >>> Conv2d(4, 8, 2, padding="same", groups=2, padding_mode="reflect")
        Conv2d(4, 8, kernel_size=(2, 2), stride=(1, 1), padding=same, groups=2, padding_mode=reflect)
    """

    fresh_output = True
    fresh_grad_input = True
    in_channels: Final[int]
    out_channels: Final[int]
    kernel_size: Final[tuple[int, int]]
    stride: Final[tuple[int, int]]
    padding: Final[tuple[int, int] | str]
    dilation: Final[tuple[int, int]]
    groups: Final[int]
    padding_mode: Final[str]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: str | int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
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
        self.padding = _conv_padding(padding, self.stride)
        self.dilation = pair("Conv2d", "dilation", dilation)
        self.groups = _groups("Conv2d", groups, in_channels, out_channels)
        self.padding_mode = _padding_mode("Conv2d", padding_mode, PADDING_MODES)
        self._pad, self._kernel_padding = self._paddings()
        self.weight, self.bias = default_parameters(
            (out_channels, in_channels // groups, *self.kernel_size),
            check_bool("Conv2d", "bias", bias),
            generator=generator,
            device=device,
            dtype=dtype,
        )
        self._input: Tensor | None = None  # what forward was given, as a batch
        self._unbatched = False  # whether forward was given one (C, H, W) sample
        self._padded: Tensor | None = (
            None  # what the kernel convolved: the input, padded explicitly if need be
        )

    def _paddings(self) -> tuple[Pad | None, tuple[int, int]]:
        """The explicit padding ``forward`` applies with ``F.pad`` (or ``None``), and the kernel's."""
        if self.padding == "same":  # total d (k - 1) per dimension, the odd one out at the end
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size, strict=True)]
            before, after = (
                (totals[0] // 2, totals[1] // 2),
                (totals[0] - totals[0] // 2, totals[1] - totals[1] // 2),
            )
        elif isinstance(self.padding, tuple):
            before = after = self.padding
        else:
            before = after = (0, 0)
        if self.padding_mode == "zeros":
            if before == after:
                return None, before
            # As torch's kernel does: pad the extra bottom row and right column, the rest in the kernel.
            return (0, after[1] - before[1], 0, after[0] - before[0]), before
        if before == after == (0, 0):
            return None, (0, 0)
        return (before[1], after[1], before[0], after[0]), (0, 0)

    def _check_input(self, input: Tensor) -> None:
        """Raise unless the batch ``input`` is large enough for the padding and the kernel."""
        if self._pad is not None and self.padding_mode in ("reflect", "circular"):
            left, right, top, bottom = self._pad
            most = (max(top, bottom), max(left, right))
            limit = (most[0] + 1, most[1] + 1) if self.padding_mode == "reflect" else most
            if input.shape[2] < limit[0] or input.shape[3] < limit[1]:
                raise ValueError(
                    f"{self!r}: expected H, W >= {limit} for padding_mode={self.padding_mode!r}, "
                    f"got input of shape {shape_str(input)}"
                )
        pad = self._pad or (0, 0, 0, 0)
        padded = (
            input.shape[2] + pad[2] + pad[3] + 2 * self._kernel_padding[0],
            input.shape[3] + pad[0] + pad[1] + 2 * self._kernel_padding[1],
        )
        extent = tuple(d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel_size, strict=True))
        if padded[0] < extent[0] or padded[1] < extent[1]:
            raise ValueError(f"{self!r}: expected padded input of at least {extent}, got {padded}")

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the convolution of ``input``; cache ``input`` (not a copy), and its padded copy if
        the padding is explicit, for ``backward``."""
        input, unbatched = _as_batch(self, input)
        self._check_input(input)
        padded = input
        if self._pad is not None:
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            padded = F.pad(input, self._pad, mode=mode).contiguous(memory_format=_memory_format(input))
        self._input, self._padded, self._unbatched = input, padded, unbatched
        bias = None if self.bias is None else self.bias.value
        output = F.conv2d(
            padded, self.weight.value, bias, self.stride, self._kernel_padding, self.dilation, self.groups
        )
        return output.squeeze(0) if unbatched else output

    def _gradients(self, grad_output: Tensor, input_grad: bool) -> Tensor | None:
        """Add the weight and bias gradients; return the gradient of the padded input if asked."""
        padded = self._cached(self._padded)
        n, _, height, width = padded.shape
        sizes = zip(
            (height, width), self._kernel_padding, self.dilation, self.kernel_size, self.stride, strict=True
        )
        out = [(size + 2 * p - d * (k - 1) - 1) // s + 1 for size, p, d, k, s in sizes]
        grad_output = _grad_batch(self, grad_output, (n, self.out_channels, *out))
        return _convolution_backward(self, grad_output, padded, self._kernel_padding, None, input_grad)

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Add the weight and bias gradients; return the input gradient, the transposed convolution of
        ``grad_output`` with ``weight`` (through the adjoint of the explicit padding, if any)."""
        grad_padded = self._gradients(grad_output, input_grad=True)
        assert grad_padded is not None
        grad_input = grad_padded
        if self._pad is not None:
            grad_input = _unpad(grad_padded, self._cached(self._input), self._pad, self.padding_mode)
        return grad_input.squeeze(0) if self._unbatched else grad_input

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Add to ``weight.grad`` the correlation of the input with ``grad_output``, and to ``bias.grad``
        the sums of ``grad_output`` over N, H and W; skip the input gradient."""
        self._gradients(grad_output, input_grad=False)

    @override
    def extra_repr(self) -> str:
        return _extra_repr(self)


class ConvTranspose2d(Module):
    r"""2-D transposed convolution, the adjoint of :class:`Conv2d`'s map, as ``torch.nn.ConvTranspose2d``.

    Each input pixel scatters a copy of the kernel, scaled by its value, onto the output at stride
    :math:`s`: :math:`y_{n,o,s p + d i - p_h,\,s q + d j - p_w} \mathrel{+}= \sum_c x_{n,c,p,q}
    W_{c,o,i,j}`, plus :math:`b_o`. As a linear map of :math:`x` it is the transpose of a
    ``Conv2d`` with the same weight, stride, padding and dilation (mapping :math:`O` channels to
    :math:`C`). So ``backward`` swaps the two: the input gradient is the ordinary convolution of
    :math:`G` with the same weight, :math:`\partial L / \partial x_{n,c,p,q} = \sum_{o,i,j}
    W_{c,o,i,j} G_{n,o,s p + d i - p_h,\,s q + d j - p_w}`, and the weight gradient is the same
    correlation with the roles of input and output gradient swapped, :math:`\partial L / \partial
    W_{c,o,i,j} = \sum_{n,p,q} x_{n,c,p,q} G_{n,o,s p + d i - p_h,\,s q + d j - p_w}`. ATen's fused
    ``convolution_backward`` kernel (``transposed=True``) computes both.

    torch's ``forward(input, output_size)`` picks an output size among those a stride allows;
    ``forward`` here takes only the input: give ``output_padding`` instead.

    Args:
        in_channels: channels of the input, :math:`C`.
        out_channels: channels of the output, :math:`O`.
        kernel_size: :math:`(k_h, k_w)`, or one int for both.
        stride: step between the scattered kernels, an int or a pair. Default: 1.
        padding: :math:`d (k - 1) - p` zeros are added to each side of the equivalent convolution's
            input, i.e. :math:`p` rows and columns are cropped from each side of the output; an int or
            a pair. Default: 0.
        output_padding: rows and columns added to the bottom and right of the output, smaller than
            ``stride`` or ``dilation``, an int or a pair. Default: 0.
        groups: channel groups, dividing both ``in_channels`` and ``out_channels``. Default: 1.
        bias: learn an additive bias per output channel. Default: ``True``.
        dilation: spacing between kernel taps, an int or a pair. Default: 1.
        padding_mode: only ``'zeros'``, as torch. Default: ``'zeros'``.
        generator: random generator for the initial values. Default: torch's global one.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(N, C, H, W)`, contiguous or ``torch.channels_last``, or one unbatched sample
          :math:`(C, H, W)`.
        - Output: :math:`(N, O, H_{out}, W_{out})`, or :math:`(O, H_{out}, W_{out})` for an unbatched
          input, with
          :math:`H_{out} = (H - 1) s_h - 2 p_h + d_h (k_h - 1) + \text{output\_padding}_h + 1`, and
          likewise for :math:`W`.

    Attributes:
        weight: ``Parameter`` of shape ``(in_channels, out_channels / groups, kh, kw)``, drawn from
            :math:`U(-k, k)` with :math:`k = 1/\sqrt{(O / g) k_h k_w}`, as torch does (its fan-in is
            computed from the weight's second dimension).
        bias: ``Parameter`` of shape ``(out_channels,)``, from the same distribution, or ``None``.

    Example:
        >>> up = ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1,
        ...                      generator=torch.Generator().manual_seed(0))
        >>> up
        ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))
        >>> up(torch.zeros(8, 4, 14, 14)).shape
        torch.Size([8, 2, 28, 28])
        >>> up.backward(torch.ones(8, 2, 28, 28)).shape
        torch.Size([8, 4, 14, 14])
        >>> up.bias.grad.tolist()
        [6272.0, 6272.0]
    """

    fresh_output = True
    fresh_grad_input = True
    in_channels: Final[int]
    out_channels: Final[int]
    kernel_size: Final[tuple[int, int]]
    stride: Final[tuple[int, int]]
    padding: Final[tuple[int, int]]
    output_padding: Final[tuple[int, int]]
    groups: Final[int]
    dilation: Final[tuple[int, int]]
    padding_mode: Final[str]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: str = "zeros",
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        name = "ConvTranspose2d"
        self.in_channels = check_size(name, "in_channels", in_channels)
        self.out_channels = check_size(name, "out_channels", out_channels)
        self.kernel_size = pair(name, "kernel_size", kernel_size)
        self.stride = pair(name, "stride", stride)
        self.padding = pair(name, "padding", padding, minimum=0)
        self.output_padding = pair(name, "output_padding", output_padding, minimum=0)
        self.groups = _groups(name, groups, in_channels, out_channels)
        self.dilation = pair(name, "dilation", dilation)
        self.padding_mode = _padding_mode(name, padding_mode, ("zeros",))
        limits = zip(self.output_padding, self.stride, self.dilation, strict=True)
        if any(extra >= max(s, d) for extra, s, d in limits):
            raise ValueError(
                f"{name}: expected output_padding smaller than stride or dilation, got "
                f"output_padding={self.output_padding}, stride={self.stride}, dilation={self.dilation}"
            )
        self.weight, self.bias = self._parameters(
            check_bool(name, "bias", bias), generator=generator, device=device, dtype=dtype
        )
        self._input: Tensor | None = None  # what forward was given, as a batch
        self._unbatched = False  # whether forward was given one (C, H, W) sample

    def _parameters(
        self,
        bias: bool,
        *,
        generator: torch.Generator | None,
        device: torch.device | str | None,
        dtype: torch.dtype | None,
    ) -> tuple[Parameter, Parameter | None]:
        """Weight then bias from U(-k, k), k = 1/sqrt(fan_in), fan_in = weight.size(1) * kh * kw, as torch."""
        shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        bound = (shape[1] * shape[2] * shape[3]) ** -0.5
        weight = torch.empty(shape, device=device, dtype=dtype)
        init.uniform_(weight, -bound, bound, generator=generator)
        if not bias:
            return Parameter(weight), None
        values = torch.empty(self.out_channels, device=device, dtype=dtype)
        return Parameter(weight), Parameter(init.uniform_(values, -bound, bound, generator=generator))

    def _output_size(self, height: int, width: int) -> tuple[int, int]:
        """(H_out, W_out) for an input of ``height`` x ``width``."""
        (sh, sw), (ph, pw), (dh, dw) = self.stride, self.padding, self.dilation
        (kh, kw), (eh, ew) = self.kernel_size, self.output_padding
        return (height - 1) * sh - 2 * ph + dh * (kh - 1) + eh + 1, (width - 1) * sw - 2 * pw + dw * (
            kw - 1
        ) + ew + 1

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the transposed convolution of ``input``; cache ``input`` (not a copy) for ``backward``."""
        input, unbatched = _as_batch(self, input)
        size = self._output_size(input.shape[2], input.shape[3])
        if min(size) < 1:
            raise ValueError(
                f"{self!r}: expected an output size >= (1, 1), got {size} for input {shape_str(input)}"
            )
        self._input, self._unbatched = input, unbatched
        bias = None if self.bias is None else self.bias.value
        output = F.conv_transpose2d(
            input,
            self.weight.value,
            bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )
        return output.squeeze(0) if unbatched else output

    def _gradients(self, grad_output: Tensor, input_grad: bool) -> Tensor | None:
        """Add the weight and bias gradients; return the input gradient if asked."""
        input = self._cached(self._input)
        size = self._output_size(input.shape[2], input.shape[3])
        grad_output = _grad_batch(self, grad_output, (input.shape[0], self.out_channels, *size))
        return _convolution_backward(self, grad_output, input, self.padding, self.output_padding, input_grad)

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Add the weight and bias gradients; return the input gradient, the convolution of
        ``grad_output`` with ``weight``."""
        grad_input = self._gradients(grad_output, input_grad=True)
        assert grad_input is not None
        return grad_input.squeeze(0) if self._unbatched else grad_input

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Add to ``weight.grad`` the correlation of ``grad_output`` with the input, and to ``bias.grad``
        the sums of ``grad_output`` over N, H and W; skip the input gradient."""
        self._gradients(grad_output, input_grad=False)

    @override
    def extra_repr(self) -> str:
        return _extra_repr(self, self.output_padding)
