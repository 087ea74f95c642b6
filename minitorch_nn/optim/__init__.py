"""Optimizers and learning-rate schedules, laid out as ``torch.optim``.

- ``optimizer``: ``OptimizerBase``, the ``Optimizer`` and ``HasParameters`` protocols, the state types
- ``sgd``: ``SGD``; ``adam``: ``Adam`` and ``AdamW``
- ``lr_scheduler``: ``StepLR``, ``CosineAnnealingLR`` and their base, ``Scheduler``
"""

from minitorch_nn.optim.adam import Adam, AdamW
from minitorch_nn.optim.lr_scheduler import CosineAnnealingLR, Scheduler, SchedulerState, StepLR
from minitorch_nn.optim.optimizer import HasParameters, Optimizer, OptimizerBase, OptimizerState
from minitorch_nn.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "HasParameters",
    "Optimizer",
    "OptimizerBase",
    "OptimizerState",
    "Scheduler",
    "SchedulerState",
    "StepLR",
]
