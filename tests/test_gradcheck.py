"""gradcheck itself: it passes correct modules and catches a wrong backward."""

import re

import pytest
import torch
from typing_extensions import override

import minitorch_nn as mn
from minitorch_nn._types import Tensor


class WrongTanh(mn.Tanh):
    """Tanh whose backward forgets the square: grad * (1 - y)."""

    @override
    def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
        return grad_output * (1 - saved)


class WrongBiasLinear(mn.Linear):
    """Linear whose bias gradient is doubled."""

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        grad = super().backward(grad_output)
        assert self.bias is not None
        self.bias.grad.add_(grad_output.sum(0))
        return grad


def test_catches_wrong_input_gradient(generator: torch.Generator) -> None:
    with pytest.raises(
        mn.GradcheckError, match=r"Tanh\(\): gradient of 'input' disagrees at index \(\d+, \d+\)"
    ):
        mn.gradcheck(WrongTanh(), torch.randn(3, 2, generator=generator), generator=generator)


def test_catches_wrong_parameter_gradient(generator: torch.Generator) -> None:
    layer = WrongBiasLinear(3, 2, generator=generator)
    with pytest.raises(
        mn.GradcheckError, match=r"gradient of 'bias' disagrees at index \(\d\,\): analytic"
    ) as info:
        mn.gradcheck(layer, torch.randn(4, 3, generator=generator), generator=generator)
    analytic, numeric = map(float, re.findall(r"(?:analytic|numeric) (-?[\d.e+-]+)", str(info.value)))
    assert analytic == pytest.approx(2 * numeric, rel=1e-6)


def test_leaves_grads_and_values_unchanged(generator: torch.Generator) -> None:
    model = mn.Sequential(mn.Linear(3, 2, generator=generator), mn.Tanh())
    for p in model.parameters():
        p.grad.fill_(7.0)
    values = [p.value.clone() for p in model.parameters()]
    input = torch.randn(4, 3, generator=generator)
    kept = input.clone()
    assert mn.gradcheck(model, input, generator=generator)
    assert all(torch.equal(p.grad, torch.full_like(p.grad, 7.0)) for p in model.parameters())
    assert all(torch.equal(p.value, v) for p, v in zip(model.parameters(), values, strict=True))
    assert torch.equal(input, kept)


def test_loss_needs_target() -> None:
    with pytest.raises(
        ValueError, match=r"gradcheck: MSELoss\(reduction='mean'\) is a Loss, so a target is needed"
    ):
        mn.gradcheck(mn.MSELoss(), torch.zeros(2))


def test_needs_float64() -> None:
    with pytest.raises(TypeError, match=r"gradcheck: expected float64 input and parameters"):
        mn.gradcheck(mn.Linear(2, 2, dtype=torch.float32), torch.zeros(1, 2, dtype=torch.float32))


def test_skips_kinks_but_checks_the_rest() -> None:
    # ReLU at exactly 0 has one-sided derivatives 0 and 1; the central difference (0.5)
    # matches neither side, so that element is skipped and the others are still checked.
    input = torch.tensor([[-1.0, 0.0, 2.0]])
    assert mn.gradcheck(mn.ReLU(), input, generator=torch.Generator().manual_seed(0))


def test_kink_skipping_does_not_hide_a_wrong_gradient() -> None:
    class WrongReLU(mn.ReLU):
        @override
        def derivative(self, grad_output: Tensor, saved: Tensor) -> Tensor:
            return grad_output * 2 * (saved > 0)

    with pytest.raises(mn.GradcheckError, match=r"1 kink\(s\) skipped"):
        mn.gradcheck(
            WrongReLU(), torch.tensor([[-1.0, 0.0, 2.0]]), generator=torch.Generator().manual_seed(0)
        )


def test_dropout_is_deterministic_during_the_check(generator: torch.Generator) -> None:
    dropout = mn.Dropout(0.5, generator=torch.Generator().manual_seed(3))
    assert mn.gradcheck(dropout, torch.randn(4, 6, generator=generator), generator=generator)
    global_dropout = mn.Dropout(0.5)
    state = torch.get_rng_state()
    assert mn.gradcheck(global_dropout, torch.randn(4, 6, generator=generator), generator=generator)
    assert torch.equal(torch.get_rng_state(), state)


def test_restores_buffers(generator: torch.Generator) -> None:
    bn = mn.BatchNorm1d(3)
    before = {name: t.clone() for name, t in bn.state_dict().items()}
    assert mn.gradcheck(bn, torch.randn(5, 3, generator=generator), generator=generator)
    assert all(torch.equal(t, before[name]) for name, t in bn.state_dict().items())


def test_accepts_a_non_contiguous_input(generator: torch.Generator) -> None:
    input = torch.randn(3, 4, generator=generator).t()
    assert not input.is_contiguous()
    assert mn.gradcheck(mn.Tanh(), input, generator=generator)
