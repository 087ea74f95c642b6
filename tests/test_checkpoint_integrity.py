"""Checkpoint integrity: a flipped bit anywhere in a file is refused, never loaded; format /1 still loads."""

import json
import random
import re
import warnings
from pathlib import Path

import pytest
import safetensors
import safetensors.torch
import torch

import minitorch_nn as mn
from minitorch_nn._types import Tensor
from minitorch_nn.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointWarning,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from minitorch_nn.history import EpochRecord, History
from tests.test_checkpoint import trained

OLD_FORMAT = "minitorch_nn.checkpoint/1"


def save_full(path: Path) -> None:
    """A small checkpoint with every part: model, SGD momentum buffers, scheduler, history, metadata."""
    model, optimizer, scheduler = trained()
    save_checkpoint(
        path, model, optimizer=optimizer, scheduler=scheduler, generator=torch.Generator().manual_seed(5),
        history=History([EpochRecord(1, 0.1 + 0.2, 0.25, None, 0.5, 0.1, 1.0)]),
        metadata={"spec": {"layers": [3, 4, 2]}, "note": "ünïcode"},
    )  # fmt: skip


def same_tensors(a: dict[str, Tensor], b: dict[str, Tensor]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a
    )


def same(a: Checkpoint, b: Checkpoint) -> bool:
    """Whether two reads hold the same values: every tensor (dtype and shape too) and every entry."""
    optimizer_a, optimizer_b = dict(a.optimizer or {}), dict(b.optimizer or {})
    state_a, state_b = optimizer_a.pop("state", {}), optimizer_b.pop("state", {})
    assert isinstance(state_a, dict) and isinstance(state_b, dict)
    return (
        same_tensors(a.model, b.model) and same_tensors(a.rng, b.rng) and same_tensors(state_a, state_b)
        and optimizer_a == optimizer_b and a.scheduler == b.scheduler and a.epoch == b.epoch
        and a.history == b.history and a.metadata == b.metadata
    )  # fmt: skip


def regions(data: bytes) -> dict[str, range]:
    """The byte ranges of a safetensors file: length prefix, JSON header, its padding, each tensor."""
    size = int.from_bytes(data[:8], "little")
    text = data[8 : 8 + size]
    end = 8 + len(text.rstrip(b" "))
    parts = {"prefix": range(8), "header": range(8, end), "padding": range(end, 8 + size)}
    for key, entry in json.loads(text).items():
        if key != "__metadata__":
            start, stop = entry["data_offsets"]
            parts[f"tensor {key}"] = range(8 + size + start, 8 + size + stop)
    return parts


def region_of(parts: dict[str, range], byte: int) -> str:
    return next(name for name, span in parts.items() if byte in span)


def sampled_bits(parts: dict[str, range], seed: int = 0) -> list[int]:
    """Every bit of the prefix and of the padding, 1200 of the header, every bit of each tensor's first
    and last byte, and 300 more bits of tensor data: about 1,900 flips."""
    rng = random.Random(seed)
    bits = [8 * byte + b for name in ("prefix", "padding") for byte in parts[name] for b in range(8)]
    header = parts["header"]
    bits += rng.sample(range(8 * header.start, 8 * header.stop), 1200)
    tensors = [span for name, span in parts.items() if name.startswith("tensor ")]
    bits += [8 * byte + b for span in tensors for byte in (span[0], span[-1]) for b in range(8)]
    data = range(8 * min(s.start for s in tensors), 8 * max(s.stop for s in tensors))
    bits += rng.sample(data, 300)
    return sorted(set(bits))


# Parts of the file where a flipped bit could leave the read result unchanged. There are none:
# the metadata digest covers every metadata entry's parsed value, each tensor's digest covers its
# key, dtype, shape and bytes, and the set of tensor names must equal the set of recorded digests.
# The JSON padding is spaces (0x20): each single-bit flip of one gives a byte that JSON refuses
# after the closing brace (NUL, "!", '"', "$", "(", "0", "`" or 0xA0); no flip of 0x20 gives
# another whitespace. Growing the length prefix takes in a byte of tensor data, which safetensors
# then finds missing ("file not fully covered"), even where that byte happens to be a space.
HARMLESS_REGIONS: frozenset[str] = frozenset()


