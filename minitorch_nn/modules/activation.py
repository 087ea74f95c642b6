"""Element-wise activations: Identity, Tanh, Sigmoid, ReLU, LeakyReLU, ELU.

Each caches whichever of input and output its derivative is cheaper to form
from: ``Tanh``, ``Sigmoid`` and ``ReLU`` keep the output, the others the input.
"""

from abc import abstractmethod
from typing import ClassVar, Final, Literal

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor
from minitorch_nn.module import Module

__all__ = ["ELU", "Elementwise", "Identity", "LeakyReLU", "ReLU", "Sigmoid", "Tanh"]

# ATen's fused derivative kernels: one pass over memory instead of two or three
# element-wise operations. Each call site gives the formula its kernel computes.
_aten = torch.ops.aten


def _fused_backward(
    name: str, grad: Tensor, output: Tensor, *extra: float, out: Tensor | None = None
) -> Tensor:
    """ATen's derivative kernel ``name`` from the cached output; into ``out`` (may be ``grad``) if given."""
    kernel = getattr(_aten, name)
    if out is None:
        result: Tensor = kernel(grad, output, *extra)
        return result
    kernel.grad_input(grad, output, *extra, grad_input=out)
    return out


class Elementwise(Module):
    """Base of activations applied element by element; subclasses give the function and its derivative.

    ``forward`` caches the input or the output, as ``saves`` says; ``backward``
    checks the shape of ``grad_output`` and returns ``derivative(grad_output, saved)``.
    A subclass that can work in place gives ``function_`` and ``derivative_``;
    ``forward_`` uses the first only when the output is what is cached.
    """

    saves: ClassVar[Literal["input", "output"]] = "input"

    def __init__(self) -> None:
        super().__init__()
        self._saved: Tensor | None = None

    @abstractmethod
    def function(self, input: Tensor) -> Tensor:
        """The activation, returning a new tensor."""

    @abstractmethod
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        """``grad_output`` times the derivative, from the saved input or output."""

    def function_(self, input: Tensor) -> Tensor | None:
        """The activation computed into ``input``, or ``None`` if there is no in-place form."""
        return None

    def derivative_(self, grad_output: Tensor, saved: Tensor) -> Tensor | None:
        """``derivative`` computed into ``grad_output``, or ``None`` if there is no in-place form."""
        return None

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Apply the function; cache the input or the output for ``backward``."""
        self._check_floating(input)
        output = self.function(input)
        self._saved = output if self.saves == "output" else input
        return output

    @override
    def forward_(self, input: Tensor) -> Tensor:
        """Apply the function in place when the output is what is cached; else as ``forward``."""
        if self.saves != "output":
            return self.forward(input)  # the input is cached, so it must stay as it is
        self._check_floating(input)
        output = self.function_(input)
        if output is None:
            return self.forward(input)
        self._saved = output
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return ``grad_output`` times the derivative at the cached point. No parameters."""
        saved = self._cached(self._saved)
        self._check_grad_output(grad_output, saved.shape)
        return self.derivative(grad_output, saved)

    @override
    def backward_(self, grad_output: Tensor) -> Tensor:
        """As ``backward``, computed into ``grad_output`` where an in-place form exists."""
        saved = self._cached(self._saved)
        self._check_grad_output(grad_output, saved.shape)
        result = self.derivative_(grad_output, saved)
        return self.derivative(grad_output, saved) if result is None else result


class Identity(Elementwise):
    """The identity :math:`y = x`, a placeholder that keeps a network's shape.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the input itself.

    Example:
        >>> x = torch.ones(2)
        >>> Identity()(x) is x
        True
    """

    @override
    def function(self, input: Tensor) -> Tensor:
        return input

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return grad_output


class Tanh(Elementwise):
    r"""Hyperbolic tangent :math:`y = \tanh(x)`; its derivative is :math:`1 - y^2`, so it caches the output.

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

    saves = "output"
    fresh_grad_input = True  # a new tensor (the output, which it caches, is not fresh)

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.tanh(input)

    @override
    def function_(self, input: Tensor) -> Tensor:
        return input.tanh_()

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return _fused_backward("tanh_backward", grad_output, saved)  # g * (1 - y**2)

    @override
    def derivative_(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return _fused_backward("tanh_backward", grad_output, saved, out=grad_output)


class Sigmoid(Elementwise):
    r"""Logistic function :math:`y = 1 / (1 + e^{-x})`; its derivative is :math:`y (1 - y)`.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> sigmoid = Sigmoid()
        >>> sigmoid(torch.tensor([0.0])).tolist()
        [0.5]
        >>> sigmoid.backward(torch.tensor([1.0])).tolist()
        [0.25]
    """

    saves = "output"
    fresh_grad_input = True  # a new tensor (the output, which it caches, is not fresh)

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.sigmoid(input)

    @override
    def function_(self, input: Tensor) -> Tensor:
        return input.sigmoid_()

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return _fused_backward("sigmoid_backward", grad_output, saved)  # g * y * (1 - y)

    @override
    def derivative_(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return _fused_backward("sigmoid_backward", grad_output, saved, out=grad_output)


class ReLU(Elementwise):
    r"""Rectifier :math:`y = \max(0, x)`; the derivative is 1 where :math:`y > 0`, else 0.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> relu = ReLU()
        >>> relu(torch.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
        >>> relu.backward(torch.tensor([5.0, 5.0])).tolist()
        [0.0, 5.0]
    """

    saves = "output"
    fresh_grad_input = True  # a new tensor (the output, which it caches, is not fresh)

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.relu(input)

    @override
    def function_(self, input: Tensor) -> Tensor:
        return input.relu_()

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return _fused_backward("threshold_backward", grad_output, saved, 0)  # g where y > 0, else 0

    @override
    def derivative_(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return _fused_backward("threshold_backward", grad_output, saved, 0, out=grad_output)


class LeakyReLU(Elementwise):
    r"""Leaky rectifier :math:`y = x` for :math:`x > 0`, else :math:`\text{negative\_slope} \cdot x`.

    Args:
        negative_slope: the slope for negative inputs. Default: 0.01.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> leaky = LeakyReLU(0.1)
        >>> leaky(torch.tensor([-2.0, 2.0])).tolist()
        [-0.20000000298023224, 2.0]
        >>> leaky.backward(torch.tensor([1.0, 1.0])).tolist()
        [0.10000000149011612, 1.0]
    """

    negative_slope: Final[float]
    fresh_output = True
    fresh_grad_input = True

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.where(input > 0, input, input * self.negative_slope)

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return torch.where(saved > 0, grad_output, grad_output * self.negative_slope)

    @override
    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Elementwise):
    r"""Exponential linear unit :math:`y = x` for :math:`x > 0`, else :math:`\alpha (e^x - 1)`.

    Args:
        alpha: the value the output tends to for large negative inputs is :math:`-\alpha`. Default: 1.0.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> elu = ELU()
        >>> elu(torch.tensor([0.0, 2.0])).tolist()
        [0.0, 2.0]
        >>> elu.backward(torch.tensor([1.0, 1.0])).tolist()
        [1.0, 1.0]
    """

    alpha: Final[float]
    fresh_output = True
    fresh_grad_input = True

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.where(input > 0, input, self.alpha * torch.expm1(input))

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return torch.where(saved > 0, grad_output, grad_output * self.alpha * torch.exp(saved))

    @override
    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
