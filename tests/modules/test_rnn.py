"""RNN, LSTM, GRU beyond the registry: the states against torch.nn + autograd, errors, interop."""

import itertools

import pytest
import torch
from torch import nn

import minitorch_nn as mn
from minitorch_nn import interop

KINDS = ["RNN", "LSTM", "GRU"]


def _pair(kind: str, **settings: object) -> tuple[mn.Module, nn.Module]:
    reference = getattr(nn, kind)(3, 4, **settings).double()
    ours = getattr(mn, kind)(3, 4, **settings, dtype=torch.float64)
    ours.load_state_dict({k: v.detach().clone() for k, v in reference.state_dict().items()})
    return ours, reference


@pytest.mark.parametrize(
    ("kind", "batch_first", "bidirectional", "batched"),
    list(itertools.product([*KINDS, "LSTM-proj"], [False, True], [False, True], [False, True])),
)
def test_states_and_their_gradients_match_torch(
    kind: str, batch_first: bool, bidirectional: bool, batched: bool, generator: torch.Generator
) -> None:
    proj = {"proj_size": 2} if kind == "LSTM-proj" else {}
    kind = kind.removesuffix("-proj")
    ours, reference = _pair(kind, num_layers=2, batch_first=batch_first, bidirectional=bidirectional, **proj)
    shape = ((2, 5, 3) if batch_first else (5, 2, 3)) if batched else (5, 3)
    count = 4 if bidirectional else 2
    sizes = [2 if proj else 4, 4]  # h (the projection's size with proj_size), c
    x = torch.randn(shape, generator=generator).requires_grad_()
    initial = [
        torch.randn((count, 2, size) if batched else (count, size), generator=generator).requires_grad_()
        for size in sizes
    ]
    hx = (initial[0], initial[1]) if kind == "LSTM" else initial[0]
    output, final = reference(x, hx)
    finals = list(final) if kind == "LSTM" else [final]
    ours.initial_state = tuple(t.detach() for t in hx) if kind == "LSTM" else initial[0].detach()  # type: ignore[attr-defined]
    actual = ours(x.detach())
    last = ours.last_state  # type: ignore[attr-defined]
    torch.testing.assert_close(actual, output.detach(), rtol=1e-12, atol=1e-12)
    for mine, theirs in zip(last if kind == "LSTM" else [last], finals, strict=True):
        torch.testing.assert_close(mine, theirs.detach(), rtol=1e-12, atol=1e-12)
    grad_output = torch.randn(output.shape, generator=generator)
    grad_finals = [torch.randn(f.shape, generator=generator) for f in finals]
    leaves = [x, *initial[: len(finals)], *reference.parameters()]
    expected = torch.autograd.grad([output, *finals], leaves, [grad_output, *grad_finals])
    grad_state = tuple(grad_finals) if kind == "LSTM" else grad_finals[0]
    grad_x = ours.backward(grad_output, grad_state=grad_state)  # type: ignore[call-arg]
    torch.testing.assert_close(grad_x, expected[0], rtol=1e-10, atol=1e-12)
    grad_initial = ours.grad_initial_state  # type: ignore[attr-defined]
    for mine, theirs in zip(grad_initial if kind == "LSTM" else [grad_initial], expected[1:], strict=False):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-12)
    for (name, param), grad in zip(ours.named_parameters(), expected[1 + len(finals) :], strict=True):
        torch.testing.assert_close(param.grad, grad, rtol=1e-10, atol=1e-12, msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_second_backward_doubles_bit_for_bit(kind: str, generator: torch.Generator) -> None:
    ours, _ = _pair(kind, bidirectional=True)
    out = ours(torch.randn(4, 2, 3, generator=generator))
    grad = torch.randn(out.shape, generator=generator)
    first = ours.backward(grad)
    once = [p.grad.clone() for p in ours.parameters()]
    assert torch.equal(ours.backward(grad), first)
    for param, value in zip(ours.parameters(), once, strict=True):
        assert torch.equal(param.grad, 2 * value)


def test_torch_state_dict_loads_and_names_match() -> None:
    reference = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    ours = mn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(reference.state_dict())
    ours.load_state_dict(reference.state_dict())
    assert torch.equal(ours.weight_hh_l1_reverse.value, reference.weight_hh_l1_reverse)  # type: ignore[attr-defined,arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_interop_round_trip(kind: str, generator: torch.Generator) -> None:
    ours = getattr(mn, kind)(3, 4, 2, batch_first=True, dtype=torch.float64, generator=generator)
    twin = interop.to_torch(ours)
    assert isinstance(twin, getattr(nn, kind)) and list(twin.state_dict()) == list(ours.state_dict())
    back = interop.from_torch(twin)
    x = torch.randn(2, 5, 3, generator=generator)
    torch.testing.assert_close(twin(x).detach(), ours(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(back(x), ours(x), rtol=0, atol=0)


def test_interop_keeps_relu() -> None:
    twin = interop.to_torch(mn.RNN(3, 4, nonlinearity="relu"))
    assert isinstance(twin, nn.RNN) and twin.nonlinearity == "relu"


def test_interop_converts_proj_size(generator: torch.Generator) -> None:
    reference = nn.LSTM(3, 4, proj_size=2).double()
    ours = interop.from_torch(reference)
    assert isinstance(ours, mn.LSTM) and ours.proj_size == 2
    x = torch.randn(5, 2, 3, generator=generator)
    torch.testing.assert_close(ours(x), reference(x)[0].detach(), rtol=1e-12, atol=1e-12)
    twin = interop.to_torch(ours)
    assert isinstance(twin, nn.LSTM) and twin.proj_size == 2


def test_dropout_one_drops_every_upper_layer_input(generator: torch.Generator) -> None:
    ours = mn.GRU(3, 4, num_layers=2, dropout=1.0, dtype=torch.float64)
    out = ours(torch.randn(5, 2, 3, generator=generator))
    assert torch.isfinite(out).all()
    ours.backward(torch.ones_like(out))
    assert torch.count_nonzero(ours.weight_ih_l0.grad) == 0  # type: ignore[attr-defined]
    assert torch.count_nonzero(ours.weight_ih_l1.grad) == 0  # type: ignore[attr-defined]  # zero inputs
    assert torch.count_nonzero(ours.bias_ih_l1.grad) > 0  # type: ignore[attr-defined]


def test_shared_copy_has_its_own_caches(generator: torch.Generator) -> None:
    ours = mn.LSTM(3, 4)
    twin = ours.shared_copy()
    assert twin.weight_ih_l0 is ours.weight_ih_l0  # type: ignore[attr-defined]
    ours(torch.randn(2, 1, 3, generator=generator))
    assert twin.last_state is None
    with pytest.raises(RuntimeError, match=r"^LSTM\(3, 4\): backward called before forward$"):
        twin.backward(torch.zeros(2, 1, 4))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: mn.LSTM(0, 4), ValueError, "LSTM: expected input_size > 0, got 0"),
        (lambda: mn.GRU(3, 4, dropout=1.5), ValueError, r"GRU: expected dropout in \[0, 1\], got 1.5"),
        (
            lambda: mn.RNN(3, 4, nonlinearity="sigmoid"),
            ValueError,
            "RNN: expected nonlinearity 'tanh' or 'relu'",
        ),
        (
            lambda: mn.LSTM(3, 4, bidirectional=1),  # type: ignore[arg-type]
            TypeError,
            "LSTM: expected bidirectional to be a bool, got int",
        ),
        (
            lambda: mn.LSTM(3, 4, proj_size=4),
            ValueError,
            r"LSTM: expected 0 <= proj_size < hidden_size \(4\), got 4",
        ),
    ],
)
def test_constructor_errors(make: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()  # type: ignore[operator]


def test_input_errors() -> None:
    lstm = mn.LSTM(28, 128, batch_first=True)
    expected = (
        r"^LSTM\(28, 128, batch_first=True\): expected input of shape \(N, L, 28\) or \(L, 28\) "
        r"with L >= 1, got \(4, 7, 27\)$"
    )
    with pytest.raises(ValueError, match=expected):
        lstm(torch.zeros(4, 7, 27))
    with pytest.raises(ValueError, match=r"got \(4, 0, 28\)$"):
        lstm(torch.zeros(4, 0, 28))
    with pytest.raises(TypeError, match=r"expected a floating-point input, got torch.int64$"):
        lstm(torch.zeros(4, 7, 28, dtype=torch.long))
    with pytest.raises(TypeError, match=r"expected input of dtype torch.float64, got torch.float32$"):
        lstm(torch.zeros(4, 7, 28, dtype=torch.float32))


def test_initial_state_and_grad_errors() -> None:
    gru = mn.GRU(3, 4)
    gru.initial_state = torch.zeros(2, 2, 4)
    with pytest.raises(
        ValueError, match=r"^GRU\(3, 4\): expected initial_state of shape \(1, 2, 4\), got \(2, 2, 4\)$"
    ):
        gru(torch.zeros(5, 2, 3))
    lstm = mn.LSTM(3, 4)
    lstm.initial_state = torch.zeros(1, 2, 4)
    with pytest.raises(TypeError, match=r"expected initial_state to be a tuple \(h0, c0\), got Tensor$"):
        lstm(torch.zeros(5, 2, 3))
    lstm.initial_state = None
    out = lstm(torch.zeros(5, 2, 3))
    with pytest.raises(ValueError, match=r"expected grad_output of shape \(5, 2, 4\), got \(5, 2, 3\)$"):
        lstm.backward(torch.zeros(5, 2, 3))
    with pytest.raises(ValueError, match=r"expected grad_state h_n of shape \(1, 2, 4\), got \(1, 4\)$"):
        lstm.backward(torch.zeros_like(out), grad_state=(torch.zeros(1, 4), torch.zeros(1, 4)))
