"""Why is my network stuck? Three stuck trainings, what ``Diagnostics`` says about each, and the cure.

1. The reference job's plateau: the course's N(0, 1e-6²) initialisation leaves
   the first layer's gradient a millionth of its weights (vanishing) while the
   train error sits at 88.3 %; torch's default initialisation leaves the
   plateau at once.
2. A ReLU network with too large a learning rate: most of its units die; a
   sane learning rate keeps them alive.
3. A deep Sigmoid network: the gradient shrinks layer by layer on its way down
   (vanishing); the same network with Tanh does not.

Every run has a fixed seed and the shipped 1000/1000 MNIST split (offline),
with ``Diagnostics(model, every=1)`` measuring every step:

    python examples/why_stuck.py --figures docs
"""

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import Tensor

import minitorch_nn as mn
from minitorch_nn.data import load_data
from minitorch_nn.diagnostics import Diagnostics, EpochDiagnostics

ZETA = 0.9  # the reference job scales its inputs by 0.9
PLATEAU_ITERATIONS = 30
PLATEAU_SHOWN = 15  # the verdicts printed after iterations 15 and 30
RELU_EPOCHS = 5
DEEP_EPOCHS = 5
DEEP_LAYERS = 8

Curves = tuple[list[float], list[float], list[float]]
"""Per iteration: the train error, the first layer's weight gradient norm, the gradient's fall."""


def error_rate(output: Tensor, labels: Tensor) -> float:
    """Percentage of samples whose arg-max class is not the label."""
    return 100.0 * float((output.argmax(dim=1) != labels).float().mean())


def two_layer(seed: int, course_init: bool) -> mn.Sequential:
    """The reference job's 784-50-10 Tanh network: the course's N(0, 1e-6²) init, or torch's default."""
    torch.manual_seed(seed)
    model = mn.Sequential(mn.Linear(784, 50), mn.Tanh(), mn.Linear(50, 10), mn.Tanh())
    if course_init:
        torch.manual_seed(seed)
        for param in model.parameters():
            mn.init.normal_(param, 0.0, 1e-6)
    return model


def train(
    model: mn.Sequential,
    loss: mn.Loss,
    lr: float,
    data: tuple[Tensor, Tensor, Tensor],
    *,
    epochs: int,
    batch_size: int,
    seed: int,
) -> tuple[list[EpochDiagnostics], list[float]]:
    """SGD with ``Diagnostics(every=1)``; the diagnostics of each epoch and the train error after it."""
    input, target, labels = data
    optimizer = mn.SGD(model.parameters(), lr=lr)
    diagnostics = Diagnostics(model, every=1)
    generator = torch.Generator().manual_seed(seed)
    errors = []
    try:
        for _ in range(epochs):
            order = torch.randperm(input.shape[0], generator=generator)
            for start in range(0, input.shape[0], batch_size):
                index = order[start : start + batch_size]
                diagnostics.start_step()
                optimizer.zero_grad()
                loss(model(input[index]), target[index])
                model.accumulate_grad(loss.backward())
                diagnostics.before_update(optimizer.params)
                optimizer.step()
                diagnostics.end_step()
            diagnostics.end_epoch()
            errors.append(error_rate(model(input), labels))
    finally:
        diagnostics.remove()
    return diagnostics.epochs, errors


def print_verdicts(title: str, epoch: EpochDiagnostics) -> None:
    print(f"{title}: {len(epoch.verdicts)} verdict(s) after epoch {epoch.epoch}")
    for verdict in epoch.verdicts:
        print(f"  {verdict.message}")


def fall(epoch: EpochDiagnostics) -> float:
    """The gradient reaching the first layer's output over the gradient leaving the last layer."""
    grads = [layer.input_grad_norm for layer in epoch.layers[1:] if layer.input_grad_norm is not None]
    return grads[0] / grads[-1]


def plateau(train_input: Tensor, train_target: Tensor, labels: Tensor, iterations: int) -> dict[str, Curves]:
    """Story 1: full-batch SGD (lr 0.1 / N, summed squared error) with each initialisation."""
    curves: dict[str, Curves] = {}
    data = (train_input * ZETA, train_target, labels)
    found: dict[str, list[EpochDiagnostics]] = {}
    for name, course in (("N(0, 1e-6²)", True), ("default", False)):
        model = two_layer(0, course)
        first = error_rate(model(data[0]), labels)
        epochs, after = train(
            model, mn.MSELoss(reduction="sum"), 0.1 / train_input.shape[0], data,
            epochs=iterations, batch_size=train_input.shape[0], seed=0,
        )  # fmt: skip
        # the train error of each iteration's forward pass (before its step), as the reference job prints
        errors = [first, *after[:-1]]
        grads = [e.layers[0].parameters["weight"].grad_norm for e in epochs]
        falls = [fall(e) for e in epochs]
        curves[name] = (errors, grads, falls)
        found[name] = epochs
    print(
        "story 1: iteration, train error, first layer |grad w|, gradient reaching it / leaving the last layer"
    )
    print("       N(0, 1e-6²) init             | torch default init")
    small, default = curves["N(0, 1e-6²)"], curves["default"]
    for k in range(iterations):
        print(
            f"  {k:2d}  {small[0][k]:5.1f} %  {small[1][k]:.1e}  {small[2][k]:.0e}"
            f"  |  {default[0][k]:5.1f} %  {default[1][k]:.1e}  {default[2][k]:.0e}"
        )
    for shown in sorted({min(PLATEAU_SHOWN, iterations), iterations}):  # on the plateau, and at the end
        print_verdicts("story 1, N(0, 1e-6²) init", found["N(0, 1e-6²)"][shown - 1])
    print_verdicts("story 1, torch default init", found["default"][-1])
    return curves


