"""One suite over the registry: forward, backward, accumulation and purity of every module."""

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn._types import Tensor
from tests.cases import CASES, ModuleCase

pytestmark = pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])


def _run(
    module: mn.Module | mn.Loss, input: Tensor, target: Tensor | None, v: Tensor
) -> tuple[Tensor, Tensor]:
    """Forward then backward; return (output, input gradient)."""
    if isinstance(module, mn.Loss):
        assert target is not None
        return module(input, target), module.backward()
    output = module(input)
    return output, module.backward(v)


def _seed(module: mn.Module | mn.Loss, input: Tensor, target: Tensor | None, g: torch.Generator) -> Tensor:
    """The upstream gradient ``v``: random for a layer, ignored for a loss."""
    if isinstance(module, mn.Loss):
        return torch.ones(())
    with torch.no_grad():
        shape = module(input).shape
    return torch.randn(shape, generator=g)


def test_forward_matches_reference(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = case.build(generator)
    expected = case.reference(input, [p.value for p in module.parameters()], target)
    output, _ = _run(module, input, target, _seed(module, input, target, generator))
    torch.testing.assert_close(output, expected, rtol=1e-12, atol=1e-12)


def test_backward_matches_autograd(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = case.build(generator)
    v = _seed(module, input, target, generator)
    module.zero_grad()
    _, grad_input = _run(module, input, target, v)

    leaves = [input.clone().requires_grad_()] + [
        p.value.clone().requires_grad_() for p in module.parameters()
    ]
    with torch.enable_grad():
        out = case.reference(leaves[0], leaves[1:], target)
        expected = torch.autograd.grad(out, leaves, grad_outputs=v)
    torch.testing.assert_close(grad_input, expected[0], rtol=1e-10, atol=1e-12)
    for (name, param), grad in zip(module.named_parameters(), expected[1:], strict=True):
        torch.testing.assert_close(
            param.grad, grad, rtol=1e-10, atol=1e-12, msg=f"gradient of {name} differs"
        )


def test_backward_matches_finite_differences(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = case.build(generator)
    assert mn.gradcheck(module, input, target, eps=1e-6, rtol=1e-5, atol=1e-7, generator=generator)


def test_backward_accumulates(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = case.build(generator)
    v = _seed(module, input, target, generator)
    module.zero_grad()
    _run(module, input, target, v)
    once = [p.grad.clone() for p in module.parameters()]
    _run(module, input, target, v)
    for param, first in zip(module.parameters(), once, strict=True):
        torch.testing.assert_close(param.grad, 2 * first, rtol=0, atol=0)


def test_zero_grad_clears(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = case.build(generator)
    _run(module, input, target, _seed(module, input, target, generator))
    module.zero_grad()
    for param in module.parameters():
        assert torch.count_nonzero(param.grad) == 0


def test_inputs_not_modified(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = case.build(generator)
    v = _seed(module, input, target, generator)
    copies = [t.clone() for t in (input, v, target) if t is not None]
    _run(module, input, target, v)
    for original, copy in zip([t for t in (input, v, target) if t is not None], copies, strict=True):
        assert torch.equal(original, copy)


def test_backward_does_not_alias_its_result(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = case.build(generator)
    v = _seed(module, input, target, generator)
    _, first = _run(module, input, target, v)
    kept = first.clone()
    _run(module, torch.randn(input.shape, generator=generator), target, v)
    assert torch.equal(first, kept)
