"""What only layers have: accumulate_grad, and the in-place variants forward_ and backward_.

``accumulate_grad`` is checked on the layers with parameters: for the others
it adds nothing, so there is nothing to compare.
"""

import torch

import minitorch_nn as mn
from tests.cases import CASES, DROPOUT_SEED, ModuleCase
from tests.test_gradients import PARAMETER_CASES, _upstream, over

LAYER_CASES = [case for case in CASES if case.target is None]


@over([case for case in PARAMETER_CASES if case.target is None])
def test_accumulate_grad_gives_the_parameter_gradients_of_backward(
    case: ModuleCase, generator: torch.Generator
) -> None:
    built = case.build(generator)
    module, input, _, _ = built
    assert isinstance(module, mn.Module)
    v = _upstream(case, built, generator)
    module(input)
    module.backward(v)
    expected = {name: p.grad.clone() for name, p in module.named_parameters()}
    assert all(torch.count_nonzero(grad) > 0 for grad in expected.values())  # else zeros would match
    module.zero_grad()
    module.accumulate_grad(v)
    for name, param in module.named_parameters():
        assert torch.equal(param.grad, expected[name]), name


@over(LAYER_CASES)
def test_in_place_variants_match_forward_and_backward(case: ModuleCase, generator: torch.Generator) -> None:
    built = case.build(generator)
    module, input, _, _ = built
    assert isinstance(module, mn.Module)
    v = _upstream(case, built, generator)
    output = module(input).clone()
    grad_input = module.backward(v).clone()
    grads = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    if (
        isinstance(module, mn.Dropout | mn.MultiheadAttention | mn.RNN | mn.LSTM | mn.GRU)
        and module.generator is not None
    ):
        module.generator.manual_seed(DROPOUT_SEED)  # draw the same mask again
    assert torch.equal(module.forward_(input.clone()), output)
    assert torch.equal(module.backward_(v.clone()), grad_input)
    assert all(torch.equal(p.grad, g) for p, g in zip(module.parameters(), grads, strict=True))
