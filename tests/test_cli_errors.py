"""Runs that fail, beside the usage-error table of ``test_bad_inputs.py``: one line, the documented status.

Each case here is a run that cannot go on (a corrupted, truncated, locked or
edited checkpoint, a full disk, a read-only folder, Ctrl-C, a closed pipe):
it must print one line naming what was wrong, exit with the status the docs
give (1 for a failed run, 130 for Ctrl-C, 141 for a closed pipe), and leave
every file that existed before as it was.
"""

import contextlib
import errno
import gzip
import importlib.util
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest
import safetensors.torch
import torch
from safetensors import safe_open

import minitorch_nn as mn
import minitorch_nn.checkpoint.io as checkpoint_io
from minitorch_nn.checkpoint import read_checkpoint, save_checkpoint
from minitorch_nn.cli import main
from minitorch_nn.cli.commands import stored_run
from minitorch_nn.spec import NetworkSpec
from tests.run_outputs import locked_by_another_process, zero_tensor

ROOT = Path(__file__).resolve().parent.parent
DISK = ["train", "--dataset", "disk", "--layers", "2,8,2", "--batch-size", "100", "--quiet"]


@pytest.fixture(autouse=True)
def no_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINITORCH_NN_DATA_DIR", raising=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of 3 epochs on the disk set, written by the command line."""
    path = tmp_path_factory.mktemp("trained") / "run.safetensors"
    assert main([*DISK, "--epochs", "3", "--checkpoint", str(path)]) == 0
    return path


def _copy(trained: Path, tmp_path: Path) -> Path:
    path = tmp_path / "run.safetensors"
    shutil.copyfile(trained, path)
    return path


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- Broken or edited checkpoints: status 1, the file untouched ----------------------------------------


def _flip_tensor_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10  # the last tensor's data, after the header
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _stored_setting(key: str, value: object) -> Callable[[Path], None]:
    """Write the checkpoint again with one stored setting edited (and valid digests: a deliberate edit)."""

    def edit(path: Path) -> None:
        saved = read_checkpoint(path)
        settings = dict(saved.metadata["settings"])  # type: ignore[call-overload]  # a dict, checked below
        if value is None:
            del settings[key]
        else:
            settings[key] = value
        spec = NetworkSpec.from_dict(saved.metadata["spec"])  # type: ignore[arg-type]  # the stored dict
        model = spec.build(0)
        model.load_state_dict(saved.model)
        save_checkpoint(path, model, epoch=saved.epoch, metadata={**saved.metadata, "settings": settings})

    return edit


def _epoch(epoch: int) -> Callable[[Path], None]:
    """Write the checkpoint again claiming ``epoch`` epochs beside its 3 records (valid digests)."""

    def edit(path: Path) -> None:
        saved = read_checkpoint(path)
        spec = NetworkSpec.from_dict(saved.metadata["spec"])  # type: ignore[arg-type]  # the stored dict
        model = spec.build(0)
        model.load_state_dict(saved.model)
        save_checkpoint(path, model, epoch=epoch, history=saved.history, metadata=saved.metadata)

    return edit


RUN_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("flipped-tensor-byte", _flip_tensor_byte, "is corrupted"),
    ("truncated", _truncate, "truncated"),
    ("unknown-loss", _stored_setting("loss", "hinge"), "stored setting loss: expected one of"),
    (
        "unknown-optimizer",
        _stored_setting("optimizer", "rmsprop"),
        "stored setting optimizer: expected one of",
    ),
    (
        "unknown-scheduler",
        _stored_setting("scheduler", "plateau"),
        "stored setting scheduler: expected one of",
    ),
    ("negative-lr", _stored_setting("lr", -0.1), "stored setting lr: expected a finite number >= 0"),
    (
        "string-batch-size",
        _stored_setting("batch_size", "64"),
        "stored setting batch_size: expected an integer",
    ),
    ("step-size-0", _stored_setting("step_size", 0), "stored setting step_size: expected an integer >= 1"),
    ("unknown-setting", _stored_setting("colour", "blue"), "unknown stored setting 'colour'"),
    ("epoch-beside-history", _epoch(7), "expected its epoch to count its history's records, got epoch 7"),
    ("missing-setting", _stored_setting("loss", None), "missing stored setting 'loss'"),
]


@pytest.mark.parametrize(("damage", "message"), [c[1:] for c in RUN_CASES], ids=[c[0] for c in RUN_CASES])
@pytest.mark.parametrize("command", ["resume", "auto-resume", "evaluate", "summary"])
def test_a_broken_or_edited_checkpoint_fails_in_one_line(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], None], message: str, command: str,
) -> None:  # fmt: skip
    path = _copy(trained, tmp_path)
    damage(path)
    before = path.read_bytes()
    argv = {
        "resume": ["train", "--checkpoint", str(path), "--resume", "--epochs", "5", "--quiet"],
        "auto-resume": [*DISK, "--checkpoint", str(path), "--auto-resume", "--epochs", "5"],
        "evaluate": ["evaluate", str(path)],
        "summary": ["summary", "--checkpoint", str(path)],
    }[command]
    capsys.readouterr()
    assert main(argv) == 1
    line = _one_line_error(capsys)
    assert line.startswith(f"minitorch-nn {argv[0]}: error: ")
    assert message in line
    assert path.read_bytes() == before


