"""Forward pre-hooks, forward hooks and full backward hooks, checked against torch.nn's on the twin network.

Every comparison runs the same network twice: ours with hooks, and its
``to_torch`` twin with the same hooks under autograd (float64). The hooks
must be called in torch's order with torch's tensors, and a replacement
returned by a hook must change what follows exactly as it does in torch.
"""

import copy
import pickle
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from torch import nn

import minitorch_nn as mn
from minitorch_nn.interop import to_torch
from minitorch_nn.module import ModuleBase

# Replacing values is what many tests here do on purpose; the warning it gives is tested once, below.
pytestmark = pytest.mark.filterwarnings("ignore:.*straight-through:UserWarning")

Log = list[tuple[str, str, tuple[torch.Tensor | None, ...]]]
HOOK_ATTRIBUTES = {
    "_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_hook_wrappers",
    "forward", "forward_", "backward", "backward_", "accumulate_grad", "fresh_output", "fresh_grad_input",
}  # fmt: skip


def _clone(values: tuple[Any, ...]) -> tuple[torch.Tensor | None, ...]:
    return tuple(v.detach().clone() if isinstance(v, torch.Tensor) else None for v in values)


def _watch(named: Iterator[tuple[str, Any]], log: Log) -> list[Any]:
    """Register the three hooks on every module of ``named``; each appends (name, kind, tensors)."""
    handles = []
    for name, module in named:

        def pre(m: Any, args: tuple[Any, ...], name: str = name) -> None:
            log.append((name, "pre", _clone(args)))

        def forward(m: Any, args: tuple[Any, ...], output: Any, name: str = name) -> None:
            log.append((name, "forward", _clone(args) + _clone((output,))))

        def backward(
            m: Any, grad_input: tuple[Any, ...], grad_output: tuple[Any, ...], name: str = name
        ) -> None:
            log.append((name, "backward", _clone(grad_input) + _clone(grad_output)))

        handles += [
            module.register_forward_pre_hook(pre),
            module.register_forward_hook(forward),
            module.register_full_backward_hook(backward),
        ]
    return handles


def _networks() -> dict[str, Callable[[torch.Generator], mn.Sequential]]:
    return {
        "sequential": lambda g: mn.Sequential(
            mn.Linear(3, 4, generator=g), mn.Tanh(), mn.Linear(4, 4, generator=g), mn.ReLU(),
            mn.Linear(4, 2, generator=g),
        ),
        "nested residual": lambda g: mn.Sequential(
            mn.Linear(3, 4, generator=g),
            mn.Residual(mn.Sequential(mn.Tanh(), mn.Linear(4, 4, generator=g), mn.Sigmoid())),
            mn.Sequential(mn.Tanh(), mn.Linear(4, 2, generator=g)),
        ),
        "residual shortcut and concat": lambda g: mn.Sequential(
            mn.Linear(3, 4, generator=g),
            mn.Residual(mn.Sequential(mn.Tanh(), mn.Linear(4, 4, generator=g)), mn.Linear(4, 4, generator=g)),
            mn.Concat(mn.Sequential(mn.Linear(4, 2, generator=g), mn.Tanh()), mn.ReLU(), mn.Identity()),
            mn.Linear(10, 2, generator=g),
        ),
    }  # fmt: skip


NETWORKS = _networks()
# Networks whose branches run one after the other in torch's autograd too (no two-path merge).
SERIAL = {"sequential", "nested residual"}


