"""Conv2d and ConvTranspose2d against torch.nn: arguments, errors, repr, shapes, state, init, memory format,
and the adjoint relation between the two (gradients are in test_gradients.py, over tests/cases/conv.py)."""

import math
import re
from collections.abc import Callable
from functools import partial

import pytest
import torch

import minitorch_nn as mn

Conv = mn.Conv2d | mn.ConvTranspose2d
Args = list[tuple[tuple[object, ...], dict[str, object]]]
# (positional args, keyword args) as torch.nn.Conv2d takes them.
CONV_ARGS: Args = [
    ((1, 4, 3), {}),
    ((3, 8, (3, 5)), {"stride": 2, "padding": 1}),
    ((4, 6, 3, 1, 2, 2, 2, False), {}),  # torch's positional order: dilation, groups, then bias
    ((4, 4, 3), {"groups": 4, "padding": (0, 1)}),
    ((2, 3, 4), {"padding": "same", "dilation": (1, 3)}),
    ((2, 3, 4), {"padding": "valid"}),
    ((2, 3, 3), {"padding": 1, "padding_mode": "reflect"}),
    ((2, 3, 3), {"padding": (2, 1), "padding_mode": "replicate", "bias": False}),
    ((2, 3, 2), {"padding": "same", "padding_mode": "circular"}),
]
TRANSPOSED_ARGS: Args = [
    ((1, 4, 3), {}),
    ((3, 8, (3, 5)), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((4, 6, 3, 2, 1, 1, 2, False, 2), {}),  # stride, padding, output_padding, groups, bias, dilation
    ((4, 4, 2), {"stride": (2, 1), "groups": 4, "dilation": (1, 2), "output_padding": (0, 1)}),
    ((2, 3, 4), {"padding": (1, 2), "bias": False}),
]


def _pairs(
    ours: Callable[..., Conv], theirs: Callable[..., torch.nn.Module], args: Args
) -> list[tuple[Callable[[], Conv], Callable[[], torch.nn.Module]]]:
    """Builders of our layer and torch's, from the same arguments."""
    return [(partial(ours, *a, **k), partial(theirs, *a, **k)) for a, k in args]


PAIRS = _pairs(mn.Conv2d, torch.nn.Conv2d, CONV_ARGS) + _pairs(
    mn.ConvTranspose2d, torch.nn.ConvTranspose2d, TRANSPOSED_ARGS
)
IDS = [f"Conv2d{a}{k}" for a, k in CONV_ARGS] + [f"ConvTranspose2d{a}{k}" for a, k in TRANSPOSED_ARGS]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=IDS)
def test_repr_matches_torch(ours: Callable[[], Conv], theirs: Callable[[], torch.nn.Module]) -> None:
    assert repr(ours()) == repr(theirs())


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=IDS)
def test_state_dict_keys_and_shapes_match_torch(
    ours: Callable[[], Conv], theirs: Callable[[], torch.nn.Module]
) -> None:
    expected = {name: tuple(value.shape) for name, value in theirs().state_dict().items()}
    assert {name: tuple(value.shape) for name, value in ours().state_dict().items()} == expected


# torch.nn's own padding="same" path warns about the copy an even kernel needs; the reference's business.
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=IDS)
@pytest.mark.parametrize("size", [(7, 7), (8, 11), (10, 9)])
def test_output_shape_matches_torch(
    ours: Callable[[], Conv], theirs: Callable[[], torch.nn.Module], size: tuple[int, int]
) -> None:
    layer = ours()
    input = torch.randn(2, layer.in_channels, *size)
    assert layer(input).shape == theirs()(input).shape


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=IDS)
def test_init_draws_what_torch_draws_from_the_same_global_seed(
    ours: Callable[[], Conv], theirs: Callable[[], torch.nn.Module]
) -> None:
    torch.manual_seed(5)
    layer = ours()
    torch.manual_seed(5)
    reference = theirs()
    for name, value in reference.state_dict().items():
        torch.testing.assert_close(
            layer.state_dict()[name], value, msg=name
        )  # torch's bound rounds differently


