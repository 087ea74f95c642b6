"""Checkpoints: safetensors files, written atomically, checked completely before anything is loaded."""

from minitorch_nn.checkpoint.files import (
    FORMAT,
    Checkpoint,
    CheckpointError,
    atomic_write,
    module_generators,
    read_checkpoint,
    rng_states,
    save_checkpoint,
)
from minitorch_nn.checkpoint.load import load_checkpoint

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "atomic_write",
    "load_checkpoint",
    "module_generators",
    "read_checkpoint",
    "rng_states",
    "save_checkpoint",
]
