"""Data: MNIST and Fashion-MNIST with the course loader's semantics, and mini-batches of tensors."""

from minitorch_nn.data.batches import TensorLoader
from minitorch_nn.data.disk import disk_data, disk_set
from minitorch_nn.data.mnist import DATA_DIR_ENV, REDUCED_SIZE, Dataset, Split, load_data
from minitorch_nn.data.targets import one_hot

__all__ = [
    "DATA_DIR_ENV",
    "REDUCED_SIZE",
    "Dataset",
    "Split",
    "TensorLoader",
    "disk_data",
    "disk_set",
    "load_data",
    "one_hot",
]
