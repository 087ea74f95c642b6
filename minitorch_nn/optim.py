"""Optimizers: the ``Optimizer`` protocol and ``SGD``."""

import math
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import torch

from minitorch_nn.parameter import Parameter

__all__ = ["SGD", "HasParameters", "Optimizer"]


@runtime_checkable
class Optimizer(Protocol):
    """What a training loop needs from an optimizer."""

    def step(self) -> None:
        """Update every parameter's ``value`` from its ``grad``, in place."""

    def zero_grad(self) -> None:
        """Zero every parameter's ``grad``, in place."""


@runtime_checkable
class HasParameters(Protocol):
    """Anything that yields ``Parameter`` objects, such as a ``Module``."""

    def parameters(self) -> Iterable[Parameter]:
        """Yield the parameters."""
        ...


def _collect(owner: str, params: Iterable[Parameter]) -> list[Parameter]:
    if isinstance(params, Parameter):
        raise TypeError(f"{owner}: expected an iterable of Parameter, got a single Parameter")
    collected = list(params)
    if not collected:
        raise ValueError(f"{owner}: expected at least one Parameter, got an empty iterable")
    for index, param in enumerate(collected):
        if not isinstance(param, Parameter):
            raise TypeError(f"{owner}: expected a Parameter at position {index}, got {type(param).__name__}")
    if len({id(p) for p in collected}) != len(collected):
        raise ValueError(f"{owner}: some parameters appear more than once")
    return collected


class SGD:
    r"""Stochastic gradient descent: :math:`\theta \leftarrow \theta - \text{lr} \cdot g`.

    Args:
        params: an iterable of ``Parameter``, such as ``model.parameters()``.
        lr: the learning rate, a finite number >= 0.

    Raises:
        TypeError: if ``params`` holds something other than a ``Parameter``.
        ValueError: if ``params`` is empty or repeats one, or ``lr`` is negative or not finite.

    Example:
        >>> p = Parameter(torch.tensor([1.0, 2.0]))
        >>> p.grad.copy_(torch.tensor([2.0, -2.0]))
        tensor([ 2., -2.])
        >>> optimizer = SGD([p], lr=0.5)
        >>> optimizer.step()
        >>> p.value.tolist()
        [0.0, 3.0]
        >>> optimizer.zero_grad()
        >>> p.grad.tolist()
        [0.0, 0.0]
    """

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = _collect("SGD", params)
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"SGD: expected lr to be a finite number >= 0, got {lr!r}")
        self.lr = float(lr)

    def step(self) -> None:
        """Subtract ``lr * grad`` from every ``value``, in place."""
        with torch.no_grad():
            for param in self.params:
                param.value.add_(param.grad, alpha=-self.lr)

    def zero_grad(self) -> None:
        """Zero every ``grad``, in place."""
        for param in self.params:
            param.zero_grad()

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, params={len(self.params)})"
