"""Training-step benchmark: minitorch_nn against torch.nn + autograd + torch.optim, side by side.

Each case builds the same network twice (ours, and torch.nn with our initial
weights copied in), on the same data, and times the full training step
``zero_grad -> forward -> loss -> backward -> step``. Timings are interleaved
in one process (ours, torch.nn, the matrix-product bound, then the reverse
order, and so on) after a warm-up, over several rounds; the table reports medians. The matrix-product
bound times the step's matrix products alone: the forward products, the
weight-gradient products and the input-gradient products that are needed.

    python benchmarks/bench_training.py                       # the table, and results.json
    python benchmarks/bench_training.py --device cuda         # the same on a GPU
    python benchmarks/bench_training.py --reference-job       # + the notebook job end to end
    python benchmarks/bench_training.py --peak-memory         # + peak RSS at batch 60000
    python benchmarks/bench_training.py --only e              # one case: (e), the U-Net denoiser
    python benchmarks/bench_training.py --only de --case-memory  # + training memory of (d) and (e)
    python benchmarks/bench_training.py --only fg             # the sequence networks: LSTM and ViT
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

import minitorch_nn as mn
from minitorch_nn.interop import to_torch as torch_twin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from cnn_mnist import cnn  # noqa: E402
from deeper_fashion_mnist import mlp  # noqa: E402
from denoiser import add_noise, network  # noqa: E402
from lstm_mnist import lstm_classifier  # noqa: E402
from resnet_fashion_mnist import resnet  # noqa: E402
from vit_fashion_mnist import parameter_groups, vit  # noqa: E402

Step = Callable[[], None]


@dataclass
class Case:
    """One benchmark case: the two training steps, an optional matrix-product bound, and the targets."""

    name: str
    batch: int
    ours: Step
    theirs: Step
    bound: Step | None
    target_vs_torch: float
    target_vs_bound: float | None = None


@dataclass
class Row:
    name: str
    batch: int
    ours_ms: float
    torch_ms: float
    ratio: float
    target_vs_torch: float
    bound_ms: float | None
    ratio_to_bound: float | None
    target_vs_bound: float | None

    @property
    def met(self) -> bool:
        bound_ok = self.target_vs_bound is None or (
            self.ratio_to_bound is not None and self.ratio_to_bound <= self.target_vs_bound
        )
        return self.ratio <= self.target_vs_torch and bound_ok


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def training_steps(
    model: mn.Module,
    criterion: mn.Loss,
    torch_criterion: torch.nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    lr: float,
    momentum: float,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    memory_format: torch.memory_format | None = None,
) -> tuple[Step, Step]:
    """Our step and torch.nn's, on twin networks (``minitorch_nn.interop.to_torch``) with the same initial
    weights and data, each with SGD of the given settings; ``memory_format`` lays both networks out alike."""
    model.to(device=x.device, memory_format=memory_format)
    twin = torch_twin(model)
    if memory_format is not None:
        twin.to(memory_format=memory_format)
    settings = {"lr": lr, "momentum": momentum, "nesterov": nesterov, "weight_decay": weight_decay}
    optimizer = mn.SGD(model.parameters(), **settings)  # type: ignore[arg-type]  # one dict for both sides
    torch_optimizer = torch.optim.SGD(twin.parameters(), **settings)  # type: ignore[arg-type]

    def ours() -> None:
        optimizer.zero_grad()
        criterion(model(x), target)
        model.accumulate_grad(criterion.backward())
        optimizer.step()

    def theirs() -> None:
        torch_optimizer.zero_grad()
        torch_criterion(twin(x), target).backward()
        torch_optimizer.step()

    return ours, theirs


def two_layer_bound(batch: int, device: torch.device) -> Step:
    """The matrix products of one 784-50-10 step: 2 forward, 2 weight-gradient, 1 input-gradient."""
    x, w1, w2 = (torch.randn(*s, device=device) for s in ((batch, 784), (50, 784), (10, 50)))
    h, o = torch.empty(batch, 50, device=device), torch.empty(batch, 10, device=device)
    g2, g1 = torch.randn(batch, 10, device=device), torch.randn(batch, 50, device=device)
    gw1, gw2, gh = (
        torch.empty(50, 784, device=device),
        torch.empty(10, 50, device=device),
        torch.empty_like(h),
    )

    def bound() -> None:
        torch.mm(x, w1.t(), out=h)
        torch.mm(h, w2.t(), out=o)
        torch.mm(g2.t(), h, out=gw2)
        torch.mm(g2, w2, out=gh)
        torch.mm(g1.t(), x, out=gw1)

    return bound


def cases(device: torch.device, quick: bool) -> list[Case]:
    g = torch.Generator().manual_seed(0)
    result = []
    for batch, target, bound_target in ((64, 0.70, None), (1000, 0.90, None), (60000, 1.00, 1.15)):
        batch = min(batch, 256) if quick else batch
        model = mn.Sequential(
            mn.Linear(784, 50, generator=g), mn.Tanh(), mn.Linear(50, 10, generator=g), mn.Tanh()
        )
        x = torch.randn(batch, 784, generator=g).to(device)
        labels = torch.randint(0, 10, (batch,), generator=g)
        onehot = torch.zeros(batch, 10).scatter_(1, labels.view(-1, 1), 1.0).to(device)
        ours, theirs = training_steps(
            model, mn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), x, onehot, 0.1 / batch, 0.0
        )
        result.append(
            Case(
                "(a) 784-50-10 tanh, MSE(sum), SGD",
                batch,
                ours,
                theirs,
                two_layer_bound(batch, device),
                target,
                bound_target,
            )
        )
    batch = 16 if quick else 128
    x, labels = (
        torch.randn(batch, 784, generator=g).to(device),
        torch.randint(0, 10, (batch,), generator=g).to(device),
    )
    ours, theirs = training_steps(
        mlp(generator=g), mn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), x, labels, 0.01, 0.9
    )
    result.append(Case("(b) 784-256-128-100-10 ReLU, CE, SGD momentum", batch, ours, theirs, None, 0.90))
    batch = 8 if quick else 64
    x = torch.randn(batch, 1, 28, 28, generator=g).to(device)
    labels = torch.randint(0, 10, (batch,), generator=g).to(device)
    ours, theirs = training_steps(
        cnn(generator=g), mn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), x, labels, 0.01, 0.9
    )
    result.append(Case("(c) CNN of examples/cnn_mnist.py, CE, SGD momentum", batch, ours, theirs, None, 1.00))
    result.append(resnet_case(device, quick))
    result.append(denoiser_case(device, quick))
    result.extend(lstm_cases(device, quick))
    result.append(vit_case(device, quick))
    return result


def resnet_case(device: torch.device, quick: bool) -> Case:
    """(d) The network of examples/resnet_fashion_mnist.py (24-48-96) at batch 128: one step of its
    training (cross-entropy with label smoothing 0.1, SGD with Nesterov momentum and weight decay),
    channels-last batches and weights on both sides, against its torch.nn twin."""
    g = torch.Generator().manual_seed(2)
    batch = 8 if quick else 128
    layout = torch.channels_last
    x = torch.randn(batch, 1, 28, 28, generator=g).to(device).contiguous(memory_format=layout)
    labels = torch.randint(0, 10, (batch,), generator=g).to(device)
    ours, theirs = training_steps(
        resnet(generator=g), mn.CrossEntropyLoss(label_smoothing=0.1),
        torch.nn.CrossEntropyLoss(label_smoothing=0.1), x, labels, 0.1, 0.9,
        nesterov=True, weight_decay=5e-4, memory_format=layout,
    )  # fmt: skip
    return Case(
        "(d) ResNet of examples/resnet_fashion_mnist.py, CE, SGD Nesterov", batch, ours, theirs, None, 1.00
    )


def denoiser_case(device: torch.device, quick: bool) -> Case:
    """(e) The U-Net of examples/denoiser.py (C = 32) at batch 64: one Noise2Noise step, MSE against an
    independent noisy draw of the same images, SGD with the example's momentum, channels-last weights
    on both sides as the example trains, against its torch.nn twin (``minitorch_nn.interop.to_torch``: the
    same structure, our initial weights)."""
    g = torch.Generator().manual_seed(1)
    batch = 8 if quick else 64
    clean = torch.rand(batch, 1, 28, 28, generator=g)
    x, target = add_noise(clean, g).to(device), add_noise(clean, g).to(device)
    ours, theirs = training_steps(
        network("unet", 32, g), mn.MSELoss(), torch.nn.MSELoss(), x, target, 0.3, 0.9,
        memory_format=torch.channels_last,  # as the example trains
    )  # fmt: skip
    return Case(
        "(e) U-Net denoiser of examples/denoiser.py, MSE, SGD momentum", batch, ours, theirs, None, 1.00
    )


def adam_steps(
    model: mn.Module, x: torch.Tensor, labels: torch.Tensor, decay: list[mn.Parameter], weight_decay: float
) -> tuple[Step, Step]:
    """Our step and torch.nn's with cross-entropy and AdamW (lr 1e-3): ``weight_decay`` on the parameters
    in ``decay``, none on the others, as the sequence examples train (their learning-rate schedule is
    left out: it is one assignment per step on both sides). AdamW without weight decay is Adam."""
    model.to(device=x.device)
    twin = torch_twin(model)
    decay_ids = {id(p) for p in decay}
    names = {name for name, p in model.named_parameters() if id(p) in decay_ids}
    rest = [p for p in model.parameters() if id(p) not in decay_ids]
    optimizers = [mn.AdamW(decay, lr=1e-3, weight_decay=weight_decay)]
    if rest:
        optimizers.append(mn.AdamW(rest, lr=1e-3, weight_decay=0.0))
    named = dict(twin.named_parameters())
    torch_optimizer = torch.optim.AdamW(
        [
            {"params": [named[n] for n in sorted(names)], "weight_decay": weight_decay},
            {"params": [q for n, q in named.items() if n not in names], "weight_decay": 0.0},
        ],
        lr=1e-3,
    )
    criterion, torch_criterion = mn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

    def ours() -> None:
        for optimizer in optimizers:
            optimizer.zero_grad()
        criterion(model(x), labels)
        model.accumulate_grad(criterion.backward())
        for optimizer in optimizers:
            optimizer.step()

    def theirs() -> None:
        torch_optimizer.zero_grad()
        torch_criterion(twin(x), labels).backward()
        torch_optimizer.step()

    return ours, theirs


def lstm_cases(device: torch.device, quick: bool) -> list[Case]:
    """(f) The network of examples/lstm_mnist.py (an LSTM of 128 reading 28 rows of 28 pixels) at batch
    128: one step of its training (cross-entropy, Adam), against its torch.nn twin, whose ``nn.LSTM``
    runs its time loop in C++: on a CPU build with oneDNN, as one fused oneDNN LSTM kernel (on a GPU,
    cuDNN's). The second row times torch with oneDNN switched off (``torch.backends.mkldnn``), where
    torch's loop issues ATen's matrix products and elementwise kernels, as ours does from Python."""
    g = torch.Generator().manual_seed(3)
    batch = 8 if quick else 128
    x = torch.randn(batch, 1, 28, 28, generator=g).to(device)
    labels = torch.randint(0, 10, (batch,), generator=g).to(device)
    model = lstm_classifier(generator=g)
    ours, theirs = adam_steps(model, x, labels, list(model.parameters()), 0.0)

    def theirs_without_onednn() -> None:
        with torch.backends.mkldnn.flags(enabled=False):
            theirs()

    name = "(f) LSTM of examples/lstm_mnist.py, CE, Adam"
    return [
        Case(name, batch, ours, theirs, None, 1.00),
        Case(name + "; torch without oneDNN", batch, ours, theirs_without_onednn, None, 1.00),
    ]


def vit_case(device: torch.device, quick: bool) -> Case:
    """(g) The vision transformer of examples/vit_fashion_mnist.py (16 patches, width 64, 4 heads, 4
    blocks) at batch 128: one step of its training (cross-entropy, AdamW with weight decay 0.05 on the
    matrices), against its torch.nn twin (torch.nn.MultiheadAttention, LayerNorm, GELU, ...)."""
    g = torch.Generator().manual_seed(4)
    batch = 8 if quick else 128
    x = torch.randn(batch, 1, 28, 28, generator=g).to(device)
    labels = torch.randint(0, 10, (batch,), generator=g).to(device)
    model = vit(generator=g)
    ours, theirs = adam_steps(model, x, labels, parameter_groups(model)[0], 0.05)
    return Case("(g) ViT of examples/vit_fashion_mnist.py, CE, AdamW", batch, ours, theirs, None, 1.00)


def time_per_step(step: Step, repeats: int, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    sync(device)
    return (time.perf_counter() - start) / repeats


def measure(case: Case, rounds: int, warmup: int, device: torch.device, seconds: float) -> Row:
    """Interleave ours, torch.nn and the bound; medians over ``rounds`` after ``warmup`` rounds."""
    steps = {"ours": case.ours, "torch": case.theirs}
    if case.bound is not None:
        steps["bound"] = case.bound
    once = max(time_per_step(case.theirs, 1, device), 1e-6)
    repeats = max(1, int(seconds / once))
    times: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(warmup + rounds):
        # Alternate the order each round, so that neither side always runs right after the other.
        order = list(steps.items()) if r % 2 == 0 else list(reversed(steps.items()))
        for name, step in order:
            t = time_per_step(step, repeats, device)
            if r >= warmup:
                times[name].append(t)
    ours_ms, torch_ms = (1e3 * statistics.median(times[k]) for k in ("ours", "torch"))
    bound_ms = 1e3 * statistics.median(times["bound"]) if "bound" in times else None
    return Row(
        case.name,
        case.batch,
        ours_ms,
        torch_ms,
        ours_ms / torch_ms,
        case.target_vs_torch,
        bound_ms,
        ours_ms / bound_ms if bound_ms else None,
        case.target_vs_bound,
    )


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| case | batch | minitorch_nn | torch.nn | ratio | target | matmul bound | ratio to bound | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        bound = f"{r.bound_ms:.3f} ms" if r.bound_ms is not None else "-"
        to_bound = "-" if r.ratio_to_bound is None else f"{r.ratio_to_bound:.2f}"
        if r.target_vs_bound is not None:
            to_bound += f" (target ≤ {r.target_vs_bound})"
        cells = [r.name, str(r.batch), f"{r.ours_ms:.3f} ms", f"{r.torch_ms:.3f} ms", f"{r.ratio:.2f}"]
        cells += [f"≤ {r.target_vs_torch}", bound, to_bound, "yes" if r.met else "no"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _vm_hwm_kb() -> int:
    """The process's peak resident set (VmHWM) in KB, since the last reset."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def peak_memory_child(kind: str, device: torch.device) -> tuple[int, int]:
    """One epoch of full MNIST at batch 60000 (one step), 784-50-10 tanh.

    Returns the process's maximum RSS in KB (loading the data included) and
    the peak RSS during the training step alone: the peak counter is reset
    (``/proc/self/clear_refs``) after the data and both networks are ready.
    """
    from minitorch_nn.data import load_data

    try:
        x, labels = load_data(full=True)[:2]
    except FileNotFoundError:
        x, labels = torch.rand(60000, 784) * 255, torch.randint(0, 10, (60000,))
    onehot = torch.zeros(x.shape[0], 10).scatter_(1, labels.view(-1, 1), 1.0)
    g = torch.Generator().manual_seed(0)
    model = mn.Sequential(
        mn.Linear(784, 50, generator=g), mn.Tanh(), mn.Linear(50, 10, generator=g), mn.Tanh()
    )
    ours, theirs = training_steps(
        model, mn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), x, onehot, 1e-6, 0.0
    )
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    (ours if kind == "ours" else theirs)()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, _vm_hwm_kb()


