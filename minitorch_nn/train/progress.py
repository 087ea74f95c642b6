"""Progress bars (tqdm) for ``fit``: one over the epochs, and one over the batches of a long epoch."""

import sys
from types import TracebackType
from typing import Never

from tqdm import tqdm

from minitorch_nn.history import EpochRecord

__all__ = ["LONG_EPOCH_BATCHES", "Progress"]

LONG_EPOCH_BATCHES = 50
"""From how many batches an epoch gets a bar of its own."""


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


class Progress:
    """The bars of one ``fit`` call; every method is a no-op when disabled.

    Args:
        enabled: draw bars; ``None`` draws them only when stderr is a terminal.
        start: epochs already done (when resuming).
        epochs: the total number of epochs.
    """

    def __init__(self, enabled: bool | None, start: int, epochs: int) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._epochs = tqdm(
            total=epochs,
            initial=start,
            desc="epochs",
            unit="epoch",
            disable=not self.enabled,
            file=sys.stderr,
        )
        self._batches: tqdm[Never] | None = None

    def start_epoch(self, epoch: int, batches: int) -> None:
        """Open a bar over the batches if the epoch has many of them."""
        if self.enabled and batches >= LONG_EPOCH_BATCHES:
            self._batches = tqdm(
                total=batches, desc=f"epoch {epoch}", unit="batch", leave=False, file=sys.stderr
            )

    def batch(self, loss: float, errors: int, count: int) -> None:
        """Advance the batch bar and show the running loss and error."""
        if self._batches is not None:
            self._batches.set_postfix(loss=f"{loss:.4g}", error=_percent(errors / count), refresh=False)
            self._batches.update()

    def end_epoch(self, record: EpochRecord) -> None:
        """Close the batch bar, advance the epoch bar and show the epoch's figures."""
        if self._batches is not None:
            self._batches.close()
            self._batches = None
        self._epochs.set_postfix(
            loss=f"{record.train_loss:.4g}",
            train_error=_percent(record.train_error),
            eval_error=_percent(record.eval_error),
            refresh=False,
        )
        self._epochs.update()

    def close(self) -> None:
        """Close every bar."""
        if self._batches is not None:
            self._batches.close()
        self._epochs.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
