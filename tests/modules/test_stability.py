"""Numerical stability: at huge float32 logits, values and gradients match a float64 reference.

At ``1e4`` and ``1e30`` the naive float32 formulas overflow (``exp`` is ``inf`` past 88.7), so
``exp(x) / sum(exp(x))`` gives NaN and ``log(1 + exp(-x))`` gives ``inf``. Ours must agree
with torch's own stable kernels run in float64 (forward, and ``torch.autograd`` for the
backward), rounded to float32: within ``RTOL``/``ATOL``, a few float32 ulps.
"""

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn.modules.loss import Reduction

RTOL, ATOL = 1e-6, 1e-6
SCALES = [1e4, 1e30]


def huge(scale: float) -> torch.Tensor:
    """Float32 logits of magnitude ``scale``: one row with a single winner (softmax is one-hot), one
    with two tied winners (softmax is (1/2, 1/2, 0), so its backward is not zero)."""
    return scale * torch.tensor([[1.0, -1.0, 0.0], [1.0, 1.0, -1.0]], dtype=torch.float32)


def upstream() -> torch.Tensor:
    """A non-uniform upstream gradient: with ones, the softmax backward would be zero whatever it did."""
    return torch.tensor([[1.0, 2.0, -3.0], [0.5, -1.0, 2.0]], dtype=torch.float32)


def assert_close_to_float64(ours: torch.Tensor, reference: torch.Tensor) -> None:
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours, reference.float(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("scale", SCALES)
def test_naive_float32_softmax_overflows_at_these_logits(scale: float) -> None:
    """The inputs below are the hard ones: the textbook formula fails on them."""
    logits = huge(scale)
    naive = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    assert not torch.isfinite(naive).all()


SOFTMAX_FAMILY: list[tuple[Callable[[], mn.Module], Callable[[torch.Tensor], torch.Tensor]]] = [
    (lambda: mn.Softmax(dim=1), lambda x: torch.softmax(x, dim=1)),
    (lambda: mn.LogSoftmax(dim=1), lambda x: torch.log_softmax(x, dim=1)),
]
SOFTMAX_IDS = ["Softmax", "LogSoftmax"]


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(("make", "reference"), SOFTMAX_FAMILY, ids=SOFTMAX_IDS)
def test_softmax_family_forward_matches_float64_at_huge_logits(
    make: Callable[[], mn.Module], reference: Callable[[torch.Tensor], torch.Tensor], scale: float
) -> None:
    logits = huge(scale)
    assert_close_to_float64(make()(logits), reference(logits.double()))


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(("make", "reference"), SOFTMAX_FAMILY, ids=SOFTMAX_IDS)
def test_softmax_family_backward_matches_float64_autograd_at_huge_logits(
    make: Callable[[], mn.Module], reference: Callable[[torch.Tensor], torch.Tensor], scale: float
) -> None:
    logits, v = huge(scale), upstream()
    module = make()
    module(logits)
    leaf = logits.double().requires_grad_()
    with torch.enable_grad():
        (expected,) = torch.autograd.grad(reference(leaf), leaf, grad_outputs=v.double())
    assert expected.abs().max() > 0.1  # the tied row: a backward returning zeros would fail
    assert_close_to_float64(module.backward(v), expected)


@pytest.mark.parametrize("scale", SCALES)
def test_softmax_of_huge_logits_is_exact(scale: float) -> None:
    assert mn.Softmax(dim=1)(huge(scale)).tolist() == [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]


CE_TARGETS = [torch.tensor([1, 2]), torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])]
CE_IDS = ["class-index", "class-probability"]


def cross_entropy_float64(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, target if target.dim() == 1 else target.double(), label_smoothing=0.1)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("target", CE_TARGETS, ids=CE_IDS)
def test_cross_entropy_forward_matches_float64_at_huge_logits(target: torch.Tensor, scale: float) -> None:
    value = mn.CrossEntropyLoss(label_smoothing=0.1)(
        huge(scale), target if target.dim() == 1 else target.float()
    )
    assert_close_to_float64(value, cross_entropy_float64(huge(scale).double(), target))


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("target", CE_TARGETS, ids=CE_IDS)
def test_cross_entropy_backward_matches_float64_autograd_at_huge_logits(
    target: torch.Tensor, scale: float
) -> None:
    loss = mn.CrossEntropyLoss(label_smoothing=0.1)
    loss(huge(scale), target if target.dim() == 1 else target.float())
    leaf = huge(scale).double().requires_grad_()
    with torch.enable_grad():
        (expected,) = torch.autograd.grad(cross_entropy_float64(leaf, target), leaf)
    assert_close_to_float64(loss.backward(), expected)


BCE_TARGET = torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, 0.25]], dtype=torch.float32)


@pytest.mark.parametrize("scale", SCALES)
def test_naive_float32_bce_with_logits_overflows_at_these_logits(scale: float) -> None:
    logits = huge(scale)
    naive = BCE_TARGET * torch.log1p(torch.exp(-logits)) + (1 - BCE_TARGET) * torch.log1p(torch.exp(logits))
    assert not torch.isfinite(naive).all()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("scale", SCALES)
def test_bce_with_logits_forward_matches_float64_at_huge_logits(reduction: Reduction, scale: float) -> None:
    value = mn.BCEWithLogitsLoss(reduction=reduction)(huge(scale), BCE_TARGET)
    expected = F.binary_cross_entropy_with_logits(
        huge(scale).double(), BCE_TARGET.double(), reduction=reduction
    )
    assert_close_to_float64(value, expected)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("scale", SCALES)
def test_bce_with_logits_backward_matches_float64_autograd_at_huge_logits(
    reduction: Reduction, scale: float
) -> None:
    loss = mn.BCEWithLogitsLoss(reduction=reduction)
    loss(huge(scale), BCE_TARGET)
    leaf = huge(scale).double().requires_grad_()
    with torch.enable_grad():
        value = F.binary_cross_entropy_with_logits(leaf, BCE_TARGET.double(), reduction=reduction)
        (expected,) = torch.autograd.grad(value, leaf)
    assert_close_to_float64(loss.backward(), expected)
