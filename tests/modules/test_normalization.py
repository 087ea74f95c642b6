"""BatchNorm1d, BatchNorm2d and LayerNorm against torch.nn: several steps in training and evaluation
(outputs, input and parameter gradients, running buffers), state_dict keys, loading torch's state,
repr, argument and input validation, and channels_last memory format.

float64 runs the same ATen kernels as torch.nn, so it is compared bit for bit; float32 closely.
"""

import math
from collections.abc import Callable

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor

Norm = mn.BatchNorm1d | mn.BatchNorm2d | mn.LayerNorm
TorchNorm = torch.nn.BatchNorm1d | torch.nn.BatchNorm2d | torch.nn.LayerNorm
CL = torch.channels_last


def _same(ours: Tensor, theirs: Tensor, exact: bool, what: str) -> None:
    if exact:
        assert torch.equal(ours, theirs), what
    else:
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6, msg=what)


def _randomize(ours: Norm, theirs: TorchNorm, g: torch.Generator) -> None:
    """The same random affine parameters in both, so that the gradients are not the identity's."""
    for name in ("weight", "bias"):
        param, reference = getattr(ours, name), getattr(theirs, name)
        assert (param is None) == (reference is None), name
        if param is not None:
            value = torch.rand(param.shape, generator=g, dtype=torch.float64) + 0.5
            param.value.copy_(value)
            with torch.no_grad():
                reference.copy_(value)


def _step(ours: Norm, theirs: TorchNorm, x: Tensor, v: Tensor, exact: bool) -> None:
    """One forward and backward through both; compare output, input gradient, parameter gradients
    (accumulated over the steps so far in both) and every buffer."""
    leaf = x.clone().requires_grad_()
    expected = theirs(leaf)
    expected.backward(v)
    assert leaf.grad is not None
    _same(ours(x), expected.detach(), exact, "output")
    _same(ours.backward(v), leaf.grad, exact, "input gradient")
    for name, param in ours.named_parameters():
        reference = getattr(theirs, name).grad
        _same(param.grad, reference, exact, f"{name}.grad")
    theirs_buffers = dict(theirs.named_buffers())
    assert [name for name, _ in ours.named_buffers()] == list(theirs_buffers)
    for name, buffer in ours.named_buffers():
        _same(buffer.value, theirs_buffers[name], exact or buffer.value.dtype == torch.int64, name)


def _run(ours: Norm, theirs: TorchNorm, shape: Shape, dtype: torch.dtype, steps: int = 3) -> None:
    """``steps`` training steps, then two evaluation steps, the same inputs for both."""
    g = torch.Generator().manual_seed(0)
    _randomize(ours, theirs, g)
    exact = dtype == torch.float64
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        for _ in range(steps if mode else 2):
            x = (3 * torch.randn(shape, generator=g, dtype=torch.float64) + 1).to(dtype)
            v = torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
            _step(ours, theirs, x, v, exact)


