"""Noise2Noise denoising of MNIST images: three small encoder-decoders, trained on noisy targets only.

Each 28x28 image (pixels in [0, 1]) gets Gaussian noise of standard
deviation 0.5 added, NOT clipped, so noisy pixels leave [0, 1] and the noisy
input's PSNR is about 6 dB. Training is the Noise2Noise way: the input is
the clean image plus one noise draw, the target the same image plus an
independent draw, both drawn afresh each time the image is used; the clean
image is never a target. With an MSE loss, the best prediction of a target
with zero-mean noise is the clean image itself. The noisy test images are
one draw, fixed by the seed and the same for every variant.

The networks, all of ``minitorch_nn`` modules with hand-written backward passes
(C channels, 28 -> 14 -> 7 -> 14 -> 28 pixels; every kernel 3x3 with padding 1,
and output_padding 1 on the transposed ones):

- ``transpose``: Conv2d(1, C, s2), ReLU, Conv2d(C, 2C, s2), ReLU,
  ConvTranspose2d(2C, C, s2), ReLU, ConvTranspose2d(C, 1, s2), Sigmoid;
- ``upsample``: the same, each ConvTranspose2d replaced by a nearest
  Upsample(scale_factor=2) and a 3x3 Conv2d;
- ``unet``: Conv2d(1, C, s2), ReLU, Concat(Identity(), Sequential(Conv2d(C, 2C, s2),
  ReLU, ConvTranspose2d(2C, C, s2), ReLU)), ConvTranspose2d(2C, 1, s2), Sigmoid: the skip
  carries the 14x14 features across the 7x7 bottleneck.

The convolution weights are laid out ``torch.channels_last``, so every
feature map after the first convolution is too (the modules keep the layout
through forward and backward); on 2 CPU cores the full run below takes 2:45
instead of 3:30 with contiguous weights.

It reports, per variant, the PSNR against the clean test images of the noisy
input and of the output, the gain, the parameter count and the training time,
in a side-by-side table; ``--figure`` writes a PNG of a few test digits,
clean / noisy / denoised by each variant. PSNR is ``10 log10(1 / MSE)``, with
MSE the mean over the test images of each image's mean squared error (every
image has 784 pixels, so this is the MSE over all test pixels).

The default recipe (C = 32, 3 epochs of all 60000 training images, batch 32,
SGD with lr 0.3 and momentum 0.9) takes each variant from 6.02 dB to about
19.3 dB on the 10000 test images, a gain of 13.2-13.4 dB; the whole run takes
2:45 minutes on 2 idle CPU cores (upsample trains in 71 s, transpose 38 s, unet 45 s):

    python examples/denoiser.py --data-dir ../shared/data/mnist --threads 2 --figure docs/denoiser.png
    python examples/denoiser.py --variant unet --dataset fashion-mnist --epochs 2
"""

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import torch
from common import check_args, parser

import minitorch_nn as mn
from minitorch_nn.checkpoint.io import output_path_problem
from minitorch_nn.data import TensorLoader, load_data

Variant = Literal["transpose", "upsample", "unet"]
VARIANTS: tuple[Variant, ...] = get_args(Variant)
NOISE_STD = 0.5
EVAL_BATCH = 1000
FIGURE_IMAGES = 8
LAYOUT = torch.channels_last  # of the weights, and so of every feature map after the first convolution


