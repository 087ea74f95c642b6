"""Data-parallel throughput: samples per second of ``fit``, 1 process against 2, on this machine.

The network is the deeper Fashion-MNIST MLP (784-256-128-100-10, ReLU,
cross-entropy, Adam). Each configuration is a fresh ``torchrun`` job that
trains for ``--epochs`` epochs over the training set (all of Fashion-MNIST
with ``MINITORCH_NN_DATA_DIR`` set, else the shipped 1000-image MNIST split)
and reports the epochs after the first (the warm-up), timed by rank 0 between
barriers. Two scalings are measured:

- strong: the same global batch (``--batch-size``), split over the processes;
- weak: the same batch per process, so the global batch grows with them.

Threads: ``torchrun`` gives each of several processes one intra-op thread;
a single process is run with one thread and with all cores, to separate
"more processes" from "more threads".

    python benchmarks/bench_distributed.py                 # the table, and distributed.json
    python benchmarks/bench_distributed.py --quick         # tiny sizes, for the test suite
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist

import minitorch_nn as mn
from minitorch_nn.data import DATA_DIR_ENV, load_data
from minitorch_nn.distributed import init_from_env
from minitorch_nn.train import fit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from deeper_fashion_mnist import mlp  # noqa: E402  # the network of the example, 784-256-128-100-10


@dataclass
class Row:
    scaling: str
    processes: int
    threads: int
    global_batch: int
    samples_per_second: float
    collectives_per_step: int


def worker(epochs: int, local_batch: int, out: Path, limit: int | None) -> None:
    """One process of a ``torchrun`` job: train, time the epochs after the first, report from rank 0."""
    context = init_from_env("cpu")
    full = bool(os.environ.get(DATA_DIR_ENV))
    data = load_data(dataset="fashion-mnist" if full else "mnist", full=full, normalize=True)
    train = (data.train_input[:limit], data.train_target[:limit])
    model = mlp(generator=torch.Generator().manual_seed(0))
    optimizer = mn.Adam(model.parameters(), lr=1e-3)
    times: list[float] = []

    def tick(_: mn.train.EpochRecord) -> None:
        times.append(time.perf_counter())

    # on_epoch_end runs on rank 0 only; every step's all-reduce keeps the processes in step
    history = fit(
        model, mn.CrossEntropyLoss(), optimizer, train, epochs=epochs, batch_size=local_batch,
        generator=torch.Generator().manual_seed(0), progress=False, on_epoch_end=tick,
    )  # fmt: skip
    if context.rank == 0:
        assert len(history) == epochs == len(times)
        samples = train[0].shape[0] * (epochs - 1)
        # One all-reduce per gradient bucket (the step's loss and counts ride in the last one).
        collectives = (
            len(mn.distributed.GradientBuckets(optimizer.params).buckets) if context.world_size > 1 else 0
        )
        result = {"samples_per_second": samples / (times[-1] - times[0]), "collectives": collectives}
        out.write_text(json.dumps(result))
    if dist.is_initialized():
        dist.destroy_process_group()


def launch(
    processes: int, threads: int, local_batch: int, epochs: int, limit: int | None, tmp: Path
) -> dict[str, float]:
    out = tmp / f"{processes}-{threads}-{local_batch}.json"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
        __file__, "--worker", str(out), "--epochs", str(epochs), "--local-batch", str(local_batch),
        *(["--limit", str(limit)] if limit else []),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.read_text())
    return result


def main(argv: Sequence[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--local-batch", type=int, default=128, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per job, the first is warm-up (3)")
    parser.add_argument(
        "--batch-size", type=int, default=128, help="the global batch of strong scaling (128)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: 2 epochs of 512 samples")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "distributed.json")
    args = parser.parse_args(argv)
    if args.worker is not None:
        worker(args.epochs, args.local_batch, args.worker, args.limit)
        return []
    epochs, limit = (2, 512) if args.quick else (args.epochs, None)
    cores = os.cpu_count() or 1
    batch = args.batch_size
    plan = [
        ("strong", 1, 1, batch), ("strong", 1, cores, batch), ("strong", 2, 1, batch // 2),
        ("weak", 1, 1, batch), ("weak", 2, 1, batch),
    ]  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory(prefix="minitorch_nn-bench-") as tmp:
        for scaling, processes, threads, local in plan:
            result = launch(processes, threads, local, epochs, limit, Path(tmp))
            rows.append(Row(scaling, processes, threads, local * processes, result["samples_per_second"],
                            int(result["collectives"])))  # fmt: skip
    print("| scaling | processes x threads | global batch | samples/s | collectives/step |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row.scaling} | {row.processes} x {row.threads} | {row.global_batch} | "
              f"{row.samples_per_second:,.0f} | {row.collectives_per_step} |")  # fmt: skip
    args.json.write_text(
        json.dumps({"cores": cores, "torch": torch.__version__, "rows": [asdict(r) for r in rows]}, indent=2)
    )
    return rows


if __name__ == "__main__":
    main()
