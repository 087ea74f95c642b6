"""Sequential: indexing, len, iteration, append, nesting, annotated errors, one instance per network."""

import re

import pytest
import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn._types import Tensor


def _mlp() -> mn.Sequential:
    return mn.Sequential(mn.Linear(4, 3), mn.Tanh(), mn.Linear(3, 2))


def test_indexing_len_and_iteration() -> None:
    layers = [mn.Linear(4, 3), mn.Tanh(), mn.Linear(3, 2)]
    model = mn.Sequential(*layers)
    assert len(model) == 3
    assert list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]


def test_slice_is_a_sequential_of_the_same_children() -> None:
    model = _mlp()
    head = model[:2]
    assert isinstance(head, mn.Sequential)
    assert list(head) == [model[0], model[1]]


def test_index_out_of_range() -> None:
    with pytest.raises(IndexError, match=r"Sequential: index 3 is out of range for 3 layers"):
        _mlp()[3]


def test_append_returns_self_and_extends() -> None:
    model = _mlp()
    tanh = mn.Tanh()
    assert model.append(tanh) is model
    assert len(model) == 4 and model[3] is tanh


def test_append_rejects_non_module() -> None:
    with pytest.raises(TypeError, match=r"Sequential: expected a Module at position 3, got MSELoss"):
        _mlp().append(mn.MSELoss())  # type: ignore[arg-type]  # the wrong type is the point


def test_forward_composes_children(generator: torch.Generator) -> None:
    model = _mlp()
    x = torch.randn(5, 4, generator=generator)
    expected = model[2](model[1](model[0](x)))
    assert torch.equal(model(x), expected)


def test_nested_sequential_backward_equals_flat(generator: torch.Generator) -> None:
    a, b, c = mn.Linear(4, 3), mn.Tanh(), mn.Linear(3, 2)
    nested = mn.Sequential(mn.Sequential(a, b), c)
    x, v = torch.randn(5, 4, generator=generator), torch.randn(5, 2, generator=generator)
    nested(x)
    grad_nested = nested.backward(v)
    grads_nested = [p.grad.clone() for p in nested.parameters()]
    nested.zero_grad()
    flat = mn.Sequential(a, b, c)
    flat(x)
    assert torch.equal(flat.backward(v), grad_nested)
    assert all(torch.equal(p.grad, g) for p, g in zip(flat.parameters(), grads_nested, strict=True))


def test_forward_error_names_the_failing_layer() -> None:
    model = mn.Sequential(mn.Linear(4, 3), mn.Tanh(), mn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 2\), got \(5, 3\)") as info:
        model(torch.zeros(5, 4))
    assert info.value.__notes__ == ["in Sequential layer [2]"]


def test_nested_error_gets_one_note_per_level() -> None:
    model = mn.Sequential(mn.Tanh(), mn.Sequential(mn.Tanh(), mn.Linear(2, 2)))
    with pytest.raises(ValueError, match=r"Linear\(in_features=2, out_features=2\)") as info:
        model(torch.zeros(5, 4))
    assert info.value.__notes__ == ["in Sequential layer [1]", "in Sequential layer [1]"]


def test_backward_error_names_the_failing_layer() -> None:
    model = _mlp()
    model(torch.zeros(5, 4))
    with pytest.raises(ValueError, match=r"expected grad_output of shape \(5, 2\), got \(5, 7\)") as info:
        model.backward(torch.zeros(5, 7))
    assert info.value.__notes__ == ["in Sequential layer [2]"]


def test_accumulate_grad_skips_the_first_input_gradient(generator: torch.Generator) -> None:
    class NoInputGrad(mn.Linear):
        def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
            raise AssertionError("the first layer's input gradient was computed")

    model = mn.Sequential(
        NoInputGrad(4, 3, generator=generator), mn.Tanh(), mn.Linear(3, 2, generator=generator)
    )
    reference = mn.Sequential(mn.Linear(4, 3), mn.Tanh(), mn.Linear(3, 2))
    reference.load_state_dict(model.state_dict())
    x, v = torch.randn(5, 4, generator=generator), torch.randn(5, 2, generator=generator)
    model(x)
    model.accumulate_grad(v)
    reference(x)
    reference.backward(v)
    for ours, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(ours.grad, theirs.grad)


def test_accumulate_grad_in_nested_sequential_skips_only_the_very_first(generator: torch.Generator) -> None:
    inner = mn.Sequential(mn.Linear(4, 3, generator=generator), mn.Tanh())
    model = mn.Sequential(inner, mn.Linear(3, 2, generator=generator))
    x, v = torch.randn(5, 4, generator=generator), torch.randn(5, 2, generator=generator)
    model(x)
    model.backward(v)
    expected = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(x)
    model.accumulate_grad(v)
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), expected, strict=True))


