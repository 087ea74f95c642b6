"""Modules that rearrange or reduce dimensions, which sequence networks need between their layers.

``Unflatten`` (``torch.nn.Unflatten``), ``Permute`` (``torchvision.ops.Permute``),
``Select`` (``torch.select`` as a module: one time step) and ``Mean`` (an
average over one dimension: mean pooling over tokens). ``Flatten`` is in
``linear``, next to the layer it usually feeds. None has parameters; each
backward is the adjoint of its forward, written out.
"""

import math
from collections.abc import Sequence
from typing import Final

import torch
from typing_extensions import override

from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module

__all__ = ["Mean", "Permute", "Select", "Unflatten"]


def _check_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: expected {name} to be an int, got {type(value).__name__}")
    return value


class _Reshaping(Module):
    """A module that caches the input's and the output's shape, to check and reshape gradients."""

    def __init__(self) -> None:
        super().__init__()
        self._input_shape: torch.Size | None = None
        self._output_shape: torch.Size | None = None

    def _shapes(self, grad_output: Tensor) -> torch.Size:
        """The input's shape, after checking ``grad_output`` against the output's."""
        if self._input_shape is None or self._output_shape is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        self._check_grad_output(grad_output, self._output_shape)
        return self._input_shape

    def _dim(self, input: Tensor, dim: int) -> int:
        """``dim`` made non-negative for ``input``; ``ValueError`` if out of range."""
        self._check_tensor(input)
        rank = input.dim()
        if not -rank <= dim < rank:
            need = dim + 1 if dim >= 0 else -dim
            raise ValueError(
                f"{self!r}: expected an input with at least {need} dimensions, got {shape_str(input)}"
            )
        return dim % rank

    def _check_tensor(self, input: Tensor) -> None:
        if not isinstance(input, torch.Tensor):
            raise TypeError(f"{self!r}: expected input to be a torch.Tensor, got {type(input).__name__}")