def _run_torch(twin: nn.Module, loss: nn.Module, x: torch.Tensor, t: torch.Tensor, accumulate: bool) -> None:
    x = x.clone().requires_grad_(not accumulate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "firing when no inputs require gradients"
        loss(twin(x), t).backward()


def _pair(
    name: str, generator: torch.Generator
) -> tuple[mn.Sequential, nn.Module, torch.Tensor, torch.Tensor]:
    model = NETWORKS[name](generator)
    return (
        model,
        to_torch(model),
        torch.randn(5, 3, generator=generator),
        torch.randn(5, 2, generator=generator),
    )


def _traced(name: str, accumulate: bool, generator: torch.Generator) -> tuple[Log, Log]:
    model, twin, x, t = _pair(name, generator)
    loss, torch_loss = mn.MSELoss(), nn.MSELoss()
    ours: Log = []
    theirs: Log = []
    _watch(iter([*model.named_modules(), ("loss", loss)]), ours)
    _watch(iter([*twin.named_modules(), ("loss", torch_loss)]), theirs)
    value = loss(model(x), t)
    assert value.ndim == 0
    grad = loss.backward()
    if accumulate:
        model.accumulate_grad(grad)
    else:
        model.backward(grad)
    _run_torch(twin, torch_loss, x, t, accumulate)
    return ours, theirs


def _tensor(value: torch.Tensor | None) -> torch.Tensor:
    assert value is not None
    return value


def _same(ours: tuple[torch.Tensor | None, ...], theirs: tuple[torch.Tensor | None, ...]) -> bool:
    if len(ours) != len(theirs):
        return False
    for a, b in zip(ours, theirs, strict=True):
        if (a is None) != (b is None):
            return False
        if a is not None and b is not None and not torch.allclose(a, b, rtol=1e-12, atol=1e-14):
            return False
    return True


def _loss_target_grad(log: Log) -> Log:
    """torch reports zeros as the gradient of a loss's target, we report None (no gradient is computed)."""
    fixed: Log = []
    for name, kind, tensors in log:
        if name == "loss" and kind == "backward":
            assert tensors[1] is not None and not tensors[1].any()
            tensors = (tensors[0], None, *tensors[2:])
        fixed.append((name, kind, tensors))
    return fixed


def _compare_tensors(ours: Log, theirs: Log) -> None:
    assert sorted((n, k) for n, k, _ in ours) == sorted((n, k) for n, k, _ in theirs)
    expected = {(n, k): v for n, k, v in theirs}
    for name, kind, tensors in ours:
        assert _same(tensors, expected[name, kind]), (name, kind)


@pytest.mark.parametrize("name", list(NETWORKS))
def test_forward_hooks_run_in_torchs_order_with_torchs_tensors(name: str, generator: torch.Generator) -> None:
    ours, theirs = _traced(name, False, generator)
    forward = [(n, k) for n, k, _ in ours if k != "backward"]
    assert forward == [(n, k) for n, k, _ in theirs if k != "backward"]
    _compare_tensors(ours, _loss_target_grad(theirs))


@pytest.mark.parametrize("name", sorted(SERIAL))
def test_backward_hooks_run_in_torchs_order(name: str, generator: torch.Generator) -> None:
    ours, theirs = _traced(name, False, generator)
    assert [(n, k) for n, k, _ in ours if k == "backward"] == [
        (n, k) for n, k, _ in theirs if k == "backward"
    ]


def test_backward_hooks_with_branches_run_children_first(generator: torch.Generator) -> None:
    # Independent branches run in the container's order (body, then shortcut; branch 0 first), where torch's
    # engine takes the branch created last first; every module's hook still comes after all of its children's.
    ours, _ = _traced("residual shortcut and concat", False, generator)
    order = [n for n, k, _ in ours if k == "backward"]
    assert order[0] == "loss" and order[-1] == ""
    for position, name in enumerate(order[1:], start=1):
        inner = [o for o in order if name and o.startswith(name + ".")]
        assert all(order.index(o) < position for o in inner), name
    assert order.index("1.body") < order.index("1.shortcut") < order.index("1")
    assert order.index("2.0") < order.index("2.1") < order.index("2.2") < order.index("2")


@pytest.mark.parametrize("name", list(NETWORKS))
def test_backward_hooks_see_torchs_gradients(name: str, generator: torch.Generator) -> None:
    ours, theirs = _traced(name, False, generator)
    _compare_tensors(ours, _loss_target_grad(theirs))


@pytest.mark.parametrize("name", list(NETWORKS))
def test_accumulate_grad_reports_no_input_gradient_as_torch(name: str, generator: torch.Generator) -> None:
    # torch: the data does not require grad, so the first layer and the network report grad_input (None,)
    ours, theirs = _traced(name, True, generator)
    _compare_tensors(ours, _loss_target_grad(theirs))
    assert {n: v[0] for n, k, v in ours if k == "backward"}[""] is None


def test_accumulate_grad_hook_fires_after_the_parameter_gradients(generator: torch.Generator) -> None:
    layer = mn.Linear(3, 2, generator=generator)
    model = mn.Sequential(layer)
    seen: list[torch.Tensor] = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append(m.weight.grad.clone()))
    model(torch.ones(4, 3))
    model.accumulate_grad(torch.ones(4, 2))
    assert torch.equal(seen[0], torch.full((2, 3), 4.0))  # sum over the batch of 1 * 1


