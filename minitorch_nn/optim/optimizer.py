"""What every optimizer shares: the ``Optimizer`` and ``HasParameters`` protocols, ``OptimizerBase`` (the step
loop, ``zero_grad``, the state dict) and the state types."""

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from numbers import Real
from typing import ClassVar, Protocol, Self, TypeAlias, TypedDict, runtime_checkable

import torch

from minitorch_nn._arguments import check_arguments, check_bool
from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.parameter import Parameter

__all__ = ["HasParameters", "Hyperparameters", "Optimizer", "OptimizerBase", "OptimizerState", "Params"]


@runtime_checkable
class Optimizer(Protocol):
    """What a training loop needs from an optimizer.

    Example:
        >>> import torch
        >>> from minitorch_nn.optim import SGD
        >>> isinstance(SGD([Parameter(torch.zeros(2))], lr=0.1), Optimizer)
        True
    """

    def step(self) -> None:
        """Update every parameter's ``value`` from its ``grad``, in place."""

    def zero_grad(self) -> None:
        """Zero every parameter's ``grad``, in place."""


@runtime_checkable
class HasParameters(Protocol):
    """Anything that yields ``Parameter`` objects, such as a ``Module``.

    Example:
        >>> from minitorch_nn.modules.linear import Linear
        >>> isinstance(Linear(3, 2), HasParameters)
        True
    """

    def parameters(self) -> Iterable[Parameter]:
        """Yield the parameters."""
        ...


Params: TypeAlias = Iterable[Parameter] | Iterable[tuple[str, Parameter]]
"""What an optimizer takes: parameters, or ``(name, Parameter)`` pairs as ``named_parameters()`` yields."""

Hyperparameters: TypeAlias = dict[str, float | bool]
"""Hyperparameter names and values: JSON-able scalars."""

_INTERVALS: dict[str, Callable[[float], bool]] = {
    ">= 0": lambda x: x >= 0,
    "> 0": lambda x: x > 0,
    "in [0, 1)": lambda x: 0 <= x < 1,
    "in [0, 1]": lambda x: 0 <= x <= 1,
}


def check_number(owner: str, name: str, value: object, interval: str) -> float:
    """Return ``value`` as a float; raise unless it is a finite real number in ``interval``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: expected {name} to be a number, got {type(value).__name__}")
    if math.isinf(value):
        raise ValueError(f"{owner}: expected {name} to be finite, got {value!r}")
    if not _INTERVALS[interval](float(value)):
        raise ValueError(f"{owner}: expected {name} {interval}, got {value!r}")
    return float(value)


def check_lr(owner: str, value: object) -> float:
    """Return ``value`` as a float; raise unless it is a finite number >= 0 or such a one-element tensor."""
    number = tensor_scalar(owner, "lr", value)
    if isinstance(number, bool) or not isinstance(number, Real):
        raise TypeError(f"{owner}: expected lr to be a number, got {type(number).__name__}")
    if not (math.isfinite(number) and float(number) >= 0):
        raise ValueError(f"{owner}: expected lr to be a finite number >= 0, got {number!r}")
    return float(number)


def tensor_scalar(owner: str, name: str, value: object) -> object:
    """The float in a one-element floating-point tensor (torch takes such hyperparameters); else ``value``."""
    if not isinstance(value, torch.Tensor):
        return value
    if not value.is_floating_point():
        raise TypeError(
            f"{owner}: expected {name} to be a number or a floating-point tensor, got {value.dtype}"
        )
    if value.numel() != 1:
        raise ValueError(
            f"{owner}: expected a tensor {name} to have one element, got shape {shape_str(value)}"
        )
    return float(value.detach().item())


def check_implementation(owner: str, flags: Mapping[str, object]) -> None:
    """Check torch's implementation flags: ``foreach``/``fused`` (``None`` or a bool, not both ``True``),
    ``differentiable``/``capturable`` (``False`` only: each is refused with its reason)."""
    for name in ("foreach", "fused"):
        if name in flags and flags[name] is not None and not isinstance(flags[name], bool):
            raise TypeError(
                f"{owner}: expected {name} to be a bool or None, got {type(flags[name]).__name__}"
            )
    if flags.get("foreach") is True and flags.get("fused") is True:
        raise ValueError(f"{owner}: foreach=True and fused=True cannot be set together")
    reasons = {
        "differentiable": "steps run outside autograd here, so nothing can be differentiated through them",
        "capturable": "the step count is a Python int here, so a step cannot be captured in a CUDA graph",
    }
    for name, reason in reasons.items():
        if name in flags and check_bool(owner, name, flags[name]):
            raise ValueError(f"{owner}: {name}=True is not supported: {reason}")


def check_positive_int(owner: str, name: str, value: object) -> int:
    """Return ``value``; raise unless it is an ``int`` (not a ``bool``) > 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: expected {name} to be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{owner}: expected {name} > 0, got {value}")
    return value


