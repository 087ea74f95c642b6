"""Pooling, adaptive pooling, Upsample and Dropout2d against torch.nn: shapes, repr, gradients over an
argument grid, argument checks with their exact messages, channels_last, and channel dropout's masks."""

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn._types import Tensor

CL = torch.channels_last
# The library, with its signatures unchecked: the argument checks below pass wrong types on purpose.
loose: Any = mn

# (kernel_size, stride, padding, dilation): squares, rectangles, overlapping and strided windows.
POOL_GRID = [
    (2, None, 0, 1),
    (3, 2, 1, 1),
    (3, 1, 1, 2),
    ((3, 2), (2, 1), (1, 0), (1, 2)),
    (4, 3, 2, 1),
    ((1, 3), 2, (0, 1), 1),
]
SIZES = [(1, 1), (2, 3), (5, 5), (7, 4), (9, 10)]


def _torch_output(run: Callable[[Tensor], Tensor], x: Tensor) -> Tensor | None:
    """torch's result, or ``None`` where torch refuses the input (an output smaller than 1 x 1)."""
    try:
        return run(x)
    except RuntimeError:
        return None


def _same_result(ours: torch.nn.Module | mn.Module, theirs: torch.nn.Module, x: Tensor) -> None:
    """Both refuse ``x``, or both give the same output and (torch's autograd vs ours) input gradient."""
    expected = _torch_output(theirs, x)
    if expected is None:
        with pytest.raises(ValueError, match="expected input of shape"):
            ours(x)
        return
    assert isinstance(ours, mn.Module)
    output = ours(x)
    assert output.shape == expected.shape
    torch.testing.assert_close(output, expected, rtol=0, atol=0)
    g = torch.randn(expected.shape, generator=torch.Generator().manual_seed(1))
    leaf = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad(theirs(leaf), leaf, g)
    torch.testing.assert_close(ours.backward(g), grad, rtol=0, atol=0)


# Shapes, values and gradients over an argument grid --------------------------------------------------


@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation"), POOL_GRID)
def test_max_pool_matches_torch_over_a_grid(
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] | None,
    padding: int | tuple[int, int],
    dilation: int | tuple[int, int],
    ceil_mode: bool,
) -> None:
    ours = mn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil_mode)
    theirs = torch.nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil_mode)
    for h, w in SIZES:
        _same_result(ours, theirs, torch.randn(2, 3, h, w))


@pytest.mark.parametrize(
    ("ceil_mode", "count_include_pad", "divisor_override"),
    list(itertools.product([False, True], [False, True], [None, 3])),
)
@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(k, s, p) for k, s, p, d in POOL_GRID if d == 1]
)  # AvgPool2d has no dilation
def test_avg_pool_matches_torch_over_a_grid(
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] | None,
    padding: int | tuple[int, int],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> None:
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    ours, theirs = mn.AvgPool2d(*args), torch.nn.AvgPool2d(*args)
    for h, w in SIZES:
        _same_result(ours, theirs, torch.randn(2, 3, h, w))


@pytest.mark.parametrize("output_size", [1, 3, (2, 5), (None, 4), (7, None), (None, None), 12])
def test_adaptive_avg_pool_matches_torch(output_size: int | tuple[int | None, int | None]) -> None:
    ours, theirs = mn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size)
    for h, w in SIZES:
        _same_result(ours, theirs, torch.randn(2, 3, h, w))


UPSAMPLE_GRID: list[dict[str, object]] = [
    {"scale_factor": 2},
    {"scale_factor": 3.0, "mode": "bilinear"},
    {"scale_factor": (1.5, 2.25)},
    {"scale_factor": 0.7, "mode": "bilinear", "align_corners": True},
    {"scale_factor": 1.3, "mode": "bilinear", "recompute_scale_factor": True},
    {"scale_factor": 1.3, "recompute_scale_factor": True},
    {"scale_factor": 2.6, "mode": "nearest-exact"},
    {"scale_factor": 1.7, "mode": "nearest-exact", "recompute_scale_factor": False},
    {"size": 7},
    {"size": (3, 11), "mode": "bilinear"},
    {"size": (8, 4), "mode": "bilinear", "align_corners": False},
    {"size": (5, 9), "mode": "nearest-exact"},
]


