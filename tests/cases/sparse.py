"""Registry cases: lookup tables and shape modules (see tests/cases/__init__.py).

``Embedding`` is restated with ``F.embedding`` (whose autograd gives torch's
scatter-add and its padding rule); its input is integer indices drawn from
``[0, NUM_EMBEDDINGS)``, at least six of them, so some index repeats and the
scatter-add sums. ``PositionalEmbedding`` is ``x + weight[:L]`` with
``L < num_positions``; the shape modules are restated with the torch tensor
methods of their names (``unflatten``, ``permute``, ``select``, ``mean``).
"""

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor
from tests.cases.core import Dims, ModuleCase

NUM_EMBEDDINGS = 5  # fewer rows than indices in every case: some index repeats


def _indices(shape: Shape, g: torch.Generator) -> Tensor:
    return torch.randint(0, NUM_EMBEDDINGS, shape, generator=g)


def _embedding(name: str, padding_idx: int | None, shape: Callable[[Dims], Shape]) -> ModuleCase:
    return ModuleCase(
        name,
        lambda d, g: mn.Embedding(NUM_EMBEDDINGS, d.out, padding_idx, generator=g),
        shape,
        lambda x, p, t, d: F.embedding(x, p[0], padding_idx),
        input=_indices,
        differentiable_input=False,
        # the padding row gets no gradient by torch's convention, though the output depends on it
        finite_differences=padding_idx is None,
    )


def _positional(name: str, batch_first: bool, shape: Callable[[Dims], Shape]) -> ModuleCase:
    def reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
        rows = p[0][: d.height]  # the sequence length is d.height in every shape below
        return x + (rows.unsqueeze(1) if x.dim() == 3 and not batch_first else rows)

    return ModuleCase(
        name,
        lambda d, g: mn.PositionalEmbedding(d.height + 2, d.features, batch_first=batch_first, generator=g),
        shape,
        reference,
    )


def _shape_case(
    name: str,
    make: Callable[[Dims], mn.Module],
    shape: Callable[[Dims], Shape],
    reference: Callable[[Tensor, Dims], Tensor],
) -> ModuleCase:
    return ModuleCase(name, lambda d, g: make(d), shape, lambda x, p, t, d: reference(x, d))


def _sequence(d: Dims) -> Shape:
    return (d.batch, d.height, d.features)


CASES: list[ModuleCase] = [
    _embedding("Embedding", None, lambda d: (d.batch, d.height)),
    _embedding("Embedding-padding", 1, lambda d: (d.batch, d.height)),
    _embedding("Embedding-negative-padding", -1, lambda d: (d.batch, d.height)),
    _embedding("Embedding-1d", None, lambda d: (d.height,)),
    _embedding("Embedding-3d-padding", 0, lambda d: (d.batch, d.channels, d.height)),
    _positional("PositionalEmbedding", True, _sequence),
    _positional("PositionalEmbedding-sequence-first", False, lambda d: (d.height, d.batch, d.features)),
    _positional("PositionalEmbedding-unbatched", True, lambda d: (d.height, d.features)),
    _shape_case(
        "Unflatten",
        lambda d: mn.Unflatten(1, (d.features, d.out)),
        lambda d: (d.batch, d.features * d.out),
        lambda x, d: x.reshape(d.batch, d.features, d.out),
    ),
    _shape_case(
        "Unflatten-inferred-last",
        lambda d: mn.Unflatten(-1, (-1, d.out)),
        lambda d: (d.batch, d.channels, d.features * d.out),
        lambda x, d: x.reshape(d.batch, d.channels, d.features, d.out),
    ),
    _shape_case("Permute", lambda d: mn.Permute([0, 2, 1]), _sequence, lambda x, d: x.permute(0, 2, 1)),
    _shape_case(
        "Permute-negative", lambda d: mn.Permute([-1, 0, 1]), _sequence, lambda x, d: x.permute(2, 0, 1)
    ),
    _shape_case("Select-last-step", lambda d: mn.Select(1, -1), _sequence, lambda x, d: x[:, -1]),
    _shape_case("Select-negative-dim", lambda d: mn.Select(-1, 1), _sequence, lambda x, d: x[..., 1]),
    _shape_case("Mean", lambda d: mn.Mean(1), _sequence, lambda x, d: x.mean(1)),
    _shape_case(
        "Mean-keepdim", lambda d: mn.Mean(-1, keepdim=True), _sequence, lambda x, d: x.mean(-1, keepdim=True)
    ),
]
