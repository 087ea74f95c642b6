"""Training: ``fit`` and ``evaluate``, their history, progress bars, and non-finite checks."""

from minitorch_nn.history import EpochRecord, History
from minitorch_nn.train.evaluation import Evaluation, confusion_matrix, evaluate
from minitorch_nn.train.finite import NonFiniteError
from minitorch_nn.train.loop import fit

__all__ = ["EpochRecord", "Evaluation", "History", "NonFiniteError", "confusion_matrix", "evaluate", "fit"]
