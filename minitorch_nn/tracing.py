"""Watching a pass module by module, on any composition: what ``summary`` and the non-finite diagnosis use.

``watch_forward`` and ``watch_backward`` wrap, for the length of a ``with``
block, the methods of every module under a network (containers included) that
a pass calls, and report each module's result when its call returns. Inner
modules return first, so the reports come in the order the pass computes:
forward order for ``forward``, reverse order for ``backward``, whatever the
branching. The wrappers are instance attributes, removed on exit, so nothing
stays behind and the classes are untouched.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from minitorch_nn._types import Tensor
from minitorch_nn.module import Module, ModuleBase, position_name

__all__ = ["module_paths", "watch_backward", "watch_forward"]

# Called with (path, module, result): result is the output of a forward, the input gradient of a
# backward, or None for an accumulate_grad (which computes none).
Report = Callable[[str, Module, Tensor | None], None]

_FORWARD = ("forward", "forward_")
_BACKWARD = ("backward", "backward_", "accumulate_grad")


def module_paths(model: ModuleBase, path: str = "") -> Iterator[tuple[str, ModuleBase]]:
    """Every module under ``model`` (itself first, path ``path``) with its path: ``[2]``, ``[1].body[0]``."""
    yield path, model
    for name, child in model.named_children():
        yield from module_paths(child, path + position_name(name))


@contextmanager
def _watch(model: Module, methods: tuple[str, ...], report: Report) -> Iterator[None]:
    wrapped: list[tuple[Module, str]] = []
    try:
        for path, module in module_paths(model):
            if not isinstance(module, Module):
                continue
            depth = [0]  # a default forward_ calls forward: report the outermost call only
            for method in methods:
                original = getattr(module, method)
                setattr(module, method, _wrapper(path, module, original, depth, report))
                wrapped.append((module, method))
        yield
    finally:
        for module, method in wrapped:
            vars(module).pop(method, None)


def _wrapper(
    path: str, module: Module, original: Callable[..., Any], depth: list[int], report: Report
) -> Callable[[Tensor], Any]:
    def call(tensor: Tensor) -> Any:
        depth[0] += 1
        try:
            result = original(tensor)
        finally:
            depth[0] -= 1
        if depth[0] == 0:
            report(path, module, result)
        return result

    return call


def watch_forward(model: Module, report: Report) -> AbstractContextManager[None]:
    """Within the block, call ``report(path, module, output)`` as each module's forward returns."""
    return _watch(model, _FORWARD, report)


def watch_backward(model: Module, report: Report) -> AbstractContextManager[None]:
    """Within the block, call ``report(path, module, input_grad)`` as each module's backward returns
    (``input_grad`` is ``None`` for ``accumulate_grad``)."""
    return _watch(model, _BACKWARD, report)
