"""What only layers have: accumulate_grad, and the in-place variants forward_ and backward_."""

import pytest
import torch

import minitorch_nn as mn
from tests.cases import CASES, DROPOUT_SEED, ModuleCase
from tests.test_gradients import _upstream

LAYER_CASES = [case for case in CASES if case.target is None]
pytestmark = pytest.mark.parametrize("case", LAYER_CASES, ids=[case.name for case in LAYER_CASES])


def test_accumulate_grad_gives_the_parameter_gradients_of_backward(
    case: ModuleCase, generator: torch.Generator
) -> None:
    built = case.build(generator)
    module, input, _, _ = built
    assert isinstance(module, mn.Module)
    v = _upstream(case, built, generator)
    module(input)
    module.backward(v)
    expected = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    module.accumulate_grad(v)
    for param, grad in zip(module.parameters(), expected, strict=True):
        assert torch.equal(param.grad, grad)


def test_in_place_variants_match_forward_and_backward(case: ModuleCase, generator: torch.Generator) -> None:
    built = case.build(generator)
    module, input, _, _ = built
    assert isinstance(module, mn.Module)
    v = _upstream(case, built, generator)
    output = module(input).clone()
    grad_input = module.backward(v).clone()
    grads = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    if isinstance(module, mn.Dropout) and module.generator is not None:
        module.generator.manual_seed(DROPOUT_SEED)  # draw the same mask again
    assert torch.equal(module.forward_(input.clone()), output)
    assert torch.equal(module.backward_(v.clone()), grad_input)
    assert all(torch.equal(p.grad, g) for p, g in zip(module.parameters(), grads, strict=True))
