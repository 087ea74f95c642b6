"""Recurrent layers with backpropagation through time written out: ``RNN``, ``LSTM``, ``GRU``.

``RNNBase`` holds what the three share: the arguments, the parameters (named,
shaped, ordered and initialised as torch's), the loop over layers and
directions, dropout between layers, the initial and final states, and the
weight gradients. Each cell class adds its recurrence: a forward step and a
backward step.

Of each layer and direction, only the recurrence runs step by step. The input
projection of all time steps is one matrix product before the loop; after the
backward loop, each weight gradient is one product of the per-step
pre-activation gradients, collected in an ``(L, N, G*H)`` tensor, with the
layer's input or the previous hidden states, and the input gradient is one
product too.
"""

import math
import warnings
from dataclasses import dataclass
from typing import ClassVar, Final, Self

import torch
from typing_extensions import override

from minitorch_nn import init
from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.modules.dropout import check_probability, dropout_mask
from minitorch_nn.modules.linear import check_size
from minitorch_nn.parameter import Parameter

__all__ = ["GRU", "LSTM", "RNN", "RNNBase"]

State = Tensor | tuple[Tensor, Tensor]


@dataclass(slots=True)
class _Trace:
    """What one layer and direction's forward leaves for its backward.

    ``states`` is ``(L + 1, N, H)``: the initial hidden state in slot 0 (slot ``L``
    for the reverse direction) and the state after step ``t`` in slot ``t + 1``
    (slot ``t``). ``gates`` is ``(L, N, G*H)``, the activated gates of each step;
    ``cells`` (LSTM) lays its cell states out as ``states``; ``extra`` is LSTM's
    ``tanh(c_t)`` or GRU's hidden projection ``W_hh h_{t-1} + b_hh``.
    """

    reverse: bool
    states: Tensor
    gates: Tensor
    cells: Tensor | None = None
    extra: Tensor | None = None
    unprojected: Tensor | None = None  # LSTM with proj_size: o * tanh(c_t) before W_hr, (L, N, H)

    def steps(self) -> list[tuple[int, int, int]]:
        """``(t, previous slot, new slot)`` for each step, in the order the recurrence runs."""
        length = self.gates.shape[0]
        if self.reverse:
            return [(t, t + 1, t) for t in range(length - 1, -1, -1)]
        return [(t, t, t + 1) for t in range(length)]

    def outputs(self, slots: Tensor) -> Tensor:
        """The slots after each step, in time order: ``slots[1:]``, or ``slots[:-1]`` in reverse."""
        return slots[:-1] if self.reverse else slots[1:]

    def previous(self, slots: Tensor) -> Tensor:
        """The slots before each step, in time order."""
        return slots[1:] if self.reverse else slots[:-1]


def _fill(slot: Tensor, value: Tensor | None) -> None:
    """Write an initial state into its slot: ``value``, or zeros for ``None``."""
    if value is None:
        slot.zero_()
    else:
        slot.copy_(value)


_STEMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@dataclass(slots=True)
class _Layer:
    input: Tensor  # (L * N, input features), contiguous
    mask: Tensor | None  # the dropout mask applied to this layer's input
    traces: list[_Trace]


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share; see ``LSTM`` for the arguments and attributes.

    A subclass sets ``gate_count`` (G: 1, 4 or 3) and writes ``_recur`` (the
    forward loop of one layer and direction) and ``_bptt`` (its backward loop).
    """

    gate_count: ClassVar[int]
    has_cell: ClassVar[bool] = False
    input_size: Final[int]
    hidden_size: Final[int]
    num_layers: Final[int]
    bias: Final[bool]
    batch_first: Final[bool]
    dropout: Final[float]
    bidirectional: Final[bool]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = check_size(name, "input_size", input_size)
        self.hidden_size = check_size(name, "hidden_size", hidden_size)
        self.num_layers = check_size(name, "num_layers", num_layers)
        self.bias = check_bool(name, "bias", bias)
        self.batch_first = check_bool(name, "batch_first", batch_first)
        self.dropout = check_probability(name, "dropout", dropout)
        self.bidirectional = check_bool(name, "bidirectional", bidirectional)
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout is applied between layers only (not after the last), so dropout={dropout} "
                "with num_layers=1 does nothing",
                UserWarning,
                stacklevel=3,
            )
        self.generator = generator
        self.initial_state: State | None = None
        self.last_state: State | None = None
        self.grad_initial_state: State | None = None
        self._names: list[dict[str, str]] = []  # per layer-direction: stem -> parameter name
        self._make_parameters(generator, device, dtype)
        self._layers: list[_Layer] | None = None
        self._layout: tuple[int, int, bool] | None = None  # (L, N, batched) of the last forward
        self._given_initial = False
        self._scratches: dict[str, Tensor] = {}  # see Module._scratch

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _output_size(self) -> int:
        """The size of ``h``: ``hidden_size`` (LSTM: ``proj_size`` if not 0)."""
        return self.hidden_size

    def _make_parameters(
        self, generator: torch.Generator | None, device: torch.device | str | None, dtype: torch.dtype | None
    ) -> None:
        """torch's parameters, in torch's order, each drawn from U(-k, k), k = 1/sqrt(hidden_size)."""
        rows, bound = self.gate_count * self.hidden_size, 1.0 / math.sqrt(self.hidden_size)
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self._directions * self._output_size
            for direction in range(self._directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (rows, width),
                    "weight_hh": (rows, self._output_size),
                }
                if self.bias:
                    shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                if self._output_size != self.hidden_size:
                    shapes.update(weight_hr=(self._output_size, self.hidden_size))
                for stem, shape in shapes.items():
                    value = torch.empty(shape, device=device, dtype=dtype)
                    setattr(
                        self,
                        stem + suffix,
                        Parameter(init.uniform_(value, -bound, bound, generator=generator)),
                    )
                self._names.append({stem: stem + suffix for stem in shapes})

    def _parameters_of(self, index: int) -> tuple[Parameter, Parameter, Parameter | None, Parameter | None]:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of layer-direction ``index`` (no bias: ``None``)."""
        names = self._names[index]
        found = [None if stem not in names else getattr(self, names[stem]) for stem in _STEMS]
        return found[0], found[1], found[2], found[3]  # type: ignore[return-value]  # weights always exist

    @override
    def shared_copy(self) -> Self:
        """As ``Module.shared_copy``; the copy keeps ``initial_state`` and starts without ``last_state``."""
        twin = super().shared_copy()
        twin._layers = None
        twin.last_state = twin.grad_initial_state = None
        return twin

    # Forward.

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Run the recurrence over ``input``, set ``last_state``; cache each layer's input, gates, states."""
        x, batched = self._time_major(input)
        length, batch = x.shape[0], x.shape[1]
        initial = self._initial(batch, batched, x)
        layers: list[_Layer] = []
        for layer in range(self.num_layers):
            mask = self._mask(x) if layer > 0 else None
            if mask is not None:
                x = x * mask
            flat = x.reshape(length * batch, x.shape[2])
            traces = []
            for direction in range(self._directions):
                index = layer * self._directions + direction
                traces.append(self._run(index, flat, length, batch, bool(direction), initial, index))
            layers.append(_Layer(flat, mask, traces))
            x = self._join(traces)
        self._layers, self._layout, self._given_initial = (
            layers,
            (length, batch, batched),
            initial is not None,
        )
        self.last_state = self._final(layers, batched)
        return self._user_layout(x, batched)

    def _time_major(self, input: Tensor) -> tuple[Tensor, bool]:
        """``input`` checked and laid out as ``(L, N, input_size)``; whether it was batched."""
        self._check_floating(input)
        size = self.input_size
        time = 1 if input.dim() == 3 and self.batch_first else 0
        if input.dim() not in (2, 3) or input.shape[-1] != size or input.shape[time] < 1:
            batched = "(N, L, {0})" if self.batch_first else "(L, N, {0})"
            raise ValueError(
                f"{self!r}: expected input of shape {batched.format(size)} or (L, {size}) with L >= 1, "
                f"got {shape_str(input)}"
            )
        self._check_like(input, self._parameters_of(0)[0].value)
        if input.dim() == 2:
            return input.unsqueeze(1), False
        return (input.transpose(0, 1) if self.batch_first else input), True

    def _user_layout(self, x: Tensor, batched: bool) -> Tensor:
        if not batched:
            return x.squeeze(1)
        return x.transpose(0, 1) if self.batch_first else x

    def _state_shape(self, batch: int, batched: bool, size: int | None = None) -> tuple[int, ...]:
        """The shape of ``h_0`` (of ``size`` features: default the size of ``h``)."""
        count, size = self._directions * self.num_layers, self._output_size if size is None else size
        return (count, batch, size) if batched else (count, size)

    def _initial(self, batch: int, batched: bool, like: Tensor) -> list[tuple[Tensor, Tensor | None]] | None:
        """``initial_state`` checked, as ``(h0, c0)`` per layer-direction, each ``(N, H)`` (or ``None``)."""
        state = self.initial_state
        if state is None:
            return None
        parts: tuple[Tensor, ...]
        if self.has_cell:
            if not (isinstance(state, tuple) and len(state) == 2):
                raise TypeError(
                    f"{self!r}: expected initial_state to be a tuple (h0, c0), got {type(state).__name__}"
                )
            parts = state
        else:
            parts = (state,)  # type: ignore[assignment]  # a tuple is refused by _check_state below
        shapes = (self._state_shape(batch, batched), self._state_shape(batch, batched, self.hidden_size))
        for name, part, shape in zip(("h0", "c0"), parts, shapes, strict=False):
            self._check_state(
                part, shape, f"initial_state {name}" if self.has_cell else "initial_state", like
            )
        views = [part if batched else part.unsqueeze(1) for part in parts]
        return [(views[0][i], views[1][i] if self.has_cell else None) for i in range(shapes[0][0])]

    def _check_state(self, tensor: Tensor, shape: tuple[int, ...], what: str, like: Tensor) -> None:
        """Raise unless ``tensor`` is a floating-point tensor of ``shape``, ``like``'s dtype and device."""
        self._check_floating(tensor, what)
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{self!r}: expected {what} of shape {shape}, got {shape_str(tensor)}")
        self._check_like(tensor, like, what)

    def _mask(self, x: Tensor) -> Tensor | None:
        """Training, ``dropout > 0``, a scaled 0/1 mask of ``x``'s shape ``(L, N, D*H)``; else ``None``."""
        if not self.training or self.dropout == 0.0:
            return None
        return dropout_mask(tuple(x.shape), self.dropout, x, self.generator)

    def _run(
        self,
        index: int,
        flat: Tensor,
        length: int,
        batch: int,
        reverse: bool,
        initial: list[tuple[Tensor, Tensor | None]] | None,
        state_index: int,
    ) -> _Trace:
        """One layer and direction: the input projection of all steps in one product, then the recurrence."""
        weight_ih, weight_hh, bias_ih, bias_hh = self._parameters_of(index)
        gates = self._project(flat, weight_ih.value, bias_ih, bias_hh).view(
            length, batch, weight_ih.value.shape[0]
        )
        states = flat.new_empty((length + 1, batch, self._output_size))
        trace = _Trace(reverse, states, gates)
        first = length if reverse else 0
        h0, c0 = (None, None) if initial is None else initial[state_index]
        _fill(states[first], h0)
        if self.has_cell:
            trace.cells = flat.new_empty((length + 1, batch, self.hidden_size))
            _fill(trace.cells[first], c0)
        self._recur(trace, weight_hh.value, None if bias_hh is None else bias_hh.value, index)
        return trace

    def _project(
        self, flat: Tensor, weight: Tensor, bias_ih: Parameter | None, bias_hh: Parameter | None
    ) -> Tensor:
        """``flat @ W_ih^T + b_ih + b_hh`` for every step at once (GRU keeps ``b_hh`` for the loop)."""
        if bias_ih is None or bias_hh is None:
            return torch.mm(flat, weight.t())
        return torch.addmm(bias_ih.value + bias_hh.value, flat, weight.t())

    def _recur(self, trace: _Trace, weight_hh: Tensor, bias_hh: Tensor | None, index: int) -> None:
        raise NotImplementedError

    def _join(self, traces: list[_Trace]) -> Tensor:
        """The layer's output ``(L, N, D*H)``: each direction's states after each step, side by side."""
        outputs = [trace.outputs(trace.states) for trace in traces]
        return outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=2)

    def _final(self, layers: list[_Layer], batched: bool) -> State:
        """``h_n`` (and ``c_n``) of torch's shape: the last state of each layer and direction (copies)."""

        def last(trace: _Trace, slots: Tensor) -> Tensor:
            return slots[0] if trace.reverse else slots[-1]

        traces = [trace for layer in layers for trace in layer.traces]
        h_n = torch.stack([last(trace, trace.states) for trace in traces])
        h_n = h_n if batched else h_n.squeeze(1)
        if not self.has_cell:
            return h_n
        c_n = torch.stack([last(trace, trace.cells) for trace in traces if trace.cells is not None])
        return h_n, (c_n if batched else c_n.squeeze(1))

    # Backward.

    @override
    def backward(self, grad_output: Tensor, *, grad_state: State | None = None) -> Tensor:
        """Backpropagate through time: add every parameter's gradient into its ``grad``, set
        ``grad_initial_state`` (if ``initial_state`` was given), and return d loss / d input.

        ``grad_state`` (optional, the structure and shapes of ``last_state``) is the gradient
        flowing into the final state, as from a loss on ``h_n``."""
        grad_input = self._backprop(grad_output, grad_state, need_input=True)
        assert grad_input is not None
        return grad_input

    @override
    def accumulate_grad(self, grad_output: Tensor, *, grad_state: State | None = None) -> None:
        """As ``backward``, without the gradient with respect to the input (the first layer's product)."""
        self._backprop(grad_output, grad_state, need_input=False)

    def _backprop(self, grad_output: Tensor, grad_state: State | None, need_input: bool) -> Tensor | None:
        layers = self._layers
        if layers is None or self._layout is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        length, batch, batched = self._layout
        width = self._directions * self._output_size
        shape = (
            (length, width)
            if not batched
            else ((batch, length, width) if self.batch_first else (length, batch, width))
        )
        self._check_floating(grad_output, "grad_output")
        self._check_grad_output(grad_output, shape)
        like = self._parameters_of(0)[0].value
        if grad_output.dtype != like.dtype or grad_output.device != like.device:
            raise TypeError(
                f"{self!r}: expected grad_output of dtype {like.dtype} on {like.device}, "
                f"got {grad_output.dtype} on {grad_output.device}"
            )
        upstream = (
            grad_output.unsqueeze(1)
            if not batched
            else (grad_output.transpose(0, 1) if self.batch_first else grad_output)
        )
        finals = self._grad_finals(grad_state, batch, batched)
        initial_grads: dict[int, tuple[Tensor | None, Tensor | None]] = {}
        for layer in range(self.num_layers - 1, -1, -1):
            record = layers[layer]
            wanted = need_input or layer > 0
            grad_x: Tensor | None = None
            for direction, trace in enumerate(record.traces):
                index = layer * self._directions + direction
                hidden = slice(direction * self._output_size, (direction + 1) * self._output_size)
                grad_x, grads = self._layer_backward(
                    index, record, trace, upstream[:, :, hidden], finals[index], grad_x, wanted
                )
                initial_grads[index] = grads
            if grad_x is not None:
                upstream = grad_x.view(length, batch, grad_x.shape[1])
                if record.mask is not None:
                    upstream = upstream * record.mask
        self.grad_initial_state = self._grad_initial(initial_grads, batched) if self._given_initial else None
        if not need_input:
            return None
        return self._user_layout(upstream, batched)

    def _grad_finals(
        self, grad_state: State | None, batch: int, batched: bool
    ) -> list[tuple[Tensor | None, Tensor | None]]:
        count = self._directions * self.num_layers
        if grad_state is None:
            return [(None, None)] * count
        shapes = (self._state_shape(batch, batched), self._state_shape(batch, batched, self.hidden_size))
        if self.has_cell:
            if not (isinstance(grad_state, tuple) and len(grad_state) == 2):
                raise TypeError(
                    f"{self!r}: expected grad_state to be a tuple (grad h_n, grad c_n), "
                    f"got {type(grad_state).__name__}"
                )
            parts = grad_state
        else:
            parts = (grad_state,)  # type: ignore[assignment]  # a tuple is refused by _check_state below
        like = self._parameters_of(0)[0].value
        for name, part, shape in zip(("h_n", "c_n"), parts, shapes, strict=False):
            self._check_state(part, shape, f"grad_state {name}" if self.has_cell else "grad_state", like)
        views = [part if batched else part.unsqueeze(1) for part in parts]
        return [(views[0][i], views[1][i] if self.has_cell else None) for i in range(count)]

    def _grad_initial(self, grads: dict[int, tuple[Tensor | None, Tensor | None]], batched: bool) -> State:
        order = [grads[index] for index in range(len(grads))]
        h = torch.stack([g[0] for g in order if g[0] is not None])
        h = h if batched else h.squeeze(1)
        if not self.has_cell:
            return h
        c = torch.stack([g[1] for g in order if g[1] is not None])
        return h, (c if batched else c.squeeze(1))

    def _layer_backward(
        self,
        index: int,
        record: _Layer,
        trace: _Trace,
        upstream: Tensor,
        final: tuple[Tensor | None, Tensor | None],
        grad_x: Tensor | None,
        wanted: bool,
    ) -> tuple[Tensor | None, tuple[Tensor | None, Tensor | None]]:
        """One layer and direction: the recurrence step by step, then each gradient as one product."""
        weight_ih, weight_hh, bias_ih, bias_hh = self._parameters_of(index)
        grad_gates, grad_hidden_gates, initial = self._bptt(
            trace, upstream, final, weight_hh.value, self._given_initial, index
        )
        length = trace.gates.shape[0]
        rows = self.gate_count * self.hidden_size
        flat_gates = grad_gates.view(-1, rows)
        # As (input^T dG)^T: with few input features (28 for MNIST rows) faster than dG^T input.
        self._add(weight_ih, torch.mm(record.input.t(), flat_gates).t())
        if self._given_initial:
            hidden, previous = grad_hidden_gates, trace.previous(trace.states)
        else:  # the first step's previous state is zero: its term is skipped
            hidden = grad_hidden_gates[:-1] if trace.reverse else grad_hidden_gates[1:]
            previous = trace.states[1:length]
        if hidden.shape[0] > 0:
            product = torch.mm(
                hidden.reshape(-1, rows).t(),
                previous.reshape(-1, self._output_size),
                out=self._grad_scratch(weight_hh),
            )
            self._add(weight_hh, product)
        if bias_ih is not None and bias_hh is not None:
            sums = torch.sum(flat_gates, dim=0, out=self._grad_scratch(bias_ih))
            self._add(bias_ih, sums)
            if grad_hidden_gates is not grad_gates:
                sums = torch.sum(grad_hidden_gates.view(-1, rows), dim=0, out=self._grad_scratch(bias_hh))
            self._add(bias_hh, sums)
        if not wanted:
            return None, initial
        if grad_x is None:
            return torch.mm(flat_gates, weight_ih.value), initial
        return grad_x.addmm_(flat_gates, weight_ih.value), initial

    def _bptt(
        self,
        trace: _Trace,
        upstream: Tensor,
        final: tuple[Tensor | None, Tensor | None],
        weight_hh: Tensor,
        need_initial: bool,
        index: int,
    ) -> tuple[Tensor, Tensor, tuple[Tensor | None, Tensor | None]]:
        """The backward loop of one layer and direction.

        Returns ``(dG_x, dG_h, (dh0, dc0))``: the gradients with respect to the
        pre-activations of the input projection and of the hidden projection, each
        ``(L, N, G*H)`` (one tensor for RNN and LSTM, where they are equal), and the
        gradients with respect to the initial state (``None`` unless ``need_initial``).
        """
        raise NotImplementedError

    @staticmethod
    def _start(upstream: Tensor, t: int, final: Tensor | None) -> Tensor:
        """d loss / d h at the first step backward: the output's gradient plus the final state's."""
        return upstream[t].clone() if final is None else torch.add(upstream[t], final)

    def _grad_scratch(self, param: Parameter) -> Tensor:
        """The scratch tensor (``Module._scratch``) for one step's gradient of ``param``."""
        return self._scratch(str(id(param)), param.grad)

    @staticmethod
    def _add(param: Parameter, step: Tensor) -> None:
        # Formed apart, then added: an addmm_ into the buffer would change the last bit of a second backward.
        param.grad.add_(step)

    @override
    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self._output_size != self.hidden_size:
            text += f", proj_size={self._output_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    r"""Elman recurrent network: :math:`h_t = \tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})`.

    As ``torch.nn.RNN`` (with ``relu`` in place of ``tanh`` if asked). Each layer
    runs over the sequence (both ways if ``bidirectional``, the two directions'
    states side by side); the next layer reads that output.
    ``forward(input)`` returns the output sequence only: the final state is
    kept in ``last_state``, and the initial state is read from ``initial_state``
    (see ``LSTM`` for both and for ``backward``'s ``grad_state``).

    Args:
        input_size: features of each time step's input.
        hidden_size: features of the hidden state, H.
        num_layers: stacked recurrent layers. Default: 1.
        nonlinearity: ``"tanh"`` or ``"relu"``. Default: ``"tanh"``.
        bias: if ``False``, no ``bias_ih``/``bias_hh``. Default: ``True``.
        batch_first: input and output as ``(N, L, *)`` instead of ``(L, N, *)`` (states unchanged).
            Default: ``False``.
        dropout: probability of zeroing each element of every layer's output but the last, in
            training, scaled by :math:`1/(1-p)` as ``Dropout``. Default: 0.
        bidirectional: run each layer both ways (D = 2). Default: ``False``.
        generator: random generator for the initial values and the dropout masks. Default: torch's global one.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(L, N, H_{in})`, :math:`(N, L, H_{in})` with ``batch_first``, or unbatched
          :math:`(L, H_{in})`; :math:`L \ge 1`.
        - Output: :math:`(L, N, D \cdot H)`, :math:`(N, L, D \cdot H)`, or :math:`(L, D \cdot H)`.
        - ``initial_state``, ``last_state``: :math:`(D \cdot \text{num\_layers}, N, H)`, or
          :math:`(D \cdot \text{num\_layers}, H)` for an unbatched input.

    Attributes:
        weight_ih_l{k}: ``Parameter`` ``(H, H_in)`` for layer 0, ``(H, D*H)`` above, from
            :math:`U(-k, k)`, :math:`k = 1/\sqrt{H}`, as torch; ``weight_hh_l{k}`` ``(H, H)``,
            ``bias_ih_l{k}`` and ``bias_hh_l{k}`` ``(H,)`` likewise; the reverse direction's have
            the suffix ``_reverse``.
        initial_state: ``h_0`` for the next ``forward`` (``None``: zeros). Default: ``None``.
        last_state: ``h_n`` after ``forward``.
        grad_initial_state: d loss / d ``h_0`` after ``backward`` (``None`` if ``initial_state`` is).

    Example:
        >>> rnn = RNN(3, 5, num_layers=2, generator=torch.Generator().manual_seed(0))
        >>> rnn
        RNN(3, 5, num_layers=2)
        >>> out = rnn(torch.ones(7, 2, 3))  # (L, N, H_in)
        >>> out.shape, rnn.last_state.shape
        (torch.Size([7, 2, 5]), torch.Size([2, 2, 5]))
        >>> torch.equal(out[-1], rnn.last_state[-1])
        True
        >>> rnn.backward(torch.ones(7, 2, 5)).shape
        torch.Size([7, 2, 3])
    """

    gate_count = 1
    nonlinearity: Final[str]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            generator=generator,
            device=device,
            dtype=dtype,
        )

    @override
    def _recur(self, trace: _Trace, weight_hh: Tensor, bias_hh: Tensor | None, index: int) -> None:
        states, pre = trace.states.unbind(0), trace.gates.unbind(0)
        weight_t, relu = weight_hh.t(), self.nonlinearity == "relu"
        for t, previous, new in trace.steps():
            hidden = torch.addmm(pre[t], states[previous], weight_t, out=states[new])
            if relu:
                hidden.relu_()
            else:
                hidden.tanh_()

    @override
    def _bptt(
        self,
        trace: _Trace,
        upstream: Tensor,
        final: tuple[Tensor | None, Tensor | None],
        weight_hh: Tensor,
        need_initial: bool,
        index: int,
    ) -> tuple[Tensor, Tensor, tuple[Tensor | None, Tensor | None]]:
        outputs = trace.outputs(trace.states)
        # The activation's derivative at every step at once: 1 - h^2, or [h > 0].
        slope = (outputs > 0).to(outputs.dtype) if self.nonlinearity == "relu" else 1 - outputs * outputs
        grad_pre = torch.empty_like(trace.gates)
        steps = trace.steps()[::-1]
        grad_h = self._start(upstream, steps[0][0], final[0])
        for position, (t, _, _) in enumerate(steps):
            torch.mul(grad_h, slope[t], out=grad_pre[t])
            if position + 1 < len(
                steps
            ):  # d loss / d h at the step before: its output's gradient and this step's
                torch.addmm(upstream[steps[position + 1][0]], grad_pre[t], weight_hh, out=grad_h)
        initial = torch.mm(grad_pre[steps[-1][0]], weight_hh) if need_initial else None
        return grad_pre, grad_pre, (initial, None)

    @override
    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else f"{text}, nonlinearity='{self.nonlinearity}'"


class LSTM(RNNBase):
    r"""Long short-term memory, as ``torch.nn.LSTM`` (gates in torch's order i, f, g, o):

    .. math::
        (i_t, f_t, g_t, o_t) = (\sigma, \sigma, \tanh, \sigma)(x_t W_{ih}^T + b_{ih}
        + h_{t-1} W_{hh}^T + b_{hh}),

        c_t = f_t c_{t-1} + i_t g_t, \quad h_t = o_t \tanh(c_t).

    ``forward(input)`` returns the output sequence only (one tensor in, one out).
    The final state ``(h_n, c_n)`` stays readable as ``last_state``. An initial
    state ``(h_0, c_0)`` is set through the attribute ``initial_state`` before
    ``forward`` (``None``: zeros), and checked there. ``backward(grad_output,
    grad_state=None)`` takes, besides the output's gradient, the gradient flowing
    into the final state (of ``last_state``'s structure: for a loss on ``h_n``,
    or truncated BPTT); after it, ``grad_initial_state`` holds d loss / d
    ``(h_0, c_0)`` when an initial state was given. Of each layer and direction
    only the recurrence runs step by step: the input projection, the weight
    gradients and the input gradient are one matrix product each.

    Args:
        input_size: features of each time step's input.
        hidden_size: features of the hidden and cell states, H.
        num_layers: stacked recurrent layers. Default: 1.
        bias: if ``False``, no ``bias_ih``/``bias_hh``. Default: ``True``.
        batch_first: input and output as ``(N, L, *)`` instead of ``(L, N, *)`` (states unchanged).
            Default: ``False``.
        dropout: probability of zeroing each element of every layer's output but the last, in
            training, scaled by :math:`1/(1-p)` as ``Dropout``; the masks, of shape
            :math:`(L, N, D \cdot H)` (N = 1 unbatched), are drawn from ``generator`` layer after
            layer. Default: 0.
        bidirectional: run each layer both ways (D = 2). Default: ``False``.
        proj_size: if > 0, h is projected to this size: :math:`h_t = (o_t \tanh(c_t)) W_{hr}^T`, with a
            parameter ``weight_hr_l{k}`` ``(proj_size, H)``; then :math:`H_{out} =` ``proj_size`` is the
            size of h, of the output and of ``weight_hh`` columns. Default: 0.
        generator: random generator for the initial values and the dropout masks. Default: torch's global one.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(L, N, H_{in})`, :math:`(N, L, H_{in})` with ``batch_first``, or unbatched
          :math:`(L, H_{in})`; :math:`L \ge 1`.
        - Output: :math:`(L, N, D \cdot H)`, :math:`(N, L, D \cdot H)`, or :math:`(L, D \cdot H)`.
        - ``initial_state``, ``last_state``, ``grad_initial_state``, ``grad_state``: a tuple of two
          tensors :math:`(D \cdot \text{num\_layers}, N, H)`, or :math:`(D \cdot \text{num\_layers}, H)`
          for an unbatched input.

    Attributes:
        weight_ih_l{k}: ``Parameter`` ``(4H, H_in)`` for layer 0, ``(4H, D*H)`` above, from
            :math:`U(-k, k)`, :math:`k = 1/\sqrt{H}`, as torch; ``weight_hh_l{k}`` ``(4H, H)``,
            ``bias_ih_l{k}`` and ``bias_hh_l{k}`` ``(4H,)`` likewise; the reverse direction's have
            the suffix ``_reverse``.
        initial_state: ``(h_0, c_0)`` for the next ``forward`` (``None``: zeros). Default: ``None``.
        last_state: ``(h_n, c_n)`` after ``forward``.
        grad_initial_state: d loss / d ``(h_0, c_0)`` after ``backward`` (``None`` if ``initial_state`` is).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> lstm = LSTM(28, 16, batch_first=True, generator=g)
        >>> lstm
        LSTM(28, 16, batch_first=True)
        >>> [(name, tuple(p.shape)) for name, p in lstm.named_parameters()]
        [('weight_ih_l0', (64, 28)), ('weight_hh_l0', (64, 16)), ('bias_ih_l0', (64,)), ('bias_hh_l0', (64,))]
        >>> x = torch.randn(4, 28, 28, generator=g)  # (N, L, H_in)
        >>> out = lstm(x)
        >>> h_n, c_n = lstm.last_state
        >>> out.shape, h_n.shape, c_n.shape
        (torch.Size([4, 28, 16]), torch.Size([1, 4, 16]), torch.Size([1, 4, 16]))
        >>> torch.equal(out[:, -1], h_n[0])
        True
        >>> lstm.initial_state = (torch.zeros(1, 4, 16), torch.ones(1, 4, 16))
        >>> out = lstm(x)
        >>> loss_on_h_n = (torch.ones(1, 4, 16), torch.zeros(1, 4, 16))
        >>> grad_x = lstm.backward(torch.zeros_like(out), grad_state=loss_on_h_n)
        >>> grad_x.shape, lstm.grad_initial_state[1].shape
        (torch.Size([4, 28, 28]), torch.Size([1, 4, 16]))
    """

    gate_count = 4
    has_cell = True
    proj_size: Final[int]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if isinstance(proj_size, bool) or not isinstance(proj_size, int):
            raise TypeError(f"LSTM: expected proj_size to be an int, got {type(proj_size).__name__}")
        size = check_size("LSTM", "hidden_size", hidden_size)
        if not 0 <= proj_size < size:
            raise ValueError(f"LSTM: expected 0 <= proj_size < hidden_size ({size}), got {proj_size}")
        self.proj_size = proj_size
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            generator=generator,
            device=device,
            dtype=dtype,
        )

    @property
    @override
    def _output_size(self) -> int:
        return self.proj_size or self.hidden_size

    def _weight_hr(self, index: int) -> Parameter | None:
        """``weight_hr`` of layer-direction ``index``, ``None`` without ``proj_size``."""
        name = self._names[index].get("weight_hr")
        found: Parameter | None = None if name is None else getattr(self, name)
        return found

    # torch's sigmoid runs several times faster than its tanh on CPU, so the loop computes
    # tanh(x) = 2 sigmoid(2x) - 1: the g rows of the weights and biases are doubled once per
    # forward (``_doubled``), one sigmoid covers all four gates, and g is mapped back.

    def _doubled(self, weight: Tensor) -> Tensor:
        """A copy of ``weight`` (or a bias) with the g gate's rows doubled."""
        size = self.hidden_size
        copy = weight.clone()
        copy[2 * size : 3 * size].mul_(2)
        return copy

    @override
    def _project(
        self, flat: Tensor, weight: Tensor, bias_ih: Parameter | None, bias_hh: Parameter | None
    ) -> Tensor:
        """``flat @ W_ih^T + b_ih + b_hh`` for every step, the g gate's columns doubled."""
        weight = self._doubled(weight)
        if bias_ih is None or bias_hh is None:
            return torch.mm(flat, weight.t())
        return torch.addmm(self._doubled(bias_ih.value + bias_hh.value), flat, weight.t())

    @override
    def _recur(self, trace: _Trace, weight_hh: Tensor, bias_hh: Tensor | None, index: int) -> None:
        assert trace.cells is not None
        size, weight_hr = self.hidden_size, self._weight_hr(index)
        trace.extra = torch.empty_like(trace.cells[1:])
        if weight_hr is not None:
            trace.unprojected = torch.empty_like(trace.extra)
        unprojected = None if trace.unprojected is None else trace.unprojected.unbind(0)
        weight_hr_t = torch.empty(0) if weight_hr is None else weight_hr.value.t()
        gates, states, cells = trace.gates.unbind(0), trace.states.unbind(0), trace.cells.unbind(0)
        four = trace.gates.view(*trace.gates.shape[:2], 4, size)
        in_gate, forget, cand, out = (four[:, :, k].unbind(0) for k in range(4))
        tanh_c, weight_t = trace.extra.unbind(0), self._doubled(weight_hh).t()
        for t, previous, new in trace.steps():
            gates[t].addmm_(states[previous], weight_t).sigmoid_()
            cand[t].mul_(2).sub_(1)  # g = 2 sigmoid(2 x) - 1 = tanh(x)
            torch.mul(forget[t], cells[previous], out=cells[new]).addcmul_(in_gate[t], cand[t])
            torch.mul(cells[new], 2, out=tanh_c[t]).sigmoid_().mul_(2).sub_(1)
            if unprojected is None:
                torch.mul(out[t], tanh_c[t], out=states[new])
            else:  # h_t = (o tanh(c_t)) W_hr^T
                torch.mul(out[t], tanh_c[t], out=unprojected[t])
                torch.mm(unprojected[t], weight_hr_t, out=states[new])

    @override
    def _bptt(
        self,
        trace: _Trace,
        upstream: Tensor,
        final: tuple[Tensor | None, Tensor | None],
        weight_hh: Tensor,
        need_initial: bool,
        index: int,
    ) -> tuple[Tensor, Tensor, tuple[Tensor | None, Tensor | None]]:
        assert trace.cells is not None and trace.extra is not None
        length, batch, size = trace.gates.shape[0], trace.gates.shape[1], self.hidden_size
        act = trace.gates.view(length, batch, 4, size)
        i, f, g, o = act.unbind(2)
        tanh_c = trace.extra
        # Every step at once: d gate pre-activation = (d c or d h) * factor; factor per gate below.
        # With h = o tanh(c): i' = g i(1-i), f' = c_{t-1} f(1-f), g' = i (1-g^2), o' = tanh(c) o(1-o).
        factor = torch.empty_like(act)
        hidden = trace.outputs(trace.states) if trace.unprojected is None else trace.unprojected
        torch.addcmul(act[:, :, :2], act[:, :, :2], act[:, :, :2], value=-1, out=factor[:, :, :2])
        factor[:, :, 0].mul_(g)
        factor[:, :, 1].mul_(trace.previous(trace.cells))
        torch.addcmul(i, torch.mul(i, g), g, value=-1, out=factor[:, :, 2])
        torch.addcmul(hidden, hidden, o, value=-1, out=factor[:, :, 3])
        through_h = torch.addcmul(o, hidden, tanh_c, value=-1)  # d h / d c = o tanh'(c) = o - h tanh(c)
        grad = torch.empty_like(trace.gates)
        grad4 = grad.view(length, batch, 4, size)
        grad_ifg, grad_o = grad4[:, :, :3].unbind(0), grad4[:, :, 3].unbind(0)
        factor_ifg, factor_o = factor[:, :, :3].unbind(0), factor[:, :, 3].unbind(0)
        steps = trace.steps()[::-1]
        grad_h = self._start(upstream, steps[0][0], final[0])
        grad_c = tanh_c.new_zeros(tanh_c.shape[1:]) if final[1] is None else final[1].clone()
        grad_c3 = grad_c.unsqueeze(1)
        weight_hr = self._weight_hr(index)
        # With proj_size: d h for every step, kept for weight_hr's gradient; d (o tanh c) = d h W_hr.
        grad_hs = None if weight_hr is None else upstream.new_empty(upstream.shape)
        grad_m = grad_h if weight_hr is None else grad_c.new_empty(grad_c.shape)
        for position, (t, _, _) in enumerate(steps):
            if weight_hr is not None and grad_hs is not None:
                grad_hs[t].copy_(grad_h)
                torch.mm(grad_h, weight_hr.value, out=grad_m)
            grad_c.addcmul_(grad_m, through_h[t])
            torch.mul(factor_ifg[t], grad_c3, out=grad_ifg[t])
            torch.mul(grad_m, factor_o[t], out=grad_o[t])
            grad_c.mul_(f[t])  # d loss / d c_{t-1}
            if position + 1 < len(steps):
                torch.addmm(upstream[steps[position + 1][0]], grad[t], weight_hh, out=grad_h)
        if weight_hr is not None and grad_hs is not None and trace.unprojected is not None:
            rows, columns = grad_hs.reshape(-1, grad_hs.shape[2]), trace.unprojected.view(-1, size)
            self._add(weight_hr, torch.mm(rows.t(), columns, out=self._grad_scratch(weight_hr)))
        last = steps[-1][0]
        initial = (torch.mm(grad[last], weight_hh), grad_c) if need_initial else (None, None)
        return grad, grad, initial


class GRU(RNNBase):
    r"""Gated recurrent unit, as ``torch.nn.GRU`` (gates in torch's order r, z, n):

    .. math::
        r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}),\quad
        z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}),

        n_t = \tanh(W_{in} x_t + b_{in} + r_t (W_{hn} h_{t-1} + b_{hn})),\quad
        h_t = (1 - z_t) n_t + z_t h_{t-1}.

    ``forward(input)`` returns the output sequence; ``last_state`` is ``h_n``,
    ``initial_state`` is ``h_0`` (``None``: zeros), ``grad_initial_state`` and
    ``backward``'s ``grad_state`` are as for ``LSTM`` with one tensor.

    Args:
        input_size: features of each time step's input.
        hidden_size: features of the hidden state, H.
        num_layers: stacked recurrent layers. Default: 1.
        bias: if ``False``, no ``bias_ih``/``bias_hh``. Default: ``True``.
        batch_first: input and output as ``(N, L, *)`` instead of ``(L, N, *)``. Default: ``False``.
        dropout: probability of zeroing each element of every layer's output but the last, in
            training, as for ``LSTM``. Default: 0.
        bidirectional: run each layer both ways (D = 2). Default: ``False``.
        generator: random generator for the initial values and the dropout masks. Default: torch's global one.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(L, N, H_{in})`, :math:`(N, L, H_{in})` with ``batch_first``, or unbatched
          :math:`(L, H_{in})`; :math:`L \ge 1`.
        - Output: :math:`(L, N, D \cdot H)`, :math:`(N, L, D \cdot H)`, or :math:`(L, D \cdot H)`.
        - ``initial_state``, ``last_state``: :math:`(D \cdot \text{num\_layers}, N, H)`, or
          :math:`(D \cdot \text{num\_layers}, H)` for an unbatched input.

    Attributes:
        weight_ih_l{k}: ``Parameter`` ``(3H, H_in)`` for layer 0, ``(3H, D*H)`` above, from
            :math:`U(-k, k)`, :math:`k = 1/\sqrt{H}`, as torch; ``weight_hh_l{k}`` ``(3H, H)``,
            ``bias_ih_l{k}`` and ``bias_hh_l{k}`` ``(3H,)`` likewise; the reverse direction's have
            the suffix ``_reverse``.
        initial_state: ``h_0`` for the next ``forward`` (``None``: zeros). Default: ``None``.
        last_state: ``h_n`` after ``forward``.
        grad_initial_state: d loss / d ``h_0`` after ``backward`` (``None`` if ``initial_state`` is).

    Example:
        >>> gru = GRU(4, 3, bidirectional=True, generator=torch.Generator().manual_seed(0))
        >>> gru
        GRU(4, 3, bidirectional=True)
        >>> gru.initial_state = torch.zeros(2, 3)  # unbatched: (D * num_layers, H)
        >>> out = gru(torch.ones(5, 4))  # unbatched (L, H_in)
        >>> out.shape, gru.last_state.shape
        (torch.Size([5, 6]), torch.Size([2, 3]))
        >>> torch.equal(out[-1, :3], gru.last_state[0]), torch.equal(out[0, 3:], gru.last_state[1])
        (True, True)
        >>> _ = gru.backward(torch.ones(5, 6))
        >>> gru.grad_initial_state.shape
        torch.Size([2, 3])
    """

    gate_count = 3

    @override
    def _project(
        self, flat: Tensor, weight: Tensor, bias_ih: Parameter | None, bias_hh: Parameter | None
    ) -> Tensor:
        """``flat @ W_ih^T + b_ih`` for every step; ``b_hh`` joins the hidden projection (for ``b_hn``)."""
        if bias_ih is None:
            return torch.mm(flat, weight.t())
        return torch.addmm(bias_ih.value, flat, weight.t())

    @override
    def _recur(self, trace: _Trace, weight_hh: Tensor, bias_hh: Tensor | None, index: int) -> None:
        size = self.hidden_size
        trace.extra = torch.empty_like(trace.gates)
        hidden_proj, states, weight_t = trace.extra.unbind(0), trace.states.unbind(0), weight_hh.t()
        rz, n = trace.gates[:, :, : 2 * size].unbind(0), trace.gates[:, :, 2 * size :].unbind(0)
        r, z = trace.gates[:, :, :size].unbind(0), trace.gates[:, :, size : 2 * size].unbind(0)
        proj_rz, proj_n = trace.extra[:, :, : 2 * size].unbind(0), trace.extra[:, :, 2 * size :].unbind(0)
        for t, previous, new in trace.steps():
            if bias_hh is None:
                torch.mm(states[previous], weight_t, out=hidden_proj[t])
            else:
                torch.addmm(bias_hh, states[previous], weight_t, out=hidden_proj[t])
            rz[t].add_(proj_rz[t]).sigmoid_()
            n[t].addcmul_(r[t], proj_n[t]).tanh_()
            torch.lerp(n[t], states[previous], z[t], out=states[new])

    @override
    def _bptt(
        self,
        trace: _Trace,
        upstream: Tensor,
        final: tuple[Tensor | None, Tensor | None],
        weight_hh: Tensor,
        need_initial: bool,
        index: int,
    ) -> tuple[Tensor, Tensor, tuple[Tensor | None, Tensor | None]]:
        assert trace.extra is not None
        size = self.hidden_size
        r, z, n = trace.gates.view(*trace.gates.shape[:2], 3, size).unbind(2)
        proj_n = trace.extra[:, :, 2 * size :]
        # Every step at once: the factors that turn d h_t into each pre-activation's gradient.
        factor_n = (1 - z) * (1 - n * n)
        factor_z = (trace.previous(trace.states) - n) * z * (1 - z)
        factor_r = proj_n * r * (1 - r)
        grad_hidden = torch.empty_like(trace.gates)  # d (W_hh h + b_hh): r, z, then r * d n_pre
        grad_n = torch.empty_like(n)  # d n_pre, the input projection's n part
        g_r, g_z, g_hn = (part.unbind(0) for part in grad_hidden.view(*n.shape[:2], 3, size).unbind(2))
        g_n, f_n, f_z, f_r = grad_n.unbind(0), factor_n.unbind(0), factor_z.unbind(0), factor_r.unbind(0)
        r_t, z_t, rows = r.unbind(0), z.unbind(0), grad_hidden.unbind(0)
        steps = trace.steps()[::-1]
        grad_h = self._start(upstream, steps[0][0], final[0])
        carry = torch.empty_like(grad_h)
        for position, (t, _, _) in enumerate(steps):
            torch.mul(grad_h, f_n[t], out=g_n[t])
            torch.mul(grad_h, f_z[t], out=g_z[t])
            torch.mul(g_n[t], f_r[t], out=g_r[t])
            torch.mul(g_n[t], r_t[t], out=g_hn[t])
            if position + 1 < len(steps):
                torch.addcmul(upstream[steps[position + 1][0]], grad_h, z_t[t], out=carry)
                torch.addmm(carry, rows[t], weight_hh, out=grad_h)
        last = steps[-1][0]
        initial = torch.addmm(grad_h * z_t[last], rows[last], weight_hh) if need_initial else None
        grad_input = grad_hidden.clone()
        grad_input[:, :, 2 * size :] = grad_n
        return grad_input, grad_hidden, (initial, None)
