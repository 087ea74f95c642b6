"""One suite over the registry: forward, backward, accumulation, purity and modes of every module.

Every test runs over every case, except those about parameter gradients
(``zero_grad``), which run over the cases whose module has parameters: for
the others they would assert nothing.
"""

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn._types import Tensor
from tests.cases import CASES, Dims, ModuleCase

Built = tuple[mn.Module | mn.Loss, Tensor, Tensor | None, Dims]


def has_parameters(case: ModuleCase) -> bool:
    """Whether the case's module has a ``Parameter`` (which does not depend on the drawn sizes)."""
    module, _, _, _ = case.build(torch.Generator().manual_seed(0))
    return next(iter(module.parameters()), None) is not None


def over(cases: list[ModuleCase]) -> pytest.MarkDecorator:
    """Parametrise a test over ``cases``, with the case names as ids."""
    return pytest.mark.parametrize("case", cases, ids=[case.name for case in cases])


PARAMETER_CASES = [case for case in CASES if has_parameters(case)]


def _forward(module: mn.Module | mn.Loss, input: Tensor, target: Tensor | None) -> Tensor:
    if isinstance(module, mn.Loss):
        assert target is not None
        return module(input, target)
    return module(input)


def _backward(module: mn.Module | mn.Loss, v: Tensor) -> Tensor:
    return module.backward(v)


def _upstream(case: ModuleCase, built: Built, g: torch.Generator) -> Tensor:
    """The upstream gradient ``v``: random, of the reference output's shape (0-dim for a reduced loss)."""
    module, input, target, dims = built
    return torch.randn(case.expected(module, input, target, dims).shape, generator=g)


@over(CASES)
def test_forward_matches_reference(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target, dims = case.build(generator)
    expected = case.expected(module, input, target, dims)
    torch.testing.assert_close(_forward(module, input, target), expected, rtol=1e-12, atol=1e-12)


@over(CASES)
def test_backward_matches_autograd(case: ModuleCase, generator: torch.Generator) -> None:
    built = case.build(generator)
    module, input, target, dims = built
    v = _upstream(case, built, generator)
    _forward(module, input, target)
    grad_input = _backward(module, v)

    # An integer input (indices) is no leaf: it has no gradient, only the parameters are checked.
    leaf = input.clone().requires_grad_(case.differentiable_input)
    params = [p.value.clone().requires_grad_() for p in module.parameters()]
    leaves = [leaf, *params] if case.differentiable_input else params
    with torch.enable_grad():
        out = case.reference(leaf, params, target, dims)
        expected = torch.autograd.grad(out, leaves, grad_outputs=v)
    if case.differentiable_input:
        torch.testing.assert_close(grad_input, expected[0], rtol=1e-10, atol=1e-12)
    expected_params = expected[case.differentiable_input :]
    for (name, param), grad in zip(module.named_parameters(), expected_params, strict=True):
        torch.testing.assert_close(
            param.grad, grad, rtol=1e-10, atol=1e-12, msg=f"gradient of {name} differs"
        )


@over(CASES)
def test_backward_matches_finite_differences(case: ModuleCase, generator: torch.Generator) -> None:
    if not case.finite_differences:
        pytest.skip("a gradient here is a convention, not the derivative (see the case)")
    module, input, target, _ = case.build(generator)
    assert mn.gradcheck(module, input, target, eps=1e-6, rtol=1e-5, atol=1e-7, generator=generator)


@over(CASES)
def test_backward_accumulates(case: ModuleCase, generator: torch.Generator) -> None:
    built = case.build(generator)
    module, input, target, _ = built
    v = _upstream(case, built, generator)
    _forward(module, input, target)
    first_input_grad = _backward(module, v)
    once = [p.grad.clone() for p in module.parameters()]
    second_input_grad = _backward(module, v)
    assert torch.equal(first_input_grad, second_input_grad)
    for (name, param), first in zip(module.named_parameters(), once, strict=True):
        assert torch.count_nonzero(first) > 0, name  # else doubling it would show nothing
        assert torch.equal(param.grad, 2 * first), name


@over(PARAMETER_CASES)
def test_zero_grad_clears(case: ModuleCase, generator: torch.Generator) -> None:
    built = case.build(generator)
    module, input, target, _ = built
    _forward(module, input, target)
    _backward(module, _upstream(case, built, generator))
    buffers = {name: param.grad for name, param in module.named_parameters()}
    assert all(torch.count_nonzero(grad) > 0 for grad in buffers.values())  # something to clear
    module.zero_grad()
    for name, param in module.named_parameters():
        assert param.grad is buffers[name] and torch.count_nonzero(param.grad) == 0, name


@over(CASES)
def test_inputs_not_modified(case: ModuleCase, generator: torch.Generator) -> None:
    built = case.build(generator)
    module, input, target, _ = built
    v = _upstream(case, built, generator)
    originals = [t for t in (input, v, target) if t is not None]
    copies = [t.clone() for t in originals]
    _forward(module, input, target)
    _backward(module, v)
    for original, copy in zip(originals, copies, strict=True):
        assert torch.equal(original, copy)


@over(CASES)
def test_backward_result_is_not_overwritten_later(case: ModuleCase, generator: torch.Generator) -> None:
    built = case.build(generator)
    module, input, target, _ = built
    v = _upstream(case, built, generator)
    _forward(module, input, target)
    first = _backward(module, v)
    kept = first.clone()
    if not case.differentiable_input:
        pytest.skip("an integer input has no gradient: backward gives fresh zeros, nothing to overwrite")
    _forward(module, case.input(input.shape, generator), target)  # within the input's domain (BCELoss)
    second = _backward(module, torch.randn(v.shape, generator=generator))
    assert not torch.equal(second, kept)  # so that writing it into ``first`` would show
    assert torch.equal(first, kept)
