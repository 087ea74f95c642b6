"""Checkpoints: what they hold, atomic writes (also under SIGKILL), and loads that fail without harm."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import safetensors.torch
import torch

import minitorch_nn as mn
from minitorch_nn.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from minitorch_nn.history import EpochRecord, History


def trained() -> tuple[mn.Sequential, mn.SGD, mn.StepLR]:
    g = torch.Generator().manual_seed(0)
    model = mn.Sequential(mn.Linear(3, 4, generator=g), mn.BatchNorm1d(4), mn.Linear(4, 2, generator=g))
    optimizer = mn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = mn.StepLR(optimizer, step_size=2)
    x = torch.randn(8, 3, generator=g)
    model(x)
    model.accumulate_grad(torch.ones(8, 2))
    optimizer.step()
    scheduler.step()
    return model, optimizer, scheduler


def test_checkpoint_holds_every_part(tmp_path: Path) -> None:
    model, optimizer, scheduler = trained()
    history = History([EpochRecord(1, 0.1 + 0.2, 0.25, None, 0.5, 0.1, 1.0)])
    generator = torch.Generator().manual_seed(5)
    path = tmp_path / "run.safetensors"
    save_checkpoint(
        path, model, optimizer=optimizer, scheduler=scheduler, generator=generator, history=history,
        metadata={"spec": {"layers": [3, 4, 2]}},
    )  # fmt: skip
    # Read back with safetensors itself, independently of read_checkpoint.
    tensors = safetensors.torch.load_file(path)
    assert set(tensors) == {
        "model/0.weight", "model/0.bias", "model/1.weight", "model/1.bias", "model/1.running_mean",
        "model/1.running_var", "model/1.num_batches_tracked", "model/2.weight", "model/2.bias",
        *(f"optimizer/{i}.momentum_buffer" for i in range(6)), "rng/torch", "rng/generator",
    }  # fmt: skip
    for name, value in model.state_dict().items():
        assert torch.equal(tensors[f"model/{name}"], value)
    saved = read_checkpoint(path)
    assert saved.epoch == 1 and saved.history == history  # 0.1 + 0.2 comes back bit for bit
    assert saved.optimizer is not None and saved.optimizer["step"] == 1
    assert saved.scheduler == scheduler.state_dict()
    assert torch.equal(saved.rng["generator"], generator.get_state())
    assert saved.metadata == {"spec": {"layers": [3, 4, 2]}}


def test_load_restores_model_optimizer_scheduler_and_generators(tmp_path: Path) -> None:
    model, optimizer, scheduler = trained()
    path = tmp_path / "run.safetensors"
    generator = torch.Generator().manual_seed(5)
    save_checkpoint(path, model, optimizer=optimizer, scheduler=scheduler, generator=generator)
    expected_draw = torch.rand(3)
    fresh_model = mn.Sequential(mn.Linear(3, 4), mn.BatchNorm1d(4), mn.Linear(4, 2))
    fresh_optimizer = mn.SGD(fresh_model.parameters(), lr=0.5)
    fresh_scheduler = mn.StepLR(fresh_optimizer, step_size=7)
    fresh_generator = torch.Generator().manual_seed(99)
    load_checkpoint(
        path, fresh_model, optimizer=fresh_optimizer, scheduler=fresh_scheduler, generator=fresh_generator
    )
    for key, value in model.state_dict().items():
        assert torch.equal(fresh_model.state_dict()[key], value)
    assert fresh_optimizer.hyperparameters() == optimizer.hyperparameters()
    assert fresh_scheduler.state_dict() == scheduler.state_dict()
    assert torch.equal(fresh_generator.get_state(), generator.get_state())
    assert torch.equal(torch.rand(3), expected_draw)  # the global RNG continues where it was saved


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.safetensors"
    save_checkpoint(path, mn.Linear(3, 2), epoch=1)
    before = path.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint(path, mn.Linear(3, 2), epoch=2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.safetensors"]


def test_the_data_is_synced_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save_checkpoint(tmp_path / "run.safetensors", mn.Linear(3, 2))
    assert calls[:2] == ["fsync", "replace"]


WRITER = """
import sys, torch
import minitorch_nn as mn
from minitorch_nn.checkpoint import save_checkpoint
model = mn.Linear(1000, 1000)
print("ready", flush=True)
step = 0
while True:
    step += 1
    model.weight.value.fill_(step)
    save_checkpoint(sys.argv[1], model, epoch=step)
