"""The command line's options: argparse types that check values, and the option groups."""

import argparse
from collections.abc import Callable
from pathlib import Path

import torch

from minitorch_nn.cli.outputs import output_path
from minitorch_nn.cli.settings import RULES
from minitorch_nn.spec import ACTIVATIONS, parse_layers

__all__ = [
    "add_data_options",
    "add_network_options",
    "add_train_options",
    "device",
    "existing_folder",
    "rule",
]


def rule(key: str, parse: Callable[[str], object]) -> "argparse._ActionType":
    """An argparse type: ``parse`` the text, then check it with the setting's rule (``RULES[key]``)."""
    check = RULES[key]

    def convert(text: str) -> object:
        try:
            value = parse(text)
        except ValueError:
            value = text  # not a number at all: the rule refuses it with its own words
        try:
            return check(value)
        except ValueError as error:
            # The rule's message ends with the parsed value; the user typed the text.
            what = str(error).rsplit(", got ", 1)[0] if ", got " in str(error) else str(error)
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}") from None

    return convert


def _layers(text: str) -> list[int]:
    try:
        return list(parse_layers(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def device(text: str) -> torch.device:
    """An argparse type: a torch device that exists on this machine."""
    try:
        parsed = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(
            f"expected a device such as cpu, cuda or cuda:1, got {text!r}"
        ) from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"{text}: CUDA is not available on this machine")
    if parsed.type == "cuda" and (parsed.index or 0) >= torch.cuda.device_count():
        raise argparse.ArgumentTypeError(
            f"{text}: this machine has {torch.cuda.device_count()} CUDA device(s)"
        )
    if parsed.type not in ("cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"expected a cpu or cuda device, got {text!r}")
    return parsed


def existing_folder(text: str) -> Path:
    """An argparse type: a folder that exists."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    return path


def add_data_options(parser: argparse.ArgumentParser, *, stored: bool = False) -> None:
    """The data options; ``stored`` for a command that reads a checkpoint, whose settings are the defaults."""
    group = parser.add_argument_group("data")
    default = "the checkpoint's" if stored else "mnist"
    group.add_argument(
        "--dataset", choices=("mnist", "fashion-mnist", "disk"), help=f"the data set (default: {default})"
    )
    group.add_argument(
        "--data-dir",
        type=existing_folder,
        help="folder with the data set's four .gz files (default: $MINITORCH_NN_DATA_DIR/<dataset>, "
        "else, for mnist without --full, the 1000/1000 split shipped with the package)",
    )
    group.add_argument(
        "--full",
        action="store_const",
        const=True,
        help="all 60000/10000 images, not the first 1000/1000"
        + (" (default: the checkpoint's)" if stored else ""),
    )
    group.add_argument(
        "--device", type=device, default=torch.device("cpu"), help="cpu, cuda or cuda:N (default: cpu)"
    )


def add_network_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("network")
    group.add_argument(
        "--layers", type=_layers, metavar="SIZES", help="layer sizes, input first (default: 784,256,128,10)"
    )
    group.add_argument("--activation", choices=sorted(ACTIVATIONS), help="hidden activation (default: relu)")
    group.add_argument("--output-activation", choices=sorted(ACTIVATIONS), help="after the last layer")
    group.add_argument(
        "--dropout", type=rule("dropout", float), metavar="P", help="dropout after each hidden layer"
    )


def add_train_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training")
    group.add_argument("--loss", choices=("cross-entropy", "mse"), help="the loss (default: cross-entropy)")
    group.add_argument(
        "--reduction", choices=("mean", "sum"), help="how the loss sums a batch (default: mean)"
    )
    group.add_argument("--optimizer", choices=("sgd", "adam"), help="the optimizer (default: sgd)")
    group.add_argument(
        "--lr", type=rule("lr", float), help="learning rate (default: 0.1 for sgd, 0.001 for adam)"
    )
    group.add_argument("--momentum", type=rule("momentum", float), help="SGD momentum (default: 0)")
    group.add_argument("--weight-decay", type=rule("weight_decay", float), help="L2 penalty (default: 0)")
    group.add_argument(
        "--scheduler",
        choices=("none", "step", "cosine"),
        help="lr schedule, stepped per epoch: step (x gamma every step-size epochs) or cosine to 0 "
        "over --t-max epochs (default: none)",
    )
    group.add_argument(
        "--step-size", type=rule("step_size", int), help="epochs between decays of --scheduler step (10)"
    )
    group.add_argument("--gamma", type=rule("gamma", float), help="decay factor of --scheduler step (0.1)")
    group.add_argument(
        "--t-max", type=rule("t_max", int), help="epochs of --scheduler cosine's half period (--epochs)"
    )
    group.add_argument(
        "--epochs", type=rule("epochs", int), help="total epochs, resumed ones included (default: 10)"
    )
    group.add_argument(
        "--batch-size", type=rule("batch_size", int), help="samples per step, 0 for full batch (default: 64)"
    )
    group.add_argument(
        "--seed", type=rule("seed", int), help="seed of the weights, the data order and dropout (default: 0)"
    )
    group.add_argument("--log-format", choices=("epoch", "notebook", "none"), help="one line per epoch")
    outputs = parser.add_argument_group("outputs (checked before training starts)")
    outputs.add_argument(
        "--plot", type=output_path, metavar="PNG", help="write the learning curves to this PNG"
    )
    outputs.add_argument(
        "--metrics", type=output_path, metavar="JSONL", help="write one JSON line per epoch here"
    )
    outputs.add_argument(
        "--checkpoint",
        type=output_path,
        metavar="FILE",
        help="save a safetensors checkpoint here after each epoch; locked while the run lasts",
    )
    outputs.add_argument("--resume", action="store_true", help="continue the run saved in --checkpoint")
    outputs.add_argument(
        "--auto-resume",
        action="store_true",
        help="continue from --checkpoint if it exists, else start (for jobs that torchrun may restart)",
    )
    outputs.add_argument(
        "--overwrite",
        action="store_true",
        help="start a new run even if --checkpoint or --metrics exists, replacing them",
    )
    outputs.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    outputs.add_argument(
        "--diagnose",
        action="store_true",
        help="per-layer diagnostics: hints on stderr, a 'diagnostics' entry in each --metrics line, "
        "and with --plot a second figure, PLOT_diagnostics.png",
    )
