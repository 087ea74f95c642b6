"""Dropout: random zeroing in training, the identity in evaluation."""

from typing import Final

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor
from minitorch_nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    r"""Zero each element with probability ``p`` in training and scale the rest by :math:`1/(1-p)`.

    Each training ``forward`` draws a fresh mask; ``backward`` multiplies by
    that same mask. After ``eval()`` the module is the identity.

    Args:
        p: the probability of zeroing an element, in [0, 1]. Default: 0.5.
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

    def __init__(self, p: float = 0.5, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: expected p in [0, 1], got {p}")
        self.p = float(p)
        self.generator = generator
        self._mask: Tensor | None = None
        self._shape: torch.Size | None = None

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Training: draw and cache a scaled 0/1 mask, return ``input * mask``. Else return ``input``."""
        self._check_floating(input)
        self._shape = input.shape
        if not self.training or self.p == 0.0:
            self._mask = None
            return input
        # A generator draws on its own device: a CPU generator gives a CUDA model the same masks it
        # gives the CPU one (at the cost of a copy); torch would refuse to mix the two.
        device = input.device if self.generator is None else self.generator.device
        keep = torch.rand(input.shape, generator=self.generator, device=device, dtype=input.dtype)
        keep = keep.to(input.device)
        scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        self._mask = (keep >= self.p).to(input.dtype).mul_(scale)
        return input * self._mask

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return ``grad_output`` times the mask of the last ``forward`` (itself in evaluation)."""
        if self._shape is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        self._check_grad_output(grad_output, self._shape)
        return grad_output if self._mask is None else grad_output * self._mask

    @override
    def extra_repr(self) -> str:
        return f"p={self.p}"
