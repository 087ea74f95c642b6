"""Checkpoints: what they hold, atomic writes (also under SIGKILL), output paths, the run lock, and
loads that fail without harm."""

import errno
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import safetensors.torch
import torch

import minitorch_nn as mn
from minitorch_nn.checkpoint import (
    CheckpointError,
    CheckpointLock,
    CheckpointLockedError,
    OutputPathError,
    atomic_write,
    load_checkpoint,
    output_path_problem,
    read_checkpoint,
    save_checkpoint,
)
from minitorch_nn.history import EpochRecord, History
from tests.run_outputs import zero_tensor


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
    # A kill during a write leaves its temporary file; the next save removes those of dead processes.
    save_checkpoint(path, mn.Linear(2, 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.safetensors", "writer.py"]


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


# --- The atomic writer and output paths ------------------------------------------------------------


def test_a_symlink_stays_a_link_and_its_target_is_replaced_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "run.safetensors"
    target.write_bytes(b"old")
    link = tmp_path / "latest.safetensors"
    link.symlink_to(target)
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        renames.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    atomic_write(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    [(src, dst)] = renames
    assert Path(src).parent == target.parent and dst == str(target)


def test_a_dangling_symlink_is_written_through_to_its_target(tmp_path: Path) -> None:
    link = tmp_path / "latest.safetensors"
    link.symlink_to(tmp_path / "run.safetensors")
    atomic_write(link, b"data")
    assert link.is_symlink() and (tmp_path / "run.safetensors").read_bytes() == b"data"


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "pipe")
    return tmp_path / "pipe"


def _socket(tmp_path: Path) -> Path:
    path = tmp_path / "socket"
    with socket.socket(socket.AF_UNIX) as bound:
        bound.bind(str(path))
    return path


def _link_to_dev_null(tmp_path: Path) -> Path:
    (tmp_path / "link").symlink_to("/dev/null")
    return tmp_path / "link"


NOT_REGULAR: list[tuple[Callable[[Path], Path], str]] = [
    (lambda tmp: tmp, "{path} is a folder, not a regular file"),
    (lambda tmp: Path("/dev/null"), "/dev/null is a character device, not a regular file"),
    (lambda tmp: Path("/dev/full"), "/dev/full is a character device, not a regular file"),
    (_fifo, "{path} is a FIFO (named pipe), not a regular file"),
    (_socket, "{path} is a socket, not a regular file"),
    (_link_to_dev_null, "{path} (a link to /dev/null) is a character device, not a regular file"),
]
NOT_REGULAR_IDS = ["folder", "dev-null", "dev-full", "fifo", "socket", "link-to-dev-null"]


@pytest.mark.parametrize(("make", "reason"), NOT_REGULAR, ids=NOT_REGULAR_IDS)
def test_atomic_write_refuses_what_is_not_a_regular_file_before_writing(
    tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    path = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    expected = f"atomic_write: {reason.format(path=path)}; nothing was written"
    with pytest.raises(OutputPathError, match=f"^{re.escape(expected)}$"):
        atomic_write(path, b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not Path(os.path.realpath(path)).is_file()


@pytest.mark.parametrize(("make", "reason"), NOT_REGULAR, ids=NOT_REGULAR_IDS)
def test_output_path_problem_names_what_is_not_a_regular_file(
    tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    path = make(tmp_path)
    assert output_path_problem(path) == reason.format(path=path)


def test_output_path_problem_accepts_new_and_existing_files_and_links(tmp_path: Path) -> None:
    (tmp_path / "old.safetensors").write_bytes(b"old")
    (tmp_path / "link").symlink_to(tmp_path / "new.safetensors")
    for name in ("new.safetensors", "old.safetensors", "link"):
        assert output_path_problem(tmp_path / name) is None
    assert output_path_problem(str(tmp_path / "new.safetensors")) is None


def test_output_path_problem_names_a_missing_or_wrong_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone" / "run.safetensors")
    missing, under_a_file = tmp_path / "missing" / "run.safetensors", tmp_path / "file" / "run.safetensors"
    dangling = tmp_path / "dangling"
    assert output_path_problem("") == "the path is empty"
    assert output_path_problem(missing) == f"{missing}: its folder {tmp_path / 'missing'} does not exist"
    assert output_path_problem(under_a_file) == f"{under_a_file}: {tmp_path / 'file'} is not a folder"
    assert output_path_problem(dangling) == (
        f"{dangling} (a link to {tmp_path / 'gone' / 'run.safetensors'}): "
        f"its folder {tmp_path / 'gone'} does not exist"
    )


def test_output_path_problem_names_a_folder_that_is_not_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    if os.geteuid() == 0:  # root may write anywhere; show what any other user would see
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != folder and real_access(p, mode))
    path = folder / "run.safetensors"
    assert output_path_problem(path) == f"{path}: its folder {folder} is not writable"


def test_an_empty_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match=r"^atomic_write: the path is empty; nothing was written$"):
        atomic_write("", b"data")


def test_temporary_files_are_named_per_process_and_per_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources: list[str] = []
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        sources.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    for data in (b"1", b"2"):
        atomic_write(tmp_path / "run.safetensors", data)
    assert all(re.fullmatch(rf"\.run\.safetensors\.{os.getpid()}\.[0-9a-f]{{8}}\.tmp", s) for s in sources)
    assert sources[0] != sources[1]


def test_temporaries_of_dead_processes_are_removed_after_a_write(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead = int(finished.stdout)
    with subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    ) as alive:
        names = {
            "dead": f".run.safetensors.{dead}.0badcafe.tmp",
            "alive": f".run.safetensors.{alive.pid}.0badcafe.tmp",
            "this": f".run.safetensors.{os.getpid()}.0badcafe.tmp",
            "other-file": f".other.safetensors.{dead}.0badcafe.tmp",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"x" * 1000)
        atomic_write(tmp_path / "run.safetensors", b"data")
        assert alive.stdin is not None
        alive.stdin.close()
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"run.safetensors", names["alive"], names["this"], names["other-file"]}


WRITE_ERRORS = [
    ("write", errno.ENOSPC, OSError),
    ("fsync", errno.EIO, OSError),
    ("replace", errno.EROFS, OSError),
    ("open", errno.EACCES, PermissionError),
]


@pytest.mark.parametrize(("call", "code", "kind"), WRITE_ERRORS, ids=[w[0] for w in WRITE_ERRORS])
def test_a_write_error_keeps_the_old_file_and_names_path_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str, code: int, kind: type[OSError]
) -> None:
    path = tmp_path / "run.safetensors"
    atomic_write(path, b"old")

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, call, fail)
    with pytest.raises(kind) as caught:
        atomic_write(path, b"new" * 1000)
    monkeypatch.undo()
    assert str(caught.value) == f"atomic_write: {path}: cannot write: {os.strerror(code)}"
    assert caught.value.errno == code
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.safetensors"]