DTYPES = [torch.float64, torch.float32]
MOMENTA = [0.1, None, 0.0, 1.0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum", MOMENTA)
@pytest.mark.parametrize(
    ("affine", "bias", "track_running_stats"),
    [(True, True, True), (False, True, True), (True, False, True), (True, True, False)],
    ids=["default", "no-affine", "no-bias", "untracked"],
)
def test_batchnorm2d_matches_torch_over_train_and_eval(
    dtype: torch.dtype, momentum: float | None, affine: bool, bias: bool, track_running_stats: bool
) -> None:
    options = {"affine": affine, "track_running_stats": track_running_stats, "bias": bias, "dtype": dtype}
    ours = mn.BatchNorm2d(4, momentum=momentum, **options)  # type: ignore[arg-type]  # the options above
    theirs = torch.nn.BatchNorm2d(4, momentum=momentum, **options)  # type: ignore[arg-type]
    _run(ours, theirs, (3, 4, 5, 6), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum", MOMENTA)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)], ids=str)
@pytest.mark.parametrize("track_running_stats", [True, False])
def test_batchnorm1d_matches_torch_over_train_and_eval(
    dtype: torch.dtype, momentum: float | None, shape: Shape, track_running_stats: bool
) -> None:
    ours = mn.BatchNorm1d(4, momentum=momentum, track_running_stats=track_running_stats, dtype=dtype)
    theirs = torch.nn.BatchNorm1d(4, momentum=momentum, track_running_stats=track_running_stats, dtype=dtype)
    _run(ours, theirs, shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("normalized_shape", "shape"), [(6, (4, 6)), (6, (2, 3, 6)), ((5, 6), (2, 3, 5, 6)), ((3, 5), (3, 5))]
)
@pytest.mark.parametrize(
    ("eps", "elementwise_affine", "bias"),
    [(1e-5, True, True), (1e-5, True, False), (1e-5, False, True), (1e-3, True, True)],
    ids=["default", "no-bias", "no-affine", "eps"],
)
def test_layernorm_matches_torch_over_train_and_eval(
    dtype: torch.dtype,
    normalized_shape: int | Shape,
    shape: Shape,
    eps: float,
    elementwise_affine: bool,
    bias: bool,
) -> None:
    ours = mn.LayerNorm(normalized_shape, eps, elementwise_affine, bias, dtype=dtype)
    theirs = torch.nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias, dtype=dtype)
    _run(ours, theirs, shape, dtype)


def test_momentum_none_is_the_cumulative_average() -> None:
    """A hand-worked check: with momentum=None the running mean is the mean of the batch means."""
    bn = mn.BatchNorm2d(1, momentum=None)
    means = []
    for k in range(1, 5):
        x = torch.full((2, 1, 2, 2), float(k)) + torch.tensor([0.0, 1.0]).view(2, 1, 1, 1)
        means.append(x.mean().item())
        bn(x)
    assert bn.running_mean.value.item() == pytest.approx(sum(means) / len(means))  # type: ignore[union-attr]
    assert int(bn.num_batches_tracked.value) == 4  # type: ignore[union-attr]


CONSTRUCTORS: list[tuple[str, Callable[[], Norm], Callable[[], TorchNorm]]] = [
    ("bn2d", lambda: mn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3)),
    (
        "bn2d-no-affine",
        lambda: mn.BatchNorm2d(3, affine=False),
        lambda: torch.nn.BatchNorm2d(3, affine=False),
    ),
    ("bn2d-no-bias", lambda: mn.BatchNorm2d(3, bias=False), lambda: torch.nn.BatchNorm2d(3, bias=False)),
    (
        "bn2d-untracked",
        lambda: mn.BatchNorm2d(3, track_running_stats=False),
        lambda: torch.nn.BatchNorm2d(3, track_running_stats=False),
    ),
    (
        "bn2d-bare",
        lambda: mn.BatchNorm2d(3, 1e-3, None, False, False),
        lambda: torch.nn.BatchNorm2d(3, 1e-3, None, False, False),
    ),
    (
        "bn1d-untracked",
        lambda: mn.BatchNorm1d(3, track_running_stats=False),
        lambda: torch.nn.BatchNorm1d(3, track_running_stats=False),
    ),
    ("ln", lambda: mn.LayerNorm(8), lambda: torch.nn.LayerNorm(8)),
    ("ln-2d", lambda: mn.LayerNorm((4, 8), eps=1e-6), lambda: torch.nn.LayerNorm((4, 8), eps=1e-6)),
    ("ln-list", lambda: mn.LayerNorm([4, 8]), lambda: torch.nn.LayerNorm([4, 8])),
    ("ln-no-bias", lambda: mn.LayerNorm(8, bias=False), lambda: torch.nn.LayerNorm(8, bias=False)),
    (
        "ln-no-affine",
        lambda: mn.LayerNorm(8, 1e-5, False),
        lambda: torch.nn.LayerNorm(8, 1e-5, False),
    ),
]


