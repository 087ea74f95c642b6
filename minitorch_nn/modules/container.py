"""Containers: ``Sequential``."""

from collections.abc import Iterator
from typing import Self, overload

from typing_extensions import override

from minitorch_nn._types import Tensor
from minitorch_nn.module import Module, ModuleBase

__all__ = ["Sequential", "leaves"]


class Sequential(Module):
    """A chain of modules: ``forward`` runs them in order, ``backward`` in reverse.

    An error raised inside a child gets a note naming the child's index
    (``in Sequential layer [i]``) and keeps its original traceback; nested
    containers add one note per level.

    Args:
        *modules: the children, in the order ``forward`` applies them.

    Shape:
        - Input: what the first child takes.
        - Output: what the last child returns.

    Example:
        >>> import torch
        >>> from minitorch_nn import Linear, Tanh
        >>> g = torch.Generator().manual_seed(0)
        >>> model = Sequential(Linear(784, 50, generator=g), Tanh(), Linear(50, 10, generator=g))
        >>> model.append(Tanh())
        Sequential(
          (0): Linear(in_features=784, out_features=50)
          (1): Tanh()
          (2): Linear(in_features=50, out_features=10)
          (3): Tanh()
        )
        >>> model(torch.zeros(32, 784)).shape
        torch.Size([32, 10])
        >>> model.backward(torch.ones(32, 10)).shape
        torch.Size([32, 784])
        >>> len(model), sum(p.value.numel() for p in model.parameters())
        (4, 39760)
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for position, module in enumerate(modules):
            self._check_type(module, position)
        self._modules: list[Module] = list(modules)
        self._check_network()

    def append(self, module: Module) -> Self:
        """Add ``module`` at the end; return ``self``.

        Raises:
            TypeError: if ``module`` is not a ``Module``.
            ValueError: if ``module`` is, or holds, this container, or if a network
                that holds this container would then hold one instance twice
                (this container is left unchanged).
        """
        position = len(self._modules)
        self._check_type(module, position)
        self._refuse_cycle(module, f"[{position}]")
        self._modules.append(module)
        try:
            self._check_network()
        except ValueError:
            self._modules.pop()
            raise
        return self

    @override
    def shared_copy(self) -> Self:
        """Return a new ``Sequential`` of the children's shared copies (see ``Module.shared_copy``)."""
        twin = super().shared_copy()
        twin._modules = [module.shared_copy() for module in self._modules]
        twin._check_network()  # records the links from the new children to ``twin``
        return twin

    @staticmethod
    def _check_type(module: object, position: int) -> None:
        if not isinstance(module, Module):
            raise TypeError(
                f"Sequential: expected a Module at position {position}, got {type(module).__name__}"
            )

    @override
    def named_children(self) -> Iterator[tuple[str, ModuleBase]]:
        for index, module in enumerate(self._modules):
            yield str(index), module

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Apply each child in order; each caches what its own ``backward`` needs.

        An intermediate output that its module declares fresh is handed to the
        next child's ``forward_``, which may compute into it (an activation
        after a Linear layer, say); ``input`` itself is never modified.
        """
        return self._forward(input, owned=False)

    @override
    def forward_(self, input: Tensor) -> Tensor:
        return self._forward(input, owned=True)

    def _forward(self, input: Tensor, owned: bool) -> Tensor:
        output = input
        for index, module in enumerate(self._modules):
            try:
                output = module.forward_(output) if owned else module.forward(output)
            except Exception as err:
                err.add_note(f"in Sequential layer [{index}]")
                raise
            owned = module.fresh_output
        return output

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Call each child's ``backward`` in reverse order; return d loss / d input.

        As in ``forward``, a gradient that its module declares fresh may be
        overwritten by the next child (``backward_``); ``grad_output`` is not.
        """
        return self._backward(grad_output, input_grad=True, owned=False)

    @override
    def backward_(self, grad_output: Tensor) -> Tensor:
        return self._backward(grad_output, input_grad=True, owned=True)

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """As ``backward``, but the first child only accumulates: no gradient with respect to the input."""
        self._backward(grad_output, input_grad=False, owned=False)

    def _backward(self, grad_output: Tensor, input_grad: bool, owned: bool) -> Tensor:
        grad = grad_output
        for index in reversed(range(len(self._modules))):
            module = self._modules[index]
            try:
                if index or input_grad:
                    grad = module.backward_(grad) if owned else module.backward(grad)
                else:
                    module.accumulate_grad(grad)
            except Exception as err:
                err.add_note(f"in Sequential layer [{index}]")
                raise
            owned = module.fresh_grad_input
        return grad

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)

    @overload
    def __getitem__(self, index: int) -> Module: ...
    @overload
    def __getitem__(self, index: slice) -> "Sequential": ...
    def __getitem__(self, index: int | slice) -> "Module | Sequential":
        if isinstance(index, slice):
            return Sequential(*self._modules[index])
        try:
            return self._modules[index]
        except IndexError:
            raise IndexError(
                f"Sequential: index {index} is out of range for {len(self._modules)} layers"
            ) from None


def leaves(model: Module, path: str = "") -> Iterator[tuple[str, Module]]:
    """The modules a ``Sequential`` runs, in order, nested ones flattened, with their index path.

    Running ``forward`` through them in order is the container's forward pass,
    which is how tools that inspect each layer (``summary``, the non-finite
    diagnosis of ``fit``) walk a network. A module that is not a
    ``Sequential`` is its own single leaf, with the path ``""``.

    Example:
        >>> from minitorch_nn import Linear, Tanh
        >>> model = Sequential(Linear(2, 3), Sequential(Tanh(), Linear(3, 1)))
        >>> [(path, type(module).__name__) for path, module in leaves(model)]
        [('[0]', 'Linear'), ('[1][0]', 'Tanh'), ('[1][1]', 'Linear')]
    """
    if isinstance(model, Sequential):
        for index, child in enumerate(model):
            yield from leaves(child, f"{path}[{index}]")
    else:
        yield path, model