@pytest.mark.parametrize("kwargs", UPSAMPLE_GRID, ids=str)
def test_upsample_matches_torch(kwargs: dict[str, object]) -> None:
    ours, theirs = mn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)  # type: ignore[arg-type]  # the grid
    for h, w in [(2, 3), (5, 5), (7, 4)]:
        _same_result(ours, theirs, torch.randn(2, 3, h, w))


def test_upsample_refuses_an_input_whose_output_is_empty() -> None:
    up = mn.Upsample(scale_factor=0.4)
    message = (
        "Upsample(scale_factor=0.4, mode='nearest'): expected input of shape (N, C, H, W) with C, H, W >= 1 "
        "and an output of at least (1, 1), got (1, 1, 2, 5), whose output is (0, 2)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        up(torch.zeros(1, 1, 2, 5))


def test_max_pool_indices_are_torchs() -> None:
    x = torch.randn(2, 3, 9, 8)
    pool = mn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True)
    pool(x)
    _, expected = F.max_pool2d(x, 3, 2, 1, 2, ceil_mode=True, return_indices=True)
    assert torch.equal(pool.indices, expected)


def test_max_pool_indices_before_forward_raise() -> None:
    with pytest.raises(RuntimeError, match=re.escape("indices read before forward")):
        _ = mn.MaxPool2d(2).indices


def test_max_pool_indices_are_read_only() -> None:
    pool = mn.MaxPool2d(2)
    with pytest.raises(AttributeError):
        pool.indices = torch.zeros(1)  # type: ignore[misc]  # assigning is the point


def test_global_average_pooling_is_the_mean() -> None:
    x = torch.randn(4, 5, 6, 7)
    torch.testing.assert_close(mn.AdaptiveAvgPool2d(1)(x), x.mean((2, 3), keepdim=True))


# repr and state ----------------------------------------------------------------------------------------

