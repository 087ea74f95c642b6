"""Sequential: indexing, len, iteration, append, nesting and annotated errors."""

import pytest
import torch

import minitorch_nn as mn


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