def _replaced_gradients(
    generator: torch.Generator,
    register: Callable[[ModuleBase], Any],
    register_torch: Callable[[nn.Module], Any],
) -> None:
    model, twin, x, t = _pair("nested residual", generator)
    inner: Any = model[1]
    register(inner.body[1])
    register_torch(twin[1].body[1])  # type: ignore[index]  # the twin has our layout
    loss, torch_loss = mn.MSELoss(), nn.MSELoss()
    out = model(x)
    loss(out, t)
    model.backward(loss.backward())
    xt = x.clone().requires_grad_(True)
    torch_out = twin(xt)
    torch_loss(torch_out, t).backward()
    assert torch.allclose(out, torch_out.detach(), rtol=1e-12)
    for (name, ours), (_, theirs) in zip(model.named_parameters(), twin.named_parameters(), strict=True):
        assert torch.allclose(ours.grad, _tensor(theirs.grad), rtol=1e-12, atol=1e-14), name


SHIFT = torch.linspace(-1, 1, 20, dtype=torch.float64).reshape(5, 4)


def _scale_grad_input(module: Any, grad_input: Any, grad_output: Any) -> tuple[torch.Tensor]:
    return (grad_input[0] * SHIFT,)


def test_a_pre_hook_replacement_changes_what_follows_as_in_torch(generator: torch.Generator) -> None:
    _replaced_gradients(
        generator,
        lambda m: m.register_forward_pre_hook(lambda m, args: args[0] + SHIFT),
        lambda m: m.register_forward_pre_hook(lambda m, args: args[0] + SHIFT),
    )


def test_a_forward_hook_replacement_changes_what_follows_as_in_torch(generator: torch.Generator) -> None:
    _replaced_gradients(
        generator,
        lambda m: m.register_forward_hook(lambda m, args, out: out + SHIFT),
        lambda m: m.register_forward_hook(lambda m, args, out: out + SHIFT),
    )


def test_a_backward_hook_replacement_flows_to_the_previous_layer_as_in_torch(
    generator: torch.Generator,
) -> None:
    _replaced_gradients(
        generator,
        lambda m: m.register_full_backward_hook(_scale_grad_input),
        lambda m: m.register_full_backward_hook(_scale_grad_input),
    )


def test_a_forward_replacement_is_straight_through_in_backward(generator: torch.Generator) -> None:
    # Documented: backward hands the replacement's gradient on as the output's (no Jacobian of the hook).
    layer = mn.Linear(3, 2, generator=generator)
    layer.register_forward_hook(lambda m, args, out: out * 3)
    x, g = torch.randn(4, 3, generator=generator), torch.randn(4, 2, generator=generator)
    assert layer.bias is not None
    assert torch.allclose(layer(x), 3 * (x @ layer.weight.value.T + layer.bias.value))
    assert torch.allclose(layer.backward(g), g @ layer.weight.value)


def test_a_single_tensor_from_a_pre_hook_is_the_only_argument(generator: torch.Generator) -> None:
    layer = mn.Tanh()
    layer.register_forward_pre_hook(lambda m, args: torch.zeros(2, 2))
    assert torch.equal(layer(torch.ones(2, 2)), torch.zeros(2, 2))


def test_loss_hooks_get_input_and_target_and_a_replaced_target_is_used(generator: torch.Generator) -> None:
    loss = mn.MSELoss()
    seen: list[int] = []
    loss.register_forward_pre_hook(lambda m, args: seen.append(len(args)))
    loss.register_forward_pre_hook(lambda m, args: (args[0], torch.zeros_like(args[1])))
    x = torch.randn(3, 2, generator=generator)
    assert torch.allclose(loss(x, torch.ones(3, 2)), (x**2).mean()) and seen == [2]


