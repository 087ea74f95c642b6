"""torch.optim's arguments on SGD, Adam and AdamW: signatures, trajectories against torch.optim, refusals.

Every trajectory runs 25 steps in float64 beside the torch optimizer built with the same arguments;
each side gets the gradient of its own current values.
"""

import inspect
import json
import math
import re
from typing import Any

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn.optim import SGD, Adam, AdamW, CosineAnnealingLR, StepLR
from minitorch_nn.optim.optimizer import OptimizerBase

STEPS = 25


def _close(actual: torch.Tensor, expected: torch.Tensor, msg: str = "", rtol: float = 1e-13) -> None:
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=1e-15, msg=msg or None)


def _starts() -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(4, 3, generator=gen), torch.randn(5, generator=gen)]


def _gradient(value: torch.Tensor, step: int) -> torch.Tensor:
    return torch.sin(3.0 * value + step) + 0.1 * value


def _copy(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}


def _pair(name: str, kwargs: dict[str, Any]) -> tuple[list[torch.Tensor], Any, list[mn.Parameter], Any]:
    theirs = [s.clone().requires_grad_(True) for s in _starts()]
    ours = [mn.Parameter(s.clone()) for s in _starts()]
    return (
        theirs,
        getattr(torch.optim, name)(theirs, **_copy(kwargs)),
        ours,
        getattr(mn.optim, name)(ours, **_copy(kwargs)),
    )


def _step_both(
    theirs: list[torch.Tensor], reference: Any, ours: list[mn.Parameter], optimizer: Any, step: int
) -> None:
    for ref, own in zip(theirs, ours, strict=True):
        ref.grad = _gradient(ref.detach(), step)
        own.grad.copy_(_gradient(own.value, step))
    reference.step()
    optimizer.step()


def _assert_trajectory(name: str, kwargs: dict[str, Any]) -> None:
    theirs, reference, ours, optimizer = _pair(name, kwargs)
    for step in range(STEPS):
        _step_both(theirs, reference, ours, optimizer, step)
        for ref, own in zip(theirs, ours, strict=True):
            _close(own.value, ref.detach(), f"after step {step + 1}")


# --- signatures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_signature_is_torchs(name: str) -> None:
    ours = list(inspect.signature(getattr(mn.optim, name).__init__).parameters.values())
    theirs = list(inspect.signature(getattr(torch.optim, name).__init__).parameters.values())
    assert [(p.name, p.kind) for p in ours] == [(p.name, p.kind) for p in theirs]
    assert [p.default for p in ours] == [p.default for p in theirs]


def test_sgd_default_lr_is_torchs() -> None:
    p = mn.Parameter(torch.tensor([1.0]))
    p.grad.fill_(2.0)
    SGD([p]).step()
    assert SGD([p]).lr == torch.optim.SGD([torch.zeros(1, requires_grad=True)]).defaults["lr"] == 1e-3
    assert p.value.item() == 1.0 - 1e-3 * 2.0


def test_positional_arguments_in_torchs_order() -> None:
    sgd = SGD([mn.Parameter(torch.zeros(1))], 0.1, 0.9, 0.5, 0.01, False)
    assert (sgd.lr, sgd.momentum, sgd.dampening, sgd.weight_decay, sgd.nesterov) == (
        0.1,
        0.9,
        0.5,
        0.01,
        False,
    )
    adam = Adam([mn.Parameter(torch.zeros(1))], 0.1, (0.8, 0.9), 1e-6, 0.01, True)
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay, adam.amsgrad) == (
        0.1,
        (0.8, 0.9),
        1e-6,
        0.01,
        True,
    )


# --- trajectories against torch.optim ---------------------------------------------------------------

