"""Error messages: they name the module and give the expected and the actual value."""

import re
from collections.abc import Callable

import pytest
import torch

import minitorch_nn as mn
from tests.cases import CASES, ModuleCase


def test_linear_wrong_feature_count() -> None:
    message = "Linear(in_features=784, out_features=50): expected input of shape (*, 784), got (32, 785)"
    with pytest.raises(ValueError, match=re.escape(message)):
        mn.Linear(784, 50)(torch.zeros(32, 785))


def test_linear_wrong_rank() -> None:
    message = "Linear(in_features=3, out_features=2): expected input of shape (*, 3), got ()"
    with pytest.raises(ValueError, match=re.escape(message)):
        mn.Linear(3, 2)(torch.zeros(()))


def test_linear_integer_input() -> None:
    message = "Linear(in_features=3, out_features=2): expected a floating-point input, got torch.int64"
    with pytest.raises(TypeError, match=re.escape(message)):
        mn.Linear(3, 2)(torch.zeros(4, 3, dtype=torch.int64))


def test_linear_dtype_mismatch() -> None:
    message = (
        "Linear(in_features=3, out_features=2): expected input of dtype torch.float64, got torch.float32"
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        mn.Linear(3, 2)(torch.zeros(4, 3, dtype=torch.float32))


def test_linear_not_a_tensor() -> None:
    message = "Linear(in_features=3, out_features=2): expected input to be a torch.Tensor, got list"
    with pytest.raises(TypeError, match=re.escape(message)):
        mn.Linear(3, 2)([[1.0, 2.0, 3.0]])  # type: ignore[arg-type]  # the wrong type is the point


def test_linear_wrong_grad_output_shape() -> None:
    layer = mn.Linear(3, 2)
    layer(torch.zeros(4, 3))
    message = "Linear(in_features=3, out_features=2): expected grad_output of shape (4, 2), got (4, 3)"
    with pytest.raises(ValueError, match=re.escape(message)):
        layer.backward(torch.zeros(4, 3))


def test_tanh_wrong_grad_output_shape() -> None:
    tanh = mn.Tanh()
    tanh(torch.zeros(4, 3))
    with pytest.raises(
        ValueError, match=re.escape("Tanh(): expected grad_output of shape (4, 3), got (3, 4)")
    ):
        tanh.backward(torch.zeros(3, 4))


@pytest.mark.parametrize("module", [mn.Linear(3, 2), mn.Tanh(), mn.Sequential(mn.Linear(3, 2))], ids=repr)
def test_backward_before_forward(module: mn.Module) -> None:
    with pytest.raises(RuntimeError, match=r"backward called before forward"):
        module.backward(torch.zeros(1, 2))


def test_loss_backward_before_forward() -> None:
    with pytest.raises(
        RuntimeError, match=re.escape("MSELoss(reduction='mean'): backward called before forward")
    ):
        mn.MSELoss().backward()


def test_mse_target_shape_mismatch() -> None:
    message = "MSELoss(reduction='sum'): expected target of shape (4, 10) (the input's), got (4,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        mn.MSELoss(reduction="sum")(torch.zeros(4, 10), torch.zeros(4))


def test_mse_integer_target() -> None:
    message = "MSELoss(reduction='mean'): expected a floating-point target, got torch.int64"
    with pytest.raises(TypeError, match=re.escape(message)):
        mn.MSELoss()(torch.zeros(4), torch.zeros(4, dtype=torch.int64))


def test_mse_bad_reduction() -> None:
    with pytest.raises(
        ValueError, match=re.escape("MSELoss: expected reduction 'mean', 'sum' or 'none', got 'max'")
    ):
        mn.MSELoss(reduction="max")  # type: ignore[arg-type]  # the bad value is the point


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 3), ValueError, "Linear: expected in_features > 0, got 0"),
        ((3, -1), ValueError, "Linear: expected out_features > 0, got -1"),
        ((3.0, 2), TypeError, "Linear: expected in_features to be an int, got float"),
        ((True, 2), TypeError, "Linear: expected in_features to be an int, got bool"),
    ],
)
def test_linear_bad_constructor_arguments(
    args: tuple[object, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        mn.Linear(*args)  # type: ignore[arg-type]  # bad values are the point


def test_to_rejects_integer_dtype() -> None:
    with pytest.raises(
        TypeError, match=re.escape("Parameter: expected a floating-point dtype, got torch.int32")
    ):
        mn.Linear(2, 2).to(dtype=torch.int32)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_module_refuses_backward_before_forward(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, _, _ = case.build(generator)
    # A container's message names the child that found the missing cache; a branching container,
    # whose repr spans lines, names itself as "Residual" or "Concat(dim=1)".
    last = module[-1] if isinstance(module, mn.Sequential) else module  # a Sequential's last child
    expected = repr(last)
    if isinstance(last, mn.Residual | mn.Concat):
        expected = type(last).__name__ + (f"(dim={last.dim})" if isinstance(last, mn.Concat) else "")
    with pytest.raises(RuntimeError, match=re.escape(f"{expected}: backward called before forward")):
        module.backward() if isinstance(module, mn.Loss) else module.backward(input)


@pytest.mark.parametrize(
    ("module", "input", "error", "message"),
    [
        (
            mn.Conv2d(3, 4, 3),
            torch.zeros(2, 1, 8, 8),
            ValueError,
            "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1)): "
            "expected input of shape (N, 3, H, W) or (3, H, W), got (2, 1, 8, 8)",
        ),
        (
            mn.Conv2d(1, 1, 5),
            torch.zeros(1, 1, 3, 3),
            ValueError,
            "expected padded input of at least (5, 5), got (3, 3)",
        ),
        (
            mn.MaxPool2d(2),
            torch.zeros(4, 4),
            ValueError,
            "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False): "
            "expected input of shape (N, C, H, W) or (C, H, W) with C >= 1 and H, W >= (2, 2), got (4, 4)",
        ),
        (mn.AvgPool2d(3), torch.zeros(1, 1, 2, 5), ValueError, "and H, W >= (3, 3), got (1, 1, 2, 5)"),
        (
            mn.BatchNorm1d(4),
            torch.zeros(5, 3),
            ValueError,
            "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True): "
            "expected input of shape (N, 4) or (N, 4, L), got (5, 3)",
        ),
        (
            mn.Softmax(dim=2),
            torch.zeros(3, 4),
            ValueError,
            "Softmax(dim=2): expected input with dimension 2, got shape (3, 4)",
        ),
        (
            mn.Flatten(start_dim=3),
            torch.zeros(3, 4),
            ValueError,
            "Flatten(start_dim=3, end_dim=-1): cannot flatten",
        ),
        (
            mn.ReLU(),
            torch.zeros(3, dtype=torch.int32),
            TypeError,
            "ReLU(): expected a floating-point input, got torch.int32",
        ),
    ],
    ids=[
        "conv-channels",
        "conv-too-small",
        "maxpool-rank",
        "avgpool-too-small",
        "batchnorm-features",
        "softmax-dim",
        "flatten-dim",
        "relu-integer",
    ],
)
def test_layer_input_errors(
    module: mn.Module, input: torch.Tensor, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        module(input)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            torch.tensor([0, 3]),
            "CrossEntropyLoss(reduction='mean'): expected class indices in [0, 3), got values in [0, 3]",
        ),
        (
            torch.tensor([0, 1, 2]),
            "expected int64 class-index target of shape (2,), got torch.int64 of shape (3,)",
        ),
        (
            torch.tensor([0, 1], dtype=torch.int32),
            "expected int64 class-index target of shape (2,), got torch.int32",
        ),
        (torch.zeros(2, 4), "expected probability target of shape (2, 3), got (2, 4)"),
    ],
    ids=["index-range", "index-shape", "index-dtype", "probability-shape"],
)
def test_cross_entropy_target_errors(target: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        mn.CrossEntropyLoss()(torch.zeros(2, 3), target)


def test_cross_entropy_needs_a_class_dimension() -> None:
    message = "expected input of shape (C,), (N, C) or (N, C, d1, ...), got ()"
    with pytest.raises(ValueError, match=re.escape(message)):
        mn.CrossEntropyLoss()(torch.zeros(()), torch.zeros((), dtype=torch.int64))


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: mn.Dropout(1.5), ValueError, "Dropout: expected p in [0, 1], got 1.5"),
        (lambda: mn.Softplus(beta=0.0), ValueError, "Softplus: expected beta > 0, got 0.0"),
        (
            lambda: mn.GELU("fast"),  # type: ignore[arg-type]  # the bad value is the point
            ValueError,
            "GELU: expected approximate 'none' or 'tanh', got 'fast'",
        ),
        (lambda: mn.HuberLoss(delta=0.0), ValueError, "HuberLoss: expected delta > 0, got 0.0"),
        (
            lambda: mn.L1Loss(reduction="max"),  # type: ignore[arg-type]  # the bad value is the point
            ValueError,
            "L1Loss: expected reduction 'mean', 'sum' or 'none', got 'max'",
        ),
        (
            lambda: mn.CrossEntropyLoss(label_smoothing=1.5),
            ValueError,
            "CrossEntropyLoss: expected label_smoothing in [0, 1], got 1.5",
        ),
        (lambda: mn.BatchNorm1d(0), ValueError, "BatchNorm1d: expected num_features > 0, got 0"),
        (
            lambda: mn.BatchNorm1d(3, momentum=2.0),
            ValueError,
            "BatchNorm1d: expected momentum in [0, 1] or None, got 2.0",
        ),
        (lambda: mn.Conv2d(1, 1, 0), ValueError, "Conv2d: expected kernel_size >= 1, got 0"),
        (lambda: mn.Conv2d(1, 1, 3, padding=-1), ValueError, "Conv2d: expected padding >= 0, got -1"),
        (
            lambda: mn.Conv2d(1, 1, (3, 3, 3)),  # type: ignore[arg-type]  # the bad value is the point
            TypeError,
            "Conv2d: expected kernel_size to be an int or a pair of ints, got (3, 3, 3)",
        ),
        (lambda: mn.MaxPool2d(2, stride=0), ValueError, "MaxPool2d: expected stride >= 1, got 0"),
        (
            lambda: mn.Softmax(dim=1.0),  # type: ignore[arg-type]  # the bad value is the point
            TypeError,
            "Softmax: expected dim to be an int or None, got float",
        ),
    ],
    ids=[
        "dropout-p",
        "softplus-beta",
        "gelu-approximate",
        "huber-delta",
        "l1-reduction",
        "ce-smoothing",
        "bn-features",
        "bn-momentum",
        "conv-kernel",
        "conv-padding",
        "conv-kernel-type",
        "pool-stride",
        "softmax-dim-type",
    ],
)
def test_constructor_errors(build: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        build()