def test_loss_backward_hook_with_an_explicit_grad_output(generator: torch.Generator) -> None:
    loss, twin = mn.MSELoss(), nn.MSELoss()
    ours: Log = []
    theirs: Log = []
    _watch(iter([("loss", loss)]), ours)
    _watch(iter([("loss", twin)]), theirs)
    x, t = torch.randn(3, 2, generator=generator), torch.randn(3, 2, generator=generator)
    loss(x, t)
    loss.backward(torch.tensor(2.0))
    twin(x.clone().requires_grad_(True), t).backward(torch.tensor(2.0))
    _compare_tensors(ours, _loss_target_grad(theirs))


def test_hooks_after_an_in_place_forward_see_the_right_tensors(generator: torch.Generator) -> None:
    # Tanh after Linear runs forward_ on the Linear's fresh output; the hooks must still see the true values.
    model = mn.Sequential(mn.Linear(3, 4, generator=generator), mn.Tanh(), mn.Sigmoid())
    twin = to_torch(model)
    ours: Log = []
    theirs: Log = []
    _watch(iter(list(model.named_modules())[1:]), ours)
    _watch(iter(list(twin.named_modules())[1:]), theirs)
    x = torch.randn(5, 3, generator=generator)
    model.backward(torch.ones(5, 4) * model(x))
    out = twin(x.clone().requires_grad_(True))
    out.backward(torch.ones(5, 4) * out.detach())
    assert [(n, k) for n, k, _ in ours] == [(n, k) for n, k, _ in theirs]
    _compare_tensors(ours, theirs)


def test_a_hook_that_keeps_its_tensors_sees_them_unchanged_later(generator: torch.Generator) -> None:
    # Unhooked, Tanh would compute in place into the Linear's output, and into the ReLU's input gradient.
    linear = mn.Linear(3, 4, generator=generator)
    model = mn.Sequential(linear, mn.Tanh(), mn.ReLU())
    kept: list[torch.Tensor] = []
    linear.register_forward_hook(lambda m, args, out: kept.append(out))
    model[2].register_full_backward_hook(lambda m, gi, go: kept.append(_tensor(gi[0])))
    x = torch.randn(5, 3, generator=generator)
    model(x)
    model.backward(torch.ones(5, 4))
    assert linear.bias is not None
    pre = x @ linear.weight.value.T + linear.bias.value
    assert torch.equal(kept[0], pre)
    assert torch.equal(kept[1], (pre.tanh() > 0).to(pre.dtype))


def test_hooks_fire_once_when_a_default_forward_calls_forward(generator: torch.Generator) -> None:
    # The second Linear gets forward_ (the first one's output is fresh), the first backward_: both defaults.
    model = mn.Sequential(mn.Linear(3, 4, generator=generator), mn.Linear(4, 2, generator=generator))
    calls: list[str] = []
    model[1].register_forward_pre_hook(lambda m, a: calls.append("pre"))
    model[1].register_forward_hook(lambda m, a, o: calls.append("forward"))
    model[0].register_full_backward_hook(lambda m, gi, go: calls.append("backward"))
    model(torch.ones(2, 3))
    model.backward(torch.ones(2, 2))
    assert calls == ["pre", "forward", "backward"]


