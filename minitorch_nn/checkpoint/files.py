"""Checkpoint files: the safetensors layout, atomic writes, and reading with a check of every part.

A checkpoint holds the model's parameters and buffers, the optimizer's and the
scheduler's state, the RNG states, the epoch, the history and any JSON metadata
(such as the network spec). Tensors live in the safetensors body under
``model/``, ``optimizer/`` and ``rng/``; everything else is JSON in its header,
with SHA-256 digests of every tensor and of the metadata (see
``minitorch_nn.checkpoint.integrity``) that every read checks. safetensors
never runs pickle, so opening an untrusted checkpoint is safe.
"""

import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import safetensors.torch
import torch

from minitorch_nn._types import Tensor
from minitorch_nn.checkpoint.integrity import DIGESTS, metadata_digest, tensor_digest
from minitorch_nn.checkpoint.io import PathLike, _kind, atomic_write, rng_states
from minitorch_nn.history import History
from minitorch_nn.module import ModuleBase
from minitorch_nn.optim.lr_scheduler import Scheduler, SchedulerState
from minitorch_nn.optim.optimizer import OptimizerBase, OptimizerState

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "CheckpointWarning",
    "read_checkpoint",
    "save_checkpoint",
]

FORMAT = "minitorch_nn.checkpoint/2"
"""The ``format`` entry of every checkpoint's metadata; ``read_checkpoint`` refuses other files.

Format ``/2`` adds SHA-256 digests of every tensor and of the metadata (see
``minitorch_nn.checkpoint.integrity``), checked on every read. Files of format
``/1``, which have none, still load, with a ``CheckpointWarning``.

Example:
    >>> FORMAT
    'minitorch_nn.checkpoint/2'
"""

_UNVERIFIED = "minitorch_nn.checkpoint/1"  # the previous format: the same layout, without digests


class CheckpointError(ValueError):
    """A checkpoint file cannot be read, is corrupted, or does not fit what it is loaded into.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.safetensors"
        >>> _ = path.write_bytes(b"not a checkpoint")
        >>> try:
        ...     read_checkpoint(path)
        ... except CheckpointError as error:
        ...     print(str(error).split(": ", 2)[2])
        not a safetensors file, or truncated: its header claims 7521891404167278446 bytes, but only 8 follow
    """


class CheckpointWarning(UserWarning):
    """A checkpoint was read but could not be verified: it has format ``/1``, written without digests.

    Example:
        >>> import tempfile, pathlib, warnings
        >>> import safetensors.torch
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "old.safetensors"
        >>> old = {"format": "minitorch_nn.checkpoint/1", "epoch": "2", "history": "[]", "metadata": "{}"}
        >>> _ = path.write_bytes(safetensors.torch.save({"model/w": torch.zeros(2)}, metadata=old))
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     read_checkpoint(path).epoch
        2
        >>> print(str(caught[0].message).split(": ", 2)[2])  # doctest: +ELLIPSIS
        written without integrity digests (format minitorch_nn.checkpoint/1); it cannot be verified. ...
    """


@dataclass(frozen=True)
class Checkpoint:
    """The contents of a checkpoint file, as ``read_checkpoint`` returns them (nothing applied yet).

    Attributes:
        model: ``{name: tensor}``, the model's ``state_dict`` (parameters and buffers), on the CPU.
        optimizer: the optimizer's ``state_dict``, or ``None``.
        scheduler: the scheduler's ``state_dict``, or ``None``.
        epoch: how many epochs had finished when it was saved.
        history: the per-epoch records up to then.
        rng: generator states: ``"torch"`` (the global CPU one), ``"cuda.<i>"``, ``"generator"`` (the
            data order's) and ``"module.<name>"`` (one a module holds, such as a ``Dropout``'s).
        metadata: the caller's JSON metadata, e.g. the network spec.

    Example:
        >>> import minitorch_nn as mn
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
        >>> save_checkpoint(path, mn.Linear(2, 1), epoch=3)
        >>> saved = read_checkpoint(path)
        >>> saved.epoch, sorted(saved.model), sorted(saved.rng)
        (3, ['bias', 'weight'], ['torch'])
    """

    model: dict[str, Tensor]
    optimizer: OptimizerState | None = None
    scheduler: SchedulerState | None = None
    epoch: int = 0
    history: History = field(default_factory=History)
    rng: dict[str, Tensor] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)