def test_the_stored_setting_checks_accept_what_train_wrote(trained: Path) -> None:
    """The control of the table above: the unedited checkpoint passes the same checks."""
    saved, settings, spec = stored_run(trained)
    assert saved.epoch == 3 and settings["layers"] == [2, 8, 2] and spec.layers == (2, 8, 2)


# --- Resuming ----------------------------------------------------------------------------------------


def test_resume_with_fewer_epochs_than_held_names_the_count(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(trained, tmp_path)
    with pytest.raises(SystemExit) as excinfo:
        main(["train", "--checkpoint", str(path), "--resume", "--epochs", "2"])
    assert excinfo.value.code == 2
    line = _one_line_error(capsys)
    assert f"--epochs 2: {path} already holds 3 epochs; pass --epochs 3 or more to continue it" in line


def test_a_resumed_run_appends_to_its_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, metrics = tmp_path / "run.safetensors", tmp_path / "metrics.jsonl"
    assert main([*DISK, "--epochs", "2", "--checkpoint", str(path), "--metrics", str(metrics)]) == 0
    first = metrics.read_text().splitlines()
    assert (
        main(["train", "--checkpoint", str(path), "--resume", "--epochs", "4", "--metrics", str(metrics)])
        == 0
    )
    lines = metrics.read_text().splitlines()
    assert lines[:2] == first
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def test_a_resumed_run_drops_metrics_lines_the_checkpoint_does_not_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run killed after writing an epoch's metrics line but before its checkpoint: no line twice."""
    path, metrics = tmp_path / "run.safetensors", tmp_path / "metrics.jsonl"
    assert main([*DISK, "--epochs", "2", "--checkpoint", str(path), "--metrics", str(metrics)]) == 0
    with metrics.open("a") as file:
        file.write(json.dumps({"epoch": 3, "train_loss": 9.0}) + "\n")
    assert (
        main(["train", "--checkpoint", str(path), "--resume", "--epochs", "3", "--metrics", str(metrics)])
        == 0
    )
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert lines[2]["train_loss"] != 9.0


def test_a_resumed_run_refuses_another_runs_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, metrics = tmp_path / "run.safetensors", tmp_path / "metrics.jsonl"
    assert main([*DISK, "--epochs", "2", "--checkpoint", str(path)]) == 0
    metrics.write_text(json.dumps({"epoch": 1, "train_loss": 123.0}) + "\n")
    capsys.readouterr()
    with pytest.raises(SystemExit) as excinfo:
        main(["train", "--checkpoint", str(path), "--resume", "--epochs", "3", "--metrics", str(metrics)])
    assert excinfo.value.code == 2
    assert "does not continue the checkpoint's history: line 1" in _one_line_error(capsys)
    assert json.loads(metrics.read_text()) == {"epoch": 1, "train_loss": 123.0}


def test_overwrite_replaces_an_existing_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, metrics = tmp_path / "run.safetensors", tmp_path / "metrics.jsonl"
    assert main([*DISK, "--epochs", "2", "--checkpoint", str(path), "--metrics", str(metrics)]) == 0
    argv = [*DISK, "--epochs", "1", "--checkpoint", str(path), "--metrics", str(metrics), "--overwrite"]
    assert main(argv) == 0
    assert read_checkpoint(path).epoch == 1
    assert len(metrics.read_text().splitlines()) == 1


# --- Writes that fail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")],
    ids=["full-disk", "read-only"],
)
def test_a_failed_write_keeps_the_previous_checkpoint(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    code: int, reason: str,
) -> None:  # fmt: skip
    """As root, permissions cannot make a folder read-only here, so the OS's refusal is simulated."""
    path = _copy(trained, tmp_path)
    before = path.read_bytes()

    def refuse(fd: int, data: bytes) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(checkpoint_io, "_write_all", refuse)
    capsys.readouterr()
    assert main(["train", "--checkpoint", str(path), "--resume", "--epochs", "4", "--quiet"]) == 1
    line = _one_line_error(capsys)
    assert str(path) in line and reason in line
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.safetensors"]  # no temp file, no lock file


# --- The lock: one run per checkpoint ------------------------------------------------------------------


