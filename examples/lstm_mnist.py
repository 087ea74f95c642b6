"""An LSTM reads MNIST row by row: 28 time steps of 28 pixels; its last hidden state classifies.

The network:

    Flatten(1, 2)                      (N, 1, 28, 28) -> (N, 28, 28): 28 rows of 28 pixels
    LSTM(28, 128, batch_first=True)    (N, 28, 128): the hidden state after each row
    Select(1, -1)                      (N, 128): the state after the last row
    Linear(128, 10)                    (N, 10): the logits

Training: cross-entropy, Adam (peak learning rate 2e-3, set per step along a
cosine to 0), batch 128, 6 epochs, pixels normalised by the training set's
mean and standard deviation. ``LSTM.backward`` is backpropagation through
time, written out in ``minitorch_nn/modules/rnn.py`` (see the tutorial
``docs/sequences.md``).

    python examples/lstm_mnist.py --data-dir ../shared/data/mnist

prints one line per epoch and the final test accuracy.
"""

import argparse
import math
from collections.abc import Sequence

import torch
from common import (
    Run,
    ScheduledTrainer,
    add_image_flags,
    check_args,
    cosine_lr,
    image_data,
    parser,
    train_epochs,
)

import minitorch_nn as mn


def lstm_classifier(hidden: int = 128, generator: torch.Generator | None = None) -> mn.Sequential:
    """Flatten(1, 2) - LSTM(28, hidden, batch_first=True) - Select(1, -1) - Linear(hidden, 10)."""
    return mn.Sequential(
        mn.Flatten(1, 2),
        mn.LSTM(28, hidden, batch_first=True, generator=generator),
        mn.Select(1, -1),
        mn.Linear(hidden, 10, generator=generator),
    )


def trainer(model: mn.Module, peak_lr: float, total_steps: int) -> ScheduledTrainer:
    """Cross-entropy and Adam, the learning rate along a cosine from ``peak_lr`` to 0."""
    optimizers: list[mn.OptimizerBase] = [mn.Adam(model.parameters(), lr=peak_lr)]
    return ScheduledTrainer(
        model, mn.CrossEntropyLoss(), optimizers, lambda step: cosine_lr(step, total_steps, peak_lr)
    )


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "", epochs=6, batch_size=128, lr=2e-3)
    p.add_argument("--hidden", type=int, default=128, help="hidden size of the LSTM (default: 128)")
    add_image_flags(p)
    return p


def main(argv: Sequence[str] | None = None) -> Run:
    p = build_parser()
    args = p.parse_args(argv)
    check_args(p, args)
    if args.hidden < 1:
        p.error(f"--hidden must be >= 1, got {args.hidden}")
    (train_x, train_y), (test_x, test_y) = image_data(args, "mnist")
    generator = torch.Generator().manual_seed(args.seed)
    model = lstm_classifier(args.hidden, generator)
    total = args.epochs * math.ceil(len(train_x) / args.batch_size)
    print(
        f"{sum(p.value.numel() for p in model.parameters()):,} parameters, {torch.get_num_threads()} threads"
    )
    run = train_epochs(
        trainer(model, args.lr, total), (train_x, train_y), (test_x, test_y),
        epochs=args.epochs, batch_size=args.batch_size, generator=generator,
    )  # fmt: skip
    final = run.test_accuracy[-1] if run.test_accuracy else 0.0
    print(f"final test accuracy {100 * final:.2f}% after {run.train_seconds / 60:.1f} min of training")
    return run


if __name__ == "__main__":
    main()
