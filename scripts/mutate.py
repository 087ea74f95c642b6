"""Mutation testing: plant one small, realistic bug at a time and check that the named tests catch it.

Run from anywhere inside the repository::

    python scripts/mutate.py                 # every mutation, one at a time (several minutes)
    python scripts/mutate.py --list          # the mutations, their files and their tests
    python scripts/mutate.py --only NAME ... # some of them (--only is repeatable)
    python scripts/mutate.py --jobs 2        # two scratch copies at once

First the tests of the chosen mutations run once on an unmutated copy: they
must pass there, or no result would mean anything (``--no-baseline`` skips
this). Then, for each mutation the repository's tracked and untracked-but-not-ignored files
(``git ls-files -co --exclude-standard``) are copied into a scratch folder, the
one edit is applied there (its ``old`` text must occur exactly once in its
file, or the mutation is reported "stale"), and ``pytest -x`` runs the
mutation's tests in that copy, with the copy first on ``PYTHONPATH`` so the
planted package is the one imported (checked before the tests run, through
``minitorch_nn.__file__``). A mutation is "caught" when its tests fail and
"missed" when they pass. The script prints a table and ``score: caught/total``,
and exits with status 1 if any mutation is missed, stale or could not be run.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["MUTATIONS", "Mutation", "Result", "main", "run_mutation"]


@dataclass(frozen=True)
class Mutation:
    """One planted bug: replace ``old`` (exactly once in ``file``) by ``new``; ``tests`` must then fail.

    Args:
        name: a short name, for ``--only`` and the table.
        file: the file to edit, relative to the repository root.
        old: the exact text to replace; it must occur exactly once in ``file``.
        new: its replacement.
        tests: pytest node ids or test files that must catch the bug.
    """

    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


Status = Literal["caught", "missed", "stale", "error"]


@dataclass(frozen=True)
class Result:
    """What became of one mutation; ``detail`` says why for ``stale`` and ``error``."""

    mutation: Mutation
    status: Status
    seconds: float
    detail: str = ""


GRADIENTS = "tests/test_gradients.py"
WIRING = "tests/test_cli_wiring.py"
RESHUFFLE = (
    "tests/test_distributed.py::"
    "test_two_gloo_processes_reshuffle_every_epoch_as_one_process_over_the_same_global_batches"
)
BUCKETS = (
    "tests/test_distributed.py::test_a_multi_bucket_all_reduce_averages_every_bucket_across_two_processes"
)

MUTATIONS: list[Mutation] = [
    # The library: a wrong sum axis, a dropped factor, an off-by-one, a skipped state restore.
    Mutation(
        "linear-bias-grad-mean",
        "minitorch_nn/modules/linear.py",
        "self.bias.grad.add_(torch.sum(grad_output, dim=0, out=bias_step))",
        "self.bias.grad.add_(torch.mean(grad_output, dim=0, out=bias_step))",
        (GRADIENTS,),
    ),
    Mutation(
        "linear-weight-grad-overwritten",
        "minitorch_nn/modules/linear.py",
        "self.weight.grad.add_(torch.mm(grad_output.t(), input, out=weight_step))",
        "self.weight.grad.copy_(torch.mm(grad_output.t(), input, out=weight_step))",
        (GRADIENTS,),
    ),
    Mutation(
        "mse-backward-drops-2",
        "minitorch_nn/modules/loss.py",
        "        return diff * 2.0\n",
        "        return diff.clone()\n",
        (GRADIENTS,),
    ),
    Mutation(
        "tanh-backward-1-minus-y",
        "minitorch_nn/modules/activation.py",
        'return _fused_backward("tanh_backward", grad_output, saved)  # g * (1 - y**2)',
        "return grad_output * (1 - saved)",
        (GRADIENTS,),
    ),
    Mutation(
        "lstm-bptt-drops-the-forget-gate-carry",
        "minitorch_nn/modules/rnn.py",
        "            grad_c.mul_(f[t])  # d loss / d c_{t-1}\n",
        "            pass  # the carry d c_{t-1} = d c_t f_t left out\n",
        (GRADIENTS,),
    ),
    Mutation(
        "attention-softmax-jacobian-drops-the-row-sum",
        "minitorch_nn/modules/attention.py",
        "grad_s = grad_a.sub_((grad_a * attention).sum(-1, keepdim=True)).mul_(attention)",
        "grad_s = grad_a.mul_(attention)",
        (GRADIENTS,),
    ),
    Mutation(
        "embedding-padding-row-gets-a-gradient",
        "minitorch_nn/modules/sparse.py",
        "            step[self.padding_idx].zero_()\n",
        "            pass\n",
        (GRADIENTS,),
    ),
    Mutation(
        "leaky-relu-backward-drops-slope",
        "minitorch_nn/modules/activation.py",
        "return torch.where(saved > 0, grad_output, grad_output * self.negative_slope)",
        "return torch.where(saved > 0, grad_output, torch.zeros_like(grad_output))",
        (GRADIENTS,),
    ),
    Mutation(
        "gelu-backward-drops-pdf-term",
        "minitorch_nn/modules/activation.py",
        "return cdf.add_(x_pdf).mul_(grad_output)",
        "return cdf.mul_(grad_output)",
        (GRADIENTS,),
    ),
    Mutation(
        "softmax-backward-sums-the-batch-axis",
        "minitorch_nn/modules/activation.py",
        "return saved * (grad_output - (grad_output * saved).sum(self._dim, keepdim=True))",
        "return saved * (grad_output - (grad_output * saved).sum(0, keepdim=True))",
        (GRADIENTS,),
    ),
    Mutation(
        "cross-entropy-mean-over-elements",
        "minitorch_nn/modules/loss.py",
        "self._unbatched, self._count, self._out_shape = False, target.numel(), ()",
        "self._unbatched, self._count, self._out_shape = False, log_probs.numel(), ()",
        (GRADIENTS,),
    ),
    Mutation(
        "cross-entropy-smoothing-factor-dropped",
        "minitorch_nn/modules/loss.py",
        "loss = loss.mul_(1.0 - self.label_smoothing).add_(self._smooth_term())",
        "loss = loss.add_(self._smooth_term())",
        (GRADIENTS, "tests/modules/test_layer_variants.py"),
    ),
    Mutation(
        "dropout-scale-dropped",
        "minitorch_nn/modules/dropout.py",
        "scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)",
        "scale = 0.0 if self.p == 1.0 else 1.0",
        (GRADIENTS, "tests/modules/test_modes.py"),
    ),
    Mutation(
        "batchnorm-momentum-complement",
        "minitorch_nn/modules/normalization.py",
        "1.0 / float(self.num_batches_tracked.value) if self.momentum is None else float(self.momentum)",
        "1.0 / float(self.num_batches_tracked.value) if self.momentum is None else 1 - float(self.momentum)",
        ("tests/modules/test_normalization.py",),
    ),
    Mutation(
        "batchnorm-bias-grad-not-asked-for",
        "minitorch_nn/modules/normalization.py",
        "        input = self._cached(self._input)\n"
        "        self._check_grad_output(grad_output, input.shape)\n"
        "        mask = [input_grad, self.weight is not None, self.bias is not None]\n",
        "        input = self._cached(self._input)\n"
        "        self._check_grad_output(grad_output, input.shape)\n"
        "        mask = [input_grad, self.weight is not None, False]\n",
        (GRADIENTS,),
    ),
    Mutation(
        "conv-backward-stride-as-dilation",
        "minitorch_nn/modules/conv.py",
        "        module.stride,\n        padding,\n        module.dilation,\n",
        "        module.stride,\n        padding,\n        module.stride,\n",
        (GRADIENTS,),
    ),
    Mutation(
        "maxpool-backward-wrong-index",
        "minitorch_nn/modules/pooling.py",
        "grad_output, input, k, s, p, d, self.ceil_mode, indices",
        "grad_output, input, k, s, p, d, self.ceil_mode, indices.flip(-1)",
        (GRADIENTS,),
    ),
    Mutation(
        "residual-drops-the-identity-gradient",
        "minitorch_nn/modules/container.py",
        "            grads.append(grad_output)\n",
        "            grads.append(torch.zeros_like(grad_output))\n",
        (GRADIENTS,),
    ),
    Mutation(
        "concat-splits-in-reverse",
        "minitorch_nn/modules/container.py",
        "return torch.split(grad_output, self._sizes, dim=self._axis(grad_output.dim()))",
        "return torch.split(grad_output, self._sizes[::-1], dim=self._axis(grad_output.dim()))",
        (GRADIENTS,),
    ),
    Mutation(
        "hooks-fire-on-nested-calls",
        "minitorch_nn/hooks.py",
        "    def call_backward(*args: Tensor | None, **kwargs: Tensor | None) -> object:\n"
        "        if record.backward_depth:\n",
        "    def call_backward(*args: Tensor | None, **kwargs: Tensor | None) -> object:\n"
        "        if False:\n",
        ("tests/test_hooks.py",),
    ),
    Mutation(
        "sgd-dampening-ignored",
        "minitorch_nn/optim/sgd.py",
        "torch._foreach_add_(buffers, grads, alpha=1 - self.dampening)",
        "torch._foreach_add_(buffers, grads, alpha=1)",
        ("tests/optim/test_sgd.py",),
    ),
    Mutation(
        "adam-bias-correction-dropped",
        "minitorch_nn/optim/adam.py",
        "step_size = float(lr / (1 - beta1**step))",
        "step_size = float(lr)",
        ("tests/optim/test_adam.py",),
    ),
    Mutation(
        "adam-adamw-decay-swapped",
        "minitorch_nn/optim/adam.py",
        "if self.weight_decay != 0 and self.decoupled_weight_decay:",
        "if self.weight_decay != 0 and not self.decoupled_weight_decay:",
        ("tests/optim/test_adam.py",),
    ),
    Mutation(
        "optimizer-buffers-not-restored",
        "minitorch_nn/optim/optimizer.py",
        "        self._state = buffers\n",
        "        self._state = [{} for _ in self.params]\n",
        ("tests/optim/test_optimizer.py", "tests/test_resume.py"),
    ),
    Mutation(
        "steplr-off-by-one",
        "minitorch_nn/optim/lr_scheduler.py",
        "return self.base_lr * self.gamma ** (epoch // self.step_size)",
        "return self.base_lr * self.gamma ** ((epoch + 1) // self.step_size)",
        ("tests/optim/test_lr_scheduler.py",),
    ),
    Mutation(
        "cosine-eta-min-dropped-from-the-span",
        "minitorch_nn/optim/lr_scheduler.py",
        "return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2",
        "return self.eta_min + self.base_lr * cosine / 2",
        ("tests/optim/test_lr_scheduler.py",),
    ),
    Mutation(
        "scheduler-last-epoch-not-restored",
        "minitorch_nn/optim/lr_scheduler.py",
        "self.base_lr, self.last_epoch = base_lr, last_epoch",
        "self.base_lr = base_lr",
        ("tests/optim/test_lr_scheduler.py", "tests/test_resume.py"),
    ),
    Mutation(
        "module-buffers-not-restored",
        "minitorch_nn/module.py",
        "        for name, tensor in self.state_dict().items():\n",
        "        for name, tensor in ((n, p.value) for n, p in self.named_parameters()):\n",
        ("tests/test_module.py", "tests/test_checkpoint.py"),
    ),
    # The workflow around the library: these files change often; update a stale snippet here.
    Mutation(
        "checkpoint-generators-not-restored",
        "minitorch_nn/checkpoint/load.py",
        "        target.set_state(checkpoint.rng[key])\n",
        "        pass\n",
        ("tests/test_checkpoint.py", "tests/test_resume.py"),
    ),
    Mutation(
        "checkpoint-scheduler-state-not-loaded",
        "minitorch_nn/checkpoint/load.py",
        '            ("scheduler", scheduler, checkpoint.scheduler),\n',
        "",
        ("tests/test_checkpoint.py", "tests/test_resume.py"),
    ),
    Mutation(
        "cli-drops-options-given-as-0",
        "minitorch_nn/cli/settings.py",
        "if getattr(args, k, None) is not None}",
        "if getattr(args, k, None)}",
        (WIRING,),
    ),
    Mutation(
        "cli-weight-decay-not-passed",
        "minitorch_nn/cli/commands.py",
        'decay = float(settings["weight_decay"])',
        "decay = 0.0",
        (WIRING,),
    ),
    Mutation(
        "cli-cosine-t-max-plus-1",
        "minitorch_nn/cli/commands.py",
        'CosineAnnealingLR(optimizer, T_max=settings["t_max"])',
        'CosineAnnealingLR(optimizer, T_max=settings["t_max"] + 1)',
        (WIRING,),
    ),
    Mutation(
        "cli-evaluate-split-ignored",
        "minitorch_nn/cli/commands.py",
        'split = data.test if args.split == "test" else data.train',
        "split = data.test",
        (WIRING,),
    ),
    # Issue 11's guards: each one removed must be noticed.
    Mutation(
        "checkpoint-tensor-digest-not-checked",
        "minitorch_nn/checkpoint/files.py",
        "        if tensor_digest(key, tensor) != recorded[key]:",
        "        if False:",
        ("tests/test_checkpoint_integrity.py",),
    ),
    Mutation(
        "fit-does-not-lock-the-checkpoint",
        "minitorch_nn/train/loop.py",
        "            stack.enter_context(CheckpointLock(checkpoint))  # held until the last epoch is saved",
        "            pass",
        ("tests/test_train.py",),
    ),
    Mutation(
        "cli-overwrites-an-existing-checkpoint",
        "minitorch_nn/cli/outputs.py",
        "    if args.checkpoint is not None and os.path.lexists(args.checkpoint):",
        "    if False:",
        ("tests/test_bad_inputs.py",),
    ),
    Mutation(
        "cli-stored-settings-not-checked",
        "minitorch_nn/cli/commands.py",
        "        check_stored(settings)\n",
        "        pass\n",
        ("tests/test_cli_errors.py",),
    ),
    Mutation(
        "summed-loss-pooled-as-a-mean",
        "minitorch_nn/train/evaluation.py",
        "    return total if _summed(loss) else total / max(samples, 1)",
        "    return total / max(samples, 1)",
        ("tests/test_train.py",),
    ),
    Mutation(
        "sampler-set-epoch-never-called",
        "minitorch_nn/train/parallel.py",
        "            self.sampler.set_epoch(epoch)\n",
        "            pass\n",
        (RESHUFFLE,),
    ),
    Mutation(
        "allreduce-averages-only-the-last-bucket",
        "minitorch_nn/distributed/allreduce.py",
        "            torch.cat([g.reshape(-1) for g in grads], out=flat[:count])\n",
        "            if index < len(self.buckets) - 1:\n"
        "                continue\n"
        "            torch.cat([g.reshape(-1) for g in grads], out=flat[:count])\n",
        (BUCKETS,),
    ),
]

# Run in the scratch copy: refuse to test any package but the copy's, then hand over to pytest.
RUNNER = """\
import sys
from pathlib import Path

