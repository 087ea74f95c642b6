"""The bases every module derives from, and the forward/backward contract.

``ModuleBase`` holds what layers and losses share: parameter discovery,
``zero_grad``, ``train``/``eval``, ``to``, ``state_dict`` and ``repr``.
``Module`` is a layer: ``forward(input)`` and ``backward(grad_output)``.
``Loss`` is a criterion: ``forward(input, target)`` and ``backward(grad_output=None)``.
Keeping the two call signatures on separate classes (Torch7's ``Module`` and
``Criterion``) means neither overrides the other, so ``mypy --strict`` holds.
"""

import copy
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar, NamedTuple, Self, TypeVar

import torch

from minitorch_nn import hooks
from minitorch_nn._arguments import check_arguments
from minitorch_nn._types import Tensor, brief, shape_str
from minitorch_nn.hooks import RemovableHandle
from minitorch_nn.parameter import Buffer, Parameter

__all__ = ["LoadResult", "Loss", "Module", "ModuleBase", "position_name"]

_Member = TypeVar("_Member", Parameter, Buffer)


class LoadResult(NamedTuple):
    """What ``load_state_dict`` could not match, as ``torch.nn`` reports it.

    Example:
        >>> from minitorch_nn.modules.linear import Linear
        >>> state = {"weight": torch.zeros(2, 3), "extra": torch.zeros(1)}
        >>> Linear(3, 2).load_state_dict(state, strict=False)
        LoadResult(missing_keys=['bias'], unexpected_keys=['extra'], mismatched_keys=[])
    """

    missing_keys: list[str]
    unexpected_keys: list[str]
    mismatched_keys: list[str]


