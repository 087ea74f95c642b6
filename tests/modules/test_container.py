"""Containers: Sequential (indexing, len, iteration, append, nesting), Residual and Concat.

Annotated errors, one instance per network, shared copies, accumulate_grad, what backward must not
touch, names, repr and state_dict as torch.nn's, leaves, summary and fit's non-finite diagnosis.
"""

import math
import re
from collections.abc import Callable

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
    with pytest.raises(ValueError, match=r"expected input of shape \(\*, 2\), got \(5, 3\)") as info:
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


# Residual and Concat ------------------------------------------------------------------------------


class Failing(mn.Module):
    """The identity in forward; its backward raises, so that a backward error's notes show."""

    def forward(self, input: Tensor) -> Tensor:
        return input

    def backward(self, grad_output: Tensor) -> Tensor:
        raise ValueError("Failing: backward failed")


def _notes(call: Callable[[], object], error: type[Exception] = ValueError) -> list[str]:
    with pytest.raises(error) as info:
        call()
    return list(getattr(info.value, "__notes__", []))


def test_residual_body_error_is_noted() -> None:
    block = mn.Residual(mn.Sequential(mn.Tanh(), mn.Linear(4, 3)))
    assert _notes(lambda: block(torch.zeros(2, 3))) == ["in Sequential layer [1]", "in Residual.body"]


def test_residual_shortcut_error_is_noted() -> None:
    block = mn.Residual(mn.Linear(3, 2), shortcut=mn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"^Linear\(in_features=4, out_features=2\): expected input") as info:
        block(torch.zeros(2, 3))
    assert info.value.__notes__ == ["in Residual.shortcut"]


def test_concat_branch_error_is_noted() -> None:
    both = mn.Concat(mn.Identity(), mn.Linear(4, 2), mn.Tanh())
    assert _notes(lambda: both(torch.zeros(2, 3))) == ["in Concat branch [1]"]


def test_nested_errors_get_one_note_per_level_in_forward_and_backward() -> None:
    inner = mn.Concat(mn.Identity(), mn.Sequential(mn.Linear(3, 3), Failing(), mn.Tanh()))
    model = mn.Sequential(mn.Tanh(), mn.Residual(inner, shortcut=mn.Linear(3, 6)))
    model(torch.zeros(2, 3))
    expected = [
        "in Sequential layer [1]",
        "in Concat branch [1]",
        "in Residual.body",
        "in Sequential layer [1]",
    ]
    assert _notes(lambda: model.backward(torch.zeros(2, 6))) == expected
    assert _notes(lambda: model.accumulate_grad(torch.zeros(2, 6))) == expected
    broken = mn.Sequential(mn.Residual(mn.Concat(mn.Identity(), mn.Sequential(mn.Linear(5, 2)))))
    assert _notes(lambda: broken(torch.zeros(2, 3))) == [
        "in Sequential layer [0]", "in Concat branch [1]", "in Residual.body", "in Sequential layer [0]",
    ]  # fmt: skip


