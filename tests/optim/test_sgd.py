"""SGD: steps against formulas worked out by hand, trajectories against torch.optim.SGD, argument checks."""

import math
import re

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn.optim import SGD
from tests.optim.reference import LeastSquares, assert_same_trajectory


def test_step_follows_hand_formula() -> None:
    p = mn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    p.grad.copy_(torch.tensor([0.5, 1.0, -4.0]))
    mn.SGD([p], lr=0.1).step()
    # value - lr * grad = [1 - 0.05, -2 - 0.1, 0.5 + 0.4]
    torch.testing.assert_close(p.value, torch.tensor([0.95, -2.1, 0.9]), rtol=0, atol=1e-15)


def test_step_updates_in_place_and_leaves_grad() -> None:
    p = mn.Parameter(torch.ones(2))
    value = p.value
    p.grad.fill_(2.0)
    mn.SGD([p], lr=0.5).step()
    assert p.value is value and p.value.tolist() == [0.0, 0.0]
    assert p.grad.tolist() == [2.0, 2.0]


def test_zero_grad_clears_every_buffer() -> None:
    model = mn.Sequential(mn.Linear(3, 2), mn.Tanh(), mn.Linear(2, 1))
    for p in model.parameters():
        p.grad.fill_(1.0)
    mn.SGD(model.parameters(), lr=0.1).zero_grad()
    assert all(torch.count_nonzero(p.grad) == 0 for p in model.parameters())


def test_accepts_a_generator_of_parameters() -> None:
    model = mn.Linear(3, 2)
    optimizer = mn.SGD(model.parameters(), lr=1.0)
    assert len(optimizer.params) == 2
    assert isinstance(optimizer, mn.Optimizer)


@pytest.mark.parametrize("lr", [-0.1, math.nan, math.inf])
def test_rejects_bad_learning_rate(lr: float) -> None:
    with pytest.raises(ValueError, match=r"SGD: expected lr to be a finite number >= 0, got"):
        mn.SGD(mn.Linear(2, 2).parameters(), lr=lr)


def test_rejects_empty_parameters() -> None:
    with pytest.raises(ValueError, match=r"SGD: expected at least one Parameter, got an empty iterable"):
        mn.SGD([], lr=0.1)


def test_rejects_non_parameter() -> None:
    with pytest.raises(TypeError, match=r"SGD: expected a Parameter at position 0, got Tensor"):
        mn.SGD([torch.zeros(2)], lr=0.1)  # type: ignore[arg-type]  # the wrong type is the point


def test_rejects_a_single_parameter() -> None:
    with pytest.raises(TypeError, match=r"SGD: expected an iterable of Parameter, got a single Parameter"):
        mn.SGD(mn.Parameter(torch.zeros(2)), lr=0.1)  # type: ignore[arg-type]  # the point of the test


def test_rejects_duplicate_parameters() -> None:
    p = mn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match=r"SGD: some parameters appear more than once"):
        mn.SGD([p, p], lr=0.1)


# --- SGD with momentum, dampening, weight decay and Nesterov -----------------------------------------

SGD_GRID = [
    {"momentum": m, "dampening": d, "weight_decay": w, "nesterov": n}
    for m in (0.0, 0.9)
    for d in (0.0, 0.1)
    for w in (0.0, 0.01)
    for n in (False, True)
]


def _settings_id(settings: dict[str, float | bool]) -> str:
    return "-".join(f"{name}={value}" for name, value in settings.items())


@pytest.mark.parametrize("settings", SGD_GRID, ids=_settings_id)
def test_trajectory_matches_torch(settings: dict[str, float | bool], generator: torch.Generator) -> None:
    momentum, dampening = float(settings["momentum"]), float(settings["dampening"])
    weight_decay, nesterov = float(settings["weight_decay"]), bool(settings["nesterov"])
    if nesterov and (momentum == 0 or dampening != 0):
        with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
            torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01, **settings)  # type: ignore[arg-type]  # the grid mixes bool and float
        with pytest.raises(ValueError, match=r"SGD: nesterov momentum needs momentum > 0 and dampening = 0"):
            SGD(mn.Linear(2, 2).parameters(), 0.01, momentum=momentum, dampening=dampening, nesterov=True)
        return
    assert_same_trajectory(
        LeastSquares(generator),
        lambda params: SGD(
            params, 0.01, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov
        ),
        lambda params: torch.optim.SGD(
            params,
            lr=0.01,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            foreach=False,
        ),
    )


def test_momentum_steps_follow_hand_formula() -> None:
    p = mn.Parameter(torch.tensor([1.0, -2.0]))
    p.grad.copy_(torch.tensor([0.5, 1.0]))
    optimizer = SGD([p], 0.1, momentum=0.9, dampening=0.5, weight_decay=0.1)
    optimizer.step()
    # d1 = g + 0.1 * x0 = [0.6, 0.8]; the first buffer is d1 itself; x1 = x0 - 0.1 * d1
    torch.testing.assert_close(p.value, torch.tensor([0.94, -2.08]), rtol=0, atol=1e-15)
    optimizer.step()
    # d2 = g + 0.1 * x1 = [0.594, 0.792]; b2 = 0.9 * b1 + (1 - 0.5) * d2 = [0.837, 1.116]; x2 = x1 - 0.1 * b2
    torch.testing.assert_close(p.value, torch.tensor([0.8563, -2.1916]), rtol=0, atol=1e-15)


