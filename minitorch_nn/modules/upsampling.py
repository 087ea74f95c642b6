"""Upsampling: Upsample, nearest-neighbour or bilinear, to a size or by a scale factor."""

import math
from typing import Final, Literal

import torch
import torch.nn.functional as F
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.modules.pooling import as_pair

__all__ = ["Upsample"]

_aten = torch.ops.aten
_MODES = ("nearest", "nearest-exact", "bilinear")

UpsampleMode = Literal["nearest", "nearest-exact", "bilinear"]


def _scale_pair(value: object) -> tuple[float, float]:
    """``scale_factor`` as a pair of positive finite floats, from a number or a pair."""
    values = value if isinstance(value, tuple | list) else (value, value)
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        raise TypeError(f"Upsample: expected scale_factor to be a number or a pair of numbers, got {value!r}")
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"Upsample: expected scale_factor > 0 and finite, got {value!r}")
    return float(values[0]), float(values[1])


def _optional_bool(name: str, value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"Upsample: expected {name} to be a bool or None, got {type(value).__name__}")
    return value


class Upsample(Module):
    r"""Resize each :math:`H \times W` plane, nearest-neighbour or bilinear, as ``torch.nn.Upsample``.

    ``forward`` is ``torch.nn.functional.interpolate``. Both modes are linear
    maps, :math:`y = A x` per plane, so :math:`\partial L / \partial x = A^T g`. In
    ``'nearest'`` mode output :math:`(i, j)` copies input
    :math:`(\lfloor i / s_h \rfloor, \lfloor j / s_w \rfloor)` (``'nearest-exact'``:
    :math:`\lfloor (i + \frac12) / s_h \rfloor`), so each input element receives the sum of
    :math:`g` over the block of outputs that copied it. In ``'bilinear'`` mode
    each output is a weighted sum of up to four inputs; the gradient spreads
    :math:`g` back to those inputs with the same weights, :math:`A^T g`. ``backward``
    runs ATen's fused derivative kernels with the scales ``interpolate`` used, so
    it matches torch's autograd for non-integer scale factors too.

    Args:
        size: the output size :math:`(H_{out}, W_{out})`, an int or a pair. Default: ``None``.
        scale_factor: :math:`(s_h, s_w)`, a positive number or a pair; the output size is
            :math:`\lfloor H s_h \rfloor \times \lfloor W s_w \rfloor`. Give exactly one of
            ``size`` and ``scale_factor``. Default: ``None``.
        mode: ``'nearest'``, ``'nearest-exact'`` or ``'bilinear'``. Default: ``'nearest'``.
        align_corners: bilinear only: map the corner pixels of input and output onto each
            other (``True``) instead of their outer edges (``None`` or ``False``). Default: ``None``.
        recompute_scale_factor: with ``scale_factor``: interpolate with the ratio of the
            output size to the input size instead of the given factor. Default: ``None``.

    Shape:
        - Input: :math:`(N, C, H, W)`. A 3-D input is refused: ``torch.nn.Upsample`` takes it as
          :math:`(N, C, L)` and resamples in 1-D, not as one unbatched :math:`(C, H, W)` sample.
        - Output: :math:`(N, C, H_{out}, W_{out})`.

    Example:
        >>> up = Upsample(scale_factor=2)
        >>> up
        Upsample(scale_factor=2.0, mode='nearest')
        >>> up(torch.tensor([[[[1.0, 2.0]]]])).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
        >>> up.backward(torch.ones(1, 1, 2, 4)).tolist()
        [[[[4.0, 4.0]]]]
        >>> bilinear = Upsample(size=(1, 3), mode="bilinear", align_corners=True)
        >>> bilinear(torch.tensor([[[[0.0, 1.0]]]])).tolist()
        [[[[0.0, 0.5, 1.0]]]]
    """

    fresh_output = True
    fresh_grad_input = True
    size: Final[int | tuple[int, int] | None]
    scale_factor: Final[float | tuple[float, float] | None]
    mode: Final[str]
    align_corners: Final[bool | None]
    recompute_scale_factor: Final[bool | None]

    def __init__(
        self,
        size: int | tuple[int, int] | None = None,
        scale_factor: float | tuple[float, float] | None = None,
        mode: UpsampleMode = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            given = "both" if size is not None else "neither"
            raise ValueError(f"Upsample: expected exactly one of size and scale_factor, got {given}")
        self._size = None if size is None else as_pair("Upsample", "size", size)
        self._scales = None if scale_factor is None else _scale_pair(scale_factor)
        if not isinstance(mode, str):
            raise TypeError(f"Upsample: expected mode to be a str, got {type(mode).__name__}")
        if mode not in _MODES:
            raise ValueError(
                f"Upsample: expected mode 'nearest', 'nearest-exact' or 'bilinear', got {mode!r}"
            )
        if _optional_bool("align_corners", align_corners) is not None and mode != "bilinear":
            raise ValueError(
                f"Upsample: expected align_corners=None with mode={mode!r} (it applies to 'bilinear'), "
                f"got {align_corners}"
            )
        if _optional_bool("recompute_scale_factor", recompute_scale_factor) and size is not None:
            raise ValueError(
                "Upsample: expected recompute_scale_factor None or False with an explicit size, got True"
            )
        self.size = size
        # As torch stores it: a float, or a pair of floats.
        pair = isinstance(scale_factor, tuple | list)
        self.scale_factor = None if self._scales is None else self._scales if pair else self._scales[0]
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor
        self._input_shape: torch.Size | None = None
        self._output_hw: tuple[int, int] = (0, 0)
        self._channels_last = False

    def _output_size(self, input: Tensor) -> tuple[int, int]:
        """The output's height and width for ``input``, as ``interpolate`` computes them."""
        if self._size is not None:
            return self._size
        assert self._scales is not None  # one of the two is set
        return int(input.shape[2] * self._scales[0]), int(input.shape[3] * self._scales[1])

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the resized input; cache the input's shape and memory format and the output size."""
        self._check_floating(input)
        if input.dim() != 4:
            why = (
                " (torch.nn.Upsample takes a 3-D input as (N, C, L) and resamples it along L, a 1-D "
                "resampling this module does not do)"
                if input.dim() == 3
                else ""
            )
            raise ValueError(f"{self!r}: expected input of shape (N, C, H, W), got {shape_str(input)}{why}")
        out_h, out_w = self._output_size(input)
        if out_h < 1 or out_w < 1 or min(input.shape[1:]) < 1:
            raise ValueError(
                f"{self!r}: expected input of shape (N, C, H, W) with C, H, W >= 1 and an output of at "
                f"least (1, 1), got {shape_str(input)}, whose output is {(out_h, out_w)}"
            )
        output = F.interpolate(
            input, self.size, self.scale_factor, self.mode, self.align_corners, self.recompute_scale_factor
        )
        self._input_shape, self._output_hw = input.shape, (out_h, out_w)
        self._channels_last = (
            input.is_contiguous(memory_format=torch.channels_last) and not input.is_contiguous()
        )
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return :math:`A^T g`: ATen's derivative kernel of the mode, with the forward's scales."""
        if self._input_shape is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        shape = self._input_shape
        self._check_grad_output(grad_output, (shape[0], shape[1], *self._output_hw))
        # interpolate hands the kernel the given factors, or none when it used a size (given or recomputed).
        scales = (None, None) if self._scales is None or self.recompute_scale_factor else self._scales
        out, size = list(self._output_hw), list(shape)
        if self.mode == "bilinear":
            grad: Tensor = _aten.upsample_bilinear2d_backward(
                grad_output, out, size, bool(self.align_corners), *scales
            )
        elif self.mode == "nearest":
            grad = _aten.upsample_nearest2d_backward(grad_output, out, size, *scales)
        else:
            grad = _aten._upsample_nearest_exact2d_backward(grad_output, out, size, *scales)
        # The kernels follow grad_output's memory format; a channels_last input gets a channels_last gradient.
        if self._channels_last:
            grad = grad.contiguous(memory_format=torch.channels_last)
        return grad

    @override
    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"
