"""Data parallelism: gradient buckets, 2 gloo processes against 1, and a worker killed under torchrun.

The multi-process tests start ``torchrun`` themselves on localhost (``--standalone``,
gloo, the CPU), so they need no set-up and no GPU.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import safetensors.torch
import torch
import torch.distributed as dist
from torch._C._distributed_c10d import HashStore
from torch.utils.data.distributed import DistributedSampler

import minitorch_nn as mn
from minitorch_nn.checkpoint import CheckpointError, read_checkpoint
from minitorch_nn.distributed import GradientBuckets, init_from_env, is_distributed, world_size
from minitorch_nn.train import fit
from tests.distributed_worker import (
    SAMPLES,
    SHUFFLED_EPOCHS,
    problem,
    rank_extras,
    rank_gradient,
    sgd,
    train,
)
from tests.run_outputs import figures, trained_state

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-6


def torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "MINITORCH_NN_DATA_DIR": ""}


def test_buckets_group_parameters_up_to_the_cap() -> None:
    model = mn.Sequential(mn.Linear(100, 50), mn.Tanh(), mn.Linear(50, 50), mn.Linear(50, 2))
    # float64 sizes in bytes: 40000, 400, 20000, 400, 800, 16, worked out by hand; the cap is 60000.
    buckets = GradientBuckets(list(model.parameters()), bucket_cap_mb=60_000 / 2**20)
    assert [len(b) for b in buckets.buckets] == [2, 4]  # 40400 | 20000 + 400 + 800 + 16
    assert buckets.sizes == [5050, 2652]  # 5000 + 50 | 2500 + 50 + 100 + 2
    assert buckets.collectives_per_step == 0  # no process group here
    assert len(GradientBuckets(list(model.parameters())).buckets) == 1  # 25 MB holds them all


def test_a_single_process_is_not_distributed() -> None:
    assert not is_distributed() and world_size() == 1
    assert init_from_env("cpu").world_size == 1


def test_two_gloo_processes_match_one_process_over_the_same_global_batches(tmp_path: Path) -> None:
    out = tmp_path / "two.safetensors"
    result = subprocess.run(
        torchrun("--nproc-per-node", "2", "tests/distributed_worker.py", str(out), "8"),
        cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    model, data = problem()
    initial = {name: value.clone() for name, value in model.state_dict().items()}
    history = train(model, data, batch_size=16)  # one process, 20 steps of the same global batches
    saved = safetensors.torch.load_file(out)
    for name, value in model.state_dict().items():
        assert saved[name].dtype == torch.float64
        assert float((saved[name] - value).abs().max()) <= TOLERANCE, name
        assert float((value - initial[name]).abs().max()) > 1e-3, f"{name} barely moved: a weak test"
    with safetensors.safe_open(out, framework="pt") as file:
        metadata = file.metadata()
    distributed = mn.train.History.from_json(metadata["history"])
    for ours, theirs in zip(history, distributed, strict=True):
        assert theirs.train_loss == pytest.approx(ours.train_loss, rel=1e-12)
        assert (theirs.train_error, theirs.eval_error) == (ours.train_error, ours.eval_error)


SEED, LOCAL_BATCH = 7, 8


def global_order(epoch: int, processes: int = 2) -> list[int]:
    """The samples of each global step of ``epoch``: the batch of rank 0, then rank 1's, and so on.

    Each rank's shard is what ``DistributedSampler(shuffle=True, seed=SEED)`` yields after
    ``set_epoch(epoch)``, read in batches of ``LOCAL_BATCH``.
    """
    shards = []
    for rank in range(processes):
        sampler: DistributedSampler[int] = DistributedSampler(
            range(SAMPLES),  # type: ignore[arg-type]  # the sampler only takes len() of its "dataset"
            num_replicas=processes,
            rank=rank,
            shuffle=True,
            seed=SEED,
        )
        sampler.set_epoch(epoch)
        shards.append(list(sampler))
    steps = range(0, len(shards[0]), LOCAL_BATCH)
    return [i for start in steps for shard in shards for i in shard[start : start + LOCAL_BATCH]]


def one_process(orders: list[list[int]]) -> tuple[dict[str, torch.Tensor], list[mn.train.EpochRecord]]:
    """One process, one epoch per order: global batches of 2 * LOCAL_BATCH taken in that order."""
    model, (x, y) = problem()
    optimizer, records = sgd(model), []
    for order in orders:
        index = torch.tensor(order)
        history = fit(
            model, mn.CrossEntropyLoss(), optimizer, (x[index], y[index]), epochs=1,
            batch_size=2 * LOCAL_BATCH, shuffle=False, eval_data=(x, y), progress=False,
        )  # fmt: skip
        records += list(history)
    return model.state_dict(), records


def test_two_gloo_processes_reshuffle_every_epoch_as_one_process_over_the_same_global_batches(
    tmp_path: Path,
) -> None:
    out = tmp_path / "shuffled.safetensors"
    result = subprocess.run(
        torchrun("--nproc-per-node", "2", "tests/distributed_worker.py", str(out), str(LOCAL_BATCH),
                 str(SEED)),
        cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    orders = [global_order(epoch) for epoch in range(SHUFFLED_EPOCHS)]
    assert all(sorted(order) == list(range(SAMPLES)) for order in orders)
    assert len({tuple(order) for order in orders}) == SHUFFLED_EPOCHS, "every epoch has its own order"
    expected, history = one_process(orders)
    repeated, _ = one_process([orders[0]] * SHUFFLED_EPOCHS)  # the control: no reshuffling
    saved = safetensors.torch.load_file(out)
    for name, value in expected.items():
        assert float((saved[name] - value).abs().max()) <= TOLERANCE, name
    assert max(float((repeated[k] - expected[k]).abs().max()) for k in expected) > 1e-3, "a weak control"
    with safetensors.safe_open(out, framework="pt") as file:
        distributed = mn.train.History.from_json(file.metadata()["history"])
    for ours, theirs in zip(history, distributed, strict=True):
        assert theirs.train_loss == pytest.approx(ours.train_loss, rel=1e-9)
        assert (theirs.train_error, theirs.eval_error) == (ours.train_error, ours.eval_error)


def test_a_multi_bucket_all_reduce_averages_every_bucket_across_two_processes(tmp_path: Path) -> None:
    out = tmp_path / "grads.safetensors"
    result = subprocess.run(
        torchrun("--nproc-per-node", "2", "tests/distributed_worker.py", "buckets", str(out)),
        cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    model, _ = problem()
    shapes = [param.shape for param in model.parameters()]
    # The mean of the two ranks' gradients, and the sum of their extras, worked out here.
    means = [(rank_gradient(0, i, shape) + rank_gradient(1, i, shape)) / 2 for i, shape in enumerate(shapes)]
    for rank in (0, 1):
        with safetensors.safe_open(f"{out}.{rank}", framework="pt") as file:
            sizes = json.loads(file.metadata()["sizes"])
        assert len(sizes) >= 3 and sum(sizes) == sum(shape.numel() for shape in shapes)
        saved = safetensors.torch.load_file(f"{out}.{rank}")
        for index, mean in enumerate(means):
            torch.testing.assert_close(saved[str(index)], mean, rtol=0, atol=1e-15, msg=f"parameter {index}")
        assert torch.equal(saved["extras"], rank_extras(0) + rank_extras(1))


FAULT_EPOCHS = 40
TRAIN = [
    "-m", "minitorch_nn", "train", "--dataset", "disk", "--layers", "2,32,32,2", "--batch-size", "10",
    "--optimizer", "adam", "--epochs", str(FAULT_EPOCHS), "--quiet", "--auto-resume",
]  # fmt: skip


def checkpoint_epoch(path: Path) -> int:
    try:
        return read_checkpoint(path).epoch
    except (FileNotFoundError, CheckpointError):
        return 0


def kill_one_worker(agent: subprocess.Popen[str], checkpoint: Path, after_epoch: int) -> int:
    """SIGKILL one of the agent's workers once ``checkpoint`` holds ``after_epoch`` epochs."""
    deadline = time.monotonic() + 120
    while checkpoint_epoch(checkpoint) < after_epoch:
        assert time.monotonic() < deadline and agent.poll() is None, "the job never reached the epoch"
        time.sleep(0.02)
    workers = subprocess.run(["pgrep", "-P", str(agent.pid)], capture_output=True, text=True, check=False)
    pids = [int(pid) for pid in workers.stdout.split()]
    assert len(pids) == 2, f"expected 2 workers, found {pids}"
    os.kill(pids[-1], signal.SIGKILL)
    return checkpoint_epoch(checkpoint)


