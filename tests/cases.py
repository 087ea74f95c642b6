"""The registry: one ``ModuleCase`` for every public ``Module`` and ``Loss``.

``reference`` restates the forward pass in plain torch operations, from the
input, the parameter values (in ``parameters()`` order) and the target, so that
torch.autograd can differentiate it independently of our ``backward``.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor

Reference = Callable[[Tensor, Sequence[Tensor], Tensor | None], Tensor]


@dataclass(frozen=True)
class ModuleCase:
    """How to build one module, what input it takes, and its forward pass in plain torch."""

    name: str
    make: Callable[[torch.Generator], mn.Module | mn.Loss]
    input_shape: Shape
    reference: Reference
    target: Callable[[Shape, torch.Generator], Tensor] | None = None

    def build(self, generator: torch.Generator) -> tuple[mn.Module | mn.Loss, Tensor, Tensor | None]:
        """The module, a random input and (for a loss) a random target, all float64."""
        module = self.make(generator).to(dtype=torch.float64)
        input = torch.randn(self.input_shape, generator=generator, dtype=torch.float64)
        target = None if self.target is None else self.target(self.input_shape, generator)
        return module, input, target


def _linear(x: Tensor, params: Sequence[Tensor], _: Tensor | None) -> Tensor:
    weight, *bias = params
    out = x @ weight.T
    return out + bias[0] if bias else out


def _mlp(x: Tensor, params: Sequence[Tensor], _: Tensor | None) -> Tensor:
    w1, b1, w2, b2 = params
    return torch.tanh(torch.tanh(x @ w1.T + b1) @ w2.T + b2)


def _normal_target(shape: Shape, generator: torch.Generator) -> Tensor:
    return torch.randn(shape, generator=generator, dtype=torch.float64)


def _mse(reduction: str) -> Reference:
    def reference(x: Tensor, _: Sequence[Tensor], target: Tensor | None) -> Tensor:
        assert target is not None
        squared = (x - target) ** 2
        return squared.sum() if reduction == "sum" else squared.sum() / squared.numel()

    return reference


CASES: list[ModuleCase] = [
    ModuleCase("Linear", lambda g: mn.Linear(5, 3, generator=g), (4, 5), _linear),
    ModuleCase("Linear-no-bias", lambda g: mn.Linear(5, 3, bias=False, generator=g), (4, 5), _linear),
    ModuleCase("Linear-batch-1", lambda g: mn.Linear(3, 2, generator=g), (1, 3), _linear),
    ModuleCase("Tanh", lambda g: mn.Tanh(), (4, 3), lambda x, p, t: torch.tanh(x)),
    ModuleCase("Tanh-3d", lambda g: mn.Tanh(), (2, 3, 4), lambda x, p, t: torch.tanh(x)),
    ModuleCase(
        "Sequential",
        lambda g: mn.Sequential(
            mn.Linear(6, 4, generator=g), mn.Tanh(), mn.Linear(4, 3, generator=g), mn.Tanh()
        ),
        (5, 6),
        _mlp,
    ),
    ModuleCase("MSELoss-mean", lambda g: mn.MSELoss(), (4, 3), _mse("mean"), _normal_target),
    ModuleCase("MSELoss-sum", lambda g: mn.MSELoss(reduction="sum"), (4, 3), _mse("sum"), _normal_target),
]
