"""Every loss against torch.nn: each reduction, shape, weight, ignore_index, smoothing and target kind.

torch.nn builds the reference from the same constructor arguments; torch.autograd differentiates it.
For ``reduction="none"`` the upstream gradient is random; for a 0-dim loss it is a random 0-dim
tensor and ``backward()`` (an implicit 1) is checked too.
"""

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import torch
from torch import nn

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor

REDUCTIONS = ("mean", "sum", "none")
Make = Callable[[torch.Generator], Tensor]


def _normal(shape: Shape) -> Make:
    return lambda g: torch.randn(shape, generator=g, dtype=torch.float64)


def _uniform(shape: Shape) -> Make:
    return lambda g: torch.rand(shape, generator=g, dtype=torch.float64) * 0.98 + 0.01


def _log_probs(shape: Shape) -> Make:
    dim = 0 if len(shape) == 1 else 1
    return lambda g: torch.log_softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim)


def _probs(shape: Shape) -> Make:
    dim = 0 if len(shape) == 1 else 1
    return lambda g: torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim)


def _classes(shape: Shape, classes: int, ignored: int | None = None) -> Make:
    """Class indices; if ``ignored`` is given, a few entries are set to it (the first one always)."""

    def make(g: torch.Generator) -> Tensor:
        target = torch.randint(0, classes, shape, generator=g)
        if ignored is not None and target.numel():
            hits = torch.rand(shape, generator=g) < 0.3
            target = target.masked_fill(hits, ignored)
            target.view(-1)[0] = ignored
        return target

    return make


@dataclass(frozen=True)
class LossCase:
    """One configuration: the class name, constructor kwargs (tensors included), input and target."""

    name: str
    kwargs: dict[str, object]
    input: Make
    target: Make
    label: str = field(default="")

    @property
    def id(self) -> str:
        shown = {k: (tuple(v.shape) if isinstance(v, Tensor) else v) for k, v in self.kwargs.items()}
        return f"{self.name}-{self.label}-" + ",".join(f"{k}={v}" for k, v in shown.items())


WEIGHT4 = torch.tensor([0.5, 2.0, 1.0, 0.25], dtype=torch.float64)
NEGATIVE_WEIGHT4 = torch.tensor([0.5, -2.0, 1.0, 3.0], dtype=torch.float64)  # torch accepts it


def _elementwise_cases() -> list[LossCase]:
    cases = []
    for name, extra in (("MSELoss", {}), ("L1Loss", {}), ("HuberLoss", {"delta": 0.7})):
        for reduction, shape in itertools.product(REDUCTIONS, [(), (5,), (3, 4, 2)]):
            cases.append(
                LossCase(name, {"reduction": reduction, **extra}, _normal(shape), _normal(shape), str(shape))
            )
    return cases


def _binary_cases() -> list[LossCase]:
    cases = []
    weights: list[Tensor | None] = [
        None,
        torch.linspace(-1.0, 2.0, 4, dtype=torch.float64),
        torch.rand(3, 1, dtype=torch.float64),
        torch.tensor(1.5, dtype=torch.float64),
    ]
    pos_weights = [None, torch.tensor([0.5, 1.0, 3.0, 2.0], dtype=torch.float64)]
    for reduction, weight, pos_weight in itertools.product(REDUCTIONS, weights, pos_weights):
        kwargs: dict[str, object] = {"reduction": reduction}
        if weight is not None:
            kwargs["weight"] = weight
        if pos_weight is not None:
            kwargs["pos_weight"] = pos_weight
        wide = lambda g: 4 * torch.randn(3, 4, generator=g, dtype=torch.float64)  # noqa: E731
        cases.append(LossCase("BCEWithLogitsLoss", kwargs, wide, _uniform((3, 4)), "(3, 4)"))
    for reduction, weight in itertools.product(REDUCTIONS, weights[:3]):
        kwargs = {"reduction": reduction} | ({} if weight is None else {"weight": weight})
        cases.append(LossCase("BCELoss", kwargs, _uniform((3, 4)), _uniform((3, 4)), "(3, 4)"))
    for name in ("BCEWithLogitsLoss", "BCELoss"):
        for reduction in REDUCTIONS:
            cases.append(LossCase(name, {"reduction": reduction}, _uniform(()), _uniform(()), "()"))
    return cases


CLASS_SHAPES = [((5, 4), (5,)), ((4,), ()), ((2, 4, 3), (2, 3)), ((2, 4, 3, 2), (2, 3, 2))]