@pytest.mark.parametrize(("name", "ours", "theirs"), CONSTRUCTORS, ids=[c[0] for c in CONSTRUCTORS])
def test_state_dict_keys_and_shapes_are_torchs(
    name: str, ours: Callable[[], Norm], theirs: Callable[[], TorchNorm]
) -> None:
    mine, reference = ours().state_dict(), theirs().state_dict()
    assert list(mine) == list(reference)
    for key, value in mine.items():
        assert value.shape == reference[key].shape and value.dtype == reference[key].dtype, key
        assert torch.equal(value, reference[key]), key  # the same initial values


@pytest.mark.parametrize(
    ("name", "ours", "theirs"),
    CONSTRUCTORS,
    ids=[c[0] for c in CONSTRUCTORS],
)
def test_repr_is_torchs(name: str, ours: Callable[[], Norm], theirs: Callable[[], TorchNorm]) -> None:
    assert repr(ours()) == repr(theirs())


def test_batchnorm1d_prints_every_setting_as_torch_does() -> None:
    assert repr(mn.BatchNorm1d(4, momentum=None, track_running_stats=False)) == (
        "BatchNorm1d(4, eps=1e-05, momentum=None, affine=True, bias=True, track_running_stats=False)"
    )


@pytest.mark.parametrize("momentum", [0.1, None])
def test_loads_a_torch_state_dict_and_continues_as_torch(momentum: float | None) -> None:
    g = torch.Generator().manual_seed(0)
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum)
    with torch.no_grad():
        theirs.weight.copy_(torch.rand(3, generator=g) + 0.5)
        theirs.bias.copy_(torch.randn(3, generator=g))
    for _ in range(3):
        theirs(2 * torch.randn(4, 3, 5, 5, generator=g) + 1)
    ours = mn.BatchNorm2d(3, momentum=momentum)
    ours.load_state_dict(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    for mode in (True, False):  # one more batch (num_batches_tracked weighs it for momentum=None), then eval
        x = torch.randn(4, 3, 5, 5, generator=g)
        assert torch.equal(ours.train(mode)(x), theirs.train(mode)(x).detach())
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key


def test_layernorm_loads_a_torch_state_dict() -> None:
    theirs = torch.nn.LayerNorm((3, 4))
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours = mn.LayerNorm((3, 4))
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 4)
    assert torch.equal(ours(x), theirs(x).detach())


# Memory format -----------------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm2d_keeps_channels_last_and_its_gradients(training: bool, dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 8, 5, 6, generator=g, dtype=dtype)
    v = torch.randn(4, 8, 5, 6, generator=g, dtype=dtype)
    results = []
    for memory_format in (torch.contiguous_format, CL):
        bn = mn.BatchNorm2d(8, dtype=dtype)
        bn.running_mean.value.copy_(torch.linspace(-1, 1, 8))  # type: ignore[union-attr]
        bn.running_var.value.copy_(torch.linspace(0.5, 2, 8))  # type: ignore[union-attr]
        bn.train(training)
        output = bn(x.to(memory_format=memory_format))
        grad_input = bn.backward(v.to(memory_format=memory_format))
        results.append((output, grad_input, [p.grad for p in bn.parameters()]))
        if memory_format == CL:
            assert output.is_contiguous(memory_format=CL)
            assert grad_input.is_contiguous(memory_format=CL)
    (out, grad, params), (out_cl, grad_cl, params_cl) = results
    rtol, atol = (1e-12, 1e-12) if dtype == torch.float64 else (1.3e-6, 1e-5)
    torch.testing.assert_close(out_cl, out, rtol=rtol, atol=atol)
    torch.testing.assert_close(grad_cl, grad, rtol=rtol, atol=atol)
    for p, p_cl in zip(params, params_cl, strict=True):
        torch.testing.assert_close(p_cl, p, rtol=rtol, atol=atol)


def test_batchnorm2d_channels_last_input_with_contiguous_grad_output() -> None:
    bn = mn.BatchNorm2d(3)
    x = torch.randn(2, 3, 4, 4).to(memory_format=CL)
    bn(x)
    v = torch.randn(2, 3, 4, 4)
    theirs = torch.nn.BatchNorm2d(3)
    leaf = x.clone().requires_grad_()
    theirs(leaf).backward(v)
    grad_input = bn.backward(v)
    assert grad_input.is_contiguous(memory_format=CL)
    assert leaf.grad is not None
    torch.testing.assert_close(grad_input, leaf.grad, rtol=1e-12, atol=1e-12)


