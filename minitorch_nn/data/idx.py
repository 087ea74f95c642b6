"""IDX files (the MNIST format): headers checked before anything reads the data."""

import gzip
import math
import struct
import zlib
from pathlib import Path

import torch

from minitorch_nn._types import Tensor

__all__ = ["READ_ERRORS", "check_header", "read_idx", "unreadable"]

READ_ERRORS = (OSError, EOFError, zlib.error)
"""What reading a gzip file raises when it is broken: ``BadGzipFile`` and ``PermissionError`` are
``OSError``s, a truncated stream is an ``EOFError``, corrupt deflate data a ``zlib.error``."""


def unreadable(path: Path, error: Exception) -> str:
    """Why ``path`` could not be read, in one phrase naming the file and the underlying error.

    Example:
        >>> unreadable(Path("/d/x.gz"), EOFError("Compressed file ended early"))
        '/d/x.gz: expected a complete gzip file, got EOFError: Compressed file ended early'
        >>> unreadable(Path("/d/x.gz"), PermissionError(13, "Permission denied"))
        '/d/x.gz: Permission denied'
    """
    if isinstance(error, OSError) and not isinstance(error, gzip.BadGzipFile) and error.strerror:
        return f"{path}: {error.strerror}"
    kind = "zlib.error" if isinstance(error, zlib.error) else type(error).__name__
    what = "a complete gzip file" if path.suffix == ".gz" else "a readable file"
    return f"{path}: expected {what}, got {kind}: {error}"


def check_header(path: Path, source: Path) -> int:
    """Check an extracted IDX file's magic number, item shape and length before torchvision reads it.

    Returns:
        the number of items its header announces (at least 1).

    Raises:
        ValueError: naming ``source`` if the header or the length is wrong, or the file holds no items.
    """
    images = "images" in path.name
    magic, item_shape = (2051, (28, 28)) if images else (2049, ())
    try:
        with open(path, "rb") as file:
            header = file.read(8 + 4 * len(item_shape))
        size_on_disk = path.stat().st_size
    except OSError as err:
        raise ValueError(f"load_data: {unreadable(source, err)}") from err
    what = f"load_data: {source} is not an MNIST-format IDX {'image' if images else 'label'} file"
    if len(header) < 8 + 4 * len(item_shape):
        raise ValueError(
            f"{what}: expected a header of {8 + 4 * len(item_shape)} bytes, got {len(header)} bytes"
        )
    fields = struct.unpack(f">{2 + len(item_shape)}I", header)
    if fields[0] != magic:
        raise ValueError(f"{what}: expected magic number {magic}, got {fields[0]}")
    if fields[2:] != item_shape:
        raise ValueError(f"{what}: expected items of shape {item_shape}, got {fields[2:]}")
    size = len(header) + fields[1] * math.prod(item_shape)
    if size_on_disk != size:
        raise ValueError(
            f"{what}: its header announces {fields[1]} items ({size} bytes), but it has {size_on_disk}"
        )
    if fields[1] == 0:
        kind = "image" if images else "label"
        raise ValueError(f"load_data: {source}: expected at least one {kind}, got an IDX file of 0 items")
    count: int = fields[1]
    return count


def read_idx(path: Path, magic: int, item_shape: tuple[int, ...]) -> Tensor:
    """A gzipped IDX file of unsigned bytes, checked against its expected header.

    Raises:
        ValueError: naming ``path`` if it cannot be read or is not the IDX file expected.
    """
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except READ_ERRORS as err:
        raise ValueError(f"load_data: {unreadable(path, err)}") from err
    header = 8 + 4 * len(item_shape)
    if len(data) < header:
        raise ValueError(f"load_data: {path}: expected a {header}-byte IDX header, got {len(data)} bytes")
    fields = struct.unpack(f">{2 + len(item_shape)}I", data[:header])
    count = fields[1]
    if fields[0] != magic or fields[2:] != item_shape or len(data) != header + count * math.prod(item_shape):
        raise ValueError(f"load_data: {path} is not the IDX file it should be (header {fields})")
    if count == 0:
        raise ValueError(f"load_data: {path}: expected at least one item, got an IDX file of 0 items")
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).view(count, *item_shape)
