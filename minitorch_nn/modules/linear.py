"""Layers with parameters: ``Linear``."""

import math
from typing import Final

import torch
from typing_extensions import override

from minitorch_nn import init
from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Shape, Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.parameter import Parameter

__all__ = ["Flatten", "Linear", "check_size", "default_parameters"]


def check_size(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: expected {name} to be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{owner}: expected {name} > 0, got {value}")
    return value


def default_parameters(
    weight_shape: Shape,
    bias: bool,
    *,
    generator: torch.Generator | None,
    device: torch.device | str | None,
    dtype: torch.dtype | None,
) -> tuple[Parameter, Parameter | None]:
    """A weight of ``weight_shape`` and an optional bias of ``(weight_shape[0],)``, as torch initialises
    Linear and Conv layers: all drawn from U(-k, k), k = 1/sqrt(fan_in), fan_in = prod(weight_shape[1:])."""
    bound = 1.0 / math.sqrt(math.prod(weight_shape[1:]))
    weight = init.uniform_(
        torch.empty(weight_shape, device=device, dtype=dtype), -bound, bound, generator=generator
    )
    if not bias:
        return Parameter(weight), None
    b = init.uniform_(
        torch.empty(weight_shape[0], device=device, dtype=dtype), -bound, bound, generator=generator
    )
    return Parameter(weight), Parameter(b)


class Linear(Module):
    r"""Affine map :math:`y = x W^T + b`, on the last dimension of the input.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if ``False``, the layer learns no additive bias. Default: ``True``.
        generator: random generator for the initial values. Default: torch's global one.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(*, H_{in})` with :math:`H_{in} =` ``in_features``: a batch :math:`(N, H_{in})`,
          one sample :math:`(H_{in})`, or any leading dimensions, such as :math:`(N, T, H_{in})` for a
          sequence. A 2-D input is one ``addmm``; the leading dimensions of any other are flattened
          into one (a view when the input is contiguous) and restored in the output.
        - Output: :math:`(*, H_{out})` with :math:`H_{out} =` ``out_features``.

    Attributes:
        weight: ``Parameter`` of shape ``(out_features, in_features)``, drawn from
            :math:`U(-k, k)` with :math:`k = 1/\sqrt{\text{in\_features}}`, as torch does.
        bias: ``Parameter`` of shape ``(out_features,)``, drawn from the same
            distribution, or ``None`` if ``bias=False``.

    Example:
        >>> layer = Linear(784, 50, generator=torch.Generator().manual_seed(0))
        >>> layer
        Linear(in_features=784, out_features=50)
        >>> layer(torch.zeros(32, 784)).shape
        torch.Size([32, 50])
        >>> layer.backward(torch.ones(32, 50)).shape
        torch.Size([32, 784])
        >>> layer.bias.grad[:3].tolist()
        [32.0, 32.0, 32.0]
        >>> layer(torch.zeros(8, 10, 784)).shape, layer(torch.zeros(784)).shape
        (torch.Size([8, 10, 50]), torch.Size([50]))
    """

    in_features: Final[int]
    out_features: Final[int]
    fresh_output = True
    fresh_grad_input = True

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_size("Linear", "in_features", in_features)
        self.out_features = check_size("Linear", "out_features", out_features)
        check_bool("Linear", "bias", bias)
        self.weight, self.bias = default_parameters(
            (out_features, in_features), bias, generator=generator, device=device, dtype=dtype
        )
        self._input: Tensor | None = None  # 2-D: the input, or its leading dimensions flattened
        self._leading: torch.Size | None = None  # the leading dimensions of an input that is not 2-D
        self._scratches: dict[str, Tensor] = {}  # see Module._scratch

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return ``input @ weight.T + bias``; cache ``input`` (not a copy; for an input that is not
        2-D, a 2-D view of it, or a copy if it cannot be viewed so) for ``backward``."""
        self._check_floating(input)
        if input.dim() == 0 or input.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r}: expected input of shape (*, {self.in_features}), got {shape_str(input)}"
            )
        self._check_like(input, self.weight.value)
        if input.dim() == 2:
            self._input, self._leading = input, None
            return self._affine(input)
        flat = input.reshape(-1, self.in_features)
        self._input, self._leading = flat, input.shape[:-1]
        return self._affine(flat).view(*self._leading, self.out_features)

    def _affine(self, input: Tensor) -> Tensor:
        if self.bias is None:
            return torch.mm(input, self.weight.value.t())
        return torch.addmm(self.bias.value, input, self.weight.value.t())

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Add ``grad_output.T @ input`` to ``weight.grad`` and the column sums of
        ``grad_output`` to ``bias.grad``; return ``grad_output @ weight``."""
        grad_output = self._grad_2d(grad_output)
        self._accumulate(grad_output)
        # Input gradient.
        grad_input = torch.mm(grad_output, self.weight.value)
        return grad_input if self._leading is None else grad_input.view(*self._leading, self.in_features)

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Add ``grad_output.T @ input`` to ``weight.grad`` and the column sums of ``grad_output``
        to ``bias.grad``; skip the input gradient."""
        self._accumulate(self._grad_2d(grad_output))

    def _grad_2d(self, grad_output: Tensor) -> Tensor:
        """``grad_output`` checked against the last output's shape, with its leading dimensions in one."""
        input = self._cached(self._input)
        if self._leading is None:
            self._check_grad_output(grad_output, (input.shape[0], self.out_features))
            return grad_output
        self._check_grad_output(grad_output, (*self._leading, self.out_features))
        return grad_output.reshape(-1, self.out_features)

    def _accumulate(self, grad_output: Tensor) -> None:
        """Add the parameter gradients for a 2-D ``grad_output`` and the cached 2-D input."""
        input = self._cached(self._input)
        # Each product is formed in a scratch tensor kept across steps, then added (see Module._scratch).
        weight_step = self._scratch("weight", self.weight.grad)
        self.weight.grad.add_(torch.mm(grad_output.t(), input, out=weight_step))
        if self.bias is not None:
            bias_step = self._scratch("bias", self.bias.grad)
            self.bias.grad.add_(torch.sum(grad_output, dim=0, out=bias_step))

    @override
    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return f"in_features={self.in_features}, out_features={self.out_features}{bias}"


class Flatten(Module):
    """Flatten dimensions ``start_dim`` to ``end_dim`` into one, as ``torch.flatten``.

    Args:
        start_dim: first dimension to flatten. Default: 1 (keep the batch dimension).
        end_dim: last dimension to flatten. Default: -1.

    Shape:
        - Input: :math:`(N, *)`.
        - Output: the input with dimensions ``start_dim..end_dim`` multiplied into one.

    Example:
        >>> flatten = Flatten()
        >>> flatten(torch.zeros(32, 1, 28, 28)).shape
        torch.Size([32, 784])
        >>> flatten.backward(torch.zeros(32, 784)).shape
        torch.Size([32, 1, 28, 28])
    """

    start_dim: Final[int]
    end_dim: Final[int]

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Flatten: expected {name} to be an int, got {type(value).__name__}")
        self.start_dim, self.end_dim = start_dim, end_dim
        self._input_shape: torch.Size | None = None
        self._output_shape: torch.Size | None = None

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the flattened input (a view where possible); cache the input's shape."""
        try:
            output = torch.flatten(input, self.start_dim, self.end_dim)
        except (IndexError, RuntimeError) as err:
            raise ValueError(f"{self!r}: cannot flatten input of shape {shape_str(input)}: {err}") from None
        self._input_shape, self._output_shape = input.shape, output.shape
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return ``grad_output`` reshaped to the input's shape."""
        if self._input_shape is None or self._output_shape is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        self._check_grad_output(grad_output, self._output_shape)
        return grad_output.reshape(self._input_shape)

    @override
    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
