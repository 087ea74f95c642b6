"""Smooth activations: Softplus, GELU, SiLU. Each caches its input."""

import math
from typing import Final, Literal

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor
from minitorch_nn.modules.activation import Elementwise

__all__ = ["GELU", "SiLU", "Softplus"]


class Softplus(Elementwise):
    r"""Softplus :math:`y = \frac{1}{\beta} \log(1 + e^{\beta x})`.

    It is linear where :math:`\beta x > \text{threshold}`. Its derivative is
    :math:`\sigma(\beta x)`, and 1 on the linear part.

    Args:
        beta: the sharpness. Default: 1.0.
        threshold: above :math:`\beta x > \text{threshold}` the function is :math:`x`. Default: 20.0.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> softplus = Softplus()
        >>> softplus(torch.tensor([0.0, 100.0], dtype=torch.float64)).round(decimals=4).tolist()
        [0.6931, 100.0]
        >>> softplus.backward(torch.ones(2, dtype=torch.float64)).tolist()
        [0.5, 1.0]
    """

    beta: Final[float]
    threshold: Final[float]
    fresh_output = True
    fresh_grad_input = True

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if not beta > 0:
            raise ValueError(f"Softplus: expected beta > 0, got {beta}")
        self.beta, self.threshold = float(beta), float(threshold)

    @override
    def function(self, input: Tensor) -> Tensor:
        scaled = input * self.beta
        return torch.where(scaled > self.threshold, input, torch.nn.functional.softplus(scaled) / self.beta)

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        scaled = saved * self.beta
        return torch.where(scaled > self.threshold, grad_output, grad_output * torch.sigmoid(scaled))

    @override
    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


class GELU(Elementwise):
    r"""Gaussian error linear unit :math:`y = x \Phi(x)`, or its tanh approximation.

    The exact form has derivative :math:`\Phi(x) + x \varphi(x)`. The tanh form is
    :math:`\frac{x}{2}(1 + \tanh u)` with :math:`u = \sqrt{2/\pi}(x + 0.044715 x^3)`.

    Args:
        approximate: ``"none"`` for the exact form, ``"tanh"`` for the approximation. Default: ``"none"``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> gelu = GELU()
        >>> gelu(torch.tensor([0.0, 1.0], dtype=torch.float64)).round(decimals=4).tolist()
        [0.0, 0.8413]
        >>> gelu.backward(torch.ones(2, dtype=torch.float64)).round(decimals=4).tolist()
        [0.5, 1.0833]
    """

    approximate: Final[Literal["none", "tanh"]]
    fresh_output = True
    fresh_grad_input = True

    def __init__(self, approximate: Literal["none", "tanh"] = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: expected approximate 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.nn.functional.gelu(input, approximate=self.approximate)

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        x = saved
        if self.approximate == "tanh":
            t = torch.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3))
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return grad_output * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2.0)))
        pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad_output * (cdf + x * pdf)

    @override
    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Elementwise):
    r"""Sigmoid-weighted linear unit (swish) :math:`y = x \sigma(x)`.

    Its derivative is :math:`\sigma(x)(1 + x(1 - \sigma(x)))`.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> silu = SiLU()
        >>> silu(torch.tensor([0.0, 1.0], dtype=torch.float64)).round(decimals=4).tolist()
        [0.0, 0.7311]
        >>> silu.backward(torch.ones(2, dtype=torch.float64)).round(decimals=4).tolist()
        [0.5, 0.9277]
    """

    fresh_output = True
    fresh_grad_input = True

    @override
    def function(self, input: Tensor) -> Tensor:
        return input * torch.sigmoid(input)

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        s = torch.sigmoid(saved)
        return grad_output * s * (1 + saved * (1 - s))