SGD_OPTIONS: list[dict[str, Any]] = [
    {"maximize": True},
    {"maximize": True, "weight_decay": 0.1},
    {"maximize": True, "momentum": 0.9},
    {"maximize": True, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
    {"maximize": True, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    {},
]
ADAM_OPTIONS: list[dict[str, Any]] = [
    {"lr": 0.05, "maximize": True},
    {"lr": 0.05, "amsgrad": True},
    {"lr": 0.05, "amsgrad": True, "maximize": True, "weight_decay": 0.1},
    {"lr": 0.05, "decoupled_weight_decay": True, "weight_decay": 0.1},
    {"lr": 0.05, "decoupled_weight_decay": True, "weight_decay": 0.1, "amsgrad": True, "maximize": True},
    {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "amsgrad": True},
]
ADAMW_OPTIONS: list[dict[str, Any]] = [
    {"lr": 0.05, "maximize": True},
    {"lr": 0.05, "amsgrad": True},
    {"lr": 0.05, "amsgrad": True, "maximize": True, "weight_decay": 0.3},
]
FLAGS: dict[str, dict[str, Any]] = {
    "default": {},
    "foreach": {"foreach": True},
    "for-loop": {"foreach": False},
    "fused": {"fused": True},
    "not-fused": {"fused": False},
}
CASES = [
    (name, options, flag)
    for name, table in [("SGD", SGD_OPTIONS), ("Adam", ADAM_OPTIONS), ("AdamW", ADAMW_OPTIONS)]
    for options in table
    for flag in FLAGS
]


@pytest.mark.parametrize(
    ("name", "options", "flag"), CASES, ids=[f"{n}-{'-'.join(map(str, o.items()))}-{f}" for n, o, f in CASES]
)
def test_trajectory_matches_torch(name: str, options: dict[str, Any], flag: str) -> None:
    # foreach/fused pick torch's kernel; ours keeps one code path, which must follow each of them.
    _assert_trajectory(name, {**options, **FLAGS[flag]})


TENSOR_LRS = {
    "float64-0-dim": torch.tensor(0.01, dtype=torch.float64),
    "float32-0-dim": torch.tensor(0.01, dtype=torch.float32),
    "float64-one-element": torch.tensor([0.01], dtype=torch.float64),
    "float32-one-element": torch.tensor([[0.01]], dtype=torch.float32),
}
TENSOR_LR_CASES = [
    (name, lr, flag)
    for name in ("SGD", "Adam", "AdamW")
    for lr in TENSOR_LRS
    for flag in ("default", "for-loop", "fused") + (("foreach",) if name == "SGD" else ())
]


@pytest.mark.parametrize(("name", "lr", "flag"), TENSOR_LR_CASES, ids=["-".join(c) for c in TENSOR_LR_CASES])
def test_tensor_lr_trajectory_matches_torch(name: str, lr: str, flag: str) -> None:
    options: dict[str, Any] = {"momentum": 0.9} if name == "SGD" else {"weight_decay": 0.1, "amsgrad": True}
    _assert_trajectory(name, {"lr": TENSOR_LRS[lr], **options, **FLAGS[flag]})


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_tensor_lr_is_reported_as_a_float(name: str) -> None:
    optimizer = getattr(mn.optim, name)([mn.Parameter(torch.zeros(2))], lr=torch.tensor(0.25))
    state = optimizer.state_dict()
    assert type(optimizer.lr) is float and optimizer.lr == 0.25
    assert json.loads(json.dumps(state["hyperparameters"]))["lr"] == 0.25


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_tensor_lr_under_step_lr_matches_torch(name: str) -> None:
    # gamma = 0.5 is exact in float32, so torch's recursive rule and our closed form give the same rates.
    theirs, reference, ours, optimizer = _pair(name, {"lr": torch.tensor(0.1, dtype=torch.float32)})
    their_schedule = torch.optim.lr_scheduler.StepLR(reference, step_size=3, gamma=0.5)
    our_schedule = StepLR(optimizer, step_size=3, gamma=0.5)
    for step in range(STEPS):
        _step_both(theirs, reference, ours, optimizer, step)
        their_schedule.step()
        our_schedule.step()
        assert optimizer.lr == float(reference.param_groups[0]["lr"])
        for ref, own in zip(theirs, ours, strict=True):
            _close(own.value, ref.detach())


def test_tensor_lr_set_by_a_scheduler_is_rounded_to_its_dtype() -> None:
    optimizer = SGD([mn.Parameter(torch.zeros(1))], lr=torch.tensor(1.0, dtype=torch.float32))
    reference = torch.optim.SGD(
        [torch.zeros(1, requires_grad=True)], lr=torch.tensor(1.0, dtype=torch.float32)
    )
    ours, theirs = (
        CosineAnnealingLR(optimizer, T_max=7),
        torch.optim.lr_scheduler.CosineAnnealingLR(reference, 7),
    )
    for _ in range(10):
        optimizer.step()
        reference.step()
        ours.step()
        theirs.step()
        # torch fills the float32 tensor: the rate is a float32 value, within a float32 rounding of ours
        assert optimizer.lr == float(torch.tensor(optimizer.lr, dtype=torch.float32))
        assert math.isclose(optimizer.lr, float(reference.param_groups[0]["lr"]), rel_tol=3e-7, abs_tol=1e-12)


def test_float_lr_keeps_float64_rates_under_a_scheduler() -> None:
    optimizer = SGD([mn.Parameter(torch.zeros(1))], lr=0.1)
    optimizer.lr = 0.1 / 3
    assert optimizer.lr == 0.1 / 3


# --- state dicts --------------------------------------------------------------------------------------


def _run(optimizer: OptimizerBase, start: int, stop: int) -> None:
    for step in range(start, stop):
        for param in optimizer.params:
            param.grad.copy_(_gradient(param.value, step))
        optimizer.step()


def test_amsgrad_buffers_match_torchs_state() -> None:
    theirs, reference, ours, optimizer = _pair("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1})
    for step in range(STEPS):
        _step_both(theirs, reference, ours, optimizer, step)
    saved = optimizer.state_dict()["state"]
    for index, ref in enumerate(theirs):
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            _close(saved[f"{index}.{name}"], reference.state[ref][name])


@pytest.mark.parametrize("kind", [Adam, AdamW])
def test_amsgrad_round_trip_continues_bit_identically(kind: type[Adam]) -> None:
    original = kind([mn.Parameter(s) for s in _starts()], 0.05, amsgrad=True, maximize=True, weight_decay=0.1)
    _run(original, 0, 5)
    copy = kind([mn.Parameter(p.value.clone()) for p in original.params], 1.0, amsgrad=False)
    copy.load_state_dict(original.state_dict())
    assert (copy.amsgrad, copy.maximize, copy.lr, copy.num_steps) == (True, True, 0.05, 5)
    _run(original, 5, 10)
    _run(copy, 5, 10)
    assert all(torch.equal(a.value, b.value) for a, b in zip(copy.params, original.params, strict=True))


def test_amsgrad_state_without_its_buffer_is_refused() -> None:
    optimizer = Adam([mn.Parameter(torch.zeros(2))], amsgrad=True)
    optimizer.step()
    state = optimizer.state_dict()
    del state["state"]["0.max_exp_avg_sq"]
    with pytest.raises(ValueError, match=r"missing key: 0\.max_exp_avg_sq"):
        Adam([mn.Parameter(torch.zeros(2))], amsgrad=True).load_state_dict(state)


@pytest.mark.parametrize(
    ("make", "new_keys"),
    [
        (lambda ps: SGD(ps, 0.1, 0.9), ["maximize"]),
        (lambda ps: Adam(ps, 0.1), ["amsgrad", "maximize", "decoupled_weight_decay"]),
        (lambda ps: AdamW(ps, 0.1), ["amsgrad", "maximize"]),
    ],
    ids=["SGD", "Adam", "AdamW"],
)
def test_state_saved_before_the_new_hyperparameters_loads_with_their_defaults(
    make: Any, new_keys: list[str]
) -> None:
    old = make([mn.Parameter(s) for s in _starts()])
    _run(old, 0, 3)
    state = old.state_dict()
    assert set(new_keys) <= set(state["hyperparameters"])
    for key in new_keys:
        del state["hyperparameters"][key]  # what an older release wrote
    fresh = make([mn.Parameter(p.value.clone()) for p in old.params])
    fresh.maximize = True  # a non-default value, which the load must reset
    fresh.load_state_dict(state)
    assert fresh.hyperparameters() == old.hyperparameters() and fresh.num_steps == 3


# --- params ----------------------------------------------------------------------------------------


def test_named_parameters_are_accepted() -> None:
    model = mn.Sequential(mn.Linear(3, 2), mn.Tanh(), mn.Linear(2, 1))
    optimizer = SGD(model.named_parameters(), lr=0.1)
    assert [id(p) for p in optimizer.params] == [id(p) for p in model.parameters()]


# --- refusals ----------------------------------------------------------------------------------------

P = [mn.Parameter(torch.zeros(2))]
NO_AUTOGRAD = "differentiable=True is not supported: steps run outside autograd here, so nothing can be differentiated through them"  # noqa: E501
NO_GRAPHS = "capturable=True is not supported: the step count is a Python int here, so a step cannot be captured in a CUDA graph"  # noqa: E501
SGD_TAKES = "SGD takes params, lr, momentum, dampening, weight_decay, nesterov, maximize, foreach, differentiable, fused"  # noqa: E501
ADAMW_TAKES = "AdamW takes params, lr, betas, eps, weight_decay, amsgrad, maximize, foreach, capturable, differentiable, fused"  # noqa: E501

ERRORS: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    (
        "SGD",
        {"lr": torch.tensor(math.nan)},
        ValueError,
        "SGD: expected lr to be a finite number >= 0, got nan",
    ),
    (
        "SGD",
        {"lr": torch.tensor(math.inf)},
        ValueError,
        "SGD: expected lr to be a finite number >= 0, got inf",
    ),
    (
        "Adam",
        {"lr": torch.tensor(-0.5)},
        ValueError,
        "Adam: expected lr to be a finite number >= 0, got -0.5",
    ),
    (
        "SGD",
        {"lr": torch.tensor([0.1, 0.2])},
        ValueError,
        "SGD: expected a tensor lr to have one element, got shape (2,)",
    ),
    (
        "AdamW",
        {"lr": torch.zeros(0)},
        ValueError,
        "AdamW: expected a tensor lr to have one element, got shape (0,)",
    ),
    (
        "SGD",
        {"lr": torch.tensor(1)},
        TypeError,
        "SGD: expected lr to be a number or a floating-point tensor, got torch.int64",
    ),
    (
        "SGD",
        {"weight_decay": torch.tensor([0.1, 0.2])},
        ValueError,
        "SGD: expected a tensor weight_decay to have one element, got shape (2,)",
    ),
    ("SGD", {"weight_decay": torch.tensor(-1.0)}, ValueError, "SGD: expected weight_decay >= 0, got -1.0"),
    (
        "Adam",
        {"lr": torch.tensor(0.1), "foreach": True},
        ValueError,
        "Adam: a tensor lr is not supported with foreach=True (as in torch)",
    ),
    ("SGD", {"differentiable": True}, ValueError, f"SGD: {NO_AUTOGRAD}"),
    ("Adam", {"differentiable": True}, ValueError, f"Adam: {NO_AUTOGRAD}"),
    ("AdamW", {"capturable": True}, ValueError, f"AdamW: {NO_GRAPHS}"),
    (
        "SGD",
        {"foreach": True, "fused": True},
        ValueError,
        "SGD: foreach=True and fused=True cannot be set together",
    ),
    (
        "Adam",
        {"foreach": True, "fused": True},
        ValueError,
        "Adam: foreach=True and fused=True cannot be set together",
    ),
    ("SGD", {"foreach": 1}, TypeError, "SGD: expected foreach to be a bool or None, got int"),
    ("Adam", {"fused": "yes"}, TypeError, "Adam: expected fused to be a bool or None, got str"),
    ("SGD", {"differentiable": None}, TypeError, "SGD: expected differentiable to be a bool, got NoneType"),
    ("SGD", {"maximize": 1}, TypeError, "SGD: expected maximize to be a bool, got int"),
    ("Adam", {"amsgrad": "no"}, TypeError, "Adam: expected amsgrad to be a bool, got str"),
    ("AdamW", {"maximize": None}, TypeError, "AdamW: expected maximize to be a bool, got NoneType"),
    (
        "Adam",
        {"decoupled_weight_decay": 0},
        TypeError,
        "Adam: expected decoupled_weight_decay to be a bool, got int",
    ),
    (
        "Adam",
        {"betas": (torch.tensor(0.9), torch.tensor(0.999))},
        TypeError,
        "Adam: expected betas to be a pair of numbers, got tensors (pass float(beta))",
    ),
    ("SGD", {"foo": 1}, TypeError, f"SGD: argument 'foo' is not supported ({SGD_TAKES})"),
    (
        "AdamW",
        {"decoupled_weight_decay": True},
        TypeError,
        f"AdamW: argument 'decoupled_weight_decay' is not supported ({ADAMW_TAKES})",
    ),
]


@pytest.mark.parametrize(("name", "options", "error", "message"), ERRORS, ids=[e[3] for e in ERRORS])
def test_refuses_with_a_clear_message(
    name: str, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        getattr(mn.optim, name)(P, **options)


def test_torch_also_refuses_foreach_with_fused() -> None:
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], foreach=True, fused=True)


def test_torch_also_refuses_a_tensor_lr_with_foreach() -> None:
    with pytest.raises(ValueError, match="lr as a Tensor is not supported"):
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=torch.tensor(0.1), foreach=True)


