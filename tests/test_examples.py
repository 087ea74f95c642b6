"""The examples run, for a few steps, as scripts and as functions."""

import gzip
import math
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from minitorch_nn.data import disk_set
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


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A folder of small IDX files: 300 training and 200 test images with random pixels."""
    g = torch.Generator().manual_seed(0)
    for prefix, count in (("train", 300), ("t10k", 200)):
        images = torch.randint(0, 256, (count, 28, 28), generator=g, dtype=torch.uint8)
        labels = torch.randint(0, 10, (count,), generator=g, dtype=torch.uint8)
        header = struct.pack(">IIII", 2051, count, 28, 28)
        (tmp_path / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(header + images.numpy().tobytes())
        )
        header = struct.pack(">II", 2049, count)
        (tmp_path / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(header + labels.numpy().tobytes())
        )
    return tmp_path


@pytest.mark.parametrize("name", ["deeper_fashion_mnist", "cnn_mnist"])
def test_image_examples_run_a_few_steps(
    name: str, tiny_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = load_example(name).main(["--data-dir", str(tiny_data), "--epochs", "2", "--batch-size", "64"])
    assert len(history.train_loss) == 2
    assert all(0.0 <= a <= 1.0 for a in history.test_accuracy)
    assert "final test accuracy" in capsys.readouterr().out


def test_swap_activations_table_and_plot(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "curves.png"
    results = load_example("swap_activations").main(
        ["--data-dir", str(tiny_data), "--epochs", "1", "--limit", "128", "--plot", str(plot)]
    )
    assert list(results) == ["ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus", "Tanh", "Sigmoid"]
    out = capsys.readouterr().out
    assert "| activation | final test accuracy | best test accuracy | training time |" in out
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_disk_runs_and_learns(capsys: pytest.CaptureFixture[str]) -> None:
    _, test_error = load_example("disk").main(["--epochs", "30"])
    assert test_error < 0.2  # far better than the 50 % of chance after a few epochs
    assert "test error" in capsys.readouterr().out


def test_disk_points_follow_the_definition() -> None:
    points, labels = disk_set(2000, torch.Generator().manual_seed(0))  # what examples/disk.py trains on
    assert points.min() >= 0 and points.max() <= 1
    inside = ((points[:, 0] - 0.5) ** 2 + (points[:, 1] - 0.5) ** 2).sqrt() < (2 * math.pi) ** -0.5
    assert torch.equal(labels, inside.long())
    assert abs(labels.double().mean().item() - 0.5) < 0.05  # the disk covers half the square


def test_denoiser_runs_a_few_steps(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figure = tmp_path / "denoiser.png"
    results = load_example("denoiser").main(
        ["--data-dir", str(tiny_data), "--epochs", "1", "--train-size", "64", "--test-size", "50",
         "--batch-size", "32", "--channels", "4", "--figure", str(figure)]
    )  # fmt: skip
    assert [r.variant for r in results] == ["transpose", "upsample", "unet"]
    for r in results:
        assert len(r.train_loss) == 1 and math.isfinite(r.train_loss[0]) and r.seconds > 0
        assert r.examples.shape == (8, 1, 28, 28) and r.examples.min() > 0 and r.examples.max() < 1
        assert math.isfinite(r.output_psnr) and r.gain == r.output_psnr - r.noisy_psnr
        # Unclipped noise of std 0.5: MSE 0.25, i.e. 6.02 dB, give or take the 39200 pixels' spread.
        assert r.noisy_psnr == pytest.approx(6.02, abs=0.1)
    assert r.parameters == 4 * 9 + 4 + 8 * 4 * 9 + 8 + 8 * 4 * 9 + 4 + 8 * 9 + 1  # the U-Net's
    out = capsys.readouterr().out
    assert "| variant | parameters | training time | noisy input PSNR | output PSNR | gain |" in out
    assert figure.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("where", ["folder", "missing-folder"])
def test_denoiser_refuses_a_figure_path_it_cannot_write_before_training(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "made.png"
    if where == "folder":
        target.mkdir()
    else:
        target = tmp_path / "missing" / "made.png"
    with pytest.raises(SystemExit) as exit_info:
        load_example("denoiser").main(["--figure", str(target), "--data-dir", str(tmp_path / "no-data")])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert "--figure: " in message and ("not a regular file" in message or "does not exist" in message)