def test_a_missing_folder_is_an_os_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "run.safetensors"
    with pytest.raises(FileNotFoundError, match=f"^atomic_write: {re.escape(str(path))}: cannot write: "):
        save_checkpoint(path, mn.Linear(2, 1))


# --- The run lock ----------------------------------------------------------------------------------

HOLDER = """
import sys
from minitorch_nn.checkpoint import CheckpointLock
with CheckpointLock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def hold_lock(path: Path) -> "subprocess.Popen[bytes]":
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdout is not None and process.stdout.readline() == b"locked\n"
    return process


def test_a_checkpoint_locked_by_another_process_is_refused_naming_its_pid(tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"
    holder = hold_lock(path)
    try:
        with pytest.raises(CheckpointLockedError) as caught, CheckpointLock(path):
            pass
        assert str(caught.value) == (
            f"CheckpointLock: {path} is in use by another run (process {holder.pid}); "
            "wait for it to finish or use another checkpoint path"
        )
        assert caught.value.pid == holder.pid and isinstance(caught.value, CheckpointError)
    finally:
        holder.communicate(b"\n", timeout=60)
    with CheckpointLock(path):  # free again once the holder has finished
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"
    holder = hold_lock(path)
    holder.kill()
    holder.communicate(timeout=60)
    assert (tmp_path / "run.safetensors.lock").read_text() == f"{holder.pid}\n"
    with CheckpointLock(path) as lock:
        assert lock.lock_path.read_text() == f"{os.getpid()}\n"
    assert not lock.lock_path.exists()


def _assert_locked(lock_file: Path) -> None:
    """Another open file description of ``lock_file`` cannot take the lock now."""
    other = os.open(lock_file, os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(other)


def test_the_lock_is_reentrant_within_a_process_and_removed_after_the_outermost(tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"
    lock_file = tmp_path / "run.safetensors.lock"
    with CheckpointLock(path):
        with CheckpointLock(str(path)), CheckpointLock(tmp_path / "." / "run.safetensors"):
            assert lock_file.read_text() == f"{os.getpid()}\n"
        assert lock_file.exists()  # still held by the outer block
        _assert_locked(lock_file)
    assert not lock_file.exists()


def test_the_lock_of_a_symlink_lies_beside_its_target(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    link = tmp_path / "latest.safetensors"
    link.symlink_to(tmp_path / "runs" / "run.safetensors")
    with CheckpointLock(link) as lock, CheckpointLock(tmp_path / "runs" / "run.safetensors"):
        assert lock.lock_path == tmp_path / "runs" / "run.safetensors.lock"
        assert lock.lock_path.exists()


def test_a_lock_file_removed_while_waiting_is_locked_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous holder unlinks the file between this process's open and flock: locking the
    unlinked file would let a third process lock a new one, so the lock is taken again."""
    path = tmp_path / "run.safetensors"
    lock_file = tmp_path / "run.safetensors.lock"
    real_flock = fcntl.flock
    calls: list[int] = []

    def flock(fd: int, operation: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            os.unlink(lock_file)
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    with CheckpointLock(path):
        assert len(calls) == 2
        monkeypatch.undo()
        _assert_locked(lock_file)
    assert not lock_file.exists()


def test_releasing_a_lock_that_is_not_held_is_an_error(tmp_path: Path) -> None:
    lock = CheckpointLock(tmp_path / "run.safetensors")
    with pytest.raises(RuntimeError, match="released, but not held"):
        lock.__exit__(None, None, None)


def test_a_lock_in_a_missing_folder_is_an_os_error_naming_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "run.safetensors"
    expected = f"CheckpointLock: {path}: cannot create the lock file {path}.lock: No such file or directory"
    with pytest.raises(FileNotFoundError, match=f"^{re.escape(expected)}$"), CheckpointLock(path):
        pass


def test_a_symlink_loop_is_named_and_not_written(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    reason = os.strerror(errno.ELOOP)
    assert output_path_problem(loop) == f"{loop} (a link to {loop}) cannot be checked: {reason}"
    with pytest.raises(OSError, match=f"^{re.escape(f'atomic_write: {loop} (a link to {loop}): ')}"):
        atomic_write(loop, b"data")


def test_a_fifo_is_refused_by_read_checkpoint_instead_of_blocking(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path)
    expected = f"read_checkpoint: {fifo} is a FIFO (named pipe), not a checkpoint file"
    with pytest.raises(CheckpointError, match=f"^{re.escape(expected)}$"):
        read_checkpoint(fifo)


@pytest.mark.parametrize("key", ["rng/torch", "rng/generator"])
def test_an_invalid_generator_state_is_refused_before_anything_changes(tmp_path: Path, key: str) -> None:
    """A state of the right shape that no generator accepts (all zeros), saved with a valid digest."""
    path = tmp_path / "run.safetensors"
    save_checkpoint(path, mn.Sequential(mn.Linear(2, 2)), generator=torch.Generator().manual_seed(0))
    zero_tensor(path, key)
    target = mn.Sequential(mn.Linear(2, 2))
    before = {name: value.clone() for name, value in target.state_dict().items()}
    with pytest.raises(CheckpointError, match=f"the state of generator '{key[4:]}' is not valid"):
        load_checkpoint(path, target, generator=torch.Generator())
    assert all(torch.equal(before[name], value) for name, value in target.state_dict().items())


def test_a_header_claiming_more_than_the_file_is_refused_before_the_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file of random bytes must not be read whole (into memory) only to be refused."""
    path = tmp_path / "big.safetensors"
    with path.open("wb") as file:
        file.write((2**62).to_bytes(8, "little"))
        file.truncate(2**30)  # 1 GiB, sparse
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the whole file was read"))
    with pytest.raises(
        CheckpointError, match=f"its header claims {2**62} bytes, but only {2**30 - 8} follow"
    ):
        read_checkpoint(path)
