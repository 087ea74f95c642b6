"""Writing files atomically, and the random-generator states a checkpoint keeps."""

import os
import tempfile
from pathlib import Path

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.module import ModuleBase

__all__ = ["PathLike", "atomic_write", "module_generators", "rng_states"]

PathLike = str | os.PathLike[str]


def atomic_write(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash at any moment leaves the old file or the new one.

    The bytes go to a temporary file in the same folder, which is flushed,
    ``fsync``-ed and renamed over ``path`` (an atomic step on POSIX and
    Windows); then the folder is synced so that the rename itself survives a
    power cut. If anything fails, the temporary file is removed and ``path`` is
    untouched.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "data.bin"
        >>> atomic_write(path, b"first")
        >>> atomic_write(path, b"second")
        >>> path.read_bytes(), [p.name for p in path.parent.iterdir()]
        (b'second', ['data.bin'])
    """
    target = Path(path)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # POSIX: make the rename durable
        folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def module_generators(model: ModuleBase, prefix: str = "") -> dict[str, torch.Generator]:
    """Every ``torch.Generator`` a module holds as an attribute (such as ``Dropout``'s), by dotted name.

    Example:
        >>> import minitorch_nn as mn
        >>> model = mn.Sequential(mn.Linear(2, 2), mn.Dropout(0.5, generator=torch.Generator()))
        >>> list(module_generators(model))
        ['module.1.generator']
    """
    found = {f"module.{prefix}{k}": v for k, v in vars(model).items() if isinstance(v, torch.Generator)}
    for name, child in model.named_children():
        found.update(module_generators(child, f"{prefix}{name}."))
    return found


def rng_states(
    generator: torch.Generator | None = None, model: ModuleBase | None = None
) -> dict[str, Tensor]:
    """The global CPU and CUDA generator states, ``generator``'s, and those of ``model``'s generators.

    Example:
        >>> states = rng_states(torch.Generator().manual_seed(0))
        >>> sorted(states)[-2:], states["torch"].dtype
        (['generator', 'torch'], torch.uint8)
    """
    states = {"torch": torch.get_rng_state()}
    if model is not None:
        states.update((key, g.get_state()) for key, g in module_generators(model).items())
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # type: ignore[no-untyped-call]  # torch leaves it unannotated
        states.update((f"cuda.{i}", s) for i, s in enumerate(torch.cuda.get_rng_state_all()))
    if generator is not None:
        states["generator"] = generator.get_state()
    return states
