"""The reference job: the course notebook's two-layer MNIST network, trained by full-batch SGD.

Recipe (as in the notebook): the reduced 1000/1000 MNIST split, normalised by
one scalar mean and std, one-hot 0/1 targets, inputs multiplied by
zeta = 0.9; ``Sequential(Linear(784, 50), Tanh(), Linear(50, 10), Tanh())``
with every weight and bias drawn from N(0, 1e-6²) right after
``torch.manual_seed(seed)``; summed squared error; one full-batch gradient
step per iteration with lr = 0.1 / N. Each iteration prints the loss and the
train error of its forward pass (before the step), and the test error after
the step:

    python examples/two_layer_mnist.py --epochs 200
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from minitorch_nn import SGD, Linear, MSELoss, Sequential, Tanh, init
from minitorch_nn.data import load_data

ZETA = 0.9
HIDDEN = 50
INIT_STD = 1e-6


def count_errors(output: Tensor, target: Tensor) -> int:
    """Samples whose arg-max output class has a target below 0.5."""
    predicted = output.argmax(dim=1, keepdim=True)
    return int((target.gather(1, predicted) < 0.5).sum().item())


def build_model(seed: int) -> Sequential:
    """The 784-50-10 tanh network, every parameter drawn from N(0, 1e-6²) after ``manual_seed(seed)``."""
    model = Sequential(Linear(784, HIDDEN), Tanh(), Linear(HIDDEN, 10), Tanh())
    torch.manual_seed(seed)
    for param in model.parameters():  # w1, b1, w2, b2: the notebook's order
        init.normal_(param, 0.0, INIT_STD)
    return model


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=200, help="training iterations (default: 200)")
    parser.add_argument("--full", action="store_true", help="use all 60000/10000 images, not 1000/1000")
    parser.add_argument("--data-dir", type=Path, default=None, help="folder with the MNIST .gz files")
    parser.add_argument("--seed", type=int, default=0, help="seed of torch.manual_seed (default: 0)")
    parser.add_argument(
        "--zeta-on",
        choices=("inputs", "targets"),
        default="inputs",
        help="scale the inputs (the notebook) or the targets (the later solution) by 0.9",
    )
    args = parser.parse_args(argv)
    if args.epochs < 0:
        parser.error(f"--epochs must be >= 0, got {args.epochs}")
    return args


def main(argv: Sequence[str] | None = None) -> Sequential:
    """Train as the notebook does, printing one line per iteration; return the trained model."""
    args = parse_args(argv)
    train_input, train_target, test_input, test_target = load_data(
        args.data_dir, full=args.full, one_hot=True, normalize=True
    )
    if args.zeta_on == "inputs":
        train_input, test_input = train_input * ZETA, test_input * ZETA
    else:
        train_target, test_target = train_target * ZETA, test_target * ZETA

    model = build_model(args.seed)
    criterion = MSELoss(reduction="sum")
    optimizer = SGD(model.parameters(), lr=0.1 / train_input.shape[0])

    for k in range(args.epochs):
        optimizer.zero_grad()
        output = model(train_input)
        loss = criterion(output, train_target)
        # backward would also return d loss / d input, the (1000, 784) gradient with respect to the
        # data that nothing here uses; accumulate_grad adds the parameter gradients only.
        model.accumulate_grad(criterion.backward())
        optimizer.step()

        train_error = 100 * count_errors(output, train_target) / train_input.shape[0]
        test_error = 100 * count_errors(model(test_input), test_target) / test_input.shape[0]
        print(
            f"{k:d} acc_train_loss {loss.item():.02f} acc_train_error {train_error:.02f}% "
            f"test_error {test_error:.02f}%"
        )
        sys.stdout.flush()
    return model


if __name__ == "__main__":
    main()
