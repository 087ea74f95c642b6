"""Property tests: random deep ``Sequential`` networks against a plain-torch reference and torch.autograd.

Hypothesis draws a network: an optional sequence block first (``Unflatten(1, (T, k))``, then one
of ``Permute``, ``Mean``, ``Select``, ``PositionalEmbedding``, ``RNN`` (tanh or relu), ``LSTM``,
``GRU`` (hidden size, 1 or 2 layers, bidirectional, batch_first and bias drawn) or
``MultiheadAttention`` (heads, a divisor of k, bias, is_causal and batch_first drawn) on the
``(N, T, k)`` tensor, then ``Flatten(1)``), 1 to 5 hidden blocks, each a ``Linear`` (with or
without bias), an optional ``BatchNorm1d`` in training mode (affine or not, eps drawn), one
of the package's element-wise activations with drawn settings, and an optional
``Dropout`` with a drawn ``p`` and a seeded generator; then a final ``Linear``, a
loss (``MSELoss``, or ``CrossEntropyLoss`` with drawn label smoothing and
class-index or class-probability targets), the input and the target, all float64.

From the same drawn spec the reference restates the whole forward pass as one
function of the input and the parameter values, in plain torch and
``torch.nn.functional`` ops: batch statistics written out, each dropout mask
redrawn from a fresh generator seeded as the module's, the recurrent layers and the
attention replayed by the registry's references (``tests/cases/rnn.py``,
``tests/cases/attention.py``: a loop over time steps, softmax of scaled scores). ``torch.autograd``
differentiates it. The properties: our loss, input gradient and every
``Parameter.grad`` match the reference (rtol 1e-9, atol 1e-11 or 256 ulps of the
largest gradient inside the network, whichever is larger; examples that evaluate
a ReLU-like kink within rounding of the kink are discarded); a second
``backward`` after one ``forward`` doubles every ``Parameter.grad`` exactly; and
no call modifies the input, the target or the upstream gradient it is given.
Examples are derandomized, so every run draws the same ones.
"""

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st

import minitorch_nn as mn
from minitorch_nn._types import Tensor
from minitorch_nn.modules.loss import Reduction
from tests.cases.attention import Setting, attention
from tests.cases.rnn import Setup

DTYPE = torch.float64
RTOL, ATOL = 1e-9, 1e-11
# Beyond ATOL, gradients may differ by this many ulps of the largest gradient (see ``Expected``).
NOISE_ULPS = 256
EPS = torch.finfo(DTYPE).eps
# Examples that evaluate a kinked activation closer than this to its kink are discarded (see the test).
KINK_GAP = 1e-9

# derandomize: the same examples on every run, so CI is reproducible; no example database either.
# The only function-scoped fixture is conftest's autouse float64 default, which nothing here relies
# on (every tensor and module is created as float64 explicitly), so sharing it across examples is safe.
BASE = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# The drawn spec ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """An element-wise activation: how to build ours, and the same function in plain torch."""

    name: str
    make: Callable[[], mn.Module] = field(repr=False)
    reference: Callable[[Tensor], Tensor] = field(repr=False)
    kink: float | None = field(default=None, repr=False)  # where the derivative jumps, if anywhere


@dataclass(frozen=True)
class DropoutSpec:
    p: float
    seed: int


@dataclass(frozen=True)
class BatchNormSpec:
    affine: bool
    eps: float


@dataclass(frozen=True)
class Hidden:
    """One hidden block: Linear -> [BatchNorm1d] -> activation -> [Dropout]."""

    width: int
    bias: bool
    batch_norm: BatchNormSpec | None
    activation: Activation
    dropout: DropoutSpec | None


SequenceKind = Literal[
    "Permute", "Mean", "Select", "PositionalEmbedding", "RNN", "LSTM", "GRU", "MultiheadAttention"
]


@dataclass(frozen=True)
class SequenceSpec:
    """An optional first block: Unflatten(1, (steps, size)) -> a module on (N, steps, size) -> Flatten(1)."""

    kind: SequenceKind
    steps: int
    size: int
    index: int  # Select's (may be negative); the others ignore it
    recurrent: Setup | None = None  # RNN, LSTM, GRU: their settings, as the registry replays them
    hidden_size: int = 0  # RNN, LSTM, GRU
    attention: Setting | None = None  # MultiheadAttention: heads, bias, is_causal, batch_first

    @property
    def out_features(self) -> int:
        if self.kind in ("Mean", "Select"):
            return self.size
        if self.recurrent is not None:
            return self.steps * self.recurrent.directions * self.hidden_size
        return self.steps * self.size


