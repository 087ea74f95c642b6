"""Lookup tables: ``Embedding`` (a vector per index) and ``PositionalEmbedding`` (a vector per position).

An index has no gradient: ``Embedding.backward`` adds into the rows of
``weight.grad`` that the last ``forward`` looked up, and returns zeros of the
indices' shape (see its docstring, and ``docs/contract.md``).
"""

from typing import Final

import torch
import torch.nn.functional as F
from typing_extensions import override

from minitorch_nn import init
from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.modules.linear import check_size
from minitorch_nn.parameter import Parameter

__all__ = ["Embedding", "PositionalEmbedding"]

_INDEX_DTYPES: Final = (torch.int32, torch.int64)


class Embedding(Module):
    r"""Look up a row of a table for each index: :math:`y_{\ldots, :} = W_{x_{\ldots}, :}`.

    The gradient is a scatter-add: row :math:`i` of ``weight.grad`` receives the
    sum of ``grad_output`` over every position where index :math:`i` was looked
    up, except the row ``padding_idx``, which receives none (as torch's).

    Indices have no gradient. ``backward`` therefore returns zeros of the
    indices' shape, in the weight's dtype: the derivative of the output with
    respect to an index is zero wherever it exists, and a zero tensor lets the
    module stand anywhere ``backward`` is called (``Sequential.backward``,
    ``train.first_nonfinite_backward``). ``accumulate_grad``, which
    ``Sequential`` and ``fit`` use for the first layer, skips even that.

    Args:
        num_embeddings: number of rows of the table (indices run from 0 to ``num_embeddings - 1``).
        embedding_dim: size of each row.
        padding_idx: a row that gets no gradient and starts at zero (a padding token), or ``None``.
            A negative value counts from the end, as torch's. Default: ``None``.
        max_norm: if given, each row looked up whose ``norm_type``-norm exceeds it is rescaled in place
            to norm ``max_norm`` by ``forward``, before the lookup (as torch; the rescaling has no
            gradient). Default: ``None``.
        norm_type: the p of the p-norm for ``max_norm``. Default: 2.0.
        scale_grad_by_freq: divide each position's gradient by how often its index occurs in the
            batch. Default: ``False``.
        sparse: torch's sparse gradients; only ``False`` (gradients here are dense). Default: ``False``.
        _weight: the initial weight, of shape ``(num_embeddings, embedding_dim)`` (copied; the padding
            row is left as given, as torch does). Default: ``None``, drawn as below.
        _freeze: only ``False`` (leave the weight out of the optimizer to freeze it). Default: ``False``.
        generator: random generator for the initial values. Default: torch's global one.
        device: device of the weight. Default: torch's default device.
        dtype: floating-point dtype of the weight. Default: torch's default dtype.

    Shape:
        - Input: :math:`(*)`, integer indices (int32 or int64) of any shape, each in
          ``[0, num_embeddings)``.
        - Output: :math:`(*, H)` with :math:`H =` ``embedding_dim``.

    Attributes:
        weight: ``Parameter`` of shape ``(num_embeddings, embedding_dim)``, drawn from
            :math:`\mathcal{N}(0, 1)` as torch does, with the row ``padding_idx`` zeroed.

    Raises:
        TypeError: for floating-point (or other non-integer) indices.
        ValueError: for an index outside ``[0, num_embeddings)``, naming it (torch raises
            ``IndexError`` from inside the kernel; here the indices are checked before any work).

    Example:
        >>> table = Embedding(10, 3, padding_idx=0, generator=torch.Generator().manual_seed(0))
        >>> table
        Embedding(10, 3, padding_idx=0)
        >>> indices = torch.tensor([[1, 2, 0], [2, 2, 9]])
        >>> table(indices).shape
        torch.Size([2, 3, 3])
        >>> table.backward(torch.ones(2, 3, 3)).shape  # zeros: indices have no gradient
        torch.Size([2, 3])
        >>> table.weight.grad[:3, 0].tolist()  # row 0 is padding, row 2 was used three times
        [0.0, 1.0, 3.0]
    """

    num_embeddings: Final[int]
    embedding_dim: Final[int]
    padding_idx: Final[int | None]
    max_norm: Final[float | None]
    norm_type: Final[float]
    scale_grad_by_freq: Final[bool]
    sparse: Final[bool]
    fresh_output = True
    fresh_grad_input = True

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self._scratches: dict[str, Tensor] = {}  # see Module._scratch
        self.num_embeddings = check_size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = check_size("Embedding", "embedding_dim", embedding_dim)
        self.padding_idx = _padding_index(padding_idx, num_embeddings)
        self.max_norm, self.norm_type = _norm_settings(max_norm, norm_type)
        self.scale_grad_by_freq = check_bool("Embedding", "scale_grad_by_freq", scale_grad_by_freq)
        for name, value, why in (
            ("sparse", sparse, "gradients are dense tensors here"),
            ("_freeze", _freeze, "every Parameter here is trained; leave it out of the optimizer instead"),
        ):
            if check_bool("Embedding", name, value):
                raise ValueError(f"Embedding: expected {name}=False ({why}), got True")
        self.sparse = False
        self.weight = Parameter(self._initial(_weight, generator, device, dtype))
        self._input: Tensor | None = None

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return the rows of ``weight`` at ``input``; cache ``input`` (not a copy) for ``backward``."""
        self._check_indices(input)
        self._input = input
        if self.max_norm is not None:  # as torch: the looked-up rows renormalised in place, no gradient
            torch.embedding_renorm_(self.weight.value, input, self.max_norm, self.norm_type)
        return F.embedding(input, self.weight.value)

    def _initial(
        self,
        weight: Tensor | None,
        generator: torch.Generator | None,
        device: torch.device | str | None,
        dtype: torch.dtype | None,
    ) -> Tensor:
        """torch's initial weight: ``_weight`` (a copy) if given, else N(0, 1) with the padding row zeroed."""
        shape = (self.num_embeddings, self.embedding_dim)
        if weight is not None:
            if not isinstance(weight, torch.Tensor) or tuple(weight.shape) != shape:
                got = shape_str(weight) if isinstance(weight, torch.Tensor) else type(weight).__name__
                raise ValueError(f"Embedding: expected _weight of shape {shape}, got {got}")
            return weight.detach().to(device=device, dtype=dtype, copy=True)
        initial = init.normal_(torch.empty(shape, device=device, dtype=dtype), generator=generator)
        if self.padding_idx is not None:
            initial[self.padding_idx].zero_()
        return initial

    def _check_indices(self, input: Tensor) -> None:
        if not isinstance(input, torch.Tensor):
            raise TypeError(f"{self!r}: expected indices to be a torch.Tensor, got {type(input).__name__}")
        if input.dtype not in _INDEX_DTYPES:
            raise TypeError(
                f"{self!r}: expected integer indices (torch.int64 or torch.int32), got {input.dtype}"
            )
        if input.device != self.weight.value.device:
            raise ValueError(
                f"{self!r}: expected indices on device {self.weight.value.device}, got {input.device}"
            )
        if input.numel() == 0:
            return
        low, high = (int(value) for value in torch.aminmax(input))
        if low < 0 or high >= self.num_embeddings:
            bad = low if low < 0 else high
            raise ValueError(
                f"{self!r}: expected indices in [0, {self.num_embeddings}), got {bad} "
                f"(in indices of shape {shape_str(input)})"
            )

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Add the rows of ``grad_output`` into ``weight.grad`` at the cached indices (none into
        ``padding_idx``); return zeros of the indices' shape (indices have no gradient)."""
        input = self._accumulate(grad_output)
        return torch.zeros(input.shape, dtype=grad_output.dtype, device=grad_output.device)

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """As ``backward``, without the zeros."""
        self._accumulate(grad_output)

    def _accumulate(self, grad_output: Tensor) -> Tensor:
        input = self._cached(self._input)
        self._check_grad_output(grad_output, (*input.shape, self.embedding_dim))
        grad = self.weight.grad
        # The step's gradient is formed in a scratch table and then added (see Module._scratch).
        step = self._scratch("weight", grad)
        step.zero_().index_add_(0, input.reshape(-1), grad_output.reshape(-1, self.embedding_dim))
        if self.scale_grad_by_freq:  # each position's gradient divided by its index's count in the batch
            counts = torch.bincount(input.reshape(-1), minlength=self.num_embeddings).clamp_(min=1)
            step.div_(counts.unsqueeze(1).to(step.dtype))
        if self.padding_idx is not None:
            step[self.padding_idx].zero_()
        grad.add_(step)
        return input

    @override
    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"  # torch's layout
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text


