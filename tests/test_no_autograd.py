"""No autograd anywhere: training gives the same result with gradient recording off."""

import torch

import minitorch_nn as mn


def _train(steps: int, generator: torch.Generator) -> list[torch.Tensor]:
    model = mn.Sequential(
        mn.Linear(8, 6, generator=generator), mn.Tanh(), mn.Linear(6, 3, generator=generator)
    )
    criterion = mn.MSELoss(reduction="sum")
    optimizer = mn.SGD(model.parameters(), lr=0.01)
    x = torch.randn(16, 8, generator=generator)
    target = torch.randn(16, 3, generator=generator)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(x), target)
        assert not loss.requires_grad
        grad_input = model.backward(criterion.backward())
        assert not grad_input.requires_grad
        optimizer.step()
    assert not any(p.value.requires_grad or p.grad.requires_grad for p in model.parameters())
    return [p.value.clone() for p in model.parameters()]


def test_training_is_identical_with_grad_disabled() -> None:
    with torch.set_grad_enabled(True):
        enabled = _train(50, torch.Generator().manual_seed(0))
    with torch.set_grad_enabled(False):
        disabled = _train(50, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(enabled, disabled, strict=True))


def test_training_actually_changes_parameters() -> None:
    before = _train(0, torch.Generator().manual_seed(0))
    after = _train(50, torch.Generator().manual_seed(0))
    assert not any(torch.equal(a, b) for a, b in zip(before, after, strict=True))
