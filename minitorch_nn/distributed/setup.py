"""Process groups for data parallelism: set up from ``torchrun``'s environment, parameters from rank 0.

``torchrun`` (``torch.distributed.run``) starts one process per device and
tells each its ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT``. ``init_from_env`` joins the process group they describe
(gloo for CPU tensors, NCCL for CUDA ones); everything else reads the group
through ``torch.distributed``.
"""

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch._C._distributed_c10d import PrefixStore, Store, TCPStore

from minitorch_nn.module import ModuleBase

__all__ = [
    "DistributedContext",
    "broadcast_module",
    "init_from_env",
    "is_distributed",
    "is_main_process",
    "rank",
    "world_size",
]

_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in the group.

    Args:
        rank: this process's index, 0 to ``world_size - 1`` (0 writes checkpoints and prints).
        local_rank: its index on this machine (selects its GPU).
        world_size: how many processes train together.
        device: the device this process computes on.
        backend: ``"gloo"`` (CPU) or ``"nccl"`` (CUDA).

    Example:
        >>> DistributedContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"), backend="gloo")
        DistributedContext(rank=0, local_rank=0, world_size=1, device=device(type='cpu'), backend='gloo')
    """

    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    backend: str


def is_distributed() -> bool:
    """Whether a process group of more than one process is initialised.

    Example:
        >>> is_distributed()  # a plain Python process
        False
    """
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank, 0 outside a process group.

    Example:
        >>> rank()
        0
    """
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """The number of processes in the group, 1 outside a process group.

    Example:
        >>> world_size()
        1
    """
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """Whether this process prints, plots and writes checkpoints: rank 0, or the only process.

    Example:
        >>> is_main_process()
        True
    """
    return rank() == 0


def init_from_env(device: torch.device | str | None = None) -> DistributedContext:
    """Join the process group ``torchrun`` describes in the environment, once; return where we stand.

    Without ``torchrun``'s variables (``WORLD_SIZE`` unset) this is a
    single-process run and no group is created. With CUDA, each process uses
    ``cuda:LOCAL_RANK`` and the NCCL backend; on the CPU, gloo.

    Args:
        device: ``"cpu"`` or ``"cuda"``. Default: CUDA if available, else the CPU.

    Raises:
        RuntimeError: if some of ``torchrun``'s variables are set and others are missing.

    Example:
        >>> import os
        >>> "WORLD_SIZE" in os.environ, init_from_env("cpu").world_size
        (False, 1)
    """
    kind = (
        torch.device(device).type if device is not None else ("cuda" if torch.cuda.is_available() else "cpu")
    )
    present = [name for name in _ENV if name in os.environ]
    if not present:
        return DistributedContext(0, 0, 1, torch.device(kind), "gloo" if kind == "cpu" else "nccl")
    missing = [name for name in _ENV if name not in os.environ]
    if missing:
        raise RuntimeError(f"init_from_env: torchrun's variables are incomplete: {', '.join(missing)} unset")
    local_rank = int(os.environ["LOCAL_RANK"])
    where = torch.device("cuda", local_rank) if kind == "cuda" else torch.device("cpu")
    backend = "nccl" if kind == "cuda" else "gloo"
    if kind == "cuda":
        torch.cuda.set_device(where)
    if not dist.is_initialized():
        rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        dist.init_process_group(backend=backend, store=_store(rank, size), rank=rank, world_size=size)
    return DistributedContext(dist.get_rank(), local_rank, dist.get_world_size(), where, backend)


def _store(rank: int, size: int) -> Store:
    """The rendezvous store, with keys private to this attempt.

    When ``torchrun --max-restarts`` restarts the workers, its agent keeps the
    same store; without a per-attempt prefix, a restarted worker can read the
    address a dead worker published and fail to connect.
    """
    host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    store = TCPStore(host, port, size, is_master=rank == 0 and not agent, multi_tenant=not agent)
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    return PrefixStore(f"minitorch_nn/attempt_{attempt}", store)


def broadcast_module(model: ModuleBase, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers to every process, in place (a no-op alone).

    Example:
        >>> from minitorch_nn import Linear
        >>> broadcast_module(Linear(2, 2))  # outside a process group: nothing to do
    """
    if not is_distributed():
        return
    for tensor in model.state_dict().values():
        dist.broadcast(tensor, src=src)