import minitorch_nn

where = Path(minitorch_nn.__file__).resolve()
if not where.is_relative_to(Path.cwd().resolve()):
    print(f"imported {where}, not the scratch copy's package", file=sys.stderr)
    sys.exit(99)
import pytest

sys.exit(pytest.main(sys.argv[1:]))
"""
WRONG_PACKAGE, STALE, TIMED_OUT = 99, 98, 97


def repository_root() -> Path:
    """The root of the git repository holding this script."""
    out = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=Path(__file__).resolve().parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def repository_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files that exist (a deleted tracked file is skipped)."""
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    )
    names = sorted({name for name in out.stdout.decode().split("\0") if name})
    return [name for name in names if (root / name).is_file() or (root / name).is_symlink()]


def stale_reason(mutation: Mutation, root: Path) -> str | None:
    """Why the mutation cannot be applied to the files as they are now, or ``None`` if it can."""
    path = root / mutation.file
    if not path.is_file():
        return f"stale mutation: no file {mutation.file}"
    count = path.read_text().count(mutation.old)
    if count != 1:
        return f"stale mutation: its old text occurs {count} times in {mutation.file}, not once"
    return None


def copy_files(root: Path, files: Sequence[str], scratch: Path) -> None:
    for name in files:
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target, follow_symlinks=False)


