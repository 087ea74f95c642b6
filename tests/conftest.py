"""Shared fixtures: float64 by default, and a freshly seeded generator per test."""

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def float64_default() -> Iterator[None]:
    """Every test runs with float64 as torch's default dtype (restored afterwards)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture
def generator() -> torch.Generator:
    """A generator seeded with 0, fresh for each test."""
    return torch.Generator().manual_seed(0)