def test_accumulate_grad_skips_the_children_before_the_first_with_parameters(
    generator: torch.Generator,
) -> None:
    # Failing's backward raises: accumulate_grad must not call it (nothing of it is needed), backward must.
    layer = mn.Linear(3, 2, generator=generator)
    model = mn.Sequential(Failing(), mn.Flatten(), layer, mn.Tanh())
    x, v = torch.randn(4, 3, generator=generator), torch.randn(4, 2, generator=generator)
    model(x)
    model.accumulate_grad(v)
    assert layer.bias is not None
    with torch.enable_grad():
        weight = layer.weight.value.clone().requires_grad_()
        bias = layer.bias.value.clone().requires_grad_()
        expected = torch.autograd.grad(torch.tanh(x @ weight.t() + bias), [weight, bias], grad_outputs=v)
    torch.testing.assert_close(layer.weight.grad, expected[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer.bias.grad, expected[1], rtol=1e-12, atol=1e-12)
    assert _notes(lambda: model.backward(v)) == ["in Sequential layer [0]"]


def test_residual_shortcut_backward_error_is_noted() -> None:
    block = mn.Residual(mn.Linear(3, 3), shortcut=Failing())
    block(torch.zeros(2, 3))
    assert _notes(lambda: block.backward(torch.zeros(2, 3))) == ["in Residual.shortcut"]


RESIDUAL_MISMATCH = (
    "Residual: expected the body's output to have the shortcut's shape {}, got {}; "
    "give a shortcut that maps the input to the body's output shape"
)


@pytest.mark.parametrize(
    ("build", "shape", "message"),
    [
        (lambda: mn.Residual(mn.Linear(3, 4)), (2, 3), RESIDUAL_MISMATCH.format("(2, 3)", "(2, 4)")),
        (
            lambda: mn.Residual(mn.Linear(3, 4), shortcut=mn.Linear(3, 5)),
            (2, 3),
            RESIDUAL_MISMATCH.format("(2, 5)", "(2, 4)"),
        ),
        # A broadcast sum would be another network (and another gradient): refused.
        (lambda: mn.Residual(mn.Linear(3, 1)), (2, 3), RESIDUAL_MISMATCH.format("(2, 3)", "(2, 1)")),
        (
            lambda: mn.Concat(mn.Identity(), mn.Linear(3, 4), dim=0),
            (2, 3),
            "Concat(dim=0): expected branch [1]'s output to match branch [0]'s (2, 3) in every "
            "dimension but 0, got (2, 4)",
        ),
        (
            lambda: mn.Concat(mn.Identity(), mn.Identity(), mn.Flatten()),
            (2, 3, 2),
            "Concat(dim=1): expected branch [2]'s output to match branch [0]'s (2, 3, 2) in every "
            "dimension but 1, got (2, 6)",
        ),
        (
            lambda: mn.Concat(mn.Identity(), dim=2),
            (2, 3),
            "Concat(dim=2): expected dim in [-2, 1] for 2-D outputs, got 2",
        ),
        (
            lambda: mn.Concat(mn.Identity(), dim=-3),
            (2, 3),
            "Concat(dim=-3): expected dim in [-2, 1] for 2-D outputs, got -3",
        ),
    ],
    ids=[
        "residual-identity",
        "residual-shortcut",
        "residual-broadcast",
        "concat-dim0",
        "concat-rank",
        "concat-dim-high",
        "concat-dim-low",
    ],
)
def test_forward_shape_errors(build: Callable[[], mn.Module], shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        build()(torch.zeros(shape))


def test_concat_negative_dim_counts_from_the_end(generator: torch.Generator) -> None:
    x = torch.randn(2, 3, 4, generator=generator)
    assert torch.equal(mn.Concat(mn.Identity(), mn.Tanh(), dim=-1)(x), torch.cat([x, torch.tanh(x)], dim=2))
    assert torch.equal(mn.Concat(mn.Identity(), mn.Tanh(), dim=-3)(x), torch.cat([x, torch.tanh(x)], dim=0))


@pytest.mark.parametrize(
    ("build", "wrong", "message"),
    [
        (
            lambda: mn.Residual(mn.Linear(3, 3)),
            (2, 4),
            "Residual: expected grad_output of shape (2, 3), got (2, 4)",
        ),
        (
            lambda: mn.Concat(mn.Identity(), mn.Linear(3, 1)),
            (2, 5),
            "Concat(dim=1): expected grad_output of shape (2, 4), got (2, 5)",
        ),
    ],
    ids=["residual", "concat"],
)
def test_grad_output_shape_errors(
    build: Callable[[], mn.Module], wrong: tuple[int, ...], message: str
) -> None:
    module = build()
    module(torch.zeros(2, 3))
    for call in (module.backward, module.accumulate_grad):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            call(torch.zeros(wrong))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: mn.Residual(mn.Linear(3, 3)), "Residual: backward called before forward"),
        (lambda: mn.Concat(mn.Linear(3, 3), dim=-1), "Concat(dim=-1): backward called before forward"),
    ],
    ids=["residual", "concat"],
)
def test_backward_before_forward(build: Callable[[], mn.Module], message: str) -> None:
    module = build()
    for call in (module.backward, module.accumulate_grad):
        with pytest.raises(RuntimeError, match=f"^{re.escape(message)}$"):
            call(torch.zeros(2, 3))


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: mn.Concat(), ValueError, "Concat: expected at least one branch, got none"),
        (
            lambda: mn.Concat(mn.Identity(), dim=1.0),  # type: ignore[arg-type]  # the wrong type is the point
            TypeError,
            "Concat: expected dim to be an int, got 1.0",
        ),
        (
            lambda: mn.Concat(mn.Identity(), dim=True),
            TypeError,
            "Concat: expected dim to be an int, got True",
        ),
        (
            lambda: mn.Concat(mn.Tanh(), mn.MSELoss()),  # type: ignore[arg-type]  # the wrong type is the point
            TypeError,
            "Concat: expected a Module at position 1, got MSELoss",
        ),
        (
            lambda: mn.Residual(mn.MSELoss()),  # type: ignore[arg-type]  # the wrong type is the point
            TypeError,
            "Residual: expected a Module at body, got MSELoss",
        ),
        (
            lambda: mn.Residual(mn.Tanh(), 3),  # type: ignore[arg-type]  # the wrong type is the point
            TypeError,
            "Residual: expected a Module at shortcut, got int",
        ),
    ],
    ids=["no-branches", "float-dim", "bool-dim", "concat-loss", "residual-loss", "shortcut-int"],
)
def test_constructor_errors(build: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        build()


# repr, names and state_dict as torch.nn has them for the same nesting ---------------------------


class TorchResidual(torch.nn.Module):
    """torch's module for ``Residual``: the children ``body`` and (when given) ``shortcut``."""

    def __init__(self, body: torch.nn.Module, shortcut: torch.nn.Module | None = None) -> None:
        super().__init__()
        self.body = body
        if shortcut is not None:
            self.shortcut = shortcut

    def _get_name(self) -> str:
        return "Residual"

    def forward(self, x: Tensor) -> Tensor:
        skip = self.shortcut(x) if hasattr(self, "shortcut") else x
        out: Tensor = self.body(x) + skip
        return out


class TorchConcat(torch.nn.Module):
    """torch's module for ``Concat``: branches registered as ``0``, ``1``, ... and ``dim`` as a setting."""

    def __init__(self, *branches: torch.nn.Module, dim: int = 1) -> None:
        super().__init__()
        self.dim = dim
        for index, branch in enumerate(branches):
            self.add_module(str(index), branch)

    def _get_name(self) -> str:
        return "Concat"

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([branch(x) for branch in self.children()], dim=self.dim)


def _twins() -> tuple[mn.Sequential, torch.nn.Sequential]:
    """One nest, ours and torch.nn's, with the same children, names and settings."""
    ours = mn.Sequential(
        mn.Conv2d(2, 4, 3, padding=1),
        mn.Residual(mn.Sequential(mn.ReLU(), mn.Conv2d(4, 4, 3, padding=1)), shortcut=mn.Identity()),
        mn.Concat(mn.Identity(), mn.Sequential(mn.Tanh(), mn.Conv2d(4, 2, 1), mn.Sigmoid())),
        mn.Residual(mn.Tanh()),
        mn.MaxPool2d(2),
        mn.Flatten(),
        mn.Concat(mn.Softmax(dim=1), mn.LeakyReLU(0.2), dim=0),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1),
        TorchResidual(
            torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Conv2d(4, 4, 3, padding=1)),
            shortcut=torch.nn.Identity(),
        ),
        TorchConcat(
            torch.nn.Identity(),
            torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Conv2d(4, 2, 1), torch.nn.Sigmoid()),
        ),
        TorchResidual(torch.nn.Tanh()),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        TorchConcat(torch.nn.Softmax(dim=1), torch.nn.LeakyReLU(0.2), dim=0),
    )
    return ours, theirs


