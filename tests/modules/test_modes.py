"""train() and eval(): Dropout and BatchNorm1d behave as documented, checked against torch.nn."""

import pytest
import torch

import minitorch_nn as mn
from tests.cases import CASES, ModuleCase
from tests.test_gradients import _forward as forward


def test_dropout_eval_is_the_identity() -> None:
    dropout = mn.Dropout(0.5).eval()
    x = torch.randn(4, 5)
    assert dropout(x) is x
    v = torch.randn(4, 5)
    assert dropout.backward(v) is v


def test_dropout_draws_a_fresh_mask_each_training_forward() -> None:
    dropout = mn.Dropout(0.5, generator=torch.Generator().manual_seed(0))
    x = torch.ones(1000)
    assert not torch.equal(dropout(x), dropout(x))


def test_dropout_backward_uses_the_forward_mask() -> None:
    dropout = mn.Dropout(0.4, generator=torch.Generator().manual_seed(0))
    x = torch.ones(200)
    mask = dropout(x)  # x is ones, so the output is the scaled mask
    assert torch.equal(dropout.backward(torch.full((200,), 3.0)), 3.0 * mask)


def test_dropout_rate_and_scale() -> None:
    output = mn.Dropout(0.3, generator=torch.Generator().manual_seed(0))(torch.ones(200_000))
    assert torch.isclose(output[output != 0], torch.tensor(1 / 0.7)).all()
    assert (output == 0).double().mean().item() == pytest.approx(0.3, abs=0.005)
    assert output.mean().item() == pytest.approx(1.0, abs=0.01)  # expectation is preserved


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_extremes(p: float) -> None:
    output = mn.Dropout(p)(torch.ones(10))
    assert output.tolist() == ([1.0] * 10 if p == 0.0 else [0.0] * 10)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(8, 3), (8, 3, 5)])
def test_batchnorm_matches_torch_over_train_and_eval(momentum: float | None, shape: tuple[int, ...]) -> None:
    ours = mn.BatchNorm1d(3, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(3, momentum=momentum, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    for _ in range(4):
        x = torch.randn(shape, generator=g) * 3 + 1
        torch.testing.assert_close(ours(x), theirs(x).detach(), rtol=1e-10, atol=1e-12)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(ours.state_dict()[name], getattr(theirs, name), rtol=1e-12, atol=0)
    ours.eval()
    theirs.eval()
    x = torch.randn(shape, generator=g)
    torch.testing.assert_close(ours(x), theirs(x).detach(), rtol=1e-10, atol=1e-12)


def test_batchnorm_eval_leaves_running_statistics() -> None:
    bn = mn.BatchNorm1d(3).eval()
    bn(torch.randn(5, 3))
    assert bn.running_mean is not None and bn.num_batches_tracked is not None
    assert bn.running_mean.value.tolist() == [0.0] * 3
    assert int(bn.num_batches_tracked.value) == 0


def test_batchnorm_buffers_are_saved_and_moved() -> None:
    bn = mn.BatchNorm1d(2)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    bn.to(dtype=torch.float32)
    assert bn.running_var is not None and bn.num_batches_tracked is not None
    assert bn.running_var.value.dtype == torch.float32
    assert bn.num_batches_tracked.value.dtype == torch.int64


def test_batchnorm_needs_two_values_per_channel_in_training() -> None:
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel in training, got 1"):
        mn.BatchNorm1d(3)(torch.zeros(1, 3))
    assert mn.BatchNorm1d(3).eval()(torch.zeros(1, 3)).shape == (1, 3)


def test_train_and_eval_reach_nested_children() -> None:
    model = mn.Sequential(mn.Linear(3, 3), mn.Sequential(mn.Dropout(0.5), mn.BatchNorm1d(3)))
    model.eval()
    assert not any(m.training for m in [model, *model.children(), *model[1].children()])


MODE_FREE = [case for case in CASES if not case.mode_dependent]


@pytest.mark.parametrize("case", MODE_FREE, ids=[case.name for case in MODE_FREE])
def test_eval_matches_train_unless_documented(case: ModuleCase, generator: torch.Generator) -> None:
    module, input, target, _ = case.build(generator)
    trained = forward(module.train(), input, target)
    evaluated = forward(module.eval(), input, target)
    assert torch.equal(trained, evaluated)
