"""The commands: ``train``, ``evaluate``, ``summary`` and ``export``."""

import argparse
import contextlib
import importlib.util
import os
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from minitorch_nn.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointLock,
    output_path_problem,
    read_checkpoint,
)
from minitorch_nn.cli.datasets import Prepared, prepare
from minitorch_nn.cli.outputs import check_existing, check_outputs
from minitorch_nn.cli.settings import Settings, check_stored, resolve
from minitorch_nn.data import DATA_DIR_ENV
from minitorch_nn.distributed import init_from_env, is_main_process
from minitorch_nn.history import EpochRecord, History
from minitorch_nn.module import Loss
from minitorch_nn.modules.container import Sequential
from minitorch_nn.modules.loss import CrossEntropyLoss, MSELoss
from minitorch_nn.network_summary import summary
from minitorch_nn.optim.adam import Adam
from minitorch_nn.optim.lr_scheduler import CosineAnnealingLR, Scheduler, StepLR
from minitorch_nn.optim.optimizer import OptimizerBase
from minitorch_nn.optim.sgd import SGD
from minitorch_nn.spec import NetworkSpec
from minitorch_nn.train import confusion_matrix, evaluate, fit
from minitorch_nn.train.inputs import check_continues

__all__ = [
    "diagnostics_plot_path",
    "evaluate_command",
    "export_command",
    "stored_run",
    "summary_command",
    "train_command",
]


def _spec(settings: Settings) -> NetworkSpec:
    return NetworkSpec(
        tuple(settings["layers"]),
        activation=settings["activation"],
        output_activation=settings["output_activation"],
        dropout=float(settings["dropout"]),
        init_std=settings["init_std"],
    )


def _loss(settings: Settings) -> Loss:
    if settings["loss"] == "mse":
        return MSELoss(reduction=settings["reduction"])
    return CrossEntropyLoss(reduction=settings["reduction"])


def _optimizer(settings: Settings, model: Sequential, samples: int) -> OptimizerBase:
    per_sample, lr = settings["lr_per_sample"], settings["lr"]
    rate = per_sample / samples if per_sample is not None else float(lr or 0.0)
    decay = float(settings["weight_decay"])
    if settings["optimizer"] == "adam":
        return Adam(model.parameters(), lr=rate, weight_decay=decay)
    return SGD(model.parameters(), lr=rate, momentum=float(settings["momentum"]), weight_decay=decay)


def _scheduler(settings: Settings, optimizer: OptimizerBase) -> Scheduler | None:
    if settings["scheduler"] == "step":
        return StepLR(optimizer, step_size=settings["step_size"], gamma=settings["gamma"])
    if settings["scheduler"] == "cosine":
        if settings["t_max"] is None:  # resolve() refuses cosine without a period
            raise ValueError("--scheduler cosine needs --t-max")
        return CosineAnnealingLR(optimizer, T_max=settings["t_max"])
    return None


def _data(parser: argparse.ArgumentParser, settings: Settings, spec: NetworkSpec) -> Prepared:
    """The data, or a one-line usage error: missing files, or layers that do not fit the data."""
    try:
        data = prepare(settings, one_hot_targets=settings["loss"] == "mse")
    except FileNotFoundError:
        env = os.environ.get(DATA_DIR_ENV)
        where = settings["data_dir"] or (f"${DATA_DIR_ENV}={env}" if env else f"${DATA_DIR_ENV} (unset)")
        parser.error(
            f"no {settings['dataset']} files in {where}: pass --data-dir DIR, a folder with the four "
            "original .gz files, or set MINITORCH_NN_DATA_DIR to a folder holding mnist/ and fashion-mnist/"
        )
    except ValueError as error:
        parser.error(str(error))
    if spec.layers[0] != data.features or spec.layers[-1] != data.classes:
        parser.error(
            f"--layers must start with {data.features} (the inputs of {settings['dataset']}) and end with "
            f"{data.classes} (its classes), got {','.join(map(str, spec.layers))}"
        )
    return data


def _to(data: Prepared, device: torch.device) -> Prepared:
    """The data on ``device`` (the whole set: these data sets fit in any accelerator's memory)."""
    train = (data.train[0].to(device), data.train[1].to(device))
    return data._replace(train=train, test=(data.test[0].to(device), data.test[1].to(device)))


