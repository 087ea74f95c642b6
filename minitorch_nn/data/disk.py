"""The course's toy problem: is a point of the unit square inside the centred disk of area 1/2?"""

import math

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.data.mnist import Split

__all__ = ["disk_data", "disk_set"]


def disk_set(count: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """``count`` points uniform in [0, 1]², and their labels: 1 inside the disk, 0 outside.

    The disk is centred at (0.5, 0.5) with radius :math:`1/\\sqrt{2\\pi}`, so it
    covers half of the square and the two classes are balanced on average.

    Args:
        count: how many points.
        generator: draws the points. Default: torch's global generator.

    Shape:
        - points: :math:`(count, 2)`, float.
        - labels: :math:`(count,)`, int64 in {0, 1}.

    Raises:
        ValueError: if ``count`` is not an int >= 0.

    Example:
        >>> points, labels = disk_set(1000, torch.Generator().manual_seed(0))
        >>> points.shape, labels.shape, 0.4 < labels.double().mean().item() < 0.6
        (torch.Size([1000, 2]), torch.Size([1000]), True)
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"disk_set: expected count to be an int >= 0, got {count!r}")
    points = torch.rand(count, 2, generator=generator)
    inside = (points - 0.5).pow(2).sum(dim=1) < 1 / (2 * math.pi)
    return points, inside.long()


def disk_data(count: int = 1000, generator: torch.Generator | None = None) -> Split:
    """A training and a test set of the disk problem, standardised as the course does.

    Draws ``count`` training points, then ``count`` test points, from
    ``generator``; both are standardised by the training set's mean and
    (unbiased) standard deviation, per coordinate. Targets are class labels.

    Args:
        count: points in each set. Default: 1000.
        generator: draws the points. Default: torch's global generator.

    Raises:
        ValueError: if ``count`` is not an int >= 2 (a standard deviation needs two points).

    Example:
        >>> split = disk_data(generator=torch.Generator().manual_seed(0))
        >>> split.train_input.shape, split.test_target.shape
        (torch.Size([1000, 2]), torch.Size([1000]))
        >>> split.train_input.mean(dim=0).abs().max().item() < 1e-6
        True
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise ValueError(
            f"disk_data: expected count to be an int >= 2 (standardising needs two points), got {count!r}"
        )
    train_input, train_labels = disk_set(count, generator)
    test_input, test_labels = disk_set(count, generator)
    mean, std = train_input.mean(dim=0), train_input.std(dim=0)
    return Split((train_input - mean) / std, train_labels, (test_input - mean) / std, test_labels)
