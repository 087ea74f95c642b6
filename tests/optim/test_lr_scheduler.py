"""StepLR and CosineAnnealingLR against torch.optim.lr_scheduler, the state dict, and argument checks."""

import math
import re
from collections.abc import Callable

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn.optim import SGD
from minitorch_nn.optim.lr_scheduler import CosineAnnealingLR, Scheduler, StepLR


def _sgd(lr: float) -> SGD:
    return SGD([mn.Parameter(torch.zeros(1))], lr)


def _torch_sgd(lr: float) -> torch.optim.SGD:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def _assert_same_rates(
    ours: Scheduler, theirs: torch.optim.lr_scheduler.LRScheduler, optimizer: torch.optim.SGD, epochs: int
) -> None:
    """Step both once per epoch (after an optimizer step); the rates must agree to 1e-12 relative."""
    assert ours.get_last_lr() == theirs.get_last_lr()[0] == ours.optimizer.lr
    for epoch in range(1, epochs + 1):
        ours.optimizer.step()
        optimizer.step()
        ours.step()
        theirs.step()
        expected = float(optimizer.param_groups[0]["lr"])
        assert math.isclose(ours.optimizer.lr, expected, rel_tol=1e-12, abs_tol=0), f"epoch {epoch}"
        assert ours.get_last_lr() == ours.optimizer.lr and ours.last_epoch == epoch


@pytest.mark.parametrize(("step_size", "gamma"), [(1, 0.5), (3, 0.1), (7, 0.9), (2, 1.5)])
def test_step_lr_matches_torch(step_size: int, gamma: float) -> None:
    torch_optimizer = _torch_sgd(0.3)
    theirs = torch.optim.lr_scheduler.StepLR(torch_optimizer, step_size=step_size, gamma=gamma)
    _assert_same_rates(StepLR(_sgd(0.3), step_size, gamma=gamma), theirs, torch_optimizer, 40)


@pytest.mark.parametrize(("t_max", "eta_min"), [(1, 0.0), (5, 0.0), (10, 0.01), (25, 0.001), (7, 0.2)])
def test_cosine_matches_torch_over_three_periods(t_max: int, eta_min: float) -> None:
    torch_optimizer = _torch_sgd(0.3)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(torch_optimizer, T_max=t_max, eta_min=eta_min)
    _assert_same_rates(
        CosineAnnealingLR(_sgd(0.3), t_max, eta_min=eta_min), theirs, torch_optimizer, 3 * t_max
    )


def test_step_lr_follows_hand_formula() -> None:
    scheduler = StepLR(_sgd(2.0), 3, gamma=0.5)
    rates = []
    for _ in range(7):
        scheduler.step()
        rates.append(scheduler.optimizer.lr)
    assert rates == [2.0, 2.0, 1.0, 1.0, 1.0, 0.5, 0.5]  # 2 * 0.5 ** (epoch // 3) for epochs 1..7


def test_cosine_follows_hand_formula() -> None:
    scheduler = CosineAnnealingLR(_sgd(1.0), 4, eta_min=0.2)
    rates = []
    for _ in range(4):
        scheduler.step()
        rates.append(scheduler.optimizer.lr)
    # 0.2 + 0.8 * (1 + cos(pi * t / 4)) / 2 for t = 1..4
    expected = [0.2 + 0.4 * (1 + math.sqrt(0.5)), 0.6, 0.2 + 0.4 * (1 - math.sqrt(0.5)), 0.2]
    assert all(math.isclose(a, b, rel_tol=1e-15) for a, b in zip(rates, expected, strict=True))


def test_construction_leaves_lr_alone() -> None:
    optimizer = _sgd(0.3)
    scheduler = CosineAnnealingLR(optimizer, 10, eta_min=0.1)
    assert optimizer.lr == scheduler.base_lr == scheduler.get_last_lr() == 0.3 and scheduler.last_epoch == 0


def test_scheduled_lr_is_the_one_the_update_uses() -> None:
    optimizer = _sgd(1.0)
    p = optimizer.params[0]
    p.grad.fill_(1.0)
    scheduler = StepLR(optimizer, 1, gamma=0.5)
    optimizer.step()  # lr 1
    scheduler.step()
    optimizer.step()  # lr 0.5
    scheduler.step()
    optimizer.step()  # lr 0.25
    assert p.value.tolist() == [-1.75]


@pytest.mark.parametrize(
    "make", [lambda o: StepLR(o, 3, gamma=0.5), lambda o: CosineAnnealingLR(o, 5, eta_min=0.01)]
)
def test_state_dict_round_trip_continues_identically(make: Callable[[SGD], Scheduler]) -> None:
    original = make(_sgd(0.3))
    for _ in range(7):
        original.step()
    saved = original.state_dict()
    assert all(isinstance(value, int | float) for value in saved.values())
    copy = make(_sgd(5.0))
    copy.load_state_dict(saved)
    assert (copy.base_lr, copy.last_epoch, copy.get_last_lr()) == (0.3, 7, original.get_last_lr())
    for _ in range(10):
        original.step()
        copy.step()
        assert copy.optimizer.lr == original.optimizer.lr