def _class_cases() -> list[LossCase]:
    cases = []
    weights = [None, WEIGHT4, NEGATIVE_WEIGHT4]
    ignores = [-100, 1]
    for (shape, target_shape), reduction, weight, ignore in itertools.product(
        CLASS_SHAPES, REDUCTIONS, weights, ignores
    ):
        kwargs: dict[str, object] = {"reduction": reduction, "ignore_index": ignore}
        if weight is not None:
            kwargs["weight"] = weight
        hit = None if ignore < 0 else ignore
        # one ignored entry at least, unless the target is a single entry (then keep it a class)
        target = _classes(target_shape, 4, hit if target_shape else None)
        cases.append(LossCase("NLLLoss", kwargs, _log_probs(shape), target, str(shape)))
        for smoothing in (0.0, 0.25):
            cases.append(
                LossCase(
                    "CrossEntropyLoss",
                    kwargs | {"label_smoothing": smoothing},
                    _normal(shape),
                    target,
                    f"{shape}-index",
                )
            )
        if ignore < 0:
            for smoothing in (0.0, 0.25):
                cases.append(
                    LossCase(
                        "CrossEntropyLoss",
                        kwargs | {"label_smoothing": smoothing, "ignore_index": -1},
                        _normal(shape),
                        _probs(shape),
                        f"{shape}-probabilities",
                    )
                )
    return cases


CASES = _elementwise_cases() + _binary_cases() + _class_cases()


def _pair(case: LossCase) -> tuple[nn.Module, mn.Loss]:
    theirs = getattr(nn, case.name)(**case.kwargs)
    ours = getattr(mn, case.name)(**case.kwargs)
    assert isinstance(ours, mn.Loss)
    return theirs, ours


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_forward_and_input_gradient_match_torch(case: LossCase, generator: torch.Generator) -> None:
    theirs, ours = _pair(case)
    input, target = case.input(generator), case.target(generator)
    leaf = input.clone().requires_grad_(True)
    expected = theirs(leaf, target)
    output = ours(input, target)
    torch.testing.assert_close(output, expected.detach(), rtol=1e-10, atol=1e-12, equal_nan=True)
    grad_output = torch.randn(expected.shape, generator=generator, dtype=torch.float64)
    (expected_grad,) = torch.autograd.grad(expected, leaf, grad_output)
    torch.testing.assert_close(ours.backward(grad_output), expected_grad, rtol=1e-10, atol=1e-12)
    if expected.dim() == 0:
        torch.testing.assert_close(ours.backward(), expected_grad / grad_output, rtol=1e-10, atol=1e-12)


FINITE_DIFFERENCE_CASES = [
    LossCase(
        "CrossEntropyLoss",
        {"weight": WEIGHT4, "ignore_index": 2, "reduction": "none", "label_smoothing": 0.1},
        _normal((2, 4, 3)),
        _classes((2, 3), 4, 2),
    ),
    LossCase(
        "CrossEntropyLoss", {"weight": WEIGHT4, "label_smoothing": 0.3}, _normal((3, 4)), _probs((3, 4))
    ),
    LossCase(
        "NLLLoss", {"weight": WEIGHT4, "reduction": "sum"}, _log_probs((2, 4, 2, 2)), _classes((2, 2, 2), 4)
    ),
    LossCase(
        "BCEWithLogitsLoss",
        {"weight": torch.rand(4, dtype=torch.float64), "pos_weight": WEIGHT4},
        _normal((3, 4)),
        _uniform((3, 4)),
    ),
    LossCase("BCELoss", {"weight": WEIGHT4, "reduction": "none"}, _uniform((3, 4)), _uniform((3, 4))),
    LossCase("HuberLoss", {"reduction": "none", "delta": 0.5}, _normal((3, 4)), _normal((3, 4))),
]


@pytest.mark.parametrize("case", FINITE_DIFFERENCE_CASES, ids=[case.id for case in FINITE_DIFFERENCE_CASES])
def test_backward_matches_finite_differences(case: LossCase, generator: torch.Generator) -> None:
    _, ours = _pair(case)
    input, target = case.input(generator), case.target(generator)
    assert mn.gradcheck(ours, input, target, generator=generator)