class Scale(mn.Module):
    """``weight * input``, with the default ``forward_``, ``backward_`` and ``accumulate_grad``."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = mn.Parameter(torch.full((2,), 3.0))
        self._input: torch.Tensor | None = None

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._input = input
        return input * self.weight.value

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        self.weight.grad.add_((grad_output * self._cached(self._input)).sum(0))
        return grad_output * self.weight.value


def test_default_accumulate_grad_fires_the_hook_once_with_no_input_gradient() -> None:
    layer = Scale()
    seen: list[tuple[torch.Tensor | None, ...]] = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    layer(torch.ones(4, 2))
    layer.accumulate_grad(torch.ones(4, 2))
    assert seen == [(None,)] and torch.equal(layer.weight.grad, torch.full((2,), 4.0))


def test_remove_and_context_manager(generator: torch.Generator) -> None:
    layer = mn.Tanh()
    calls: list[str] = []
    handle = layer.register_forward_hook(lambda m, a, o: calls.append("kept"))
    with layer.register_forward_hook(lambda m, a, o: calls.append("block")):
        layer(torch.zeros(1))
    layer(torch.zeros(1))
    handle.remove()
    handle.remove()  # idempotent
    layer(torch.zeros(1))
    assert calls == ["kept", "block", "kept"]


@pytest.mark.parametrize("kind", ["pre", "forward", "backward"])
def test_prepend_and_registration_order_as_torch(kind: str) -> None:
    def run(module: Any) -> list[str]:
        calls: list[str] = []
        method = {
            "pre": module.register_forward_pre_hook,
            "forward": module.register_forward_hook,
            "backward": module.register_full_backward_hook,
        }[kind]

        def register(note: Callable[[], None], prepend: bool = False) -> None:
            method(lambda *args: note(), prepend=prepend)

        register(lambda: calls.append("a"))
        register(lambda: calls.append("b"))
        register(lambda: calls.append("c"), prepend=True)
        x = torch.ones(2, 2, requires_grad=isinstance(module, nn.Module))
        out = module(x)
        if isinstance(module, nn.Module):
            out.backward(torch.ones(2, 2))
        else:
            module.backward(torch.ones(2, 2))
        return calls

    assert run(mn.Tanh()) == run(nn.Tanh()) == ["c", "a", "b"]


def test_the_same_function_twice_fires_twice_as_torch() -> None:
    def run(module: Any) -> int:
        calls: list[int] = []

        def hook(m: Any, args: Any, out: Any) -> None:
            calls.append(1)

        module.register_forward_hook(hook)
        module.register_forward_hook(hook)
        module(torch.ones(2))
        return len(calls)

    assert run(mn.Tanh()) == run(nn.Tanh()) == 2


def test_a_hook_removed_while_running(generator: torch.Generator) -> None:
    def run(module: Any) -> list[str]:
        calls: list[str] = []
        handles: list[Any] = []

        def first(m: Any, a: Any, o: Any) -> None:
            calls.append("first")
            handles[0].remove()  # itself
            handles[1].remove()  # the next one: still runs in this call, as torch's snapshot

        handles.append(module.register_forward_hook(first))
        handles.append(module.register_forward_hook(lambda m, a, o: calls.append("second")))
        module(torch.ones(2))
        module(torch.ones(2))
        return calls

    layer = mn.Tanh()
    assert run(layer) == run(nn.Tanh()) == ["first", "second"]
    assert not HOOK_ATTRIBUTES & set(vars(layer))


def test_a_hook_that_raises_leaves_the_module_usable(generator: torch.Generator) -> None:
    model = mn.Sequential(mn.Linear(3, 2, generator=generator), mn.Tanh())

    def boom(m: Any, *args: Any) -> None:
        raise RuntimeError("boom")

    x = torch.randn(4, 3, generator=generator)
    expected = model(x).clone()
    handle = model[1].register_forward_hook(boom)
    with pytest.raises(RuntimeError, match="boom") as error:
        model(x)
    assert "in Sequential layer [1]" in error.value.__notes__
    handle.remove()
    model(x)
    with model[0].register_full_backward_hook(boom), pytest.raises(RuntimeError, match="boom"):
        model.backward(torch.ones(4, 2))
    assert torch.equal(model(x), expected)
    model.backward(torch.ones(4, 2))
    calls: list[int] = []
    with model[1].register_forward_hook(lambda m, a, o: calls.append(1)):
        model(x)
    assert calls == [1]  # the depth counter came back to zero after the failure


def test_replacements_of_the_wrong_shape_or_kind_name_the_module_and_hook() -> None:
    layer = mn.Linear(3, 2)
    x = torch.ones(4, 3)

    def wide(m: Any, args: Any, out: torch.Tensor) -> torch.Tensor:
        return torch.ones(4, 5)

    with layer.register_forward_hook(wide), pytest.raises(ValueError, match="wide") as error:
        layer(x)
    assert str(error.value) == (
        "Linear(in_features=3, out_features=2): forward hook 'test_replacements_of_the_wrong_shape_or_kind_"
        "name_the_module_and_hook.<locals>.wide': expected a replacement output of shape (4, 2) "
        "(the original's), got (4, 5)"
    )
    two = layer.register_forward_pre_hook(lambda m, a: (x, x))
    with two, pytest.raises(ValueError, match="1 replacement"):
        layer(x)
    with layer.register_forward_pre_hook(lambda m, a: x.float()), pytest.raises(TypeError, match="dtype"):
        layer(x)
    layer(x)
    bare: Any = lambda m, gi, go: gi[0]  # noqa: E731  # a bare tensor, not a tuple: refused, as torch
    with layer.register_full_backward_hook(bare), pytest.raises(TypeError, match="tuple of 1"):
        layer.backward(torch.ones(4, 2))
    wrong = layer.register_full_backward_hook(lambda m, gi, go: (torch.ones(4, 4),))
    with wrong, pytest.raises(ValueError, match=r"grad_input\[0\] of shape \(4, 3\)"):
        layer.backward(torch.ones(4, 2))


def test_accumulate_grad_refuses_an_input_gradient_from_a_hook() -> None:
    layer = mn.Linear(3, 2)
    layer(torch.ones(4, 3))
    layer.register_full_backward_hook(lambda m, gi, go: (torch.ones(4, 3),))
    with pytest.raises(ValueError, match=r"expected None at grad_input\[0\] \(no input gradient is computed"):
        layer.accumulate_grad(torch.ones(4, 2))


def test_removing_every_hook_leaves_no_instance_attribute(generator: torch.Generator) -> None:
    for module in [*NETWORKS["residual shortcut and concat"](generator).modules(), mn.MSELoss()]:
        before = dict(vars(module))
        handles = [
            module.register_forward_pre_hook(lambda m, a: None),
            module.register_forward_hook(lambda m, a, o: None),
            module.register_full_backward_hook(lambda m, gi, go: None),
        ]
        assert "forward" in vars(module)
        for handle in handles:
            handle.remove()
        assert vars(module) == before


def _picklable_hook(module: Any, args: Any, output: torch.Tensor) -> torch.Tensor:
    return output * 0


def test_deepcopy_copies_the_hooks_and_shared_copy_starts_without(generator: torch.Generator) -> None:
    layer = mn.Linear(3, 2, generator=generator)
    handle = layer.register_forward_hook(_picklable_hook)
    twin = copy.deepcopy(layer)
    x = torch.ones(2, 3)
    assert not twin(x).any()
    handle.remove()  # the handle belongs to the original, as in torch
    assert layer(x).any() and not twin(x).any()
    shared = twin.shared_copy()
    assert shared(x).any() and not HOOK_ATTRIBUTES & set(vars(shared))
    assert not twin(x).any()


def test_pickling_keeps_picklable_hooks_and_never_the_wrappers(generator: torch.Generator) -> None:
    model = mn.Sequential(mn.Linear(3, 2, generator=generator), mn.Tanh())
    model[0].register_forward_hook(_picklable_hook)
    loaded = pickle.loads(pickle.dumps(model))
    assert not loaded(torch.ones(2, 3)).any()
    assert "forward" in vars(loaded[0])
    plain = pickle.loads(pickle.dumps(mn.Linear(3, 2)))
    assert not HOOK_ATTRIBUTES & set(vars(plain))


def test_an_unpicklable_hook_fails_to_pickle_cleanly() -> None:
    layer = mn.Tanh()
    handle = layer.register_forward_hook(lambda m, a, o: None)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(layer)
    handle.remove()
    assert pickle.loads(pickle.dumps(layer))(torch.zeros(1)).shape == (1,)


def test_a_module_without_hooks_runs_the_class_methods() -> None:
    layer = mn.Linear(3, 2)
    assert "forward" not in vars(layer) and "backward" not in vars(layer)
    assert layer.register_forward_hook is not None
    assert mn.Linear.__call__ is mn.Module.__call__


@pytest.mark.filterwarnings("default")
def test_a_replaced_output_or_input_says_how_backward_treats_it() -> None:
    """torch differentiates what a hook computed; here the gradient is handed on unchanged, and a warning
    says so, naming the module and the hook (torch's gradient for output * 3 would be 3 times ours)."""
    layer = mn.Linear(3, 2)

    def triple(module: Any, args: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
        return output * 3

    def shift(module: Any, args: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return args[0] + 1

    expected = r"^Linear\(in_features=3, out_features=2\): forward hook '[^']*triple' replaced the output; "
    with layer.register_forward_hook(triple), pytest.warns(UserWarning, match=expected):
        layer(torch.ones(4, 3))
    with (
        layer.register_forward_pre_hook(shift),
        pytest.warns(UserWarning, match=r"forward pre-hook '[^']*shift'"),
    ):
        layer(torch.ones(4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer.register_forward_hook(lambda m, a, o: None)
        layer(torch.ones(4, 3))  # a hook that only looks says nothing