def relu_mlp(seed: int) -> mn.Sequential:
    torch.manual_seed(seed)
    return mn.Sequential(mn.Linear(784, 100), mn.ReLU(), mn.Linear(100, 100), mn.ReLU(), mn.Linear(100, 10))


def dead_units(train_input: Tensor, labels: Tensor, epochs: int) -> dict[str, list[list[float]]]:
    """Story 2: a ReLU MLP, cross-entropy, batches of 50, with a learning rate too large and a sane one."""
    found = {}
    for lr in (LR_TOO_HIGH, LR_SANE):
        diagnosed, errors = train(
            relu_mlp(0), mn.CrossEntropyLoss(), lr, (train_input, labels, labels),
            epochs=epochs, batch_size=50, seed=0,
        )  # fmt: skip
        relus = [i for i, layer in enumerate(diagnosed[0].layers) if layer.dead is not None]
        fractions = [[e.layers[i].dead or 0.0 for e in diagnosed] for i in relus]
        found[f"lr {lr:g}"] = fractions
        print(f"story 2, lr {lr:g}: epoch, train error, dead fraction per ReLU layer")
        for k, error in enumerate(errors):
            dead = "  ".join(f"{f[k]:4.0%}" for f in fractions)
            print(f"  {k + 1}  {error:5.1f} %  {dead}")
        print_verdicts(f"story 2, lr {lr:g}", diagnosed[-1])
    return found


LR_TOO_HIGH = 1.0
LR_SANE = 0.05


def deep(seed: int, activation: Callable[[], mn.Module]) -> mn.Sequential:
    torch.manual_seed(seed)
    widths = [784] + [64] * (DEEP_LAYERS - 1) + [10]
    layers: list[mn.Module] = []
    for i in range(DEEP_LAYERS):
        layers.append(mn.Linear(widths[i], widths[i + 1]))
        if i < DEEP_LAYERS - 1:
            layers.append(activation())
    return mn.Sequential(*layers)


def vanishing(train_input: Tensor, labels: Tensor, epochs: int) -> dict[str, list[float]]:
    """Story 3: an 8-layer MLP with Sigmoid, then Tanh; cross-entropy, SGD lr 0.1, batches of 50."""
    found = {}
    for name, activation in (("Sigmoid", mn.Sigmoid), ("Tanh", mn.Tanh)):
        diagnosed, errors = train(
            deep(0, activation), mn.CrossEntropyLoss(), 0.1, (train_input, labels, labels),
            epochs=epochs, batch_size=50, seed=0,
        )  # fmt: skip
        last = diagnosed[-1]
        linears = [layer for layer in last.layers if "weight" in layer.parameters]
        norms = [la.parameters["weight"].grad_norm for la in linears]
        found[name] = norms
        print(f"story 3, {name}: train error per epoch " + " ".join(f"{e:.1f} %" for e in errors))
        print(f"story 3, {name}: weight gradient norm per Linear, first to last, epoch {last.epoch}")
        print("  " + " ".join(f"{n:.1e}" for n in norms))
        print_verdicts(f"story 3, {name}", last)
    return found


def figures(
    folder: Path, stories: tuple[dict[str, Curves], dict[str, list[list[float]]], dict[str, list[float]]]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves, dead, norms = stories
    folder.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, (errors, grads, _) in curves.items():
        left.plot(range(len(errors)), errors, marker=".", label=f"{name} init")
        right.semilogy(range(len(grads)), grads, marker=".", label=f"{name} init")
    left.set(xlabel="iteration", ylabel="train error (%)", title="train error (before each step)")
    right.set(xlabel="iteration", ylabel="|grad w|", title="first layer: weight gradient norm")
    left.legend()
    fig.tight_layout()
    fig.savefig(folder / "why_stuck_plateau.png", dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, (name, fractions) in zip(axes, dead.items(), strict=True):
        for i, f in enumerate(fractions):
            ax.plot(range(1, len(f) + 1), f, marker="o", label=f"ReLU {i + 1}")
        ax.set(xlabel="epoch", title=name, ylim=(-0.02, 1.02), xticks=range(1, len(fractions[0]) + 1))
        ax.legend()
    axes[0].set_ylabel("fraction of dead units")
    fig.tight_layout()
    fig.savefig(folder / "why_stuck_dead.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for name, values in norms.items():
        ax.semilogy(range(1, len(values) + 1), values, marker="o", label=name)
    ax.set(xlabel="Linear layer (1 = first)", ylabel="weight gradient norm", title="gradient per layer")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "why_stuck_vanishing.png", dpi=100)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--figures", type=Path, default=None, help="write the PNGs into this folder")
    parser.add_argument("--quick", action="store_true", help="fewer iterations and epochs (for tests)")
    args = parser.parse_args(argv)
    torch.set_default_dtype(torch.float32)
    train_input, train_target, _, _ = load_data(one_hot=True, normalize=True)
    labels = train_target.argmax(dim=1)
    quick = args.quick
    stories = (
        plateau(train_input, train_target, labels, 10 if quick else PLATEAU_ITERATIONS),
        dead_units(train_input, labels, 2 if quick else RELU_EPOCHS),
        vanishing(train_input, labels, 2 if quick else DEEP_EPOCHS),
    )
    if args.figures is not None:
        figures(args.figures, stories)


if __name__ == "__main__":
    main()
