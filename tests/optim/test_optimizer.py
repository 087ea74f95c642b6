"""OptimizerBase: the state dict round trip and its checks, for every optimizer."""

import re
from collections.abc import Callable

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn.optim import SGD
from minitorch_nn.optim.adam import Adam, AdamW
from minitorch_nn.optim.optimizer import OptimizerBase, OptimizerState
from minitorch_nn.parameter import Parameter
from tests.optim.reference import SHAPES, LeastSquares, fill_grads

Make = Callable[[list[Parameter]], OptimizerBase]

OPTIMIZERS: dict[str, Make] = {
    "SGD": lambda params: SGD(params, 0.01),
    "SGD-momentum": lambda params: SGD(params, 0.01, momentum=0.9, weight_decay=0.01, nesterov=True),
    "Adam": lambda params: Adam(params, 0.05, weight_decay=0.1),
    "AdamW": lambda params: AdamW(params, 0.05, betas=(0.8, 0.99), weight_decay=0.1),
}
# The same kinds with other settings: loading must restore the saved ones.
OTHER_SETTINGS: dict[str, Make] = {
    "SGD": lambda params: SGD(params, 1.0, momentum=0.5),
    "SGD-momentum": lambda params: SGD(params, 1.0),
    "Adam": lambda params: Adam(params),
    "AdamW": lambda params: AdamW(params, 1.0, eps=0.5),
}
kinds = pytest.mark.parametrize("kind", list(OPTIMIZERS))


def _run(problem: LeastSquares, optimizer: OptimizerBase, steps: int) -> None:
    for _ in range(steps):
        optimizer.zero_grad()
        fill_grads(problem, optimizer.params)
        optimizer.step()


def _assert_same_state(a: OptimizerState, b: OptimizerState) -> None:
    assert (a["optimizer"], a["hyperparameters"], a["step"]) == (
        b["optimizer"],
        b["hyperparameters"],
        b["step"],
    )
    assert a["state"].keys() == b["state"].keys()
    assert all(torch.equal(a["state"][key], b["state"][key]) for key in a["state"])


@kinds
def test_round_trip_continues_bit_identically(kind: str, generator: torch.Generator) -> None:
    problem = LeastSquares(generator)
    original = OPTIMIZERS[kind](problem.ours())
    _run(problem, original, 5)
    copy = OTHER_SETTINGS[kind]([Parameter(p.value.clone()) for p in original.params])
    copy.load_state_dict(original.state_dict())
    assert copy.hyperparameters() == original.hyperparameters() and copy.num_steps == 5
    _run(problem, original, 5)
    _run(problem, copy, 5)
    for mine, theirs in zip(copy.params, original.params, strict=True):
        assert torch.equal(mine.value, theirs.value)


@kinds
def test_state_dict_holds_copies(kind: str, generator: torch.Generator) -> None:
    problem = LeastSquares(generator)
    optimizer = OPTIMIZERS[kind](problem.ours())
    _run(problem, optimizer, 2)
    saved = optimizer.state_dict()
    before = {key: tensor.clone() for key, tensor in saved["state"].items()}
    _run(problem, optimizer, 2)
    assert all(torch.equal(saved["state"][key], tensor) for key, tensor in before.items())


def test_state_dict_format() -> None:
    params = [Parameter(torch.zeros(shape)) for shape in SHAPES]
    optimizer = Adam(params, 0.1)
    saved = optimizer.state_dict()
    assert saved == {
        "optimizer": "Adam",
        "hyperparameters": {
            "lr": 0.1,
            "beta1": 0.9,
            "beta2": 0.999,
            "eps": 1e-8,
            "weight_decay": 0.0,
            "amsgrad": False,
            "maximize": False,
            "decoupled_weight_decay": False,
        },
        "step": 0,
        "state": {},
    }
    optimizer.step()
    saved = optimizer.state_dict()
    assert saved["step"] == 1
    assert {key: tuple(t.shape) for key, t in saved["state"].items()} == {
        f"{i}.{name}": shape for i, shape in enumerate(SHAPES) for name in ("exp_avg", "exp_avg_sq")
    }


@kinds
def test_loading_a_fresh_state_resets(kind: str, generator: torch.Generator) -> None:
    problem = LeastSquares(generator)
    fresh = OPTIMIZERS[kind](problem.ours())
    used = OPTIMIZERS[kind](problem.ours())
    _run(problem, used, 3)
    for mine, theirs in zip(used.params, fresh.params, strict=True):
        mine.value.copy_(theirs.value)
    used.load_state_dict(fresh.state_dict())
    _run(problem, fresh, 3)
    _run(problem, used, 3)
    for mine, theirs in zip(used.params, fresh.params, strict=True):
        assert torch.equal(mine.value, theirs.value)