class OptimizerState(TypedDict):
    """What ``OptimizerBase.state_dict`` returns: JSON-able scalars and tensors kept apart.

    Keys of ``state`` are ``"<i>.<buffer>"``, where ``i`` is the parameter's
    position in ``params``. Before the first step ``state`` is empty; after it,
    every parameter has every buffer of its optimizer.

    Example:
        >>> from minitorch_nn.optim import SGD
        >>> saved = SGD([Parameter(torch.zeros(2))], lr=0.1, momentum=0.9).state_dict()
        >>> saved["optimizer"], saved["hyperparameters"]["momentum"], saved["step"], saved["state"]
        ('SGD', 0.9, 0, {})
    """

    optimizer: str
    hyperparameters: Hyperparameters
    step: int
    state: dict[str, Tensor]


def _collect(owner: str, params: Params) -> list[Parameter]:
    if isinstance(params, Parameter):
        raise TypeError(f"{owner}: expected an iterable of Parameter, got a single Parameter")
    collected = [_unnamed(owner, index, param) for index, param in enumerate(params)]
    if not collected:
        raise ValueError(f"{owner}: expected at least one Parameter, got an empty iterable")
    if len({id(p) for p in collected}) != len(collected):
        raise ValueError(f"{owner}: some parameters appear more than once")
    return collected


def _unnamed(owner: str, index: int, param: object) -> Parameter:
    """``param``, or the ``Parameter`` of a ``(name, Parameter)`` pair, as ``named_parameters()`` yields."""
    if isinstance(param, tuple) and len(param) == 2 and isinstance(param[0], str):
        param = param[1]
    if isinstance(param, Mapping):
        raise TypeError(
            f"{owner}: param groups (dicts in params) are not supported; "
            f"make one {owner} per group, e.g. {owner}(group['params'], lr=group['lr'])"
        )
    if not isinstance(param, Parameter):
        raise TypeError(f"{owner}: expected a Parameter at position {index}, got {type(param).__name__}")
    return param


