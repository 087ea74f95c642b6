"""Each ``minitorch-nn`` option reaches the library call it stands for: its effect, not only a finished run.

A test runs the command line in this process (``main``) with ``--checkpoint``
and ``--metrics``, then trains the run the option stands for by calling the
library directly: the disk set drawn from the seed, ``NetworkSpec(...).build``,
the loss, ``SGD`` or ``Adam``, the scheduler and ``fit`` with a generator seeded
as ``train --help`` documents. The final weights must be equal bit for bit and
every epoch's figures (losses, errors, learning rate) equal. A control shows
that the option's value changes the run, so a test cannot pass when its option
is ignored (or when a 0 falls back to the default).
"""

import functools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn.checkpoint import read_checkpoint
from minitorch_nn.cli import main
from minitorch_nn.data import disk_data, load_data
from minitorch_nn.optim.lr_scheduler import CosineAnnealingLR, Scheduler, StepLR
from minitorch_nn.spec import NetworkSpec
from minitorch_nn.train import evaluate, fit

BASE = ["train", "--dataset", "disk", "--epochs", "2", "--batch-size", "100", "--quiet"]
"""Every training test's options before its own (argparse keeps the last value of a repeated option)."""


@pytest.fixture(autouse=True)
def no_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk set is generated, and MNIST is the 1000/1000 split shipped with the package."""
    monkeypatch.delenv("MINITORCH_NN_DATA_DIR", raising=False)


@dataclass(frozen=True)
class Run:
    """A training run as ``train --help`` documents it: its defaults, but ``BASE``'s data set and sizes."""

    dataset: Literal["disk", "mnist"] = "disk"
    layers: tuple[int, ...] = (2, 25, 25, 25, 2)
    activation: str = "relu"
    output_activation: str | None = None
    dropout: float = 0.0
    loss: Literal["cross-entropy", "mse"] = "cross-entropy"
    reduction: Literal["mean", "sum"] = "mean"
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float | None = None  # 0.1 for sgd, 0.001 for adam
    momentum: float = 0.0
    weight_decay: float = 0.0
    scheduler: Literal["none", "step", "cosine"] = "none"
    step_size: int = 10
    gamma: float = 0.1
    t_max: int | None = None  # --epochs
    epochs: int = 2
    batch_size: int = 100
    seed: int = 0


@dataclass(frozen=True)
class Outcome:
    """What a run leaves: the final model tensors, and each epoch's figures but its wall time."""

    weights: dict[str, torch.Tensor]
    epochs: list[dict[str, object]]


def same(a: Outcome, b: Outcome) -> bool:
    return (
        a.weights.keys() == b.weights.keys()
        and all(torch.equal(a.weights[k], b.weights[k]) for k in a.weights)
        and a.epochs == b.epochs
    )


def assert_same(cli: Outcome, expected: Outcome) -> None:
    assert cli.weights.keys() == expected.weights.keys()
    for name, value in expected.weights.items():
        assert torch.equal(cli.weights[name], value), f"{name} differs from the library's run"
    assert cli.epochs == expected.epochs


def split_of(run: Run) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """The training and test pairs: the disk drawn from the seed, or the shipped MNIST split."""
    if run.dataset == "disk":
        split, classes = disk_data(1000, torch.Generator().manual_seed(run.seed)), 2
    else:
        split, classes = load_data(dataset="mnist", normalize=True), 10
    train_target, test_target = split.train_target, split.test_target
    if run.loss == "mse":  # one-hot rows, made with torch itself
        dtype = split.train_input.dtype
        train_target = torch.nn.functional.one_hot(train_target, classes).to(dtype)
        test_target = torch.nn.functional.one_hot(test_target, classes).to(dtype)
    return (split.train_input, train_target), (split.test_input, test_target)


def loss_of(run: Run) -> mn.MSELoss | mn.CrossEntropyLoss:
    if run.loss == "mse":
        return mn.MSELoss(reduction=run.reduction)
    return mn.CrossEntropyLoss(reduction=run.reduction)


