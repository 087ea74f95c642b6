"""A small CNN on full MNIST: Conv2d, ReLU, MaxPool2d, Flatten, Linear; every backward by hand.

python examples/cnn_mnist.py --data-dir ../shared/data/mnist
"""

from collections.abc import Sequence

import torch
from common import History, check_args, fit, limit, parser

import minitorch_nn as mn
from minitorch_nn.data import load_data


def cnn(generator: torch.Generator | None = None) -> mn.Sequential:
    """(N, 1, 28, 28) -> conv 5x5 (16) -> pool -> conv 5x5 (32) -> pool -> 512 -> 10."""
    return mn.Sequential(
        mn.Conv2d(1, 16, 5, generator=generator),
        mn.ReLU(),
        mn.MaxPool2d(2),
        mn.Conv2d(16, 32, 5, generator=generator),
        mn.ReLU(),
        mn.MaxPool2d(2),
        mn.Flatten(),
        mn.Linear(32 * 4 * 4, 10, generator=generator),
    )


def main(argv: Sequence[str] | None = None) -> History:
    p = parser(__doc__ or "", epochs=3, batch_size=64, lr=1e-3)
    args = p.parse_args(argv)
    check_args(p, args)
    torch.manual_seed(args.seed)
    train_input, train_target, test_input, test_target = load_data(
        args.data_dir, full=True, normalize=True, flatten=False
    )
    train_input, train_target = limit((train_input, train_target), args.limit)
    generator = torch.Generator().manual_seed(args.seed)
    model = cnn(generator)
    optimizer = mn.Adam(model.parameters(), lr=args.lr)
    history = fit(
        model,
        mn.CrossEntropyLoss(),
        optimizer,
        (train_input, train_target),
        (test_input, test_target),
        epochs=args.epochs,
        batch_size=args.batch_size,
        generator=generator,
    )
    if history.test_accuracy:
        print(f"final test accuracy {100 * history.test_accuracy[-1]:.2f}% in {sum(history.seconds):.0f} s")
    return history


if __name__ == "__main__":
    main()