def _log_line(settings: Settings, epochs: int, samples: tuple[int, int], record: EpochRecord) -> str:
    """One line per epoch; ``notebook`` is the format of ``examples/two_layer_mnist.py``."""
    if settings["log_format"] == "notebook":
        # Errors as the notebook computes them: 100 * count / N, from the counts the fractions hold.
        train = 100 * round((record.train_error or 0.0) * samples[0]) / samples[0]
        test = 100 * round((record.eval_error or 0.0) * samples[1]) / samples[1]
        return (
            f"{record.epoch - 1:d} acc_train_loss {record.train_loss:.02f} "
            f"acc_train_error {train:.02f}% test_error {test:.02f}%"
        )
    train_error = "-" if record.train_error is None else f"{record.train_error:.2%}"
    test_error = "-" if record.eval_error is None else f"{record.eval_error:.2%}"
    return (
        f"epoch {record.epoch:{len(str(epochs))}d}/{epochs}  train loss {record.train_loss:.4f}  "
        f"train error {train_error}  test error {test_error}  ({record.seconds:.1f} s)"
    )


def _resuming(parser: argparse.ArgumentParser, args: argparse.Namespace) -> bool:
    """``--resume``, or ``--auto-resume`` with a checkpoint that exists (a restarted ``torchrun`` job)."""
    if (args.resume or args.auto_resume) and args.checkpoint is None:
        flag = "--resume" if args.resume else "--auto-resume"
        parser.error(f"{flag} needs --checkpoint FILE, the run to continue")
    if args.resume and not args.checkpoint.is_file():
        parser.error(f"--resume: no checkpoint at {args.checkpoint}")
    return bool(args.resume or (args.auto_resume and args.checkpoint.is_file()))


def stored_run(path: Path) -> tuple[Checkpoint, dict[str, object], NetworkSpec]:
    """A checkpoint written by ``train``, its settings and its spec, checked by the command line's rules.

    Raises:
        CheckpointError: if the file is broken, or its stored settings or spec are missing, break a rule
            of the command line, or disagree with each other (exit status 1).
    """
    saved = read_checkpoint(path)
    settings, spec = saved.metadata.get("settings"), saved.metadata.get("spec")
    if not isinstance(settings, dict) or not isinstance(spec, dict):
        raise CheckpointError(
            f"{path}: not written by minitorch-nn train (it holds no network spec or settings)"
        )
    try:
        check_stored(settings)
        network = NetworkSpec.from_dict(spec)
        rebuilt = _spec(resolve(argparse.Namespace(), settings, None))
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from None
    if rebuilt != network:
        raise CheckpointError(f"{path}: its stored spec {spec} disagrees with its stored settings")
    if saved.epoch != len(saved.history):
        raise CheckpointError(
            f"{path}: expected its epoch to count its history's records, got epoch {saved.epoch} "
            f"and {len(saved.history)} records"
        )
    return saved, settings, network


def _settings(
    parser: argparse.ArgumentParser, args: argparse.Namespace, stored: dict[str, object] | None
) -> Settings:
    try:
        settings = resolve(args, stored, args.preset, resuming=stored is not None)
    except ValueError as error:
        parser.error(str(error))
    if settings["optimizer"] == "adam" and settings["momentum"]:
        parser.error("--momentum applies to --optimizer sgd; adam has betas instead")
    return settings


def _build(parser: argparse.ArgumentParser, spec: NetworkSpec, *args: Any, **kwargs: Any) -> Sequential:
    """The network, or a usage error if it cannot fit in memory."""
    try:
        return spec.build(*args, **kwargs)
    except ValueError as error:
        parser.error(str(error))


def _run_lock(*paths: Path | None) -> AbstractContextManager[object]:
    """Locks on the run's checkpoint and metrics files for its life, held by the process that writes them."""
    stack = contextlib.ExitStack()
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 writes
        try:
            for path in paths:
                if path is not None:
                    stack.enter_context(CheckpointLock(path))
        except BaseException:
            stack.close()  # release what was taken before the lock that failed
            raise
    return stack