class OptimizerBase(ABC):
    """Shared behaviour: the parameter list, ``step``, ``zero_grad`` and the state dict.

    A subclass checks and stores its hyperparameters (``_checked``, ``_apply``,
    ``hyperparameters``), names its per-parameter buffers (``_buffer_names``)
    and updates one parameter (``_update``). Buffers are created lazily by the
    first ``step``, as ``torch.optim`` does. An argument the constructor does
    not take is refused before ``__init__`` runs, naming the public class.
    A hyperparameter added in a later release is listed in ``_added`` with its
    default, so that a state saved before it existed still loads.

    Args:
        params: an iterable of ``Parameter``, such as ``model.parameters()``, or of ``(name, Parameter)``
            pairs, such as ``model.named_parameters()``; param groups (dicts) are refused.
        hyperparameters: the subclass's constructor arguments, ``lr`` included, given to ``_checked``.

    Attributes:
        params: the parameters, in the order given.
        lr: the learning rate; a scheduler may set it between steps.
        num_steps: how many times ``step`` has run.

    Example:
        >>> from minitorch_nn.optim import SGD
        >>> p = Parameter(torch.tensor([1.0]))
        >>> optimizer = SGD([p], lr=0.5, momentum=0.9)
        >>> _ = p.grad.fill_(1.0)
        >>> optimizer.step()
        >>> saved = optimizer.state_dict()
        >>> saved["step"], saved["state"]
        (1, {'0.momentum_buffer': tensor([1.])})
        >>> fresh = SGD([p], lr=0.1)
        >>> fresh.load_state_dict(saved)
        >>> fresh.lr, fresh.momentum
        (0.5, 0.9)
    """

    params: list[Parameter]
    num_steps: int
    _added: ClassVar[Hyperparameters] = {}
    """Hyperparameters added after a release, with their defaults: a saved state without them still loads."""

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        # An argument the class does not take is named with the public class, before __init__ runs.
        check_arguments(cls.__name__, cls.__init__, args, kwargs)
        return super().__new__(cls)

    def __init__(self, params: Params, hyperparameters: Mapping[str, object]) -> None:
        self.params = _collect(self._name, params)
        lr = hyperparameters["lr"]
        self._lr_dtype = lr.dtype if isinstance(lr, torch.Tensor) and lr.is_floating_point() else None
        self._apply(self._checked(hyperparameters))
        self.num_steps = 0
        self._state: list[dict[str, Tensor]] = [{} for _ in self.params]

    @property
    def _name(self) -> str:
        return type(self).__name__

    @property
    def lr(self) -> float:
        """The learning rate, a float; a scheduler may set it between steps.

        Setting it checks the value (a finite number >= 0). If the optimizer
        was given a tensor ``lr``, a value set later is rounded to that
        tensor's dtype, as torch's ``lr.fill_(value)`` does.
        """
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        lr = check_lr(self._name, value)
        if self._lr_dtype is not None:
            rounded = float(torch.tensor(lr, dtype=self._lr_dtype))
            if not math.isfinite(rounded):
                raise ValueError(f"{self._name}: expected lr to be finite in {self._lr_dtype}, got {lr!r}")
            lr = rounded
        self._lr = lr

    @abstractmethod
    def hyperparameters(self) -> Hyperparameters:
        """Return ``{name: value}`` for every hyperparameter, ``lr`` included."""

    @abstractmethod
    def _checked(self, hyperparameters: Mapping[str, object]) -> Hyperparameters:
        """Check every hyperparameter (raising on the first bad one) and return them as stored."""

    @abstractmethod
    def _apply(self, hyperparameters: Hyperparameters) -> None:
        """Store hyperparameters that ``_checked`` returned."""

    @abstractmethod
    def _buffer_names(self, hyperparameters: Hyperparameters) -> tuple[str, ...]:
        """The buffers each parameter has after a step, under these hyperparameters."""

    @abstractmethod
    def _update(self, value: Tensor, grad: Tensor, state: dict[str, Tensor]) -> None:
        """Update one ``value`` in place from ``grad``; ``state`` holds its buffers."""

    def step(self) -> None:
        """Update every ``value`` in place from its ``grad`` (which is left unchanged)."""
        with torch.no_grad():
            self.num_steps += 1
            for param, state in zip(self.params, self._state, strict=True):
                self._update(param.value, param.grad, state)

    def zero_grad(self) -> None:
        """Zero every ``grad``, in place, in one multi-tensor call."""
        torch._foreach_zero_([param.grad for param in self.params])

    def state_dict(self) -> OptimizerState:
        """Return the hyperparameters, the step count and clones of every buffer."""
        tensors = {
            f"{index}.{name}": buffer.detach().clone()
            for index, state in enumerate(self._state)
            for name, buffer in state.items()
        }
        return {
            "optimizer": self._name,
            "hyperparameters": self.hyperparameters(),
            "step": self.num_steps,
            "state": tensors,
        }

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore what ``state_dict`` returned: hyperparameters (``lr`` too), step count, buffers.

        Everything is checked before anything changes. Buffers are copied onto
        their parameter's device and dtype.

        Raises:
            ValueError: listing every problem, if ``state`` does not fit this optimizer.
        """
        problems: list[str] = []
        hyperparameters = self._loaded_hyperparameters(state, problems)
        steps = state.get("step")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            problems.append(f"expected step to be an int >= 0, got {steps!r}")
        buffers: list[dict[str, Tensor]] = []
        if hyperparameters is not None and isinstance(steps, int) and steps >= 0:
            names = self._buffer_names(hyperparameters) if steps > 0 else ()
            buffers = self._loaded_buffers(state.get("state"), names, problems)
        if problems or hyperparameters is None or not isinstance(steps, int):
            raise ValueError(
                "\n  ".join([f"{self._name}.load_state_dict: the state does not match", *problems])
            )
        self._apply(hyperparameters)
        self.num_steps = steps
        self._state = buffers

    def _loaded_hyperparameters(
        self, state: Mapping[str, object], problems: list[str]
    ) -> Hyperparameters | None:
        if state.get("optimizer") != self._name:
            problems.append(f"expected optimizer {self._name!r}, got {state.get('optimizer')!r}")
        loaded = state.get("hyperparameters")
        if isinstance(loaded, Mapping):
            loaded = {**self._added, **loaded}  # a state saved before these existed
        names = sorted(self.hyperparameters())
        if not isinstance(loaded, Mapping) or sorted(loaded) != names:
            got = sorted(loaded) if isinstance(loaded, Mapping) else type(loaded).__name__
            problems.append(f"expected hyperparameters {names}, got {got}")
            return None
        try:
            return self._checked(loaded)
        except (TypeError, ValueError) as error:
            problems.append(str(error))
            return None

    def _loaded_buffers(
        self, tensors: object, names: tuple[str, ...], problems: list[str]
    ) -> list[dict[str, Tensor]]:
        if not isinstance(tensors, Mapping):
            problems.append(f"expected state to be a mapping of tensors, got {type(tensors).__name__}")
            return []
        expected = [(f"{i}.{name}", i, name) for i in range(len(self.params)) for name in names]
        buffers: list[dict[str, Tensor]] = [{} for _ in self.params]
        known = {key for key, _, _ in expected}
        problems += [f"unexpected key: {key}" for key in tensors if key not in known]
        for key, index, name in expected:
            tensor, param = tensors.get(key), self.params[index]
            if tensor is None:
                problems.append(f"missing key: {key}")
            elif not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
                kind = tensor.dtype if isinstance(tensor, torch.Tensor) else type(tensor).__name__
                problems.append(f"expected {key} to be a floating-point tensor, got {kind}")
            elif tensor.shape != param.shape:
                problems.append(
                    f"shape mismatch for {key}: expected {shape_str(param.value)}, got {shape_str(tensor)}"
                )
            else:
                buffers[index][name] = tensor.detach().to(param.device, param.dtype, copy=True)
        return buffers

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value}" for name, value in self.hyperparameters().items())
        return f"{self._name}({settings}, params={len(self.params)})"
