"""``minitorch_nn.interop``: every registry case against its torch.nn twin, the refusals, and the copies.

The reference is torch.nn itself: ``to_torch(module)`` must compute what the
module computes (outputs, buffers after the pass) and torch.autograd on the
twin must give the gradients our ``backward`` gives, for the input and for every
parameter (matched by name). A case whose module has ``Dropout`` in training
mode runs both sides in eval mode for the comparison: torch draws its mask from
its global generator, so only the mask's structure can be compared (its own test).
"""

import re
from collections import OrderedDict

import pytest
import torch
from torch import nn

import minitorch_nn as mn
from minitorch_nn import interop
from minitorch_nn._types import Tensor
from minitorch_nn.interop import TorchConcat, TorchResidual, from_torch, to_torch
from tests.cases import CASES, ModuleCase

CONTAINERS = (mn.Sequential, mn.Residual, mn.Concat)

# torch.nn's own padding="same" path warns about the copy an even kernel needs; the twin's business.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")


def over(cases: list[ModuleCase]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", cases, ids=[case.name for case in cases])


def _has_live_dropout(module: mn.Module | mn.Loss) -> bool:
    return any(
        isinstance(m, mn.Dropout | mn.MultiheadAttention | mn.RNN | mn.LSTM | mn.GRU) and m.training
        for m in module.modules()
    )


def _built(case: ModuleCase, g: torch.Generator) -> tuple[mn.Module | mn.Loss, Tensor, Tensor | None]:
    module, input, target, _ = case.build(g)
    if _has_live_dropout(module):
        module.eval()
    return module, input, target


def _ours(module: mn.Module | mn.Loss, input: Tensor, target: Tensor | None) -> Tensor:
    if isinstance(module, mn.Loss):
        assert target is not None
        return module(input, target)
    return module(input)


def _theirs(twin: nn.Module, input: Tensor, target: Tensor | None) -> Tensor:
    out: Tensor = twin(input) if target is None else twin(input, target)
    return out


def _param(model: mn.ModuleBase, name: str) -> mn.Parameter:
    """The ``Parameter`` at the dotted ``name`` (found even where ``named_parameters`` skips a tied one)."""
    path, _, attribute = name.rpartition(".")
    value = getattr(dict(model.named_modules())[path], attribute)
    assert isinstance(value, mn.Parameter)
    return value


def _assert_same_state(ours: dict[str, Tensor], theirs: dict[str, Tensor]) -> None:
    assert list(ours) == list(theirs)
    for name, value in ours.items():
        assert theirs[name].dtype == value.dtype, name
        torch.testing.assert_close(theirs[name], value, rtol=1e-12, atol=1e-12, msg=name)


@over(CASES)
def test_twin_has_our_state_names_and_values(case: ModuleCase, generator: torch.Generator) -> None:
    module, _, _ = _built(case, generator)
    _assert_same_state(module.state_dict(), to_torch(module).state_dict())


@over(CASES)
def test_twin_gives_our_output_and_buffers(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = _built(case, generator)
    twin = to_torch(module)
    torch.testing.assert_close(
        _theirs(twin, input, target), _ours(module, input, target), rtol=1e-10, atol=1e-10
    )
    _assert_same_state(module.state_dict(), twin.state_dict())  # BatchNorm's running statistics after a pass


@over(CASES)
def test_autograd_on_twin_gives_our_gradients(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = _built(case, generator)
    twin = to_torch(module)
    leaf = input.clone().requires_grad_(case.differentiable_input)  # indices have no gradient
    out = _theirs(twin, leaf, target)
    v = torch.randn(out.shape, generator=generator)  # 0-dim for a reduced loss
    named = list(twin.named_parameters())
    leaves = [leaf] if case.differentiable_input else []
    grads = torch.autograd.grad((out * v).sum(), [*leaves, *(p for _, p in named)])
    expected = grads[len(leaves) :]
    ours = _ours(module, input, target)
    grad_input = module.backward(v)
    assert ours.shape == out.shape
    if case.differentiable_input:
        torch.testing.assert_close(grad_input, grads[0], rtol=1e-10, atol=1e-10)
    assert [name for name, _ in named] == [name for name, _ in module.named_parameters()]
    for (name, param), grad in zip(module.named_parameters(), expected, strict=True):
        torch.testing.assert_close(param.grad, grad, rtol=1e-10, atol=1e-10, msg=name)


@over(CASES)
def test_from_torch_of_twin_is_the_module_again(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target = _built(case, generator)
    back = from_torch(to_torch(module))
    assert type(back) is type(module)
    assert repr(back) == repr(module)
    assert [(n, type(m), m.training) for n, m in back.named_modules()] == [
        (n, type(m), m.training) for n, m in module.named_modules()
    ]
    _assert_same_state(module.state_dict(), back.state_dict())
    torch.testing.assert_close(_ours(back, input, target), _ours(module, input, target), rtol=0, atol=0)


def test_every_public_layer_and_loss_has_a_torch_twin_of_its_name() -> None:
    names = [
        name
        for name in mn.__all__
        if isinstance(kind := getattr(mn, name), type)
        and issubclass(kind, mn.ModuleBase)
        and kind not in (mn.ModuleBase, mn.Module, mn.Loss, *CONTAINERS)
    ]
    assert names
    # The few torch.nn has no class for have a small twin in interop (TorchPermute, ...).
    missing = [name for name in names if not isinstance(getattr(nn, name, None), type)]
    assert [name for name in missing if not hasattr(interop, f"Torch{name}")] == []


# Dropout: torch draws its own mask; its p carries over.


@pytest.mark.parametrize("kind", ["Dropout", "Dropout2d"])
def test_dropout_twin_drops_with_our_p(kind: str) -> None:
    ours = getattr(mn, kind)(0.25)
    twin = to_torch(ours)
    x = torch.ones(64, 8, 3, 3)
    out = twin(x)
    assert isinstance(twin, getattr(nn, kind)) and twin.training and twin.p == 0.25
    assert bool(((out == 0) | (out == 1 / 0.75)).all())
    assert bool((out == 0).any()) and bool((out != 0).any())


# Modes, dtypes, devices.


def _mixed_modes() -> mn.Sequential:
    g = torch.Generator().manual_seed(0)
    model = mn.Sequential(mn.Linear(3, 4, generator=g), mn.BatchNorm1d(4), mn.Dropout(0.5))
    model[1].eval()
    return model


def test_modes_carry_over_module_by_module() -> None:
    model = _mixed_modes()
    twin = to_torch(model)
    assert [m.training for m in twin.modules()] == [True, True, False, True]
    back = from_torch(twin)
    assert [m.training for m in back.modules()] == [True, True, False, True]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dtype_carries_over(dtype: torch.dtype) -> None:
    model = _mixed_modes().to(dtype=dtype)
    twin = to_torch(model)
    assert [t.dtype for t in twin.state_dict().values()] == [t.dtype for t in model.state_dict().values()]
    assert twin.state_dict()["1.num_batches_tracked"].dtype == torch.int64
    back = from_torch(twin)
    assert [t.dtype for t in back.state_dict().values()] == [t.dtype for t in model.state_dict().values()]
    assert all(p.grad.dtype == dtype for p in back.parameters())


def test_channels_last_weights_stay_channels_last() -> None:
    model = mn.Sequential(mn.Conv2d(3, 4, 3)).to(memory_format=torch.channels_last)
    twin = to_torch(model)
    assert twin.get_parameter("0.weight").is_contiguous(memory_format=torch.channels_last)
    assert _param(from_torch(twin), "0.weight").value.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_device_carries_over() -> None:
    model = _mixed_modes().to(device="cuda")
    twin = to_torch(model)
    assert all(t.is_cuda for t in twin.state_dict().values())
    back = from_torch(twin)
    assert all(t.is_cuda for t in back.state_dict().values())
    assert all(p.grad.is_cuda for p in back.parameters())


# Copies, load_state_dict, tied weights.


def test_twin_holds_copies() -> None:
    model = _mixed_modes()
    twin = to_torch(model)
    before = {name: value.clone() for name, value in twin.state_dict().items()}
    for value in model.state_dict().values():
        value.add_(1)
    _assert_same_state(before, twin.state_dict())
    back = from_torch(twin)
    ours_before = {name: value.clone() for name, value in back.state_dict().items()}
    with torch.no_grad():
        for value in twin.state_dict().values():
            value.add_(1)
    _assert_same_state(ours_before, back.state_dict())


def test_load_state_dict_works_both_ways() -> None:
    model = _mixed_modes()
    twin = to_torch(model)
    with torch.no_grad():
        twin.get_parameter("0.weight").mul_(2)
        twin.get_buffer("1.running_mean").add_(3)
    model.load_state_dict(twin.state_dict())
    _assert_same_state(model.state_dict(), twin.state_dict())
    model.state_dict()["0.bias"].add_(5)
    model.state_dict()["1.num_batches_tracked"].add_(7)
    twin.load_state_dict(model.state_dict(), strict=True)
    _assert_same_state(model.state_dict(), twin.state_dict())


def test_shared_weights_stay_tied() -> None:
    layer = mn.Linear(3, 3, generator=torch.Generator().manual_seed(0))
    model = mn.Sequential(layer, mn.Tanh(), layer.shared_copy())
    twin = to_torch(model)
    assert twin.get_parameter("0.weight") is twin.get_parameter("2.weight")
    assert twin.get_parameter("0.bias") is twin.get_parameter("2.bias")
    assert [name for name, _ in twin.named_parameters()] == ["0.weight", "0.bias"]
    back = from_torch(twin)
    assert _param(back, "0.weight") is _param(back, "2.weight") is not layer.weight
    assert _param(back, "0.bias") is _param(back, "2.bias") is not layer.bias
    x = torch.randn(2, 3)
    torch.testing.assert_close(back(x), twin(x))


def test_a_torch_module_at_two_places_becomes_a_shared_copy() -> None:
    linear = nn.Linear(3, 3)
    back = from_torch(nn.Sequential(linear, nn.Tanh(), linear))
    assert back[0] is not back[2] and _param(back, "0.weight") is _param(back, "2.weight")
    x = torch.randn(2, 3)
    torch.testing.assert_close(back(x), linear(torch.tanh(linear(x))))


def test_inplace_torch_activations_convert() -> None:
    twin = nn.Sequential(nn.Linear(3, 3), nn.ReLU(inplace=True), nn.Dropout(0.1, inplace=True)).eval()
    back = from_torch(twin)
    x = torch.randn(4, 3)
    torch.testing.assert_close(back(x), twin(x))


def test_torch_containers_of_interop_convert() -> None:
    twin = nn.Sequential(
        TorchResidual(nn.Sequential(nn.Linear(4, 4), nn.ReLU()), nn.Linear(4, 4)),
        TorchConcat([nn.Identity(), nn.Linear(4, 2)], dim=1),
    )
    back = from_torch(twin)
    assert isinstance(back[0], mn.Residual) and isinstance(back[1], mn.Concat)
    x = torch.randn(5, 4)
    torch.testing.assert_close(back(x), twin(x))
    assert list(back.state_dict()) == list(twin.state_dict())


def test_loss_converts_both_ways() -> None:
    loss = from_torch(nn.HuberLoss(reduction="sum", delta=0.5))
    assert isinstance(loss, mn.HuberLoss) and loss.reduction == "sum" and loss.delta == 0.5
    assert isinstance(to_torch(loss), nn.HuberLoss)


def test_torch_loss_with_class_weights_converts(generator: torch.Generator) -> None:
    weight = torch.rand(4, generator=generator) + 0.5
    theirs = nn.CrossEntropyLoss(weight, ignore_index=1, label_smoothing=0.1)
    ours = from_torch(theirs)
    assert list(ours.state_dict()) == ["weight"] and ours.state_dict()["weight"] is not theirs.weight
    x, t = torch.randn(6, 4, generator=generator), torch.tensor([0, 1, 2, 3, 1, 0])
    torch.testing.assert_close(ours(x, t), theirs(x, t), rtol=1e-12, atol=1e-12)


# Refusals.


class TorchNet(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x


class MyLayer(mn.Module):
    def forward(self, input: Tensor) -> Tensor:
        return input

    def backward(self, grad_output: Tensor) -> Tensor:
        return grad_output


def test_torch_module_without_counterpart_is_named_with_its_path() -> None:
    twin = nn.Sequential(
        nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 2), nn.Tanh(), nn.GroupNorm(1, 2))
    )
    with pytest.raises(ValueError, match=r"^1\.3: torch\.nn\.GroupNorm has no minitorch_nn counterpart$"):
        from_torch(twin)


def test_torch_module_at_the_root_is_named_without_a_path() -> None:
    with pytest.raises(ValueError, match=r"^torch\.nn\.ModuleList has no minitorch_nn counterpart$"):
        from_torch(nn.ModuleList([nn.Linear(2, 2)]))


def test_users_torch_subclass_is_refused() -> None:
    name = re.escape(f"{TorchNet.__module__}.TorchNet")
    with pytest.raises(ValueError, match=rf"^0: {name} has no minitorch_nn counterpart$"):
        from_torch(nn.Sequential(TorchNet()))


def test_subclass_of_a_torch_layer_is_refused() -> None:
    class WiderLinear(nn.Linear):
        pass

    with pytest.raises(ValueError, match=r"^body: .*WiderLinear has no minitorch_nn counterpart$"):
        from_torch(TorchResidual(WiderLinear(2, 2)))


def test_torch_setting_we_cannot_honour_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"^0\.body: torch\.nn\.MaxPool2d has no minitorch_nn counterpart with these settings: "
        r"MaxPool2d: .*return_indices",
    ):
        from_torch(nn.Sequential(TorchResidual(nn.MaxPool2d(2, return_indices=True))))


def test_torch_module_with_hooks_is_refused() -> None:
    layer = nn.Linear(2, 2)
    layer.register_forward_hook(lambda module, args, output: output * 2)
    with pytest.raises(ValueError, match=r"^1: torch\.nn\.Linear has hooks, which do not carry over$"):
        from_torch(nn.Sequential(nn.Tanh(), layer))


def test_named_torch_sequential_is_refused() -> None:
    twin = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
    with pytest.raises(ValueError, match=r"^torch\.nn\.Sequential with children named \['fc', 'act'\]"):
        from_torch(twin)


def test_torch_meta_module_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^torch\.nn\.Linear\.weight is on the meta device: no values$"):
        from_torch(nn.Linear(2, 2, device="meta"))


def test_users_module_subclass_is_refused_with_its_path() -> None:
    model = mn.Sequential(mn.Linear(2, 2), mn.Residual(mn.Sequential(mn.Tanh(), MyLayer())))
    name = re.escape(f"{MyLayer.__module__}.MyLayer")
    with pytest.raises(ValueError, match=rf"^1\.body\.1: {name} has no torch\.nn counterpart$"):
        to_torch(model)
