"""SGD: one step against the formula worked out by hand, and argument checks."""

import math

import pytest
import torch

import minitorch_nn as mn


def test_step_follows_hand_formula() -> None:
    p = mn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    p.grad.copy_(torch.tensor([0.5, 1.0, -4.0]))
    mn.SGD([p], lr=0.1).step()
    # value - lr * grad = [1 - 0.05, -2 - 0.1, 0.5 + 0.4]
    torch.testing.assert_close(p.value, torch.tensor([0.95, -2.1, 0.9]), rtol=0, atol=1e-15)


def test_step_updates_in_place_and_leaves_grad() -> None:
    p = mn.Parameter(torch.ones(2))
    value = p.value
    p.grad.fill_(2.0)
    mn.SGD([p], lr=0.5).step()
    assert p.value is value and p.value.tolist() == [0.0, 0.0]
    assert p.grad.tolist() == [2.0, 2.0]


def test_zero_grad_clears_every_buffer() -> None:
    model = mn.Sequential(mn.Linear(3, 2), mn.Tanh(), mn.Linear(2, 1))
    for p in model.parameters():
        p.grad.fill_(1.0)
    mn.SGD(model.parameters(), lr=0.1).zero_grad()
    assert all(torch.count_nonzero(p.grad) == 0 for p in model.parameters())


def test_accepts_a_generator_of_parameters() -> None:
    model = mn.Linear(3, 2)
    optimizer = mn.SGD(model.parameters(), lr=1.0)
    assert len(optimizer.params) == 2
    assert isinstance(optimizer, mn.Optimizer)


@pytest.mark.parametrize("lr", [-0.1, math.nan, math.inf])
def test_rejects_bad_learning_rate(lr: float) -> None:
    with pytest.raises(ValueError, match=r"SGD: expected lr to be a finite number >= 0, got"):
        mn.SGD(mn.Linear(2, 2).parameters(), lr=lr)


def test_rejects_empty_parameters() -> None:
    with pytest.raises(ValueError, match=r"SGD: expected at least one Parameter, got an empty iterable"):
        mn.SGD([], lr=0.1)


def test_rejects_non_parameter() -> None:
    with pytest.raises(TypeError, match=r"SGD: expected a Parameter at position 0, got Tensor"):
        mn.SGD([torch.zeros(2)], lr=0.1)  # type: ignore[list-item]  # the wrong type is the point


def test_rejects_a_single_parameter() -> None:
    with pytest.raises(TypeError, match=r"SGD: expected an iterable of Parameter, got a single Parameter"):
        mn.SGD(mn.Parameter(torch.zeros(2)), lr=0.1)  # type: ignore[arg-type]  # the point of the test


def test_rejects_duplicate_parameters() -> None:
    p = mn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match=r"SGD: some parameters appear more than once"):
        mn.SGD([p, p], lr=0.1)
