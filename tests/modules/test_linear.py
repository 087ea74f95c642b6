"""Linear: initialisation and options (gradients are in test_gradients.py)."""

import math

import pytest
import torch

import minitorch_nn as mn


def test_init_matches_torch_nn_linear() -> None:
    torch.manual_seed(3)
    ours = mn.Linear(784, 50, dtype=torch.float32)
    torch.manual_seed(3)
    theirs = torch.nn.Linear(784, 50, dtype=torch.float32)
    torch.testing.assert_close(ours.weight.value, theirs.weight.detach())
    assert ours.bias is not None
    torch.testing.assert_close(ours.bias.value, theirs.bias.detach())


def test_init_bound_is_one_over_sqrt_fan_in(generator: torch.Generator) -> None:
    layer = mn.Linear(400, 300, generator=generator)
    assert layer.bias is not None
    bound = 1 / math.sqrt(400)
    for value in (layer.weight.value, layer.bias.value):
        assert value.abs().max() <= bound
        assert value.abs().max() > 0.95 * bound  # actually fills the range


def test_generator_makes_init_reproducible() -> None:
    a = mn.Linear(5, 3, generator=torch.Generator().manual_seed(7))
    b = mn.Linear(5, 3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.weight.value, b.weight.value)


def test_shapes_follow_torch_convention() -> None:
    layer = mn.Linear(5, 3)
    assert layer.weight.shape == (3, 5)
    assert layer.bias is not None and layer.bias.shape == (3,)


def test_no_bias_has_only_weight() -> None:
    layer = mn.Linear(5, 3, bias=False)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_dtype_option() -> None:
    layer = mn.Linear(5, 3, dtype=torch.float32)
    assert layer.weight.dtype == torch.float32 and layer.weight.grad.dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(generator: torch.Generator) -> None:
    cpu = mn.Sequential(mn.Linear(5, 3, generator=generator), mn.Tanh())
    gpu = mn.Sequential(mn.Linear(5, 3), mn.Tanh()).to(device="cuda")
    gpu.load_state_dict(cpu.state_dict())
    x, v = torch.randn(4, 5, generator=generator), torch.randn(4, 3, generator=generator)
    torch.testing.assert_close(gpu(x.cuda()).cpu(), cpu(x))
    torch.testing.assert_close(gpu.backward(v.cuda()).cpu(), cpu.backward(v))
    for a, b in zip(gpu.parameters(), cpu.parameters(), strict=True):
        assert a.grad.device.type == "cuda"
        torch.testing.assert_close(a.grad.cpu(), b.grad)


def test_weight_gradient_products_reuse_one_scratch_tensor(generator: torch.Generator) -> None:
    layer = mn.Linear(5, 3, generator=generator)
    x, v = torch.randn(4, 5, generator=generator), torch.randn(4, 3, generator=generator)
    layer(x)
    layer.accumulate_grad(v)
    first = [t.data_ptr() for t in layer._scratches.values()]
    layer(torch.randn(4, 5, generator=generator))
    layer.accumulate_grad(v)
    assert [t.data_ptr() for t in layer._scratches.values()] == first
    layer.to(dtype=torch.float32)
    layer(x.float())
    layer.accumulate_grad(v.float())  # a new scratch of the new dtype
    assert layer._scratches["weight"].dtype == torch.float32