LossKind = Literal["mse", "class-index", "class-probability"]


@dataclass(frozen=True)
class LossSpec:
    kind: LossKind
    reduction: Reduction
    label_smoothing: float


@dataclass(frozen=True)
class Case:
    """A whole drawn example: the network, the loss, the data and the seed of the initial values."""

    hidden: tuple[Hidden, ...]
    out_features: int
    out_bias: bool
    loss: LossSpec
    init_seed: int
    input: Tensor
    target: Tensor
    sequence: SequenceSpec | None = None


# Strategies --------------------------------------------------------------------------------------

REDUCTIONS: tuple[Reduction, ...] = ("mean", "sum")
LOSS_KINDS: tuple[LossKind, ...] = ("mse", "class-index", "class-probability")
SEEDS = st.integers(0, 2**32 - 1)


def _values(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_subnormal=False)


def _leaky_relu(slope: float) -> Activation:
    kink = None if slope == 1.0 else 0.0
    return Activation(
        f"LeakyReLU({slope})", lambda: mn.LeakyReLU(slope), lambda x: F.leaky_relu(x, slope), kink
    )


def _elu(alpha: float) -> Activation:
    kink = None if alpha == 1.0 else 0.0
    return Activation(f"ELU({alpha})", lambda: mn.ELU(alpha), lambda x: F.elu(x, alpha), kink)


def _softplus(beta: float, threshold: float) -> Activation:
    return Activation(
        f"Softplus(beta={beta}, threshold={threshold})",
        lambda: mn.Softplus(beta, threshold),
        lambda x: F.softplus(x, beta=beta, threshold=threshold),
        threshold / beta,
    )


def _gelu(approximate: Literal["none", "tanh"]) -> Activation:
    return Activation(
        f"GELU({approximate!r})", lambda: mn.GELU(approximate), lambda x: F.gelu(x, approximate=approximate)
    )


def _identity(x: Tensor) -> Tensor:
    return x


TANH = Activation("Tanh", mn.Tanh, torch.tanh)
FIXED_ACTIVATIONS = (
    TANH,
    Activation("Sigmoid", mn.Sigmoid, torch.sigmoid),
    Activation("ReLU", mn.ReLU, torch.relu, 0.0),
    Activation("SiLU", mn.SiLU, F.silu),
    Activation("Identity", mn.Identity, _identity),
)

APPROXIMATIONS: tuple[Literal["none", "tanh"], ...] = ("none", "tanh")

activations: st.SearchStrategy[Activation] = st.one_of(
    st.sampled_from(FIXED_ACTIVATIONS),
    st.builds(_leaky_relu, _values(0.0, 1.0)),
    st.builds(_elu, _values(0.0, 2.0)),
    st.builds(_softplus, _values(0.25, 4.0), _values(1.0, 20.0)),
    st.sampled_from(APPROXIMATIONS).map(_gelu),
)

# p <= 0.9 keeps each 1/(1-p) <= 10 (p near 1 drops nearly everything, as p = 1 does); p = 1
# (everything dropped, a special case in ours: scale 0, not 1/0) is drawn on its own.
dropouts: st.SearchStrategy[DropoutSpec] = st.builds(
    DropoutSpec, st.one_of(_values(0.0, 0.9), st.just(1.0)), SEEDS
)

# eps >= 0.1, not the default 1e-5. A channel that is constant over the batch (an all-zero input,
# a dead ReLU, p = 1 dropout) makes BatchNorm1d's backward scale by 1/sqrt(eps): 316 for 1e-5. A
# one-ulp difference in the forward pass (which BLAS kernel summed a row) then gives the reference
# a variance of 1e-33 where ours has 0, and two such layers turn that into input gradients of 5e-11
# on its side and exact zeros on ours: both right, for their own rounding. With eps >= 0.1 the
# factor is at most 3.2. The default eps is covered on non-degenerate data in test_gradients.py.
batch_norms: st.SearchStrategy[BatchNormSpec] = st.builds(BatchNormSpec, st.booleans(), _values(0.1, 1.0))