"""


def test_sigkill_during_writes_never_leaves_a_broken_checkpoint(tmp_path: Path) -> None:
    """A process rewriting a 4 MB checkpoint in a loop is killed at random moments; the file must
    always load, with weights from one complete save (all equal to its epoch)."""
    path = tmp_path / "run.safetensors"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    epochs = []
    for delay in (0.3, 0.45, 0.6, 0.75):
        process = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE)
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        saved = read_checkpoint(path)
        weight = saved.model["weight"]
        assert bool((weight == saved.epoch).all()), "a checkpoint mixing two saves"
        epochs.append(saved.epoch)
    assert epochs[-1] >= 1


def broken_files(path: Path) -> dict[str, bytes]:
    good = path.read_bytes()
    header = int.from_bytes(good[:8], "little")
    return {
        "truncated": good[:-10],
        "truncated-header": good[: 8 + header // 2],
        "not-safetensors": b"PK\x03\x04 this is a zip file, not a checkpoint" * 3,
        "empty": b"",
        "other-safetensors": safetensors.torch.save({"weight": torch.zeros(2, 3)}),
    }


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("truncated", "truncated: its tensors need"),
        ("truncated-header", "not a safetensors file, or truncated: its header claims"),
        ("not-safetensors", "not a safetensors file, or truncated"),
        ("empty", "not a safetensors file (0 bytes, less than its 8-byte header)"),
        ("other-safetensors", "a safetensors file, but not a minitorch_nn checkpoint"),
    ],
)
def test_broken_files_fail_clearly_and_harm_nothing(tmp_path: Path, case: str, message: str) -> None:
    model, optimizer, _ = trained()
    good = tmp_path / "good.safetensors"
    save_checkpoint(good, model, optimizer=optimizer)
    path = tmp_path / f"{case}.safetensors"
    path.write_bytes(broken_files(good)[case])
    before_file, before_model = path.read_bytes(), {k: v.clone() for k, v in model.state_dict().items()}
    before_optimizer = optimizer.state_dict()
    with pytest.raises(CheckpointError, match=re.escape(message)):
        load_checkpoint(path, model, optimizer=optimizer)
    assert path.read_bytes() == before_file
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before_model.items())
    assert optimizer.state_dict()["step"] == before_optimizer["step"]


def shapes() -> mn.Sequential:
    return mn.Sequential(mn.Linear(3, 5), mn.Linear(5, 2))


def fewer() -> mn.Sequential:
    return mn.Sequential(mn.Linear(3, 4), mn.Linear(4, 2))


def more() -> mn.Sequential:
    return mn.Sequential(mn.Linear(3, 4), mn.BatchNorm1d(4), mn.Linear(4, 2), mn.Linear(2, 2))


@pytest.mark.parametrize(
    ("other", "lines"),
    [
        (shapes, ["shape mismatch for 0.weight: expected (5, 3), got (4, 3)"]),
        (fewer, ["unexpected key: 1.running_mean", "unexpected key: 2.weight"]),
        (more, ["missing key: 3.weight"]),
    ],
    ids=["shapes", "unexpected-keys", "missing-keys"],
)
def test_other_architectures_are_refused_without_change(
    tmp_path: Path, other: Callable[[], mn.Sequential], lines: list[str]
) -> None:
    model, optimizer, _ = trained()
    path = tmp_path / "run.safetensors"
    save_checkpoint(path, model, optimizer=optimizer, metadata={"spec": {"layers": [3, 4, 2]}})
    target = other()
    before = {k: v.clone() for k, v in target.state_dict().items()}
    file_before = path.read_bytes()
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path, target)
    text = str(caught.value)
    assert (
        "the checkpoint does not fit Sequential (it was saved from " + json.dumps({"layers": [3, 4, 2]})
        in text
    )
    for line in lines:
        assert line in text
    assert all(torch.equal(target.state_dict()[k], v) for k, v in before.items())
    assert path.read_bytes() == file_before


def test_a_bad_optimizer_state_leaves_model_and_optimizer_unchanged(tmp_path: Path) -> None:
    model, optimizer, _ = trained()
    path = tmp_path / "run.safetensors"
    save_checkpoint(path, model, optimizer=optimizer)
    fresh = mn.Sequential(mn.Linear(3, 4), mn.BatchNorm1d(4), mn.Linear(4, 2))
    adam = mn.Adam(fresh.parameters(), lr=0.01)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    with pytest.raises(CheckpointError, match="expected optimizer 'Adam', got 'SGD'"):
        load_checkpoint(path, fresh, optimizer=adam)
    assert all(torch.equal(fresh.state_dict()[k], v) for k, v in before.items())
    assert adam.lr == 0.01 and adam.num_steps == 0


def test_a_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_checkpoint(tmp_path / "nothing.safetensors")