class Unflatten(_Reshaping):
    """Split dimension ``dim`` into ``unflattened_size``, as ``torch.nn.Unflatten`` (undoes ``Flatten``).

    Args:
        dim: the dimension to split (negative counts from the end).
        unflattened_size: the sizes it is split into; their product must be its size.
            One entry may be -1, inferred as ``torch.unflatten`` does.

    Shape:
        - Input: :math:`(*, S_{dim}, *)`.
        - Output: :math:`(*, U_1, ..., U_n, *)` with :math:`\\prod U_i = S_{dim}`.

    Example:
        >>> unflatten = Unflatten(1, (7, 4))
        >>> unflatten
        Unflatten(dim=1, unflattened_size=(7, 4))
        >>> unflatten(torch.zeros(32, 28)).shape
        torch.Size([32, 7, 4])
        >>> unflatten.backward(torch.ones(32, 7, 4)).shape
        torch.Size([32, 28])
    """

    dim: Final[int]
    unflattened_size: Final[tuple[int, ...]]

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = _check_int("Unflatten", "dim", dim)
        if not isinstance(unflattened_size, tuple | list | torch.Size) or not unflattened_size:
            raise TypeError(
                f"Unflatten: expected unflattened_size to be a non-empty tuple or list of ints, "
                f"got {unflattened_size!r}"
            )
        sizes = tuple(_check_int("Unflatten", "unflattened_size", size) for size in unflattened_size)
        if any(size < -1 for size in sizes) or sizes.count(-1) > 1:
            raise ValueError(
                f"Unflatten: expected sizes >= 0 with at most one -1 in unflattened_size, got {sizes}"
            )
        self.unflattened_size = sizes

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return ``input`` with dimension ``dim`` split (a view); cache the shapes."""
        dim = self._dim(input, self.dim)
        size, known = input.shape[dim], math.prod(s for s in self.unflattened_size if s != -1)
        fits = size == known if -1 not in self.unflattened_size else known > 0 and size % known == 0
        if not fits:
            raise ValueError(
                f"{self!r}: expected dimension {self.dim} of size {known}"
                f"{' times the inferred size' if -1 in self.unflattened_size else ''}, "
                f"got {size} in an input of shape {shape_str(input)}"
            )
        sizes = [size // known if s == -1 else s for s in self.unflattened_size]  # -1 from this dim alone
        output = input.reshape(*input.shape[:dim], *sizes, *input.shape[dim + 1 :])
        self._input_shape, self._output_shape = input.shape, output.shape
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return ``grad_output`` reshaped to the input's shape."""
        return grad_output.reshape(self._shapes(grad_output))

    @override
    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Permute(_Reshaping):
    """Reorder the dimensions, as ``torchvision.ops.Permute``: output dimension ``i`` is input's ``dims[i]``.

    Args:
        dims: a permutation of the input's dimensions, as a list of ints (negative counts from the end).

    Shape:
        - Input: a tensor with ``len(dims)`` dimensions.
        - Output: ``input.permute(dims)`` (a view).

    Example:
        >>> permute = Permute([0, 2, 1])
        >>> permute
        Permute(dims=[0, 2, 1])
        >>> permute(torch.zeros(32, 16, 49)).shape  # (N, C, H*W) -> (N, H*W, C): patches as tokens
        torch.Size([32, 49, 16])
        >>> permute.backward(torch.ones(32, 49, 16)).shape
        torch.Size([32, 16, 49])
    """

    dims: Final[list[int]]

    def __init__(self, dims: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(dims, list | tuple) or not dims:
            raise TypeError(f"Permute: expected dims to be a non-empty list of ints, got {dims!r}")
        values = [_check_int("Permute", "dims", value) for value in dims]
        rank = len(values)
        if any(not -rank <= value < rank for value in values) or len({v % rank for v in values}) != rank:
            raise ValueError(f"Permute: expected dims to be a permutation of range({rank}), got {values}")
        self.dims = values
        self._inverse = [0] * rank
        for position, value in enumerate(values):
            self._inverse[value % rank] = position

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return ``input.permute(dims)`` (a view); cache the shapes."""
        self._check_tensor(input)
        if input.dim() != len(self.dims):
            raise ValueError(
                f"{self!r}: expected an input with {len(self.dims)} dimensions, got {shape_str(input)}"
            )
        output = input.permute(self.dims)
        self._input_shape, self._output_shape = input.shape, output.shape
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return ``grad_output`` permuted back (a view)."""
        self._shapes(grad_output)
        return grad_output.permute(self._inverse)

    @override
    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Select(_Reshaping):
    """Take one slice along ``dim``, as ``torch.select``: the last time step of a sequence, ``Select(1, -1)``.

    The gradient is zero except at the selected slice, which receives ``grad_output``.

    Args:
        dim: the dimension to select from (negative counts from the end); it is removed.
        index: the position to take (negative counts from the end).

    Shape:
        - Input: :math:`(*, S_{dim}, *)` with :math:`-S_{dim} \\le` ``index`` :math:`< S_{dim}`.
        - Output: the input without dimension ``dim`` (a view).

    Example:
        >>> last = Select(1, -1)
        >>> last
        Select(dim=1, index=-1)
        >>> x = torch.arange(6.0).view(1, 3, 2)  # (N, L, H)
        >>> last(x)
        tensor([[4., 5.]])
        >>> last.backward(torch.ones(1, 2))
        tensor([[[0., 0.],
                 [0., 0.],
                 [1., 1.]]])
    """

    dim: Final[int]
    index: Final[int]
    fresh_grad_input = True

    def __init__(self, dim: int, index: int) -> None:
        super().__init__()
        self.dim = _check_int("Select", "dim", dim)
        self.index = _check_int("Select", "index", index)

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return ``input.select(dim, index)`` (a view); cache the shapes."""
        dim = self._dim(input, self.dim)
        size = input.shape[dim]
        if not -size <= self.index < size:
            raise ValueError(
                f"{self!r}: expected dimension {self.dim} of size at least "
                f"{self.index + 1 if self.index >= 0 else -self.index}, got {shape_str(input)}"
            )
        output = input.select(dim, self.index)
        self._input_shape, self._output_shape = input.shape, output.shape
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return zeros of the input's shape with ``grad_output`` at the selected slice."""
        shape = self._shapes(grad_output)
        grad_input = grad_output.new_zeros(shape)
        grad_input.select(self.dim, self.index).copy_(grad_output)
        return grad_input

    @override
    def extra_repr(self) -> str:
        return f"dim={self.dim}, index={self.index}"


class Mean(_Reshaping):
    r"""Average over one dimension: :math:`y = \frac{1}{S} \sum_{s} x_{\ldots, s, \ldots}`, as ``torch.mean``.

    Mean pooling over the tokens of a sequence, ``Mean(1)`` for :math:`(N, L, E)`.
    The gradient is ``grad_output`` spread evenly over the averaged dimension.

    Args:
        dim: the dimension to average over (negative counts from the end).
        keepdim: keep it, with size 1. Default: ``False`` (it is removed).

    Shape:
        - Input: :math:`(*, S_{dim}, *)` with :math:`S_{dim} > 0`, floating point.
        - Output: the input without dimension ``dim`` (or with size 1 there, if ``keepdim``).

    Example:
        >>> mean = Mean(1)
        >>> mean
        Mean(dim=1, keepdim=False)
        >>> mean(torch.tensor([[[1.0, 2.0], [3.0, 6.0]]]))
        tensor([[2., 4.]])
        >>> mean.backward(torch.ones(1, 2))
        tensor([[[0.5000, 0.5000],
                 [0.5000, 0.5000]]])
    """

    dim: Final[int]
    keepdim: Final[bool]
    fresh_output = True
    fresh_grad_input = True

    def __init__(self, dim: int, keepdim: bool = False) -> None:
        super().__init__()
        self.dim = _check_int("Mean", "dim", dim)
        self.keepdim = check_bool("Mean", "keepdim", keepdim)
        self._size: int = 1  # the averaged dimension's size

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return ``input.mean(dim, keepdim)``; cache the shapes."""
        self._check_floating(input)
        dim = self._dim(input, self.dim)
        if input.shape[dim] == 0:
            raise ValueError(
                f"{self!r}: expected a non-empty dimension {self.dim} (a mean over no values is NaN), "
                f"got {shape_str(input)}"
            )
        output = torch.mean(input, dim, keepdim=self.keepdim)
        self._input_shape, self._output_shape, self._size = input.shape, output.shape, input.shape[dim]
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Return ``grad_output / S`` expanded over the averaged dimension."""
        shape = self._shapes(grad_output)
        grad = grad_output if self.keepdim else grad_output.unsqueeze(self.dim % len(shape))
        return torch.div(grad.expand(shape), self._size)

    @override
    def extra_repr(self) -> str:
        return f"dim={self.dim}, keepdim={self.keepdim}"