def test_a_second_run_on_a_locked_checkpoint_names_the_other_process(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _copy(trained, tmp_path)
    with locked_by_another_process(path) as pid:
        before = path.read_bytes()
        capsys.readouterr()
        assert main(["train", "--checkpoint", str(path), "--resume", "--epochs", "5", "--quiet"]) == 1
        line = _one_line_error(capsys)
        assert str(path) in line and f"process {pid}" in line
        assert path.read_bytes() == before
    assert main(["train", "--checkpoint", str(path), "--resume", "--epochs", "4", "--quiet"]) == 0


# --- Ctrl-C and closed pipes, in real processes --------------------------------------------------------


def _console_script() -> list[str]:
    script = shutil.which("minitorch-nn", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the minitorch-nn console script is not installed in this environment")
    return [script]


@pytest.mark.parametrize("after", [0.3, 1.5], ids=["while-importing", "while-starting"])
def test_ctrl_c_during_start_up_is_one_line_and_status_130(tmp_path: Path, after: float) -> None:
    process = subprocess.Popen(
        [*_console_script(), *DISK, "--epochs", "50", "--checkpoint", str(tmp_path / "run.safetensors")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "MINITORCH_NN_DATA_DIR": ""},
    )  # fmt: skip
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err


def test_a_closed_pipe_ends_quietly(trained: Path) -> None:
    """``minitorch-nn evaluate run.safetensors | head -1``, with the reader gone before the first line."""
    process = subprocess.Popen(
        [*_console_script(), "evaluate", str(trained)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "MINITORCH_NN_DATA_DIR": ""},
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    process.wait(timeout=60)
    assert process.returncode == 141, err
    assert err == ""


def test_broken_pipe_in_process_returns_141(trained: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Closed:
        def write(self, text: str) -> int:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def fileno(self) -> int:
            return os.open(os.devnull, os.O_WRONLY)

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["evaluate", str(trained)]) == 141


# --- Data files and plotting, refused before the first step ---------------------------------------------


def _idx_folder(folder: Path, *, label: int = 3, pixel: int | None = None) -> Path:
    """The four MNIST files with 20 images each; every train label is ``label`` and, if given, every pixel."""
    g = torch.Generator().manual_seed(0)
    for prefix in ("train", "t10k"):
        images = torch.randint(0, 256, (20, 28, 28), generator=g, dtype=torch.uint8)
        if pixel is not None:
            images.fill_(pixel)
        labels = torch.full((20,), label if prefix == "train" else 1, dtype=torch.uint8)
        header = struct.pack(">IIII", 2051, 20, 28, 28)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(header + images.numpy().tobytes())
        )
        header = struct.pack(">II", 2049, 20)
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(header + labels.numpy().tobytes())
        )
    return folder


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"label": 12},
            "train-labels-idx1-ubyte.gz: expected labels in [0, 10), got 20 outside "
            "(the first at index 0: 12)",
        ),
        ({"pixel": 7}, "normalize=True would divide by a zero standard deviation"),
        ({}, ""),  # the control: the same files with sane labels and pixels train
    ],
    ids=["labels-outside-the-classes", "constant-images", "control"],
)
def test_unusable_data_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, int], message: str
) -> None:
    folder = _idx_folder(tmp_path, **files)
    checkpoint = tmp_path / "run.safetensors"
    argv = ["train", "--data-dir", str(folder), "--epochs", "1", "--quiet", "--checkpoint", str(checkpoint)]
    if not message:
        assert main(argv) == 0 and checkpoint.is_file()
        return
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    assert message in _one_line_error(capsys)
    assert not checkpoint.exists()


def test_plot_without_matplotlib_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    find_spec = importlib.util.find_spec

    def without_matplotlib(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "matplotlib" else find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_matplotlib)
    checkpoint = tmp_path / "run.safetensors"
    with pytest.raises(SystemExit) as excinfo:
        main([*DISK, "--epochs", "1", "--plot", str(tmp_path / "c.png"), "--checkpoint", str(checkpoint)])
    assert excinfo.value.code == 2
    assert "--plot needs matplotlib, which is not installed: pip install matplotlib" in _one_line_error(
        capsys
    )
    assert not checkpoint.exists()


def test_the_last_line_says_1_epoch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--dataset", "disk", "--layers", "2,8,2", "--epochs", "1"]) == 0
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("after 1 epoch")