def train_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Train a network; print a line per epoch; write the plot, metrics and checkpoint asked for.

    Every output is checked and the checkpoint locked before anything is
    loaded or trained. Under ``torchrun`` every process runs this: they join
    the process group, ``fit`` shards the data and averages the gradients,
    and only rank 0 prints, plots and writes files.
    """
    check_outputs(parser, args)
    resume = _resuming(parser, args)
    with _run_lock(args.checkpoint, args.metrics):
        check_existing(parser, args, resume)
        saved, stored, _ = stored_run(args.checkpoint) if resume else (None, None, None)
        settings = _settings(parser, args, stored)
        if saved is not None and saved.epoch > settings["epochs"]:
            parser.error(
                f"--epochs {settings['epochs']}: {args.checkpoint} already holds {saved.epoch} epochs; "
                f"pass --epochs {saved.epoch} or more to continue it"
            )
        if saved is not None and args.metrics is not None and os.path.lexists(args.metrics):
            try:
                check_continues(args.metrics, saved.history)
            except ValueError as error:
                parser.error(f"--metrics: {str(error).removeprefix('fit: ')}")
        _train(parser, args, settings, resume)
    return 0


def _train(
    parser: argparse.ArgumentParser, args: argparse.Namespace, settings: Settings, resume: bool
) -> None:
    try:
        spec = _spec(settings)
    except ValueError as error:
        parser.error(str(error))
    data = _data(parser, settings, spec)
    device = init_from_env(args.device.type).device if "WORLD_SIZE" in os.environ else args.device
    seed, epochs = settings["seed"], settings["epochs"]
    torch.manual_seed(seed)
    model = _build(parser, spec, seed, dtype=data.train[0].dtype, device=device)
    data = _to(data, device)
    optimizer = _optimizer(settings, model, data.train[0].shape[0])
    quiet = args.quiet or settings["log_format"] == "none"
    samples = (data.train[0].shape[0], data.test[0].shape[0])

    def report(record: EpochRecord) -> None:
        if not quiet:
            tqdm.write(_log_line(settings, epochs, samples, record), file=sys.stdout)

    history = fit(
        model, _loss(settings), optimizer, data.train, epochs=epochs, batch_size=settings["batch_size"],
        eval_data=data.test, scheduler=_scheduler(settings, optimizer),
        generator=torch.Generator().manual_seed(seed), progress=False if args.quiet else None,
        metrics=args.metrics, checkpoint=args.checkpoint, resume=resume,
        metadata={"spec": spec.to_dict(), "settings": settings}, on_epoch_end=report,
        diagnostics=bool(getattr(args, "diagnose", False)),
    )  # fmt: skip
    if is_main_process():
        _finish(args, settings, spec, history, quiet)


def _finish(
    args: argparse.Namespace, settings: Settings, spec: NetworkSpec, history: History, quiet: bool
) -> None:
    """The plot and the last line, written by one process."""
    if args.plot is not None:
        from minitorch_nn.plot import plot_history

        layers = ",".join(map(str, spec.layers))
        plot_history(history, args.plot, title=f"{settings['dataset']}: {layers} {spec.activation}")
        if history.diagnostics:
            from minitorch_nn.plot import plot_diagnostics

            plot_diagnostics(history.diagnostics, diagnostics_plot_path(args.plot))
    if history.records and not quiet and settings["log_format"] != "notebook":
        last = history[-1]
        epochs = "1 epoch" if last.epoch == 1 else f"{last.epoch} epochs"
        print(f"final test error {last.eval_error:.2%} after {epochs}", file=sys.stderr)


def diagnostics_plot_path(plot: Path) -> Path:
    """Where ``train --diagnose --plot curves.png`` draws the diagnostics: ``curves_diagnostics.png``."""
    return plot.with_name(f"{plot.stem}_diagnostics{plot.suffix}")


def evaluate_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Evaluate a checkpoint: the error, and the confusion matrix as text (and PNG)."""
    check_outputs(parser, args)
    saved, stored, spec = stored_run(args.checkpoint)
    data_options = argparse.Namespace(dataset=args.dataset, data_dir=args.data_dir, full=args.full)
    settings = resolve(data_options, stored, None)
    data = _data(parser, settings, spec)
    model = _build(parser, spec, 0, dtype=data.train[0].dtype, device=args.device)
    try:  # the weights of the very read whose epoch is printed, not of a later save
        model.load_state_dict(saved.model)
    except (RuntimeError, ValueError) as error:
        raise CheckpointError(f"{args.checkpoint}: {error}") from None
    data = _to(data, args.device)
    split = data.test if args.split == "test" else data.train
    result = evaluate(model, _loss(settings), split, batch_size=args.batch_size)
    matrix = confusion_matrix(model, split, data.classes, batch_size=args.batch_size)
    wrong = int(matrix.sum() - matrix.trace())
    print(f"{args.checkpoint}: epoch {saved.epoch}, {settings['dataset']} {args.split} set")
    print(f"{result.samples} samples, loss {result.loss:.4f}, error {result.error:.2%} ({wrong} wrong)")
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(_matrix_text(matrix, data.class_names))
    if args.confusion is not None:
        from minitorch_nn.plot import plot_confusion

        plot_confusion(matrix, args.confusion, class_names=data.class_names)
    return 0