def test_positional_arguments_follow_torch() -> None:
    theirs = nn.CrossEntropyLoss(WEIGHT4, None, 1, None, "sum", 0.2)
    ours = mn.CrossEntropyLoss(WEIGHT4, None, 1, None, "sum", 0.2)
    g = torch.Generator().manual_seed(0)
    input, target = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 1, 0])
    torch.testing.assert_close(ours(input, target), theirs(input, target))
    assert (ours.ignore_index, ours.reduction, ours.label_smoothing) == (1, "sum", 0.2)
    assert mn.NLLLoss(WEIGHT4, None, 3, None, "none").ignore_index == 3
    assert mn.BCEWithLogitsLoss(None, None, None, "sum", WEIGHT4).pos_weight is not None
    assert mn.HuberLoss("sum", 2.0).delta == 2.0
    assert mn.MSELoss(None, None, "none").reduction == "none"


STATE_CASES: list[tuple[str, dict[str, object]]] = [
    ("CrossEntropyLoss", {}),
    ("CrossEntropyLoss", {"weight": WEIGHT4}),
    ("NLLLoss", {"weight": WEIGHT4}),
    ("BCELoss", {"weight": WEIGHT4}),
    ("BCEWithLogitsLoss", {"pos_weight": WEIGHT4}),
    ("BCEWithLogitsLoss", {"weight": WEIGHT4, "pos_weight": WEIGHT4 * 2}),
    ("MSELoss", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), STATE_CASES, ids=[f"{n}-{sorted(k)}" for n, k in STATE_CASES])
def test_state_dict_keys_and_values_equal_torch(name: str, kwargs: dict[str, object]) -> None:
    theirs, ours = getattr(nn, name)(**kwargs), getattr(mn, name)(**kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], value)
    ours.load_state_dict(theirs.state_dict())


def test_weight_buffers_move_with_to() -> None:
    loss = mn.BCEWithLogitsLoss(weight=torch.ones(3), pos_weight=torch.ones(3)).to(dtype=torch.float64)
    assert [(k, v.dtype) for k, v in loss.state_dict().items()] == [
        ("weight", torch.float64),
        ("pos_weight", torch.float64),
    ]


def test_weight_is_a_copy_of_the_argument() -> None:
    weight = torch.ones(3)
    loss = mn.CrossEntropyLoss(weight)
    weight.fill_(5.0)
    assert torch.equal(loss.state_dict()["weight"], torch.ones(3))


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss"])
@pytest.mark.parametrize("weight", [None, WEIGHT4], ids=["no-weight", "weight"])
def test_all_ignored_gives_nan_mean_and_zero_gradient_as_torch(name: str, weight: Tensor | None) -> None:
    input, target = torch.randn(3, 4, dtype=torch.float64), torch.full((3,), 2)
    leaf = input.clone().requires_grad_(True)
    expected = getattr(nn, name)(weight, ignore_index=2)(leaf, target)
    ours = getattr(mn, name)(weight, ignore_index=2)
    assert torch.isnan(ours(input, target)) and torch.isnan(expected)
    assert torch.equal(ours.backward(), torch.autograd.grad(expected, leaf)[0])
    assert torch.equal(ours.backward(), torch.zeros(3, 4, dtype=torch.float64))


def test_ignored_positions_with_infinite_log_probability_give_zero() -> None:
    input = torch.tensor([[-float("inf"), 0.0], [0.0, -1.0]], dtype=torch.float64)
    loss = mn.NLLLoss(ignore_index=1, reduction="none")
    assert loss(input, torch.tensor([1, 0])).tolist() == [0.0, -0.0]


def test_empty_batch_gives_nan_mean_as_torch() -> None:
    for name in ("CrossEntropyLoss", "NLLLoss", "MSELoss", "BCELoss"):
        input = torch.zeros(0, 3, dtype=torch.float64)
        target = torch.zeros(0, dtype=torch.int64) if "LL" in name or "Entropy" in name else input.clone()
        ours = getattr(mn, name)()
        assert torch.isnan(ours(input, target)), name
        assert ours.backward().shape == (0, 3), name


def test_bce_clamps_each_log_at_minus_100_as_torch() -> None:
    input = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-60], dtype=torch.float64)
    target = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    leaf = input.clone().requires_grad_(True)
    expected = nn.BCELoss(reduction="none")(leaf, target)
    loss = mn.BCELoss(reduction="none")
    assert loss(input, target).tolist() == [0.0, 0.0, 100.0, 100.0, 100.0]
    torch.testing.assert_close(loss(input, target), expected.detach(), rtol=0, atol=0)
    v = torch.ones(5, dtype=torch.float64)
    torch.testing.assert_close(
        loss.backward(v), torch.autograd.grad(expected, leaf, v)[0], rtol=1e-15, atol=0
    )


