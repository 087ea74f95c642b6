"""The three commands: ``train``, ``evaluate`` and ``summary``."""

import argparse
import os
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from minitorch_nn.adam import Adam
from minitorch_nn.checkpoint import load_checkpoint, read_checkpoint
from minitorch_nn.classification_losses import CrossEntropyLoss
from minitorch_nn.cli.datasets import Prepared, prepare
from minitorch_nn.cli.settings import Settings, resolve
from minitorch_nn.containers import Sequential
from minitorch_nn.data import DATA_DIR_ENV
from minitorch_nn.distributed import init_from_env, is_main_process
from minitorch_nn.history import EpochRecord, History
from minitorch_nn.losses import MSELoss
from minitorch_nn.module import Loss
from minitorch_nn.network_summary import summary
from minitorch_nn.optim import SGD
from minitorch_nn.optimizer_base import OptimizerBase
from minitorch_nn.schedulers import CosineAnnealingLR, Scheduler, StepLR
from minitorch_nn.spec import NetworkSpec
from minitorch_nn.train import confusion_matrix, evaluate, fit

__all__ = ["evaluate_command", "summary_command", "train_command"]


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
        return StepLR(optimizer, step_size=max(settings["step_size"], 1), gamma=settings["gamma"])
    if settings["scheduler"] == "cosine":
        return CosineAnnealingLR(optimizer, T_max=max(settings["t_max"] or 1, 1))
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


def _stored(parser: argparse.ArgumentParser, path: Path) -> dict[str, object]:
    """The settings saved in a checkpoint (a broken checkpoint raises CheckpointError: status 1)."""
    settings = read_checkpoint(path).metadata.get("settings")
    if not isinstance(settings, dict):
        parser.error(f"--resume: {path} was not written by minitorch-nn train (no settings)")
    return settings


def _check_outputs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for flag in ("plot", "metrics", "checkpoint"):
        path = getattr(args, flag)
        if path is not None and not path.parent.is_dir():
            parser.error(f"--{flag}: no such folder: {path.parent}")


def _settings(parser: argparse.ArgumentParser, args: argparse.Namespace, resume: bool) -> Settings:
    try:
        settings = resolve(
            args, _stored(parser, args.checkpoint) if resume else None, args.preset, resuming=resume
        )
    except ValueError as error:
        parser.error(str(error))
    if settings["optimizer"] == "adam" and settings["momentum"]:
        parser.error("--momentum applies to --optimizer sgd; adam has betas instead")
    return settings


def train_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Train a network; print a line per epoch; write the plot, metrics and checkpoint asked for.

    Under ``torchrun`` every process runs this: they join the process group,
    ``fit`` shards the data and averages the gradients, and only rank 0
    prints, plots and writes files.
    """
    _check_outputs(parser, args)
    resume = _resuming(parser, args)
    settings = _settings(parser, args, resume)
    try:
        spec = _spec(settings)
    except ValueError as error:
        parser.error(str(error))
    data = _data(parser, settings, spec)
    device = init_from_env(args.device.type).device if "WORLD_SIZE" in os.environ else args.device
    seed, epochs = settings["seed"], settings["epochs"]
    torch.manual_seed(seed)
    model = spec.build(seed, dtype=data.train[0].dtype, device=device)
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
    )  # fmt: skip
    if is_main_process():
        _finish(args, settings, spec, history, quiet)
    return 0


def _finish(
    args: argparse.Namespace, settings: Settings, spec: NetworkSpec, history: History, quiet: bool
) -> None:
    """The plot and the last line, written by one process."""
    if args.plot is not None:
        from minitorch_nn.plot import plot_history

        layers = ",".join(map(str, spec.layers))
        plot_history(history, args.plot, title=f"{settings['dataset']}: {layers} {spec.activation}")
    if history.records and not quiet and settings["log_format"] != "notebook":
        last = history[-1]
        print(f"final test error {last.eval_error:.2%} after {last.epoch} epochs", file=sys.stderr)


def evaluate_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Evaluate a checkpoint: the error, and the confusion matrix as text (and PNG)."""
    saved = read_checkpoint(args.checkpoint)
    stored = saved.metadata.get("settings")
    if not isinstance(stored, dict) or "spec" not in saved.metadata:
        parser.error(f"{args.checkpoint} was not written by minitorch-nn train (no spec or settings)")
    spec_values = saved.metadata["spec"]
    try:
        data_options = argparse.Namespace(dataset=args.dataset, data_dir=args.data_dir, full=args.full)
        settings = resolve(data_options, stored, None)
        spec = NetworkSpec.from_dict(spec_values if isinstance(spec_values, dict) else {})
    except ValueError as error:
        parser.error(str(error))
    data = _data(parser, settings, spec)
    model = spec.build(0, dtype=data.train[0].dtype, device=args.device)
    load_checkpoint(args.checkpoint, model, restore_rng=False)
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
    stored = None
    if args.checkpoint is not None:
        stored = read_checkpoint(args.checkpoint).metadata.get("settings")
    try:
        settings = resolve(args, stored if isinstance(stored, dict) else None, args.preset)
        spec = _spec(settings)
    except ValueError as error:
        parser.error(str(error))
    print(summary(spec.build(0), (spec.layers[0],)))
    return 0
