"""Leaving for production: the two-layer MNIST network as an ONNX file, run by onnxruntime.

Trains the reference network of ``two_layer_mnist.py`` (784-50-10 tanh,
full-batch SGD on the shipped 1000/1000 split, inputs scaled by 0.9), or loads
its weights from a checkpoint (``minitorch-nn train --preset two-layer
--checkpoint run.safetensors`` writes one). Then ``minitorch_nn.interop``
converts it to torch.nn (``to_torch``) and ``torch.onnx.export`` writes the ONNX
file (``export_onnx`` does both). onnxruntime runs the file on the test set: its
predictions (arg-max) must be those of the minitorch_nn network, and the
largest difference of the outputs is printed. Everything runs offline. Needs
``pip install "minitorch_nn[onnx]"`` (onnx, onnxscript, onnxruntime).

    python examples/export_onnx.py --epochs 200 --output two_layer.onnx
    python examples/export_onnx.py --checkpoint run.safetensors --output two_layer.onnx
"""

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor
from two_layer_mnist import ZETA, build_model

from minitorch_nn import SGD, MSELoss, Sequential
from minitorch_nn.checkpoint import load_checkpoint, output_path_problem
from minitorch_nn.data import load_data
from minitorch_nn.interop import export_onnx

NEEDED = ("onnx", "onnxscript", "onnxruntime")


class Report(NamedTuple):
    """What the check found on the test set."""

    samples: int
    same_predictions: int
    max_abs_difference: float
    accuracy: float


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=200, help="training iterations (default: 200)")
    parser.add_argument("--checkpoint", type=Path, help="load the weights from this checkpoint, do not train")
    parser.add_argument("--output", type=Path, default=Path("two_layer.onnx"), help="the ONNX file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default: 0)")
    args = parser.parse_args(argv)
    if args.epochs < 0:
        parser.error(f"--epochs must be >= 0, got {args.epochs}")
    if args.checkpoint is not None and not args.checkpoint.is_file():
        parser.error(f"--checkpoint: no such file: {args.checkpoint}")
    problem = output_path_problem(args.output)
    if problem is not None:
        parser.error(f"--output: {problem}")
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        parser.error(f"needs {', '.join(missing)}, not installed: pip install 'minitorch_nn[onnx]'")
    return args


def train(model: Sequential, inputs: Tensor, targets: Tensor, epochs: int) -> None:
    """Full-batch SGD on the summed squared error, lr = 0.1 / N, as ``two_layer_mnist.py``."""
    criterion = MSELoss(reduction="sum")
    optimizer = SGD(model.parameters(), lr=0.1 / inputs.shape[0])
    for _ in range(epochs):
        optimizer.zero_grad()
        criterion(model(inputs), targets)
        model.accumulate_grad(criterion.backward())
        optimizer.step()


def run_onnx(path: Path, inputs: Tensor) -> Tensor:
    """The ONNX file's output for ``inputs``, computed by onnxruntime on the CPU."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"input": inputs.numpy()})
    return torch.from_numpy(output)


def compare(model: Sequential, path: Path, inputs: Tensor, labels: Tensor) -> Report:
    """onnxruntime's outputs against the minitorch_nn network's, on the same inputs."""
    ours = model.eval()(inputs)
    theirs = run_onnx(path, inputs)
    same = int((ours.argmax(dim=1) == theirs.argmax(dim=1)).sum())
    accuracy = float((theirs.argmax(dim=1) == labels).double().mean())
    return Report(inputs.shape[0], same, float((ours - theirs).abs().max()), accuracy)


def main(argv: Sequence[str] | None = None) -> tuple[Sequential, Report]:
    """Train or load, export, run with onnxruntime, compare and print; return the network and the report."""
    args = parse_args(argv)
    train_input, train_target, test_input, test_target = load_data(None, one_hot=True, normalize=True)
    train_input, test_input = train_input * ZETA, test_input * ZETA
    model = build_model(args.seed)
    if args.checkpoint is not None:
        saved = load_checkpoint(args.checkpoint, model, restore_rng=False)
        print(f"loaded {args.checkpoint} (epoch {saved.epoch})")
    else:
        train(model, train_input, train_target, args.epochs)
        print(f"trained {args.epochs} epochs")
    export_onnx(model.eval(), args.output, test_input[:2])
    report = compare(model, args.output, test_input, test_target.argmax(dim=1))
    print(f"wrote {args.output}")
    print(
        f"onnxruntime on {report.samples} test images: {report.same_predictions} of {report.samples} "
        f"predictions identical, max abs difference of outputs {report.max_abs_difference:.2e}, "
        f"accuracy {report.accuracy:.2%}"
    )
    if report.same_predictions != report.samples:
        print("error: onnxruntime's predictions differ from minitorch_nn's", file=sys.stderr)
        raise SystemExit(1)
    return model, report


if __name__ == "__main__":
    main()
