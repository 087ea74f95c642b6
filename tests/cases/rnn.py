"""Registry cases: the recurrent family, ``RNN`` (tanh, relu), ``LSTM``, ``GRU`` (see tests/cases/).

Each reference restates the recurrence with plain torch operations, a Python
loop over the time steps with ``torch.mm``, ``torch.tanh`` and ``torch.sigmoid``,
independent of the module's code: from the input, the parameter values in
torch's order (per layer and direction ``weight_ih``, ``weight_hh``,
``bias_ih``, ``bias_hh``) and the drawn sizes. The dropout cases redraw the
masks between layers from a fresh generator seeded as the module's
(``DROPOUT_SEED``); the initial-state cases redraw the state from ``STATE_SEED``.
Sizes: L = ``out`` (2 to 5) steps, or ``out - 1`` (1 to 4) with an initial state,
N = ``batch``, H_in = ``features``,
H = ``channels + 1`` (2 to 4; 5 to 7 for relu).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor
from tests.cases.core import DROPOUT_SEED, Dims, ModuleCase

STATE_SEED = 4321
DROPOUT = 0.2  # small sizes: a higher rate may zero a whole layer's output

Cell = Callable[[Tensor, Tensor, Tensor | None, Sequence[Tensor]], tuple[Tensor, Tensor | None]]


def _affine(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    out = torch.mm(x, weight.t())
    return out if bias is None else out + bias


def _rnn_cell(act: Callable[[Tensor], Tensor]) -> Cell:
    def cell(x: Tensor, h: Tensor, c: Tensor | None, p: Sequence[Tensor]) -> tuple[Tensor, Tensor | None]:
        b_ih, b_hh = (p[2], p[3]) if len(p) == 4 else (None, None)
        return act(_affine(x, p[0], b_ih) + _affine(h, p[1], b_hh)), None

    return cell


def _lstm_cell(x: Tensor, h: Tensor, c: Tensor | None, p: Sequence[Tensor]) -> tuple[Tensor, Tensor | None]:
    """One LSTM step; with five or three parameters the last is ``weight_hr`` (``proj_size``)."""
    assert c is not None
    b_ih, b_hh = (p[2], p[3]) if len(p) >= 4 else (None, None)
    i, f, g, o = (_affine(x, p[0], b_ih) + _affine(h, p[1], b_hh)).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return (h if len(p) in (2, 4) else torch.mm(h, p[-1].t())), c


def _gru_cell(x: Tensor, h: Tensor, c: Tensor | None, p: Sequence[Tensor]) -> tuple[Tensor, Tensor | None]:
    b_ih, b_hh = (p[2], p[3]) if len(p) == 4 else (None, None)
    i_r, i_z, i_n = _affine(x, p[0], b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = _affine(h, p[1], b_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h, None


@dataclass(frozen=True)
class Setup:
    """One recurrent layer's settings, as the case builds it and as the reference replays it."""

    kind: str  # "RNN", "LSTM" or "GRU"
    nonlinearity: str = "tanh"
    num_layers: int = 1
    bias: bool = True
    batch_first: bool = False
    bidirectional: bool = False
    dropout: float = 0.0
    batched: bool = True
    initial: bool = False
    proj_size: int = 0

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def cell(self) -> Cell:
        if self.kind == "LSTM":
            return _lstm_cell
        if self.kind == "GRU":
            return _gru_cell
        return _rnn_cell(torch.tanh if self.nonlinearity == "tanh" else torch.relu)

    def hidden(self, d: Dims) -> int:
        """H: 2 to 4, or 5 to 7 for relu, which small layers can leave without a live unit."""
        return d.channels + (4 if self.nonlinearity == "relu" else 1)

    def output_size(self, d: Dims) -> int:
        """The size of h: ``proj_size``, or H."""
        return self.proj_size or self.hidden(d)

    def input_shape(self, d: Dims) -> Shape:
        # From 2 steps (1 with an initial state): else weight_hh gets no gradient to double.
        length = d.out - 1 if self.initial else d.out
        if not self.batched:
            return (length, d.features)
        return (d.batch, length, d.features) if self.batch_first else (length, d.batch, d.features)

    def state(self, d: Dims) -> list[Tensor]:
        """The initial state the case sets: ``[h0]`` or ``[h0, c0]``, drawn from ``STATE_SEED``."""
        g = torch.Generator().manual_seed(STATE_SEED)
        count = self.directions * self.num_layers
        sizes = [self.output_size(d), self.hidden(d)] if self.kind == "LSTM" else [self.output_size(d)]
        shapes: list[Shape] = [(count, d.batch, size) if self.batched else (count, size) for size in sizes]
        return [torch.randn(shape, generator=g, dtype=torch.float64) for shape in shapes]

    def make(self, d: Dims, g: torch.Generator) -> mn.Module:
        module: mn.RNN | mn.LSTM | mn.GRU
        extra: dict[str, object] = {"nonlinearity": self.nonlinearity} if self.kind == "RNN" else {}
        if self.proj_size:
            extra["proj_size"] = self.proj_size
        kinds: dict[str, type[mn.RNN] | type[mn.LSTM] | type[mn.GRU]] = {
            "RNN": mn.RNN,
            "LSTM": mn.LSTM,
            "GRU": mn.GRU,
        }
        kind = kinds[self.kind]
        module = kind(
            d.features,
            self.hidden(d),
            num_layers=self.num_layers,
            bias=self.bias,
            batch_first=self.batch_first,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            generator=g,
            **extra,  # type: ignore[arg-type]  # nonlinearity, for RNN only
        )
        module.generator = torch.Generator().manual_seed(DROPOUT_SEED)
        if self.initial:
            state = self.state(d)
            module.initial_state = state[0] if len(state) == 1 else (state[0], state[1])
        return module

    def reference(self, x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
        return self.replay(x, p, self.state(d) if self.initial else None)

    def replay(self, x: Tensor, p: Sequence[Tensor], states: list[Tensor] | None = None) -> Tensor:
        """The output for input ``x`` and parameters ``p`` (torch's order), from ``states`` or zeros."""
        seq = x.unsqueeze(1) if not self.batched else (x.transpose(0, 1) if self.batch_first else x)
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        masks = torch.Generator().manual_seed(DROPOUT_SEED)
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0:
                keep = torch.rand(seq.shape, generator=masks, dtype=torch.float64) >= self.dropout
                seq = seq * keep.double() / (1 - self.dropout)
            outputs = []
            for direction in range(self.directions):
                index = layer * self.directions + direction
                params = p[index * per : (index + 1) * per]
                outputs.append(self._direction(seq, params, bool(direction), states, index))
            seq = torch.cat(outputs, dim=2)
        if not self.batched:
            return seq.squeeze(1)
        return seq.transpose(0, 1) if self.batch_first else seq

    def _direction(
        self, seq: Tensor, params: Sequence[Tensor], reverse: bool, states: list[Tensor] | None, index: int
    ) -> Tensor:
        h = seq.new_zeros(seq.shape[1], params[1].shape[1])
        c = seq.new_zeros(seq.shape[1], params[1].shape[0] // 4) if self.kind == "LSTM" else None
        if states is not None:
            parts = [s if self.batched else s.unsqueeze(1) for s in states]
            h = parts[0][index]
            c = parts[1][index] if self.kind == "LSTM" else None
        outputs: list[Tensor] = [seq.new_empty(0)] * seq.shape[0]
        order = range(seq.shape[0] - 1, -1, -1) if reverse else range(seq.shape[0])
        for step in order:
            h, c = self.cell()(seq[step], h, c, params)
            outputs[step] = h
        return torch.stack(outputs)


def _case(name: str, setup: Setup, training: bool = True) -> ModuleCase:
    return ModuleCase(
        name,
        setup.make,
        setup.input_shape,
        setup.reference if training else replace(setup, dropout=0.0).reference,  # eval: no masks
        training=training,
        mode_dependent=setup.dropout > 0,
    )


def _variants(name: str, base: Setup) -> list[ModuleCase]:
    return [
        _case(name, base),
        _case(f"{name}-layers2", replace(base, num_layers=2)),
        _case(f"{name}-bidirectional", replace(base, bidirectional=True)),
        _case(f"{name}-batch-first", replace(base, batch_first=True)),
        _case(f"{name}-no-bias", replace(base, bias=False)),
        _case(f"{name}-unbatched", replace(base, batched=False)),
        _case(f"{name}-dropout-train", replace(base, num_layers=2, dropout=DROPOUT)),
        _case(f"{name}-initial-state", replace(base, num_layers=2, bidirectional=True, initial=True)),
        _case(f"{name}-initial-state-unbatched", replace(base, batched=False, initial=True)),
    ]


CASES: list[ModuleCase] = [
    *_variants("RNN-tanh", Setup("RNN")),
    *_variants("RNN-relu", Setup("RNN", nonlinearity="relu")),
    *_variants("LSTM", Setup("LSTM")),
    *_variants("GRU", Setup("GRU")),
    _case("LSTM-proj", Setup("LSTM", proj_size=1)),
    _case(
        "LSTM-proj-layers2-bidirectional-no-bias",
        Setup("LSTM", num_layers=2, bidirectional=True, bias=False, proj_size=1),
    ),
    _case("LSTM-proj-initial-state", Setup("LSTM", num_layers=2, initial=True, proj_size=1)),
    _case("LSTM-dropout-eval", Setup("LSTM", num_layers=2, dropout=DROPOUT), training=False),
]
