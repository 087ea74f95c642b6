"""The bridge to ``torch.nn``: ``to_torch`` and ``from_torch`` convert a network, its settings and its state.

Every public layer and loss of minitorch_nn has a ``torch.nn`` twin of the same
name, built with the same constructor arguments; ``Sequential`` becomes
``torch.nn.Sequential``, and ``Residual`` and ``Concat`` become the two small
``torch.nn`` containers below, ``TorchResidual`` and ``TorchConcat``; the
layers torch.nn has no class for (``Permute``, ``Select``, ``Mean``,
``PositionalEmbedding``) become the small twins ``TorchPermute``,
``TorchSelect``, ``TorchMean`` and ``TorchPositionalEmbedding``. The
settings are read from the module's attributes, which carry torch's names
(``in_features``, ``kernel_size``, ``momentum``, ...), so a setting added to a
layer converts as soon as torch takes it too.

Parameters and buffers are copied, never shared, with their dtype, device and
memory layout; each module keeps its ``training`` flag. The state names are the
same on both sides, so ``model.load_state_dict(torch_model.state_dict())``
works either way. Weights tied inside one network (``shared_copy`` here, one
module or ``Parameter`` at two places in torch) stay tied in the copy; torch
then lists a tied tensor under each of its names, minitorch_nn under the first.

What does not carry over: parameter gradients (ours start at zero, torch's at
``None``); ``Dropout``'s ``generator`` (torch draws from its global generator);
torch's ``inplace=True`` (a minitorch_nn module never modifies its input: the
result is the same); ``requires_grad`` flags. A module without a counterpart, a
setting the other side cannot honour, or hooks on a torch module raise
``ValueError`` naming the module's type and its path in the network.

This is the one module of the package that uses ``torch.nn`` modules.
"""

import contextlib
import importlib.util
import inspect
import io
import math
from collections.abc import Iterator
from typing import Final, overload

import torch
from torch import nn
from torch.nn.modules.loss import _Loss

import minitorch_nn.modules as library
from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.checkpoint.io import PathLike, atomic_write
from minitorch_nn.module import Loss, Module, ModuleBase
from minitorch_nn.modules.container import Concat, Residual, Sequential
from minitorch_nn.parameter import Buffer, Parameter

__all__ = [
    "TorchConcat",
    "TorchGRU",
    "TorchLSTM",
    "TorchMean",
    "TorchPermute",
    "TorchPositionalEmbedding",
    "TorchRNN",
    "TorchResidual",
    "TorchSelect",
    "TorchSelfAttention",
    "export_onnx",
    "from_torch",
    "to_torch",
]


class TorchResidual(nn.Module):
    """``body(x) + shortcut(x)`` (``body(x) + x`` without a shortcut): ``minitorch_nn.Residual`` in torch.nn.

    Args:
        body: the main branch.
        shortcut: the projection of the skip connection, or ``None`` for the identity.

    Example:
        >>> layer = torch.nn.Linear(3, 3)
        >>> block = TorchResidual(layer, None)
        >>> x = torch.ones(2, 3)
        >>> torch.equal(block(x), layer(x) + x)
        True
        >>> sorted(block.state_dict())
        ['body.bias', 'body.weight']
    """

    def __init__(self, body: nn.Module, shortcut: nn.Module | None = None) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x: Tensor) -> Tensor:
        """Return ``body(x) + shortcut(x)``, or ``body(x) + x``."""
        out: Tensor = self.body(x)
        return out + (x if self.shortcut is None else self.shortcut(x))