def test_state_dict_format() -> None:
    scheduler = CosineAnnealingLR(_sgd(0.3), 10, eta_min=0.01)
    scheduler.step()
    assert scheduler.state_dict() == {"base_lr": 0.3, "last_epoch": 1, "T_max": 10, "eta_min": 0.01}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"last_epoch": -1}, "expected last_epoch to be an int >= 0, got -1"),
        ({"last_epoch": 1.5}, "expected last_epoch to be an int >= 0, got 1.5"),
        ({"base_lr": -0.1}, "StepLR: expected base_lr >= 0, got -0.1"),
        ({"gamma": 0.0}, "StepLR: expected gamma > 0, got 0.0"),
        ({"step_size": 2.0}, "StepLR: expected step_size to be an int, got float"),
        (
            {"T_max": 10},
            "expected keys ['base_lr', 'gamma', 'last_epoch', 'step_size'], "
            "got ['T_max', 'base_lr', 'gamma', 'last_epoch', 'step_size']",
        ),
    ],
)
def test_load_rejects_a_bad_state_and_changes_nothing(change: dict[str, object], problem: str) -> None:
    scheduler = StepLR(_sgd(0.3), 3, gamma=0.5)
    scheduler.step()
    saved = scheduler.state_dict()
    message = f"StepLR.load_state_dict: the state does not match\n  {problem}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        scheduler.load_state_dict({**saved, **change})
    assert scheduler.state_dict() == saved


ERRORS: list[tuple[str, dict[str, object], type[Exception], str]] = [
    ("StepLR", {"step_size": 0}, ValueError, "StepLR: expected step_size > 0, got 0"),
    ("StepLR", {"step_size": 2.0}, TypeError, "StepLR: expected step_size to be an int, got float"),
    ("StepLR", {"step_size": True}, TypeError, "StepLR: expected step_size to be an int, got bool"),
    ("StepLR", {"gamma": 0.0}, ValueError, "StepLR: expected gamma > 0, got 0.0"),
    ("StepLR", {"gamma": math.inf}, ValueError, "StepLR: expected gamma to be finite, got inf"),
    ("StepLR", {"gamma": "0.1"}, TypeError, "StepLR: expected gamma to be a number, got str"),
    ("CosineAnnealingLR", {"T_max": -1}, ValueError, "CosineAnnealingLR: expected T_max > 0, got -1"),
    (
        "CosineAnnealingLR",
        {"T_max": None},
        TypeError,
        "CosineAnnealingLR: expected T_max to be an int, got NoneType",
    ),
    (
        "CosineAnnealingLR",
        {"eta_min": -0.1},
        ValueError,
        "CosineAnnealingLR: expected eta_min >= 0, got -0.1",
    ),
    (
        "CosineAnnealingLR",
        {"eta_min": math.nan},
        ValueError,
        "CosineAnnealingLR: expected eta_min >= 0, got nan",
    ),
]


@pytest.mark.parametrize(("kind", "options", "error", "message"), ERRORS, ids=[e[3] for e in ERRORS])
def test_rejects_bad_option(
    kind: str, options: dict[str, object], error: type[Exception], message: str
) -> None:
    make: Callable[..., Scheduler] = StepLR if kind == "StepLR" else CosineAnnealingLR
    required = {"step_size": 2} if kind == "StepLR" else {"T_max": 2}
    optimizer = _sgd(0.1)
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        make(optimizer, **{**required, **options})


@pytest.mark.parametrize("kind", [StepLR, CosineAnnealingLR])
def test_rejects_a_foreign_optimizer(kind: type[StepLR] | type[CosineAnnealingLR]) -> None:
    with pytest.raises(TypeError, match=f"^{kind.__name__}: expected an OptimizerBase, got SGD$"):
        kind(_torch_sgd(0.1), 2)  # type: ignore[arg-type]  # torch's optimizer is the point


@pytest.mark.parametrize("cls", [StepLR, CosineAnnealingLR])
def test_schedulers_take_torchs_arguments_in_torchs_order(cls: type[Scheduler]) -> None:
    """The parameter names, order and defaults are torch.optim.lr_scheduler's."""
    import inspect

    ours = inspect.signature(cls.__init__).parameters
    theirs = inspect.signature(getattr(torch.optim.lr_scheduler, cls.__name__).__init__).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


def test_schedulers_take_last_epoch_minus_one_and_refuse_the_rest() -> None:
    optimizer = SGD([mn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = StepLR(optimizer, 2, 0.5, -1)
    assert scheduler.last_epoch == 0
    with pytest.raises(
        ValueError, match=r"^StepLR: expected last_epoch=-1 \(a new schedule\), got 3; to resume"
    ):
        StepLR(optimizer, 2, 0.5, last_epoch=3)
    with pytest.raises(TypeError, match=r"^CosineAnnealingLR: argument 'verbose' is not supported"):
        CosineAnnealingLR(optimizer, 10, verbose=True)  # type: ignore[call-arg]  # the refusal under test
