"""Type aliases shared by the whole package."""

from typing import TypeAlias

import torch

__all__ = ["Shape", "Tensor", "brief", "shape_str"]

Tensor: TypeAlias = torch.Tensor
"""The tensor type every module works on."""

Shape: TypeAlias = tuple[int, ...]
"""A tensor shape as a plain tuple, the way error messages print it."""


def shape_str(tensor: Tensor) -> str:
    """Return ``tensor``'s shape as a tuple string, e.g. ``(32, 785)``."""
    return str(tuple(tensor.shape))


def brief(module: object) -> str:
    """``repr(module)`` if it fits on one line, else ``ClassName(...)`` (a container's children left out)."""
    text = repr(module)
    return f"{type(module).__name__}(...)" if "\n" in text else text
