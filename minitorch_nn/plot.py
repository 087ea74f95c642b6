"""Plots with matplotlib: learning curves and confusion matrices, as PNG files.

matplotlib is imported only when a plot is drawn, with the non-interactive
``Agg`` backend, so neither the package nor a headless server needs a display.
The PNG is written atomically (``checkpoint.atomic_write``): through a
symlink to its target, never over a folder or a device, and never half-way.
"""

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

from minitorch_nn._types import Tensor
from minitorch_nn.checkpoint.io import atomic_write
from minitorch_nn.history import History

__all__ = ["plot_confusion", "plot_diagnostics", "plot_history", "save_figure"]


def _pyplot() -> Any:  # matplotlib.pyplot, imported lazily
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(
            "plotting needs matplotlib, a dependency of minitorch_nn: pip install matplotlib"
        ) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: History, path: str | os.PathLike[str], *, title: str | None = None) -> None:
    """Write a PNG of the learning curves: the training loss, and the train and eval error, per epoch.

    Args:
        history: what ``fit`` returned (or a checkpoint's ``history``).
        path: the PNG file to write.
        title: a title over both panels. Default: none.

    Raises:
        ValueError: if ``path`` does not end in ``.png``.
        OutputPathError: if ``path`` is a folder, a device or another non-regular file.

    Example:
        >>> import tempfile, pathlib
        >>> from minitorch_nn.history import EpochRecord
        >>> history = History([EpochRecord(1, 0.9, 0.3, 0.8, 0.35), EpochRecord(2, 0.5, 0.2, 0.6, 0.25)])
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "curves.png"
        >>> plot_history(history, path, title="demo")
        >>> path.read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        True
    """
    _png("plot_history", path)
    plt = _pyplot()
    epochs = [r.epoch for r in history]
    marker = "." if len(epochs) <= 50 else None
    figure, (loss_axes, error_axes) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, history.train_loss, marker=marker, label="train loss")
    if any(v is not None for v in history.eval_loss):
        loss_axes.plot(epochs, _nan(history.eval_loss), marker=marker, label="test loss")
    loss_axes.set(xlabel="epoch", ylabel="loss", title="loss")
    loss_axes.legend()
    for values, label in ((history.train_error, "train error"), (history.eval_error, "test error")):
        if any(v is not None for v in values):
            error_axes.plot(epochs, [100 * v for v in _nan(values)], marker=marker, label=label)
    error_axes.set(xlabel="epoch", ylabel="error (%)", title="classification error")
    error_axes.legend()
    for axes in (loss_axes, error_axes):
        axes.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    save_figure(figure, path)


def save_figure(figure: Any, path: str | os.PathLike[str]) -> None:
    """Write a matplotlib ``figure`` to ``path`` as a PNG, atomically, and close the figure.

    The image is rendered in memory first, so a failure leaves the old file (or
    none) in place, never half a PNG; the figure is closed either way. This is
    how ``plot_history`` and ``plot_confusion`` write, and what the examples use
    for their own figures.

    Raises:
        ValueError: if ``path`` does not end in ``.png``.

    Example:
        >>> import pathlib, tempfile
        >>> plt = _pyplot()
        >>> figure, axes = plt.subplots()
        >>> _ = axes.plot([0, 1], [1, 0])
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "line.png"
        >>> save_figure(figure, path)
        >>> path.read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        True
    """
    _png("save_figure", path)
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=100)
    finally:
        _pyplot().close(figure)
    atomic_write(path, buffer.getvalue())


def _png(owner: str, path: str | os.PathLike[str]) -> None:
    if not os.fspath(path).lower().endswith(".png"):
        raise ValueError(f"{owner}: expected a .png path, got {os.fspath(path)!r}")


def _nan(values: Sequence[float | None]) -> list[float]:
    return [float("nan") if v is None else v for v in values]


