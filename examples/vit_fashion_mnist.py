"""A small vision transformer on Fashion-MNIST: 16 patches of 7 x 7 pixels, encoder blocks built from parts.

The network (width 64, 4 heads, 4 blocks by default):

    Conv2d(1, 64, 7, stride=7)       (N, 64, 4, 4): one 64-vector per 7 x 7 patch
    Flatten(2), Permute([0, 2, 1])   (N, 16, 64): a sequence of 16 patch tokens
    PositionalEmbedding(16, 64)      adds a learned vector per position
    4 x encoder block                (N, 16, 64), each the composition
        Residual(Sequential(LayerNorm, MultiheadAttention, Dropout))
        Residual(Sequential(LayerNorm, Linear(64, 128), GELU, Linear(128, 64), Dropout))
    LayerNorm(64), Mean(1)           (N, 64): the tokens averaged
    Linear(64, 10)                   (N, 10): the logits

Training: random horizontal flips; cross-entropy, AdamW (peak learning rate
2e-3 along a cosine to 0, weight decay 0.05 on the matrices only), batch 128,
20 epochs, pixels normalised by the training set's mean and standard
deviation. (Random crops, which help the ResNet, cost this network about 3
points: a shift of a few pixels moves content across the 7 x 7 patch grid.) Every
backward pass, the attention's softmax and its two matrix products included,
is written out by hand (see the tutorial ``docs/sequences.md``).

    python examples/vit_fashion_mnist.py --data-dir ../shared/data/fashion-mnist

prints one line per epoch and the final test accuracy.
"""

import argparse
import math
from collections.abc import Sequence

import torch
from common import (
    Run,
    ScheduledTrainer,
    add_image_flags,
    check_args,
    cosine_lr,
    image_data,
    parser,
    split_parameters,
    train_epochs,
)
from torch import Tensor

import minitorch_nn as mn

PATCH = 7
TOKENS = (28 // PATCH) ** 2


def vit(
    width: int = 64,
    depth: int = 4,
    heads: int = 4,
    dropout: float = 0.0,
    generator: torch.Generator | None = None,
) -> mn.Sequential:
    """The patch embedding, ``depth`` encoder blocks of ``width`` (MLP ``2 * width``), the pooled head."""
    model = mn.Sequential(
        mn.Conv2d(1, width, PATCH, stride=PATCH, generator=generator),
        mn.Flatten(2),
        mn.Permute([0, 2, 1]),
        mn.PositionalEmbedding(TOKENS, width, generator=generator),
    )
    for _ in range(depth):
        model.append(
            mn.encoder_block(width, heads, 2 * width, dropout, batch_first=True, generator=generator)
        )
    model.append(mn.LayerNorm(width))
    model.append(mn.Mean(1))
    model.append(mn.Linear(width, 10, generator=generator))
    return model


def parameter_groups(model: mn.Module) -> tuple[list[mn.Parameter], list[mn.Parameter]]:
    """The matrices (decayed: patch, attention and MLP weights) and the rest (biases, norms, positions)."""

    def matrix(module: mn.ModuleBase, name: str, param: mn.Parameter) -> bool:
        return param.value.dim() > 1 and not isinstance(module, mn.PositionalEmbedding)

    return split_parameters(model, matrix)


def flip(images: Tensor, generator: torch.Generator) -> Tensor:
    """Each image mirrored left to right with probability 1/2 (a new tensor)."""
    mirrored = torch.rand(len(images), generator=generator) < 0.5
    return torch.where(mirrored[:, None, None, None], images.flip(3), images)


def trainer(
    model: mn.Module, peak_lr: float, total_steps: int, weight_decay: float = 0.05
) -> ScheduledTrainer:
    """Cross-entropy and AdamW on both groups (no decay on the rest), a cosine from ``peak_lr`` to 0."""
    decay, rest = parameter_groups(model)
    optimizers: list[mn.OptimizerBase] = [
        mn.AdamW(decay, lr=peak_lr, weight_decay=weight_decay),
        mn.AdamW(rest, lr=peak_lr, weight_decay=0.0),
    ]
    return ScheduledTrainer(
        model, mn.CrossEntropyLoss(), optimizers, lambda step: cosine_lr(step, total_steps, peak_lr)
    )


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "", epochs=20, batch_size=128, lr=2e-3)
    p.add_argument("--width", type=int, default=64, help="token width (default: 64)")
    p.add_argument("--depth", type=int, default=4, help="encoder blocks (default: 4)")
    p.add_argument("--heads", type=int, default=4, help="attention heads (default: 4)")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout in the blocks (default: 0)")
    p.add_argument("--no-augment", action="store_true", help="train without random flips")
    add_image_flags(p)
    return p


def main(argv: Sequence[str] | None = None) -> Run:
    p = build_parser()
    args = p.parse_args(argv)
    check_args(p, args)
    for name in ("width", "depth", "heads"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.width % args.heads:
        p.error(f"--width must be a multiple of --heads, got {args.width} and {args.heads}")
    if not 0.0 <= args.dropout <= 1.0:
        p.error(f"--dropout must be in [0, 1], got {args.dropout}")
    (train_x, train_y), (test_x, test_y) = image_data(args, "fashion-mnist")
    generator = torch.Generator().manual_seed(args.seed)
    model = vit(args.width, args.depth, args.heads, args.dropout, generator)
    total = args.epochs * math.ceil(len(train_x) / args.batch_size)
    print(
        f"{sum(p.value.numel() for p in model.parameters()):,} parameters, {torch.get_num_threads()} threads"
    )
    run = train_epochs(
        trainer(model, args.lr, total), (train_x, train_y), (test_x, test_y),
        epochs=args.epochs, batch_size=args.batch_size, generator=generator,
        augment=None if args.no_augment else flip,
    )  # fmt: skip
    final = run.test_accuracy[-1] if run.test_accuracy else 0.0
    print(f"final test accuracy {100 * final:.2f}% after {run.train_seconds / 60:.1f} min of training")
    return run


if __name__ == "__main__":
    main()
