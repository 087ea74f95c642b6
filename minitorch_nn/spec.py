"""Network specs: a multilayer perceptron described by plain values, buildable and storable as JSON.

A checkpoint stores its network's spec, so ``minitorch-nn evaluate`` and
``--resume`` can rebuild the network without any Python code.
"""

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import torch

from minitorch_nn import init
from minitorch_nn.module import Module
from minitorch_nn.modules.activation import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
)
from minitorch_nn.modules.container import Sequential
from minitorch_nn.modules.dropout import Dropout
from minitorch_nn.modules.linear import Linear

__all__ = ["ACTIVATIONS", "NetworkSpec", "available_memory", "format_bytes", "parse_layers"]

ACTIVATIONS: dict[str, Callable[[], Module]] = {
    "tanh": Tanh,
    "relu": ReLU,
    "leaky-relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "silu": SiLU,
    "softplus": Softplus,
    "sigmoid": Sigmoid,
    "identity": Identity,
}
"""The activations a spec may name, by name."""


def parse_layers(text: str) -> tuple[int, ...]:
    """``"784,256,10"`` -> ``(784, 256, 10)``; at least two sizes, each >= 1.

    Example:
        >>> parse_layers("784, 50,10")
        (784, 50, 10)
        >>> parse_layers("784,x")
        Traceback (most recent call last):
            ...
        ValueError: expected two or more comma-separated sizes >= 1, such as 784,256,10, got '784,x'
    """
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"expected two or more comma-separated sizes >= 1, such as 784,256,10, got {text!r}")
    return sizes


ADDRESSABLE_BYTES = 2**63 - 1
"""No tensor, and no machine torch runs on, holds more bytes than a signed 64-bit size."""

_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def _scientific(value: int) -> str:
    """``value`` >= 1 as ``1.2e+34``, through its logarithm: any size of int, never an OverflowError."""
    log = math.log10(value)
    exponent = math.floor(log)
    mantissa = round(10 ** (log - exponent), 1)
    if mantissa >= 10:
        mantissa, exponent = 1.0, exponent + 1
    return f"{mantissa:.1f}e+{exponent}"


def _number(value: int, digits: int = 15) -> str:
    """An int as is, or in scientific notation past ``digits`` digits (Python prints none past 4300)."""
    return str(value) if value < 10**digits else _scientific(value)


def format_bytes(count: int) -> str:
    """A byte count in binary units, one decimal: ``KiB``, ``MiB``, ... up to ``YiB``.

    Args:
        count: a number of bytes, >= 0; any size of int.

    Example:
        >>> format_bytes(512), format_bytes(2 * 1024**3 + 1024**3 // 2), format_bytes(3200000000016)
        ('512 bytes', '2.5 GiB', '2.9 TiB')
        >>> format_bytes(10**400)
        '8.3e+375 YiB'
    """
    if count < 1024:
        return f"{count} bytes"
    power = 1
    while power < len(_UNITS) - 1 and count >= 1024 ** (power + 1):
        power += 1
    scaled = count // 1024**power  # past 10**15 YiB a float division would overflow
    value = f"{count / 1024**power:.1f}" if scaled < 10**15 else _scientific(scaled)
    return f"{value} {_UNITS[power]}"


def available_memory(device: torch.device | str) -> int | None:
    """Bytes that new tensors on ``device`` can take now, or ``None`` where that is not known.

    The CPU: ``MemAvailable`` from ``/proc/meminfo``, else the physical memory
    (``os.sysconf``). CUDA: the free memory ``torch.cuda.mem_get_info`` reports,
    plus what torch's caching allocator holds but does not use. Other devices:
    ``None``.

    Args:
        device: the device, such as ``"cpu"`` or ``"cuda:0"``.

    Example:
        >>> available_memory("cpu") > 0
        True
        >>> available_memory("meta") is None
        True
    """
    device = torch.device(device)
    if device.type == "cpu":
        return _cpu_memory()
    if device.type == "cuda":
        try:
            free, _ = torch.cuda.mem_get_info(device)
            cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        except (AssertionError, RuntimeError, ValueError):  # no CUDA build, no such device, no driver
            return None
        return int(free) + int(cached)
    return None