def test_class_index_check_skips_ignore_index() -> None:
    loss = mn.CrossEntropyLoss(ignore_index=-7)
    loss(torch.zeros(3, 3), torch.tensor([0, -7, 2]))  # -7 is ignored, not out of range
    message = (
        "CrossEntropyLoss(reduction='mean', ignore_index=-7): expected class indices in [0, 3), "
        "got values in [0, 3]"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        loss(torch.zeros(3, 3), torch.tensor([0, -7, 3]))


def test_fast_path_agrees_with_masked_path() -> None:
    g = torch.Generator().manual_seed(0)
    input, target = (
        torch.randn(8, 5, generator=g, dtype=torch.float64),
        torch.randint(0, 4, (8,), generator=g),
    )
    fast, masked = mn.CrossEntropyLoss(), mn.CrossEntropyLoss(ignore_index=4)  # 4 never occurs
    torch.testing.assert_close(fast(input, target), masked(input, target), rtol=1e-15, atol=0)
    torch.testing.assert_close(fast.backward(), masked.backward(), rtol=1e-15, atol=0)


LEGACY = (
    "expected {}=None, got {}; torch.nn deprecated size_average and reduce in favour of reduction "
    "('mean', 'sum' or 'none'), the only form taken here"
)

CONSTRUCTION_ERRORS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: mn.MSELoss(size_average=True), ValueError, "MSELoss: " + LEGACY.format("size_average", "True")),
    (lambda: mn.L1Loss(reduce=False), ValueError, "L1Loss: " + LEGACY.format("reduce", "False")),
    (
        lambda: mn.CrossEntropyLoss(None, False),
        ValueError,
        "CrossEntropyLoss: " + LEGACY.format("size_average", "False"),
    ),
    (lambda: mn.NLLLoss(reduce=True), ValueError, "NLLLoss: " + LEGACY.format("reduce", "True")),
    (lambda: mn.BCELoss(reduce=True), ValueError, "BCELoss: " + LEGACY.format("reduce", "True")),
    (
        lambda: mn.BCEWithLogitsLoss(size_average=True),
        ValueError,
        "BCEWithLogitsLoss: " + LEGACY.format("size_average", "True"),
    ),
    (
        lambda: mn.NLLLoss(reduction="avg"),  # type: ignore[arg-type]  # the bad value is the point
        ValueError,
        "NLLLoss: expected reduction 'mean', 'sum' or 'none', got 'avg'",
    ),
    (
        lambda: mn.CrossEntropyLoss([1.0, 2.0]),  # type: ignore[arg-type]  # the bad value is the point
        TypeError,
        "CrossEntropyLoss: expected weight to be a torch.Tensor or None, got list",
    ),
    (
        lambda: mn.CrossEntropyLoss(torch.ones(3, dtype=torch.int64)),
        TypeError,
        "CrossEntropyLoss: expected a floating-point weight, got torch.int64",
    ),
    (
        lambda: mn.NLLLoss(torch.ones(2, 3)),
        ValueError,
        "NLLLoss: expected weight of shape (C,), one per class, got (2, 3)",
    ),
    (
        lambda: mn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, float("nan")])),
        ValueError,
        "BCEWithLogitsLoss: expected a finite pos_weight, got a pos_weight with NaN or infinite entries",
    ),
    (
        lambda: mn.CrossEntropyLoss(ignore_index=1.0),  # type: ignore[arg-type]  # the bad value is the point
        TypeError,
        "CrossEntropyLoss: expected ignore_index to be an int, got float",
    ),
    (
        lambda: mn.CrossEntropyLoss(label_smoothing=float("nan")),
        ValueError,
        "CrossEntropyLoss: expected label_smoothing in [0, 1], got nan",
    ),
]


@pytest.mark.parametrize(("build", "error", "message"), CONSTRUCTION_ERRORS)
def test_construction_errors(build: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message) + "$"):
        build()


def _call(loss: mn.Loss, input: Tensor, target: Tensor) -> Callable[[], object]:
    return lambda: loss(input, target)