def test_activations_work_in_place_on_fresh_intermediates(generator: torch.Generator) -> None:
    model = mn.Sequential(
        mn.Linear(4, 3, generator=generator), mn.Tanh(), mn.Linear(3, 2, generator=generator)
    )
    x, v = torch.randn(5, 4, generator=generator), torch.randn(5, 2, generator=generator)
    hidden = model[0](x)
    output = model(x)
    tanh = model[1]
    assert isinstance(tanh, mn.Tanh)
    # The Linear output was fresh, so Tanh computed into it: its cached output is Linear 2's input.
    second = model[2]
    assert isinstance(second, mn.Linear)
    assert second._input is tanh._saved
    torch.testing.assert_close(tanh._saved, torch.tanh(hidden))
    kept_x, kept_v = x.clone(), v.clone()
    model.backward(v)
    assert torch.equal(x, kept_x) and torch.equal(v, kept_v)
    assert output.shape == (5, 2)


def test_no_in_place_work_on_what_the_caller_holds(generator: torch.Generator) -> None:
    # Identity returns its input: the Tanh after it must not overwrite the caller's tensor.
    model = mn.Sequential(mn.Identity(), mn.Tanh(), mn.Flatten(), mn.ReLU())
    x = torch.randn(5, 4, generator=generator)
    kept = x.clone()
    model(x)
    v = torch.randn(5, 4, generator=generator)
    kept_v = v.clone()
    model.backward(v)
    assert torch.equal(x, kept) and torch.equal(v, kept_v)


# One instance per network; shared weights through shared copies ----------------------------------

LINEAR = "Linear(in_features=3, out_features=3)"


def _repeated(module: str, first: str, second: str, kind: str = "Linear", where: str = "") -> str:
    """The whole message for ``module`` found at ``first`` and ``second``, written out."""
    return (
        f"Sequential: {module} would be at both {first} and {second}{where}; one module instance cannot "
        "run twice in a pass, since its second forward overwrites what the first backward needs. To "
        f"share its weights, put its shared_copy() at {second} instead: a new {kind} holding the same "
        "Parameters, whose gradients add into the same grad"
    )


class Wrapper(mn.Module):
    """A module of one's own that holds its children as attributes."""

    def __init__(self, first: mn.Module, second: mn.Module) -> None:
        super().__init__()
        self.first, self.second = first, second

    def forward(self, input: Tensor) -> Tensor:
        return self.second(self.first(input))

    def backward(self, grad_output: Tensor) -> Tensor:
        return self.first.backward(self.second.backward(grad_output))


def test_one_instance_at_two_positions_is_refused() -> None:
    layer = mn.Linear(3, 3)
    with pytest.raises(ValueError, match=f"^{re.escape(_repeated(LINEAR, '[0]', '[2]'))}$"):
        mn.Sequential(layer, mn.Tanh(), layer)


def test_one_activation_instance_at_two_positions_is_refused() -> None:
    relu = mn.ReLU()
    message = _repeated("ReLU()", "[1]", "[3]", kind="ReLU")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        mn.Sequential(mn.Linear(3, 3), relu, mn.Linear(3, 3), relu)


def test_one_instance_inside_and_outside_a_nested_container_is_refused() -> None:
    layer = mn.Linear(3, 3)
    with pytest.raises(ValueError, match=f"^{re.escape(_repeated(LINEAR, '[1][0]', '[3]'))}$"):
        mn.Sequential(mn.Linear(3, 3), mn.Sequential(layer, mn.Tanh()), mn.Tanh(), layer)


def test_one_container_at_two_positions_is_refused() -> None:
    block = mn.Sequential(mn.Linear(3, 3), mn.Tanh())
    message = _repeated("Sequential(...)", "[0]", "[1]", kind="Sequential")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        mn.Sequential(block, block)


def test_append_of_an_instance_already_held_is_refused_and_changes_nothing() -> None:
    layer = mn.Linear(3, 3)
    model = mn.Sequential(layer, mn.Tanh())
    with pytest.raises(ValueError, match=f"^{re.escape(_repeated(LINEAR, '[0]', '[2]'))}$"):
        model.append(layer)
    assert list(model) == [layer, model[1]]


def test_append_to_an_inner_container_checks_the_enclosing_network() -> None:
    layer = mn.Linear(3, 3)
    inner = mn.Sequential(mn.Linear(3, 3))
    outer = mn.Sequential(inner, mn.Tanh(), layer)
    message = _repeated(LINEAR, "[0][1]", "[2]", where=" of the enclosing Sequential")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        inner.append(layer)
    assert len(inner) == 1 and len(outer) == 3


def test_append_below_a_module_of_ones_own_checks_the_enclosing_network() -> None:
    layer = mn.Linear(3, 3)
    body = mn.Sequential(mn.Linear(3, 3))
    outer = mn.Sequential(Wrapper(body, mn.Tanh()), layer)
    message = _repeated(LINEAR, "[0].first[1]", "[1]", where=" of the enclosing Sequential")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        body.append(layer)
    assert len(body) == 1 and len(outer) == 2