@pytest.mark.parametrize(
    ("make", "fan_in"),
    [
        (lambda g: mn.Conv2d(64, 32, 3, groups=4, generator=g), 16 * 9),
        (lambda g: mn.ConvTranspose2d(64, 32, 3, generator=g), 32 * 9),  # fan-in from weight.size(1)
        (lambda g: mn.ConvTranspose2d(64, 32, (3, 2), groups=8, generator=g), 4 * 6),
    ],
    ids=["Conv2d-groups", "ConvTranspose2d", "ConvTranspose2d-groups"],
)
def test_init_bound_is_one_over_sqrt_fan_in(
    make: Callable[[torch.Generator], Conv], fan_in: int, generator: torch.Generator
) -> None:
    layer = make(generator)
    assert layer.bias is not None
    bound = 1 / math.sqrt(fan_in)
    for value in (layer.weight.value, layer.bias.value):
        assert value.abs().max() <= bound
        assert value.abs().max() > 0.85 * bound  # actually fills the range


def test_weight_shapes_follow_torch() -> None:
    assert mn.Conv2d(6, 4, (3, 2), groups=2).weight.shape == (4, 3, 3, 2)
    assert mn.ConvTranspose2d(6, 4, (3, 2), groups=2).weight.shape == (6, 2, 3, 2)


def test_generator_device_dtype_are_keyword_only() -> None:
    layer = mn.ConvTranspose2d(2, 2, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float32)
    assert layer.weight.value.dtype == torch.float32
    with pytest.raises(TypeError):
        mn.Conv2d(2, 2, 3, 1, 0, 1, 1, True, "zeros", None)  # type: ignore[call-arg]  # the bad call is the point


# Errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: mn.Conv2d(0, 2, 3), ValueError, "Conv2d: expected in_channels > 0, got 0"),
        (lambda: mn.Conv2d(2, -1, 3), ValueError, "Conv2d: expected out_channels > 0, got -1"),
        (
            lambda: mn.Conv2d(2.0, 2, 3),  # type: ignore[arg-type]  # the bad value is the point
            TypeError,
            "Conv2d: expected in_channels to be an int, got float",
        ),
        (lambda: mn.Conv2d(2, 2, 3, stride=0), ValueError, "Conv2d: expected stride >= 1, got 0"),
        (
            lambda: mn.Conv2d(2, 2, 3, stride=float("nan")),  # type: ignore[arg-type]  # the bad value is the point
            TypeError,
            "Conv2d: expected stride to be an int or a pair of ints, got nan",
        ),
        (
            lambda: mn.Conv2d(2, 2, 3, dilation=(1, 0)),
            ValueError,
            "Conv2d: expected dilation >= 1, got (1, 0)",
        ),
        (
            lambda: mn.Conv2d(2, 2, 3, padding=(0, -2)),
            ValueError,
            "Conv2d: expected padding >= 0, got (0, -2)",
        ),
        (
            lambda: mn.Conv2d(2, 2, 3, padding="full"),
            ValueError,
            "Conv2d: expected padding 'same', 'valid', an int or a pair of ints, got 'full'",
        ),
        (
            lambda: mn.Conv2d(2, 2, 3, stride=(1, 2), padding="same"),
            ValueError,
            "Conv2d: expected stride 1 with padding='same' (as torch), got stride=(1, 2)",
        ),
        (lambda: mn.Conv2d(2, 2, 3, groups=0), ValueError, "Conv2d: expected groups > 0, got 0"),
        (
            lambda: mn.Conv2d(3, 4, 3, groups=2),
            ValueError,
            "Conv2d: expected in_channels divisible by groups=2, got in_channels=3",
        ),
        (
            lambda: mn.Conv2d(4, 6, 3, groups=4),
            ValueError,
            "Conv2d: expected out_channels divisible by groups=4, got out_channels=6",
        ),
        (
            lambda: mn.Conv2d(2, 2, 3, bias=1),  # type: ignore[arg-type]  # the bad value is the point
            TypeError,
            "Conv2d: expected bias to be a bool, got int",
        ),
        (
            lambda: mn.Conv2d(2, 2, 3, padding_mode="symmetric"),
            ValueError,
            "Conv2d: expected padding_mode in ('zeros', 'reflect', 'replicate', 'circular'), got 'symmetric'",
        ),
        (
            lambda: mn.Conv2d(2, 2, 3, padding_mode=None),  # type: ignore[arg-type]  # the bad value is the point
            TypeError,
            "Conv2d: expected padding_mode to be a str, got NoneType",
        ),
        (
            lambda: mn.ConvTranspose2d(2, 2, 3, output_padding=1),
            ValueError,
            "ConvTranspose2d: expected output_padding smaller than stride or dilation, "
            "got output_padding=(1, 1), stride=(1, 1), dilation=(1, 1)",
        ),
        (
            lambda: mn.ConvTranspose2d(2, 2, 3, stride=2, dilation=(1, 3), output_padding=(2, 2)),
            ValueError,
            "ConvTranspose2d: expected output_padding smaller than stride or dilation, "
            "got output_padding=(2, 2), stride=(2, 2), dilation=(1, 3)",
        ),
        (
            lambda: mn.ConvTranspose2d(2, 2, 3, output_padding=-1),
            ValueError,
            "ConvTranspose2d: expected output_padding >= 0, got -1",
        ),
        (
            lambda: mn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"),
            ValueError,
            "ConvTranspose2d: expected padding_mode 'zeros', got 'reflect'",
        ),
        (
            lambda: mn.ConvTranspose2d(2, 3, 3, groups=2),
            ValueError,
            "ConvTranspose2d: expected out_channels divisible by groups=2, got out_channels=3",
        ),
        (
            lambda: mn.ConvTranspose2d(2, 2, 3, padding="same"),  # type: ignore[arg-type]  # the bad value is the point
            TypeError,
            "ConvTranspose2d: expected padding to be an int or a pair of ints, got 'same'",
        ),
    ],
)
def test_constructor_rejects_bad_arguments(
    make: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        make()


def test_torch_rejects_what_we_reject() -> None:
    """Our constructor errors are torch's, reworded: torch refuses the same arguments."""
    for make in (
        lambda: torch.nn.Conv2d(3, 4, 3, groups=2),
        lambda: torch.nn.Conv2d(2, 2, 3, stride=2, padding="same"),
        lambda: torch.nn.Conv2d(2, 2, 3, padding="full"),
        lambda: torch.nn.Conv2d(2, 2, 3, padding_mode="symmetric"),  # type: ignore[arg-type]  # the bad value is the point
        lambda: torch.nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"),
        lambda: torch.nn.ConvTranspose2d(2, 2, 3, output_padding=1)(torch.zeros(1, 2, 4, 4)),
    ):
        with pytest.raises((ValueError, RuntimeError)):
            make()


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (
            mn.Conv2d(3, 8, 3, groups=1),
            (32, 4, 28, 28),
            "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)): expected input of shape (N, 3, H, W) "
            "or (3, H, W), got (32, 4, 28, 28)",
        ),
        (
            mn.Conv2d(1, 1, 3, dilation=3),
            (1, 1, 6, 8),
            "Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1), dilation=(3, 3)): "
            "expected padded input of at least (7, 7), got (6, 8)",
        ),
        (
            mn.Conv2d(1, 1, 3, padding=(1, 3), padding_mode="reflect"),
            (1, 1, 5, 3),
            "Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1), padding=(1, 3), padding_mode=reflect): "
            "expected H, W >= (2, 4) for padding_mode='reflect', got input of shape (1, 1, 5, 3)",
        ),
        (
            mn.Conv2d(1, 1, 5, padding="same", padding_mode="circular"),
            (1, 1, 1, 4),
            "Conv2d(1, 1, kernel_size=(5, 5), stride=(1, 1), padding=same, padding_mode=circular): "
            "expected H, W >= (2, 2) for padding_mode='circular', got input of shape (1, 1, 1, 4)",
        ),
        (
            mn.ConvTranspose2d(2, 1, 3),
            (1, 1, 4, 4),
            "ConvTranspose2d(2, 1, kernel_size=(3, 3), stride=(1, 1)): expected input of shape "
            "(N, 2, H, W) or (2, H, W), got (1, 1, 4, 4)",
        ),
        (
            mn.ConvTranspose2d(1, 1, 1, padding=1),
            (1, 1, 2, 5),
            "ConvTranspose2d(1, 1, kernel_size=(1, 1), stride=(1, 1), padding=(1, 1)): "
            "expected an output size >= (1, 1), got (0, 3) for input (1, 1, 2, 5)",
        ),
    ],
)
def test_forward_rejects_bad_input(layer: Conv, shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        layer(torch.zeros(shape, dtype=layer.weight.value.dtype))  # built at collection, before float64


@pytest.mark.parametrize(
    ("layer", "input_shape", "message"),
    [
        (
            mn.Conv2d(1, 2, 3, stride=2, padding="valid"),
            (3, 1, 8, 9),
            "Conv2d(1, 2, kernel_size=(3, 3), stride=(2, 2), padding=valid): "
            "expected grad_output of shape (3, 2, 3, 4), got (3, 2, 4, 4)",
        ),
        (
            mn.ConvTranspose2d(1, 2, 3, stride=2, output_padding=1),
            (3, 1, 4, 4),
            "ConvTranspose2d(1, 2, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1)): "
            "expected grad_output of shape (3, 2, 10, 10), got (3, 2, 4, 4)",
        ),
    ],
)
def test_backward_checks_grad_output_shape(layer: Conv, input_shape: tuple[int, ...], message: str) -> None:
    dtype = layer.weight.value.dtype  # built at collection, before float64
    layer(torch.zeros(input_shape, dtype=dtype))
    for call in (layer.backward, layer.accumulate_grad):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            call(torch.zeros(3, 2, 4, 4, dtype=dtype))


@pytest.mark.parametrize("layer", [mn.Conv2d(1, 1, 3, padding_mode="circular"), mn.ConvTranspose2d(1, 1, 3)])
def test_backward_before_forward_raises(layer: Conv) -> None:
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(torch.zeros(1, 1, 3, 3))


# channels_last ----------------------------------------------------------------------------------------

LAYOUT_LAYERS: list[Callable[[], Conv]] = [
    lambda: mn.Conv2d(4, 6, 3, padding=1),
    lambda: mn.Conv2d(4, 6, 3, stride=2, dilation=2, groups=2),
    lambda: mn.Conv2d(4, 8, 3, padding=1, groups=4, bias=False),
    lambda: mn.Conv2d(4, 6, (2, 4), padding="same"),
    lambda: mn.Conv2d(4, 6, 3, padding=(1, 2), padding_mode="reflect"),
    lambda: mn.Conv2d(4, 6, 3, padding=2, padding_mode="replicate"),
    lambda: mn.Conv2d(4, 6, 4, padding="same", padding_mode="circular"),
    lambda: mn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
    lambda: mn.ConvTranspose2d(4, 6, 3, groups=2, dilation=2),
]
LAYOUT_IDS = [
    "Conv2d",
    "Conv2d-groups",
    "Conv2d-depthwise",
    "Conv2d-same",
    "Conv2d-reflect",
    "Conv2d-replicate",
    "Conv2d-circular",
    "ConvTranspose2d",
    "ConvTranspose2d-groups",
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("make", LAYOUT_LAYERS, ids=LAYOUT_IDS)
def test_channels_last_stays_channels_last_with_the_same_values(
    make: Callable[[], Conv], dtype: torch.dtype, generator: torch.Generator
) -> None:
    layer = make().to(dtype=dtype)
    input = torch.randn(3, 4, 9, 10, generator=generator, dtype=dtype)
    output = layer(input)
    grad_output = torch.randn(output.shape, generator=generator, dtype=dtype)
    grad_input = layer.backward(grad_output)
    grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()

    last = torch.channels_last
    output_last = layer(input.contiguous(memory_format=last))
    grad_input_last = layer.backward(grad_output.contiguous(memory_format=last))
    assert output_last.is_contiguous(memory_format=last)
    assert grad_input_last.is_contiguous(memory_format=last)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(output_last, output, rtol=tol, atol=tol)
    torch.testing.assert_close(grad_input_last, grad_input, rtol=tol, atol=tol)
    for param, grad in zip(layer.parameters(), grads, strict=True):
        torch.testing.assert_close(param.grad, grad, rtol=tol, atol=tol)


def test_channels_last_input_with_a_contiguous_grad_output_gives_a_channels_last_gradient() -> None:
    layer = mn.Conv2d(4, 6, 3, padding=1, padding_mode="reflect")
    output = layer(torch.randn(2, 4, 8, 8).contiguous(memory_format=torch.channels_last))
    assert layer.backward(torch.randn(output.shape)).is_contiguous(memory_format=torch.channels_last)


# The transposed convolution is the adjoint of the convolution ------------------------------------------

ADJOINT_SETTINGS = [
    {"kernel_size": 3},
    {"kernel_size": (3, 2), "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": (2, 3), "padding": (1, 0), "dilation": 2},
    {"kernel_size": 2, "stride": 2, "groups": 2},
]


def _twins(settings: dict[str, object], generator: torch.Generator) -> tuple[mn.Conv2d, mn.ConvTranspose2d]:
    """A Conv2d from 4 to 6 channels, and a ConvTranspose2d from 6 to 4 with the same weight, no biases."""
    conv = mn.Conv2d(4, 6, bias=False, generator=generator, **settings)  # type: ignore[arg-type]
    transposed = mn.ConvTranspose2d(6, 4, bias=False, **settings)  # type: ignore[arg-type]
    transposed.weight.value.copy_(conv.weight.value)
    return conv, transposed


@pytest.mark.parametrize("settings", ADJOINT_SETTINGS, ids=str)
def test_transposed_backward_is_the_convolution(
    settings: dict[str, object], generator: torch.Generator
) -> None:
    """ConvTranspose2d's input gradient is Conv2d's forward map with the same weight, and vice versa."""
    conv, transposed = _twins(settings, generator)
    y = torch.randn(2, 6, 5, 6, generator=generator)
    x = torch.randn(transposed(y).shape, generator=generator)
    torch.testing.assert_close(transposed.backward(x), conv(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(conv.backward(y), transposed(y), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("settings", ADJOINT_SETTINGS, ids=str)
def test_convolution_and_transposed_convolution_are_adjoint(
    settings: dict[str, object], generator: torch.Generator
) -> None:
    """The dot-product test: <Conv(x), y> == <x, ConvT(y)>, and <ConvT(y), x> == <y, ConvT-backward(x)>."""
    conv, transposed = _twins(settings, generator)
    y = torch.randn(2, 6, 5, 6, generator=generator)
    x = torch.randn(transposed(y).shape, generator=generator)
    assert conv(x).shape == y.shape
    torch.testing.assert_close(torch.sum(conv(x) * y), torch.sum(x * transposed(y)), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        torch.sum(transposed(y) * x), torch.sum(y * transposed.backward(x)), rtol=1e-12, atol=1e-12
    )
