"""IDX files (the MNIST format): headers checked before anything reads the data."""

import gzip
import math
import struct
from pathlib import Path

import torch

from minitorch_nn._types import Tensor

__all__ = ["check_header", "read_idx"]


def check_header(path: Path, source: Path) -> None:
    """Check an extracted IDX file's magic number, item shape and length before torchvision reads it."""
    images = "images" in path.name
    magic, item_shape = (2051, (28, 28)) if images else (2049, ())
    with open(path, "rb") as file:
        header = file.read(8 + 4 * len(item_shape))
    what = f"load_data: {source} is not an MNIST-format IDX {'image' if images else 'label'} file"
    if len(header) < 8 + 4 * len(item_shape):
        raise ValueError(f"{what}: expected a {8 + 4 * len(item_shape)}-byte header, got {len(header)} bytes")
    fields = struct.unpack(f">{2 + len(item_shape)}I", header)
    if fields[0] != magic:
        raise ValueError(f"{what}: expected magic number {magic}, got {fields[0]}")
    if fields[2:] != item_shape:
        raise ValueError(f"{what}: expected items of shape {item_shape}, got {fields[2:]}")
    size = len(header) + fields[1] * math.prod(item_shape)
    if path.stat().st_size != size:
        raise ValueError(
            f"{what}: its header announces {fields[1]} items ({size} bytes), but it has {path.stat().st_size}"
        )


def read_idx(path: Path, magic: int, item_shape: tuple[int, ...]) -> Tensor:
    """A gzipped IDX file of unsigned bytes, checked against its expected header."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    header = 8 + 4 * len(item_shape)
    fields = struct.unpack(f">{2 + len(item_shape)}I", data[:header])
    count = fields[1]
    if fields[0] != magic or fields[2:] != item_shape or len(data) != header + count * math.prod(item_shape):
        raise ValueError(f"load_data: {path} is not the IDX file it should be (header {fields})")
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).view(count, *item_shape)