def test_nesterov_steps_follow_hand_formula() -> None:
    p = mn.Parameter(torch.tensor([1.0]))
    p.grad.fill_(1.0)
    optimizer = SGD([p], 0.1, momentum=0.9, nesterov=True)
    optimizer.step()  # b1 = 1; x1 = 1 - 0.1 * (1 + 0.9 * 1) = 0.81
    torch.testing.assert_close(p.value, torch.tensor([0.81]), rtol=0, atol=1e-15)
    optimizer.step()  # b2 = 0.9 + 1 = 1.9; x2 = 0.81 - 0.1 * (1 + 0.9 * 1.9) = 0.539
    torch.testing.assert_close(p.value, torch.tensor([0.539]), rtol=0, atol=1e-15)


def test_step_leaves_grad_untouched_with_every_option() -> None:
    p = mn.Parameter(torch.tensor([1.0, -2.0]))
    p.grad.copy_(torch.tensor([0.5, 1.0]))
    grad = p.grad
    optimizer = SGD([p], 0.1, momentum=0.9, weight_decay=0.1, nesterov=True)
    for _ in range(3):
        optimizer.step()
    assert p.grad is grad and p.grad.tolist() == [0.5, 1.0]


def test_repr_lists_hyperparameters() -> None:
    optimizer = SGD(mn.Linear(2, 2).parameters(), 0.1, momentum=0.9)
    assert (
        repr(optimizer)
        == "SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False, "
        "params=2)"
    )


SGD_ERRORS: list[tuple[dict[str, object], type[Exception], str]] = [
    ({"lr": "0.1"}, TypeError, "SGD: expected lr to be a number, got str"),
    ({"momentum": -0.1}, ValueError, "SGD: expected momentum >= 0, got -0.1"),
    ({"momentum": math.inf}, ValueError, "SGD: expected momentum to be finite, got inf"),
    ({"momentum": math.nan}, ValueError, "SGD: expected momentum >= 0, got nan"),
    ({"momentum": None}, TypeError, "SGD: expected momentum to be a number, got NoneType"),
    ({"dampening": -0.1}, ValueError, "SGD: expected dampening in [0, 1], got -0.1"),
    ({"dampening": 1.5}, ValueError, "SGD: expected dampening in [0, 1], got 1.5"),
    ({"dampening": True}, TypeError, "SGD: expected dampening to be a number, got bool"),
    ({"weight_decay": -1}, ValueError, "SGD: expected weight_decay >= 0, got -1"),
    ({"weight_decay": -math.inf}, ValueError, "SGD: expected weight_decay to be finite, got -inf"),
    ({"weight_decay": "0"}, TypeError, "SGD: expected weight_decay to be a number, got str"),
    ({"nesterov": 1}, TypeError, "SGD: expected nesterov to be a bool, got int"),
    (
        {"nesterov": True},
        ValueError,
        "SGD: nesterov momentum needs momentum > 0 and dampening = 0, got momentum=0.0, dampening=0.0",
    ),
    (
        {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
        ValueError,
        "SGD: nesterov momentum needs momentum > 0 and dampening = 0, got momentum=0.9, dampening=0.1",
    ),
]


@pytest.mark.parametrize(("options", "error", "message"), SGD_ERRORS, ids=[e[2] for e in SGD_ERRORS])
def test_rejects_bad_option(options: dict[str, object], error: type[Exception], message: str) -> None:
    options = dict(options)  # the parametrize table is shared between cases
    lr = options.pop("lr", 0.1)
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        SGD(mn.Linear(2, 2).parameters(), lr, **options)  # type: ignore[arg-type]  # wrong kinds are the point


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"momentum": 0.9},
        {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
        {"momentum": 0.8, "nesterov": True, "weight_decay": 0.1},
        {"maximize": True},
        {"maximize": True, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1},
    ],
    ids=["plain", "momentum", "dampening-decay", "nesterov", "maximize", "maximize-nesterov-decay"],
)
def test_multi_tensor_step_is_bit_identical_to_the_per_tensor_rule(options: dict[str, float | bool]) -> None:
    g = torch.Generator().manual_seed(0)
    start = [torch.randn(3, 4, generator=g), torch.randn(5, generator=g)]
    fast = [mn.Parameter(t.clone()) for t in start]
    slow = [mn.Parameter(t.clone()) for t in start]
    fast_opt = mn.SGD(fast, lr=0.1, **options)  # type: ignore[arg-type]  # options of mixed types
    slow_opt = mn.SGD(slow, lr=0.1, **options)  # type: ignore[arg-type]  # options of mixed types
    for _ in range(5):
        for a, b in zip(fast, slow, strict=True):
            grad = torch.randn(a.shape, generator=g)
            a.grad.copy_(grad)
            b.grad.copy_(grad)
        fast_opt.step()
        slow_opt.num_steps += 1
        for param, state in zip(slow, slow_opt._state, strict=True):
            slow_opt._update(param.value, param.grad, state)
    assert all(torch.equal(a.value, b.value) for a, b in zip(fast, slow, strict=True))
