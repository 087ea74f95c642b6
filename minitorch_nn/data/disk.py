"""The course's toy problem: is a point of the unit square inside the centred disk of area 1/2?"""

import math

import torch

from minitorch_nn._types import Tensor

__all__ = ["disk_set"]


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

    Example:
        >>> points, labels = disk_set(1000, torch.Generator().manual_seed(0))
        >>> points.shape, labels.shape, 0.4 < labels.double().mean().item() < 0.6
        (torch.Size([1000, 2]), torch.Size([1000]), True)
    """
    points = torch.rand(count, 2, generator=generator)
    inside = (points - 0.5).pow(2).sum(dim=1) < 1 / (2 * math.pi)
    return points, inside.long()