@functools.cache
def reference(run: Run) -> Outcome:
    """The run trained by calling the library directly (once per run: many tests share a control)."""
    train, test = split_of(run)
    spec = NetworkSpec(
        run.layers, activation=run.activation, output_activation=run.output_activation, dropout=run.dropout
    )
    model = spec.build(run.seed, dtype=train[0].dtype)
    optimizer: mn.SGD | mn.Adam
    if run.optimizer == "adam":
        lr = 0.001 if run.lr is None else run.lr
        optimizer = mn.Adam(model.parameters(), lr=lr, weight_decay=run.weight_decay)
    else:
        lr = 0.1 if run.lr is None else run.lr
        optimizer = mn.SGD(model.parameters(), lr=lr, momentum=run.momentum, weight_decay=run.weight_decay)
    scheduler: Scheduler | None = None
    if run.scheduler == "step":
        scheduler = StepLR(optimizer, step_size=run.step_size, gamma=run.gamma)
    elif run.scheduler == "cosine":
        scheduler = CosineAnnealingLR(optimizer, T_max=run.t_max or run.epochs)
    history = fit(
        model, loss_of(run), optimizer, train, epochs=run.epochs, batch_size=run.batch_size,
        eval_data=test, scheduler=scheduler, generator=torch.Generator().manual_seed(run.seed),
        progress=False,
    )  # fmt: skip
    records = [json.loads(record.to_json()) for record in history]
    return Outcome(model.state_dict(), [{k: v for k, v in r.items() if k != "seconds"} for r in records])


def train_cli(tmp_path: Path, *options: str) -> Outcome:
    """``minitorch-nn train`` with ``BASE`` and ``options``, read back from its checkpoint and metrics."""
    checkpoint, metrics = tmp_path / "cli.safetensors", tmp_path / "cli.jsonl"
    status = main([*BASE, *options, "--checkpoint", str(checkpoint), "--metrics", str(metrics)])
    assert status == 0
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    epochs = [{k: v for k, v in line.items() if k != "seconds"} for line in lines]
    return Outcome(read_checkpoint(checkpoint).model, epochs)


def test_train_defaults_are_the_documented_ones(tmp_path: Path) -> None:
    assert_same(train_cli(tmp_path), reference(Run()))


