"""Checkpoint files: the safetensors layout, atomic writes, and reading with a check of every part.

A checkpoint holds the model's parameters and buffers, the optimizer's and the
scheduler's state, the RNG states, the epoch, the history and any JSON metadata
(such as the network spec). Tensors live in the safetensors body under
``model/``, ``optimizer/`` and ``rng/``; everything else is JSON in its header.
safetensors never runs pickle, so opening an untrusted checkpoint is safe.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import safetensors.torch
import torch

from minitorch_nn._types import Tensor
from minitorch_nn.checkpoint.io import PathLike, atomic_write, rng_states
from minitorch_nn.history import History
from minitorch_nn.module import ModuleBase
from minitorch_nn.optimizer_base import OptimizerBase, OptimizerState
from minitorch_nn.schedulers import Scheduler, SchedulerState

__all__ = ["FORMAT", "Checkpoint", "CheckpointError", "read_checkpoint", "save_checkpoint"]

FORMAT = "minitorch_nn.checkpoint/1"
"""The ``format`` entry of every checkpoint's metadata; ``read_checkpoint`` refuses other files.

Example:
    >>> FORMAT
    'minitorch_nn.checkpoint/1'
"""


class CheckpointError(ValueError):
    """A checkpoint file cannot be read, or does not fit what it is loaded into.

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
    """Save a checkpoint to ``path`` atomically (see ``atomic_write``).

    Args:
        path: the file to write; its folder must exist.
        model: whose ``state_dict`` (parameters and buffers) is saved.
        optimizer: whose state is saved. Default: none.
        scheduler: whose state is saved. Default: none.
        generator: a data generator (e.g. the shuffling one) whose state is saved with torch's.
        history: the records so far. Default: empty.
        epoch: finished epochs. Default: ``len(history)``.
        metadata: JSON-serialisable extras, e.g. the network spec. Default: none.

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
    atomic_write(path, safetensors.torch.save(body, metadata=header))


def _header(path: Path, data: bytes) -> dict[str, object]:
    """Check the safetensors framing by hand, so each way a file can be broken gets its own message."""
    where = f"read_checkpoint: {path}"
    if len(data) < 8:
        raise CheckpointError(
            f"{where}: not a safetensors file ({len(data)} bytes, less than its 8-byte header)"
        )
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        raise CheckpointError(
            f"{where}: not a safetensors file, or truncated: its header claims {size} bytes, "
            f"but only {len(data) - 8} follow"
        )
    try:
        header = json.loads(data[8 : 8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{where}: not a safetensors file (its header is not JSON: {error})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{where}: not a safetensors file (its header is not a JSON object)")
    try:
        needed = max((int(e["data_offsets"][1]) for k, e in header.items() if k != "__metadata__"), default=0)
    except (TypeError, KeyError, IndexError, ValueError):
        raise CheckpointError(
            f"{where}: not a safetensors file (a tensor entry has no data_offsets)"
        ) from None
    if needed > len(data) - 8 - size:
        raise CheckpointError(
            f"{where}: truncated: its tensors need {needed} bytes, "
            f"but only {len(data) - 8 - size} follow the header"
        )
    return header


def _json(path: Path, header: Mapping[str, str], key: str) -> object:
    try:
        return json.loads(header[key])
    except (KeyError, json.JSONDecodeError) as error:
        raise CheckpointError(f"read_checkpoint: {path}: bad or missing metadata entry {key!r}") from error


def read_checkpoint(path: PathLike) -> Checkpoint:
    """Read and check a checkpoint without applying it; the file is only read.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        CheckpointError: if the file is truncated, is not safetensors, or is not a minitorch_nn checkpoint.

    Example:
        >>> import minitorch_nn as mn
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
        >>> save_checkpoint(path, mn.Linear(2, 1), metadata={"spec": {"layers": [2, 1]}})
        >>> read_checkpoint(path).metadata
        {'spec': {'layers': [2, 1]}}
    """
    source = Path(path)
    if source.is_dir():
        raise CheckpointError(f"read_checkpoint: {source} is a folder, not a checkpoint file")
    data = source.read_bytes()
    meta = _header(source, data).get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(
            f"read_checkpoint: {source}: a safetensors file, but not a minitorch_nn checkpoint "
            f"(expected metadata format {FORMAT!r}, got {found!r})"
        )
    try:
        tensors = safetensors.torch.load(data)
    except Exception as error:  # safetensors raises its own SafetensorError for any malformed body
        raise CheckpointError(f"read_checkpoint: {source}: unreadable tensors: {error}") from None
    groups: dict[str, dict[str, Tensor]] = {"model": {}, "optimizer": {}, "rng": {}}
    for key, tensor in tensors.items():
        group, _, name = key.partition("/")
        if group not in groups:
            raise CheckpointError(f"read_checkpoint: {source}: unexpected tensor {key!r}")
        groups[group][name] = tensor
    optimizer = _json(source, meta, "optimizer") if "optimizer" in meta else None
    if isinstance(optimizer, dict):
        optimizer["state"] = groups["optimizer"]
    try:
        history = History.from_json(meta.get("history", "[]"))
        epoch = int(meta.get("epoch", ""))
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"read_checkpoint: {source}: bad history or epoch: {error}") from None
    user = _json(source, meta, "metadata")
    return Checkpoint(
        model=groups["model"],
        optimizer=optimizer,  # type: ignore[arg-type]  # checked by OptimizerBase.load_state_dict on load
        scheduler=_json(source, meta, "scheduler") if "scheduler" in meta else None,  # type: ignore[arg-type]  # checked on load
        epoch=epoch,
        history=history,
        rng=groups["rng"],
        metadata=user if isinstance(user, dict) else {},
    )
