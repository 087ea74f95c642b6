"""Watching a pass module by module, on any composition: what ``summary`` and the non-finite diagnosis use.

``watch_forward`` and ``watch_backward`` register, for the length of a
``with`` block, a forward hook or a full backward hook on every layer of
``named_modules()`` (containers included), and report each module's result
when its call returns. Inner modules return first, so the reports come in the
order the pass computes: forward order for ``forward``, reverse order for
``backward``, whatever the branching. The hooks are removed on exit, so
nothing stays behind and the classes are untouched.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from minitorch_nn._types import Tensor
from minitorch_nn.hooks import RemovableHandle
from minitorch_nn.module import Module, ModuleBase, position_name

__all__ = ["module_paths", "watch_backward", "watch_forward"]

# Called with (path, module, result): result is the output of a forward, the input gradient of a
# backward, or None for an accumulate_grad (which computes none).
Report = Callable[[str, Module, Tensor | None], None]


def module_paths(model: ModuleBase, path: str = "") -> Iterator[tuple[str, ModuleBase]]:
    """Every module under ``model`` (itself first, path ``path``) with its path: ``[2]``, ``[1].body[0]``.

    The modules and their order are ``named_modules()``'s; each dotted name is
    written as a path (``1.body.0`` is ``[1].body[0]``).
    """
    for name, module in model.named_modules():
        yield path + "".join(position_name(part) for part in name.split(".") if part), module


@contextmanager
def _watch(model: Module, register: Callable[[str, Module], RemovableHandle]) -> Iterator[None]:
    handles: list[RemovableHandle] = []
    try:
        for path, module in module_paths(model):
            if isinstance(module, Module):
                handles.append(register(path, module))
        yield
    finally:
        for handle in handles:
            handle.remove()


def watch_forward(model: Module, report: Report) -> AbstractContextManager[None]:
    """Within the block, call ``report(path, module, output)`` as each module's forward returns."""

    def register(path: str, module: Module) -> RemovableHandle:
        def hook(module: Module, args: tuple[Tensor, ...], output: Tensor) -> None:
            report(path, module, output)

        return module.register_forward_hook(hook)

    return _watch(model, register)


def watch_backward(model: Module, report: Report) -> AbstractContextManager[None]:
    """Within the block, call ``report(path, module, input_grad)`` as each module's backward returns
    (``input_grad`` is ``None`` for ``accumulate_grad``)."""

    def register(path: str, module: Module) -> RemovableHandle:
        def hook(module: Module, grad_input: tuple[Tensor | None, ...], _: tuple[Tensor, ...]) -> None:
            report(path, module, grad_input[0])

        return module.register_full_backward_hook(hook)

    return _watch(model, register)
