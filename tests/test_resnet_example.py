"""examples/resnet_fashion_mnist.py: its network against the same network in torch.nn, its parts, a tiny run.

The twin test is the issue's: the same network written in torch.nn, started
from the same weights and fed the same batches in float64, gives the same
losses for 20 steps to 1e-9 relative (with the example's optimizer settings:
Nesterov momentum, weight decay on the weights only, one-cycle learning rates,
label smoothing, BatchNorm2d in training mode).
"""

import itertools
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from minitorch_nn.interop import to_torch
from tests.examples import load_example
from tests.test_examples import tiny_data  # noqa: F401 - the fixture

resnet_example = load_example("resnet_fashion_mnist")


def test_same_losses_as_the_torch_nn_twin_for_20_steps(generator: torch.Generator) -> None:
    model = resnet_example.resnet((4, 6, 8), generator=generator).to(dtype=torch.float64)
    twin = to_torch(model)
    decay_names = {
        name
        for name, p in model.named_parameters()
        if any(p is q for q in resnet_example.parameter_groups(model)[0])
    }
    # Decayed: the 9 convolution weights and the head's weight, named from the torch.nn side.
    kinds = (torch.nn.Conv2d, torch.nn.Linear)
    assert decay_names == {f"{n}.weight" for n, m in twin.named_modules() if isinstance(m, kinds)}
    assert len(decay_names) == 10
    named = dict(twin.named_parameters())
    settings = {"lr": 0.1, "momentum": 0.9, "nesterov": True}
    torch_optimizer = torch.optim.SGD(
        [
            {"params": [named[n] for n in decay_names], "weight_decay": 5e-4},
            {"params": [p for n, p in named.items() if n not in decay_names], "weight_decay": 0.0},
        ],
        **settings,  # type: ignore[arg-type]
    )
    initial = {name: p.value.clone() for name, p in model.named_parameters()}
    trainer = resnet_example.trainer(model, peak_lr=0.1, total_steps=20)
    images = torch.randn(20, 8, 1, 28, 28, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, 10, (20, 8), generator=generator)
    ours, theirs = [], []
    for step in range(20):
        x = resnet_example.channels_last(resnet_example.augment(images[step], generator))
        ours.append(trainer.step(x, labels[step]))
        for group in torch_optimizer.param_groups:
            group["lr"] = resnet_example.one_cycle(step, 20, 0.1)
        torch_optimizer.zero_grad()
        loss = F.cross_entropy(twin(x), labels[step], label_smoothing=0.1)
        loss.backward()  # type: ignore[no-untyped-call]
        torch_optimizer.step()
        theirs.append(loss.item())
    torch.testing.assert_close(torch.tensor(ours), torch.tensor(theirs), rtol=1e-9, atol=0.0)
    # The weights moved: the comparison is not between two frozen networks.
    assert all(not torch.allclose(p.value, initial[n]) for n, p in model.named_parameters())
    for name, value in model.state_dict().items():  # weights and running statistics after 20 steps
        torch.testing.assert_close(value, twin.state_dict()[name], rtol=1e-8, atol=1e-10, msg=name)


def test_the_network_has_the_documented_shape() -> None:
    model = resnet_example.resnet()
    stem, blocks, head = model[:3], [model[i] for i in range(3, 6)], model[6:]
    assert [type(m).__name__ for m in stem] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert [type(m).__name__ for m in head] == ["AdaptiveAvgPool2d", "Flatten", "Linear"]
    shortcuts = [block[0].shortcut for block in blocks]
    assert shortcuts[0] is None and all(s is not None for s in shortcuts[1:])
    out = model.eval()(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, 10)


def test_augment_crops_and_flips_as_written_out() -> None:
    g = torch.Generator().manual_seed(3)
    images = torch.arange(4 * 2 * 28 * 28, dtype=torch.float64).reshape(4, 2, 28, 28)
    out = resnet_example.augment(images, g)
    # The same draws, replayed: offsets dy, dx in [0, 4], then the flips.
    g = torch.Generator().manual_seed(3)
    dy, dx = torch.randint(0, 5, (4,), generator=g), torch.randint(0, 5, (4,), generator=g)
    flip = torch.rand(4, generator=g) < 0.5
    for n in range(4):
        padded = torch.zeros(2, 32, 32, dtype=torch.float64)
        padded[:, 2:30, 2:30] = images[n]
        expected = padded[:, int(dy[n]) : int(dy[n]) + 28, int(dx[n]) : int(dx[n]) + 28]
        if flip[n]:
            expected = expected.flip(2)  # the crop, mirrored
        assert torch.equal(out[n], expected), n


def test_one_cycle_rises_then_anneals() -> None:
    lrs = [resnet_example.one_cycle(step, 100, 0.4) for step in range(100)]
    assert lrs[0] == pytest.approx(0.4 / 25)
    assert lrs[25] == pytest.approx(0.4) and max(lrs) == lrs[25]
    low = 0.4 / 1e4
    assert lrs[99] == pytest.approx(low + (0.4 - low) * 0.5 * (1 + math.cos(math.pi * 74 / 75)))
    assert all(a < b for a, b in itertools.pairwise(lrs[:26]))
    assert all(a > b for a, b in itertools.pairwise(lrs[25:]))


def test_runs_a_few_steps(tiny_data: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    torch.set_default_dtype(torch.float32)  # as a user runs it (conftest restores float64 after the test)
    # tiny_data holds MNIST-format files; the example reads them as Fashion-MNIST.
    result = resnet_example.main(
        ["--data-dir", str(tiny_data), "--epochs", "2", "--batch-size", "32", "--channels", "4", "6", "8"]
    )
    assert result.epochs == 2 and len(result.train_loss) == 2
    assert 0.0 <= result.test_accuracy <= 1.0 and 0.0 <= result.test_accuracy_flip <= 1.0
    assert "final test accuracy" in capsys.readouterr().out
