"""Adam and AdamW: first steps against formulas worked out by hand, trajectories against torch.optim."""

import math
import re

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn.optim.adam import Adam, AdamW
from tests.optim.reference import LeastSquares, assert_same_trajectory

SETTINGS: list[tuple[float, tuple[float, float], float]] = [
    (1e-3, (0.9, 0.999), 1e-8),  # torch's defaults
    (0.05, (0.8, 0.99), 1e-6),
    (0.01, (0.0, 0.9), 0.1),  # no first-moment averaging, a large eps
]
GRID = [(lr, betas, eps, wd) for lr, betas, eps in SETTINGS for wd in (0.0, 0.1)]


def _id(case: tuple[float, tuple[float, float], float, float]) -> str:
    lr, betas, eps, wd = case
    return f"lr={lr}-betas={betas}-eps={eps}-weight_decay={wd}"


@pytest.mark.parametrize("case", GRID, ids=_id)
def test_adam_trajectory_matches_torch(
    case: tuple[float, tuple[float, float], float, float], generator: torch.Generator
) -> None:
    lr, betas, eps, wd = case
    assert_same_trajectory(
        LeastSquares(generator),
        lambda params: Adam(params, lr, betas=betas, eps=eps, weight_decay=wd),
        lambda params: torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=wd, foreach=False),
    )


@pytest.mark.parametrize("case", GRID, ids=_id)
def test_adamw_trajectory_matches_torch(
    case: tuple[float, tuple[float, float], float, float], generator: torch.Generator
) -> None:
    lr, betas, eps, wd = case
    assert_same_trajectory(
        LeastSquares(generator),
        lambda params: AdamW(params, lr, betas=betas, eps=eps, weight_decay=wd),
        lambda params: torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=wd, foreach=False),
    )


def test_defaults_match_torch() -> None:
    adam, adamw = Adam(mn.Linear(2, 2).parameters()), AdamW(mn.Linear(2, 2).parameters())
    for ours, theirs in [(adam, torch.optim.Adam), (adamw, torch.optim.AdamW)]:
        defaults = theirs([torch.nn.Parameter(torch.zeros(1))]).defaults
        assert (ours.lr, ours.betas, ours.eps) == (defaults["lr"], defaults["betas"], defaults["eps"])
        assert ours.weight_decay == defaults["weight_decay"]


def test_adam_first_step_follows_hand_formula() -> None:
    p = mn.Parameter(torch.tensor([1.0, -1.0]))
    p.grad.copy_(torch.tensor([0.5, -2.0]))
    Adam([p], 0.1, weight_decay=0.2).step()
    # g = grad + 0.2 * x = [0.7, -2.2]; after bias correction m_hat = g and v_hat = g^2,
    # so x1 = x0 - 0.1 * g / (|g| + 1e-8).
    expected = torch.tensor([1.0 - 0.1 * 0.7 / (0.7 + 1e-8), -1.0 + 0.1 * 2.2 / (2.2 + 1e-8)])
    torch.testing.assert_close(p.value, expected, rtol=1e-15, atol=0)


def test_adam_second_step_follows_hand_formula() -> None:
    p = mn.Parameter(torch.tensor([0.0]))
    optimizer = Adam([p], 0.1, betas=(0.5, 0.75), eps=0.0)
    p.grad.fill_(1.0)
    optimizer.step()  # m = 0.5, v = 0.25, m_hat = 1, v_hat = 1: x1 = -0.1
    p.grad.fill_(3.0)
    optimizer.step()
    # m = 0.25 + 1.5 = 1.75, v = 0.1875 + 2.25 = 2.4375; m_hat = 1.75 / 0.75, v_hat = 2.4375 / 0.4375
    expected = -0.1 - 0.1 * (1.75 / 0.75) / math.sqrt(2.4375 / 0.4375)
    torch.testing.assert_close(p.value, torch.tensor([expected]), rtol=1e-14, atol=0)