def test_repr_is_torchs_for_the_same_nest() -> None:
    ours, theirs = _twins()
    assert repr(ours) == repr(theirs)


def test_repr_of_residual_and_concat_written_out() -> None:
    block = mn.Residual(
        mn.Concat(mn.Identity(), mn.Sequential(mn.Linear(3, 2), mn.Tanh()), dim=-1),
        shortcut=mn.Linear(3, 5, bias=False),
    )
    assert repr(block) == (
        "Residual(\n"
        "  (body): Concat(\n"
        "    dim=-1\n"
        "    (0): Identity()\n"
        "    (1): Sequential(\n"
        "      (0): Linear(in_features=3, out_features=2)\n"
        "      (1): Tanh()\n"
        "    )\n"
        "  )\n"
        "  (shortcut): Linear(in_features=3, out_features=5, bias=False)\n"
        ")"
    )


def test_named_modules_are_torchs_for_the_same_nest() -> None:
    ours, theirs = _twins()
    assert [(name, type(module).__name__) for name, module in ours.named_modules()] == [
        (name, module._get_name()) for name, module in theirs.named_modules()
    ]
    assert [name for name, _ in ours.named_modules(prefix="net")] == [
        name for name, _ in theirs.named_modules(prefix="net")
    ]
    assert list(ours.modules()) == [module for _, module in ours.named_modules()]


def test_state_dict_keys_are_torchs_and_its_values_give_torchs_output(generator: torch.Generator) -> None:
    ours, theirs = _twins()
    theirs.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "1.body.1.weight" in ours.state_dict() and "2.1.1.bias" in ours.state_dict()
    ours.load_state_dict({name: value.detach() for name, value in theirs.state_dict().items()})
    x = torch.randn(3, 2, 6, 6, generator=generator)
    with torch.no_grad():
        expected = theirs(x)
    torch.testing.assert_close(ours(x), expected, rtol=1e-12, atol=1e-12)


