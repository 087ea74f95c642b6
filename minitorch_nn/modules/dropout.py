"""Dropout: random zeroing in training, the identity in evaluation; Dropout2d zeroes whole channels."""

import warnings
from typing import Final

import torch
from typing_extensions import override

from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Shape, Tensor, shape_str
from minitorch_nn.module import Module

__all__ = ["Dropout", "Dropout2d", "check_probability", "dropout_mask"]


def check_probability(owner: str, name: str, value: object) -> float:
    """``value`` if it is a number in [0, 1] (as given: a repr prints it as torch does); else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{owner}: expected {name} to be a float, got {type(value).__name__}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{owner}: expected {name} in [0, 1], got {value}")
    return value


def dropout_mask(shape: Shape, p: float, like: Tensor, generator: torch.Generator | None) -> Tensor:
    """A 0/1 mask of ``shape`` that keeps each element with probability ``1 - p``, scaled by
    :math:`1/(1-p)` (all zeros for ``p = 1``), in ``like``'s dtype and on its device.

    A generator draws on its own device: a CPU generator gives a CUDA model the same masks it gives
    the CPU one (at the cost of a copy); torch would refuse to mix the two.
    """
    device = like.device if generator is None else generator.device
    keep = torch.rand(shape, generator=generator, device=device, dtype=like.dtype).to(like.device)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return (keep >= p).to(like.dtype).mul_(scale)


class Dropout(Module):
    r"""Zero each element with probability ``p`` in training and scale the rest by :math:`1/(1-p)`.

    Each training ``forward`` draws a fresh mask; ``backward`` multiplies by
    that same mask. After ``eval()`` the module is the identity.

    Args:
        p: the probability of zeroing an element, in [0, 1]. Default: 0.5.
        inplace: accepted for torch's sake; the result is the same, but the input is not
            overwritten: ``forward`` returns a new tensor (the module contract). Inside a
            ``Sequential`` the mask is applied in place anyway to the tensors the container owns
            (``forward_``). Default: ``False``.
        generator: random generator for the masks, on any device (a CPU generator gives the
            same masks whatever the input's device). Default: torch's global one.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> dropout = Dropout(0.5, generator=torch.Generator().manual_seed(0))
        >>> dropout(torch.ones(8)).tolist()
        [0.0, 2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 2.0]
        >>> dropout.backward(torch.ones(8)).tolist()
        [0.0, 2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 2.0]
        >>> dropout.eval()(torch.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    p: Final[float]
    inplace: Final[bool]

    def __init__(
        self, p: float = 0.5, inplace: bool = False, *, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.p = check_probability(name, "p", p)
        check_bool(name, "inplace", inplace)
        self.inplace = inplace
        self.generator = generator
        self._mask: Tensor | None = None
        self._shape: torch.Size | None = None

    def _check_input(self, input: Tensor) -> None:
        self._check_floating(input)

    def _mask_shape(self, input: Tensor) -> Shape:
        """The shape of the mask, broadcast over ``input``: one draw per element."""
        return tuple(input.shape)

    def _draw(self, input: Tensor) -> Tensor | None:
        """Check ``input``; in training, draw and cache a scaled 0/1 mask and return it, else ``None``."""
        self._check_input(input)
        self._shape = input.shape
        if not self.training or self.p == 0.0:
            self._mask = None
            return None
        self._mask = dropout_mask(self._mask_shape(input), self.p, input, self.generator)
        return self._mask

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Training: draw and cache a scaled 0/1 mask, return ``input * mask``. Else return ``input``."""
        mask = self._draw(input)
        return input if mask is None else input * mask

    @override
    def forward_(self, input: Tensor) -> Tensor:
        """As ``forward``, multiplying ``input`` (which the caller owns) by the mask in place."""
        mask = self._draw(input)
        return input if mask is None else input.mul_(mask)

    def _check_grad(self, grad_output: Tensor) -> None:
        if self._shape is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        self._check_grad_output(grad_output, self._shape)

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return ``grad_output`` times the mask of the last ``forward`` (itself in evaluation)."""
        self._check_grad(grad_output)
        return grad_output if self._mask is None else grad_output * self._mask

    @override
    def backward_(self, grad_output: Tensor) -> Tensor:
        """As ``backward``, multiplying ``grad_output`` (which the caller owns) by the mask in place."""
        self._check_grad(grad_output)
        return grad_output if self._mask is None else grad_output.mul_(self._mask)

    @override
    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    r"""Zero each channel with probability ``p`` in training and scale the rest by :math:`1/(1-p)`,
    as ``torch.nn.Dropout2d``.

    One Bernoulli draw per :math:`(n, c)`: the mask :math:`m_{n,c} = [u_{n,c} \ge p] / (1 - p)`,
    :math:`u_{n,c} \sim U(0, 1)`, multiplies the whole :math:`H \times W` plane, so
    :math:`y_{n,c,h,w} = m_{n,c}\, x_{n,c,h,w}` and
    :math:`\partial L / \partial x_{n,c,h,w} = m_{n,c}\, g_{n,c,h,w}`.
    For feature maps whose neighbouring pixels are correlated, zeroing single
    pixels regularises little; zeroing channels does. After ``eval()`` the
    module is the identity.

    Args:
        p: the probability of zeroing a channel, in [0, 1]. Default: 0.5.
        inplace: accepted for torch's sake; the result is the same, but the input is not
            overwritten, as for ``Dropout``. Default: ``False``.
        generator: random generator for the masks, as for ``Dropout``. Default: torch's global one.

    Shape:
        - Input: :math:`(N, C, H, W)`; or :math:`(N, C, L)`, which ``torch.nn.Dropout2d`` takes
          (with a warning, repeated here) as channels of length :math:`L`, one draw per
          :math:`(n, c)`, not as one unbatched :math:`(C, H, W)` sample.
        - Output: the shape of the input.

    Example:
        >>> dropout = Dropout2d(0.5, generator=torch.Generator().manual_seed(0))
        >>> dropout
        Dropout2d(p=0.5, inplace=False)
        >>> dropout(torch.ones(1, 4, 1, 2)).tolist()
        [[[[0.0, 0.0]], [[2.0, 2.0]], [[0.0, 0.0]], [[0.0, 0.0]]]]
        >>> dropout.backward(torch.ones(1, 4, 1, 2)).tolist()
        [[[[0.0, 0.0]], [[2.0, 2.0]], [[0.0, 0.0]], [[0.0, 0.0]]]]
    """

    @override
    def _check_input(self, input: Tensor) -> None:
        self._check_floating(input)
        if input.dim() not in (3, 4):
            raise ValueError(
                f"{self!r}: expected input of shape (N, C, H, W) or (N, C, L), got {shape_str(input)}"
            )
        if input.dim() == 3:
            warnings.warn(
                f"{self!r}: a 3-D input is taken as (N, C, L), one draw per (n, c), as torch.nn.Dropout2d "
                "does, not as one unbatched (C, H, W) sample; for 1-D channel dropout torch has Dropout1d",
                UserWarning,
                stacklevel=3,
            )

    @override
    def _mask_shape(self, input: Tensor) -> Shape:
        """One draw per (sample, channel), broadcast over the rest: ``(N, C, 1, 1)`` or ``(N, C, 1)``."""
        return (input.shape[0], input.shape[1], *(1,) * (input.dim() - 2))