def test_one_instance_at_two_attributes_of_a_module_of_ones_own_is_refused() -> None:
    layer = mn.Linear(3, 3)
    message = _repeated(LINEAR, "[1].first", "[1].second")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        mn.Sequential(mn.Tanh(), Wrapper(layer, layer))


def test_container_cannot_hold_itself() -> None:
    model = _mlp()
    message = "Sequential: a module cannot contain itself, got this Sequential at [3]"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        model.append(model)
    assert len(model) == 3


def test_container_cannot_hold_a_container_that_holds_it() -> None:
    inner = mn.Sequential(mn.Tanh())
    outer = mn.Sequential(mn.Linear(3, 3), inner)
    message = (
        "Sequential: a module cannot contain itself, got Sequential(...) at [1], "
        "which holds this Sequential at [1]"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        inner.append(outer)
    assert len(inner) == 1


def test_one_instance_in_two_separate_networks_is_allowed() -> None:
    block = mn.Sequential(mn.Linear(3, 3), mn.Tanh())
    first, second = mn.Sequential(block, mn.Linear(3, 2)), mn.Sequential(mn.Linear(3, 3), block)
    head = first[:1]
    block.append(mn.Tanh())  # held by three networks, at one position in each
    assert first[0] is second[1] is head[0] is block and len(block) == 3


def _reference_twice(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """``Sequential(layer, Tanh(), layer.shared_copy())`` in plain torch: one weight used twice."""
    return F.linear(torch.tanh(F.linear(x, weight, bias)), weight, bias)


def test_shared_copy_network_gradients_match_autograd(generator: torch.Generator) -> None:
    layer = mn.Linear(3, 3, generator=generator)
    model = mn.Sequential(layer, mn.Tanh(), layer.shared_copy())
    x, v = torch.randn(5, 3, generator=generator), torch.randn(5, 3, generator=generator)
    output = model(x)
    grad_input = model.backward(v)
    assert layer.bias is not None
    leaves = [t.clone().requires_grad_() for t in (x, layer.weight.value, layer.bias.value)]
    with torch.enable_grad():
        expected_output = _reference_twice(*leaves)
        expected = torch.autograd.grad(expected_output, leaves, grad_outputs=v)
    torch.testing.assert_close(output, expected_output.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_input, expected[0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(layer.weight.grad, expected[1], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(layer.bias.grad, expected[2], rtol=1e-10, atol=1e-12)


def test_shared_copies_across_nested_containers_match_autograd(generator: torch.Generator) -> None:
    block = mn.Sequential(mn.Linear(3, 3, generator=generator), mn.Tanh())
    middle, head = mn.Linear(3, 3, generator=generator), mn.Linear(3, 2, generator=generator)
    model = mn.Sequential(block, mn.Sequential(middle, block.shared_copy()), head)
    x, v = torch.randn(5, 3, generator=generator), torch.randn(5, 2, generator=generator)
    model(x)
    grad_input = model.backward(v)
    params = list(model.parameters())
    assert [name for name, _ in model.named_parameters()] == [
        "0.0.weight", "0.0.bias", "1.0.weight", "1.0.bias", "2.weight", "2.bias",
    ]  # fmt: skip
    leaves = [x.clone().requires_grad_()] + [p.value.clone().requires_grad_() for p in params]
    with torch.enable_grad():
        h, w1, b1, w2, b2, w3, b3 = leaves
        h = torch.tanh(F.linear(h, w1, b1))
        h = torch.tanh(F.linear(F.linear(h, w2, b2), w1, b1))  # the shared block again
        expected = torch.autograd.grad(F.linear(h, w3, b3), leaves, grad_outputs=v)
    torch.testing.assert_close(grad_input, expected[0], rtol=1e-10, atol=1e-12)
    for (name, param), grad in zip(model.named_parameters(), expected[1:], strict=True):
        torch.testing.assert_close(param.grad, grad, rtol=1e-10, atol=1e-12, msg=f"gradient of {name}")


def test_sgd_steps_a_shared_parameter_once_with_the_summed_gradient(generator: torch.Generator) -> None:
    layer = mn.Linear(3, 3, generator=generator)
    model = mn.Sequential(layer, mn.Tanh(), layer.shared_copy())
    x, v = torch.randn(5, 3, generator=generator), torch.randn(5, 3, generator=generator)
    assert layer.bias is not None
    weight, bias = layer.weight.value.clone(), layer.bias.value.clone()
    leaves = [weight.clone().requires_grad_(), bias.clone().requires_grad_()]
    with torch.enable_grad():
        summed = torch.autograd.grad(_reference_twice(x, *leaves), leaves, grad_outputs=v)
    optimizer = mn.SGD(model.parameters(), lr=0.1)
    model(x)
    model.backward(v)
    optimizer.step()
    assert optimizer.params == [layer.weight, layer.bias]
    torch.testing.assert_close(layer.weight.value, weight - 0.1 * summed[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer.bias.value, bias - 0.1 * summed[1], rtol=1e-12, atol=1e-12)