def test_a_killed_worker_is_restarted_and_the_run_finishes_as_if_uninterrupted(tmp_path: Path) -> None:
    straight, faulty = tmp_path / "straight.safetensors", tmp_path / "faulty.safetensors"
    outputs = ["--checkpoint", str(straight), "--metrics", str(tmp_path / "a.jsonl")]
    run = subprocess.run(
        torchrun("--nproc-per-node", "2", *TRAIN, *outputs),
        cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    agent = subprocess.Popen(
        torchrun("--nproc-per-node", "2", "--max-restarts", "1", *TRAIN, "--checkpoint", str(faulty),
                 "--metrics", str(tmp_path / "b.jsonl")),
        cwd=tmp_path, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    killed_at = kill_one_worker(agent, faulty, after_epoch=3)
    _, err = agent.communicate(timeout=300)
    assert agent.returncode == 0, err[-3000:]
    # The agent saw a worker fail (the killed one, or the survivor whose collective broke: whichever
    # it noticed first), and the job still succeeded: it was restarted. The kill came mid-run.
    assert "failed (exitcode" in err and killed_at < FAULT_EPOCHS, err[-3000:]
    expected, resumed = trained_state(straight), trained_state(faulty)
    assert expected.keys() == resumed.keys()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)
    assert figures(tmp_path / "b.jsonl") == figures(tmp_path / "a.jsonl")


def test_a_failed_collective_is_reported_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the surviving worker prints when a peer dies: gloo raises a RuntimeError in the collective.
    (Under torchrun the agent may stop the survivor before it gets there, so this is checked here.)"""
    from minitorch_nn.cli import commands, main

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("[pair.cc:545] Read error: Connection reset by peer\nmore detail")

    monkeypatch.setattr(commands, "fit", broken)
    dist.init_process_group("gloo", store=HashStore(), rank=0, world_size=1)
    try:
        status = main(["train", "--dataset", "disk", "--epochs", "1"])
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    err = capsys.readouterr().err
    assert status == 1
    assert err == (
        "minitorch-nn train: error: the process group failed "
        "([pair.cc:545] Read error: Connection reset by peer)\n"
    )