def plot_confusion(
    matrix: Tensor, path: str | os.PathLike[str], *, class_names: Sequence[str] | None = None
) -> None:
    """Write a PNG of a confusion matrix (rows: true class, columns: predicted), counts in the cells.

    Example:
        >>> import tempfile, pathlib, torch
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "confusion.png"
        >>> plot_confusion(torch.tensor([[5, 1], [2, 7]]), path, class_names=["no", "yes"])
        >>> path.stat().st_size > 0
        True
    """
    _png("plot_confusion", path)
    plt = _pyplot()
    count = matrix.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(count)]
    figure, axes = plt.subplots(figsize=(1.0 + 0.6 * count, 1.0 + 0.6 * count))
    axes.imshow(matrix.cpu().numpy(), cmap="Blues")
    high = float(matrix.max()) / 2
    for i in range(count):
        for j in range(count):
            value = int(matrix[i, j])
            axes.text(j, i, str(value), ha="center", va="center", color="white" if value > high else "black")
    axes.set(xticks=range(count), yticks=range(count), xlabel="predicted", ylabel="true class")
    axes.set_xticklabels(names, rotation=45, ha="right")
    axes.set_yticklabels(names)
    figure.tight_layout()
    save_figure(figure, path)


def plot_diagnostics(epochs: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """Write a PNG of per-layer diagnostics over the epochs: gradient norms, update ratios, unit health.

    Three panels, one line per layer: the mean norm of each layer's weight gradient (log scale); the
    mean update ratio ``|Δθ| / |θ|`` of each weight (log scale, the healthy 1e-3 dashed); and the
    fraction of saturated (Tanh, Sigmoid) or dead (ReLU) units.

    Args:
        epochs: ``History.diagnostics`` (``EpochDiagnostics.to_dict()`` of each epoch), or the
            ``diagnostics`` entries of a metrics file's lines.
        path: the PNG file to write.

    Raises:
        ValueError: if ``path`` does not end in ``.png``.

    Example:
        >>> import tempfile, pathlib
        >>> weight = {"grad_norm": 0.1, "update_ratio": 1e-3}
        >>> layers = [{"layer": "[0] Linear(2, 2)", "parameters": {"weight": weight}, "dead": None,
        ...            "saturated": None}, {"layer": "[1] ReLU()", "parameters": {}, "dead": 0.25,
        ...            "saturated": None}]
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "diagnostics.png"
        >>> plot_diagnostics([{"epoch": 1, "layers": layers}, {"epoch": 2, "layers": layers}], path)
        >>> path.read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        True
    """
    _png("plot_diagnostics", path)
    plt = _pyplot()
    numbers = [int(epoch["epoch"]) for epoch in epochs]
    series: dict[str, dict[str, list[float]]] = {"grad": {}, "update": {}, "units": {}}
    for index, epoch in enumerate(epochs):
        for layer in epoch["layers"]:
            name, weight = layer["layer"], layer["parameters"].get("weight")
            values = {
                "grad": weight.get("grad_norm") if weight else None,
                "update": weight.get("update_ratio") if weight else None,
                "units": layer["dead"] if layer.get("dead") is not None else layer.get("saturated"),
            }
            for key, value in values.items():
                if value is not None:
                    line = series[key].setdefault(name, [float("nan")] * len(epochs))
                    line[index] = float(value)
    figure, panels = plt.subplots(1, 3, figsize=(15, 4))
    titles = {"grad": "weight gradient norm", "update": "update ratio |Δθ| / |θ|",
              "units": "saturated (tanh, sigmoid) or dead (ReLU) fraction"}  # fmt: skip
    for axes, (key, lines) in zip(panels, series.items(), strict=True):
        for name, points in lines.items():
            axes.plot(numbers, points, marker="." if len(numbers) <= 50 else None, label=name)
        if key != "units" and lines:
            axes.set_yscale("log")
        if key == "update":
            axes.axhline(1e-3, color="grey", linestyle="--", linewidth=1)
        if key == "units":
            axes.set_ylim(-0.02, 1.02)
        axes.set(xlabel="epoch", title=titles[key])
        axes.grid(alpha=0.3)
        if lines:
            axes.legend(fontsize="small")
    figure.tight_layout()
    save_figure(figure, path)
