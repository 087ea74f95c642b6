"""The files a command writes, checked before any work starts: nothing is lost, nothing is wasted.

Every output path (``--plot``, ``--metrics``, ``--checkpoint``, ``--confusion``)
is checked when the command starts, not after an hour of training: it must
not be empty, must not be a folder, a device or a FIFO, its folder must exist
and be writable, a plot must be a ``.png`` (and matplotlib importable), and
no two outputs may be the same file. A new run refuses to replace an
existing checkpoint or metrics file unless ``--overwrite`` says so.
"""

import argparse
import importlib.util
import os
from pathlib import Path

from minitorch_nn.checkpoint import CheckpointLock, output_path_problem

__all__ = ["OUTPUTS", "check_existing", "check_outputs", "output_path"]

OUTPUTS = ("checkpoint", "metrics", "plot", "confusion")
"""The options that name files a command writes."""


def output_path(text: str) -> Path:
    """An argparse type: a path to write; the empty text is refused (``Path("")`` would be ``.``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a file path, got {text!r}")
    if text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"expected a file path, got the folder path {text!r}")
    return Path(text)


def check_outputs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, with a usage error, any output path that cannot be written as asked."""
    outputs = {flag: path for flag in OUTPUTS if (path := getattr(args, flag, None)) is not None}
    if args.command == "evaluate":
        outputs.pop("checkpoint")  # evaluate reads its checkpoint
    seen: dict[str, str] = {}
    for flag, path in outputs.items():
        problem = output_path_problem(path)
        if problem is not None:
            parser.error(f"--{flag}: {problem}")
        if flag in ("plot", "confusion"):
            if path.suffix.lower() != ".png":
                parser.error(f"--{flag}: expected a .png file, got {str(path)!r}")
            if importlib.util.find_spec("matplotlib") is None:
                parser.error(f"--{flag} needs matplotlib, which is not installed: pip install matplotlib")
        real = os.path.realpath(path)
        if real in seen:
            parser.error(f"--{seen[real]} and --{flag} name the same file, {path}: each output needs its own")
        seen[real] = flag
    if args.command == "evaluate" and os.path.realpath(args.checkpoint) in seen:
        parser.error(f"--confusion would overwrite the checkpoint {args.checkpoint}")
    if args.command == "train" and args.checkpoint is not None:
        lock = str(CheckpointLock(args.checkpoint).lock_path)
        if lock in seen:
            parser.error(f"--{seen[lock]} names {lock}, the lock file of --checkpoint, which the run removes")


def check_existing(parser: argparse.ArgumentParser, args: argparse.Namespace, resume: bool) -> None:
    """Refuse to start a new run over an existing checkpoint or metrics file, unless ``--overwrite``."""
    if args.overwrite and (args.resume or args.auto_resume):
        flag = "--resume" if args.resume else "--auto-resume"
        parser.error(f"--overwrite starts a new run and {flag} continues one: give one of them")
    if resume or args.overwrite:
        return
    if args.checkpoint is not None and os.path.lexists(args.checkpoint):
        parser.error(
            f"--checkpoint {args.checkpoint} already exists: pass --resume (or --auto-resume) to "
            "continue that run, --overwrite to replace it, or another path"
        )
    if args.metrics is not None and os.path.lexists(args.metrics):
        parser.error(
            f"--metrics {args.metrics} already exists: pass --overwrite to replace it, or another path "
            "(a resumed run appends to its metrics file)"
        )