def test_layernorm_output_format_is_torchs_for_channels_last() -> None:
    x = torch.randn(2, 3, 4, 5).to(memory_format=CL)
    ours, theirs = mn.LayerNorm(5), torch.nn.LayerNorm(5)
    assert ours(x).stride() == theirs(x).stride()
    assert ours.backward(torch.ones(2, 3, 4, 5)).shape == (2, 3, 4, 5)


# Modes and caches --------------------------------------------------------------------------------


def test_batchnorm2d_eval_leaves_buffers_and_untracked_eval_is_training() -> None:
    bn = mn.BatchNorm2d(3).eval()
    bn(torch.randn(2, 3, 4, 4))
    assert bn.running_mean is not None and bn.num_batches_tracked is not None
    assert torch.equal(bn.running_mean.value, torch.zeros(3)) and int(bn.num_batches_tracked.value) == 0
    untracked = mn.BatchNorm2d(3, track_running_stats=False)
    assert untracked.running_mean is None and untracked.num_batches_tracked is None
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(untracked.eval()(x), untracked.train()(x))


def test_eval_backward_uses_the_statistics_of_its_forward() -> None:
    bn = mn.BatchNorm2d(3).eval()
    x, v = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    bn(x)
    expected = bn.backward(v)
    bn.zero_grad()
    bn.running_var.value.fill_(4.0)  # type: ignore[union-attr]  # between forward and backward
    assert torch.equal(bn.backward(v), expected)


@pytest.mark.parametrize(
    "make", [lambda: mn.BatchNorm2d(3), lambda: mn.LayerNorm((3, 4, 4))], ids=["BatchNorm2d", "LayerNorm"]
)
def test_accumulate_grad_adds_what_backward_adds(make: Callable[[], Norm]) -> None:
    module = make()
    g = torch.Generator().manual_seed(0)
    for param in module.parameters():
        param.value.copy_(torch.randn(param.shape, generator=g))
    x, v = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 4, 4, generator=g)
    module(x)
    module.backward(v)
    expected = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    module.accumulate_grad(v)
    assert all(torch.equal(p.grad, e) for p, e in zip(module.parameters(), expected, strict=True))


def test_accumulate_grad_without_parameters_does_nothing() -> None:
    bn = mn.BatchNorm2d(3, affine=False)
    bn(torch.randn(2, 3, 4, 4))
    bn.accumulate_grad(torch.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"expected grad_output of shape \(2, 3, 4, 4\), got \(2, 3\)"):
        bn.accumulate_grad(torch.randn(2, 3))


def test_to_converts_parameters_and_float_buffers_only() -> None:
    bn = mn.BatchNorm2d(3).to(dtype=torch.float32)
    assert bn.running_var is not None and bn.num_batches_tracked is not None and bn.weight is not None
    assert bn.weight.value.dtype == bn.running_var.value.dtype == torch.float32
    assert bn.num_batches_tracked.value.dtype == torch.int64
    bn(torch.randn(2, 3, 2, 2, dtype=torch.float32))


# Validation --------------------------------------------------------------------------------------

BN2D = "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
LN = "LayerNorm((4, 5), eps=1e-05, elementwise_affine=True, bias=True)"


