"""Checkpoints: safetensors files, written atomically, checked completely before anything is loaded."""

from minitorch_nn.checkpoint.files import (
    FORMAT,
    Checkpoint,
    CheckpointError,
    read_checkpoint,
    save_checkpoint,
)
from minitorch_nn.checkpoint.io import atomic_write, module_generators, rng_states
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
