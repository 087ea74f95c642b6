"""Error messages: they name the module and give the expected and the actual value."""

import re

import pytest
import torch

import minitorch_nn as mn


def test_linear_wrong_feature_count() -> None:
    message = "Linear(in_features=784, out_features=50): expected input of shape (N, 784), got (32, 785)"
    with pytest.raises(ValueError, match=re.escape(message)):
        mn.Linear(784, 50)(torch.zeros(32, 785))


def test_linear_wrong_rank() -> None:
    message = "Linear(in_features=3, out_features=2): expected input of shape (N, 3), got (3,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        mn.Linear(3, 2)(torch.zeros(3))


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
        ValueError, match=re.escape("MSELoss: expected reduction 'mean' or 'sum', got 'none'")
    ):
        mn.MSELoss(reduction="none")  # type: ignore[arg-type]  # the bad value is the point


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