def _cpu_memory() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # no sysconf (Windows), or names it does not know
        return None
    return pages * size if pages > 0 and size > 0 else None


def _limits(target: torch.device) -> list[tuple[int, str]]:
    """The byte counts that parameters for ``target`` must fit in, each with its words for a message."""
    limits = [(ADDRESSABLE_BYTES, "any machine can address")]
    cpu = available_memory("cpu")
    if cpu is not None and target.type == "cpu":
        limits.append((cpu, "of memory available"))
    elif cpu is not None:
        drawn = f"the parameters are drawn there before they move to {target}"
        limits.append((cpu, f"of CPU memory available ({drawn})"))
    device = available_memory(target) if target.type != "cpu" else None
    if device is not None:
        limits.append((device, f"of memory available on {target}"))
    return limits


@dataclass(frozen=True)
class NetworkSpec:
    """``Linear`` layers of the given sizes with an activation (and optional dropout) between them.

    Args:
        layers: the sizes, input first: ``(784, 256, 10)`` is ``Linear(784, 256)``, act, ``Linear(256, 10)``.
        activation: the name of the hidden activation (a key of ``ACTIVATIONS``). Default: ``"relu"``.
        output_activation: an activation after the last layer, or ``None``. Default: ``None``.
        dropout: the probability of a ``Dropout`` after each hidden activation; 0 for none. Default: 0.
        init_std: ``None`` for the default ``Linear`` initialisation from a generator seeded with the
            build's seed; a number draws every weight and bias from N(0, init_std²) after
            ``torch.manual_seed(seed)``, in order (the course notebook's recipe). Default: ``None``.

    Raises:
        ValueError: for fewer than two sizes, a size below 1, an unknown activation, or a bad probability.

    Example:
        >>> spec = NetworkSpec((784, 50, 10), activation="tanh", output_activation="tanh")
        >>> spec.build(seed=0)
        Sequential(
          (0): Linear(in_features=784, out_features=50)
          (1): Tanh()
          (2): Linear(in_features=50, out_features=10)
          (3): Tanh()
        )
        >>> NetworkSpec.from_dict(spec.to_dict()) == spec
        True
        >>> spec.parameter_count(), spec.parameter_bytes(torch.float32)
        (39760, 159040)
    """

    layers: tuple[int, ...]
    activation: str = "relu"
    output_activation: str | None = None
    dropout: float = 0.0
    init_std: float | None = None

    def __post_init__(self) -> None:
        if len(self.layers) < 2 or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in self.layers
        ):
            raise ValueError(f"NetworkSpec: expected at least two layer sizes >= 1, got {self.layers}")
        for name in (self.activation, self.output_activation):
            if name is not None and name not in ACTIVATIONS:
                raise ValueError(
                    f"NetworkSpec: expected an activation in {sorted(ACTIVATIONS)}, got {name!r}"
                )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"NetworkSpec: expected dropout in [0, 1), got {self.dropout}")
        if self.init_std is not None and not (math.isfinite(self.init_std) and self.init_std > 0):
            raise ValueError(f"NetworkSpec: expected init_std > 0, got {self.init_std}")

    def parameter_count(self) -> int:
        """The number of trainable values: ``(in + 1) * out`` for each ``Linear`` (weight and bias).

        Computed from the sizes alone, without building anything, so it works for any size.

        Example:
            >>> NetworkSpec((784, 256, 10)).parameter_count()
            203530
            >>> NetworkSpec((2, 100000000000, 2)).parameter_count()  # 3 * 10**11 + (10**11 + 1) * 2
            500000000002
        """
        return sum(
            (size_in + 1) * size_out for size_in, size_out in zip(self.layers, self.layers[1:], strict=False)
        )

    def parameter_bytes(self, dtype: torch.dtype | None = None) -> int:
        """Bytes of the parameter values in ``dtype`` (default: torch's default dtype).

        ``build`` needs twice this: every ``Parameter`` holds a gradient buffer
        of the same size. Optimizer state (momentum, Adam's moments) comes on top.

        Example:
            >>> NetworkSpec((784, 256, 10)).parameter_bytes(torch.float64)
            1628240
        """
        return self.parameter_count() * (dtype or torch.get_default_dtype()).itemsize

    def check_memory(
        self, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> None:
        """Refuse a network whose values and gradients do not fit in the memory available now.

        ``build`` calls this before it allocates anything. The parameters are
        drawn on the CPU and then moved, so a network for another device must
        fit in the CPU's memory too. Where the available memory is not known,
        only sizes that no machine can address are refused.

        Args:
            dtype: the parameters' dtype. Default: torch's default dtype.
            device: where they will live. Default: torch's default device.

        Raises:
            ValueError: naming the parameter count, the bytes needed and the bytes available.

        Example:
            >>> NetworkSpec((784, 256, 10)).check_memory(torch.float32, "cpu")
            >>> NetworkSpec((2, 10**20, 2)).check_memory(torch.float32, "cpu")
            Traceback (most recent call last):
                ...
            ValueError: NetworkSpec(layers=(2, 100000000000000000000, 2)): its 5.0e+20 parameters need
            3.4 ZiB in float32 (values and gradients), more than the 8.0 EiB any machine can address
        """
        dtype = dtype or torch.get_default_dtype()
        target = torch.device(device) if device is not None else torch.get_default_device()
        needed = 2 * self.parameter_bytes(dtype)
        for limit, what in _limits(target):
            if needed > limit:
                sizes = ", ".join(_number(size, digits=30) for size in self.layers)
                raise ValueError(
                    f"NetworkSpec(layers=({sizes})): its {_number(self.parameter_count())} parameters need "
                    f"{format_bytes(needed)} in {str(dtype).removeprefix('torch.')} (values and gradients), "
                    f"more than the {format_bytes(limit)} {what}"
                )

    def build(
        self, seed: int = 0, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Sequential:
        """A new network of ``dtype`` on ``device`` (default: torch's); a seed fixes parameters and masks.

        Parameters are drawn on the CPU and then moved, so one seed gives the
        same network on every device. Before anything is allocated,
        ``check_memory`` refuses a network whose parameters and gradients do
        not fit in the memory available.

        Raises:
            ValueError: if the parameters and their gradients do not fit (see ``check_memory``).
        """
        self.check_memory(dtype, device)
        generator = torch.Generator().manual_seed(seed)
        modules: list[Module] = []  # one Sequential(*modules): its instance check walks the tree once
        for index, (size_in, size_out) in enumerate(zip(self.layers, self.layers[1:], strict=False)):
            modules.append(Linear(size_in, size_out, generator=generator, dtype=dtype))
            if index < len(self.layers) - 2:
                modules.append(ACTIVATIONS[self.activation]())
                if self.dropout > 0:
                    modules.append(
                        Dropout(self.dropout, generator=torch.Generator().manual_seed(seed + 1 + index))
                    )
        if self.output_activation is not None:
            modules.append(ACTIVATIONS[self.output_activation]())
        model = Sequential(*modules)
        if self.init_std is not None:
            torch.manual_seed(seed)
            for param in model.parameters():
                init.normal_(param, 0.0, self.init_std)
        return model.to(device=device)

    def to_dict(self) -> dict[str, object]:
        """Plain values, for JSON."""
        values = asdict(self)
        values["layers"] = list(self.layers)
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> "NetworkSpec":
        """Read what ``to_dict`` wrote; raise ``ValueError`` for unknown keys or bad values."""
        unknown = sorted(set(values) - {"layers", "activation", "output_activation", "dropout", "init_std"})
        layers = values.get("layers")
        if unknown or not isinstance(layers, list | tuple):
            raise ValueError(f"NetworkSpec: expected a spec with a list of layers, got {dict(values)}")
        rest = {k: v for k, v in values.items() if k != "layers"}
        return cls(tuple(layers), **rest)  # type: ignore[arg-type]  # __post_init__ checks every value