def test_state_dict_keys_of_body_shortcut_and_branches() -> None:
    block = mn.Residual(mn.Sequential(mn.Linear(3, 3), mn.Tanh()), shortcut=mn.Linear(3, 3))
    assert list(block.state_dict()) == ["body.0.weight", "body.0.bias", "shortcut.weight", "shortcut.bias"]
    both = mn.Concat(mn.Identity(), mn.Sequential(mn.Linear(3, 2, bias=False)))
    assert list(both.state_dict()) == ["1.0.weight"]


# One instance per network; shared copies ---------------------------------------------------------


def test_residual_refuses_one_instance_as_body_and_shortcut() -> None:
    layer = mn.Linear(3, 3)
    message = (
        "Residual: body and shortcut are one instance; give the shortcut its own module "
        "(or body.shared_copy() to share the weights)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        mn.Residual(layer, shortcut=layer)


def _repeated_in(owner: str, first: str, second: str, where: str = "") -> str:
    return _repeated(LINEAR, first, second, where=where).replace("Sequential: ", f"{owner}: ", 1)


@pytest.mark.parametrize(
    ("build", "owner", "first", "second"),
    [
        (lambda layer: mn.Concat(layer, layer), "Concat", "[0]", "[1]"),
        (
            lambda layer: mn.Residual(mn.Sequential(layer), shortcut=layer),
            "Residual",
            ".body[0]",
            ".shortcut",
        ),
        (
            lambda layer: mn.Concat(mn.Identity(), mn.Residual(mn.Sequential(mn.Tanh(), layer)), layer),
            "Concat",
            "[1].body[1]",
            "[2]",
        ),
        (lambda layer: mn.Sequential(mn.Residual(layer), layer), "Sequential", "[0].body", "[1]"),
    ],
    ids=["two-branches", "body-and-shortcut", "nested-branch", "body-and-after"],
)
def test_one_instance_at_two_places_of_a_branching_nest_is_refused(
    build: Callable[[mn.Module], mn.Module], owner: str, first: str, second: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(_repeated_in(owner, first, second))}$"):
        build(mn.Linear(3, 3))


def test_append_inside_a_residual_checks_the_enclosing_network() -> None:
    layer, body = mn.Linear(3, 3), mn.Sequential(mn.Tanh())
    block = mn.Residual(body, shortcut=layer)
    message = _repeated(LINEAR, ".body[1]", ".shortcut", where=" of the enclosing Residual")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        body.append(layer)
    assert len(body) == 1 and block.body is body


def test_a_branch_cannot_hold_its_concat() -> None:
    inner = mn.Sequential(mn.Tanh())
    outer = mn.Concat(mn.Identity(), mn.Residual(inner))
    message = (
        "Sequential: a module cannot contain itself, got Concat(...) at [1], which holds this Sequential "
        "at [1].body"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        inner.append(outer)


def _shared_reference(x: Tensor, params: list[Tensor]) -> Tensor:
    """``Sequential(block, block.shared_copy())`` for the block of ``_shared_model``, in plain torch."""
    w1, b1, w2, w3, b3 = params

    def block(h: Tensor) -> Tensor:
        residual = F.linear(torch.tanh(F.linear(h, w1, b1)), w2) + h
        return torch.cat([residual, F.linear(residual, w3, b3)], dim=1)

    return block(block(x)[:, :3])


def _shared_model(generator: torch.Generator) -> tuple[mn.Sequential, mn.Module]:
    residual = mn.Residual(
        mn.Sequential(
            mn.Linear(3, 3, generator=generator), mn.Tanh(), mn.Linear(3, 3, bias=False, generator=generator)
        )
    )
    block = mn.Concat(residual, mn.Sequential(residual.shared_copy(), mn.Linear(3, 2, generator=generator)))
    return mn.Sequential(block, Slice(3), block.shared_copy()), block


class Slice(mn.Module):
    """The first ``width`` features; backward pads with zeros."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width
        self._shape: torch.Size | None = None

    def forward(self, input: Tensor) -> Tensor:
        self._shape = input.shape
        return input[:, : self.width].clone()

    def backward(self, grad_output: Tensor) -> Tensor:
        grad = grad_output.new_zeros(self._cached_shape())
        grad[:, : self.width] = grad_output
        return grad

    def _cached_shape(self) -> torch.Size:
        if self._shape is None:
            raise RuntimeError("Slice: backward called before forward")
        return self._shape


def test_shared_copies_of_residual_and_concat_share_weights_not_caches(generator: torch.Generator) -> None:
    model, block = _shared_model(generator)
    twin = model[2]
    assert isinstance(block, mn.Concat) and isinstance(twin, mn.Concat)
    assert twin is not block and len(twin) == 2 and twin.dim == block.dim
    pairs = list(zip(block.modules(), twin.modules(), strict=True))
    assert all(type(a) is type(b) and a is not b for a, b in pairs)
    assert [id(p) for p in block.parameters()] == [id(p) for p in twin.parameters()]
    assert [name for name, _ in model.named_parameters()] == [
        "0.0.body.0.weight", "0.0.body.0.bias", "0.0.body.2.weight", "0.1.1.weight", "0.1.1.bias",
    ]  # fmt: skip
    twin_residual = twin[0]
    assert isinstance(twin_residual, mn.Residual)
    assert twin_residual._shape is None and twin._shape is None  # a copy made after a forward starts empty


def test_shared_copies_of_residual_and_concat_add_their_gradients(generator: torch.Generator) -> None:
    model, _ = _shared_model(generator)
    x, v = torch.randn(4, 3, generator=generator), torch.randn(4, 5, generator=generator)
    output = model(x)
    grad_input = model.backward(v)
    leaves = [x.clone().requires_grad_()] + [p.value.clone().requires_grad_() for p in model.parameters()]
    with torch.enable_grad():
        expected_output = _shared_reference(leaves[0], leaves[1:])
        expected = torch.autograd.grad(expected_output, leaves, grad_outputs=v)
    torch.testing.assert_close(output, expected_output.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_input, expected[0], rtol=1e-10, atol=1e-12)
    for (name, param), grad in zip(model.named_parameters(), expected[1:], strict=True):
        torch.testing.assert_close(param.grad, grad, rtol=1e-10, atol=1e-12, msg=f"gradient of {name}")


# accumulate_grad ---------------------------------------------------------------------------------


class Spy(mn.Linear):
    """A Linear that counts the calls that compute an input gradient (``backward``, ``backward_``)."""

    def __init__(self, in_features: int, out_features: int, generator: torch.Generator) -> None:
        super().__init__(in_features, out_features, generator=generator)
        self.input_grads = 0

    def backward(self, grad_output: Tensor) -> Tensor:
        self.input_grads += 1
        return super().backward(grad_output)

    def backward_(self, grad_output: Tensor) -> Tensor:
        self.input_grads += 1
        return super().backward(grad_output)  # Linear's: the default backward_ would count twice


def _spied(generator: torch.Generator) -> tuple[mn.Module, list[Spy]]:
    """A nest whose first layers on every path from the input are spies."""
    g = generator
    spies = [Spy(3, 3, g), Spy(3, 3, g), Spy(3, 2, g), Spy(3, 1, g)]
    model = mn.Concat(
        mn.Residual(mn.Sequential(spies[0], mn.Tanh(), mn.Linear(3, 3, generator=g)), shortcut=spies[1]),
        spies[2],
        mn.Sequential(spies[3], mn.Sigmoid()),
        mn.Identity(),
    )
    return model, spies


def test_accumulate_grad_gives_backwards_parameter_gradients_without_the_first_input_gradients(
    generator: torch.Generator,
) -> None:
    model, spies = _spied(generator)
    x, v = torch.randn(5, 3, generator=generator), torch.randn(5, 9, generator=generator)
    model(x)
    model.backward(v)
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    assert [spy.input_grads for spy in spies] == [1, 1, 1, 1]
    assert all(torch.count_nonzero(grad) for grad in expected.values())  # else zeros would match
    model.zero_grad()
    model(x)
    model.accumulate_grad(v)
    assert [spy.input_grads for spy in spies] == [1, 1, 1, 1]  # no new input gradient
    for name, param in model.named_parameters():
        assert torch.equal(param.grad, expected[name]), name


def test_accumulate_grad_through_a_residual_first_in_a_sequential(generator: torch.Generator) -> None:
    first, shortcut = Spy(3, 3, generator), Spy(3, 3, generator)
    model = mn.Sequential(
        mn.Residual(mn.Sequential(first, mn.Tanh()), shortcut=shortcut), Spy(3, 2, generator)
    )
    x, v = torch.randn(5, 3, generator=generator), torch.randn(5, 2, generator=generator)
    model(x)
    model.accumulate_grad(v)
    last = model[1]
    assert isinstance(last, Spy)
    assert (first.input_grads, shortcut.input_grads, last.input_grads) == (0, 0, 1)


# What backward and forward must not touch --------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda g: mn.Concat(mn.Identity(), mn.Sequential(mn.Linear(3, 2, generator=g), mn.ReLU()), mn.Tanh()),
        lambda g: mn.Concat(mn.Identity(), mn.Identity(), dim=0),
        lambda g: mn.Concat(mn.Identity()),
        lambda g: mn.Concat(mn.Sequential(mn.Identity(), mn.Tanh()), mn.Linear(3, 3, generator=g)),
        lambda g: mn.Residual(mn.Identity()),
        lambda g: mn.Residual(mn.Linear(3, 3, generator=g)),
        lambda g: mn.Residual(mn.ReLU(), shortcut=mn.Identity()),
        lambda g: mn.Residual(
            mn.Concat(mn.Identity(), mn.Identity()), shortcut=mn.Concat(mn.Tanh(), mn.ReLU())
        ),
    ],
    ids=[
        "concat-mixed",
        "concat-identities",
        "concat-one",
        "concat-owned",
        "residual-identity-body",
        "residual-linear",
        "residual-identity-shortcut",
        "residual-of-concats",
    ],
)
def test_backward_leaves_input_and_grad_output_alone_and_returns_its_own_tensor(
    build: Callable[[torch.Generator], mn.Module], generator: torch.Generator
) -> None:
    module = build(generator)
    x = torch.randn(4, 3, generator=generator)
    kept_x = x.clone()
    output = module(x)
    assert output.data_ptr() != x.data_ptr()
    v = torch.randn(output.shape, generator=generator)
    kept_v = v.clone()
    grad_input = module.backward(v)
    module.accumulate_grad(v)
    assert torch.equal(x, kept_x) and torch.equal(v, kept_v)
    # The result is the caller's: no view of grad_output, nothing a later call writes into.
    assert not _overlaps(grad_input, v) and not _overlaps(grad_input, x)
    kept_grad = grad_input.clone()
    module(torch.randn(x.shape, generator=generator))
    module.backward(torch.randn(v.shape, generator=generator))
    assert torch.equal(grad_input, kept_grad)


def _overlaps(a: Tensor, b: Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def test_residual_adds_in_place_only_into_an_output_nobody_caches(generator: torch.Generator) -> None:
    # Linear's output is fresh (Linear caches its input): the sum is computed into it. Tanh caches
    # its output: the sum must be a new tensor, or Tanh's backward would read x + tanh(x).
    linear, tanh = mn.Linear(3, 3, generator=generator), mn.Tanh()
    x, v = torch.randn(4, 3, generator=generator), torch.randn(4, 3, generator=generator)
    bodies: list[tuple[mn.Module, Callable[[Tensor], Tensor]]] = [
        (linear, lambda h: F.linear(h, *_values(linear))),
        (tanh, torch.tanh),
    ]
    for body, function in bodies:
        block = mn.Residual(body)
        output = block(x)
        leaf = x.clone().requires_grad_()
        with torch.enable_grad():
            expected = function(leaf) + leaf
            (grad,) = torch.autograd.grad(expected, leaf, grad_outputs=v)
        torch.testing.assert_close(output, expected.detach(), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(block.backward(v), grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(tanh._saved, torch.tanh(x), rtol=0, atol=0)


def _values(layer: mn.Linear) -> tuple[Tensor, Tensor | None]:
    return layer.weight.value, None if layer.bias is None else layer.bias.value


def test_in_place_work_after_a_residual_or_concat_keeps_every_cache(generator: torch.Generator) -> None:
    # Each container's output is fresh, so the Tanh after it computes into it; the body ending in a
    # Tanh (not fresh) and the one ending in a Linear (fresh) must both keep what they cached.
    g = generator
    model = mn.Sequential(
        mn.Linear(3, 3, generator=g),
        mn.Residual(mn.Linear(3, 3, generator=g)),
        mn.Tanh(),
        mn.Residual(mn.Sequential(mn.Linear(3, 3, generator=g), mn.Tanh())),
        mn.Tanh(),
        mn.Concat(mn.Identity(), mn.Tanh()),
        mn.Tanh(),
    )
    x, v = torch.randn(4, 3, generator=g), torch.randn(4, 6, generator=g)
    params = [p.value for p in model.parameters()]
    leaves = [x.clone().requires_grad_()] + [p.clone().requires_grad_() for p in params]
    with torch.enable_grad():
        h, w0, b0, w1, b1, w2, b2 = leaves
        h = F.linear(h, w0, b0)
        h = torch.tanh(F.linear(h, w1, b1) + h)
        h = torch.tanh(torch.tanh(F.linear(h, w2, b2)) + h)
        out = torch.tanh(torch.cat([h, torch.tanh(h)], dim=1))
        expected = torch.autograd.grad(out, leaves, grad_outputs=v)
    torch.testing.assert_close(model(x), out.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(model.backward(v), expected[0], rtol=1e-10, atol=1e-12)
    for (name, param), grad in zip(model.named_parameters(), expected[1:], strict=True):
        torch.testing.assert_close(param.grad, grad, rtol=1e-10, atol=1e-12, msg=name)


def test_concat_of_one_branch_is_a_copy(generator: torch.Generator) -> None:
    single = mn.Concat(mn.Identity())
    x, v = torch.randn(4, 3, generator=generator), torch.randn(4, 3, generator=generator)
    output = single(x)
    grad = single.backward(v)
    assert torch.equal(output, x) and not _overlaps(output, x)
    assert torch.equal(grad, v) and not _overlaps(grad, v)
    assert len(single) == 1 and list(single) == [single[0]]


def test_concat_indexing() -> None:
    branches = [mn.Identity(), mn.Tanh()]
    both = mn.Concat(*branches)
    assert both[0] is branches[0] and both[-1] is branches[1] and list(both) == branches and len(both) == 2
    with pytest.raises(IndexError, match=r"^Concat: index 2 is out of range for 2 branches$"):
        both[2]


@pytest.mark.parametrize(
    "build",
    [
        lambda g: mn.Residual(mn.Sequential(mn.Conv2d(3, 3, 3, padding=1, generator=g), mn.ReLU())),
        lambda g: mn.Residual(
            mn.Conv2d(3, 4, 3, stride=2, padding=1, generator=g),
            shortcut=mn.Conv2d(3, 4, 1, stride=2, generator=g),
        ),
        lambda g: mn.Concat(mn.Identity(), mn.Conv2d(3, 2, 3, padding=1, generator=g)),
        lambda g: mn.Concat(
            mn.Conv2d(3, 2, 1, generator=g), mn.Sequential(mn.Conv2d(3, 1, 3, padding=1, generator=g))
        ),
    ],
    ids=["residual", "residual-strided", "concat-identity", "concat-convs"],
)
def test_channels_last_stays_channels_last_with_the_same_gradients(
    build: Callable[[torch.Generator], mn.Module],
) -> None:
    contiguous, last = build(torch.Generator().manual_seed(1)), build(torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 6, 6, generator=g)
    output = contiguous(x)
    v = torch.randn(output.shape, generator=g)
    grad = contiguous.backward(v)
    cl = torch.channels_last
    output_cl = last(x.to(memory_format=cl))
    grad_cl = last.backward(v.to(memory_format=cl))
    assert output_cl.is_contiguous(memory_format=cl) and grad_cl.is_contiguous(memory_format=cl)
    torch.testing.assert_close(output_cl, output, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_cl, grad, rtol=1e-12, atol=1e-12)
    for ours, theirs in zip(last.parameters(), contiguous.parameters(), strict=True):
        torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-12, atol=1e-12)


def test_train_eval_and_to_reach_every_path() -> None:
    model = mn.Concat(
        mn.Dropout(0.5), mn.Residual(mn.Sequential(mn.BatchNorm1d(3)), shortcut=mn.Linear(3, 3))
    )
    model.eval()
    assert not any(module.training for module in model.modules())
    model.train()
    assert all(module.training for module in model.modules())
    model.to(dtype=torch.float32)
    assert {p.value.dtype for p in model.parameters()} == {torch.float32}
    assert {b.value.dtype for _, b in model.named_buffers() if b.value.is_floating_point()} == {torch.float32}


# leaves, summary and fit's diagnosis on any composition -------------------------------------------


def _network(generator: torch.Generator) -> mn.Sequential:
    g = generator
    return mn.Sequential(
        mn.Linear(4, 6, generator=g),
        mn.Residual(mn.Sequential(mn.Tanh(), mn.Linear(6, 6, generator=g))),
        mn.Concat(mn.Identity(), mn.Linear(6, 2, bias=False, generator=g)),
        mn.Residual(mn.ReLU(), shortcut=mn.Linear(8, 8, generator=g)),
        mn.Linear(8, 3, generator=g),
    )


def test_leaves_walks_residual_and_concat() -> None:
    model = _network(torch.Generator().manual_seed(0))
    found = [(path, type(module).__name__) for path, module in mn.modules.container.leaves(model)]
    assert found == [
        ("[0]", "Linear"), ("[1].body[0]", "Tanh"), ("[1].body[1]", "Linear"), ("[2][0]", "Identity"),
        ("[2][1]", "Linear"), ("[3].body", "ReLU"), ("[3].shortcut", "Linear"), ("[4]", "Linear"),
    ]  # fmt: skip
    tanh = mn.Tanh()
    assert list(mn.modules.container.leaves(tanh, "top")) == [("top", tanh)]


def test_summary_of_a_residual_and_concat_network() -> None:
    model = _network(torch.Generator().manual_seed(0))
    assert mn.summary(model, (4,)) == "\n".join(
        [
            "Layer         Module                                             Output shape  Parameters",
            "[0]           Linear(in_features=4, out_features=6)              (N, 6)                30",
            "[1].body[0]   Tanh()                                             (N, 6)                 0",
            "[1].body[1]   Linear(in_features=6, out_features=6)              (N, 6)                42",
            "[1]           Residual()                                         (N, 6)                 0",
            "[2][0]        Identity()                                         (N, 6)                 0",
            "[2][1]        Linear(in_features=6, out_features=2, bias=False)  (N, 2)                12",
            "[2]           Concat(dim=1)                                      (N, 8)                 0",
            "[3].body      ReLU()                                             (N, 8)                 0",
            "[3].shortcut  Linear(in_features=8, out_features=8)              (N, 8)                72",
            "[3]           Residual()                                         (N, 8)                 0",
            "[4]           Linear(in_features=8, out_features=3)              (N, 3)                27",
            "Total parameters: 183 (input: (N, 4))",
        ]
    )


def test_summary_of_a_concat_of_images() -> None:
    model = mn.Concat(mn.Identity(), mn.Sequential(mn.Conv2d(1, 2, 3, padding=1), mn.ReLU()))
    assert mn.summary(model, (1, 5, 5)) == "\n".join(
        [
            "Layer   Module                                                           "
            "Output shape  Parameters",
            "[0]     Identity()                                                       "
            "(N, 1, 5, 5)           0",
            "[1][0]  Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))  "
            "(N, 2, 5, 5)          20",
            "[1][1]  ReLU()                                                           "
            "(N, 2, 5, 5)           0",
            "-       Concat(dim=1)                                                    "
            "(N, 3, 5, 5)           0",
            "Total parameters: 20 (input: (N, 1, 5, 5))",
        ]
    )


class PoisonedBackward(mn.Module):
    """The identity, whose backward returns NaN (as tests/test_train.py poisons a module)."""

    def forward(self, input: Tensor) -> Tensor:
        return input

    def backward(self, grad_output: Tensor) -> Tensor:
        return grad_output * math.nan

    def accumulate_grad(self, grad_output: Tensor) -> None:
        self.backward(grad_output)


def _fit(model: mn.Module) -> str:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 4, generator=g)
    data = (x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long())
    with pytest.raises(mn.train.NonFiniteError) as caught:
        mn.train.fit(
            model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1), data, epochs=1, batch_size=4
        )
    return str(caught.value)


def test_fit_names_a_poisoned_module_inside_a_residual_body(generator: torch.Generator) -> None:
    g = generator
    body = mn.Sequential(mn.Tanh(), PoisonedBackward(), mn.Linear(6, 6, generator=g))
    model = mn.Sequential(mn.Linear(4, 6, generator=g), mn.Residual(body), mn.Linear(6, 3, generator=g))
    assert _fit(model) == (
        "fit: non-finite gradient at epoch 1, batch 1; first produced by the backward of Sequential layer "
        "[1].body[1] PoisonedBackward() (its input gradient)"
    )


def test_fit_names_a_module_inside_a_concat_branch(generator: torch.Generator) -> None:
    g = generator
    branch = mn.Sequential(mn.Tanh(), mn.Linear(6, 2, generator=g))
    model = mn.Sequential(
        mn.Linear(4, 6, generator=g), mn.Concat(mn.Identity(), branch), mn.Linear(8, 3, generator=g)
    )
    weight = branch[1]
    assert isinstance(weight, mn.Linear)
    weight.weight.value[0, 0] = math.inf  # inf * tanh(.) and the row sum: an infinite or NaN output
    assert _fit(model) == (
        "fit: non-finite loss (nan) at epoch 1, batch 1; first produced by the forward of Sequential layer "
        "[1][1][1] Linear(in_features=6, out_features=2)"
    )


def test_fit_names_a_poisoned_shortcut_of_a_residual_network(generator: torch.Generator) -> None:
    g = generator
    model = mn.Residual(
        mn.Sequential(mn.Linear(4, 3, generator=g), mn.Tanh()),
        shortcut=mn.Sequential(mn.Linear(4, 3, generator=g), PoisonedBackward()),
    )
    assert _fit(model) == (
        "fit: non-finite gradient at epoch 1, batch 1; first produced by the backward of Residual layer "
        ".shortcut[1] PoisonedBackward() (its input gradient)"
    )