SEQUENCE_KINDS: tuple[SequenceKind, ...] = (
    "Permute",
    "Mean",
    "Select",
    "PositionalEmbedding",
    "RNN",
    "LSTM",
    "GRU",
    "MultiheadAttention",
)
NONLINEARITIES = ("tanh", "relu")


@st.composite
def sequence_blocks(draw: st.DrawFn) -> SequenceSpec:
    """The sequence block; the tensor it sees is (N, T, k), read as (L, N, H_in) unless batch_first."""
    steps = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(SEQUENCE_KINDS))
    if kind in ("RNN", "LSTM", "GRU"):
        recurrent = Setup(
            kind,
            nonlinearity=draw(st.sampled_from(NONLINEARITIES)) if kind == "RNN" else "tanh",
            num_layers=draw(st.integers(1, 2)),
            bias=draw(st.booleans()),
            batch_first=draw(st.booleans()),
            bidirectional=draw(st.booleans()),
        )
        size, hidden_size = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        return SequenceSpec(kind, steps, size, 0, recurrent=recurrent, hidden_size=hidden_size)
    if kind == "MultiheadAttention":
        heads = draw(st.integers(1, 3))  # k = heads * head_dim: several heads as often as one
        setting = Setting(heads, draw(st.booleans()), draw(st.booleans()), causal=draw(st.booleans()))
        return SequenceSpec(kind, steps, heads * draw(st.integers(1, 2)), 0, attention=setting)
    return SequenceSpec(kind, steps, draw(st.integers(1, 3)), draw(st.integers(-steps, steps - 1)))


hidden_blocks: st.SearchStrategy[Hidden] = st.builds(
    Hidden,
    width=st.integers(1, 8),
    bias=st.booleans(),
    batch_norm=st.none() | batch_norms,
    activation=activations,
    dropout=st.none() | dropouts,
)


