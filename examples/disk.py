"""The course's toy problem: is a point of the unit square inside the centred disk of area 1/2?

1000 training and 1000 test points uniform in [0, 1]^2, label 1 inside the disk
centred at (0.5, 0.5) with radius 1/sqrt(2 pi), 0 outside. The network has 2
inputs, three hidden layers of 25 units and 2 outputs, trained with MSE
against one-hot targets by SGD:

    python examples/disk.py
"""

from collections.abc import Sequence

import torch
from common import check_args, parser
from torch import Tensor

import minitorch_nn as mn
from minitorch_nn.data import TensorLoader, disk_data, one_hot


def network(generator: torch.Generator) -> mn.Sequential:
    return mn.Sequential(
        mn.Linear(2, 25, generator=generator),
        mn.ReLU(),
        mn.Linear(25, 25, generator=generator),
        mn.ReLU(),
        mn.Linear(25, 25, generator=generator),
        mn.ReLU(),
        mn.Linear(25, 2, generator=generator),
    )


def error_rate(model: mn.Module, input: Tensor, labels: Tensor) -> float:
    return float((model(input).argmax(dim=1) != labels).double().mean())


def main(argv: Sequence[str] | None = None) -> tuple[float, float]:
    """Train; print and return the final train and test error rates."""
    p = parser(__doc__ or "", epochs=250, batch_size=100, lr=0.1, data=False)
    args = p.parse_args(argv)
    check_args(p, args)
    generator = torch.Generator().manual_seed(args.seed)
    train_input, train_labels, test_input, test_labels = disk_data(1000, generator)
    train_target = one_hot(train_labels, 2)

    model = network(generator)
    criterion = mn.MSELoss()
    optimizer = mn.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loader = TensorLoader(
        train_input, train_target, batch_size=args.batch_size, shuffle=True, generator=generator
    )
    for epoch in range(args.epochs):
        for input, target in loader:
            optimizer.zero_grad()
            criterion(model(input), target)
            model.accumulate_grad(criterion.backward())
            optimizer.step()
        if (epoch + 1) % 50 == 0 or epoch + 1 == args.epochs:
            train_error = error_rate(model, train_input, train_labels)
            test_error = error_rate(model, test_input, test_labels)
            print(f"epoch {epoch + 1:4d}  train error {train_error:.2%}  test error {test_error:.2%}")
    return error_rate(model, train_input, train_labels), error_rate(model, test_input, test_labels)


if __name__ == "__main__":
    main()
