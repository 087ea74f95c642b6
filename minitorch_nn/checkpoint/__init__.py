"""Checkpoints: safetensors files with a digest of every part, written atomically under a run lock,
checked completely before anything is loaded."""

from minitorch_nn.checkpoint.files import (
    FORMAT,
    Checkpoint,
    CheckpointError,
    CheckpointWarning,
    read_checkpoint,
    save_checkpoint,
)
from minitorch_nn.checkpoint.io import (
    OutputPathError,
    atomic_write,
    module_generators,
    output_path_problem,
    rng_states,
)
from minitorch_nn.checkpoint.load import load_checkpoint
from minitorch_nn.checkpoint.lock import CheckpointLock, CheckpointLockedError

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "CheckpointLock",
    "CheckpointLockedError",
    "CheckpointWarning",
    "OutputPathError",
    "atomic_write",
    "load_checkpoint",
    "module_generators",
    "output_path_problem",
    "read_checkpoint",
    "rng_states",
    "save_checkpoint",
]
