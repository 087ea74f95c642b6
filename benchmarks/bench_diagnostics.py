"""What diagnostics cost: a training step with and without ``minitorch_nn.diagnostics``, side by side.

Each case builds the same network twice from one seed and times the step
``zero_grad -> forward -> loss -> accumulate_grad -> step`` as ``fit`` runs
it, once plain and once with ``Diagnostics`` (hooks on every leaf module,
``start_step`` / ``before_update`` / ``end_step`` around it, ``end_epoch``
every 50 steps as an epoch's end would). Timings are interleaved in one
process, the order alternating each round, after a warm-up; the table
reports the medians and their ratio (the issue's target: at most 1.15).

    python benchmarks/bench_diagnostics.py              # default sampling (every 20th step)
    python benchmarks/bench_diagnostics.py --every 1    # every step measured
    python benchmarks/bench_diagnostics.py --quick      # a few rounds, to check that it runs
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

import minitorch_nn as mn
from minitorch_nn.diagnostics import EVERY, Diagnostics

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from cnn_mnist import cnn

Step = Callable[[], None]
EPOCH = 50


def steps(make: Callable[[], mn.Module], x: torch.Tensor, target: torch.Tensor, every: int,
          ) -> tuple[Step, Step, Diagnostics]:  # fmt: skip
    """The plain step and the diagnosed one, on two networks built alike."""
    pair = []
    for _ in range(2):
        model = make()
        pair.append((model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.01, momentum=0.9)))
    (model, loss, optimizer), (watched, watched_loss, watched_optimizer) = pair
    diagnostics = Diagnostics(watched, every=every)
    count = [0]

    def plain() -> None:
        optimizer.zero_grad()
        loss(model(x), target)
        model.accumulate_grad(loss.backward())
        optimizer.step()

    def diagnosed() -> None:
        diagnostics.start_step()
        watched_optimizer.zero_grad()
        watched_loss(watched(x), target)
        watched.accumulate_grad(watched_loss.backward())
        diagnostics.before_update(watched_optimizer.params)
        watched_optimizer.step()
        diagnostics.end_step()
        count[0] += 1
        if count[0] % EPOCH == 0:
            diagnostics.end_epoch()

    return plain, diagnosed, diagnostics


def median_ms(step: Step, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return 1e3 * (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 rounds of few steps: checks that it runs")
    parser.add_argument(
        "--every", type=int, default=EVERY, help=f"sample every N-th step of an epoch (default: {EVERY})"
    )
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    rounds, warmup = (2, 1) if args.quick else (args.rounds, 3)
    g = torch.Generator().manual_seed(0)
    cases = []
    for batch in (64, 1000):
        x, y = torch.randn(batch, 784, generator=g), torch.randint(0, 10, (batch,), generator=g)

        def mlp() -> mn.Module:
            gen = torch.Generator().manual_seed(1)
            return mn.Sequential(
                mn.Linear(784, 50, generator=gen), mn.Tanh(), mn.Linear(50, 10, generator=gen)
            )

        cases.append((f"784-50-10 tanh MLP, batch {batch}", mlp, x, y))
    batch = 8 if args.quick else 64
    x, y = torch.randn(batch, 1, 28, 28, generator=g), torch.randint(0, 10, (batch,), generator=g)
    cases.append(
        (
            f"CNN of examples/cnn_mnist.py, batch {batch}",
            lambda: cnn(generator=torch.Generator().manual_seed(1)),
            x,
            y,
        )
    )
    print(f"{'case':45} {'plain ms':>9} {'diagnosed ms':>13} {'ratio':>6}")
    for name, make, x, y in cases:
        plain, diagnosed, diagnostics = steps(make, x, y, args.every)
        repeats = 3 if args.quick else max(5, int(0.2 / max(median_ms(plain, 3) / 1e3, 1e-6)))
        times: dict[str, list[float]] = {"plain": [], "diagnosed": []}
        for r in range(warmup + rounds):
            order = [("plain", plain), ("diagnosed", diagnosed)]
            for key, step in order if r % 2 == 0 else reversed(order):
                ms = median_ms(step, repeats)
                if r >= warmup:
                    times[key].append(ms)
        diagnostics.remove()
        p, d = statistics.median(times["plain"]), statistics.median(times["diagnosed"])
        print(f"{name:45} {p:9.3f} {d:13.3f} {d / p:6.2f}")


if __name__ == "__main__":
    main()
