"""Activations: the element-wise ones (Identity, Tanh, Sigmoid, ReLU, LeakyReLU, ELU, Softplus, GELU,
SiLU) and Softmax and LogSoftmax along one dimension.

Each caches whichever of input and output its derivative is cheaper to form
from: ``Tanh``, ``Sigmoid`` and ``ReLU`` keep the output; ``Softmax`` and
``LogSoftmax`` keep the output too; the others keep the input. Softmax and
LogSoftmax stay numerically stable for huge logits.
"""

import math
import warnings
from abc import abstractmethod
from typing import ClassVar, Final, Literal

import torch
from typing_extensions import override

from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module

__all__ = [
    "ELU",
    "GELU",
    "Elementwise",
    "Identity",
    "LeakyReLU",
    "LogSoftmax",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]

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


def _number(owner: str, name: str, value: object) -> float:
    """``value`` as given (so that ``repr`` prints it as torch does); raise unless a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{owner}: expected {name} to be a float, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: expected {name} to be finite, got {value}")
    return value


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

    Args:
        args: any positional arguments; ignored, as ``torch.nn.Identity`` ignores them.
        kwargs: any keyword arguments; ignored likewise.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the input itself.

    Example:
        >>> x = torch.ones(2)
        >>> Identity()(x) is x
        True
        >>> Identity(54, unused_argument=0.1)
        Identity()
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__()

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

    Args:
        inplace: accepted for torch's sake; the result is the same, and the input is not overwritten.
            Default: ``False``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> relu = ReLU()
        >>> relu(torch.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
        >>> relu.backward(torch.tensor([5.0, 5.0])).tolist()
        [0.0, 5.0]
        >>> ReLU(inplace=True)
        ReLU(inplace=True)
    """

    saves = "output"
    fresh_grad_input = True  # a new tensor (the output, which it caches, is not fresh)
    inplace: Final[bool]

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool("ReLU", "inplace", inplace)

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

    @override
    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Elementwise):
    r"""Leaky rectifier :math:`y = x` for :math:`x > 0`, else :math:`\text{negative\_slope} \cdot x`.

    Args:
        negative_slope: the slope for negative inputs. Default: 0.01.
        inplace: accepted for torch's sake; the result is the same, and the input is not overwritten.
            Default: ``False``.

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
    inplace: Final[bool]
    fresh_output = True
    fresh_grad_input = True

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = check_bool("LeakyReLU", "inplace", inplace)

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.where(input > 0, input, input * self.negative_slope)

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return torch.where(saved > 0, grad_output, grad_output * self.negative_slope)

    @override
    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Elementwise):
    r"""Exponential linear unit :math:`y = x` for :math:`x > 0`, else :math:`\alpha (e^x - 1)`.

    Args:
        alpha: the value the output tends to for large negative inputs is :math:`-\alpha`. Default: 1.0.
        inplace: accepted for torch's sake; the result is the same, and the input is not overwritten.
            Default: ``False``.

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
    inplace: Final[bool]
    fresh_output = True
    fresh_grad_input = True

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = _number("ELU", "alpha", alpha)
        self.inplace = check_bool("ELU", "inplace", inplace)

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.where(input > 0, input, self.alpha * torch.expm1(input))

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return torch.where(saved > 0, grad_output, grad_output * self.alpha * torch.exp(saved))

    @override
    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