# The options, the run they stand for, and a run that differs in that option only (the control).
# fmt: off
OPTIONS = [
    pytest.param(["--batch-size", "0"], Run(batch_size=0), Run(), id="batch-size-0-is-full-batch"),
    pytest.param(["--batch-size", "32"], Run(batch_size=32), Run(), id="batch-size"),
    pytest.param(["--epochs", "3"], Run(epochs=3), Run(), id="epochs"),
    pytest.param(["--lr", "0.3"], Run(lr=0.3), Run(), id="lr"),
    pytest.param(["--lr", "0"], Run(lr=0.0), Run(), id="lr-0"),
    pytest.param(["--momentum", "0.9"], Run(momentum=0.9), Run(), id="momentum"),
    pytest.param(["--momentum", "0"], Run(momentum=0.0), Run(momentum=0.9), id="momentum-0"),
    pytest.param(["--weight-decay", "0.1"], Run(weight_decay=0.1), Run(), id="weight-decay-sgd"),
    pytest.param(["--weight-decay", "0"], Run(weight_decay=0.0), Run(weight_decay=0.1), id="weight-decay-0"),
    pytest.param(["--optimizer", "adam", "--weight-decay", "0.1"], Run(optimizer="adam", weight_decay=0.1),
                 Run(optimizer="adam"), id="weight-decay-adam"),
    pytest.param(["--optimizer", "adam"], Run(optimizer="adam"), Run(), id="optimizer-adam"),
    pytest.param(["--optimizer", "sgd"], Run(optimizer="sgd"), Run(optimizer="adam"), id="optimizer-sgd"),
    pytest.param(["--loss", "mse"], Run(loss="mse"), Run(), id="loss-mse"),
    pytest.param(["--reduction", "sum", "--lr", "0.01"], Run(reduction="sum", lr=0.01), Run(lr=0.01),
                 id="reduction-sum"),
    pytest.param(["--loss", "mse", "--reduction", "sum", "--lr", "0.01"],
                 Run(loss="mse", reduction="sum", lr=0.01), Run(loss="mse", lr=0.01), id="reduction-sum-mse"),
    pytest.param(["--scheduler", "step", "--step-size", "1", "--gamma", "0.5"],
                 Run(scheduler="step", step_size=1, gamma=0.5), Run(), id="scheduler-step"),
    pytest.param(["--scheduler", "step", "--step-size", "1"], Run(scheduler="step", step_size=1),
                 Run(scheduler="step"), id="step-size"),
    pytest.param(["--scheduler", "step", "--step-size", "1", "--gamma", "0.5"],
                 Run(scheduler="step", step_size=1, gamma=0.5), Run(scheduler="step", step_size=1),
                 id="gamma"),
    pytest.param(["--scheduler", "cosine"], Run(scheduler="cosine"), Run(), id="scheduler-cosine"),
    pytest.param(["--scheduler", "cosine", "--t-max", "4"], Run(scheduler="cosine", t_max=4),
                 Run(scheduler="cosine"), id="t-max"),
    pytest.param(["--seed", "1"], Run(seed=1), Run(), id="seed"),
    pytest.param(["--seed", "0"], Run(seed=0), Run(seed=1), id="seed-0"),
    pytest.param(["--layers", "2,8,2"], Run(layers=(2, 8, 2)), Run(), id="layers"),
    pytest.param(["--activation", "tanh"], Run(activation="tanh"), Run(), id="activation"),
    pytest.param(["--output-activation", "tanh"], Run(output_activation="tanh"), Run(),
                 id="output-activation"),
    pytest.param(["--dropout", "0.2"], Run(dropout=0.2), Run(), id="dropout"),
    pytest.param(["--dropout", "0"], Run(dropout=0.0), Run(dropout=0.2), id="dropout-0"),
]
# fmt: on


@pytest.mark.parametrize(("options", "run", "control"), OPTIONS)
def test_train_option_reaches_the_library(tmp_path: Path, options: list[str], run: Run, control: Run) -> None:
    expected = reference(run)
    assert not same(reference(control), expected), "the control: the option's value must change the run"
    assert_same(train_cli(tmp_path, *options), expected)


def test_dataset_mnist_trains_on_the_shipped_split(tmp_path: Path) -> None:
    run = Run(dataset="mnist", layers=(784, 10))
    assert_same(train_cli(tmp_path, "--dataset", "mnist", "--layers", "784,10"), reference(run))


def test_epochs_0_trains_no_epoch(tmp_path: Path) -> None:
    checkpoint, metrics = tmp_path / "cli.safetensors", tmp_path / "cli.jsonl"
    assert main([*BASE, "--epochs", "0", "--checkpoint", str(checkpoint), "--metrics", str(metrics)]) == 0
    assert metrics.read_text() == "" and not checkpoint.exists()


def lrs(outcome: Outcome) -> list[object]:
    return [epoch["lr"] for epoch in outcome.epochs]


def test_step_schedule_follows_its_formula(tmp_path: Path) -> None:
    options = ["--epochs", "5", "--scheduler", "step", "--step-size", "2", "--gamma", "0.5"]
    outcome = train_cli(tmp_path, *options)
    # lr_t = 0.1 * 0.5 ** (t // 2) for the epochs t = 0..4, worked out by hand.
    assert lrs(outcome) == [0.1, 0.1, 0.05, 0.05, 0.025]


def cosine(lr: float, t: int, t_max: int) -> float:
    return lr * (1 + math.cos(math.pi * t / t_max)) / 2


