"""Parameter: a value and a grad buffer of the same shape, dtype and device."""

import dataclasses

import pytest
import torch

from minitorch_nn import Parameter


def test_grad_starts_as_zeros_like_value() -> None:
    value = torch.randn(3, 4, dtype=torch.float32)
    param = Parameter(value)
    assert param.value is value
    assert param.grad.shape == value.shape
    assert param.grad.dtype == value.dtype
    assert param.grad.device == value.device
    assert torch.count_nonzero(param.grad) == 0


def test_fields_cannot_be_reassigned() -> None:
    param = Parameter(torch.zeros(2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        param.grad = torch.ones(2)  # type: ignore[misc]  # the point of the test: frozen


def test_rejects_integer_tensor() -> None:
    with pytest.raises(TypeError, match=r"Parameter: expected a floating-point tensor, got torch.int64"):
        Parameter(torch.zeros(2, dtype=torch.int64))


def test_to_keeps_tensor_objects_and_converts_both() -> None:
    param = Parameter(torch.ones(2, dtype=torch.float32))
    value, grad = param.value, param.grad
    param.grad.fill_(3.0)
    param.to_(dtype=torch.float64)
    assert param.value is value and param.grad is grad
    assert param.value.dtype == torch.float64 and param.grad.dtype == torch.float64
    assert param.grad.tolist() == [3.0, 3.0]


def test_equality_is_identity() -> None:
    a, b = Parameter(torch.zeros(1)), Parameter(torch.zeros(1))
    assert a != b and a == a
    assert len({a, b}) == 2