# --- Smooth activations: Softplus, GELU, SiLU. Each caches its input ----------
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
        self.beta = _number("Softplus", "beta", beta)
        if not beta > 0:
            raise ValueError(f"Softplus: expected beta > 0, got {beta}")
        self.threshold = _number("Softplus", "threshold", threshold)

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
        if not isinstance(approximate, str):
            raise TypeError(f"GELU: expected approximate to be a str, got {type(approximate).__name__}")
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
        # In place on the two fresh tensors: ten temporaries made it 12x slower (measured, 2 MB tensors).
        cdf = torch.erf(x * (1 / math.sqrt(2.0))).add_(1).mul_(0.5)
        x_pdf = torch.mul(x, x).mul_(-0.5).exp_().mul_(x).mul_(1 / math.sqrt(2 * math.pi))
        return cdf.add_(x_pdf).mul_(grad_output)

    @override
    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Elementwise):
    r"""Sigmoid-weighted linear unit (swish) :math:`y = x \sigma(x)`.

    Its derivative is :math:`\sigma(x)(1 + x(1 - \sigma(x)))`.

    Args:
        inplace: accepted for torch's sake; the result is the same, and the input is not overwritten.
            Default: ``False``.

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
    inplace: Final[bool]

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = check_bool("SiLU", "inplace", inplace)

    @override
    def function(self, input: Tensor) -> Tensor:
        return input * torch.sigmoid(input)

    @override
    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        s = torch.sigmoid(saved)
        return grad_output * s * (1 + saved * (1 - s))


# --- Softmax and LogSoftmax along one dimension, numerically stable for huge logits ----------
class _AlongDim(Elementwise):
    """Softmax and LogSoftmax: along ``dim``, or, for ``dim=None``, along the dimension torch's
    deprecated implicit choice picks (0 for an input of 0, 1 or 3 dimensions, else 1), with torch's
    warning."""

    saves = "output"
    fresh_grad_input = True
    dim: Final[int | None]

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
            kind = type(dim).__name__
            raise TypeError(f"{type(self).__name__}: expected dim to be an int or None, got {kind}")
        self.dim = dim
        self._dim = 0  # the dimension of the last forward

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Apply along ``dim``; cache the output for ``backward``."""
        dim = self.dim
        if dim is None:
            dim = 0 if input.dim() in (0, 1, 3) else 1
            warnings.warn(
                f"{self!r}: implicit dimension choice for {type(self).__name__.lower()} has been deprecated "
                f"(torch.nn); give dim={dim} as an argument",
                UserWarning,
                stacklevel=2,
            )
        if not -input.dim() <= dim < max(input.dim(), 1):
            raise ValueError(f"{self!r}: expected input with dimension {dim}, got shape {shape_str(input)}")
        self._dim = dim
        return super().forward(input)

    @override
    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    r"""Softmax :math:`y_i = e^{x_i} / \sum_j e^{x_j}` along ``dim``.

    The backward pass is :math:`y \odot (g - \sum_j g_j y_j)`, from the cached output.
    The max is subtracted before exponentiating, so logits of :math:`\pm 10^4` are fine.

    Args:
        dim: the dimension the probabilities sum to 1 along. ``None`` (torch's default, deprecated
            there) picks 0 for an input of 0, 1 or 3 dimensions, else 1, and warns. Default: ``None``.

    Shape:
        - Input: :math:`(*)`, any shape with dimension ``dim``.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> softmax = Softmax(dim=1)
        >>> softmax(torch.tensor([[0.0, 1e4]])).tolist()
        [[0.0, 1.0]]
        >>> softmax.backward(torch.tensor([[1.0, 1.0]])).tolist()
        [[0.0, 0.0]]
    """

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.softmax(input, self._dim)

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return saved * (grad_output - (grad_output * saved).sum(self._dim, keepdim=True))


class LogSoftmax(_AlongDim):
    r"""Log-softmax :math:`y_i = x_i - \log \sum_j e^{x_j}` along ``dim``.

    The backward pass is :math:`g - e^{y} \sum_j g_j`, from the cached output.
    Computed with the log-sum-exp shift, so logits of :math:`\pm 10^4` give finite values.

    Args:
        dim: the dimension to normalise along; ``None`` picks it as ``Softmax`` does. Default: ``None``.

    Shape:
        - Input: :math:`(*)`, any shape with dimension ``dim``.
        - Output: :math:`(*)`, the shape of the input.

    Example:
        >>> log_softmax = LogSoftmax(dim=1)
        >>> log_softmax(torch.tensor([[0.0, 1e4]])).tolist()
        [[-10000.0, 0.0]]
        >>> log_softmax.backward(torch.tensor([[0.0, 1.0]])).tolist()
        [[0.0, 0.0]]
    """

    @override
    def function(self, input: Tensor) -> Tensor:
        return torch.log_softmax(input, self._dim)

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return grad_output - torch.exp(saved) * grad_output.sum(self._dim, keepdim=True)
