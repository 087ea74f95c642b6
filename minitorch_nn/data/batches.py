"""Mini-batches from in-memory tensors, drawn by ``torch.utils.data`` samplers."""

from collections.abc import Iterator, Sized

import torch
from torch.utils.data import BatchSampler, RandomSampler, Sampler, SequentialSampler

from minitorch_nn._types import Tensor

__all__ = ["TensorLoader"]


class TensorLoader:
    """Iterate over mini-batches of tensors that share their first dimension.

    Each pass (``for batch in loader``) is one epoch. With ``shuffle=True`` a
    fresh permutation is drawn from ``generator`` at the start of every epoch,
    so a seeded generator makes the whole sequence of epochs reproducible.
    Batches are gathered by indexing the tensors, so no per-sample collation
    happens; ``sampler`` accepts any ``torch.utils.data.Sampler`` (such as a
    ``DistributedSampler``) in place of the built-in order.

    Args:
        *tensors: the tensors to batch, all with the same first dimension N.
        batch_size: samples per batch, >= 1.
        shuffle: draw a new random order every epoch. Default: ``False``.
        drop_last: drop the last batch if it is smaller than ``batch_size``. Default: ``False``.
        generator: random generator for the shuffling. Default: torch's global one.
        sampler: yields the sample indices of one epoch; excludes ``shuffle``. Default: ``None``.

    Shape:
        - Each tensor: :math:`(N, *)`.
        - Each batch: a tuple with one :math:`(B, *)` tensor per input tensor, :math:`B \\le` ``batch_size``.

    Example:
        >>> x, y = torch.arange(10.0).view(5, 2), torch.arange(5)
        >>> g = torch.Generator().manual_seed(0)
        >>> loader = TensorLoader(x, y, batch_size=2, shuffle=True, generator=g)
        >>> len(loader)
        3
        >>> [batch_y.tolist() for _, batch_y in loader]
        [[4, 0], [1, 3], [2]]
    """

    def __init__(
        self,
        *tensors: Tensor,
        batch_size: int,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
        sampler: Sampler[int] | None = None,
    ) -> None:
        if not tensors:
            raise ValueError("TensorLoader: expected at least one tensor, got none")
        sizes = [t.shape[0] if t.dim() else None for t in tensors]
        if sizes[0] is None or any(size != sizes[0] for size in sizes):
            raise ValueError(
                f"TensorLoader: expected tensors with the same first dimension, got sizes {sizes}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"TensorLoader: expected batch_size to be an int >= 1, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("TensorLoader: expected either sampler or shuffle=True, got both")
        self.tensors, self.batch_size, self.drop_last = tensors, batch_size, drop_last
        indices = range(sizes[0])
        self.sampler: Sampler[int] = sampler or (
            RandomSampler(indices, generator=generator) if shuffle else SequentialSampler(indices)
        )

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        for indices in BatchSampler(self.sampler, self.batch_size, self.drop_last):
            index = torch.tensor(indices, device=self.tensors[0].device)
            yield tuple(tensor.index_select(0, index) for tensor in self.tensors)

    def __len__(self) -> int:
        assert isinstance(self.sampler, Sized), "the sampler must have a length"
        count = len(self.sampler)
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)
