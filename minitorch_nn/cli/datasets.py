"""The command line's data sets, prepared for a loss: MNIST, Fashion-MNIST and the disk."""

from typing import NamedTuple

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.cli.settings import Settings
from minitorch_nn.data import disk_set, load_data

__all__ = ["FASHION_CLASSES", "Prepared", "prepare"]

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

DISK_SIZE = 1000


class Prepared(NamedTuple):
    """Training and test pairs, and what the network must take and give."""

    train: tuple[Tensor, Tensor]
    test: tuple[Tensor, Tensor]
    features: int
    classes: int
    class_names: tuple[str, ...]


def _disk(seed: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The disk problem of ``examples/disk.py``: 1000 + 1000 points, standardised per coordinate."""
    generator = torch.Generator().manual_seed(seed)
    train_input, train_labels = disk_set(DISK_SIZE, generator)
    test_input, test_labels = disk_set(DISK_SIZE, generator)
    mean, std = train_input.mean(dim=0), train_input.std(dim=0)
    return (train_input - mean) / std, train_labels, (test_input - mean) / std, test_labels


def prepare(settings: Settings, *, one_hot: bool) -> Prepared:
    """Load the data set the settings name; one-hot float targets for ``one_hot`` (MSE), else labels.

    Raises:
        FileNotFoundError: if the images are not found (the message says where it looked).
        ValueError: if their files are broken, or ``full`` is asked of the disk.
    """
    dataset, seed = settings["dataset"], settings["seed"]
    if dataset == "disk":
        if settings["full"]:
            raise ValueError("--full applies to mnist and fashion-mnist; the disk set has 1000 + 1000 points")
        train_input, train_labels, test_input, test_labels = _disk(seed)
        names: tuple[str, ...] = ("outside", "inside")
    else:
        data_dir = settings["data_dir"]
        full = bool(settings["full"])
        split = load_data(
            data_dir if isinstance(data_dir, str) else None, dataset=dataset, full=full, normalize=True
        )
        train_input, train_labels, test_input, test_labels = split
        names = FASHION_CLASSES if dataset == "fashion-mnist" else tuple(str(i) for i in range(10))
    scale = settings["input_scale"]
    if scale is not None:
        train_input, test_input = train_input * scale, test_input * scale
    classes = len(names)
    train_target, test_target = train_labels, test_labels
    if one_hot:
        train_target = torch.zeros(len(train_labels), classes).scatter_(1, train_labels.view(-1, 1), 1.0)
        test_target = torch.zeros(len(test_labels), classes).scatter_(1, test_labels.view(-1, 1), 1.0)
    return Prepared(
        (train_input, train_target.to(train_input.dtype) if one_hot else train_target),
        (test_input, test_target.to(test_input.dtype) if one_hot else test_target),
        train_input.shape[1],
        classes,
        names,
    )