def test_every_single_bit_flip_is_refused_or_harmless(tmp_path: Path) -> None:
    """Flip single bits across the whole file (see ``sampled_bits``; an exhaustive run over the prefix,
    the header and every non-RNG tensor, 33,472 flips, gave the same result but takes minutes): each
    must raise ``CheckpointError`` or read back exactly what was saved, and the latter only inside
    ``HARMLESS_REGIONS``, which is empty: every flip is refused."""
    path, flipped = tmp_path / "run.safetensors", tmp_path / "flipped.safetensors"
    save_full(path)
    original, data = read_checkpoint(path), bytearray(path.read_bytes())
    parts = regions(bytes(data))
    bits = sampled_bits(parts)
    refused, harmless = 0, set()
    for bit in bits:
        byte, mask = bit // 8, 1 << (bit % 8)
        data[byte] ^= mask
        flipped.write_bytes(data)
        data[byte] ^= mask
        try:
            result = read_checkpoint(flipped)
        except CheckpointError:
            refused += 1
            continue
        assert same(result, original), f"bit {bit} ({region_of(parts, byte)}) loads changed values"
        harmless.add(region_of(parts, byte))
    assert len(bits) > 1800 and {region_of(parts, b // 8) for b in bits} == set(parts)
    assert harmless <= HARMLESS_REGIONS
    assert refused == len(bits)


def flip_inside(path: Path, key: str) -> None:
    data = bytearray(path.read_bytes())
    span = regions(bytes(data))[f"tensor {key}"]
    data[span[len(span) // 2]] ^= 0x10
    path.write_bytes(data)


def test_a_flipped_tensor_byte_names_the_tensor(tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"
    save_full(path)
    flip_inside(path, "model/0.weight")
    expected = (
        f"read_checkpoint: {path}: tensor 'model/0.weight' is corrupted: its SHA-256 digest does not match"
    )
    with pytest.raises(CheckpointError, match=f"^{re.escape(expected)}$"):
        read_checkpoint(path)
    model = mn.Sequential(mn.Linear(3, 4), mn.BatchNorm1d(4), mn.Linear(4, 2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=re.escape(expected)):
        load_checkpoint(path, model)
    assert same_tensors(model.state_dict(), before)


def edit_header(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (as long) in the JSON header, as a hand edit would."""
    data = path.read_bytes()
    assert len(old) == len(new) and data.count(old.encode()) == 1
    path.write_bytes(data.replace(old.encode(), new.encode()))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '"model/0.weight":{"dtype":"F64","shape":[4,3]',
            '"model/0.weight":{"dtype":"F64","shape":[3,4]',
            "tensor 'model/0.weight' is corrupted: its SHA-256 digest does not match",
        ),
        (
            '"model/1.num_batches_tracked":{"dtype":"I64"',
            '"model/1.num_batches_tracked":{"dtype":"F64"',
            "tensor 'model/1.num_batches_tracked' is corrupted: its SHA-256 digest does not match",
        ),
        ('"epoch":"1"', '"epoch":"7"', "the metadata is corrupted: its SHA-256 digest does not match"),
    ],
    ids=["shape", "dtype", "epoch"],
)
def test_an_edited_shape_dtype_or_metadata_entry_is_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = tmp_path / "run.safetensors"
    save_full(path)
    edit_header(path, old, new)
    with pytest.raises(CheckpointError, match=f"^{re.escape(f'read_checkpoint: {path}: {message}')}$"):
        read_checkpoint(path)


def rewrite(path: Path, change: dict[str, str | None]) -> None:
    """Write the checkpoint's tensors again with its metadata entries changed (``None`` drops one)."""
    tensors = safetensors.torch.load(path.read_bytes())  # not mmap-ed: the file changes
    with safetensors.safe_open(path, "pt") as file:
        metadata = file.metadata()
    for key, value in change.items():
        if value is None:
            metadata.pop(key)
        else:
            metadata[key] = value
    path.write_bytes(safetensors.torch.save(tensors, metadata=metadata))


def test_a_format_1_file_loads_with_exactly_one_warning(tmp_path: Path) -> None:
    """A /1 file, written by hand in the old layout (no ``digests`` entry), still loads everything."""
    path = tmp_path / "old.safetensors"
    save_full(path)
    saved = read_checkpoint(path)
    rewrite(path, {"format": OLD_FORMAT, "digests": None})
    model = mn.Sequential(mn.Linear(3, 4), mn.BatchNorm1d(4), mn.Linear(4, 2))
    optimizer = mn.SGD(model.parameters(), lr=0.5, momentum=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_checkpoint(
            path, model, optimizer=optimizer, scheduler=mn.StepLR(optimizer, step_size=9)
        )
    assert [w.category for w in caught] == [CheckpointWarning]
    assert str(caught[0].message) == (
        f"read_checkpoint: {path}: written without integrity digests (format {OLD_FORMAT}); "
        "it cannot be verified. Save it again to add them."
    )
    assert caught[0].filename == __file__  # it points at the caller of load_checkpoint
    assert same(loaded, saved) and same_tensors(model.state_dict(), saved.model)
    assert optimizer.hyperparameters() == {**optimizer.hyperparameters(), "lr": 0.1, "momentum": 0.9}


def test_a_format_2_file_does_not_warn(tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"
    save_full(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_checkpoint(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"format": "minitorch_nn.checkpoint/3"},
            "a safetensors file, but not a minitorch_nn checkpoint "
            "(expected metadata format 'minitorch_nn.checkpoint/2', got 'minitorch_nn.checkpoint/3')",
        ),
        ({"digests": None}, "the metadata is corrupted: its 'digests' entry is missing or unreadable"),
        ({"digests": "[1, 2]"}, "the metadata is corrupted: its 'digests' entry is missing or unreadable"),
    ],
    ids=["other-format", "no-digests", "bad-digests"],
)
def test_other_formats_and_missing_digests_are_refused(
    tmp_path: Path, change: dict[str, str | None], message: str
) -> None:
    path = tmp_path / "run.safetensors"
    save_full(path)
    rewrite(path, change)
    with pytest.raises(CheckpointError, match=f"^{re.escape(f'read_checkpoint: {path}: {message}')}$"):
        read_checkpoint(path)


def test_a_tensor_added_or_removed_after_saving_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"
    save_full(path)
    tensors = safetensors.torch.load(path.read_bytes())  # not mmap-ed: the file changes
    with safetensors.safe_open(path, "pt") as file:
        metadata = file.metadata()
    added = {**tensors, "model/extra": torch.zeros(2)}
    path.write_bytes(safetensors.torch.save(added, metadata=metadata))
    with pytest.raises(
        CheckpointError, match="tensor 'model/extra' is corrupted: the file records no digest"
    ):
        read_checkpoint(path)
    del tensors["rng/torch"]
    path.write_bytes(safetensors.torch.save(tensors, metadata=metadata))
    with pytest.raises(CheckpointError, match="tensor 'rng/torch' is missing: its digest is recorded"):
        read_checkpoint(path)


def test_a_damaged_format_1_header_raises_only_checkpoint_errors(tmp_path: Path) -> None:
    """Without digests a flip may load changed values (that is what /2 is for), but a damaged header
    never escapes as another exception (KeyError, TypeError, UnicodeDecodeError, safetensors' own)."""
    path, flipped = tmp_path / "old.safetensors", tmp_path / "flipped.safetensors"
    save_full(path)
    rewrite(path, {"format": OLD_FORMAT, "digests": None})
    data = bytearray(path.read_bytes())
    header = regions(bytes(data))["header"]
    outcomes = {"refused": 0, "loaded": 0}  # any other exception fails the test
    for bit in random.Random(1).sample(range(8 * header.start, 8 * header.stop), 1000):
        data[bit // 8] ^= 1 << (bit % 8)
        flipped.write_bytes(data)
        data[bit // 8] ^= 1 << (bit % 8)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CheckpointWarning)
                read_checkpoint(flipped)
        except CheckpointError:
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
    assert outcomes["refused"] > outcomes["loaded"] > 0
