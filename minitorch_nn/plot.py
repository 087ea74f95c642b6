"""Plots with matplotlib: learning curves and confusion matrices, as PNG files.

matplotlib is imported only when a plot is drawn, with the non-interactive
``Agg`` backend, so neither the package nor a headless server needs a display.
The PNG is written atomically (``checkpoint.atomic_write``): through a
symlink to its target, never over a folder or a device, and never half-way.
"""

import io
import os
from collections.abc import Sequence
from typing import Any

from minitorch_nn._types import Tensor
from minitorch_nn.checkpoint.io import atomic_write
from minitorch_nn.history import History

__all__ = ["plot_confusion", "plot_history", "save_figure"]


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