REPR_CASES: list[tuple[str, tuple[object, ...], dict[str, object]]] = [
    ("MaxPool2d", (3, 2, 1), {}),
    ("MaxPool2d", ((3, 2),), {"dilation": (1, 2), "ceil_mode": True}),
    ("MaxPool2d", (2,), {}),
    ("AvgPool2d", (3, 2, 1), {}),
    ("AvgPool2d", ((2, 3),), {"ceil_mode": True, "count_include_pad": False, "divisor_override": 4}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveAvgPool2d", ((None, 3),), {}),
    ("AdaptiveAvgPool2d", ((2, 5),), {}),
    ("Upsample", (), {"scale_factor": 2}),
    ("Upsample", (), {"scale_factor": (1.5, 2)}),
    ("Upsample", (), {"size": 7, "mode": "bilinear"}),
    ("Upsample", (), {"size": (3, 4), "mode": "bilinear", "align_corners": True}),
    ("Upsample", (), {"scale_factor": 1.5, "mode": "nearest-exact"}),
    ("Dropout2d", (), {}),
    ("Dropout2d", (0.25,), {}),
    ("Dropout", (0.1,), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), REPR_CASES, ids=lambda v: str(v))
def test_repr_is_torchs(name: str, args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    assert repr(getattr(mn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize(("name", "args", "kwargs"), REPR_CASES, ids=lambda v: str(v))
def test_attributes_and_state_are_torchs(
    name: str, args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    ours, theirs = getattr(mn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    attributes = ["kernel_size", "stride", "padding", "dilation", "ceil_mode", "count_include_pad"]
    attributes += ["divisor_override", "return_indices", "output_size", "size", "scale_factor", "mode"]
    attributes += ["align_corners", "recompute_scale_factor", "p", "inplace"]
    for attribute in attributes:
        if hasattr(theirs, attribute):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []


def test_max_pool_stem_of_a_resnet() -> None:
    pool = mn.MaxPool2d(3, 2, 1)
    assert pool(torch.zeros(2, 64, 112, 112)).shape == (2, 64, 56, 56)


# Argument checks -----------------------------------------------------------------------------------------

BAD_ARGUMENTS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: loose.MaxPool2d(0), ValueError, "MaxPool2d: expected kernel_size >= 1, got 0"),
    (lambda: loose.MaxPool2d(-2), ValueError, "MaxPool2d: expected kernel_size >= 1, got -2"),
    (
        lambda: loose.MaxPool2d(2.0),
        TypeError,
        "MaxPool2d: expected kernel_size to be an int or a pair of ints, got 2.0",
    ),
    (
        lambda: loose.MaxPool2d(float("nan")),
        TypeError,
        "MaxPool2d: expected kernel_size to be an int or a pair of ints, got nan",
    ),
    (
        lambda: loose.MaxPool2d((2, 2, 2)),
        TypeError,
        "MaxPool2d: expected kernel_size to be an int or a pair of ints, got (2, 2, 2)",
    ),
    (lambda: loose.MaxPool2d(2, stride=0), ValueError, "MaxPool2d: expected stride >= 1, got 0"),
    (lambda: loose.MaxPool2d(2, 2, -1), ValueError, "MaxPool2d: expected padding >= 0, got -1"),
    (
        lambda: loose.MaxPool2d(2, dilation=(1, 0)),
        ValueError,
        "MaxPool2d: expected dilation >= 1, got (1, 0)",
    ),
    (
        lambda: loose.MaxPool2d(3, 1, 2),
        ValueError,
        "MaxPool2d: expected padding at most half of kernel_size, <= (1, 1), got 2",
    ),
    (
        lambda: loose.MaxPool2d((4, 2), 1, (2, 2)),
        ValueError,
        "MaxPool2d: expected padding at most half of kernel_size, <= (2, 1), got (2, 2)",
    ),
    (
        lambda: loose.MaxPool2d(2, return_indices=True),
        ValueError,
        "MaxPool2d: expected return_indices=False (forward returns one tensor; "
        "read the indices of the last forward from the indices property), got True",
    ),
    (
        lambda: loose.MaxPool2d(2, ceil_mode=1),
        TypeError,
        "MaxPool2d: expected ceil_mode to be a bool, got int",
    ),
    (
        lambda: loose.AvgPool2d(2, padding=2),
        ValueError,
        "AvgPool2d: expected padding at most half of kernel_size",
    ),
    (
        lambda: loose.AvgPool2d(2, count_include_pad=None),
        TypeError,
        "AvgPool2d: expected count_include_pad to be a bool, got NoneType",
    ),
    (
        lambda: loose.AvgPool2d(2, divisor_override=0),
        ValueError,
        "AvgPool2d: expected divisor_override >= 1, got 0",
    ),
    (
        lambda: loose.AvgPool2d(2, divisor_override=-3),
        ValueError,
        "AvgPool2d: expected divisor_override >= 1, got -3",
    ),
    (
        lambda: loose.AvgPool2d(2, divisor_override=2.5),
        TypeError,
        "AvgPool2d: expected divisor_override to be an int or None, got float",
    ),
    (lambda: loose.AdaptiveAvgPool2d(0), ValueError, "AdaptiveAvgPool2d: expected output_size >= 1, got 0"),
    (
        lambda: loose.AdaptiveAvgPool2d((3, -1)),
        ValueError,
        "AdaptiveAvgPool2d: expected output_size >= 1, got (3, -1)",
    ),
    (
        lambda: loose.AdaptiveAvgPool2d(2.0),
        TypeError,
        "AdaptiveAvgPool2d: expected output_size to be an int, None or a pair of them, got 2.0",
    ),
    (
        lambda: loose.AdaptiveAvgPool2d((1, 2, 3)),
        TypeError,
        "AdaptiveAvgPool2d: expected output_size to be an int, None or a pair of them, got (1, 2, 3)",
    ),
    (
        lambda: loose.Upsample(),
        ValueError,
        "Upsample: expected exactly one of size and scale_factor, got neither",
    ),
    (
        lambda: loose.Upsample(4, 2.0),
        ValueError,
        "Upsample: expected exactly one of size and scale_factor, got both",
    ),
    (lambda: loose.Upsample(0), ValueError, "Upsample: expected size >= 1, got 0"),
    (lambda: loose.Upsample((2, -2)), ValueError, "Upsample: expected size >= 1, got (2, -2)"),
    (
        lambda: loose.Upsample(2.5),
        TypeError,
        "Upsample: expected size to be an int or a pair of ints, got 2.5",
    ),
    (
        lambda: loose.Upsample(scale_factor=0),
        ValueError,
        "Upsample: expected scale_factor > 0 and finite, got 0",
    ),
    (
        lambda: loose.Upsample(scale_factor=-1.5),
        ValueError,
        "Upsample: expected scale_factor > 0 and finite, got -1.5",
    ),
    (
        lambda: loose.Upsample(scale_factor=float("nan")),
        ValueError,
        "Upsample: expected scale_factor > 0 and finite, got nan",
    ),
    (
        lambda: loose.Upsample(scale_factor=(2.0, float("inf"))),
        ValueError,
        "Upsample: expected scale_factor > 0 and finite, got (2.0, inf)",
    ),
    (
        lambda: loose.Upsample(scale_factor="2"),
        TypeError,
        "Upsample: expected scale_factor to be a number or a pair of numbers, got '2'",
    ),
    (
        lambda: loose.Upsample(scale_factor=2, mode="bicubic"),
        ValueError,
        "Upsample: expected mode 'nearest', 'nearest-exact' or 'bilinear', got 'bicubic'",
    ),
    (
        lambda: loose.Upsample(scale_factor=2, mode=None),
        TypeError,
        "Upsample: expected mode to be a str, got NoneType",
    ),
    (
        lambda: loose.Upsample(scale_factor=2, align_corners=False),
        ValueError,
        "Upsample: expected align_corners=None with mode='nearest' (it applies to 'bilinear'), got False",
    ),
    (
        lambda: loose.Upsample(scale_factor=2, mode="bilinear", align_corners=1),
        TypeError,
        "Upsample: expected align_corners to be a bool or None, got int",
    ),
    (
        lambda: loose.Upsample(size=4, recompute_scale_factor=True),
        ValueError,
        "Upsample: expected recompute_scale_factor None or False with an explicit size, got True",
    ),
    (lambda: loose.Dropout2d(1.5), ValueError, "Dropout2d: expected p in [0, 1], got 1.5"),
    (lambda: loose.Dropout2d(-0.1), ValueError, "Dropout2d: expected p in [0, 1], got -0.1"),
    (lambda: loose.Dropout2d(float("nan")), ValueError, "Dropout2d: expected p in [0, 1], got nan"),
    (lambda: loose.Dropout2d("0.5"), TypeError, "Dropout2d: expected p to be a float, got str"),
    (lambda: loose.Dropout2d(0.5, 0), TypeError, "Dropout2d: expected inplace to be a bool, got int"),
]


@pytest.mark.parametrize(("build", "error", "message"), BAD_ARGUMENTS, ids=lambda v: "")
def test_bad_arguments_are_refused(build: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match="^" + re.escape(message)):
        build()


BAD_INPUTS: list[tuple[mn.Module, Tensor, type[Exception], str]] = [
    (
        mn.MaxPool2d(3, 2, 1),
        torch.zeros(8, 8),
        ValueError,
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False): "
        "expected input of shape (N, C, H, W) or (C, H, W) with C >= 1 and H, W >= (1, 1), got (8, 8)",
    ),
    (
        mn.MaxPool2d(3, dilation=2),
        torch.zeros(1, 1, 4, 9),
        ValueError,
        "MaxPool2d(kernel_size=3, stride=3, padding=0, dilation=2, ceil_mode=False): "
        "expected input of shape (N, C, H, W) or (C, H, W) with C >= 1 and H, W >= (5, 5), got (1, 1, 4, 9)",
    ),
    (
        mn.AvgPool2d(3),
        torch.zeros(1, 1, 2, 3, dtype=torch.int64),
        TypeError,
        "AvgPool2d(kernel_size=3, stride=3, padding=0): expected a floating-point input, got torch.int64",
    ),
    (
        mn.AdaptiveAvgPool2d(2),
        torch.zeros(4, 5),
        ValueError,
        "AdaptiveAvgPool2d(output_size=2): expected input of shape (N, C, H, W) or (C, H, W) "
        "with C >= 1 and H, W >= (1, 1), got (4, 5)",
    ),
    (
        mn.Upsample(scale_factor=2),
        torch.zeros(2, 3, 4),
        ValueError,
        "Upsample(scale_factor=2.0, mode='nearest'): expected input of shape (N, C, H, W), got (2, 3, 4) "
        "(torch.nn.Upsample takes a 3-D input as (N, C, L) and resamples it along L, a 1-D resampling "
        "this module does not do)",
    ),
    (
        mn.Dropout2d(),
        torch.zeros(4, 5),
        ValueError,
        "Dropout2d(p=0.5, inplace=False): expected input of shape (N, C, H, W) or (N, C, L), got (4, 5)",
    ),
    (
        mn.Dropout2d().eval(),
        torch.zeros(2, 3, 4, 5, 6),
        ValueError,
        "Dropout2d(p=0.5, inplace=False): expected input of shape (N, C, H, W) or (N, C, L), "
        "got (2, 3, 4, 5, 6)",
    ),
]


@pytest.mark.parametrize(("module", "input", "error", "message"), BAD_INPUTS, ids=lambda v: "")
def test_bad_inputs_are_refused(
    module: mn.Module, input: Tensor, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        module(input)


def test_ceil_mode_takes_an_input_smaller_than_the_kernel_as_torch_does() -> None:
    x = torch.randn(1, 1, 2, 2)
    torch.testing.assert_close(mn.MaxPool2d(3, 2, ceil_mode=True)(x), F.max_pool2d(x, 3, 2, ceil_mode=True))


def test_grad_output_of_the_wrong_shape_is_refused() -> None:
    pool = mn.AdaptiveAvgPool2d(2)
    pool(torch.zeros(1, 1, 4, 4))
    with pytest.raises(
        ValueError, match=re.escape("expected grad_output of shape (1, 1, 2, 2), got (1, 1, 4, 4)")
    ):
        pool.backward(torch.zeros(1, 1, 4, 4))


# channels_last ------------------------------------------------------------------------------------------

LAYERS: list[Callable[[], mn.Module]] = [
    lambda: mn.MaxPool2d(3, 2, 1),
    lambda: mn.MaxPool2d(2, ceil_mode=True),
    lambda: mn.AvgPool2d(3, 2, 1, count_include_pad=False),
    lambda: mn.AdaptiveAvgPool2d(1),
    lambda: mn.AdaptiveAvgPool2d((3, 5)),
    lambda: mn.Upsample(scale_factor=2),
    lambda: mn.Upsample(scale_factor=1.5, mode="bilinear"),
    lambda: mn.Upsample(size=(9, 4), mode="nearest-exact"),
    lambda: mn.Dropout2d(0.5, generator=torch.Generator().manual_seed(0)),
]


@pytest.mark.parametrize("grad_format", [CL, torch.contiguous_format])
@pytest.mark.parametrize("make", LAYERS, ids=lambda make: repr(make()))
def test_channels_last_stays_channels_last(
    make: Callable[[], mn.Module], grad_format: torch.memory_format
) -> None:
    x = torch.randn(2, 6, 7, 9)
    g = torch.Generator().manual_seed(2)
    plain = make()
    output = plain(x)
    v = torch.randn(output.shape, generator=g)
    grad = plain.backward(v)

    layer = make()
    output_cl = layer(x.contiguous(memory_format=CL))
    assert output_cl.is_contiguous(memory_format=CL)
    torch.testing.assert_close(output_cl, output, rtol=1e-12, atol=1e-12)
    grad_cl = layer.backward(v.contiguous(memory_format=grad_format))
    # Dropout2d is elementwise, and keeps grad_output's format as torch does; the others the input's.
    expected_format = grad_format if isinstance(layer, mn.Dropout2d) else CL
    assert grad_cl.is_contiguous(memory_format=expected_format)
    torch.testing.assert_close(grad_cl, grad, rtol=1e-12, atol=1e-12)


# Dropout2d -----------------------------------------------------------------------------------------------


def test_dropout2d_zeroes_whole_channels_at_rate_p() -> None:
    p = 0.3
    output = mn.Dropout2d(p, generator=torch.Generator().manual_seed(0))(torch.ones(40, 500, 3, 4))
    per_channel = output.flatten(2)
    assert torch.equal(per_channel.amax(2), per_channel.amin(2))  # one value per channel
    values = per_channel[:, :, 0]
    kept = values != 0
    torch.testing.assert_close(values[kept], torch.full_like(values[kept], 1 / (1 - p)))
    assert (~kept).double().mean().item() == pytest.approx(p, abs=0.01)


def test_dropout2d_backward_uses_the_forward_mask() -> None:
    dropout = mn.Dropout2d(0.5, generator=torch.Generator().manual_seed(0))
    mask = dropout(torch.ones(8, 16, 2, 2))
    v = torch.randn(8, 16, 2, 2)
    assert torch.equal(dropout.backward(v), v * mask)


def test_dropout2d_draws_a_fresh_mask_each_training_forward() -> None:
    dropout = mn.Dropout2d(0.5, generator=torch.Generator().manual_seed(0))
    x = torch.ones(8, 16, 2, 2)
    assert not torch.equal(dropout(x), dropout(x))


def test_dropout2d_eval_is_the_identity() -> None:
    dropout = mn.Dropout2d(0.5).eval()
    x, v = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    assert dropout(x) is x and dropout.backward(v) is v


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout2d_extremes(p: float) -> None:
    output = mn.Dropout2d(p)(torch.ones(2, 3, 4, 5))
    assert torch.equal(output, torch.full((2, 3, 4, 5), 1.0 - p))


def test_dropout2d_in_a_sequential_leaves_the_callers_input_alone() -> None:
    net = mn.Sequential(mn.MaxPool2d(2), mn.Dropout2d(0.5, generator=torch.Generator().manual_seed(0)))
    x = torch.randn(4, 8, 6, 6)
    kept = x.clone()
    net(x)
    assert torch.equal(x, kept)


def _hand_avg_pool(x: Tensor, k: int, s: int, p: int, ceil_mode: bool, include_pad: bool) -> Tensor:
    """Average pooling of one square plane written out, with the divisor docs/modules.md derives."""
    size = x.shape[-1]
    out = (size + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    y = torch.zeros(out, out)
    for i, j in itertools.product(range(out), repeat=2):
        h0, w0 = i * s - p, j * s - p
        padded = (min(h0 + k, size + p) - h0) * (min(w0 + k, size + p) - w0)
        rows, cols = range(max(h0, 0), min(h0 + k, size)), range(max(w0, 0), min(w0 + k, size))
        inside = len(rows) * len(cols)
        total = sum(x[r, c] for r in rows for c in cols)
        y[i, j] = total / (padded if include_pad else inside)
    return y


@pytest.mark.parametrize(("ceil_mode", "include_pad"), list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize(("k", "s", "p", "size"), [(3, 2, 1, 6), (3, 2, 1, 7), (4, 3, 2, 8), (2, 2, 1, 5)])
def test_avg_pool_divides_by_the_documented_divisor(
    k: int, s: int, p: int, size: int, ceil_mode: bool, include_pad: bool
) -> None:
    x = torch.randn(size, size)
    pool = mn.AvgPool2d(k, s, p, ceil_mode=ceil_mode, count_include_pad=include_pad)
    expected = _hand_avg_pool(x, k, s, p, ceil_mode, include_pad)
    torch.testing.assert_close(pool(x.view(1, 1, size, size))[0, 0], expected, rtol=1e-12, atol=1e-12)


def test_dropout2d_takes_a_3d_input_as_torch_does_one_draw_per_sample_and_channel() -> None:
    dropout = mn.Dropout2d(0.5, generator=torch.Generator().manual_seed(0))
    x = torch.ones(6, 8, 5)
    with pytest.warns(UserWarning, match=r"a 3-D input is taken as \(N, C, L\)"):
        y = dropout(x)
    # torch.nn.Dropout2d draws per (n, c) of an (N, C, L) input: each row is all 0 or all 2.
    assert all(set(row.tolist()) in ({0.0}, {2.0}) for row in y.reshape(-1, 5))
    assert 0 < int((y[:, :, 0] == 0).sum()) < 48  # the draws differ across (n, c)
    assert torch.equal(dropout.backward(torch.ones(6, 8, 5)), y)
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        theirs = torch.nn.Dropout2d(0.5)(x)
    assert all(set(row.tolist()) in ({0.0}, {2.0}) for row in theirs.reshape(-1, 5))


def test_max_pool_indices_of_an_unbatched_input_are_unbatched() -> None:
    x = torch.randn(3, 7, 7, generator=torch.Generator().manual_seed(0))
    pool = mn.MaxPool2d(3, 2, 1)
    output = pool(x)
    expected, indices = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    assert torch.equal(output, expected) and torch.equal(pool.indices, indices)
