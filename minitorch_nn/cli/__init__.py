"""``minitorch-nn``: train, evaluate and inspect networks from the command line.

Also runnable as ``python -m minitorch_nn``. Usage errors print one line and
exit with status 2; a run that fails (a NaN, a broken checkpoint) prints what
happened and exits with status 1, leaving the last checkpoint intact.
"""

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import torch.distributed as dist
from typing_extensions import override

from minitorch_nn.checkpoint import CheckpointError, CheckpointWarning
from minitorch_nn.cli.commands import evaluate_command, export_command, summary_command, train_command
from minitorch_nn.cli.options import add_data_options, add_network_options, add_train_options, rule
from minitorch_nn.cli.outputs import output_path
from minitorch_nn.cli.settings import PRESETS
from minitorch_nn.train import NonFiniteError

__all__ = ["build_parser", "main"]

TRAIN_EXAMPLES = """examples:
  minitorch-nn train --preset two-layer
      the course's reference job: 784-50-10 tanh, full-batch SGD, 200 epochs
  minitorch-nn train --dataset fashion-mnist --full --layers 784,256,128,10 --activation relu \\
      --optimizer adam --lr 1e-3 --epochs 10 --batch-size 128 --plot curves.png --checkpoint run.safetensors
  minitorch-nn train --checkpoint run.safetensors --resume --epochs 20
      continue that run up to 20 epochs, bit for bit as if it had never stopped

Data: --data-dir, else the folder in $MINITORCH_NN_DATA_DIR (with mnist/ and fashion-mnist/ inside),
else, for the first 1000/1000 MNIST images only, the copy shipped with the package."""

EVALUATE_EXAMPLES = """examples:
  minitorch-nn evaluate run.safetensors
  minitorch-nn evaluate run.safetensors --split train --confusion confusion.png"""

EXPORT_EXAMPLES = """examples:
  minitorch-nn export run.safetensors model.onnx
  minitorch-nn export run.safetensors model.onnx --overwrite

Needs onnx and onnxscript (pip install 'minitorch_nn[onnx]'); with onnxruntime installed the file is
run on 64 random inputs and compared with the network (exit status 1 if they differ)."""

SUMMARY_EXAMPLES = """examples:
  minitorch-nn summary --layers 784,256,128,10 --activation relu
  minitorch-nn summary --preset two-layer
  minitorch-nn summary --checkpoint run.safetensors"""


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line: what is wrong, and where help is."""

    @override
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``minitorch-nn`` and its subcommands."""
    parser = Parser(
        prog="minitorch-nn",
        description="Train, evaluate and inspect minitorch_nn networks (backward passes written by hand).",
        epilog="Run 'minitorch-nn COMMAND --help' for a command's options and examples.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter
    train = commands.add_parser(
        "train", help="train a network", epilog=TRAIN_EXAMPLES, formatter_class=raw,
        description="Train a multilayer perceptron, printing one line per epoch.",
    )  # fmt: skip
    train.add_argument("--preset", choices=sorted(PRESETS), help="start from a named recipe")
    add_data_options(train)
    add_network_options(train)
    add_train_options(train)
    train.set_defaults(run=train_command, command_parser=train)

    evaluate = commands.add_parser(
        "evaluate", help="evaluate a checkpoint", epilog=EVALUATE_EXAMPLES, formatter_class=raw,
        description="Print a checkpoint's error and confusion matrix on its data set.",
    )  # fmt: skip
    evaluate.add_argument("checkpoint", type=_file, help="a checkpoint written by 'minitorch-nn train'")
    add_data_options(evaluate, stored=True)
    evaluate.add_argument("--split", choices=("test", "train"), default="test", help="default: test")
    evaluate.add_argument(
        "--batch-size", type=rule("batch_size", int), default=1000, help="0 for all at once (default: 1000)"
    )
    evaluate.add_argument(
        "--confusion", type=output_path, metavar="PNG", help="also draw the matrix as a PNG"
    )
    evaluate.set_defaults(run=evaluate_command, command_parser=evaluate)

    export = commands.add_parser(
        "export", help="write a checkpoint's network as ONNX", epilog=EXPORT_EXAMPLES, formatter_class=raw,
        description="Write a checkpoint's network as an ONNX file (eval mode, any batch size).",
    )  # fmt: skip
    export.add_argument("checkpoint", type=_file, help="a checkpoint written by 'minitorch-nn train'")
    export.add_argument("output", type=output_path, help="the .onnx file to write")
    export.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    export.set_defaults(run=export_command, command_parser=export)

    summary = commands.add_parser(
        "summary", help="print a network's layers", epilog=SUMMARY_EXAMPLES, formatter_class=raw,
        description="Print a network's layers, their output shapes and their parameter counts.",
    )  # fmt: skip
    summary.add_argument("--preset", choices=sorted(PRESETS), help="the network of a named recipe")
    summary.add_argument("--checkpoint", type=_file, help="the network saved in this checkpoint")
    summary.add_argument(
        "--dataset", choices=("mnist", "fashion-mnist", "disk"), help="picks the default layers"
    )
    add_network_options(summary)
    summary.set_defaults(run=summary_command, command_parser=summary)
    return parser


def _file(text: str) -> Path:
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return Path(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    0: success; 1: a failed run (a NaN or Inf, a broken, corrupted or locked checkpoint, a file that
    cannot be written); 2: a usage error (argparse exits with it); 130: interrupted by Ctrl-C;
    141: standard output was closed early (``| head``), which ends the command quietly.
    """
    command = "minitorch-nn"

    def one_line(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        print(f"{command}: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = one_line  # restored when the block ends
            warnings.simplefilter("once", CheckpointWarning)  # a command may read its checkpoint twice
            parser = build_parser()
            args = parser.parse_args(argv)
            command = f"minitorch-nn {args.command}"
            status: int = args.run(args.command_parser, args)
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    except (NonFiniteError, CheckpointError) as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        print(f"{command}: error: {'; '.join(lines)}", file=sys.stderr)  # one line, every detail kept
        return 1
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            return _closed_pipe()
        # A full disk, a read-only folder, a vanished file: the OS's reason, on one line.
        print(f"{command}: error: {_os_error(error)}", file=sys.stderr)
        return 1
    except RuntimeError as error:
        if not (dist.is_available() and dist.is_initialized()):
            raise
        # Under torchrun, a collective fails when another worker dies: say so in one line and let the
        # agent restart the job (--max-restarts) from the last checkpoint.
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"{command}: error: the process group failed ({first})", file=sys.stderr)
        with contextlib.suppress(Exception):  # leave the group now: tearing it down at exit can abort
            dist.destroy_process_group()
        return 1
    except KeyboardInterrupt:
        print(f"{command}: interrupted; files written before are intact", file=sys.stderr)
        return 130
    return status


def _os_error(error: OSError) -> str:
    """``cannot write run.safetensors: No space left on device`` rather than ``[Errno 28] ...``."""
    reason = error.strerror or str(error)
    if error.filename is None:
        return str(error)
    return f"{error.filename}: {reason}"


def _closed_pipe() -> int:
    """The reader of standard output went away: stop quietly, as ``cat file | head -1`` does."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's final flush does not fail again
    return 141