def save_checkpoint(
    path: PathLike,
    model: ModuleBase,
    *,
    optimizer: OptimizerBase | None = None,
    scheduler: Scheduler | None = None,
    generator: torch.Generator | None = None,
    history: History | None = None,
    epoch: int | None = None,
    metadata: Mapping[str, object] | None = None,
) -> None:
    """Save a checkpoint to ``path`` atomically (see ``atomic_write``), with a digest of every part.

    The file has format ``FORMAT``: a SHA-256 digest of each tensor (its key,
    dtype, shape and bytes) and of the metadata is stored with it, and
    ``read_checkpoint`` checks them all.

    Args:
        path: the file to write; its folder must exist.
        model: whose ``state_dict`` (parameters and buffers) is saved.
        optimizer: whose state is saved. Default: none.
        scheduler: whose state is saved. Default: none.
        generator: a data generator (e.g. the shuffling one) whose state is saved with torch's.
        history: the records so far. Default: empty.
        epoch: finished epochs. Default: ``len(history)``.
        metadata: JSON-serialisable extras, e.g. the network spec. Default: none.

    Raises:
        TypeError: if ``metadata`` is not JSON-serialisable.
        OutputPathError: if ``path`` is (or links to) a folder, device, FIFO or socket.
        OSError: if the file cannot be written; the previous file is then intact.

    Example:
        >>> import minitorch_nn as mn
        >>> import tempfile, pathlib
        >>> model = mn.Linear(3, 2, generator=torch.Generator().manual_seed(0))
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
        >>> save_checkpoint(path, model, epoch=4, metadata={"note": "demo"})
        >>> saved = read_checkpoint(path)
        >>> saved.epoch, saved.metadata, torch.equal(saved.model["weight"], model.weight.value)
        (4, {'note': 'demo'}, True)
    """
    history = history if history is not None else History()
    tensors = {f"model/{name}": tensor for name, tensor in model.state_dict().items()}
    header: dict[str, str] = {
        "format": FORMAT,
        "epoch": str(len(history) if epoch is None else epoch),
        "history": history.to_json(),
        "metadata": json.dumps(dict(metadata or {})),
    }
    if optimizer is not None:
        state = optimizer.state_dict()
        tensors.update((f"optimizer/{key}", tensor) for key, tensor in state["state"].items())
        header["optimizer"] = json.dumps({k: v for k, v in state.items() if k != "state"})
    if scheduler is not None:
        header["scheduler"] = json.dumps(scheduler.state_dict())
    tensors.update((f"rng/{key}", state) for key, state in rng_states(generator, model).items())
    body = {key: tensor.detach().cpu().contiguous() for key, tensor in tensors.items()}
    digests = {key: tensor_digest(key, tensor) for key, tensor in sorted(body.items())}
    header[DIGESTS] = json.dumps({"metadata": metadata_digest(header), "tensors": digests}, sort_keys=True)
    atomic_write(path, safetensors.torch.save(body, metadata=header))


def _claimed(where: str, prefix: bytes, total: int) -> int:
    """The header size the 8-byte ``prefix`` of a ``total``-byte file claims; refused if it cannot fit."""
    size = int.from_bytes(prefix, "little")
    if size > total - 8:
        raise CheckpointError(
            f"{where}: not a safetensors file, or truncated: its header claims {size} bytes, "
            f"but only {total - 8} follow"
        )
    return size


def _header(where: str, data: bytes) -> dict[str, object]:
    """Check the safetensors framing by hand, so each way a file can be broken gets its own message."""
    if len(data) < 8:
        raise CheckpointError(
            f"{where}: not a safetensors file ({len(data)} bytes, less than its 8-byte header)"
        )
    size = _claimed(where, data[:8], len(data))
    try:
        header = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"{where}: not a safetensors file (its header is not JSON: {reason})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{where}: not a safetensors file (its header is not a JSON object)")
    try:
        needed = max((int(e["data_offsets"][1]) for k, e in header.items() if k != "__metadata__"), default=0)
    except (TypeError, KeyError, IndexError, ValueError, OverflowError):
        raise CheckpointError(
            f"{where}: not a safetensors file (a tensor entry has no data_offsets)"
        ) from None
    if needed > len(data) - 8 - size:
        raise CheckpointError(
            f"{where}: truncated: its tensors need {needed} bytes, "
            f"but only {len(data) - 8 - size} follow the header"
        )
    return header


def _recorded_digests(where: str, meta: Mapping[str, object]) -> dict[str, object]:
    """The tensor digests a format /2 file records, once the metadata's own digest is checked."""
    try:
        recorded = json.loads(meta[DIGESTS])  # type: ignore[arg-type]  # a damaged file's TypeError is caught
        metadata, tensors = recorded["metadata"], recorded["tensors"]
    except (KeyError, TypeError, IndexError, json.JSONDecodeError, RecursionError):
        raise CheckpointError(
            f"{where}: the metadata is corrupted: its {DIGESTS!r} entry is missing or unreadable"
        ) from None
    if metadata != metadata_digest(meta) or not isinstance(tensors, dict):
        raise CheckpointError(f"{where}: the metadata is corrupted: its SHA-256 digest does not match")
    return tensors


def _tensors(where: str, data: bytes) -> dict[str, Tensor]:
    try:
        return safetensors.torch.load(data)
    except Exception as error:  # safetensors raises its own SafetensorError for any malformed body
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"{where}: unreadable tensors: {reason}") from None


def _check_tensors(where: str, recorded: Mapping[str, object], tensors: Mapping[str, Tensor]) -> None:
    """Every tensor has its recorded digest, and every recorded tensor is there."""
    for key, tensor in tensors.items():
        if key not in recorded:
            raise CheckpointError(
                f"{where}: tensor {key!r} is corrupted: the file records no digest for a tensor of that name"
            )
        if tensor_digest(key, tensor) != recorded[key]:
            raise CheckpointError(f"{where}: tensor {key!r} is corrupted: its SHA-256 digest does not match")
    for key in sorted(set(recorded) - set(tensors)):
        raise CheckpointError(
            f"{where}: tensor {key!r} is missing: its digest is recorded, but the file has no such tensor"
        )


