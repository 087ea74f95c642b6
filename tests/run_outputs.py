"""What a training run leaves behind, read back for comparison (checkpoint tensors, metrics lines), and
the two ways tests tamper with a run: a deliberate tensor edit and a lock held by another process."""

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import safetensors.torch
import torch
from safetensors import safe_open

from minitorch_nn.checkpoint.integrity import tensor_digest

ROOT = Path(__file__).resolve().parent.parent


def trained_state(checkpoint: Path) -> dict[str, torch.Tensor]:
    """The model and optimizer tensors of a checkpoint, read with safetensors itself."""
    tensors = safetensors.torch.load_file(checkpoint)
    return {k: v for k, v in tensors.items() if k.startswith(("model/", "optimizer/"))}


def figures(metrics: Path) -> list[dict[str, object]]:
    """Every metrics line but its wall time, which no two runs share."""
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    return [{k: v for k, v in line.items() if k != "seconds"} for line in lines]


def zero_tensor(path: Path, key: str) -> None:
    """Zero one tensor of a checkpoint and record its new digest: an edit the digests cannot catch."""
    with safe_open(path, "pt") as file:
        metadata = dict(file.metadata())
        tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118  # no __iter__
    tensors[key] = torch.zeros_like(tensors[key])
    digests = json.loads(metadata["digests"])
    digests["tensors"][key] = tensor_digest(key, tensors[key])
    metadata["digests"] = json.dumps(digests)
    path.write_bytes(safetensors.torch.save(tensors, metadata=metadata))


@contextmanager
def locked_by_another_process(path: Path) -> Iterator[int]:
    """Hold ``CheckpointLock(path)`` in a second Python process while the block runs; yield its pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from minitorch_nn.checkpoint import CheckpointLock\n"
         f"with CheckpointLock({str(path)!r}):\n    print('locked', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder.pid
    finally:
        holder.communicate("", timeout=30)