def _matrix_text(matrix: torch.Tensor, names: tuple[str, ...]) -> str:
    width = max(5, len(str(int(matrix.max()))) + 1)
    label = max(len(n) for n in names)
    lines = [" " * (label + 1) + "".join(f"{i:>{width}}" for i in range(len(names)))]
    for i, row in enumerate(matrix.tolist()):
        lines.append(f"{names[i]:>{label}} " + "".join(f"{v:>{width}}" for v in row) + f"   ({i})")
    return "\n".join(lines)


def summary_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Print a network's layers, output shapes and parameter counts."""
    stored = stored_run(args.checkpoint)[1] if args.checkpoint is not None else None
    try:
        settings = resolve(args, stored, args.preset)
        spec = _spec(settings)
    except ValueError as error:
        parser.error(str(error))
    print(summary(_build(parser, spec, 0), (spec.layers[0],)))
    return 0


def export_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Write a checkpoint's network as an ONNX file; run it with onnxruntime, if installed, as a check."""
    output: Path = args.output
    problem = output_path_problem(output)
    if problem is not None:
        parser.error(problem)
    if os.path.realpath(output) == os.path.realpath(args.checkpoint):
        parser.error(f"{output} is the checkpoint to export: give another path")
    if output.suffix.lower() != ".onnx":
        parser.error(f"expected a .onnx file, got {str(output)!r}")
    if os.path.lexists(output) and not args.overwrite:
        parser.error(f"{output} already exists: pass --overwrite to replace it, or another path")
    missing = [name for name in ("onnx", "onnxscript") if importlib.util.find_spec(name) is None]
    if missing:
        parser.error(f"export needs {' and '.join(missing)}, not installed: pip install 'minitorch_nn[onnx]'")
    saved, _, spec = stored_run(args.checkpoint)
    dtype = next((t.dtype for t in saved.model.values() if t.is_floating_point()), torch.float32)
    model = _build(parser, spec, 0, dtype=dtype)
    try:
        model.load_state_dict(saved.model)
    except (RuntimeError, ValueError) as error:
        raise CheckpointError(f"{args.checkpoint}: {error}") from None
    from minitorch_nn.interop import export_onnx  # imports torch.nn: only for this command

    model.eval()
    try:
        export_onnx(model, output, torch.zeros(2, spec.layers[0], dtype=dtype))
    except ValueError as error:  # the exporter failed: one line, status 1, no file written
        print(f"minitorch-nn export: error: {error}", file=sys.stderr)
        return 1
    print(f"{output}: {args.checkpoint} (epoch {saved.epoch}), input (batch, {spec.layers[0]}) {dtype}")
    return _check_onnx(model, output, spec.layers[0], dtype)


def _check_onnx(model: Sequential, output: Path, features: int, dtype: torch.dtype) -> int:
    """Run the file with onnxruntime on 64 random inputs against the network; 1 if they disagree."""
    if importlib.util.find_spec("onnxruntime") is None:
        print("onnxruntime is not installed: the file was not run (pip install onnxruntime)")
        return 0
    import onnxruntime

    inputs = torch.randn(64, features, generator=torch.Generator().manual_seed(0), dtype=dtype)
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    theirs = torch.from_numpy(session.run(None, {"input": inputs.numpy()})[0])
    ours = model(inputs)
    difference = float((theirs - ours).abs().max())
    if not torch.allclose(theirs, ours, rtol=1e-4, atol=1e-5):
        print(
            f"error: onnxruntime's outputs differ from the network's by up to {difference:.2e}",
            file=sys.stderr,
        )
        return 1
    print(f"onnxruntime on 64 random inputs: max abs difference {difference:.2e} from minitorch_nn")
    return 0