def _text(where: str, meta: Mapping[str, object], key: str, default: str | None = None) -> str:
    value = meta.get(key, default)
    if not isinstance(value, str):
        raise CheckpointError(f"{where}: bad or missing metadata entry {key!r}")
    return value


def _json(where: str, meta: Mapping[str, object], key: str) -> dict[str, object]:
    """A metadata entry that holds a JSON object."""
    try:
        value = json.loads(_text(where, meta, key))
    except (json.JSONDecodeError, RecursionError):
        raise CheckpointError(f"{where}: bad or missing metadata entry {key!r}") from None
    if not isinstance(value, dict):
        raise CheckpointError(
            f"{where}: bad metadata entry {key!r}: expected a JSON object, got {type(value).__name__}"
        )
    return value


def _contents(where: str, meta: Mapping[str, object], tensors: Mapping[str, Tensor]) -> Checkpoint:
    """The ``Checkpoint`` that the header's entries and the tensors describe."""
    groups: dict[str, dict[str, Tensor]] = {"model": {}, "optimizer": {}, "rng": {}}
    for key, tensor in tensors.items():
        group, _, name = key.partition("/")
        if group not in groups:
            raise CheckpointError(f"{where}: unexpected tensor {key!r}")
        groups[group][name] = tensor
    optimizer = _json(where, meta, "optimizer") if "optimizer" in meta else None
    if optimizer is not None:
        optimizer["state"] = groups["optimizer"]
    try:
        history = History.from_json(_text(where, meta, "history", "[]"))
        epoch = int(_text(where, meta, "epoch"))
    except (ValueError, TypeError, RecursionError) as error:
        raise CheckpointError(f"{where}: bad history or epoch: {error}") from None
    if epoch < 0:
        raise CheckpointError(f"{where}: bad history or epoch: expected an epoch >= 0, got {epoch}")
    return Checkpoint(
        model=groups["model"],
        optimizer=optimizer,  # type: ignore[arg-type]  # checked by OptimizerBase.load_state_dict on load
        scheduler=_json(where, meta, "scheduler") if "scheduler" in meta else None,  # type: ignore[arg-type]  # checked on load
        epoch=epoch,
        history=history,
        rng=groups["rng"],
        metadata=_json(where, meta, "metadata"),
    )


def read_checkpoint(path: PathLike) -> Checkpoint:
    """Read and check a checkpoint without applying it; the file is only read.

    Every part is checked: the safetensors framing, the format, and (format
    ``/2``) the SHA-256 digest of the metadata and of every tensor, so that a
    changed byte anywhere is refused rather than loaded. A file of format ``/1``
    (no digests) is read with a ``CheckpointWarning``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        CheckpointError: if the file is truncated, corrupted, is not safetensors, or is not a
            minitorch_nn checkpoint. A digest mismatch names the tensor
            (``tensor 'model/0.weight' is corrupted: its SHA-256 digest does not match``) or the metadata.

    Warns:
        CheckpointWarning: if the file has format ``/1``, which cannot be verified.

    Example:
        >>> import minitorch_nn as mn
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
        >>> save_checkpoint(path, mn.Linear(2, 1), metadata={"spec": {"layers": [2, 1]}})
        >>> read_checkpoint(path).metadata
        {'spec': {'layers': [2, 1]}}
    """
    return _read(path, stacklevel=3)


def _read(path: PathLike, *, stacklevel: int) -> Checkpoint:
    """``read_checkpoint``, whose format /1 warning points ``stacklevel`` frames up (at the public caller)."""
    source = Path(path)
    where = f"read_checkpoint: {source}"
    kind = _kind(os.stat(source).st_mode)
    if kind is not None:
        raise CheckpointError(f"{where} is {kind}, not a checkpoint file")
    with open(source, "rb") as file:  # a header claiming more than the file holds: refused before reading
        prefix, total = file.read(8), os.fstat(file.fileno()).st_size
    if len(prefix) == 8:
        _claimed(where, prefix, total)
    data = source.read_bytes()
    meta = _header(where, data).get("__metadata__")
    found = meta.get("format") if isinstance(meta, dict) else None
    if not isinstance(meta, dict) or found not in (FORMAT, _UNVERIFIED):
        raise CheckpointError(
            f"{where}: a safetensors file, but not a minitorch_nn checkpoint "
            f"(expected metadata format {FORMAT!r}, got {found!r})"
        )
    recorded = _recorded_digests(where, meta) if found == FORMAT else None
    tensors = _tensors(where, data)
    if recorded is not None:
        _check_tensors(where, recorded, tensors)
    checkpoint = _contents(where, meta, tensors)
    if recorded is None:
        warnings.warn(
            f"{where}: written without integrity digests (format {_UNVERIFIED}); it cannot be verified. "
            "Save it again to add them.",
            CheckpointWarning,
            stacklevel=stacklevel,
        )
    return checkpoint