ARGUMENT_ERRORS: list[tuple[Callable[..., object], tuple[object, ...], dict[str, object], type, str]] = [
    (mn.BatchNorm2d, (0,), {}, ValueError, "BatchNorm2d: expected num_features > 0, got 0"),
    (mn.BatchNorm2d, (-2,), {}, ValueError, "BatchNorm2d: expected num_features > 0, got -2"),
    (mn.BatchNorm2d, (2.0,), {}, TypeError, "BatchNorm2d: expected num_features to be an int, got float"),
    (mn.BatchNorm2d, (True,), {}, TypeError, "BatchNorm2d: expected num_features to be an int, got bool"),
    (mn.BatchNorm2d, (3,), {"eps": 0.0}, ValueError, "BatchNorm2d: expected eps > 0 and finite, got 0.0"),
    (
        mn.BatchNorm2d,
        (3,),
        {"eps": -1e-5},
        ValueError,
        "BatchNorm2d: expected eps > 0 and finite, got -1e-05",
    ),
    (
        mn.BatchNorm2d,
        (3,),
        {"eps": math.nan},
        ValueError,
        "BatchNorm2d: expected eps > 0 and finite, got nan",
    ),
    (
        mn.BatchNorm2d,
        (3,),
        {"eps": math.inf},
        ValueError,
        "BatchNorm2d: expected eps > 0 and finite, got inf",
    ),
    (mn.BatchNorm2d, (3,), {"eps": "1"}, TypeError, "BatchNorm2d: expected eps to be a float, got str"),
    (
        mn.BatchNorm2d,
        (3,),
        {"momentum": 1.5},
        ValueError,
        "BatchNorm2d: expected momentum in [0, 1] or None, got 1.5",
    ),
    (
        mn.BatchNorm2d,
        (3,),
        {"momentum": -0.1},
        ValueError,
        "BatchNorm2d: expected momentum in [0, 1] or None, got -0.1",
    ),
    (
        mn.BatchNorm2d,
        (3,),
        {"momentum": math.nan},
        ValueError,
        "BatchNorm2d: expected momentum in [0, 1] or None, got nan",
    ),
    (
        mn.BatchNorm2d,
        (3,),
        {"momentum": "0.1"},
        TypeError,
        "BatchNorm2d: expected momentum to be a float or None, got str",
    ),
    (mn.BatchNorm2d, (3,), {"affine": 1}, TypeError, "BatchNorm2d: expected affine to be a bool, got int"),
    (
        mn.BatchNorm2d,
        (3,),
        {"track_running_stats": None},
        TypeError,
        "BatchNorm2d: expected track_running_stats to be a bool, got NoneType",
    ),
    (mn.BatchNorm2d, (3,), {"bias": "no"}, TypeError, "BatchNorm2d: expected bias to be a bool, got str"),
    (
        mn.BatchNorm1d,
        (3,),
        {"track_running_stats": 0},
        TypeError,
        "BatchNorm1d: expected track_running_stats to be a bool, got int",
    ),
    (mn.LayerNorm, (0,), {}, ValueError, "LayerNorm: expected normalized_shape > 0, got (0,)"),
    (mn.LayerNorm, ((3, -1),), {}, ValueError, "LayerNorm: expected normalized_shape > 0, got (3, -1)"),
    (
        mn.LayerNorm,
        ((),),
        {},
        TypeError,
        "LayerNorm: expected normalized_shape to be an int or a non-empty tuple of ints, got ()",
    ),
    (
        mn.LayerNorm,
        ((3, 2.0),),
        {},
        TypeError,
        "LayerNorm: expected normalized_shape to be an int or a non-empty tuple of ints, got (3, 2.0)",
    ),
    (
        mn.LayerNorm,
        (True,),
        {},
        TypeError,
        "LayerNorm: expected normalized_shape to be an int or a non-empty tuple of ints, got bool",
    ),
    (
        mn.LayerNorm,
        ("8",),
        {},
        TypeError,
        "LayerNorm: expected normalized_shape to be an int or a non-empty tuple of ints, got str",
    ),
    (mn.LayerNorm, (8,), {"eps": math.nan}, ValueError, "LayerNorm: expected eps > 0 and finite, got nan"),
    (
        mn.LayerNorm,
        (8,),
        {"elementwise_affine": None},
        TypeError,
        "LayerNorm: expected elementwise_affine to be a bool, got NoneType",
    ),
    (mn.LayerNorm, (8,), {"bias": 1}, TypeError, "LayerNorm: expected bias to be a bool, got int"),
]


