"""Learning-rate schedulers: each sets ``optimizer.lr`` from a closed form, once per epoch."""

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Self, TypeAlias

from typing_extensions import override

from minitorch_nn._arguments import check_arguments
from minitorch_nn.optim.optimizer import OptimizerBase, check_number, check_positive_int

__all__ = ["CosineAnnealingLR", "Scheduler", "SchedulerState", "StepLR"]

SchedulerState: TypeAlias = dict[str, float | int]
"""What ``Scheduler.state_dict`` returns: ``base_lr``, ``last_epoch`` and the settings.

Example:
    >>> import torch
    >>> from minitorch_nn.optim import SGD
    >>> from minitorch_nn.parameter import Parameter
    >>> scheduler = StepLR(SGD([Parameter(torch.zeros(1))], lr=0.1), step_size=2)
    >>> scheduler.step()
    >>> scheduler.state_dict()
    {'base_lr': 0.1, 'last_epoch': 1, 'step_size': 2, 'gamma': 0.1}
"""


class Scheduler(ABC):
    """Shared behaviour: count epochs and set ``optimizer.lr`` to ``lr_at(last_epoch)``.

    Constructing a scheduler records ``base_lr = optimizer.lr`` and sets
    ``last_epoch = 0`` without touching ``optimizer.lr``. Call ``step()`` once
    per epoch, after that epoch's ``optimizer.step()`` calls, as with
    ``torch.optim.lr_scheduler``. A subclass gives the closed form ``lr_at``
    and checks, returns and stores its settings.

    Attributes:
        optimizer: the optimizer whose ``lr`` is set.
        base_lr: the optimizer's ``lr`` when the scheduler was made.
        last_epoch: how many times ``step`` has run.

    Example:
        >>> import torch
        >>> from minitorch_nn.optim import SGD
        >>> from minitorch_nn.parameter import Parameter
        >>> scheduler = StepLR(SGD([Parameter(torch.zeros(1))], lr=1.0), step_size=2, gamma=0.5)
        >>> for _ in range(3):
        ...     scheduler.step()
        >>> scheduler.state_dict()
        {'base_lr': 1.0, 'last_epoch': 3, 'step_size': 2, 'gamma': 0.5}
        >>> scheduler.get_last_lr(), scheduler.optimizer.lr
        (0.5, 0.5)
    """

    optimizer: OptimizerBase
    base_lr: float
    last_epoch: int

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        # An argument the class does not take is named with the public class, before __init__ runs.
        check_arguments(cls.__name__, cls.__init__, args, kwargs)
        return super().__new__(cls)

    def __init__(
        self, optimizer: OptimizerBase, settings: Mapping[str, object], last_epoch: int = -1
    ) -> None:
        if not isinstance(optimizer, OptimizerBase):
            raise TypeError(f"{self._name}: expected an OptimizerBase, got {type(optimizer).__name__}")
        if isinstance(last_epoch, bool) or last_epoch != -1:
            raise ValueError(
                f"{self._name}: expected last_epoch=-1 (a new schedule), got {last_epoch!r}; "
                "to resume one, call load_state_dict with its state_dict"
            )
        self._apply(self._checked(settings))
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    @property
    def _name(self) -> str:
        return type(self).__name__

    @abstractmethod
    def lr_at(self, epoch: int) -> float:
        """The closed-form learning rate after ``epoch`` >= 1 calls to ``step``."""

    @abstractmethod
    def settings(self) -> dict[str, float | int]:
        """Return ``{name: value}`` for every constructor setting."""

    @abstractmethod
    def _checked(self, settings: Mapping[str, object]) -> dict[str, float | int]:
        """Check every setting (raising on the first bad one) and return them as stored."""

    @abstractmethod
    def _apply(self, settings: dict[str, float | int]) -> None:
        """Store settings that ``_checked`` returned."""

    def step(self) -> None:
        """Advance ``last_epoch`` by one and set ``optimizer.lr`` for the next epoch."""
        self.last_epoch += 1
        self.optimizer.lr = self.get_last_lr()

    def get_last_lr(self) -> float:
        """The learning rate the last ``step`` set (``base_lr`` before the first)."""
        return self.base_lr if self.last_epoch == 0 else self.lr_at(self.last_epoch)

    def state_dict(self) -> SchedulerState:
        """Return ``base_lr``, ``last_epoch`` and the settings, all plain numbers."""
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch, **self.settings()}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore what ``state_dict`` returned; ``optimizer.lr`` is left as it is, as in torch.

        Raises:
            ValueError: listing every problem, if ``state`` does not fit this scheduler.
        """
        problems: list[str] = []
        names = sorted(self.state_dict())
        if sorted(state) != names:
            problems.append(f"expected keys {names}, got {sorted(state)}")
        last_epoch = state.get("last_epoch")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < 0:
            problems.append(f"expected last_epoch to be an int >= 0, got {last_epoch!r}")
        base_lr: float | None = None
        settings: dict[str, float | int] | None = None
        try:
            base_lr = check_number(self._name, "base_lr", state.get("base_lr"), ">= 0")
            settings = self._checked({name: state.get(name) for name in self.settings()})
        except (TypeError, ValueError) as error:
            problems.append(str(error))
        if problems or base_lr is None or settings is None or not isinstance(last_epoch, int):
            raise ValueError(
                "\n  ".join([f"{self._name}.load_state_dict: the state does not match", *problems])
            )
        self._apply(settings)
        self.base_lr, self.last_epoch = base_lr, last_epoch

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value}" for name, value in self.settings().items())
        return f"{self._name}({settings}, base_lr={self.base_lr}, last_epoch={self.last_epoch})"


class StepLR(Scheduler):
    r"""Step decay: :math:`\text{lr}_t = \text{lr}_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}`.

    Here :math:`t` is ``last_epoch`` and :math:`\text{lr}_0` is ``base_lr``. This
    is the closed form of ``torch.optim.lr_scheduler.StepLR``.

    Args:
        optimizer: the optimizer whose ``lr`` is set; its current ``lr`` becomes ``base_lr``.
        step_size: the number of epochs between two decays, an int > 0.
        gamma: the factor applied at each decay, a finite number > 0. Default: 0.1.
        last_epoch: torch's argument; only -1, a new schedule, is taken (resume with
            ``load_state_dict``). Default: -1.

    Raises:
        TypeError: if ``optimizer`` is not an ``OptimizerBase``, ``step_size`` is not an int
            or ``gamma`` is not a number.
        ValueError: if ``step_size`` or ``gamma`` is not > 0, or ``gamma`` is not finite.

    Example:
        >>> import torch
        >>> from minitorch_nn.optim import SGD
        >>> from minitorch_nn.parameter import Parameter
        >>> optimizer = SGD([Parameter(torch.zeros(1))], lr=1.0)
        >>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(optimizer.lr)  # the rate this epoch's steps use
        ...     optimizer.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    step_size: int
    gamma: float

    def __init__(
        self, optimizer: OptimizerBase, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        super().__init__(optimizer, {"step_size": step_size, "gamma": gamma}, last_epoch)

    @override
    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)

    @override
    def settings(self) -> dict[str, float | int]:
        return {"step_size": self.step_size, "gamma": self.gamma}

    @override
    def _checked(self, settings: Mapping[str, object]) -> dict[str, float | int]:
        return {
            "step_size": check_positive_int(self._name, "step_size", settings["step_size"]),
            "gamma": check_number(self._name, "gamma", settings["gamma"], "> 0"),
        }

    @override
    def _apply(self, settings: dict[str, float | int]) -> None:
        self.step_size = int(settings["step_size"])
        self.gamma = float(settings["gamma"])