def test_too_many_positional_arguments_are_refused() -> None:
    message = (
        "SGD: expected at most 6 positional arguments "
        "(params, lr, momentum, dampening, weight_decay, nesterov), got 7"
    )
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        SGD(P, 0.1, 0.9, 0.0, 0.0, False, True)  # type: ignore[call-arg]  # maximize is keyword-only, as in torch


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_param_groups_are_refused(name: str) -> None:
    message = (
        f"{name}: param groups (dicts in params) are not supported; "
        f"make one {name} per group, e.g. {name}(group['params'], lr=group['lr'])"
    )
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        getattr(mn.optim, name)([{"params": P, "lr": 0.1}])


@pytest.mark.parametrize("value", [math.nan, -1.0, math.inf])
def test_setting_a_bad_lr_is_refused(value: float) -> None:
    optimizer = SGD(P, lr=0.1)
    with pytest.raises(ValueError, match=r"^SGD: expected lr to be a finite number >= 0, got"):
        optimizer.lr = value
    assert optimizer.lr == 0.1


def test_setting_an_lr_beyond_the_tensor_dtype_is_refused() -> None:
    optimizer = Adam(P, lr=torch.tensor(0.1, dtype=torch.float16))
    with pytest.raises(
        ValueError, match=r"^Adam: expected lr to be finite in torch\.float16, got 100000\.0$"
    ):
        optimizer.lr = 1e5