@pytest.mark.parametrize(("cls", "args", "kwargs", "error", "message"), ARGUMENT_ERRORS)
def test_constructor_rejects_bad_arguments(
    cls: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error) as raised:
        cls(*args, **kwargs)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("module", "input", "error", "message"),
    [
        (
            lambda: mn.BatchNorm2d(3),
            torch.zeros(32, 4, 28, 28, dtype=torch.float64),
            ValueError,
            f"{BN2D}: expected input of shape (N, 3, H, W), got (32, 4, 28, 28)",
        ),
        (
            lambda: mn.BatchNorm2d(3),
            torch.zeros(32, 3, 28, dtype=torch.float64),
            ValueError,
            f"{BN2D}: expected input of shape (N, 3, H, W), got (32, 3, 28)",
        ),
        (
            lambda: mn.BatchNorm2d(3),
            torch.zeros(1, 3, 1, 1, dtype=torch.float64),
            ValueError,
            f"{BN2D}: expected more than 1 value per channel in training, got 1",
        ),
        (
            lambda: mn.BatchNorm2d(3, track_running_stats=False).eval(),
            torch.zeros(1, 3, 1, 1, dtype=torch.float64),
            ValueError,
            "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=False): "
            "expected more than 1 value per channel with batch statistics (track_running_stats=False), got 1",
        ),
        (
            lambda: mn.BatchNorm2d(3),
            torch.zeros(2, 3, 4, 4, dtype=torch.float32),
            TypeError,
            f"{BN2D}: expected input of dtype torch.float64, got torch.float32",
        ),
        (
            lambda: mn.BatchNorm2d(3, affine=False),
            torch.zeros(2, 3, 4, 4, dtype=torch.float32),
            TypeError,
            "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=True): "
            "expected input of dtype torch.float64, got torch.float32",
        ),
        (
            lambda: mn.BatchNorm2d(3),
            torch.zeros(2, 3, 4, 4, dtype=torch.int64),
            TypeError,
            f"{BN2D}: expected a floating-point input, got torch.int64",
        ),
        (
            lambda: mn.BatchNorm2d(3),
            torch.zeros(2, 3, 4, 4, dtype=torch.float64, device="meta"),
            ValueError,
            f"{BN2D}: expected input on device cpu, got meta",
        ),
        (
            lambda: mn.BatchNorm1d(3, track_running_stats=False),
            torch.zeros(4, 3, 2, 2, dtype=torch.float64),
            ValueError,
            "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=False): "
            "expected input of shape (N, 3) or (N, 3, L), got (4, 3, 2, 2)",
        ),
        (
            lambda: mn.LayerNorm((4, 5)),
            torch.zeros(2, 5, 4, dtype=torch.float64),
            ValueError,
            f"{LN}: expected input of shape (*, 4, 5), got (2, 5, 4)",
        ),
        (
            lambda: mn.LayerNorm((4, 5)),
            torch.zeros(5, dtype=torch.float64),
            ValueError,
            f"{LN}: expected input of shape (*, 4, 5), got (5,)",
        ),
        (
            lambda: mn.LayerNorm((4, 5)),
            torch.zeros(2, 4, 5, dtype=torch.float32),
            TypeError,
            f"{LN}: expected input of dtype torch.float64, got torch.float32",
        ),
    ],
)
def test_forward_rejects_bad_inputs(
    module: Callable[[], Norm], input: Tensor, error: type, message: str
) -> None:
    with pytest.raises(error) as raised:
        module()(input)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("module", "shape"),
    [(lambda: mn.BatchNorm2d(3), (2, 3, 4, 4)), (lambda: mn.LayerNorm((4, 5)), (2, 4, 5))],
)
def test_backward_checks_its_call(module: Callable[[], Norm], shape: Shape) -> None:
    norm = module()
    with pytest.raises(RuntimeError, match=r"backward called before forward"):
        norm.backward(torch.zeros(shape))
    norm(torch.randn(shape))
    with pytest.raises(ValueError, match="expected grad_output of shape") as raised:
        norm.backward(torch.zeros(shape[0], 7))
    assert str(raised.value) == f"{norm!r}: expected grad_output of shape {shape}, got ({shape[0]}, 7)"