class CosineAnnealingLR(Scheduler):
    r"""Cosine annealing: :math:`\text{lr}_t = \eta + (\text{lr}_0 - \eta)(1 + \cos(\pi t / T_{max})) / 2`.

    Here :math:`t` is ``last_epoch``, :math:`\text{lr}_0` is ``base_lr`` and
    :math:`\eta` is ``eta_min``. The rate reaches ``eta_min`` at
    :math:`t = T_{max}` and, without restarts, climbs back to ``base_lr`` at
    :math:`2 T_{max}`. This closed form agrees with the recursive update of
    ``torch.optim.lr_scheduler.CosineAnnealingLR`` to rounding error.

    Args:
        optimizer: the optimizer whose ``lr`` is set; its current ``lr`` becomes ``base_lr``.
        T_max: the number of epochs from ``base_lr`` down to ``eta_min``, an int > 0.
        eta_min: the lowest learning rate, a finite number >= 0. Default: 0.
        last_epoch: torch's argument; only -1, a new schedule, is taken (resume with
            ``load_state_dict``). Default: -1.

    Raises:
        TypeError: if ``optimizer`` is not an ``OptimizerBase``, ``T_max`` is not an int
            or ``eta_min`` is not a number.
        ValueError: if ``T_max`` is not > 0, or ``eta_min`` is negative or not finite.

    Example:
        >>> import torch
        >>> from minitorch_nn.optim import SGD
        >>> from minitorch_nn.parameter import Parameter
        >>> optimizer = SGD([Parameter(torch.zeros(1))], lr=1.0)
        >>> scheduler = CosineAnnealingLR(optimizer, T_max=4)
        >>> lrs = []
        >>> for epoch in range(9):
        ...     lrs.append(round(optimizer.lr, 4))  # the rate this epoch's steps use
        ...     optimizer.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.1464, 0.5, 0.8536, 1.0]
    """

    T_max: int
    eta_min: float

    def __init__(
        self,
        optimizer: OptimizerBase,
        T_max: int,  # noqa: N803  # torch's name
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        super().__init__(optimizer, {"T_max": T_max, "eta_min": eta_min}, last_epoch)

    @override
    def lr_at(self, epoch: int) -> float:
        # The expression, operation for operation, of torch's ``_get_closed_form_lr``.
        cosine = 1 + math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2

    @override
    def settings(self) -> dict[str, float | int]:
        return {"T_max": self.T_max, "eta_min": self.eta_min}

    @override
    def _checked(self, settings: Mapping[str, object]) -> dict[str, float | int]:
        return {
            "T_max": check_positive_int(self._name, "T_max", settings["T_max"]),
            "eta_min": check_number(self._name, "eta_min", settings["eta_min"], ">= 0"),
        }

    @override
    def _apply(self, settings: dict[str, float | int]) -> None:
        self.T_max = int(settings["T_max"])
        self.eta_min = float(settings["eta_min"])
