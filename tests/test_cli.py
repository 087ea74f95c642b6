"""The ``minitorch-nn`` command line: the reference preset, resume, evaluate, summary, help."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from minitorch_nn.cli import main
from tests.examples import load_example
from tests.run_outputs import figures, trained_state

EPOCHS = 30


@pytest.fixture(autouse=True)
def no_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests use the MNIST split shipped with the package, or the generated disk set."""
    monkeypatch.delenv("MINITORCH_NN_DATA_DIR", raising=False)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_two_layer_preset_prints_the_reference_jobs_log(capsys: pytest.CaptureFixture[str]) -> None:
    torch.set_default_dtype(torch.float32)  # the example builds its model in torch's default dtype
    load_example("two_layer_mnist").main(["--epochs", str(EPOCHS)])
    expected = capsys.readouterr().out
    status, out, _ = run(["train", "--preset", "two-layer", "--epochs", str(EPOCHS)], capsys)
    assert status == 0
    assert out == expected
    assert out.splitlines()[0] == "0 acc_train_loss 1000.00 acc_train_error 90.30% test_error 90.10%"


DISK = ["train", "--dataset", "disk", "--layers", "2,16,16,2", "--dropout", "0.1", "--batch-size", "50"]


@pytest.mark.parametrize(
    "optimizer",
    [
        ["--optimizer", "sgd", "--momentum", "0.9", "--scheduler", "step", "--step-size", "2"],
        ["--optimizer", "adam", "--scheduler", "cosine", "--t-max", "6"],
    ],
    ids=["sgd-momentum-step", "adam-cosine"],
)
def test_resume_through_the_cli_is_bit_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], optimizer: list[str]
) -> None:
    straight, stopped = tmp_path / "straight.safetensors", tmp_path / "stopped.safetensors"
    common = [*DISK, *optimizer, "--quiet"]
    run(
        [*common, "--epochs", "6", "--checkpoint", str(straight), "--metrics", str(tmp_path / "a.jsonl")],
        capsys,
    )
    run([*common, "--epochs", "3", "--checkpoint", str(stopped)], capsys)
    status, _, _ = run(
        ["train", "--checkpoint", str(stopped), "--resume", "--epochs", "6", "--quiet",
         "--metrics", str(tmp_path / "b.jsonl")],
        capsys,
    )  # fmt: skip
    assert status == 0
    expected, resumed = trained_state(straight), trained_state(stopped)
    assert expected.keys() == resumed.keys()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)
    assert figures(tmp_path / "b.jsonl") == figures(tmp_path / "a.jsonl")


def test_the_same_seed_gives_the_same_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        run([*DISK, "--epochs", "3", "--quiet", "--checkpoint", str(tmp_path / f"{name}.safetensors"),
             "--metrics", str(tmp_path / f"{name}.jsonl")], capsys)  # fmt: skip
    a, b = trained_state(tmp_path / "a.safetensors"), trained_state(tmp_path / "b.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert figures(tmp_path / "a.jsonl") == figures(tmp_path / "b.jsonl")
    run(
        [*DISK, "--epochs", "3", "--quiet", "--seed", "1", "--checkpoint", str(tmp_path / "c.safetensors")],
        capsys,
    )
    c = trained_state(tmp_path / "c.safetensors")
    assert not torch.equal(a["model/0.weight"], c["model/0.weight"])


def test_train_writes_plot_metrics_and_checkpoint_and_evaluate_agrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint, plot = tmp_path / "run.safetensors", tmp_path / "curves.png"
    status, out, _ = run(
        [*DISK, "--epochs", "4", "--checkpoint", str(checkpoint), "--plot", str(plot),
         "--metrics", str(tmp_path / "m.jsonl")],
        capsys,
    )  # fmt: skip
    assert status == 0 and plot.read_bytes()[:4] == b"\x89PNG"
    assert [line.split()[1] for line in out.splitlines()] == ["1/4", "2/4", "3/4", "4/4"]
    last = json.loads((tmp_path / "m.jsonl").read_text().splitlines()[-1])
    confusion = tmp_path / "confusion.png"
    status, out, _ = run(["evaluate", str(checkpoint), "--confusion", str(confusion)], capsys)
    assert status == 0 and confusion.stat().st_size > 0
    wrong = round(last["eval_error"] * 1000)
    assert (
        f"1000 samples, loss {last['eval_loss']:.4f}, error {last['eval_error']:.2%} ({wrong} wrong)" in out
    )
    rows = [line.split() for line in out.splitlines()[-2:]]
    counts = [int(v) for row in rows for v in row[1:3]]
    assert sum(counts) == 1000 and counts[1] + counts[2] == wrong  # off-diagonal cells are the errors


def test_summary_counts_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["summary", "--layers", "784,256,128,10", "--activation", "relu"], capsys)
    assert status == 0
    # 784*256 + 256 = 200960, 256*128 + 128 = 32896, 128*10 + 10 = 1290: worked out by hand.
    assert "200,960" in out and "32,896" in out and "1,290" in out
    assert out.strip().endswith("Total parameters: 235,146 (input: (N, 784))")


def test_help_explains_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["train", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "minitorch-nn train --preset two-layer" in out and "--resume" in out and "--batch-size" in out


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "minitorch_nn", "summary", "--preset", "two-layer"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Total parameters: 39,760" in result.stdout  # 784*50 + 50 + 50*10 + 10


def test_non_finite_training_exits_1_and_keeps_the_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "run.safetensors"
    run([*DISK, "--epochs", "1", "--quiet", "--checkpoint", str(checkpoint)], capsys)
    before = checkpoint.read_bytes()
    argv = [*DISK, "--epochs", "3", "--lr", "1e30", "--checkpoint", str(checkpoint), "--overwrite"]
    status, _, err = run(argv, capsys)
    assert status == 1
    assert err.startswith("minitorch-nn train: error: fit: non-finite")
    assert "at epoch 1, batch" in err and "first produced by the" in err and "Traceback" not in err
    assert checkpoint.read_bytes() == before


def test_resume_refuses_changed_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = tmp_path / "run.safetensors"
    run([*DISK, "--epochs", "1", "--quiet", "--checkpoint", str(checkpoint)], capsys)
    with pytest.raises(SystemExit) as caught:
        main(["train", "--checkpoint", str(checkpoint), "--resume", "--lr", "0.5"])
    assert caught.value.code == 2
    assert (
        "--lr 0.5 differs from the checkpoint's 0.1: a resumed run keeps its settings"
        in capsys.readouterr().err
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for machines without CUDA")
def test_device_cuda_without_cuda_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["train", "--device", "cuda"])
    assert caught.value.code == 2
    assert "argument --device: cuda: CUDA is not available on this machine" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_on_cuda_matches_the_cpu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Same seed, same masks (Dropout's generator stays on the CPU): the runs agree to rounding."""
    for device in ("cpu", "cuda"):
        run([*DISK, "--epochs", "3", "--quiet", "--device", device,
             "--metrics", str(tmp_path / f"{device}.jsonl")], capsys)  # fmt: skip
    cpu, cuda = figures(tmp_path / "cpu.jsonl"), figures(tmp_path / "cuda.jsonl")
    for a, b in zip(cpu, cuda, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
