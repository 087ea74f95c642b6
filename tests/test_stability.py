"""Numerical stability: huge logits give finite values and gradients."""

import pytest
import torch

import minitorch_nn as mn

HUGE = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=torch.float32)


@pytest.mark.parametrize("module", [mn.Softmax(dim=1), mn.LogSoftmax(dim=1)], ids=repr)
def test_softmax_family_is_finite_for_huge_logits(module: mn.Module) -> None:
    output = module(HUGE)
    assert torch.isfinite(output).all()
    assert torch.isfinite(module.backward(torch.ones_like(HUGE))).all()


def test_softmax_of_huge_logits_is_one_hot() -> None:
    assert mn.Softmax(dim=1)(HUGE).tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]


@pytest.mark.parametrize("target", [torch.tensor([1, 2]), torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])])
def test_cross_entropy_is_finite_for_huge_logits(target: torch.Tensor) -> None:
    loss = mn.CrossEntropyLoss(label_smoothing=0.1)
    value = loss(HUGE, target)
    assert torch.isfinite(value)
    expected = torch.nn.functional.cross_entropy(
        HUGE.double(), target if target.dim() == 1 else target.double(), label_smoothing=0.1
    )
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.isfinite(loss.backward()).all()


def test_bce_with_logits_is_finite_for_huge_logits() -> None:
    loss = mn.BCEWithLogitsLoss()
    assert torch.isfinite(loss(HUGE, torch.ones_like(HUGE)))
    assert torch.isfinite(loss.backward()).all()
