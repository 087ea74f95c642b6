"""examples/lstm_mnist.py and examples/vit_fashion_mnist.py: networks against torch.nn twins, a tiny run.

The twin tests are the issue's: the same network written in torch.nn
(``minitorch_nn.interop.to_torch``: torch.nn's LSTM, MultiheadAttention,
LayerNorm, ... holding our initial weights), fed the same batches in float64
with the example's optimizer settings and learning-rate schedule, gives the
same losses for 20 steps to 1e-9 relative.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn.interop import to_torch
from tests.examples import load_example
from tests.test_examples import tiny_data  # noqa: F401 - the fixture

lstm_example = load_example("lstm_mnist")
vit_example = load_example("vit_fashion_mnist")
common = load_example("common")

STEPS = 20


def _same_losses(
    model: mn.Sequential,
    trainer: object,
    optimizer_for: Callable[[torch.nn.Module], torch.optim.Optimizer],
    peak_lr: float,
    generator: torch.Generator,
) -> None:
    """``STEPS`` steps on both sides from the same weights and batches; compare the losses and weights."""
    twin = to_torch(model)
    torch_optimizer = optimizer_for(twin)
    initial = {name: p.value.clone() for name, p in model.named_parameters()}
    images = torch.randn(STEPS, 8, 1, 28, 28, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, 10, (STEPS, 8), generator=generator)
    ours, theirs = [], []
    for step in range(STEPS):
        ours.append(trainer.step(images[step], labels[step]))  # type: ignore[attr-defined]
        for group in torch_optimizer.param_groups:
            group["lr"] = common.cosine_lr(step, STEPS, peak_lr)
        torch_optimizer.zero_grad()
        loss = F.cross_entropy(twin(images[step]), labels[step])
        loss.backward()  # type: ignore[no-untyped-call]
        torch_optimizer.step()
        theirs.append(loss.item())
    torch.testing.assert_close(torch.tensor(ours), torch.tensor(theirs), rtol=1e-9, atol=0.0)
    # The weights moved: the comparison is not between two frozen networks.
    assert all(not torch.allclose(p.value, initial[n]) for n, p in model.named_parameters())
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, twin.state_dict()[name], rtol=1e-8, atol=1e-10, msg=name)


def test_lstm_same_losses_as_the_torch_nn_twin_for_20_steps(generator: torch.Generator) -> None:
    model = lstm_example.lstm_classifier(16, generator).to(dtype=torch.float64)
    assert isinstance(to_torch(model)[1], torch.nn.LSTM)
    trainer = lstm_example.trainer(model, 2e-3, STEPS)
    _same_losses(model, trainer, lambda twin: torch.optim.Adam(twin.parameters(), lr=2e-3), 2e-3, generator)


def test_vit_same_losses_as_the_torch_nn_twin_for_20_steps(generator: torch.Generator) -> None:
    model = vit_example.vit(16, 2, 2, 0.0, generator).to(dtype=torch.float64)
    decay_ids = {id(p) for p in vit_example.parameter_groups(model)[0]}
    decay_names = {name for name, p in model.named_parameters() if id(p) in decay_ids}
    # The patch convolution, each block's packed attention projection, its out_proj and its two MLP
    # matrices, and the head.
    assert len(decay_names) == 1 + 2 * 4 + 1
    trainer = vit_example.trainer(model, 2e-3, STEPS)

    def optimizer_for(twin: torch.nn.Module) -> torch.optim.Optimizer:
        named = dict(twin.named_parameters())
        assert decay_names < set(named)
        return torch.optim.AdamW(
            [
                {"params": [named[n] for n in sorted(decay_names)], "weight_decay": 0.05},
                {"params": [p for n, p in named.items() if n not in decay_names], "weight_decay": 0.0},
            ],
            lr=2e-3,
        )

    _same_losses(model, trainer, optimizer_for, 2e-3, generator)


@pytest.mark.parametrize("name", ["lstm_mnist", "vit_fashion_mnist"])
def test_sequence_examples_run_a_few_steps(
    name: str,
    tiny_data: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    torch.set_default_dtype(torch.float32)  # as a user runs it (conftest restores float64 after the test)
    small = ["--hidden", "8"] if name == "lstm_mnist" else ["--width", "8", "--depth", "1", "--heads", "2"]
    run = load_example(name).main(
        ["--data-dir", str(tiny_data), "--epochs", "2", "--batch-size", "64", "--limit", "128", *small]
    )
    assert run.epochs == 2 and len(run.train_loss) == 2
    assert all(0.0 <= a <= 1.0 for a in run.test_accuracy)
    assert "final test accuracy" in capsys.readouterr().out


def test_cosine_lr_warms_up_then_falls_to_zero() -> None:
    peak = 0.5
    assert [common.cosine_lr(s, 10, peak, warmup=2) for s in (0, 1)] == [0.25, 0.5]
    assert common.cosine_lr(6, 10, peak, warmup=2) == pytest.approx(peak * 0.5)  # half way: cos = 0
    assert common.cosine_lr(10, 10, peak, warmup=2) == pytest.approx(0.0)


def test_flip_mirrors_about_half_of_the_images_and_keeps_the_others() -> None:
    images = torch.arange(64 * 28 * 28, dtype=torch.float32).view(64, 1, 28, 28)
    flipped = vit_example.flip(images, torch.Generator().manual_seed(0))
    mirrored = [
        bool(torch.equal(flipped[i, 0, :, j], images[i, 0, :, 27 - j])) for i in range(64) for j in (0,)
    ]
    kept = [bool(torch.equal(flipped[i], images[i])) for i in range(64)]
    assert all(m != k for m, k in zip(mirrored, kept, strict=True))  # each image one or the other
    assert 16 <= sum(mirrored) <= 48
    assert torch.equal(images, torch.arange(64 * 28 * 28, dtype=torch.float32).view(64, 1, 28, 28))
