"""``summary``: a network's modules, their output shapes and their parameter counts, as a table."""

from collections.abc import Sequence

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.module import Module, ModuleBase
from minitorch_nn.modules.container import Sequential
from minitorch_nn.tracing import watch_forward

__all__ = ["summary"]


def one_line(module: ModuleBase) -> str:
    """``repr(module)`` if it fits on one line, else ``ClassName(<its extra_repr>)``."""
    text = repr(module)
    return text if "\n" not in text else f"{type(module).__name__}({module.extra_repr()})"


def summary(model: Module, input_shape: Sequence[int], *, dtype: torch.dtype | None = None) -> str:
    """A table of ``model``'s modules in the order its forward pass runs them, their outputs and parameters.

    One forward pass of a batch of two zero samples is run in evaluation mode
    (the model's mode is restored afterwards), so the output shapes are the
    real ones, whatever the composition: every module without children gets
    a row, and so does every container other than ``Sequential`` (a
    ``Residual`` or ``Concat`` row shows the shape after the merge). A row's
    parameters are the ones its module holds itself, not through children,
    so the column adds up to the total (unless a ``shared_copy`` counts its
    weights again). The path names the module's place (``[1].body[0]``: the
    first child of the body of the second child).

    Args:
        model: the network.
        input_shape: the shape of one sample, without the batch dimension, e.g. ``(784,)``.
        dtype: the dtype of the probe batch. Default: that of the first parameter.

    Example:
        >>> import minitorch_nn as mn
        >>> print(summary(mn.Sequential(mn.Linear(784, 50), mn.Tanh(), mn.Linear(50, 10)), (784,)))
        Layer  Module                                    Output shape  Parameters
        [0]    Linear(in_features=784, out_features=50)  (N, 50)           39,250
        [1]    Tanh()                                    (N, 50)                0
        [2]    Linear(in_features=50, out_features=10)   (N, 10)              510
        Total parameters: 39,760 (input: (N, 784))
        >>> block = mn.Residual(mn.Sequential(mn.Linear(4, 4), mn.ReLU()))
        >>> print(summary(block, (4,)))
        Layer     Module                                 Output shape  Parameters
        .body[0]  Linear(in_features=4, out_features=4)  (N, 4)                20
        .body[1]  ReLU()                                 (N, 4)                 0
        -         Residual()                             (N, 4)                 0
        Total parameters: 20 (input: (N, 4))
    """
    first = next(iter(model.parameters()), None)
    dtype = dtype or (first.dtype if first is not None else torch.get_default_dtype())
    device = first.device if first is not None else None
    rows: list[tuple[str, str, str, int]] = []

    def record(path: str, module: Module, output: Tensor | None) -> None:
        if isinstance(module, Sequential) or output is None:
            return
        own = sum(p.value.numel() for name, p in module.named_parameters() if "." not in name)
        shape = "(N, " + ", ".join(str(s) for s in output.shape[1:]) + ")"
        rows.append((path or "-", one_line(module), shape, own))

    was_training = model.training
    model.eval()
    try:
        with watch_forward(model, record):
            model.forward(torch.zeros(2, *input_shape, dtype=dtype, device=device))
    finally:
        model.train(was_training)
    header = ("Layer", "Module", "Output shape", "Parameters")
    widths = [max(len(header[i]), *(len(str(r[i])) for r in rows)) for i in range(3)]
    counts = [f"{r[3]:,}" for r in rows]
    count_width = max(len(header[3]), *(len(c) for c in counts))
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)) + "  " + header[3]]
    for row, count in zip(rows, counts, strict=True):
        cells = "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=False))
        lines.append(f"{cells}  {count.rjust(count_width)}")
    total = sum(p.value.numel() for p in model.parameters())
    sample = "(N, " + ", ".join(str(s) for s in input_shape) + ")"
    lines.append(f"Total parameters: {total:,} (input: {sample})")
    return "\n".join(lines)
