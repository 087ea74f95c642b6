"""Derive the reduced MNIST split that ships in ``minitorch_nn/data/mnist_1000``.

It keeps the first 1000 training and the first 1000 test images and labels of
the original IDX files, in file order, and writes them as IDX files again,
gzipped with mtime 0 so that the output is byte-for-byte reproducible:

    python scripts/make_mnist_1000.py ../shared/data/mnist minitorch_nn/data/mnist_1000
"""

import argparse
import gzip
import struct
from pathlib import Path

KEEP = 1000
HEADER = {2051: 16, 2049: 8}  # images: magic, count, rows, cols; labels: magic, count


def reduce_idx(source: Path, target: Path, keep: int) -> None:
    with gzip.open(source, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    header = HEADER[magic]
    item = 28 * 28 if magic == 2051 else 1
    if count < keep or len(data) != header + count * item:
        raise ValueError(f"{source}: unexpected size for {count} items of {item} bytes")
    reduced = struct.pack(">II", magic, keep) + data[8:header] + data[header : header + keep * item]
    with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
        f.write(reduced)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="folder with the original *-idx?-ubyte.gz files")
    parser.add_argument("target", type=Path, help="folder to write the reduced files into")
    args = parser.parse_args()
    args.target.mkdir(parents=True, exist_ok=True)
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        reduce_idx(args.source / f"{name}.gz", args.target / f"{name}.gz", KEEP)
        print(f"wrote {args.target / name}.gz")


if __name__ == "__main__":
    main()