def test_cosine_schedule_follows_its_formula_over_t_max(tmp_path: Path) -> None:
    outcome = train_cli(tmp_path, "--epochs", "5", "--scheduler", "cosine", "--t-max", "3")
    assert lrs(outcome) == pytest.approx([cosine(0.1, t, 3) for t in range(5)], rel=1e-12, abs=1e-15)


def test_cosine_schedule_spans_the_epochs_without_t_max(tmp_path: Path) -> None:
    outcome = train_cli(tmp_path, "--epochs", "4", "--scheduler", "cosine")
    assert lrs(outcome) == pytest.approx([cosine(0.1, t, 4) for t in range(4)], rel=1e-12, abs=1e-15)


# evaluate ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Two disk runs, one with a mean loss and one with a summed loss, trained once for these tests."""
    folder = tmp_path_factory.mktemp("evaluate")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as tests/conftest.py does for each test
    paths = {"mean": folder / "mean.safetensors", "sum": folder / "sum.safetensors"}
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("MINITORCH_NN_DATA_DIR", raising=False)
            assert main([*BASE, "--checkpoint", str(paths["mean"])]) == 0
            assert main([*BASE, "--reduction", "sum", "--lr", "0.01", "--checkpoint", str(paths["sum"])]) == 0
        yield paths
    finally:
        torch.set_default_dtype(previous)


def loaded(path: Path) -> mn.Sequential:
    """The trained network, its tensors read back with ``read_checkpoint``."""
    model = NetworkSpec((2, 25, 25, 25, 2)).build(0)
    model.load_state_dict(read_checkpoint(path).model)
    return model


def evaluate_line(model: mn.Sequential, loss: mn.CrossEntropyLoss, data: tuple[torch.Tensor, torch.Tensor],
                  batch_size: int) -> str:  # fmt: skip
    result = evaluate(model, loss, data, batch_size=batch_size)
    assert result.error is not None
    wrong = round(result.error * result.samples)
    return f"{result.samples} samples, loss {result.loss:.4f}, error {result.error:.2%} ({wrong} wrong)"


def evaluate_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(["evaluate", *argv]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if " samples, loss " in line]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("split", ["train", "test"])
def test_evaluate_split_reports_that_split(
    checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str], split: str
) -> None:
    model, (train, test) = loaded(checkpoints["mean"]), split_of(Run())
    expected = {
        name: evaluate_line(model, mn.CrossEntropyLoss(), data, 1000)
        for name, data in (("train", train), ("test", test))
    }
    assert expected["train"] != expected["test"], "the control: the two splits must read differently"
    assert evaluate_cli(capsys, str(checkpoints["mean"]), "--split", split) == expected[split]


def test_evaluate_reads_the_test_split_by_default(
    checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, (_, test) = loaded(checkpoints["mean"]), split_of(Run())
    expected = evaluate_line(model, mn.CrossEntropyLoss(), test, 1000)
    assert evaluate_cli(capsys, str(checkpoints["mean"])) == expected


@pytest.mark.parametrize("batch_size", [100, 7, 0])
def test_evaluate_with_a_summed_loss_prints_the_sum_over_the_split_for_any_batch_size(
    checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str], batch_size: int
) -> None:
    """``--batch-size`` only sets how many samples go through at once: the printed loss is the summed
    cross-entropy of the whole split (torch's, as the reference), whatever the size. (It cannot show
    that the size reached ``evaluate``; nothing a user reads depends on it.)"""
    model, (_, test) = loaded(checkpoints["sum"]), split_of(Run())
    reference = float(torch.nn.functional.cross_entropy(model(test[0]), test[1], reduction="sum"))
    line = evaluate_cli(capsys, str(checkpoints["sum"]), "--batch-size", str(batch_size))
    printed = float(line.split("loss ", 1)[1].split(",", 1)[0])
    assert printed == pytest.approx(reference, rel=1e-5, abs=1e-4)  # float32 sums in another order
    assert line == evaluate_line(model, mn.CrossEntropyLoss(reduction="sum"), test, batch_size)