def case_memory_child(kind: str, letter: str, device: torch.device, quick: bool) -> int:
    """The training memory of case ``letter`` on one side: the peak RSS in KB over its first three steps,
    above the RSS once both networks and the data are built.

    That is what training adds: the activations each forward caches (or autograd saves), the
    gradients, the optimizer's buffers and the scratch space of the kernels. Later steps reuse that
    memory, so the first three hold the peak.
    """
    (case,) = [case for case in cases(device, quick) if case.name[1] == letter]
    step = case.ours if kind == "ours" else case.theirs
    gc.collect()
    before = _rss_kb()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    for _ in range(3):
        step()
    return _vm_hwm_kb() - before


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def case_memory(letters: str, repeats: int = 3, quick: bool = False) -> dict[str, dict[str, int]]:
    """For each case letter, the training memory in KB (see ``case_memory_child``), ours and torch.nn's:
    the smallest over ``repeats`` separate processes per side, alternating sides."""
    result: dict[str, dict[str, int]] = {}
    for letter in letters:
        peaks: dict[str, list[int]] = {"ours": [], "torch": []}
        for _ in range(repeats):
            for kind in ("ours", "torch"):
                out = subprocess.run(
                    [sys.executable, __file__, "--case-memory-child", kind, letter]
                    + (["--quick"] if quick else []),
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                peaks[kind].append(int(out.split()[-1]))
        result[letter] = {kind: min(values) for kind, values in peaks.items()}
    return result


def peak_memory(repeats: int = 3) -> dict[str, int]:
    """Peak RSS in KB, the smallest over ``repeats`` separate processes per side, alternating sides:
    ``ours``/``torch`` for the whole process, ``ours_step``/``torch_step`` for the training step."""
    peaks: dict[str, list[int]] = {"ours": [], "torch": [], "ours_step": [], "torch_step": []}
    for _ in range(repeats):
        for kind in ("ours", "torch"):
            out = subprocess.run(
                [sys.executable, __file__, "--peak-memory-child", kind],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            process, step = (int(v) for v in out.split()[-2:])
            peaks[kind].append(process)
            peaks[f"{kind}_step"].append(step)
    return {name: min(values) for name, values in peaks.items()}


def reference_job(epochs: int = 1000, per_sample_iterations: int = 20) -> dict[str, float | bool | str]:
    """examples/two_layer_mnist.py end to end, against the notebook's per-sample algorithm (scaled)."""
    from notebook_per_sample import notebook

    env = {k: v for k, v in os.environ.items() if k != "MINITORCH_NN_DATA_DIR"}
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "two_layer_mnist.py"), "--epochs", str(epochs)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    ours = time.perf_counter() - start
    start = time.perf_counter()
    log, _ = notebook(per_sample_iterations)
    per_sample = (time.perf_counter() - start) * epochs / per_sample_iterations
    same_log = run.stdout.splitlines()[:per_sample_iterations] == log
    return {
        "ours_s": ours,
        "per_sample_scaled_s": per_sample,
        "speedup": per_sample / ours,
        "same_log": same_log,
        "last_line": run.stdout.splitlines()[-1] if run.stdout else "",
    }


def main(argv: Sequence[str] | None = None) -> list[Row]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--rounds", type=int, default=15, help="timed rounds per case (default: 15)")
    p.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default: 3)")
    p.add_argument("--seconds", type=float, default=0.05, help="target length of one timing (default: 0.05)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--json", type=Path, default=Path("benchmark.json"), help="where to write the rows")
    p.add_argument("--quick", action="store_true", help="tiny sizes and few rounds, to check the script runs")
    p.add_argument(
        "--only", default=None, help="run only the cases whose letters are given, e.g. 'e' or 'ce'"
    )
    p.add_argument("--reference-job", action="store_true", help="also time the reference job end to end")
    p.add_argument("--peak-memory", action="store_true", help="also measure peak RSS at batch 60000")
    p.add_argument("--peak-memory-child", choices=("ours", "torch"), help=argparse.SUPPRESS)
    p.add_argument(
        "--case-memory", action="store_true", help="also measure the training memory of (d) and (e)"
    )
    p.add_argument("--case-memory-child", nargs=2, metavar=("SIDE", "LETTER"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.set_default_dtype(torch.float32)  # the benchmark is stated in float32
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.peak_memory_child:
        print(*peak_memory_child(args.peak_memory_child, device))
        return []
    if args.case_memory_child:
        side, letter = args.case_memory_child
        print(case_memory_child(side, letter, device, args.quick))
        return []
    if args.quick:
        args.rounds, args.warmup, args.seconds = 2, 1, 0.001
    header = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"device {device}, {torch.get_num_threads()} threads, float32, "
        f"medians of {args.rounds} interleaved rounds"
    )
    print(header, flush=True)
    chosen = [case for case in cases(device, args.quick) if args.only is None or case.name[1] in args.only]
    rows = [measure(case, args.rounds, args.warmup, device, args.seconds) for case in chosen]
    print(table(rows))
    report: dict[str, object] = {"setup": header, "rows": [asdict(r) | {"met": r.met} for r in rows]}
    if args.reference_job:
        report["reference_job"] = job = reference_job(
            epochs=20 if args.quick else 1000, per_sample_iterations=2 if args.quick else 20
        )
        print(
            f"reference job: {job['ours_s']:.2f} s for the example, per-sample algorithm "
            f"{job['per_sample_scaled_s']:.1f} s scaled, speed-up {job['speedup']:.0f}x, "
            f"same log: {job['same_log']}"
        )
    if args.peak_memory:
        report["peak_rss_kb"] = peaks = peak_memory(1 if args.quick else 3)
        print(
            f"peak RSS at batch 60000, whole process: minitorch_nn {peaks['ours'] / 1024:.1f} MiB, "
            f"torch.nn {peaks['torch'] / 1024:.1f} MiB; during the training step: minitorch_nn "
            f"{peaks['ours_step'] / 1024:.1f} MiB, torch.nn {peaks['torch_step'] / 1024:.1f} MiB"
        )
    if args.case_memory:
        letters = "".join(letter for letter in (args.only or "de") if letter in "de")
        report["case_step_peak_kb"] = memory = case_memory(letters, 1 if args.quick else 3, args.quick)
        for letter, peaks in memory.items():
            print(
                f"({letter}) peak RSS of training above the built networks: minitorch_nn "
                f"{peaks['ours'] / 1024:.1f} MiB, "
                f"torch.nn {peaks['torch'] / 1024:.1f} MiB ({peaks['ours'] / max(peaks['torch'], 1):.2f}x)"
            )
    args.json.write_text(json.dumps(report, indent=2))
    return rows


if __name__ == "__main__":
    main()