CE_W = "CrossEntropyLoss(reduction='mean')"
FORWARD_ERRORS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (
        _call(mn.CrossEntropyLoss(torch.ones(3)), torch.zeros(2, 4), torch.tensor([0, 1])),
        ValueError,
        f"{CE_W}: expected weight of shape (4,), one per class of the input, got (3,)",
    ),
    (
        _call(
            mn.CrossEntropyLoss(torch.ones(4)), torch.zeros(2, 4, dtype=torch.float64), torch.tensor([0, 1])
        ),
        TypeError,
        f"{CE_W}: expected input of the weight's dtype and device (torch.float32, cpu), "
        "got torch.float64 on cpu",
    ),
    (
        _call(mn.CrossEntropyLoss(ignore_index=0), torch.zeros(2, 3), torch.full((2, 3), 1 / 3)),
        ValueError,
        "CrossEntropyLoss(reduction='mean', ignore_index=0): expected ignore_index < 0 with probability "
        "targets (ignore_index applies to class-index targets only), got ignore_index=0",
    ),
    (
        _call(mn.CrossEntropyLoss(), torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.int64)),
        ValueError,
        f"{CE_W}: expected int64 class-index target of shape (2, 5), got torch.int64 of shape (2, 4)",
    ),
    (
        _call(mn.CrossEntropyLoss(), torch.zeros(3), torch.tensor([1])),
        ValueError,
        f"{CE_W}: expected int64 class-index target of shape (), got torch.int64 of shape (1,)",
    ),
    (
        _call(mn.NLLLoss(), torch.zeros(2, 3), torch.zeros(2, 3)),
        TypeError,
        "NLLLoss(reduction='mean'): expected an int64 class-index target, got torch.float32",
    ),
    (
        _call(mn.NLLLoss(), torch.zeros(2, 3), torch.tensor([0, 5])),
        ValueError,
        "NLLLoss(reduction='mean'): expected class indices in [0, 3), got values in [0, 5]",
    ),
    (
        _call(mn.BCELoss(), torch.tensor([0.5, 1.5]), torch.tensor([0.0, 1.0])),
        ValueError,
        "BCELoss(reduction='mean'): expected input values in [0, 1], got values in [0.5, 1.5]",
    ),
    (
        _call(mn.BCELoss(), torch.tensor([0.5, float("nan")]), torch.tensor([0.0, 1.0])),
        ValueError,
        "BCELoss(reduction='mean'): expected input values in [0, 1], got values in [nan, nan]",
    ),
    (
        _call(mn.BCELoss(), torch.tensor([0.5, 0.5]), torch.tensor([-0.5, 1.0])),
        ValueError,
        "BCELoss(reduction='mean'): expected target values in [0, 1], got values in [-0.5, 1.0]",
    ),
    (
        _call(mn.BCELoss(torch.ones(2, 3, 4)), torch.full((3, 4), 0.5), torch.full((3, 4), 0.5)),
        ValueError,
        "BCELoss(reduction='mean'): expected weight broadcastable to the input's shape (3, 4), got (2, 3, 4)",
    ),
    (
        _call(mn.BCEWithLogitsLoss(pos_weight=torch.ones(3)), torch.zeros(3, 4), torch.zeros(3, 4)),
        ValueError,
        "BCEWithLogitsLoss(reduction='mean'): expected pos_weight broadcastable to the input's shape "
        "(3, 4), got (3,)",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), FORWARD_ERRORS)
def test_forward_errors(call: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message) + "$"):
        call()


@pytest.mark.parametrize("name", ["MSELoss", "CrossEntropyLoss", "BCELoss"])
def test_backward_of_a_tensor_loss_needs_grad_output(name: str) -> None:
    loss = getattr(mn, name)(reduction="none")
    target = torch.tensor([0, 1]) if name == "CrossEntropyLoss" else torch.full((2, 2), 0.5)
    loss(torch.full((2, 2), 0.5), target)
    shape = (2,) if name == "CrossEntropyLoss" else (2, 2)
    message = (
        f"{loss!r}: expected grad_output of shape {shape} (d L / d output; only a 0-dim loss may "
        "leave it out), got None"
    )
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        loss.backward()
    with pytest.raises(
        ValueError, match=re.escape(f"{loss!r}: expected grad_output of shape {shape}, got (3,)")
    ):
        loss.backward(torch.ones(3))


def test_reduced_loss_refuses_a_grad_output_of_another_shape() -> None:
    loss = mn.CrossEntropyLoss()
    loss(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=re.escape(f"{loss!r}: expected grad_output of shape (), got (2,)")):
        loss.backward(torch.ones(2))


def test_zero_dim_none_output_needs_no_grad_output() -> None:
    loss = mn.CrossEntropyLoss(reduction="none")
    out = loss(torch.tensor([0.0, 0.0]), torch.tensor(1))
    assert out.shape == () and loss.backward().tolist() == [0.5, -0.5]


def test_failed_forward_leaves_nothing_for_backward() -> None:
    loss = mn.CrossEntropyLoss()
    loss(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=re.escape("got values in [0, 7]")):
        loss(torch.zeros(2, 3), torch.tensor([0, 7]))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        loss.backward()