def _tensor(draw: st.DrawFn, shape: tuple[int, int], elements: st.SearchStrategy[float]) -> Tensor:
    values = draw(st.lists(elements, min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))
    return torch.tensor(values, dtype=DTYPE).reshape(shape)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A random network, loss, input and target; batches of 2+ when a BatchNorm1d needs statistics."""
    hidden = tuple(draw(st.lists(hidden_blocks, min_size=1, max_size=5)))
    needs_statistics = any(block.batch_norm is not None for block in hidden)
    batch = draw(st.integers(2 if needs_statistics else 1, 6))
    sequence = draw(st.none() | sequence_blocks())
    features = draw(st.integers(1, 8)) if sequence is None else sequence.steps * sequence.size
    out = draw(st.integers(1, 8))
    kind = draw(st.sampled_from(LOSS_KINDS))
    smoothing = 0.0 if kind == "mse" else draw(_values(0.0, 1.0))
    loss = LossSpec(kind, draw(st.sampled_from(REDUCTIONS)), smoothing)
    if kind == "class-index":
        classes = draw(st.lists(st.integers(0, out - 1), min_size=batch, max_size=batch))
        target = torch.tensor(classes, dtype=torch.int64)
    elif kind == "class-probability":
        # Non-negative rows that need not sum to 1: both sides define the loss for any such rows.
        target = _tensor(draw, (batch, out), _values(0.0, 1.0))
    else:
        target = _tensor(draw, (batch, out), _values(-3.0, 3.0))
    return Case(
        hidden=hidden,
        out_features=out,
        out_bias=draw(st.booleans()),
        loss=loss,
        init_seed=draw(SEEDS),
        input=_tensor(draw, (batch, features), _values(-3.0, 3.0)),
        target=target,
        sequence=sequence,
    )


def _degenerate_batch_norm_chain() -> Case:
    """Every BatchNorm1d channel constant over the batch: gradients grow 1/sqrt(eps) per layer
    while their batch sums cancel to 0. With eps = 1e-5 such a chain broke a fixed atol."""
    chain = tuple(
        Hidden(1, bias=True, batch_norm=BatchNormSpec(False, 0.1), activation=TANH, dropout=None)
        for _ in range(5)
    )
    target = torch.tensor([[0.0], [0.0], [0.0], [1.0]], dtype=DTYPE)
    loss = LossSpec("mse", "mean", 0.0)
    return Case(chain, 1, False, loss, init_seed=0, input=torch.zeros(4, 1, dtype=DTYPE), target=target)


# Ours and the reference --------------------------------------------------------------------------


def build_model(case: Case) -> mn.Sequential:
    """Our network for ``case``: Linear weights from a seeded generator, random BatchNorm affines."""
    g = torch.Generator().manual_seed(case.init_seed)
    modules: list[mn.Module] = []
    width = case.input.shape[1]
    if case.sequence is not None:
        modules += _sequence_modules(case.sequence, g)
        width = case.sequence.out_features
    for block in case.hidden:
        modules.append(mn.Linear(width, block.width, bias=block.bias, generator=g, dtype=DTYPE))
        if block.batch_norm is not None:
            spec = block.batch_norm
            bn = mn.BatchNorm1d(block.width, eps=spec.eps, affine=spec.affine, dtype=DTYPE)
            if bn.weight is not None and bn.bias is not None:
                # Not the ones/zeros initialisation, so that a missing factor gamma or term beta shows.
                bn.weight.value.copy_(0.5 + torch.rand(block.width, generator=g, dtype=DTYPE))
                bn.bias.value.copy_(0.5 * torch.randn(block.width, generator=g, dtype=DTYPE))
            modules.append(bn)
        modules.append(block.activation.make())
        if block.dropout is not None:
            dropout_generator = torch.Generator().manual_seed(block.dropout.seed)
            modules.append(mn.Dropout(block.dropout.p, generator=dropout_generator))
        width = block.width
    modules.append(mn.Linear(width, case.out_features, bias=case.out_bias, generator=g, dtype=DTYPE))
    return mn.Sequential(*modules).train()


def _recurrent(spec: SequenceSpec, setup: Setup, g: torch.Generator) -> mn.Module:
    layers, bias, first, both = setup.num_layers, setup.bias, setup.batch_first, setup.bidirectional
    if setup.kind == "RNN":
        return mn.RNN(
            spec.size,
            spec.hidden_size,
            layers,
            nonlinearity=setup.nonlinearity,
            bias=bias,
            batch_first=first,
            bidirectional=both,
            generator=g,
            dtype=DTYPE,
        )
    kind = mn.LSTM if setup.kind == "LSTM" else mn.GRU
    return kind(
        spec.size,
        spec.hidden_size,
        layers,
        bias=bias,
        batch_first=first,
        bidirectional=both,
        generator=g,
        dtype=DTYPE,
    )


def _attention(spec: SequenceSpec, setting: Setting, g: torch.Generator) -> mn.Module:
    module = mn.MultiheadAttention(
        spec.size,
        setting.heads,
        bias=setting.bias,
        batch_first=setting.batch_first,
        is_causal=setting.causal,
        generator=g,
        dtype=DTYPE,
    )
    for param in (module.in_proj_bias, module.out_proj.bias):
        if param is not None:  # torch starts them at zero, where a missing bias term would not show
            param.value.copy_(torch.randn(param.value.shape, generator=g, dtype=DTYPE))
    return module


def _sequence_modules(spec: SequenceSpec, g: torch.Generator) -> list[mn.Module]:
    middle: mn.Module
    if spec.recurrent is not None:
        middle = _recurrent(spec, spec.recurrent, g)
    elif spec.attention is not None:
        middle = _attention(spec, spec.attention, g)
    elif spec.kind == "Permute":
        middle = mn.Permute([0, 2, 1])
    elif spec.kind == "Mean":
        middle = mn.Mean(1)
    elif spec.kind == "Select":
        middle = mn.Select(1, spec.index)
    else:
        middle = mn.PositionalEmbedding(spec.steps + 1, spec.size, generator=g, dtype=DTYPE)
        middle.weight.value.copy_(torch.randn(spec.steps + 1, spec.size, generator=g, dtype=DTYPE))
    return [mn.Unflatten(1, (spec.steps, spec.size)), middle, mn.Flatten(1)]


def _sequence_reference(spec: SequenceSpec, x: Tensor, remaining: Iterator[Tensor]) -> Tensor:
    h = x.reshape(x.shape[0], spec.steps, spec.size)
    if spec.recurrent is not None:
        setup = spec.recurrent
        count = (4 if setup.bias else 2) * setup.num_layers * setup.directions
        h = setup.replay(h, [next(remaining) for _ in range(count)])
    elif spec.attention is not None:
        h = attention(h, [next(remaining) for _ in range(4 if spec.attention.bias else 2)], spec.attention)
    elif spec.kind == "Permute":
        h = h.transpose(1, 2)
    elif spec.kind == "Mean":
        h = h.sum(1) / spec.steps
    elif spec.kind == "Select":
        h = h[:, spec.index]
    else:
        h = h + next(remaining)[: spec.steps]
    return h.reshape(x.shape[0], -1)


def build_criterion(spec: LossSpec) -> mn.Loss:
    if spec.kind == "mse":
        return mn.MSELoss(reduction=spec.reduction)
    return mn.CrossEntropyLoss(reduction=spec.reduction, label_smoothing=spec.label_smoothing)


def _dropout_mask(spec: DropoutSpec, like: Tensor) -> Tensor:
    """The mask our Dropout draws: ``rand >= p`` from a fresh generator seeded alike, kept ones scaled."""
    if spec.p == 1.0:
        return torch.zeros_like(like)
    generator = torch.Generator().manual_seed(spec.seed)
    keep = torch.rand(like.shape, generator=generator, dtype=like.dtype) >= spec.p
    return keep.to(like.dtype) / (1.0 - spec.p)


@dataclass(frozen=True)
class Forward:
    """The reference loss, every intermediate result, and how near a kink any activation was evaluated.

    ``kink_gap`` is the smallest distance from an activation's input to that activation's kink,
    relative to the largest input of that activation (at least 1); ``inf`` without kinks. Inputs
    exactly at the kink count only behind a BatchNorm1d: elsewhere they come from exact zeros
    (an all-zero row through a Linear without bias) that both sides compute alike.
    """

    loss: Tensor
    stages: list[Tensor]
    kink_gap: float


def _kink_gap(h: Tensor, kink: float | None, *, count_exact: bool) -> float:
    if kink is None:
        return math.inf
    distance = (h.detach() - kink).abs()
    if not count_exact:
        distance = distance[distance != 0]
    if not distance.numel():
        return math.inf
    return float(distance.min()) / max(1.0, float(h.detach().abs().max()))


def reference_forward(case: Case, x: Tensor, params: Sequence[Tensor]) -> Forward:
    """The loss of ``case`` in plain torch ops, and every intermediate result on the way.

    ``params`` are the parameter values in ``parameters()`` order.
    """
    remaining = iter(params)
    stages: list[Tensor] = []
    kink_gap = math.inf
    h = x
    if case.sequence is not None:
        h = _sequence_reference(case.sequence, x, remaining)
        stages.append(h)
    for block in case.hidden:
        weight = next(remaining)
        h = F.linear(h, weight, next(remaining) if block.bias else None)
        stages.append(h)
        if block.batch_norm is not None:
            # var_mean, as ours, so that both see the same batch mean bit for bit: otherwise a
            # channel that is constant over the batch normalises to +-1e-17 noise whose sign a
            # following ReLU would read differently on the two sides.
            var, mean = torch.var_mean(h, dim=0, correction=0)
            h = (h - mean) / torch.sqrt(var + block.batch_norm.eps)
            if block.batch_norm.affine:
                gamma, beta = next(remaining), next(remaining)
                h = h * gamma + beta
            stages.append(h)
        gap = _kink_gap(h, block.activation.kink, count_exact=block.batch_norm is not None)
        kink_gap = min(kink_gap, gap)
        h = block.activation.reference(h)
        stages.append(h)
        if block.dropout is not None:
            h = h * _dropout_mask(block.dropout, h)
            stages.append(h)
    weight = next(remaining)
    out = F.linear(h, weight, next(remaining) if case.out_bias else None)
    stages.append(out)
    assert next(remaining, None) is None, "the reference used fewer parameters than the model has"
    if case.loss.kind == "mse":
        loss = F.mse_loss(out, case.target, reduction=case.loss.reduction)
    else:
        loss = F.cross_entropy(
            out, case.target, reduction=case.loss.reduction, label_smoothing=case.loss.label_smoothing
        )
    return Forward(loss, stages, kink_gap)


@dataclass(frozen=True)
class Expected:
    """The reference loss, torch.autograd's gradients, and the tolerance they are compared with.

    ``atol`` is ``ATOL``, or ``NOISE_ULPS`` ulps of ``scale`` where that is larger: ``scale`` is
    the largest gradient at any intermediate result. Dropout's 1/(1-p) and BatchNorm1d's
    1/sqrt(var + eps) grow gradients inside the network, and a parameter's gradient, a sum over
    the batch, can cancel to far below the terms it sums; what is left is rounding at the scale
    of the terms, on the reference side as much as on ours.
    """

    loss: Tensor
    grad_input: Tensor
    grads: list[Tensor]
    scale: float
    kink_gap: float

    @property
    def atol(self) -> float:
        return max(ATOL, NOISE_ULPS * EPS * self.scale)


def autograd_reference(case: Case, model: mn.Sequential) -> Expected:
    """The reference loss and torch.autograd's gradients for the input and each parameter of ``model``."""
    x = case.input.clone().requires_grad_()
    params = [param.value.clone().requires_grad_() for param in model.parameters()]
    with torch.enable_grad():
        forward = reference_forward(case, x, params)
        grads = torch.autograd.grad(forward.loss, [x, *params, *forward.stages])
    scale = max(float(grad.abs().max()) for grad in grads if grad.numel())
    return Expected(
        forward.loss.detach(), grads[0], list(grads[1 : 1 + len(params)]), scale, forward.kink_gap
    )