def run_tests(tests: Sequence[str], root: Path, files: Sequence[str], edit: Mutation | None,
              timeout: float) -> tuple[int, str]:  # fmt: skip
    """Copy ``files`` to a scratch folder, apply ``edit`` there, run ``tests``: pytest's status and output.

    Status ``STALE`` means ``edit`` no longer applies to the copy (its file changed meanwhile).
    """
    with tempfile.TemporaryDirectory(prefix="mutate-") as folder:
        scratch = Path(folder)
        copy_files(root, files, scratch)
        if edit is not None:
            path = scratch / edit.file
            text = path.read_text()
            if text.count(edit.old) != 1:
                return STALE, f"stale mutation: {edit.file} changed while it was copied; run again"
            path.write_text(text.replace(edit.old, edit.new, 1))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([folder, os.environ.get("PYTHONPATH", "")])}
        command = [sys.executable, "-c", RUNNER, "-x", "-q", "-p", "no:cacheprovider", *tests]
        try:
            done = subprocess.run(
                command, cwd=scratch, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return TIMED_OUT, f"timed out after {timeout:g} s"
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    """The first test pytest names as failed, or the last line of its output."""
    lines = output.strip().splitlines()
    failed = [line.split(" - ")[0] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return failed[0] if failed else (lines[-1] if lines else "")


def run_mutation(mutation: Mutation, root: Path, files: Sequence[str], timeout: float) -> Result:
    """Apply ``mutation`` to a scratch copy of ``files`` and run its tests there."""
    start = time.monotonic()
    reason = stale_reason(mutation, root)
    if reason is not None:
        return Result(mutation, "stale", 0.0, reason)
    status, output = run_tests(mutation.tests, root, files, mutation, timeout)
    seconds = time.monotonic() - start
    if status == 0:
        return Result(mutation, "missed", seconds)
    if status == 1:
        return Result(mutation, "caught", seconds, first_failure(output))
    if status == STALE:
        return Result(mutation, "stale", seconds, output)
    if status in (WRONG_PACKAGE, TIMED_OUT):
        return Result(mutation, "error", seconds, first_failure(output))
    return Result(mutation, "error", seconds, f"pytest exited {status}: {first_failure(output)}")


def baseline(mutations: Sequence[Mutation], root: Path, files: Sequence[str], timeout: float) -> str | None:
    """Run every test the mutations name on an unmutated copy: why they fail there, or ``None``."""
    tests = list(dict.fromkeys(test for m in mutations for test in m.tests))
    status, output = run_tests(tests, root, files, None, timeout)
    return None if status == 0 else f"status {status}: {first_failure(output)}"


def table(results: Sequence[Result]) -> str:
    width = max(len(r.mutation.name) for r in results)
    files = max(len(r.mutation.file) for r in results)
    lines = [f"{'mutation':<{width}}  {'file':<{files}}  {'result':<6}  {'time':>6}"]
    for r in results:
        detail = f"  {r.detail}" if r.detail else ""
        line = f"{r.mutation.name:<{width}}  {r.mutation.file:<{files}}  {r.status:<6}  {r.seconds:5.0f}s"
        lines.append(line + detail)
    return "\n".join(lines)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", metavar="NAME", help="run this mutation (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="mutations run at once (default: 1)")
    parser.add_argument(
        "--timeout", type=float, default=900.0, metavar="S", help="seconds per mutation (default: 900)"
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip running the tests once without any mutation first"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs: expected an integer >= 1, got {args.jobs}")
    known = {m.name for m in MUTATIONS}
    unknown = sorted(set(args.only or ()) - known)
    if unknown:
        parser.error(f"--only: unknown mutation(s) {', '.join(unknown)}; see --list")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mutations asked for; return 0 if every one of them was caught."""
    args = parse(argv)
    names = [m.name for m in MUTATIONS]
    assert len(set(names)) == len(names), "two mutations share a name"
    chosen = [m for m in MUTATIONS if args.only is None or m.name in args.only]
    root = repository_root()
    if args.list:
        for m in chosen:
            stale = stale_reason(m, root)
            print(f"{m.name}{f'  ({stale})' if stale else ''}\n    {m.file}\n    tests: {' '.join(m.tests)}")
        return 0
    files = repository_files(root)
    if not args.no_baseline:
        failure = baseline(chosen, root, files, args.timeout)
        if failure is not None:
            print(f"the tests fail without any mutation ({failure}): fix them first", file=sys.stderr)
            return 1
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_mutation, m, root, files, args.timeout) for m in chosen]
        results = []
        for future in futures:
            result = future.result()
            print(f"{result.mutation.name}: {result.status}", file=sys.stderr, flush=True)
            results.append(result)
    print(table(results))
    caught = sum(r.status == "caught" for r in results)
    print(f"score: {caught}/{len(results)}")
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
