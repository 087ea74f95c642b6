"""``summary``: a network's layers, their output shapes and their parameter counts, as a table."""

from collections.abc import Sequence

import torch

from minitorch_nn.module import Module
from minitorch_nn.modules.container import leaves

__all__ = ["summary"]


def summary(model: Module, input_shape: Sequence[int], *, dtype: torch.dtype | None = None) -> str:
    """A table of ``model``'s layers (nested ``Sequential`` flattened), output shapes and parameter counts.

    One forward pass of a batch of two zero samples is run in evaluation mode
    (the model's mode is restored afterwards), so the output shapes are the real ones.

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
    """
    first = next(iter(model.parameters()), None)
    dtype = dtype or (first.dtype if first is not None else torch.get_default_dtype())
    device = first.device if first is not None else None
    was_training = model.training
    model.eval()
    try:
        output = torch.zeros(2, *input_shape, dtype=dtype, device=device)
        rows: list[tuple[str, str, str, int]] = []
        for path, module in leaves(model):
            output = module.forward(output)
            shape = "(N, " + ", ".join(str(s) for s in output.shape[1:]) + ")"
            size = sum(p.value.numel() for p in module.parameters())
            rows.append((path or "-", repr(module), shape, size))
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
    total = sum(r[3] for r in rows)
    sample = "(N, " + ", ".join(str(s) for s in input_shape) + ")"
    lines.append(f"Total parameters: {total:,} (input: {sample})")
    return "\n".join(lines)
