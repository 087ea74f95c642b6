"""The examples run, for a few steps, as scripts and as functions."""

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import torch

from tests.examples import EXAMPLES, load_example

LINE = re.compile(r"^\d+ acc_train_loss \d+\.\d\d acc_train_error \d+\.\d\d% test_error \d+\.\d\d%$")


@pytest.fixture(autouse=True)
def float32_default() -> Iterator[None]:
    torch.set_default_dtype(torch.float32)
    yield


def test_two_layer_log_format(capsys: pytest.CaptureFixture[str]) -> None:
    load_example("two_layer_mnist").main(["--epochs", "3"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert all(LINE.match(line) for line in lines), lines
    assert [line.split()[0] for line in lines] == ["0", "1", "2"]


def test_two_layer_loss_decreases(capsys: pytest.CaptureFixture[str]) -> None:
    load_example("two_layer_mnist").main(["--epochs", "5"])
    losses = [float(line.split()[2]) for line in capsys.readouterr().out.splitlines()]
    # The first forward pass: outputs are ~1e-6 and one-hot targets sum to 1 per sample.
    assert losses[0] == pytest.approx(1000.0, abs=0.01)
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0]


def test_two_layer_zeta_on_targets(capsys: pytest.CaptureFixture[str]) -> None:
    load_example("two_layer_mnist").main(["--epochs", "1", "--zeta-on", "targets"])
    # Targets scaled by 0.9: the first loss is 1000 * 0.81.
    assert capsys.readouterr().out.startswith("0 acc_train_loss 810.00 ")


def test_two_layer_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "two_layer_mnist.py"), "--epochs", "2"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["0", "1"]


def test_two_layer_rejects_negative_epochs() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "two_layer_mnist.py"), "--epochs", "-1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and "--epochs must be >= 0, got -1" in result.stderr
