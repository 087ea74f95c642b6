"""Non-finite values in training: a cheap check every step, and a diagnosis when it fails.

The check costs one reduction per parameter and one host sync per step. The
diagnosis runs only after a failure: it replays the failing batch one module
at a time and names the first module whose forward output, or whose backward
(input or parameter gradient), is not finite.
"""

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.module import Loss, Module
from minitorch_nn.parameter import Parameter
from minitorch_nn.tracing import watch_backward, watch_forward

__all__ = ["NonFiniteError", "first_nonfinite_backward", "first_nonfinite_forward", "grads_are_finite"]


class NonFiniteError(RuntimeError):
    """Training produced a NaN or an infinity; no optimizer step was taken with it.

    Attributes:
        epoch: the epoch (from 1) in which it happened.
        batch: the batch (from 1) within that epoch.
        culprit: which module produced it first, in words.

    Example:
        >>> import minitorch_nn as mn
        >>> model = mn.Sequential(mn.Linear(2, 2), mn.Tanh())
        >>> model[0].weight.value[0] = torch.tensor([float("inf"), -float("inf")])  # inf - inf = nan
        >>> data = (torch.ones(4, 2), torch.tensor([0, 1, 0, 1]))
        >>> try:
        ...     mn.train.fit(model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1), data,
        ...                  epochs=1, batch_size=2)
        ... except NonFiniteError as error:
        ...     print(error.epoch, error.batch, error.culprit)
        1 1 the forward of Sequential layer [0] Linear(in_features=2, out_features=2)
    """

    def __init__(self, what: str, epoch: int, batch: int, culprit: str) -> None:
        super().__init__(f"fit: {what} at epoch {epoch}, batch {batch}; first produced by {culprit}")
        self.epoch, self.batch, self.culprit = epoch, batch, culprit


def grads_are_finite(params: list[Parameter]) -> bool:
    """Whether every gradient is free of NaN and infinity (one multi-tensor max-abs, one sync)."""
    if not params:
        return True
    norms = torch._foreach_norm([p.grad for p in params], ord=float("inf"))
    return bool(torch.stack([n.to(norms[0].device) for n in norms]).isfinite().all())


def _name(root: Module, path: str, module: Module) -> str:
    text = repr(module)
    brief = text if "\n" not in text else f"{type(module).__name__}({module.extra_repr()})"
    return f"{type(root).__name__} layer {path} {brief}" if path else brief


def _finite(tensor: Tensor) -> bool:
    return bool(tensor.isfinite().all())


class _FoundError(Exception):
    """Stops a replay at the first module that produced a non-finite value."""

    def __init__(self, culprit: str) -> None:
        super().__init__(culprit)
        self.culprit = culprit


def first_nonfinite_forward(model: Module, loss: Loss, input: Tensor, target: Tensor) -> str | None:
    """Replay the forward pass and name where the first non-finite value appears.

    Every module's output is checked as it returns (inner modules first, in the
    order the pass computes them, on any composition), so the module named is
    the first to produce a NaN or an infinity. ``None`` when the loss of this
    batch is finite (in a process group, another process's was not).
    """
    if not _finite(input):
        return "the input batch (it contains NaN or Inf)"

    def check(path: str, module: Module, output: Tensor | None) -> None:
        if output is not None and not _finite(output):
            raise _FoundError(f"the forward of {_name(model, path, module)}")

    try:
        with watch_forward(model, check):
            output = model.forward(input)
    except _FoundError as found:
        return found.culprit
    if not _finite(loss.forward(output, target)):
        return f"the forward of the loss {loss!r}"
    return None


def first_nonfinite_backward(model: Module, loss: Loss, input: Tensor, target: Tensor) -> str | None:
    """Replay forward and backward with zeroed gradients; name the first backward that is not finite.

    Every module's backward is checked as it returns, in the order the pass
    computes them (from the last module to the first, on any composition).
    A module is named when its input gradient or one of its own parameter
    gradients is the first non-finite value. ``None`` when the replay is finite
    throughout: in a process group, the gradients of another process's batch were not.
    """
    loss.forward(model.forward(input), target)
    model.zero_grad()
    grad = loss.backward()
    if not _finite(grad):
        return f"the backward of the loss {loss!r}"

    def check(path: str, module: Module, grad_input: Tensor | None) -> None:
        for name, param in module.named_parameters():
            if "." not in name and not _finite(param.grad):
                raise _FoundError(
                    f"the backward of {_name(model, path, module)} (the gradient of its {name})"
                )
        if grad_input is not None and not _finite(grad_input):
            raise _FoundError(f"the backward of {_name(model, path, module)} (its input gradient)")

    try:
        with watch_backward(model, check):
            model.backward(grad)
    except _FoundError as found:
        return found.culprit
    return None