def test_loading_copies_onto_the_parameter_dtype() -> None:
    source = SGD([Parameter(torch.ones(3, dtype=torch.float32))], 0.1, momentum=0.9)
    source.params[0].grad.fill_(1.0)
    source.step()
    saved = source.state_dict()
    target = SGD([Parameter(torch.ones(3))], 0.1, momentum=0.9)
    target.load_state_dict(saved)
    loaded = target.state_dict()["state"]["0.momentum_buffer"]
    assert loaded.dtype == torch.float64 and loaded.tolist() == [1.0, 1.0, 1.0]
    saved["state"]["0.momentum_buffer"].fill_(7.0)
    assert target.state_dict()["state"]["0.momentum_buffer"].tolist() == [1.0, 1.0, 1.0]


def _stepped_adam() -> Adam:
    optimizer = Adam([Parameter(torch.zeros(3, 4)), Parameter(torch.zeros(2))], 0.1)
    for param in optimizer.params:
        param.grad.fill_(1.0)
    optimizer.step()
    return optimizer


def _corrupt(state: OptimizerState, change: str) -> OptimizerState:
    tensors = dict(state["state"])
    hyperparameters = dict(state["hyperparameters"])
    if change == "shape":
        tensors["0.exp_avg"] = torch.zeros(4, 3)
    elif change == "unknown":
        tensors["0.bogus"] = torch.zeros(3, 4)
        tensors["2.exp_avg"] = torch.zeros(2)
    elif change == "missing":
        del tensors["1.exp_avg_sq"]
    elif change == "kind":
        return {**state, "optimizer": "AdamW"}
    elif change == "names":
        hyperparameters["momentum"] = 0.9
    elif change == "value":
        hyperparameters["beta2"] = 1.5
    elif change == "step":
        return {**state, "step": -1}
    elif change == "integer tensor":
        tensors["1.exp_avg"] = torch.zeros(2, dtype=torch.int64)
    elif change == "not a tensor":
        tensors["1.exp_avg"] = [0.0, 0.0]  # type: ignore[assignment]  # the wrong type is the point
    return {**state, "hyperparameters": hyperparameters, "state": tensors}


LOAD_ERRORS = {
    "shape": "shape mismatch for 0.exp_avg: expected (3, 4), got (4, 3)",
    "unknown": "unexpected key: 0.bogus\n  unexpected key: 2.exp_avg",
    "missing": "missing key: 1.exp_avg_sq",
    "kind": "expected optimizer 'Adam', got 'AdamW'",
    "names": "expected hyperparameters ['amsgrad', 'beta1', 'beta2', 'decoupled_weight_decay', 'eps', 'lr', "
    "'maximize', 'weight_decay'], got ['amsgrad', 'beta1', 'beta2', 'decoupled_weight_decay', 'eps', 'lr', "
    "'maximize', 'momentum', 'weight_decay']",
    "value": "Adam: expected betas[1] in [0, 1), got 1.5",
    "step": "expected step to be an int >= 0, got -1",
    "integer tensor": "expected 1.exp_avg to be a floating-point tensor, got torch.int64",
    "not a tensor": "expected 1.exp_avg to be a floating-point tensor, got list",
}


@pytest.mark.parametrize("change", list(LOAD_ERRORS))
def test_load_rejects_a_mismatched_state_and_changes_nothing(change: str) -> None:
    optimizer = _stepped_adam()
    saved = optimizer.state_dict()
    other = _stepped_adam()
    other.step()
    other.lr = 0.5
    message = f"Adam.load_state_dict: the state does not match\n  {LOAD_ERRORS[change]}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        optimizer.load_state_dict(_corrupt(other.state_dict(), change))
    _assert_same_state(optimizer.state_dict(), saved)


def test_load_lists_every_problem() -> None:
    optimizer = _stepped_adam()
    broken = _corrupt(_corrupt(optimizer.state_dict(), "shape"), "missing")
    with pytest.raises(ValueError, match=r"(?s)shape mismatch for 0\.exp_avg.*missing key: 1\.exp_avg_sq"):
        optimizer.load_state_dict(broken)


def test_load_rejects_buffers_before_the_first_step() -> None:
    optimizer = SGD(mn.Linear(2, 2).parameters(), 0.1, momentum=0.9)
    state = optimizer.state_dict()
    state["state"]["0.momentum_buffer"] = torch.zeros(2, 2)
    with pytest.raises(ValueError, match=r"unexpected key: 0\.momentum_buffer"):
        optimizer.load_state_dict(state)


def test_sgd_without_momentum_has_no_buffers() -> None:
    optimizer = SGD(mn.Linear(2, 2).parameters(), 0.1)
    optimizer.step()
    assert optimizer.state_dict()["state"] == {}
