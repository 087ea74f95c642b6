"""The command line's data sets, prepared for a loss: MNIST, Fashion-MNIST and the disk."""

from typing import NamedTuple

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.cli.settings import Settings
from minitorch_nn.data import disk_data, load_data, one_hot

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


def prepare(settings: Settings, *, one_hot_targets: bool) -> Prepared:
    """Load the data set the settings name; one-hot targets for ``one_hot_targets`` (MSE), else labels.

    Raises:
        FileNotFoundError: if the images are not found (the message says where it looked).
        ValueError: if their files are broken, or ``full`` is asked of the disk.
    """
    dataset, seed = settings["dataset"], settings["seed"]
    if dataset == "disk":
        if settings["full"]:
            raise ValueError("--full applies to mnist and fashion-mnist; the disk set has 1000 + 1000 points")
        split = disk_data(DISK_SIZE, torch.Generator().manual_seed(seed))
        names: tuple[str, ...] = ("outside", "inside")
    else:
        split = load_data(settings["data_dir"], dataset=dataset, full=settings["full"], normalize=True)
        names = FASHION_CLASSES if dataset == "fashion-mnist" else tuple(str(i) for i in range(10))
    train_input, train_labels, test_input, test_labels = split
    scale = settings["input_scale"]
    if scale is not None:
        train_input, test_input = train_input * scale, test_input * scale
    classes = len(names)
    train_target, test_target = train_labels, test_labels
    if one_hot_targets:
        train_target = one_hot(train_labels, classes, dtype=train_input.dtype)
        test_target = one_hot(test_labels, classes, dtype=test_input.dtype)
    return Prepared(
        (train_input, train_target), (test_input, test_target), train_input.shape[1], classes, names
    )