def test_adamw_decays_before_the_adam_step() -> None:
    p = mn.Parameter(torch.tensor([2.0, -4.0]))
    p.grad.copy_(torch.tensor([0.5, 0.0]))
    AdamW([p], 0.1, weight_decay=0.5).step()
    # x * (1 - 0.1 * 0.5), then the Adam step on the gradient alone: 0.1 * g / (|g| + 1e-8)
    expected = torch.tensor([2.0 * 0.95 - 0.1 * 0.5 / (0.5 + 1e-8), -4.0 * 0.95])
    torch.testing.assert_close(p.value, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("kind", [Adam, AdamW])
def test_step_updates_in_place_and_leaves_grad(kind: type[Adam]) -> None:
    p = mn.Parameter(torch.tensor([1.0, -2.0]))
    p.grad.copy_(torch.tensor([0.5, 1.0]))
    value, grad = p.value, p.grad
    optimizer = kind([p], 0.1, weight_decay=0.1)
    for _ in range(3):
        optimizer.step()
    assert p.value is value and p.grad is grad
    assert p.grad.tolist() == [0.5, 1.0]


def test_repr_lists_hyperparameters() -> None:
    optimizer = AdamW(mn.Linear(2, 2).parameters())
    assert (
        repr(optimizer) == "AdamW(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.01, "
        "amsgrad=False, maximize=False, params=2)"
    )


ERRORS: list[tuple[dict[str, object], type[Exception], str]] = [
    ({"lr": -0.1}, ValueError, "expected lr to be a finite number >= 0, got -0.1"),
    ({"lr": math.nan}, ValueError, "expected lr to be a finite number >= 0, got nan"),
    ({"lr": None}, TypeError, "expected lr to be a number, got NoneType"),
    ({"betas": (1.0, 0.999)}, ValueError, "expected betas[0] in [0, 1), got 1.0"),
    ({"betas": (-0.1, 0.999)}, ValueError, "expected betas[0] in [0, 1), got -0.1"),
    ({"betas": (0.9, 1.0)}, ValueError, "expected betas[1] in [0, 1), got 1.0"),
    ({"betas": (0.9, math.nan)}, ValueError, "expected betas[1] in [0, 1), got nan"),
    ({"betas": (0.9,)}, TypeError, "expected betas to be a pair of numbers, got (0.9,)"),
    ({"betas": 0.9}, TypeError, "expected betas to be a pair of numbers, got 0.9"),
    ({"betas": ("0.9", 0.999)}, TypeError, "expected betas[0] to be a number, got str"),
    ({"eps": -1e-8}, ValueError, "expected eps >= 0, got -1e-08"),
    ({"eps": math.inf}, ValueError, "expected eps to be finite, got inf"),
    ({"weight_decay": -0.01}, ValueError, "expected weight_decay >= 0, got -0.01"),
    ({"weight_decay": False}, TypeError, "expected weight_decay to be a number, got bool"),
]


@pytest.mark.parametrize("kind", [Adam, AdamW])
@pytest.mark.parametrize(("options", "error", "message"), ERRORS, ids=[e[2] for e in ERRORS])
def test_rejects_bad_option(
    kind: type[Adam], options: dict[str, object], error: type[Exception], message: str
) -> None:
    options = dict(options)  # the parametrize table is shared between cases
    lr = options.pop("lr", 0.1)
    with pytest.raises(error, match=f"^{re.escape(f'{kind.__name__}: {message}')}$"):
        kind(mn.Linear(2, 2).parameters(), lr, **options)  # type: ignore[arg-type]  # wrong kinds are the point


@pytest.mark.parametrize("kind", [Adam, AdamW])
def test_rejects_bad_parameters(kind: type[Adam]) -> None:
    with pytest.raises(
        ValueError, match=f"^{kind.__name__}: expected at least one Parameter, got an empty iterable$"
    ):
        kind([])
    with pytest.raises(TypeError, match=f"^{kind.__name__}: expected a Parameter at position 0, got Tensor$"):
        kind([torch.zeros(2)])  # type: ignore[arg-type]  # the wrong type is the point