def _prefixed(what: str) -> Callable[[str], str]:
    return lambda message: f"{what}: {message}"


# Properties --------------------------------------------------------------------------------------


@settings(BASE, max_examples=300)
@given(cases())
@example(_degenerate_batch_norm_chain())
def test_loss_and_gradients_match_autograd_reference(case: Case) -> None:
    model, criterion = build_model(case), build_criterion(case.loss)
    note(repr(model))
    expected = autograd_reference(case, model)
    note(f"gradient scale {expected.scale:.3g}, atol {expected.atol:.3g}")
    # At a kink (ReLU, LeakyReLU and ELU at 0, Softplus at its threshold) the derivative is a
    # convention, and which side a value lands on can be rounding: a BatchNorm1d channel that is
    # constant over the batch normalises to exact zeros on one side and +-1e-17 on the other
    # (CPU matmul kernels can round identical rows differently). Such examples have no single
    # right gradient, so they are discarded; exact zeros from all-zero rows go with them.
    assume(expected.kink_gap >= KINK_GAP)

    loss = criterion(model(case.input), case.target)
    grad_input = model.backward(criterion.backward())

    torch.testing.assert_close(loss, expected.loss, rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(grad_input, expected.grad_input, rtol=RTOL, atol=expected.atol)
    for (name, param), grad in zip(model.named_parameters(), expected.grads, strict=True):
        torch.testing.assert_close(
            param.grad, grad, rtol=RTOL, atol=expected.atol, msg=_prefixed(f"grad of {name}")
        )


@settings(BASE, max_examples=150)
@given(cases())
def test_second_backward_doubles_parameter_gradients(case: Case) -> None:
    model, criterion = build_model(case), build_criterion(case.loss)
    note(repr(model))
    criterion(model(case.input), case.target)
    model.backward(criterion.backward())
    once = [param.grad.clone() for param in model.parameters()]
    model.backward(criterion.backward())
    for (name, param), first in zip(model.named_parameters(), once, strict=True):
        assert torch.equal(param.grad, 2 * first), f"grad of {name} is not exactly doubled"


@settings(BASE, max_examples=100)
@given(cases())
def test_forward_and_backward_leave_their_arguments_unmodified(case: Case) -> None:
    model, criterion = build_model(case), build_criterion(case.loss)
    note(repr(model))
    input_copy, target_copy = case.input.clone(), case.target.clone()
    criterion(model(case.input), case.target)
    grad_output = criterion.backward()
    grad_output_copy = grad_output.clone()
    model.backward(grad_output)
    assert torch.equal(case.input, input_copy), "the input was modified"
    assert torch.equal(case.target, target_copy), "the target was modified"
    assert torch.equal(grad_output, grad_output_copy), "the upstream gradient was modified"
