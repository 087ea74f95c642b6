"""examples/denoiser.py: each network trains as its torch.nn twin does, on Noise2Noise pairs.

The twins are written here from the issue's description with torch.nn, and
trained with torch.autograd and torch.optim.SGD: same weights, same batches,
three SGD steps with momentum, in float64.
"""

from types import ModuleType

import pytest
import torch
from torch import nn

import minitorch_nn as mn
from tests.examples import load_example

CHANNELS = 4
LR, MOMENTUM = 0.5, 0.9


@pytest.fixture(scope="module")
def denoiser() -> ModuleType:
    return load_example("denoiser")


class TorchConcat(nn.Module):
    """torch.cat of the branches' outputs along the channels: torch.nn has no such container."""

    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def torch_twin(variant: str, c: int) -> nn.Sequential:
    """The issue's networks in torch.nn, C = ``c``."""

    def down(n_in: int, n_out: int) -> nn.Conv2d:
        return nn.Conv2d(n_in, n_out, 3, stride=2, padding=1)

    def up(n_in: int, n_out: int) -> list[nn.Module]:
        if variant == "upsample":
            return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(n_in, n_out, 3, padding=1)]
        return [nn.ConvTranspose2d(n_in, n_out, 3, stride=2, padding=1, output_padding=1)]

    if variant == "unet":
        inner = nn.Sequential(down(c, 2 * c), nn.ReLU(), *up(2 * c, c), nn.ReLU())
        return nn.Sequential(
            down(1, c), nn.ReLU(), TorchConcat(nn.Identity(), inner), *up(2 * c, 1), nn.Sigmoid()
        )
    return nn.Sequential(
        down(1, c), nn.ReLU(), down(c, 2 * c), nn.ReLU(), *up(2 * c, c), nn.ReLU(), *up(c, 1), nn.Sigmoid()
    )  # fmt: skip


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last], ids=["contiguous", "cl"])
@pytest.mark.parametrize("variant", ["transpose", "upsample", "unet"])
def test_three_sgd_steps_match_torch_nn(
    denoiser: ModuleType, variant: str, layout: torch.memory_format, generator: torch.Generator
) -> None:
    """In both weight layouts: the example trains with channels-last weights."""
    model = denoiser.network(variant, CHANNELS, generator).to(memory_format=layout)
    twin = torch_twin(variant, CHANNELS)
    ours, theirs = list(model.parameters()), list(twin.parameters())
    assert [p.value.shape for p in ours] == [q.shape for q in theirs]
    with torch.no_grad():
        for p, q in zip(ours, theirs, strict=True):
            q.copy_(p.value)
    twin.to(memory_format=layout)
    optimizer = mn.SGD(ours, lr=LR, momentum=MOMENTUM)
    torch_optimizer = torch.optim.SGD(twin.parameters(), lr=LR, momentum=MOMENTUM)
    clean = torch.rand(3, 6, 1, 28, 28, generator=generator)
    for batch in clean:
        noisy, target = denoiser.add_noise(batch, generator), denoiser.add_noise(batch, generator)
        loss = denoiser.train_step(model, mn.MSELoss(), optimizer, noisy, target)
        torch_optimizer.zero_grad()
        torch_loss = nn.functional.mse_loss(twin(noisy), target)
        torch.autograd.backward(torch_loss)
        torch_optimizer.step()
        assert loss == pytest.approx(torch_loss.item(), rel=1e-9)
        for p, q in zip(ours, theirs, strict=True):
            assert q.grad is not None
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-9, atol=1e-12)
            torch.testing.assert_close(p.value, q.detach(), rtol=1e-9, atol=1e-12)


def test_network_shapes_and_parameter_counts(denoiser: ModuleType) -> None:
    for variant in ("transpose", "upsample", "unet"):
        model, twin = denoiser.network(variant, 32), torch_twin(variant, 32)
        assert model(torch.rand(2, 1, 28, 28)).shape == (2, 1, 28, 28)
        assert sum(p.value.numel() for p in model.parameters()) == sum(q.numel() for q in twin.parameters())


def test_training_pairs_are_two_independent_noisy_draws(
    denoiser: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every step's input and target are the same clean images plus two different noise draws (std 0.5,
    not clipped), fresh each time an image is used: the clean image is never the target."""
    draws: list[tuple[torch.Tensor, torch.Tensor]] = []
    steps: list[tuple[torch.Tensor, torch.Tensor]] = []
    add_noise, train_step = denoiser.add_noise, denoiser.train_step

    def record_noise(clean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        noisy: torch.Tensor = add_noise(clean, generator)
        draws.append((clean, noisy))
        return noisy

    def record_step(model: mn.Module, criterion: mn.Loss, optimizer: mn.OptimizerBase, x: torch.Tensor,
                    y: torch.Tensor) -> float:  # fmt: skip
        steps.append((x, y))
        return float(train_step(model, criterion, optimizer, x, y))

    monkeypatch.setattr(denoiser, "add_noise", record_noise)
    monkeypatch.setattr(denoiser, "train_step", record_step)
    images = torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    noisy_test = images[:8] + 0.5
    args = denoiser.build_parser().parse_args(["--epochs", "2", "--batch-size", "16", "--channels", "2"])
    denoiser.train("transpose", args, (images, images[:8], noisy_test))
    assert len(steps) == 6 and len(draws) == 12  # 3 batches per epoch, 2 draws per step
    for (x, y), (clean_x, noisy_x), (clean_y, noisy_y) in zip(steps, draws[0::2], draws[1::2], strict=True):
        assert x is noisy_x and y is noisy_y and torch.equal(clean_x, clean_y)
        noise_x, noise_y = x - clean_x, y - clean_y
        for noise in (noise_x, noise_y):
            assert abs(noise.std().item() - 0.5) < 0.02 and abs(noise.mean().item()) < 0.02
        assert abs(torch.corrcoef(torch.stack([noise_x.flatten(), noise_y.flatten()]))[0, 1].item()) < 0.05
    noises = torch.cat([noisy - clean for clean, noisy in draws]).flatten(1)
    assert torch.unique(noises, dim=0).shape[0] == noises.shape[0]  # no draw is ever reused
    assert "transpose epoch   2" in capsys.readouterr().out


def test_psnr_is_of_the_mean_squared_error_per_image(denoiser: ModuleType) -> None:
    clean = torch.zeros(2, 1, 28, 28)
    images = torch.stack([torch.full((1, 28, 28), 0.1), torch.full((1, 28, 28), 0.3)])
    # Per-image MSEs 0.01 and 0.09, averaged: 0.05, i.e. 10 log10(20) dB.
    assert denoiser.psnr(images, clean) == pytest.approx(13.0103, abs=1e-4)
