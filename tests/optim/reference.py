"""A least-squares problem with a hand-written gradient, and a runner that puts an optimizer beside torch's.

The loss is ``sum_k 0.5 * ||A_k vec(x_k) - b_k||^2`` over three parameter
tensors of different shapes. Each side gets the gradient of its own current
values, so the two trajectories are computed independently.
"""

from collections.abc import Callable

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.optim.optimizer import OptimizerBase
from minitorch_nn.parameter import Parameter

SHAPES = [(3, 4), (4,), (2, 3)]

MakeOurs = Callable[[list[Parameter]], OptimizerBase]
MakeTorch = Callable[[list[torch.nn.Parameter]], torch.optim.Optimizer]


class LeastSquares:
    """Fixed random ``A_k``, ``b_k`` and starting values, drawn from ``generator``."""

    def __init__(self, generator: torch.Generator) -> None:
        sizes = [torch.Size(shape).numel() for shape in SHAPES]
        self.matrices = [torch.randn(n + 2, n, generator=generator) for n in sizes]
        self.targets = [torch.randn(n + 2, generator=generator) for n in sizes]
        self.start = [torch.randn(shape, generator=generator) for shape in SHAPES]

    def grads(self, values: list[Tensor]) -> list[Tensor]:
        """``A_k^T (A_k vec(x_k) - b_k)``, reshaped like ``x_k``."""
        return [
            (a.T @ (a @ x.reshape(-1) - b)).reshape(x.shape)
            for a, b, x in zip(self.matrices, self.targets, values, strict=True)
        ]

    def ours(self) -> list[Parameter]:
        return [Parameter(value.clone()) for value in self.start]

    def theirs(self) -> list[torch.nn.Parameter]:
        return [torch.nn.Parameter(value.clone()) for value in self.start]


def fill_grads(problem: LeastSquares, params: list[Parameter]) -> None:
    """Set every ``grad`` to the problem's gradient at the current values."""
    for param, grad in zip(params, problem.grads([p.value for p in params]), strict=True):
        param.grad.copy_(grad)


def assert_same_trajectory(
    problem: LeastSquares, make_ours: MakeOurs, make_torch: MakeTorch, steps: int = 100
) -> None:
    """Step both optimizers ``steps`` times; their values must agree within 1e-6 after every step."""
    ours, theirs = problem.ours(), problem.theirs()
    optimizer, reference = make_ours(ours), make_torch(theirs)
    for step in range(steps):
        fill_grads(problem, ours)
        with torch.no_grad():
            for param, grad in zip(theirs, problem.grads([p.detach() for p in theirs]), strict=True):
                param.grad = grad
        optimizer.step()
        reference.step()
        mine = torch.cat([p.value.reshape(-1) for p in ours])
        expected = torch.cat([p.detach().reshape(-1) for p in theirs])
        try:
            assert torch.isfinite(mine).all(), "the trajectory diverged: pick a smaller lr"
            torch.testing.assert_close(mine, expected, rtol=0, atol=1e-6)
        except AssertionError as error:
            error.add_note(f"after step {step + 1}")
            raise