def test_evaluate_help_names_the_checkpoints_data_set(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    help = " ".join(capsys.readouterr().out.split())
    assert "the data set (default: the checkpoint's)" in help
    assert "default: see README" not in help and "$MINITORCH_NN_DATA_DIR/<dataset>" in help


def test_a_version_1_checkpoint_evaluates_with_one_warning_line(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file of the format before digests: the same tensors and metadata, no ``digests`` entry."""
    path = tmp_path / "old.safetensors"
    with safe_open(trained, "pt") as file:
        metadata = dict(file.metadata())
        tensors = {key: file.get_tensor(key) for key in file.keys()}  # noqa: SIM118  # safe_open has no __iter__
    del metadata["digests"]
    metadata["format"] = "minitorch_nn.checkpoint/1"
    path.write_bytes(safetensors.torch.save(tensors, metadata=metadata))
    capsys.readouterr()
    assert main(["evaluate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("minitorch-nn evaluate: warning: read_checkpoint: ")
    assert "written without integrity digests" in err
    assert "samples, loss" in out


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs (needs root and mount rights; skips elsewhere), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if result.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs here ({result.stderr.decode().strip()}): see the simulated test"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` to its last byte, then free ``leave`` bytes."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"x" * 1024)
    finally:
        os.close(fd)
    if leave:
        os.truncate(filler, max(filler.stat().st_size - leave, 0))


@pytest.mark.parametrize(
    ("leave", "what"),
    [(0, "cannot write the lock file"), (4096, "atomic_write: {path}: cannot write")],
    ids=["full", "nearly-full"],
)
def test_a_real_full_disk_keeps_the_previous_checkpoint(
    trained: Path, small_disk: Path, capsys: pytest.CaptureFixture[str], leave: int, what: str
) -> None:
    """Full: the lock's pid cannot be written. Nearly full: the lock is taken, the checkpoint write fails."""
    path = small_disk / "run.safetensors"
    shutil.copyfile(trained, path)
    before = path.read_bytes()
    _fill(small_disk, leave)
    capsys.readouterr()
    assert main(["train", "--checkpoint", str(path), "--resume", "--epochs", "5", "--quiet"]) == 1
    line = _one_line_error(capsys)
    assert str(path) in line and what.format(path=path) in line and "No space left on device" in line
    assert path.read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "run.safetensors"]


def test_a_resume_refuses_a_metrics_file_that_runs_on_beyond_the_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup of epoch 2 resumed onto the metrics of a run that went on to epoch 5: nothing is cut."""
    path, metrics, backup = (
        tmp_path / "run.safetensors",
        tmp_path / "m.jsonl",
        tmp_path / "backup.safetensors",
    )
    assert main([*DISK, "--epochs", "2", "--checkpoint", str(path), "--metrics", str(metrics)]) == 0
    shutil.copyfile(path, backup)
    assert (
        main(["train", "--checkpoint", str(path), "--resume", "--epochs", "5", "--metrics", str(metrics)])
        == 0
    )
    before = metrics.read_text()
    capsys.readouterr()
    with pytest.raises(SystemExit) as excinfo:
        main(["train", "--checkpoint", str(backup), "--resume", "--epochs", "3", "--metrics", str(metrics)])
    assert excinfo.value.code == 2
    assert "has 5 lines, more than the checkpoint's 2 epochs" in _one_line_error(capsys)
    assert metrics.read_text() == before


def test_a_second_run_on_a_metrics_file_in_use_names_the_other_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = tmp_path / "m.jsonl"
    metrics.write_text("")
    with locked_by_another_process(metrics) as pid:
        capsys.readouterr()
        argv = [*DISK, "--epochs", "1", "--metrics", str(metrics), "--overwrite"]
        assert main([*argv, "--checkpoint", str(tmp_path / "run.safetensors")]) == 1
        assert f"process {pid}" in _one_line_error(capsys)
        assert not (tmp_path / "run.safetensors.lock").exists()  # the first lock was given back


def test_a_checkpoint_that_does_not_fit_is_one_line(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stored settings and spec say 2,16,2 but the tensors are 2,8,2: the mismatch lines become one line."""
    path = _copy(trained, tmp_path)
    saved = read_checkpoint(path)
    settings = {**saved.metadata["settings"], "layers": [2, 16, 2]}  # type: ignore[dict-item]  # a dict
    spec = {**saved.metadata["spec"], "layers": [2, 16, 2]}  # type: ignore[dict-item]  # a dict
    save_checkpoint(path, mn.Sequential(mn.Linear(2, 8), mn.ReLU(), mn.Linear(8, 2)), epoch=saved.epoch,
                    history=saved.history, metadata={"settings": settings, "spec": spec})  # fmt: skip
    capsys.readouterr()
    assert main(["evaluate", str(path)]) == 1
    line = _one_line_error(capsys)
    assert "shape mismatch for 0.weight" in line and "; " in line


@pytest.mark.parametrize("key", ["rng/torch", "rng/generator"])
def test_a_resume_refuses_an_invalid_rng_state_before_changing_anything(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    path = _copy(trained, tmp_path)
    zero_tensor(path, key)
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["train", "--checkpoint", str(path), "--resume", "--epochs", "5", "--quiet"]) == 1
    line = _one_line_error(capsys)
    assert f"the state of generator {key.removeprefix('rng/')!r} is not valid" in line
    assert path.read_bytes() == before
