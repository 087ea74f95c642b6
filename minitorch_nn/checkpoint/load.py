"""Applying a checkpoint: every part is checked against its target before any of them changes."""

import json

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.checkpoint.files import (
    Checkpoint,
    CheckpointError,
    _read,
)
from minitorch_nn.checkpoint.io import PathLike, module_generators
from minitorch_nn.module import ModuleBase
from minitorch_nn.optim.lr_scheduler import Scheduler
from minitorch_nn.optim.optimizer import OptimizerBase

__all__ = ["load_checkpoint"]


def _check_model(where: str, checkpoint: Checkpoint, model: ModuleBase) -> None:
    result = model._compare_state(checkpoint.model)
    if any(result):
        spec = checkpoint.metadata.get("spec")
        saved = f" (it was saved from {json.dumps(spec)})" if spec is not None else ""
        lines = [f"{where}: the checkpoint does not fit {type(model).__name__}{saved}"]
        raise CheckpointError("\n".join(lines + model._mismatch_lines(result, checkpoint.model)))


def _generators(
    where: str, checkpoint: Checkpoint, model: ModuleBase, generator: torch.Generator | None
) -> dict[str, torch.Generator]:
    """The generators to restore, by key, each checked against its saved state."""
    targets = module_generators(model)
    if generator is not None:
        targets["generator"] = generator
    for key, target in targets.items():
        state = checkpoint.rng.get(key)
        if state is None:
            raise CheckpointError(f"{where}: the checkpoint has no state for the generator {key!r}")
        if state.dtype != torch.uint8 or state.shape != target.get_state().shape:
            raise CheckpointError(
                f"{where}: expected the state of generator {key!r} to have shape "
                f"{tuple(target.get_state().shape)} (uint8), got {tuple(state.shape)} ({state.dtype})"
            )
        _check_state(where, key, state, torch.Generator(device=target.device))
    return targets


def _check_state(where: str, key: str, state: Tensor, scratch: torch.Generator) -> None:
    """Raise ``CheckpointError`` unless ``state`` is one a generator accepts (tried on ``scratch``)."""
    try:
        scratch.set_state(state)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "refused"
        raise CheckpointError(f"{where}: the state of generator {key!r} is not valid ({first})") from None


def _load_states(
    where: str, checkpoint: Checkpoint, optimizer: OptimizerBase | None, scheduler: Scheduler | None
) -> None:
    """Load the optimizer's and the scheduler's state, or neither."""
    before = optimizer.state_dict() if optimizer is not None else None
    try:
        for name, target, state in (
            ("optimizer", optimizer, checkpoint.optimizer),
            ("scheduler", scheduler, checkpoint.scheduler),
        ):
            if target is None:
                continue
            if state is None:
                raise CheckpointError(f"{where}: the checkpoint has no {name} state")
            try:
                target.load_state_dict(state)
            except ValueError as error:
                raise CheckpointError(f"{where}: {error}") from None
    except CheckpointError:
        if optimizer is not None and before is not None:
            optimizer.load_state_dict(before)
        raise


def load_checkpoint(
    path: PathLike,
    model: ModuleBase,
    *,
    optimizer: OptimizerBase | None = None,
    scheduler: Scheduler | None = None,
    generator: torch.Generator | None = None,
    restore_rng: bool = True,
) -> Checkpoint:
    """Load a checkpoint into ``model`` (and the optimizer, scheduler and generator if given).

    Everything is checked first: the file's framing and digests (see
    ``read_checkpoint``), the model's keys and shapes, the optimizer's and
    scheduler's state. On any problem a ``CheckpointError`` names it, and
    neither the file nor any object has changed. With ``restore_rng`` torch's
    global RNG state (CPU, and CUDA where saved) is restored too, so that
    training continues bit for bit.

    Args:
        path: the checkpoint file.
        model: receives the parameters and buffers (keys and shapes must match exactly).
        optimizer: receives the optimizer state. Default: not loaded.
        scheduler: receives the scheduler state. Default: not loaded.
        generator: receives the saved data-generator state. Default: not loaded. Generators
            that modules hold (a ``Dropout``'s) are always restored.
        restore_rng: restore torch's global RNG states. Default: ``True``.

    Returns:
        The ``Checkpoint`` that was read (epoch, history, metadata, ...).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        CheckpointError: if the file is broken, is corrupted (a digest does not match), or does not
            fit the objects given.

    Warns:
        CheckpointWarning: if the file has format ``/1``, which has no digests to check.

    Example:
        >>> import minitorch_nn as mn
        >>> import tempfile, pathlib
        >>> from minitorch_nn.checkpoint import save_checkpoint
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
        >>> save_checkpoint(path, mn.Linear(3, 2), epoch=1)
        >>> load_checkpoint(path, mn.Linear(4, 2))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        minitorch_nn.checkpoint.files.CheckpointError: ...: the checkpoint does not fit Linear
          shape mismatch for weight: expected (2, 4), got (2, 3)
    """
    where = f"load_checkpoint: {path}"
    checkpoint = _read(path, stacklevel=3)
    _check_model(where, checkpoint, model)
    generators = _generators(where, checkpoint, model, generator)
    cuda = sorted(key for key in checkpoint.rng if key.startswith("cuda."))
    if restore_rng and "torch" not in checkpoint.rng:
        raise CheckpointError(f"{where}: the checkpoint has no torch RNG state")
    if restore_rng:
        _check_state(where, "torch", checkpoint.rng["torch"], torch.Generator())
    _load_states(where, checkpoint, optimizer, scheduler)
    model.load_state_dict(checkpoint.model)
    for key, target in generators.items():
        target.set_state(checkpoint.rng[key])
    if restore_rng:
        torch.set_rng_state(checkpoint.rng["torch"])
        if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([checkpoint.rng[key] for key in cuda])
    return checkpoint
