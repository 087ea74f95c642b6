"""Swap the activation of the deeper Fashion-MNIST MLP and compare: a table and a plot.

Each activation trains the same 784-256-128-100-10 network with the same seed
and recipe; the table gives the final test accuracy and the training time,
the plot the learning curves (matplotlib, a dependency of the package):

    python examples/swap_activations.py --data-dir ../shared/data/fashion-mnist --plot activations.png
"""

from collections.abc import Sequence
from pathlib import Path

from common import History, check_args
from deeper_fashion_mnist import build_parser, train

import minitorch_nn as mn

ACTIVATIONS: dict[str, type[mn.Module]] = {
    "ReLU": mn.ReLU,
    "LeakyReLU": mn.LeakyReLU,
    "ELU": mn.ELU,
    "GELU": mn.GELU,
    "SiLU": mn.SiLU,
    "Softplus": mn.Softplus,
    "Tanh": mn.Tanh,
    "Sigmoid": mn.Sigmoid,
}


def table(results: dict[str, History]) -> str:
    """A markdown table: activation, final test accuracy, best test accuracy, training time."""
    lines = [
        "| activation | final test accuracy | best test accuracy | training time |",
        "| --- | --- | --- | --- |",
    ]
    for name, h in results.items():
        final = f"{100 * h.test_accuracy[-1]:.2f} %" if h.test_accuracy else "-"
        best = f"{100 * max(h.test_accuracy):.2f} %" if h.test_accuracy else "-"
        lines.append(f"| {name} | {final} | {best} | {sum(h.seconds):.1f} s |")
    return "\n".join(lines)


def plot(results: dict[str, History], path: Path) -> None:
    """Training loss and test accuracy per epoch, one line per activation."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit('--plot needs matplotlib: pip install ".[plot]"') from None
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for name, h in results.items():
        epochs = range(1, len(h.train_loss) + 1)
        loss_ax.plot(epochs, h.train_loss, label=name)
        acc_ax.plot(epochs, [100 * a for a in h.test_accuracy], label=name)
    loss_ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title="Training loss")
    acc_ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    acc_ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> dict[str, History]:
    p = build_parser()
    p.add_argument("--plot", type=Path, default=None, help="write the learning curves to this PNG")
    p.set_defaults(epochs=10)
    args = p.parse_args(argv)
    check_args(p, args)
    results = {}
    for name, activation in ACTIVATIONS.items():
        print(f"== {name}", flush=True)
        results[name] = train(args, activation, log=False)
    print(table(results))
    if args.plot is not None:
        plot(results, args.plot)
    return results


if __name__ == "__main__":
    main()