def network(
    variant: Variant,
    channels: int = 32,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> mn.Sequential:
    """The denoiser ``variant`` with ``channels`` (C) feature maps after the first stride-2 Conv2d.

    (N, 1, 28, 28) -> (N, C, 14, 14) -> (N, 2C, 7, 7) -> (N, C, 14, 14) -> (N, 1, 28, 28). Every
    convolution is 3x3 with torch's default initialisation, drawn from ``generator``.
    """
    c = channels

    def down(n_in: int, n_out: int) -> mn.Conv2d:
        return mn.Conv2d(n_in, n_out, 3, stride=2, padding=1, generator=generator, dtype=dtype)

    def up(n_in: int, n_out: int, way: Variant) -> list[mn.Module]:
        """Double height and width: a strided ConvTranspose2d, or a nearest Upsample and a 3x3 Conv2d."""
        if way == "upsample":
            conv = mn.Conv2d(n_in, n_out, 3, padding=1, generator=generator, dtype=dtype)
            return [mn.Upsample(scale_factor=2, mode="nearest"), conv]
        return [
            mn.ConvTranspose2d(
                n_in, n_out, 3, stride=2, padding=1, output_padding=1, generator=generator, dtype=dtype
            )
        ]

    if variant == "unet":  # upsamples with ConvTranspose2d
        inner = mn.Sequential(down(c, 2 * c), mn.ReLU(), *up(2 * c, c, "transpose"), mn.ReLU())
        skip = mn.Concat(mn.Identity(), inner)  # (N, C, 14, 14) and (N, C, 14, 14) -> (N, 2C, 14, 14)
        return mn.Sequential(down(1, c), mn.ReLU(), skip, *up(2 * c, 1, "transpose"), mn.Sigmoid())
    return mn.Sequential(
        down(1, c),
        mn.ReLU(),
        down(c, 2 * c),
        mn.ReLU(),
        *up(2 * c, c, variant),
        mn.ReLU(),
        *up(c, 1, variant),
        mn.Sigmoid(),
    )


def add_noise(clean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``clean`` plus N(0, 0.5^2) noise drawn from ``generator``, not clipped."""
    return clean + NOISE_STD * torch.randn(clean.shape, generator=generator, dtype=clean.dtype)


def train_step(
    model: mn.Module,
    criterion: mn.Loss,
    optimizer: mn.OptimizerBase,
    input: torch.Tensor,
    target: torch.Tensor,
) -> float:
    """One SGD step on ``(input, target)``; return the loss before the step. The data needs no gradient,
    so the first layer only accumulates its parameters' (``accumulate_grad``)."""
    optimizer.zero_grad()
    loss = criterion(model(input), target)
    model.accumulate_grad(criterion.backward())
    optimizer.step()
    return loss.item()


def psnr(images: torch.Tensor, clean: torch.Tensor) -> float:
    """``10 log10(1 / MSE)`` in dB for pixels in [0, 1]; MSE: each image's mean squared error, averaged."""
    per_image = (images.double() - clean.double()).square().flatten(1).mean(1)
    return 10 * math.log10(1 / per_image.mean().item())


def denoise(model: mn.Module, noisy: torch.Tensor) -> torch.Tensor:
    """The model's output on ``noisy``, in eval mode, 1000 images at a time."""
    model.eval()
    try:
        return torch.cat([model(batch) for batch in torch.split(noisy, EVAL_BATCH)])
    finally:
        model.train()


@dataclass
class Result:
    """One variant's run: the per-epoch training loss (against noisy targets), and the test figures."""

    variant: Variant
    parameters: int
    seconds: float = 0.0
    train_loss: list[float] = field(default_factory=list)
    noisy_psnr: float = math.nan
    output_psnr: float = math.nan
    examples: torch.Tensor = field(default_factory=lambda: torch.empty(0))  # the first test images denoised

    @property
    def gain(self) -> float:
        return self.output_psnr - self.noisy_psnr


def train(
    variant: Variant, args: argparse.Namespace, data: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
) -> Result:
    """Train ``variant`` with Noise2Noise pairs as ``args`` say; evaluate it on the fixed noisy test set.

    ``data`` is (clean training images, clean test images, noisy test images), pixels in [0, 1].
    """
    clean_train, clean_test, noisy_test = data
    generator = torch.Generator().manual_seed(args.seed)
    model = network(variant, args.channels, generator, dtype=clean_train.dtype).to(memory_format=LAYOUT)
    optimizer = mn.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    criterion = mn.MSELoss()
    loader = TensorLoader(clean_train, batch_size=args.batch_size, shuffle=True, generator=generator)
    result = Result(variant, sum(p.value.numel() for p in model.parameters()))
    for epoch in range(1, args.epochs + 1):
        start, total, count = time.perf_counter(), 0.0, 0
        for (clean,) in loader:
            # A fresh, independent noise draw for the input and for the target, every time.
            loss = train_step(
                model, criterion, optimizer, add_noise(clean, generator), add_noise(clean, generator)
            )
            total, count = total + loss * clean.shape[0], count + clean.shape[0]
        seconds = time.perf_counter() - start
        result.seconds += seconds
        result.train_loss.append(total / count)
        print(f"{variant:9s} epoch {epoch:3d}  train loss {total / count:.4f}  ({seconds:.1f} s)", flush=True)
    output = denoise(model, noisy_test)
    result.noisy_psnr, result.output_psnr = psnr(noisy_test, clean_test), psnr(output, clean_test)
    result.examples = output[:FIGURE_IMAGES].clone()
    return result


def table(results: Sequence[Result]) -> str:
    """A markdown table: one row per variant, PSNRs against the clean test images."""
    lines = [
        "| variant | parameters | training time | noisy input PSNR | output PSNR | gain |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.variant} | {r.parameters:,} | {r.seconds:.1f} s | {r.noisy_psnr:.2f} dB "
            f"| {r.output_psnr:.2f} dB | {r.gain:+.2f} dB |"
        )
    return "\n".join(lines)


def _pyplot() -> Any:  # matplotlib.pyplot, which has no complete type hints
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure(clean: torch.Tensor, noisy: torch.Tensor, results: Sequence[Result], path: Path) -> None:
    """Write a PNG: one column per test image; rows clean, noisy (shown clipped to [0, 1]), each variant."""

    plt = _pyplot()
    rows = [("clean", clean), (f"noisy {results[0].noisy_psnr:.1f} dB\n(clipped for display)", noisy)]
    rows += [(f"{r.variant}\n{r.output_psnr:.1f} dB", r.examples) for r in results]
    count = clean.shape[0]
    fig, axes = plt.subplots(len(rows), count, figsize=(1.1 * count + 1.2, 1.1 * len(rows)), squeeze=False)
    for row, (label, images) in enumerate(rows):
        for col in range(count):
            ax = axes[row][col]
            ax.imshow(images[col, 0].clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(f"Noise2Noise denoisers: Gaussian noise, std {NOISE_STD}; PSNR over the test set")
    fig.tight_layout()
    mn.plot.save_figure(fig, path)
    print(f"wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "", epochs=3, batch_size=32, lr=0.3, data=False)
    p.add_argument("--data-dir", type=Path, default=None, help="folder with the data set's .gz files")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist"), default="mnist", help="(default: mnist)")
    p.add_argument("--variant", choices=(*VARIANTS, "all"), default="all", help="network (default: all)")
    p.add_argument(
        "--channels", type=int, default=32, help="C, feature maps of the first layer (default: 32)"
    )
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default: 0.9)")
    p.add_argument(
        "--train-size", type=int, default=None, help="use the first N training images (default: all)"
    )
    p.add_argument("--test-size", type=int, default=None, help="use the first N test images (default: all)")
    p.add_argument("--figure", type=Path, default=None, help="write clean/noisy/denoised digits to this PNG")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    return p


def _check(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    check_args(p, args)
    for name in ("channels", "train_size", "test_size", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.figure is not None and args.figure.suffix.lower() != ".png":
        p.error(f"--figure must end in .png, got {args.figure}")
    if args.figure is not None and (problem := output_path_problem(args.figure)):
        p.error(f"--figure: {problem}")  # before training, not after it


def load(args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Clean training images, clean test images and the noisy test images (a draw fixed by the seed)."""
    split = load_data(args.data_dir, dataset=args.dataset, full=True, flatten=False)
    train_images = split.train_input[: args.train_size] / 255
    test_images = split.test_input[: args.test_size] / 255
    noisy_test = add_noise(test_images, torch.Generator().manual_seed(args.seed + 1))
    return train_images, test_images, noisy_test


def main(argv: Sequence[str] | None = None) -> list[Result]:
    p = build_parser()
    args = p.parse_args(argv)
    _check(p, args)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data = load(args)
    variants = VARIANTS if args.variant == "all" else (args.variant,)
    results = [train(variant, args, data) for variant in variants]
    sizes = f"{data[0].shape[0]} training and {data[1].shape[0]} test images"
    print(
        f"{args.dataset}, {sizes}, noise std {NOISE_STD} (not clipped), C={args.channels}, "
        f"{args.epochs} epochs, batch {args.batch_size}, "
        f"SGD lr {args.lr} momentum {args.momentum}; PSNR = 10 log10(1 / MSE), MSE per image averaged"
    )
    print(table(results))
    if args.figure is not None:
        figure(data[1][:FIGURE_IMAGES], data[2][:FIGURE_IMAGES], results, args.figure)
    return results


if __name__ == "__main__":
    main()
