"""Initialisers: each draws exactly what its torch.nn.init namesake draws from the same generator."""

from collections.abc import Callable

import pytest
import torch

from minitorch_nn import Parameter, init

Fill = Callable[[torch.Tensor, torch.Generator], torch.Tensor]

PAIRS: dict[str, tuple[Fill, Fill]] = {
    "uniform_": (
        lambda t, g: init.uniform_(t, -0.3, 0.7, generator=g),
        lambda t, g: torch.nn.init.uniform_(t, -0.3, 0.7, generator=g),
    ),
    "normal_": (
        lambda t, g: init.normal_(t, 0.5, 2.0, generator=g),
        lambda t, g: torch.nn.init.normal_(t, 0.5, 2.0, generator=g),
    ),
    "xavier_uniform_": (
        lambda t, g: init.xavier_uniform_(t, 1.5, generator=g),
        lambda t, g: torch.nn.init.xavier_uniform_(t, 1.5, generator=g),
    ),
    "xavier_normal_": (
        lambda t, g: init.xavier_normal_(t, generator=g),
        lambda t, g: torch.nn.init.xavier_normal_(t, generator=g),
    ),
    "kaiming_uniform_": (
        lambda t, g: init.kaiming_uniform_(t, a=0.2, mode="fan_out", generator=g),
        lambda t, g: torch.nn.init.kaiming_uniform_(t, a=0.2, mode="fan_out", generator=g),
    ),
    "kaiming_normal_": (
        lambda t, g: init.kaiming_normal_(t, nonlinearity="relu", generator=g),
        lambda t, g: torch.nn.init.kaiming_normal_(t, nonlinearity="relu", generator=g),
    ),
}


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("shape", [(30, 20), (8, 3, 5, 5)])
def test_matches_torch_nn_init(name: str, shape: tuple[int, ...]) -> None:
    ours, theirs = PAIRS[name]
    a = ours(torch.empty(shape), torch.Generator().manual_seed(1))
    b = theirs(torch.empty(shape), torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b, rtol=1e-12, atol=0)


def test_constant_zeros_ones() -> None:
    assert init.zeros_(torch.ones(3)).tolist() == [0.0] * 3
    assert init.ones_(torch.zeros(3)).tolist() == [1.0] * 3
    assert init.constant_(torch.zeros(2), 0.25).tolist() == [0.25, 0.25]


def test_fills_a_parameter_value_in_place() -> None:
    p = Parameter(torch.zeros(3, 4))
    out = init.normal_(p, 0.0, 1.0, generator=torch.Generator().manual_seed(0))
    assert out is p.value and torch.count_nonzero(p.value) > 0


def test_global_seed_reproduces_without_generator() -> None:
    torch.manual_seed(5)
    a = init.normal_(torch.empty(4))
    torch.manual_seed(5)
    assert torch.equal(a, torch.empty(4).normal_())


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("linear", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
        ("conv2d", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity: init.Nonlinearity, param: float | None) -> None:
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15
    )


def test_fan_needs_two_dimensions() -> None:
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(torch.empty(5))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"normal_: expected std >= 0, got -1.0"):
        init.normal_(torch.empty(2), 0.0, -1.0)
    with pytest.raises(ValueError, match=r"uniform_: expected a <= b, got a=1.0, b=0.0"):
        init.uniform_(torch.empty(2), 1.0, 0.0)
    with pytest.raises(ValueError, match=r"kaiming init: expected mode 'fan_in' or 'fan_out', got 'fan'"):
        init.kaiming_normal_(torch.empty(2, 2), mode="fan")  # type: ignore[arg-type]  # the point
    with pytest.raises(ValueError, match=r"calculate_gain: unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")  # type: ignore[arg-type]  # the point of the test
