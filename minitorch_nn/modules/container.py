"""Containers: ``Sequential`` (a chain), ``Residual`` (a shortcut), ``Concat`` (side-by-side branches).

They nest freely. The gradient rule at each is one line of the chain rule:
a chain multiplies Jacobians in reverse, a fork (the input used by two paths)
adds the two input gradients, a concatenation splits the output gradient.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Self, overload

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module, ModuleBase, position_name

__all__ = ["Concat", "Residual", "Sequential", "leaves"]


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
            _check_type("Sequential", module, f"position {position}")
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
        _check_type("Sequential", module, f"position {position}")
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
        """As ``backward``, but no gradient with respect to the input: the first child with parameters
        only accumulates, and the children before it (a ``Flatten``, say), which have no gradient to
        accumulate, are not called."""
        self._backward(grad_output, input_grad=False, owned=False)

    def _backward(self, grad_output: Tensor, input_grad: bool, owned: bool) -> Tensor:
        grad = grad_output
        first = 0 if input_grad else self._first_with_parameters()
        for index in reversed(range(first, len(self._modules))):
            module = self._modules[index]
            try:
                if index > first or input_grad:
                    grad = module.backward_(grad) if owned else module.backward(grad)
                else:
                    module.accumulate_grad(grad)
            except Exception as err:
                err.add_note(f"in Sequential layer [{index}]")
                raise
            owned = module.fresh_grad_input
        return grad

    def _first_with_parameters(self) -> int:
        """The index of the first child that has a parameter (the length if none has)."""
        for index, module in enumerate(self._modules):
            if next(iter(module.parameters()), None) is not None:
                return index
        return len(self._modules)

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


@contextmanager
def _noted(note: str) -> Iterator[None]:
    """Add ``note`` to an exception raised inside the block (a child's error says where it happened)."""
    try:
        yield
    except Exception as err:
        err.add_note(note)
        raise


def _check_type(owner: str, module: object, where: str) -> None:
    if not isinstance(module, Module):
        raise TypeError(f"{owner}: expected a Module at {where}, got {type(module).__name__}")


def _check_grad_shape(name: str, grad_output: Tensor, shape: torch.Size) -> None:
    """Raise ``ValueError`` unless ``grad_output`` has ``shape``; ``name`` is brief (the repr spans lines)."""
    if grad_output.shape != shape:
        expected = f"expected grad_output of shape {tuple(shape)}"
        raise ValueError(f"{name}: {expected}, got {shape_str(grad_output)}")


def _sum_gradients(grads: Sequence[Tensor], owned: Sequence[bool]) -> Tensor:
    """The sum of ``grads`` as a tensor nobody else holds: added in place into the first one we own."""
    start = next((i for i, own in enumerate(owned) if own), None)
    if start is None:
        total = grads[0] + grads[1] if len(grads) > 1 else grads[0].clone()
        rest = grads[2:]
    else:
        total = grads[start]
        rest = [grad for i, grad in enumerate(grads) if i != start]
    for grad in rest:
        total.add_(grad)
    return total


class Residual(Module):
    r"""A residual connection: :math:`y = f(x) + s(x)`, with :math:`s(x) = x` when ``shortcut`` is ``None``.

    The input feeds two paths, so its gradient is the sum of theirs:
    :math:`\partial L/\partial x = J_f^T g + J_s^T g` (:math:`= J_f^T g + g` for the identity
    shortcut). ``backward`` sends :math:`g` into ``body`` and ``shortcut`` and adds the two input
    gradients; ``accumulate_grad`` sends it into both and adds nothing. An error raised inside a
    path gets the note ``in Residual.body`` or ``in Residual.shortcut``.

    Unlike ``torch``'s ``+``, the two outputs must have the same shape: a broadcast sum would
    quietly mean another network (and another gradient), so it raises instead.

    Args:
        body: the residual branch :math:`f`.
        shortcut: the shortcut :math:`s`, e.g. a strided 1x1 ``Conv2d`` (and ``BatchNorm2d``) where
            ``body`` changes the shape. Default: ``None``, the identity.

    Shape:
        - Input: what ``body`` (and ``shortcut``) take.
        - Output: what ``body`` returns, which must be the shape of the shortcut's output.

    Example:
        >>> import torch
        >>> from minitorch_nn import Linear, ReLU, Sequential
        >>> g = torch.Generator().manual_seed(0)
        >>> block = Residual(Sequential(Linear(4, 4, generator=g), ReLU(), Linear(4, 4, generator=g)))
        >>> block
        Residual(
          (body): Sequential(
            (0): Linear(in_features=4, out_features=4)
            (1): ReLU()
            (2): Linear(in_features=4, out_features=4)
          )
        )
        >>> x = torch.randn(2, 4, generator=g)
        >>> torch.allclose(block(x), block.body(x) + x)
        True
        >>> block.backward(torch.ones(2, 4)).shape
        torch.Size([2, 4])
        >>> sorted(block.state_dict())
        ['body.0.bias', 'body.0.weight', 'body.2.bias', 'body.2.weight']
    """

    fresh_output = True
    fresh_grad_input = True
    body: Module
    shortcut: Module | None

    def __init__(self, body: Module, shortcut: Module | None = None) -> None:
        super().__init__()
        _check_type("Residual", body, "body")
        if shortcut is not None:
            _check_type("Residual", shortcut, "shortcut")
            if shortcut is body:
                raise ValueError(
                    "Residual: body and shortcut are one instance; give the shortcut its own module "
                    "(or body.shared_copy() to share the weights)"
                )
        self.body = body
        self.shortcut = shortcut
        self._shape: torch.Size | None = None
        self._check_network()

    @override
    def shared_copy(self) -> Self:
        """Return a new ``Residual`` of the paths' shared copies (see ``Module.shared_copy``)."""
        twin = super().shared_copy()
        twin._check_network()
        return twin

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return ``body(input) + shortcut(input)`` (``+ input`` without a shortcut)."""
        with _noted("in Residual.body"):
            out = self.body.forward(input)
        skip = input
        if self.shortcut is not None:
            with _noted("in Residual.shortcut"):
                skip = self.shortcut.forward(input)
        if not isinstance(out, torch.Tensor) or out.shape != skip.shape:
            got = shape_str(out) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(
                f"Residual: expected the body's output to have the shortcut's shape {shape_str(skip)}, "
                f"got {got}; give a shortcut that maps the input to the body's output shape"
            )
        self._shape = out.shape
        # The body's fresh output is ours to overwrite; the sum then costs no new tensor.
        return out.add_(skip) if self.body.fresh_output and out.dtype == skip.dtype else out + skip

    def _check(self, grad_output: Tensor) -> None:
        if self._shape is None:
            raise RuntimeError(f"{type(self).__name__}: backward called before forward")
        _check_grad_shape(type(self).__name__, grad_output, self._shape)

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Send ``grad_output`` into both paths; return the sum of their input gradients."""
        self._check(grad_output)
        with _noted("in Residual.body"):
            grads = [self.body.backward(grad_output)]
        owned = [self.body.fresh_grad_input]
        if self.shortcut is None:
            grads.append(grad_output)
            owned.append(False)
        else:
            with _noted("in Residual.shortcut"):
                grads.append(self.shortcut.backward(grad_output))
            owned.append(self.shortcut.fresh_grad_input)
        return _sum_gradients(grads, owned)

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Accumulate the parameter gradients of both paths; compute no input gradient."""
        self._check(grad_output)
        with _noted("in Residual.body"):
            self.body.accumulate_grad(grad_output)
        if self.shortcut is not None:
            with _noted("in Residual.shortcut"):
                self.shortcut.accumulate_grad(grad_output)


class Concat(Module):
    r"""Branches side by side: each runs on the same input, their outputs are concatenated along ``dim``.

    ``forward`` is :math:`y = [f_1(x), \dots, f_k(x)]` along ``dim``. ``backward`` splits
    :math:`g` into the slices :math:`g_i` each branch produced and, since :math:`x` feeds every
    branch, returns :math:`\sum_i J_{f_i}^T g_i`. A U-Net's skip connection is
    ``Concat(Identity(), Sequential(down, inner, up))``. An error raised inside a branch gets
    the note ``in Concat branch [i]``.

    Args:
        *branches: the branches, at least one, in the order their outputs are concatenated.
        dim: the dimension to concatenate along (negative counts from the end). Default: 1,
            the channels of an image batch or the features of a matrix.

    Shape:
        - Input: what every branch takes.
        - Output: the branches' outputs, which must agree in every dimension but ``dim``,
          concatenated along ``dim``.

    Example:
        >>> import torch
        >>> from minitorch_nn import Identity, Linear
        >>> g = torch.Generator().manual_seed(0)
        >>> both = Concat(Identity(), Linear(3, 2, generator=g))
        >>> both
        Concat(
          dim=1
          (0): Identity()
          (1): Linear(in_features=3, out_features=2)
        )
        >>> x = torch.randn(4, 3, generator=g)
        >>> both(x).shape
        torch.Size([4, 5])
        >>> torch.equal(both(x)[:, :3], x)
        True
        >>> both.backward(torch.ones(4, 5)).shape
        torch.Size([4, 3])
    """

    fresh_output = True
    fresh_grad_input = True

    def __init__(self, *branches: Module, dim: int = 1) -> None:
        super().__init__()
        if not branches:
            raise ValueError("Concat: expected at least one branch, got none")
        for position, branch in enumerate(branches):
            _check_type("Concat", branch, f"position {position}")
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Concat: expected dim to be an int, got {dim!r}")
        self.dim = dim
        self._branches: list[Module] = list(branches)
        self._sizes: list[int] | None = None
        self._shape: torch.Size | None = None
        self._check_network()

    @override
    def shared_copy(self) -> Self:
        """Return a new ``Concat`` of the branches' shared copies (see ``Module.shared_copy``)."""
        twin = super().shared_copy()
        twin._branches = [branch.shared_copy() for branch in self._branches]
        twin._check_network()
        return twin

    @override
    def named_children(self) -> Iterator[tuple[str, ModuleBase]]:
        for index, branch in enumerate(self._branches):
            yield str(index), branch

    def _axis(self, rank: int) -> int:
        if not -rank <= self.dim < rank:
            raise ValueError(
                f"{self._name()}: expected dim in [{-rank}, {rank - 1}] for {rank}-D outputs, got {self.dim}"
            )
        return self.dim % rank

    def _name(self) -> str:
        return f"Concat(dim={self.dim})"

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Run every branch on ``input``; return their outputs concatenated along ``dim``."""
        outputs = []
        for index, branch in enumerate(self._branches):
            with _noted(f"in Concat branch [{index}]"):
                outputs.append(branch.forward(input))
        first = outputs[0]
        axis = self._axis(first.dim())
        for index, out in enumerate(outputs[1:], start=1):
            same = out.dim() == first.dim() and all(
                a == b for d, (a, b) in enumerate(zip(out.shape, first.shape, strict=False)) if d != axis
            )
            if not same:
                raise ValueError(
                    f"{self._name()}: expected branch [{index}]'s output to match branch [0]'s "
                    f"{shape_str(first)} in every dimension but {axis}, got {shape_str(out)}"
                )
        self._sizes = [out.shape[axis] for out in outputs]
        output = torch.cat(outputs, dim=axis) if len(outputs) > 1 else first.clone()
        self._shape = output.shape
        return output

    def _split(self, grad_output: Tensor) -> tuple[Tensor, ...]:
        if self._sizes is None or self._shape is None:
            raise RuntimeError(f"{self._name()}: backward called before forward")
        _check_grad_shape(self._name(), grad_output, self._shape)
        return torch.split(grad_output, self._sizes, dim=self._axis(grad_output.dim()))

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Split ``grad_output`` by the branches' output sizes; return the sum of their input gradients."""
        parts = self._split(grad_output)
        grads = []
        for index, (branch, part) in enumerate(zip(self._branches, parts, strict=True)):
            with _noted(f"in Concat branch [{index}]"):
                grads.append(branch.backward(part))
        return _sum_gradients(grads, [branch.fresh_grad_input for branch in self._branches])

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Accumulate every branch's parameter gradients from its slice; compute no input gradient."""
        parts = self._split(grad_output)
        for index, (branch, part) in enumerate(zip(self._branches, parts, strict=True)):
            with _noted(f"in Concat branch [{index}]"):
                branch.accumulate_grad(part)

    @override
    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def __len__(self) -> int:
        return len(self._branches)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._branches)

    def __getitem__(self, index: int) -> Module:
        try:
            return self._branches[index]
        except IndexError:
            raise IndexError(
                f"Concat: index {index} is out of range for {len(self._branches)} branches"
            ) from None


def leaves(model: ModuleBase, path: str = "") -> Iterator[tuple[str, ModuleBase]]:
    """The modules without children under ``model``, in registration order, with their paths.

    Any composition is walked (``Sequential``, ``Residual``, ``Concat``, your
    own modules with child attributes). A path joins each level's position:
    ``[2]`` for a numbered child, ``.body`` for a named one; ``named_modules``
    gives torch's dotted names instead. A module without children is its own
    single leaf, with the path ``path``.

    Example:
        >>> from minitorch_nn import Linear, ReLU, Tanh
        >>> model = Sequential(Linear(2, 3), Residual(Sequential(Tanh(), Linear(3, 3))), ReLU())
        >>> [(path, type(module).__name__) for path, module in leaves(model)]
        [('[0]', 'Linear'), ('[1].body[0]', 'Tanh'), ('[1].body[1]', 'Linear'), ('[2]', 'ReLU')]
    """
    children = list(model.named_children())
    if not children:
        yield path, model
    for name, child in children:
        yield from leaves(child, path + position_name(name))