class ModuleBase(ABC):
    """Shared behaviour of ``Module`` and ``Loss``.

    Parameters and child modules are discovered from the instance's attributes
    in assignment order: an attribute holding a ``Parameter`` is a parameter,
    one holding a ``ModuleBase`` is a child. Containers override
    ``named_children``.

    Attributes:
        training: ``True`` after ``train()`` (the default), ``False`` after ``eval()``.

    Example:
        >>> from minitorch_nn import Linear, Sequential, Tanh
        >>> model = Sequential(Linear(3, 4), Tanh(), Linear(4, 2))
        >>> [(name, tuple(p.shape)) for name, p in model.named_parameters()]
        [('0.weight', (4, 3)), ('0.bias', (4,)), ('2.weight', (2, 4)), ('2.bias', (2,))]
        >>> model.eval().training, model[1].training
        (False, False)
    """

    training: bool
    # How many positional arguments forward takes: a full backward hook gets one grad_input entry each.
    _hook_arity: ClassVar[int] = 1

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        # An argument the class does not take is named with the public class, before __init__ runs.
        check_arguments(cls.__name__, cls.__init__, args, kwargs)
        return super().__new__(cls)

    def __init__(self) -> None:
        self.training = True

    def named_children(self) -> Iterator[tuple[str, "ModuleBase"]]:
        """Yield ``(name, child)`` for each direct child module, in assignment order."""
        for name, value in vars(self).items():
            if isinstance(value, ModuleBase):
                yield name, value

    def children(self) -> Iterator["ModuleBase"]:
        """Yield each direct child module."""
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "ModuleBase"]]:
        """Yield ``(dotted_name, module)`` for this module (name ``prefix``) and every module under it.

        As ``torch.nn.Module.named_modules``: depth first, each module before its
        children, children in the order ``named_children`` gives them, names
        joined by dots (``"1.body.0"``). Works on any composition of containers.

        Args:
            prefix: the name of this module, prepended to every other name. Default: ``""``.

        Example:
            >>> from minitorch_nn import Linear, Residual, ReLU, Sequential
            >>> model = Sequential(Linear(4, 4), Residual(Sequential(ReLU(), Linear(4, 4))))
            >>> for name, module in model.named_modules():
            ...     print(repr(name), type(module).__name__)
            '' Sequential
            '0' Linear
            '1' Residual
            '1.body' Sequential
            '1.body.0' ReLU
            '1.body.1' Linear
        """
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["ModuleBase"]:
        """Yield this module and every module under it, in the order of ``named_modules``."""
        for _, module in self.named_modules():
            yield module

    def register_forward_pre_hook(
        self,
        hook: Callable[[Self, tuple[Tensor, ...]], Tensor | tuple[Tensor, ...] | None],
        *,
        prepend: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a result (not None) replaces ``args``.

        As ``torch.nn.Module.register_forward_pre_hook``. ``args`` is the tuple
        of positional arguments: ``(input,)`` for a layer, ``(input, target)``
        for a loss. A single tensor returned is taken as ``(tensor,)``. A
        replacement must match each argument's shape, dtype and device: the
        gradient with respect to it is handed back as the original's (see
        ``docs/contract.md``, section Hooks).

        Args:
            hook: the function to call.
            prepend: call it before the hooks already registered. Default: ``False``, after them.

        Returns:
            A handle whose ``remove()`` removes the hook.

        Example:
            >>> import torch
            >>> from minitorch_nn import Tanh
            >>> layer = Tanh()
            >>> handle = layer.register_forward_pre_hook(lambda module, args: args[0] * 0)
            >>> layer(torch.ones(1, 2))
            tensor([[0., 0.]])
            >>> handle.remove()
            >>> layer(torch.zeros(1, 2))
            tensor([[0., 0.]])
        """
        return hooks.register(self, hooks.PRE, hook, prepend)

    def register_forward_hook(
        self, hook: Callable[[Self, tuple[Tensor, ...], Tensor], Tensor | None], *, prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``; a tensor returned replaces ``output``.

        As ``torch.nn.Module.register_forward_hook``: ``args`` are the
        arguments ``forward`` ran on (after the pre-hooks), ``output`` what it
        returned (after earlier forward hooks). A replacement must match the
        output's shape, dtype and device; ``backward`` treats it as the output
        (see ``docs/contract.md``, section Hooks).

        Args:
            hook: the function to call.
            prepend: call it before the hooks already registered. Default: ``False``, after them.

        Returns:
            A handle whose ``remove()`` removes the hook.

        Example:
            >>> import torch
            >>> from minitorch_nn import Linear, Sequential, Tanh
            >>> model = Sequential(Linear(3, 4), Tanh(), Linear(4, 2))
            >>> shapes = []
            >>> handles = [m.register_forward_hook(lambda m, args, out: shapes.append(tuple(out.shape)))
            ...            for m in model.modules()]
            >>> _ = model(torch.zeros(5, 3))
            >>> shapes
            [(5, 4), (5, 4), (5, 2), (5, 2)]
            >>> for handle in handles:
            ...     handle.remove()
        """
        return hooks.register(self, hooks.FORWARD, hook, prepend)

    def register_full_backward_hook(
        self,
        hook: Callable[
            [Self, tuple[Tensor | None, ...], tuple[Tensor, ...]], tuple[Tensor | None, ...] | None
        ],
        prepend: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` after each backward; a tuple returned replaces it.

        As ``torch.nn.Module.register_full_backward_hook``. ``grad_output`` is
        ``(d L / d output,)`` (for a loss whose ``backward()`` got no argument,
        torch's ``(tensor(1.),)``); ``grad_input`` has one entry per argument
        of ``forward``: ``(d L / d input,)`` for a layer, ``(d L / d input, None)``
        for a loss (the target gets no gradient). The hook runs when the
        module's ``backward``, ``backward_`` or ``accumulate_grad`` returns, so
        its parameter gradients are accumulated; after ``accumulate_grad``,
        which computes no input gradient, ``grad_input`` is ``(None,)``. A
        replacement ``grad_input`` is what the module returns, so it flows to
        the previous layer; it must match each entry's shape, dtype and device,
        with ``None`` where the entry is ``None``.

        Args:
            hook: the function to call.
            prepend: call it before the hooks already registered. Default: ``False``, after them.

        Returns:
            A handle whose ``remove()`` removes the hook.

        Example:
            >>> import torch
            >>> from minitorch_nn import Tanh
            >>> layer = Tanh()
            >>> def halve(module, grad_input, grad_output):
            ...     return (grad_input[0] / 2,)
            >>> _ = layer(torch.zeros(1, 3))
            >>> layer.backward(torch.ones(1, 3))  # tanh'(0) = 1
            tensor([[1., 1., 1.]])
            >>> with layer.register_full_backward_hook(halve):
            ...     layer.backward(torch.ones(1, 3))
            tensor([[0.5000, 0.5000, 0.5000]])
        """
        return hooks.register(self, hooks.BACKWARD, hook, prepend)

    def __getstate__(self) -> dict[str, object]:
        # The wrappers that call the hooks are closures: store the hooks, and install them again on loading.
        return hooks.plain_state(self)

    def __setstate__(self, state: dict[str, object]) -> None:
        vars(self).update(state)
        hooks.restore(self)

    def shared_copy(self) -> Self:
        """Return a new instance of this class that holds the very same ``Parameter`` and ``Buffer`` objects.

        This is how one set of weights runs at several places of a network. An
        instance cannot appear twice, because its second ``forward`` overwrites
        the cache the first ``backward`` needs; a shared copy has caches of its
        own. Its ``backward`` adds into the same ``grad`` buffers, so they hold
        the sum of both uses, and ``parameters()`` yields each shared
        ``Parameter`` once, so an optimizer steps it once. Buffers (running
        statistics) are updated by both.

        The copy is ``copy.copy(self)`` with: each child module replaced by
        its shared copy; each private attribute (leading underscore) that
        holds a tensor or a shape, a cache, set to ``None``; each private dict
        or list of tensors (scratch space) emptied. Settings and generators are
        shared as they are. The copy starts without hooks (``copy.deepcopy``
        copies them, as torch's). Override this method if your module keeps
        other per-call state.

        Example:
            >>> import torch
            >>> from minitorch_nn import Linear, Sequential, Tanh
            >>> layer = Linear(3, 3)
            >>> twin = layer.shared_copy()
            >>> twin is layer, twin.weight is layer.weight, twin.bias is layer.bias
            (False, True, True)
            >>> model = Sequential(layer, Tanh(), twin)
            >>> [name for name, _ in model.named_parameters()]
            ['0.weight', '0.bias']
            >>> model(torch.ones(2, 3)).shape
            torch.Size([2, 3])
        """
        twin = copy.copy(self)
        state = vars(twin)
        for name, value in vars(self).items():
            if isinstance(value, ModuleBase):
                state[name] = value.shared_copy()
            elif name.startswith("_"):
                state[name] = _fresh(value)
        hooks.drop(twin)
        return twin

    def _refuse_cycle(self, child: "ModuleBase", position: str) -> None:
        """Raise ``ValueError`` if holding ``child`` at ``position`` would make this module contain itself."""
        owner = type(self).__name__
        if child is self:
            raise ValueError(f"{owner}: a module cannot contain itself, got this {owner} at {position}")
        inner = _path_to(child, self)
        if inner is not None:
            raise ValueError(
                f"{owner}: a module cannot contain itself, got {brief(child)} at {position}, "
                f"which holds this {owner} at {inner}"
            )

    def _check_network(self) -> None:
        """Raise ``ValueError`` if a network holding this module holds one instance at two positions.

        A container calls it after it has added a child (and removes the child
        again if it raises). Every network is checked from its outermost
        module: the modules that hold this one are found by weak links that
        each check records for the parent-child pairs it walks.
        """
        for root in _roots(self):
            repeat = _first_repeat(root)
            if repeat is None:
                continue
            module, first, second = repeat
            where = "" if root is self else f" of the enclosing {type(root).__name__}"
            raise ValueError(
                f"{type(self).__name__}: {brief(module)} would be at both {first} and {second}{where}; "
                "one module instance cannot run twice in a pass, since its second forward overwrites what "
                f"the first backward needs. To share its weights, put its shared_copy() at {second} instead: "
                f"a new {type(module).__name__} holding the same Parameters, whose gradients add into the "
                "same grad"
            )

    def _named_members(self, kind: type[_Member], prefix: str) -> Iterator[tuple[str, _Member]]:
        """Own members of type ``kind`` first, then the children's; shared ones once."""
        seen: set[int] = set()
        for name, member in self._named_members_with_duplicates(kind, prefix):
            if id(member) not in seen:
                seen.add(id(member))
                yield name, member

    def _named_members_with_duplicates(
        self, kind: type[_Member], prefix: str
    ) -> Iterator[tuple[str, _Member]]:
        for name, value in vars(self).items():
            if isinstance(value, kind):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child._named_members_with_duplicates(kind, f"{prefix}{name}.")

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)`` for every parameter, own ones first.

        A parameter shared by several modules is yielded once, under its first name.
        """
        return self._named_members(Parameter, prefix)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Buffer]]:
        """Yield ``(dotted_name, buffer)`` for every ``Buffer``, own ones first."""
        return self._named_members(Buffer, prefix)

    def parameters(self) -> Iterator[Parameter]:
        """Yield every ``Parameter`` of this module and its children, in registration order."""
        for _, param in self.named_parameters():
            yield param

    def zero_grad(self) -> None:
        """Zero the ``grad`` buffer of every parameter, in place."""
        for param in self.parameters():
            param.zero_grad()

    def train(self, mode: bool = True) -> Self:
        """Set ``training`` to ``mode`` here and in every child; return ``self``."""
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Self:
        """Same as ``train(False)``."""
        return self.train(False)

    def to(
        self,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        memory_format: torch.memory_format | None = None,
    ) -> Self:
        """Move every parameter (``value`` and ``grad``) and buffer in place; return ``self``.

        ``memory_format=torch.channels_last`` lays the 4-D parameters (convolution
        weights) out channels-last, as ``torch.nn.Module.to`` does; with
        channels-last inputs the CPU convolution kernels then run fastest.
        """
        for param in self.parameters():
            param.to_(device=device, dtype=dtype, memory_format=memory_format)
        for _, buffer in self.named_buffers():
            buffer.to_(device=device, dtype=dtype)
        return self

    def state_dict(self) -> dict[str, Tensor]:
        """Return ``{dotted_name: value}`` for every parameter and buffer (the tensors themselves)."""
        state = {name: param.value for name, param in self.named_parameters()}
        state.update((name, buffer.value) for name, buffer in self.named_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, Tensor], strict: bool = True) -> LoadResult:
        """Copy the values in ``state`` into the parameters and buffers, in place.

        Every key is checked before anything is copied. With ``strict=True`` a
        missing key, an unexpected key or a shape mismatch raises and leaves the
        module untouched. With ``strict=False`` the matching entries are copied
        and the rest are returned.

        Raises:
            RuntimeError: if ``strict`` and the keys or shapes do not match.
        """
        result = self._compare_state(state)
        if strict and any(result):
            raise RuntimeError(
                "\n".join(
                    [
                        f"{self.__class__.__name__}.load_state_dict: the state does not match",
                        *self._mismatch_lines(result, state),
                    ]
                )
            )
        for name, tensor in self.state_dict().items():
            if name in state and name not in result.mismatched_keys:
                tensor.copy_(state[name])
        return result

    def _compare_state(self, state: Mapping[str, Tensor]) -> LoadResult:
        """The keys of ``state`` that are missing, unexpected, or of the wrong shape; changes nothing."""
        own = self.state_dict()
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
        mismatched = [
            name
            for name, tensor in state.items()
            if name in own and tuple(tensor.shape) != tuple(own[name].shape)
        ]
        return LoadResult(missing, unexpected, mismatched)

    def _mismatch_lines(self, result: LoadResult, state: Mapping[str, Tensor]) -> list[str]:
        own = self.state_dict()
        lines = [f"  missing key: {key}" for key in result.missing_keys]
        lines += [f"  unexpected key: {key}" for key in result.unexpected_keys]
        lines += [
            f"  shape mismatch for {key}: expected {shape_str(own[key])}, got {shape_str(state[key])}"
            for key in result.mismatched_keys
        ]
        return lines

    def extra_repr(self) -> str:
        """The text between the parentheses of ``repr``; override to show settings."""
        return ""

    def __repr__(self) -> str:
        # torch's layout: settings alone on one line; with children, settings and children one per line.
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, child in self.named_children():
            lines.append(f"({name}): " + repr(child).replace("\n", "\n  "))
        if not lines:
            return f"{self.__class__.__name__}()"
        if len(lines) == 1 and extra:
            return f"{self.__class__.__name__}({extra})"
        return f"{self.__class__.__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def _check_floating(self, tensor: Tensor, what: str = "input") -> None:
        """Raise ``TypeError`` unless ``tensor`` is a floating-point tensor."""
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{self!r}: expected {what} to be a torch.Tensor, got {type(tensor).__name__}")
        if not tensor.is_floating_point():
            raise TypeError(f"{self!r}: expected a floating-point {what}, got {tensor.dtype}")

    def _check_like(self, input: Tensor, state: Tensor, what: str = "input") -> None:
        """Raise unless ``input`` has the dtype and device of ``state`` (a bare matmul names neither)."""
        if input.dtype != state.dtype:
            raise TypeError(f"{self!r}: expected {what} of dtype {state.dtype}, got {input.dtype}")
        if input.device != state.device:
            raise ValueError(f"{self!r}: expected {what} on device {state.device}, got {input.device}")

    def _check_pair(self, input: Tensor, target: Tensor) -> None:
        """Raise unless ``input`` and ``target`` are floating point and of one shape."""
        self._check_floating(input)
        self._check_floating(target, "target")
        if target.shape != input.shape:
            expected = f"expected target of shape {shape_str(input)} (the input's)"
            raise ValueError(f"{self!r}: {expected}, got {shape_str(target)}")

    def _check_grad_output(self, grad_output: Tensor, shape: tuple[int, ...]) -> None:
        """Raise ``ValueError`` unless ``grad_output`` has the shape of the last output."""
        if tuple(grad_output.shape) != tuple(shape):
            raise ValueError(
                f"{self!r}: expected grad_output of shape {tuple(shape)}, got {shape_str(grad_output)}"
            )

    def _cached(self, tensor: Tensor | None) -> Tensor:
        """Return a tensor saved by ``forward``, or raise if ``forward`` has not run."""
        if tensor is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        return tensor


class Module(ModuleBase):
    """Base class of every layer: ``forward(input)`` and ``backward(grad_output)``.

    ``forward`` returns the output and saves exactly what ``backward`` needs.
    ``backward`` first **adds** each parameter's gradient into its ``grad``
    buffer (so two calls without ``zero_grad()`` give twice the gradient), then
    returns the gradient of the loss with respect to the input of the last
    ``forward``. Neither method modifies its argument.

    ``accumulate_grad`` is ``backward`` without the input gradient: a training
    step needs only the parameter gradients, and for the first layer the
    gradient with respect to the data is work nobody asked for (``torch.nn``
    skips it too, for inputs that do not require grad). Calling ``backward``
    is how you ask for the input gradient.

    ``forward_`` and ``backward_`` are the in-place variants a container uses
    on intermediate tensors it owns: they may overwrite their argument (an
    activation computed into the fresh output of the layer before it, say).
    The defaults just call ``forward`` and ``backward``. A container knows it
    owns a tensor when the module that returned it declares ``fresh_output``
    (``forward`` returns a new tensor the module keeps no reference to) or
    ``fresh_grad_input`` (likewise for ``backward``).
    """

    fresh_output: ClassVar[bool] = False
    fresh_grad_input: ClassVar[bool] = False

    @abstractmethod
    def forward(self, input: Tensor) -> Tensor:
        """Compute the output for ``input`` and cache what ``backward`` needs."""

    @abstractmethod
    def backward(self, grad_output: Tensor) -> Tensor:
        """Accumulate parameter gradients and return d loss / d input."""

    def _scratch(self, key: str, like: Tensor) -> Tensor:
        """A tensor shaped like ``like`` that this module reuses from call to call under ``key``.

        A parameter's gradient for one step is formed in such a tensor and then added into ``grad``:
        ``addmm_`` or ``index_add_`` straight into ``grad`` would change the last bit of a second
        backward, and a new tensor per step would allocate a parameter-sized tensor per step. It is
        made anew when ``like``'s dtype or device changes (after ``to``); ``shared_copy`` starts
        without any. A module that uses it sets ``self._scratches = {}`` in ``__init__``, so that its
        attributes do not change with training (the dict is made here otherwise).
        """
        scratches: dict[str, Tensor] = vars(self).setdefault("_scratches", {})
        tensor = scratches.get(key)
        if tensor is None or tensor.dtype != like.dtype or tensor.device != like.device:
            tensor = scratches[key] = torch.empty_like(like)
        return tensor

    def forward_(self, input: Tensor) -> Tensor:
        """As ``forward``, but ``input`` may be overwritten: the caller owns it and will not read it again."""
        return self.forward(input)

    def backward_(self, grad_output: Tensor) -> Tensor:
        """As ``backward``, but ``grad_output`` may be overwritten, and may be returned as the result."""
        return self.backward(grad_output)

    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Add the parameter gradients for ``grad_output`` into each ``grad``, and compute nothing else.

        The default calls ``backward`` and drops its result, or does nothing for
        a module without parameters; layers override it to skip the
        input-gradient work.
        """
        if next(iter(self.parameters()), None) is not None:
            self.backward(grad_output)

    def __call__(self, input: Tensor) -> Tensor:
        return self.forward(input)


class Loss(ModuleBase):
    """Base class of every loss: ``forward(input, target)`` and ``backward(grad_output=None)``.

    ``forward`` returns the loss and caches what ``backward`` needs: a 0-dim
    tensor for ``reduction="mean"`` or ``"sum"``, one value per element (or
    per sample) for ``reduction="none"``. ``backward(grad_output)`` returns
    d L / d input for the last ``forward``, where ``grad_output`` is d L / d
    output, of the output's shape. ``grad_output=None`` stands for 1 and is
    allowed only for a 0-dim output, so ``loss.backward()`` is the common call;
    a 0-dim ``grad_output`` scales the gradient of a 0-dim loss.
    """

    _hook_arity = 2  # forward(input, target)

    @abstractmethod
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Compute the loss and cache what ``backward`` needs."""

    @abstractmethod
    def backward(self, grad_output: Tensor | None = None) -> Tensor:
        """Return d L / d input for the last ``forward``, given d L / d output (``None``: 1, 0-dim only)."""

    def _output_grad(self, grad_output: Tensor | None, shape: tuple[int, ...]) -> Tensor | None:
        """``None`` for an implicit 1 (a 0-dim output), else ``grad_output`` checked against ``shape``."""
        if grad_output is None:
            if shape:
                raise ValueError(
                    f"{self!r}: expected grad_output of shape {tuple(shape)} (d L / d output; only a 0-dim "
                    "loss may leave it out), got None"
                )
            return None
        self._check_floating(grad_output, "grad_output")
        self._check_grad_output(grad_output, shape)
        return grad_output

    def __call__(self, input: Tensor, target: Tensor) -> Tensor:
        return self.forward(input, target)


# One instance per network: the weak links from a module to the modules that hold it, and the walks.

# id(child) -> {id(holder): weak reference to holder}, kept outside the instances so that modules
# stay picklable and need not be hashable. A link is a hint: it counts only while the holder is alive
# and still holds the child, and a child's entry goes when the child is collected.
_HOLDERS: dict[int, dict[int, "weakref.ref[ModuleBase]"]] = {}


def position_name(name: str) -> str:
    """How a child's name reads in a path: ``[2]`` for a container index, ``.first`` for an attribute."""
    return f"[{name}]" if name.isdigit() else f".{name}"


def _fresh(value: object) -> object:
    """The value of a private attribute in a shared copy: caches start empty (see ``shared_copy``)."""
    if isinstance(value, torch.Tensor | torch.Size):
        return None
    if isinstance(value, dict | list):
        fresh = copy.copy(value)
        items = value.values() if isinstance(value, dict) else value
        if all(isinstance(item, torch.Tensor) for item in items):
            fresh.clear()
        return fresh
    return value


def _link(holder: ModuleBase, child: ModuleBase) -> None:
    links = _HOLDERS.get(id(child))
    if links is None:
        links = _HOLDERS[id(child)] = {}
        weakref.finalize(child, _HOLDERS.pop, id(child), None).atexit = False
    links[id(holder)] = weakref.ref(holder)


def _holders(child: ModuleBase) -> list[ModuleBase]:
    """The live modules that hold ``child`` as a direct child now; stale links are dropped."""
    links = _HOLDERS.get(id(child), {})
    holders = []
    for key, ref in list(links.items()):
        holder = ref()
        if holder is not None and any(other is child for other in holder.children()):
            holders.append(holder)
        else:
            del links[key]
    return holders


def _roots(module: ModuleBase) -> list[ModuleBase]:
    """The outermost modules of every network that holds ``module`` (``module`` itself if none does)."""
    roots, seen, todo = [], {id(module)}, [module]
    while todo:
        node = todo.pop()
        holders = _holders(node)
        if not holders:
            roots.append(node)
        for holder in holders:
            if id(holder) not in seen:
                seen.add(id(holder))
                todo.append(holder)
    return roots


def _first_repeat(root: ModuleBase) -> tuple[ModuleBase, str, str] | None:
    """The first module (in forward order) found at two positions under ``root``, and both paths.

    Links every parent-child pair it walks. It stops at the first repeat, so it ends on a cycle too.
    """
    first: dict[int, str] = {}

    def visit(node: ModuleBase, path: str) -> tuple[ModuleBase, str, str] | None:
        for name, child in node.named_children():
            _link(node, child)
            where = path + position_name(name)
            if id(child) in first:
                return child, first[id(child)], where
            first[id(child)] = where
            found = visit(child, where)
            if found is not None:
                return found
        return None

    return visit(root, "")


def _path_to(start: ModuleBase, target: ModuleBase) -> str | None:
    """The path from ``start`` down to ``target``, or ``None`` if ``target`` is not under ``start``."""
    seen: set[int] = set()

    def visit(node: ModuleBase, path: str) -> str | None:
        for name, child in node.named_children():
            where = path + position_name(name)
            if child is target:
                return where
            if id(child) not in seen:
                seen.add(id(child))
                found = visit(child, where)
                if found is not None:
                    return found
        return None

    return visit(start, "")