def _norm_settings(max_norm: object, norm_type: object) -> tuple[float | None, float]:
    """``max_norm`` (``None`` or > 0) and ``norm_type`` (> 0) checked, as floats."""
    return (None if max_norm is None else _positive("max_norm", max_norm)), _positive("norm_type", norm_type)


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"Embedding: expected {name} to be a number, got {type(value).__name__}")
    if not value > 0:  # NaN too
        raise ValueError(f"Embedding: expected {name} > 0, got {value}")
    return float(value)


def _padding_index(padding_idx: object, num_embeddings: int) -> int | None:
    """``padding_idx`` checked and made non-negative, as torch does."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int):
        raise TypeError(
            f"Embedding: expected padding_idx to be an int or None, got {type(padding_idx).__name__}"
        )
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"Embedding: expected padding_idx in [-{num_embeddings}, {num_embeddings}) "
            f"(num_embeddings={num_embeddings}), got {padding_idx}"
        )
    return padding_idx % num_embeddings


class PositionalEmbedding(Module):
    r"""Add a learned vector per position: :math:`y_{n, l, :} = x_{n, l, :} + P_{l, :}`.

    The learned positional embedding of BERT, GPT-2 and ViT: a table of
    ``num_positions`` rows, of which the first :math:`L` are added to a sequence
    of length :math:`L \le` ``num_positions``. ``torch.nn`` has no such module;
    ``minitorch_nn.interop.TorchPositionalEmbedding`` is its twin there.

    Args:
        num_positions: number of rows of the table: the longest sequence it takes.
        embedding_dim: size of each vector (:math:`E`, the last dimension of the input).
        batch_first: if ``True`` a batched input is :math:`(N, L, E)`, else :math:`(L, N, E)`.
            Default: ``True``.
        generator: random generator for the initial values. Default: torch's global one.
        device: device of the weight. Default: torch's default device.
        dtype: floating-point dtype of the weight. Default: torch's default dtype.

    Shape:
        - Input: :math:`(N, L, E)` if ``batch_first`` else :math:`(L, N, E)`; or unbatched :math:`(L, E)`.
        - Output: the input's shape.

    Attributes:
        weight: ``Parameter`` of shape ``(num_positions, embedding_dim)``, drawn from
            :math:`\mathcal{N}(0, 0.02^2)` (standard deviation 0.02, as GPT-2 and ViT initialise theirs).

    Example:
        >>> positions = PositionalEmbedding(16, 4, generator=torch.Generator().manual_seed(0))
        >>> positions
        PositionalEmbedding(16, 4, batch_first=True)
        >>> out = positions(torch.zeros(2, 5, 4))
        >>> out.shape, torch.equal(out[1], positions.weight.value[:5])
        (torch.Size([2, 5, 4]), True)
        >>> _ = positions.backward(torch.ones(2, 5, 4))
        >>> positions.weight.grad[4:6, 0].tolist()  # two sequences use row 4; row 5 is unused
        [2.0, 0.0]
    """

    num_positions: Final[int]
    embedding_dim: Final[int]
    batch_first: Final[bool]
    fresh_output = True

    def __init__(
        self,
        num_positions: int,
        embedding_dim: int,
        *,
        batch_first: bool = True,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.num_positions = check_size("PositionalEmbedding", "num_positions", num_positions)
        self.embedding_dim = check_size("PositionalEmbedding", "embedding_dim", embedding_dim)
        self.batch_first = check_bool("PositionalEmbedding", "batch_first", batch_first)
        weight = torch.empty(num_positions, embedding_dim, device=device, dtype=dtype)
        self.weight = Parameter(init.normal_(weight, 0.0, 0.02, generator=generator))
        self._shape: torch.Size | None = None  # the input's shape

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Return ``input + weight[:L]`` (a new tensor); cache the input's shape."""
        return torch.add(input, self._positions(input))

    @override
    def forward_(self, input: Tensor) -> Tensor:
        """As ``forward``, adding into ``input``."""
        return input.add_(self._positions(input))

    def _positions(self, input: Tensor) -> Tensor:
        """The rows ``weight[:L]`` for ``input``, laid out to broadcast; records the input's shape."""
        self._check_floating(input)
        self._check_like(input, self.weight.value)
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        if input.dim() not in (2, 3) or input.shape[-1] != self.embedding_dim:
            expected = f"{layout} or (L, E) with E = {self.embedding_dim}"
            raise ValueError(f"{self!r}: expected input of shape {expected}, got {shape_str(input)}")
        length = input.shape[1] if input.dim() == 3 and self.batch_first else input.shape[0]
        if length > self.num_positions:
            raise ValueError(
                f"{self!r}: expected a sequence of at most {self.num_positions} positions, got L = {length} "
                f"in an input of shape {shape_str(input)}"
            )
        self._shape = input.shape
        rows = self.weight.value[:length]
        return rows.unsqueeze(1) if input.dim() == 3 and not self.batch_first else rows

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Add ``grad_output`` summed over the batch into ``weight.grad[:L]``; return ``grad_output``
        itself (the identity's gradient; never modified here)."""
        self.accumulate_grad(grad_output)
        return grad_output

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Add ``grad_output`` summed over the batch into ``weight.grad[:L]``."""
        shape = self._cached_shape()
        self._check_grad_output(grad_output, shape)
        # Batched: the sum over the batch dimension; unbatched: grad_output itself, added.
        rows = grad_output if grad_output.dim() == 2 else grad_output.sum(dim=0 if self.batch_first else 1)
        self.weight.grad[: rows.shape[0]].add_(rows)

    def _cached_shape(self) -> torch.Size:
        if self._shape is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        return self._shape

    @override
    def extra_repr(self) -> str:
        return f"{self.num_positions}, {self.embedding_dim}, batch_first={self.batch_first}"
