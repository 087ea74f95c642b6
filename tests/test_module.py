"""ModuleBase behaviour: discovery, zero_grad, train/eval, to, state_dict, repr."""

import re

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn._types import Tensor


class Shared(mn.Module):
    """Two Linear children that share one weight Parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.first = mn.Linear(3, 3)
        self.scale = mn.Parameter(torch.ones(3))
        self.second = mn.Linear(3, 3)
        self.second.weight = self.first.weight

    def forward(self, input: Tensor) -> Tensor:
        return self.second(self.first(input) * self.scale.value)

    def backward(self, grad_output: Tensor) -> Tensor:
        raise NotImplementedError  # not needed for these tests


def _model() -> mn.Sequential:
    return mn.Sequential(mn.Linear(4, 3), mn.Tanh(), mn.Sequential(mn.Linear(3, 2), mn.Tanh()))


def test_named_parameters_in_registration_order() -> None:
    names = [name for name, _ in _model().named_parameters()]
    assert names == ["0.weight", "0.bias", "2.0.weight", "2.0.bias"]


def test_parameters_match_named_parameters() -> None:
    model = _model()
    assert list(model.parameters()) == [p for _, p in model.named_parameters()]


def test_shared_parameter_yielded_once() -> None:
    names = [name for name, _ in Shared().named_parameters()]
    assert names == ["scale", "first.weight", "first.bias", "second.bias"]


def test_zero_grad_zeroes_every_buffer_in_place() -> None:
    model = _model()
    buffers = [p.grad for p in model.parameters()]
    for grad in buffers:
        grad.fill_(1.0)
    model.zero_grad()
    assert all(
        p.grad is g and torch.count_nonzero(g) == 0 for p, g in zip(model.parameters(), buffers, strict=True)
    )


def test_train_eval_propagate_to_children() -> None:
    model = _model()
    assert model.eval() is model
    inner = model[2]
    assert isinstance(inner, mn.Sequential)
    assert not any(m.training for m in [model, model[0], inner, inner[0]])
    model.train()
    assert all(m.training for m in [model, model[0], inner, inner[0]])


def test_to_dtype_moves_values_and_grads() -> None:
    model = _model().to(dtype=torch.float32)
    assert all(p.value.dtype == p.grad.dtype == torch.float32 for p in model.parameters())
    model(torch.zeros(2, 4, dtype=torch.float32))
    model.to(dtype=torch.float64)
    assert all(p.value.dtype == p.grad.dtype == torch.float64 for p in model.parameters())
    assert model(torch.zeros(2, 4)).dtype == torch.float64


def test_to_keeps_optimizer_references_valid() -> None:
    model = mn.Sequential(mn.Linear(2, 1))
    optimizer = mn.SGD(model.parameters(), lr=1.0)
    model.to(dtype=torch.float32)
    for p in model.parameters():
        p.grad.fill_(1.0)
    before = [p.value.clone() for p in model.parameters()]
    optimizer.step()
    assert all(torch.equal(p.value, b - 1) for p, b in zip(model.parameters(), before, strict=True))


def test_to_channels_last_lays_out_only_4d_parameters_as_torch_does(generator: torch.Generator) -> None:
    conv = mn.Conv2d(3, 4, 3, generator=generator)
    model = mn.Sequential(conv, mn.BatchNorm2d(4), mn.Flatten(), mn.Linear(4 * 4 * 4, 2))
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 2)
    )
    values = {name: p.value for name, p in model.named_parameters()}
    copies = {name: p.value.clone() for name, p in model.named_parameters()}
    model.to(memory_format=torch.channels_last)
    twin.to(memory_format=torch.channels_last)
    for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters(), strict=True):
        assert p.value is values[name] and torch.equal(p.value, copies[name])  # the same tensor, same values
        assert p.value.stride() == q.stride() and p.grad.stride() == q.stride(), name
    assert conv.weight.value.is_contiguous(memory_format=torch.channels_last)
    assert not conv.weight.value.is_contiguous()
    x = torch.randn(2, 3, 6, 6, generator=generator).contiguous(memory_format=torch.channels_last)
    out = model(x)
    model.backward(torch.ones_like(out))
    assert conv.weight.grad.is_contiguous(memory_format=torch.channels_last)


def test_state_dict_round_trip() -> None:
    source, target = _model(), _model()
    result = target.load_state_dict(source.state_dict())
    assert result == mn.LoadResult([], [], [])
    for (name, a), (_, b) in zip(source.named_parameters(), target.named_parameters(), strict=True):
        assert torch.equal(a.value, b.value), name
    assert target.state_dict()["0.weight"] is not source.state_dict()["0.weight"]


def test_load_state_dict_strict_lists_problems_and_changes_nothing() -> None:
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = dict(_model().state_dict())
    del state["0.bias"]
    state["extra"] = torch.zeros(1)
    state["2.0.weight"] = torch.zeros(5, 5)
    message = (
        "Sequential.load_state_dict: the state does not match\n"
        "  missing key: 0.bias\n"
        "  unexpected key: extra\n"
        "  shape mismatch for 2.0.weight: expected (2, 3), got (5, 5)"
    )
    with pytest.raises(RuntimeError, match=re.escape(message)):
        model.load_state_dict(state)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_load_state_dict_non_strict_returns_problems() -> None:
    model, other = _model(), _model()
    state = dict(other.state_dict())
    del state["0.bias"]
    state["extra"] = torch.zeros(1)
    state["2.0.weight"] = torch.zeros(5, 5)
    result = model.load_state_dict(state, strict=False)
    assert result == mn.LoadResult(["0.bias"], ["extra"], ["2.0.weight"])
    loaded, skipped = model[0], model[2]
    assert isinstance(loaded, mn.Linear) and isinstance(skipped, mn.Sequential)
    assert torch.equal(loaded.weight.value, other.state_dict()["0.weight"])
    assert not torch.equal(skipped.state_dict()["0.weight"], torch.zeros(2, 3))


def test_repr_nests_children() -> None:
    assert repr(_model()) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3)\n"
        "  (1): Tanh()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=2)\n"
        "    (1): Tanh()\n"
        "  )\n"
        ")"
    )


def test_repr_of_options() -> None:
    assert repr(mn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
    assert repr(mn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


def test_shared_copy_holds_the_same_parameters_and_buffers() -> None:
    norm = mn.BatchNorm1d(3)
    twin = norm.shared_copy()
    assert type(twin) is mn.BatchNorm1d and twin is not norm
    # Parameter and Buffer compare by identity (eq=False): equal lists hold the very same objects.
    assert list(twin.named_parameters()) == list(norm.named_parameters())
    assert list(twin.named_buffers()) == list(norm.named_buffers())
    assert len(list(twin.named_parameters())) == 2 and len(list(twin.named_buffers())) == 3


def test_shared_copy_starts_with_empty_caches() -> None:
    layer = mn.Linear(3, 2)
    layer(torch.ones(4, 3))
    layer.backward(torch.ones(4, 2))  # the original has a cached input and a scratch tensor
    message = r"^Linear\(in_features=3, out_features=2\): backward called before forward$"
    with pytest.raises(RuntimeError, match=message):
        layer.shared_copy().backward(torch.ones(4, 2))


def test_shared_copy_keeps_the_settings_and_the_mode() -> None:
    dropout = mn.Dropout(0.25).eval()
    twin = dropout.shared_copy()
    assert repr(twin) == repr(dropout) == "Dropout(p=0.25, inplace=False)" and not twin.training


def _walk(module: mn.ModuleBase) -> list[mn.ModuleBase]:
    """``module`` and every module under it, parents first."""
    return [module, *(m for child in module.children() for m in _walk(child))]


def test_shared_copy_of_a_container_holds_new_children_with_the_same_parameters() -> None:
    model = _model()
    twin = model.shared_copy()
    pairs = list(zip(_walk(model), _walk(twin), strict=True))
    assert len(pairs) == 6
    assert all(type(a) is type(b) and a is not b for a, b in pairs)
    assert list(twin.named_parameters()) == list(model.named_parameters())
    assert repr(twin) == repr(model)
