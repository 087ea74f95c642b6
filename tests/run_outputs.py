"""What a training run leaves behind, read back for comparison: checkpoint tensors and metrics lines."""

import json
from pathlib import Path

import safetensors.torch
import torch


def trained_state(checkpoint: Path) -> dict[str, torch.Tensor]:
    """The model and optimizer tensors of a checkpoint, read with safetensors itself."""
    tensors = safetensors.torch.load_file(checkpoint)
    return {k: v for k, v in tensors.items() if k.startswith(("model/", "optimizer/"))}


def figures(metrics: Path) -> list[dict[str, object]]:
    """Every metrics line but its wall time, which no two runs share."""
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    return [{k: v for k, v in line.items() if k != "seconds"} for line in lines]