class TorchConcat(nn.Module):
    """The branches' outputs joined along ``dim``: ``minitorch_nn.Concat`` in torch.nn (children ``0``, ...).

    Args:
        branches: the branches, at least one, in the order of their outputs.
        dim: the dimension to concatenate along. Default: 1.

    Example:
        >>> both = TorchConcat([torch.nn.Identity(), torch.nn.Tanh()], dim=1)
        >>> both
        TorchConcat(
          dim=1
          (0): Identity()
          (1): Tanh()
        )
        >>> both(torch.zeros(2, 3)).shape
        torch.Size([2, 6])
    """

    def __init__(self, branches: list[nn.Module], dim: int = 1) -> None:
        super().__init__()
        if not branches:
            raise ValueError("TorchConcat: expected at least one branch, got none")
        for index, branch in enumerate(branches):
            self.add_module(str(index), branch)
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Return the branches' outputs for ``x``, concatenated along ``dim``."""
        return torch.cat([branch(x) for branch in self.children()], dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class TorchPermute(nn.Module):
    """``x.permute(dims)``: ``minitorch_nn.Permute`` in torch.nn (as ``torchvision.ops.Permute``).

    Example:
        >>> TorchPermute([0, 2, 1])(torch.zeros(2, 3, 4)).shape
        torch.Size([2, 4, 3])
    """

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = list(dims)

    def forward(self, x: Tensor) -> Tensor:
        """Return ``x.permute(dims)``."""
        return x.permute(self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class TorchSelect(nn.Module):
    """``x.select(dim, index)``: ``minitorch_nn.Select`` in torch.nn.

    Example:
        >>> TorchSelect(1, -1)(torch.arange(6.0).view(1, 3, 2))
        tensor([[4., 5.]])
    """

    def __init__(self, dim: int, index: int) -> None:
        super().__init__()
        self.dim, self.index = dim, index

    def forward(self, x: Tensor) -> Tensor:
        """Return ``x.select(dim, index)``."""
        return x.select(self.dim, self.index)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, index={self.index}"


class TorchMean(nn.Module):
    """``x.mean(dim, keepdim)``: ``minitorch_nn.Mean`` in torch.nn.

    Example:
        >>> TorchMean(1)(torch.ones(2, 3, 4)).shape
        torch.Size([2, 4])
    """

    def __init__(self, dim: int, keepdim: bool = False) -> None:
        super().__init__()
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x: Tensor) -> Tensor:
        """Return ``x.mean(dim, keepdim)``."""
        return x.mean(self.dim, keepdim=self.keepdim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, keepdim={self.keepdim}"


class TorchPositionalEmbedding(nn.Module):
    """``x + weight[:L]``: ``minitorch_nn.PositionalEmbedding`` in torch.nn; ``weight`` from N(0, 0.02²).

    Example:
        >>> positions = TorchPositionalEmbedding(16, 4)
        >>> out = positions(torch.zeros(2, 5, 4))
        >>> out.shape, torch.equal(out[0], positions.weight[:5].detach())
        (torch.Size([2, 5, 4]), True)
    """

    def __init__(
        self,
        num_positions: int,
        embedding_dim: int,
        *,
        batch_first: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.num_positions, self.embedding_dim, self.batch_first = num_positions, embedding_dim, batch_first
        self.weight = nn.Parameter(torch.empty(num_positions, embedding_dim, device=device, dtype=dtype))
        nn.init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x: Tensor) -> Tensor:
        """Return ``x`` plus the first ``L`` rows of ``weight``, L the sequence dimension's size."""
        length = x.shape[1] if x.dim() == 3 and self.batch_first else x.shape[0]
        rows = self.weight[:length]
        return x + (rows.unsqueeze(1) if x.dim() == 3 and not self.batch_first else rows)

    def extra_repr(self) -> str:
        return f"{self.num_positions}, {self.embedding_dim}, batch_first={self.batch_first}"


class TorchSelfAttention(nn.MultiheadAttention):
    """``minitorch_nn.MultiheadAttention`` in torch.nn: a ``torch.nn.MultiheadAttention`` whose ``forward(x)``
    is self-attention of one tensor and returns one tensor, so that it fits in a ``torch.nn.Sequential``.

    Same parameters and state names as its base class; ``is_causal`` is a setting (a causal mask is
    built for each input), ``key_padding_mask`` and ``attn_mask`` are attributes set before
    ``forward``, as on ``minitorch_nn.MultiheadAttention``. It is ``torch.nn.MultiheadAttention``'s
    ``forward(x, x, x, need_weights=False)[0]`` with those masks.

    Example:
        >>> attention = TorchSelfAttention(8, 2, batch_first=True, is_causal=True)
        >>> x = torch.randn(3, 5, 8)
        >>> mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
        >>> expected = torch.nn.MultiheadAttention.forward(attention, x, x, x, attn_mask=mask)[0]
        >>> torch.allclose(attention(x), expected, atol=1e-6)
        True
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        batch_first: bool = False,
        *,
        is_causal: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            embed_dim,
            num_heads,
            dropout,
            bias,
            add_bias_kv,
            add_zero_attn,
            batch_first=batch_first,
            device=device,
            dtype=dtype,
        )
        self.is_causal = is_causal
        self.key_padding_mask: Tensor | None = None
        self.attn_mask: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]  # one tensor in, one out
        """Return the self-attention output for ``x`` (torch's, with the masks set on the module)."""
        mask = self.attn_mask
        if self.is_causal:
            if mask is not None:
                raise ValueError("TorchSelfAttention: expected attn_mask None with is_causal=True")
            length = x.shape[1] if x.dim() == 3 and self.batch_first else x.shape[0]
            mask = torch.ones(length, length, dtype=torch.bool, device=x.device).triu_(1)
            padding = self.key_padding_mask
            if padding is not None and padding.is_floating_point():  # one kind of mask, as torch wants
                blocked = torch.zeros(mask.shape, dtype=padding.dtype, device=x.device)
                mask = blocked.masked_fill_(mask, -math.inf)
        padding = self.key_padding_mask
        if padding is not None and padding.numel() == 0:  # an empty batch: nothing to mask (torch fails)
            padding = None
        output: Tensor = super().forward(
            x, x, x, key_padding_mask=padding, need_weights=False, attn_mask=mask
        )[0]
        return output


class TorchRNN(nn.RNN):
    """``minitorch_nn.RNN`` in torch.nn: a ``torch.nn.RNN`` whose ``forward(input)`` returns the output only,
    so that it fits in a ``torch.nn.Sequential``; the initial state is read from ``initial_state`` and
    the final state kept in ``last_state``, as on ``minitorch_nn.RNN``. Same settings, parameters and
    state names as its base class.

    Example:
        >>> rnn = TorchRNN(3, 4, batch_first=True)
        >>> x = torch.randn(2, 5, 3)
        >>> output, h_n = torch.nn.RNN.forward(rnn, x)
        >>> torch.equal(rnn(x), output), torch.equal(rnn.last_state, h_n)
        (True, True)
    """

    initial_state: Tensor | None = None
    last_state: Tensor | None = None

    def forward(self, input: Tensor) -> Tensor:  # type: ignore[override]  # one tensor in, one out
        """Return torch's output for ``input`` from ``initial_state``; keep ``h_n`` in ``last_state``."""
        output, self.last_state = super().forward(input, self.initial_state)
        return output


class TorchLSTM(nn.LSTM):
    """``minitorch_nn.LSTM`` in torch.nn: a ``torch.nn.LSTM`` whose ``forward(input)`` returns the output
    only, with ``(h_0, c_0)`` read from ``initial_state`` and ``(h_n, c_n)`` kept in ``last_state``, as
    on ``minitorch_nn.LSTM``. Same settings, parameters and state names as its base class.

    Example:
        >>> lstm = TorchLSTM(3, 4)
        >>> lstm.initial_state = (torch.zeros(1, 2, 4), torch.ones(1, 2, 4))
        >>> x = torch.randn(5, 2, 3)
        >>> output, (h_n, c_n) = torch.nn.LSTM.forward(lstm, x, lstm.initial_state)
        >>> torch.equal(lstm(x), output), torch.equal(lstm.last_state[1], c_n)
        (True, True)
    """

    initial_state: tuple[Tensor, Tensor] | None = None
    last_state: tuple[Tensor, Tensor] | None = None

    def forward(self, input: Tensor) -> Tensor:  # type: ignore[override]  # one tensor in, one out
        """Return the output for ``input`` from ``initial_state``; keep ``(h_n, c_n)`` in ``last_state``."""
        output, self.last_state = super().forward(input, self.initial_state)
        return output


class TorchGRU(nn.GRU):
    """``minitorch_nn.GRU`` in torch.nn: a ``torch.nn.GRU`` whose ``forward(input)`` returns the output only,
    with ``h_0`` read from ``initial_state`` and ``h_n`` kept in ``last_state``, as on
    ``minitorch_nn.GRU``. Same settings, parameters and state names as its base class.

    Example:
        >>> gru = TorchGRU(3, 4)
        >>> x = torch.randn(5, 3)  # unbatched
        >>> output, h_n = torch.nn.GRU.forward(gru, x)
        >>> torch.equal(gru(x), output), gru.last_state.shape
        (True, torch.Size([1, 4]))
    """

    initial_state: Tensor | None = None
    last_state: Tensor | None = None

    def forward(self, input: Tensor) -> Tensor:  # type: ignore[override]  # one tensor in, one out
        """Return torch's output for ``input`` from ``initial_state``; keep ``h_n`` in ``last_state``."""
        output, self.last_state = super().forward(input, self.initial_state)
        return output


def _state_copy(state: object) -> Tensor | tuple[Tensor, ...] | None:
    """A copy of a recurrent module's ``initial_state`` (a tensor, a tuple of them, or ``None``)."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, tuple):
        return tuple(part.detach().clone() for part in state)
    return None


# The leaves: each public layer and loss of the library, and the torch.nn class of the same name.
_TO_TORCH: Final[dict[type[ModuleBase], type[nn.Module]]] = {
    kind: getattr(nn, name)
    for name in library.__all__
    if isinstance(kind := getattr(library, name), type)
    and kind not in (Sequential, Residual, Concat)
    and isinstance(getattr(nn, name, None), type)
} | {  # the layers torch.nn has no class for: the small twins above
    library.Permute: TorchPermute,
    library.Select: TorchSelect,
    library.Mean: TorchMean,
    library.PositionalEmbedding: TorchPositionalEmbedding,
    # torch's recurrent layers return (output, state): twins that return the output, as ours
    library.RNN: TorchRNN,
    library.LSTM: TorchLSTM,
    library.GRU: TorchGRU,
}
_ATTENTION: Final = (nn.MultiheadAttention, TorchSelfAttention)  # from_torch: both convert to ours
_FROM_TORCH: Final[dict[type[nn.Module], type[ModuleBase]]] = {
    twin: ours for ours, twin in _TO_TORCH.items()
} | {nn.RNN: library.RNN, nn.LSTM: library.LSTM, nn.GRU: library.GRU}  # torch's own convert too

# Constructor arguments that are not settings of the computation.
# torch folds size_average and reduce into reduction, and keeps neither. Embedding's _weight is the
# initial state (copied anyway) and its _freeze a requires_grad flag (which does not carry over).
_NOT_SETTINGS: Final = frozenset(
    {"device", "dtype", "generator", "size_average", "reduce", "_weight", "_freeze"}
)
# torch's ``inplace=True`` saves memory and changes no result; a minitorch_nn module never modifies its input.
_SAME_RESULT: Final = frozenset({"inplace"})
_MISSING: Final = object()


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _where(path: str) -> str:
    return f"{path}: " if path else ""


def _torch_name(kind: type) -> str:
    if getattr(nn, kind.__name__, None) is kind:
        return f"torch.nn.{kind.__name__}"
    return f"{kind.__module__}.{kind.__qualname__}"


def _our_name(kind: type) -> str:
    if getattr(library, kind.__name__, None) is kind:
        return f"minitorch_nn.{kind.__name__}"
    return f"{kind.__module__}.{kind.__qualname__}"


_SETTINGS: dict[type, dict[str, object]] = {}


def _settings(kind: type) -> dict[str, object]:
    """The constructor's settings of ``kind``: name -> default (``inspect.Parameter.empty`` if required).

    Read from ``__init__``: ``inspect.signature(kind)`` would read ``ModuleBase.__new__``'s ``*args``.
    """
    found = _SETTINGS.get(kind)
    if found is None:
        found = {}
        init = kind.__init__  # type: ignore[misc]  # the class's own constructor, not an instance's
        skip = _NOT_SETTINGS
        if issubclass(kind, nn.RNNBase):
            # torch's RNN, LSTM and GRU take (*args, **kwargs) and pass them on to RNNBase.__init__ after
            # its mode; RNN takes nonlinearity too (as its fourth argument).
            init, skip = nn.RNNBase.__init__, _NOT_SETTINGS | {"mode"}
            if issubclass(kind, nn.RNN):
                found["nonlinearity"] = "tanh"
        for index, parameter in enumerate(inspect.signature(init).parameters.values()):
            variadic = parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
            if index > 0 and not variadic and parameter.name not in skip:
                found[parameter.name] = parameter.default
        _SETTINGS[kind] = found
    return found


def _setting(module: object, name: str) -> object:
    """The value of the setting ``name`` as the module keeps it (``_MISSING`` if it keeps none).

    ``bias`` is kept as a parameter (or ``None``): the setting is whether there is one, and it
    reads ``True`` for a module without affine parameters at all (as a LayerNorm without them).
    Tensors (a loss's class weights) come back as copies.
    """
    if not hasattr(module, name):
        return _MISSING
    value = getattr(module, name)
    if isinstance(value, Parameter | Buffer):
        value = value.value
    if name == "bias" and (value is None or isinstance(value, torch.Tensor)):
        return value is not None or getattr(module, "weight", None) is None
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    return value


def _same(value: object, default: object) -> bool:
    if isinstance(value, torch.Tensor) or isinstance(default, torch.Tensor):
        return (
            isinstance(value, torch.Tensor)
            and isinstance(default, torch.Tensor)
            and value.shape == default.shape
            and torch.equal(value, default.to(value))
        )
    return bool(value == default)


def _masks(module: object) -> tuple[Tensor | None, Tensor | None]:
    """Copies of the ``key_padding_mask`` and ``attn_mask`` set on an attention module (``None`` if unset)."""
    masks = (getattr(module, "key_padding_mask", None), getattr(module, "attn_mask", None))
    return tuple(None if m is None else m.detach().clone() for m in masks)  # type: ignore[return-value]


def _own_state(module: ModuleBase) -> dict[str, Parameter | Buffer]:
    return {name: value for name, value in vars(module).items() if isinstance(value, Parameter | Buffer)}


def _torch_own_state(module: nn.Module) -> dict[str, Tensor]:
    own: dict[str, Tensor] = {name: value for name, value in module._parameters.items() if value is not None}
    own.update((name, value) for name, value in module._buffers.items() if value is not None)
    return own


def _check_names(path: str, ours: set[str], theirs: set[str], what: str) -> None:
    if ours != theirs:
        raise ValueError(
            f"{_where(path)}{what}: the state names differ: minitorch_nn has {sorted(ours)}, "
            f"torch.nn has {sorted(theirs)}"
        )


class _ToTorch:
    """One conversion to torch.nn: the tensors converted so far, so that tied weights stay tied."""

    def __init__(self) -> None:
        self.tensors: dict[int, Tensor] = {}

    def convert(self, module: ModuleBase, path: str) -> nn.Module:
        kind = type(module)
        twin: nn.Module
        if kind is Sequential:
            twin = nn.Sequential(*self._children(module, path))
        elif isinstance(module, Residual) and kind is Residual:
            shortcut = (
                None if module.shortcut is None else self.convert(module.shortcut, _join(path, "shortcut"))
            )
            twin = TorchResidual(self.convert(module.body, _join(path, "body")), shortcut)
        elif isinstance(module, Concat) and kind is Concat:
            twin = TorchConcat(list(self._children(module, path)), module.dim)
        elif isinstance(module, library.MultiheadAttention) and kind is library.MultiheadAttention:
            twin = self._attention(module, path)
        elif kind in _TO_TORCH:
            twin = self._leaf(module, path)
        else:
            raise ValueError(f"{_where(path)}{_our_name(kind)} has no torch.nn counterpart")
        twin.training = module.training
        return twin

    def _children(self, module: ModuleBase, path: str) -> Iterator[nn.Module]:
        for name, child in module.named_children():
            yield self.convert(child, _join(path, name))

    def _attention(self, module: "library.MultiheadAttention", path: str) -> nn.Module:
        """A ``TorchSelfAttention`` with ``module``'s settings and state (``out_proj`` is a child)."""
        with torch.device("meta"):  # no initialisation work: every tensor is replaced below
            twin = TorchSelfAttention(
                module.embed_dim,
                module.num_heads,
                module.dropout,
                module.bias,
                module.add_bias_kv,
                module.add_zero_attn,
                module.batch_first,
                is_causal=module.is_causal,
            )
        self._copy_state(module, twin, path)
        self._copy_state(module.out_proj, twin.out_proj, _join(path, "out_proj"))
        twin.out_proj.training = module.out_proj.training
        twin.key_padding_mask, twin.attn_mask = _masks(module)
        return twin

    def _leaf(self, module: ModuleBase, path: str) -> nn.Module:
        kind, twin_kind = type(module), _TO_TORCH[type(module)]
        ours, theirs = _settings(kind), _settings(twin_kind)
        for name, default in ours.items():
            if name in theirs:
                continue
            value = _setting(module, name)
            if value is _MISSING or not _same(value, default):
                raise ValueError(
                    f"{_where(path)}{module!r} has no torch.nn counterpart: {_torch_name(twin_kind)} takes "
                    f"no {name} (got {name}={'?' if value is _MISSING else repr(value)})"
                )
        arguments = {}
        for name in theirs:
            value = _setting(module, name)
            if value is _MISSING and name in ours:
                raise RuntimeError(
                    f"{_where(path)}{module!r} does not keep its setting {name} as an attribute"
                )
            if value is not _MISSING:
                arguments[name] = value
        try:
            with torch.device("meta"):  # no initialisation work: every tensor is replaced below
                twin = twin_kind(**arguments)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{_where(path)}{module!r} has no torch.nn counterpart: {error}") from error
        self._copy_state(module, twin, path)
        if isinstance(twin, TorchRNN | TorchLSTM | TorchGRU):
            twin.initial_state = _state_copy(getattr(module, "initial_state", None))  # type: ignore[assignment]
        return twin

    def _copy_state(self, module: ModuleBase, twin: nn.Module, path: str) -> None:
        own, twin_own = _own_state(module), _torch_own_state(twin)
        _check_names(path, set(own), set(twin_own), repr(module))
        for name, member in own.items():
            tensor = self.tensors.get(id(member))
            if tensor is None:
                value = member.value.detach().clone()
                tensor = nn.Parameter(value) if isinstance(member, Parameter) else value
                self.tensors[id(member)] = tensor
            if isinstance(member, Parameter):
                setattr(twin, name, tensor)
            else:
                twin._buffers[name] = tensor


class _FromTorch:
    """One conversion from torch.nn: the modules and tensors converted so far, so that ties stay tied."""

    def __init__(self) -> None:
        self.modules: dict[int, ModuleBase] = {}
        self.members: dict[int, Parameter | Buffer] = {}

    def convert(self, module: nn.Module, path: str) -> ModuleBase:
        seen = self.modules.get(id(module))
        if seen is not None:  # one torch module at two places: our shared copy holds the same Parameters
            return seen.shared_copy()
        kind = type(module)
        if module._forward_hooks or module._forward_pre_hooks or module._backward_hooks:
            raise ValueError(f"{_where(path)}{_torch_name(kind)} has hooks, which do not carry over")
        ours: ModuleBase
        if kind is nn.Sequential:
            ours = Sequential(*self._children(module, path, "torch.nn.Sequential"))
        elif isinstance(module, TorchResidual) and kind is TorchResidual:
            body = self._layer(module.body, _join(path, "body"))
            shortcut = (
                None if module.shortcut is None else self._layer(module.shortcut, _join(path, "shortcut"))
            )
            ours = Residual(body, shortcut)
        elif isinstance(module, TorchConcat) and kind is TorchConcat:
            ours = Concat(*self._children(module, path, "minitorch_nn.interop.TorchConcat"), dim=module.dim)
        elif isinstance(module, nn.MultiheadAttention) and kind in _ATTENTION:
            ours = self._attention(module, path)
        elif isinstance(module, nn.TransformerEncoderLayer) and kind is nn.TransformerEncoderLayer:
            ours = self._encoder_layer(module, path)
        elif kind in _FROM_TORCH:
            ours = self._leaf(module, path)
        else:
            raise ValueError(f"{_where(path)}{_torch_name(kind)} has no minitorch_nn counterpart")
        ours.training = module.training
        self.modules[id(module)] = ours
        return ours

    def _attention(self, module: nn.MultiheadAttention, path: str) -> "library.MultiheadAttention":
        if not module._qkv_same_embed_dim:
            raise ValueError(
                f"{_where(path)}torch.nn.MultiheadAttention with kdim={module.kdim}, vdim={module.vdim} has "
                f"no minitorch_nn counterpart (embed_dim={module.embed_dim}: the packed projection only)"
            )
        ours = library.MultiheadAttention(
            module.embed_dim,
            module.num_heads,
            module.dropout,
            module.in_proj_bias is not None,
            module.bias_k is not None,
            module.add_zero_attn,
            batch_first=module.batch_first,
            is_causal=bool(getattr(module, "is_causal", False)),
        )
        self._copy_state(module, ours, path)
        self._copy_state(module.out_proj, ours.out_proj, _join(path, "out_proj"))
        ours.out_proj.training = module.out_proj.training
        ours.key_padding_mask, ours.attn_mask = _masks(module)
        return ours

    def _encoder_layer(self, module: nn.TransformerEncoderLayer, path: str) -> Sequential:
        """The layer as a composition of parts: ``encoder_block``'s for ``norm_first`` and dropout 0.

        Pre-norm: ``Sequential(Residual(Sequential(norm1, self_attn, Dropout)), Residual(Sequential(
        norm2, linear1, activation, [Dropout,] linear2, Dropout)))`` (the inner Dropout only where
        torch's ``dropout`` is not 0); post-norm: ``Sequential(Residual(Sequential(self_attn, Dropout)),
        norm1, Residual(Sequential(linear1, activation, [Dropout,] linear2, Dropout)), norm2)``.
        """
        activation = module.activation
        act: Module
        if activation is torch.nn.functional.gelu or type(activation) is nn.GELU:
            act = library.GELU(getattr(activation, "approximate", "none"))
        elif activation is torch.nn.functional.relu or type(activation) is nn.ReLU:
            act = library.ReLU()
        else:
            raise ValueError(
                f"{_where(path)}torch.nn.TransformerEncoderLayer with activation {activation!r} has no "
                "minitorch_nn counterpart (gelu or relu)"
            )
        attention = self._attention(module.self_attn, _join(path, "self_attn"))
        norm1, norm2, linear1, linear2 = (
            self._layer(getattr(module, name), _join(path, name))
            for name in ("norm1", "norm2", "linear1", "linear2")
        )
        inner = [library.Dropout(module.dropout.p)] if module.dropout.p else []
        feedforward = [linear1, act, *inner, linear2, library.Dropout(module.dropout2.p)]
        attend = [attention, library.Dropout(module.dropout1.p)]
        if module.norm_first:
            ours = Sequential(Residual(Sequential(norm1, *attend)), Residual(Sequential(norm2, *feedforward)))
        else:
            ours = Sequential(Residual(Sequential(*attend)), norm1, Residual(Sequential(*feedforward)), norm2)
        return ours.train(module.training)

    def _layer(self, module: nn.Module, path: str) -> Module:
        ours = self.convert(module, path)
        if not isinstance(ours, Module):
            raise ValueError(f"{_where(path)}{_torch_name(type(module))} is a loss, not a layer")
        return ours

    def _children(self, module: nn.Module, path: str, what: str) -> Iterator[Module]:
        names = list(module._modules)
        if names != [str(index) for index in range(len(names))]:
            raise ValueError(
                f"{_where(path)}{what} with children named {names} has no minitorch_nn counterpart: "
                "minitorch_nn names them 0, 1, ..., so the state names would differ"
            )
        for name, child in module._modules.items():  # named_children() would skip a module's second place
            if child is None:
                raise ValueError(f"{_where(path)}{what} holds None at {name}")
            yield self._layer(child, _join(path, name))

    def _leaf(self, module: nn.Module, path: str) -> ModuleBase:
        kind = type(module)
        ours_kind, name_of = _FROM_TORCH[kind], _torch_name(kind)
        ours, theirs = _settings(ours_kind), _settings(kind)
        for name, default in theirs.items():
            value = _setting(module, name)
            if name in ours or name in _SAME_RESULT or value is _MISSING:
                continue  # a setting torch folds into another one (size_average into reduction) is not kept
            if default is inspect.Parameter.empty or not _same(value, default):
                raise ValueError(
                    f"{_where(path)}{name_of} with {name}={value!r} has no minitorch_nn counterpart "
                    f"({_our_name(ours_kind)} takes no {name})"
                )
        arguments = {}
        for name in ours:
            value = _setting(module, name)
            if value is not _MISSING and name not in _SAME_RESULT:
                arguments[name] = value
        try:
            converted = ours_kind(**arguments)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{_where(path)}{name_of} has no minitorch_nn counterpart with these settings: {error}"
            ) from error
        self._copy_state(module, converted, path)
        if isinstance(converted, library.RNN | library.LSTM | library.GRU):
            converted.initial_state = _state_copy(getattr(module, "initial_state", None))  # type: ignore[assignment]
        return converted

    def _copy_state(self, module: nn.Module, ours: ModuleBase, path: str) -> None:
        own, torch_own = _own_state(ours), _torch_own_state(module)
        _check_names(path, set(own), set(torch_own), _torch_name(type(module)))
        for name, source in torch_own.items():
            if source.is_meta:
                raise ValueError(
                    f"{_where(path)}{_torch_name(type(module))}.{name} is on the meta device: no values"
                )
            tied = self.members.get(id(source))
            if tied is not None:
                setattr(ours, name, tied)
                continue
            member, value = own[name], source.detach().clone()
            if isinstance(member, Parameter):
                if not value.is_floating_point():
                    raise ValueError(f"{_where(path)}expected a floating-point {name}, got {value.dtype}")
                member.grad.data = torch.zeros_like(value)
            member.value.data = value
            self.members[id(source)] = member


@overload
def to_torch(module: Sequential) -> nn.Sequential: ...


@overload
def to_torch(module: Residual) -> TorchResidual: ...


@overload
def to_torch(module: Concat) -> TorchConcat: ...


@overload
def to_torch(module: ModuleBase) -> nn.Module: ...


def to_torch(module: ModuleBase) -> nn.Module:
    """The ``torch.nn`` twin of a minitorch_nn module: same structure, settings, state, dtype, device, mode.

    ``Sequential`` becomes ``torch.nn.Sequential``, ``Residual`` ``TorchResidual``,
    ``Concat`` ``TorchConcat``, every other layer or loss the ``torch.nn`` class of
    its name, built with the same settings. Parameters and buffers are copies.
    ``MultiheadAttention`` becomes ``TorchSelfAttention`` (a ``torch.nn.MultiheadAttention``
    whose ``forward`` takes and returns one tensor, with the masks set on the module).

    Args:
        module: a layer, a loss or a network of them.

    Returns:
        A new ``torch.nn.Module`` whose ``state_dict`` has the keys of ``module.state_dict()``.

    Raises:
        ValueError: for a module without a torch.nn counterpart (your own ``Module`` subclass,
            say) or with a setting torch.nn lacks (``BatchNorm2d(..., bias=False)``), named
            with its path in the network.

    Example:
        >>> from minitorch_nn import Linear, Sequential, Tanh
        >>> g = torch.Generator().manual_seed(0)
        >>> model = Sequential(Linear(784, 50, generator=g), Tanh(), Linear(50, 10, generator=g))
        >>> twin = to_torch(model.eval())
        >>> twin
        Sequential(
          (0): Linear(in_features=784, out_features=50, bias=True)
          (1): Tanh()
          (2): Linear(in_features=50, out_features=10, bias=True)
        )
        >>> x = torch.randn(4, 784, generator=g)
        >>> torch.allclose(twin(x), model(x), atol=1e-6), twin.training
        (True, False)
        >>> list(twin.state_dict()) == list(model.state_dict())
        True
    """
    return _ToTorch().convert(module, "")


@overload
def from_torch(module: nn.Sequential) -> Sequential: ...


@overload
def from_torch(module: TorchResidual) -> Residual: ...


@overload
def from_torch(module: TorchConcat) -> Concat: ...


@overload
def from_torch(module: _Loss) -> Loss: ...  # type: ignore[overload-overlap]  # a torch loss is a Module there


@overload
def from_torch(module: nn.Module) -> Module: ...


def from_torch(module: nn.Module) -> ModuleBase:
    """The minitorch_nn twin of a ``torch.nn`` module: same structure, settings, state, dtype, device, mode.

    The inverse of ``to_torch``: ``torch.nn.Sequential`` (children named ``0``,
    ``1``, ...), ``TorchResidual``, ``TorchConcat`` and every ``torch.nn`` layer or
    loss with a minitorch_nn class of the same name convert. Parameters and
    buffers are copies; gradients start at zero.
    ``torch.nn.MultiheadAttention`` (``kdim = vdim = embed_dim``) and ``TorchSelfAttention``
    become ``MultiheadAttention``; a ``torch.nn.TransformerEncoderLayer`` (gelu or relu) becomes
    its composition of parts, as ``encoder_block`` builds it (with a ``Dropout`` after the
    activation where its dropout is not 0), whose state names are the composition's.

    Args:
        module: a ``torch.nn`` layer, loss, or network of them.

    Returns:
        A new minitorch_nn ``Module`` (or ``Loss``) whose ``state_dict`` has the keys of
        ``module.state_dict()``.

    Raises:
        ValueError: for a torch module without a counterpart (``torch.nn.GroupNorm``, your own
            ``torch.nn.Module`` subclass), with a setting minitorch_nn cannot honour
            (``MaxPool2d(2, return_indices=True)``) or with hooks, named with its path.

    Example:
        >>> torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        >>> model = from_torch(torch_model)
        >>> model
        Sequential(
          (0): Linear(in_features=3, out_features=4)
          (1): ReLU()
          (2): Linear(in_features=4, out_features=2)
        )
        >>> x = torch.randn(5, 3)
        >>> torch.allclose(model(x), torch_model(x))
        True
        >>> from_torch(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GroupNorm(2, 4)))
        Traceback (most recent call last):
        ...
        ValueError: 1: torch.nn.GroupNorm has no minitorch_nn counterpart
    """
    return _FromTorch().convert(module, "")


def export_onnx(module: Module, path: PathLike, example_input: Tensor, *, dynamic_batch: bool = True) -> None:
    """Write ``module`` for inference as an ONNX file: ``to_torch(module).eval()`` via ``torch.onnx.export``.

    The graph's input is named ``input`` and its output ``output``; it computes
    what ``module`` computes in eval mode (BatchNorm with its running
    statistics, Dropout off), in the dtype of ``example_input``. The file is
    written atomically (``minitorch_nn.checkpoint.atomic_write``): a failure
    leaves any previous file intact. Needs the ``onnx`` extra
    (``pip install "minitorch_nn[onnx]"``: onnx and onnxscript; onnxruntime runs the file).

    Args:
        module: a layer or a network (not a loss); it is not changed.
        path: the ``.onnx`` file to write; its folder must exist.
        example_input: a batch the network takes: its shape (but the batch size) and dtype fix the
            graph; its values are not used.
        dynamic_batch: leave the first dimension free (named ``batch``), so that any batch size
            runs. Default: ``True``.

    Raises:
        ImportError: if onnx or onnxscript is not installed.
        ValueError: for a module ``to_torch`` refuses, or an ``example_input`` it does not take.
        OSError: if the file cannot be written.

    Example:
        >>> import tempfile, pathlib, onnxruntime
        >>> from minitorch_nn import Linear, Sequential, Tanh
        >>> model = Sequential(Linear(4, 3, generator=torch.Generator().manual_seed(0)), Tanh())
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.onnx"
        >>> export_onnx(model, path, torch.zeros(2, 4))
        >>> session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        >>> x = torch.randn(5, 4)
        >>> (output,) = session.run(None, {"input": x.numpy()})
        >>> output.shape, bool(torch.allclose(torch.from_numpy(output), model(x), atol=1e-6))
        ((5, 3), True)
    """
    missing = [name for name in ("onnx", "onnxscript") if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"export_onnx needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
            'not installed: pip install "minitorch_nn[onnx]"'
        )
    if not isinstance(module, Module):
        raise TypeError(f"export_onnx: expected a minitorch_nn Module, got {type(module).__name__}")
    if not isinstance(example_input, torch.Tensor) or example_input.dim() == 0:
        raise ValueError(f"export_onnx: expected example_input to be a batch tensor, got {example_input!r}")
    twin = to_torch(module).eval()
    shapes = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the exporter's progress lines
            program = torch.onnx.export(
                twin, (example_input,), input_names=["input"], output_names=["output"],
                dynamic_shapes=shapes, dynamo=True, verbose=False,
            )  # fmt: skip
    except Exception as error:
        raise ValueError(
            f"export_onnx: {module!r} could not be exported for an input of shape "
            f"{shape_str(example_input)}: {str(error).strip().splitlines()[0]}"
        ) from error
    if program is None:
        raise RuntimeError("export_onnx: torch.onnx.export returned no program")
    atomic_write(path, program.model_proto.SerializeToString())
