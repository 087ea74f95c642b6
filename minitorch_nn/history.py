"""What a training run measured: one record per epoch, as JSON lines and as columns."""

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields

__all__ = ["EpochRecord", "History"]


@dataclass(frozen=True)
class EpochRecord:
    """The figures of one epoch.

    Args:
        epoch: the epoch's number, counted from 1.
        train_loss: the loss of the epoch's forward passes (each before its batch's step), pooled
            over the batches as the criterion's reduction pools samples: the mean over all the
            epoch's samples, or their sum for ``reduction="sum"``.
        train_error: the fraction of training samples misclassified by those same forward passes,
            or ``None`` when the targets are not class labels.
        eval_loss: the loss on ``eval_data`` after the epoch, or ``None`` without eval data.
        eval_error: the error on ``eval_data`` after the epoch, or ``None``.
        lr: the learning rate the epoch trained with.
        seconds: wall time of the epoch, evaluation included.

    Example:
        >>> record = EpochRecord(1, train_loss=0.5, train_error=0.25, lr=0.1, seconds=1.5)
        >>> line = record.to_json()
        >>> line[:52]
        '{"epoch": 1, "train_loss": 0.5, "train_error": 0.25,'
        >>> EpochRecord.from_dict(json.loads(line)) == record
        True
    """

    epoch: int
    train_loss: float
    train_error: float | None = None
    eval_loss: float | None = None
    eval_error: float | None = None
    lr: float = math.nan
    seconds: float = 0.0

    def to_json(self) -> str:
        """One JSON object on one line; floats are written so that they read back bit for bit."""
        return json.dumps(asdict(self))

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> "EpochRecord":
        """The inverse of ``asdict``; raise ``ValueError`` on missing or unknown keys."""
        names = {f.name for f in fields(cls)}
        if set(values) != names:
            raise ValueError(f"EpochRecord: expected keys {sorted(names)}, got {sorted(values)}")
        return cls(**values)  # type: ignore[arg-type]  # values come from to_json; the keys are checked


@dataclass
class History:
    """Per-epoch records of one run, in order; ``fit`` appends one per epoch.

    Example:
        >>> history = History([EpochRecord(1, 2.0, 0.5), EpochRecord(2, 1.0, 0.25)])
        >>> len(history), history.train_loss, history.train_error
        (2, [2.0, 1.0], [0.5, 0.25])
    """

    records: list[EpochRecord] = field(default_factory=list)
    diagnostics: list[dict[str, object]] = field(default_factory=list)
    """Per-epoch diagnostics (``fit(..., diagnostics=True)``): not stored in checkpoints."""

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[EpochRecord]:
        return iter(self.records)

    def __getitem__(self, index: int) -> EpochRecord:
        return self.records[index]

    def append(self, record: EpochRecord) -> None:
        """Add the next epoch's record."""
        self.records.append(record)

    @property
    def train_loss(self) -> list[float]:
        """``train_loss`` of every epoch."""
        return [r.train_loss for r in self.records]

    @property
    def train_error(self) -> list[float | None]:
        """``train_error`` of every epoch."""
        return [r.train_error for r in self.records]

    @property
    def eval_error(self) -> list[float | None]:
        """``eval_error`` of every epoch."""
        return [r.eval_error for r in self.records]

    @property
    def eval_loss(self) -> list[float | None]:
        """``eval_loss`` of every epoch."""
        return [r.eval_loss for r in self.records]

    @property
    def seconds(self) -> list[float]:
        """Wall time of every epoch."""
        return [r.seconds for r in self.records]

    def to_json(self) -> str:
        """The records as a JSON list (the form a checkpoint stores)."""
        return json.dumps([asdict(r) for r in self.records])

    @classmethod
    def from_json(cls, text: str) -> "History":
        """Read what ``to_json`` wrote; raise ``ValueError`` if it is not a list of records."""
        values = json.loads(text)
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            raise ValueError(f"History: expected a JSON list of records, got {text[:80]!r}")
        return cls([EpochRecord.from_dict(v) for v in values])
