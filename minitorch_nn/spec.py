"""Network specs: a multilayer perceptron described by plain values, buildable and storable as JSON.

A checkpoint stores its network's spec, so ``minitorch-nn evaluate`` and
``--resume`` can rebuild the network without any Python code.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import torch

from minitorch_nn import init
from minitorch_nn.activations import ELU, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from minitorch_nn.containers import Sequential
from minitorch_nn.dropout import Dropout
from minitorch_nn.layers import Linear
from minitorch_nn.module import Module
from minitorch_nn.smooth_activations import GELU, SiLU, Softplus

__all__ = ["ACTIVATIONS", "NetworkSpec", "parse_layers"]

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

    def build(
        self, seed: int = 0, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Sequential:
        """A new network of ``dtype`` on ``device`` (default: torch's); a seed fixes parameters and masks.

        Parameters are drawn on the CPU and then moved, so one seed gives the
        same network on every device.
        """
        generator = torch.Generator().manual_seed(seed)
        model = Sequential()
        for index, (size_in, size_out) in enumerate(zip(self.layers, self.layers[1:], strict=False)):
            model.append(Linear(size_in, size_out, generator=generator, dtype=dtype))
            if index < len(self.layers) - 2:
                model.append(ACTIVATIONS[self.activation]())
                if self.dropout > 0:
                    model.append(
                        Dropout(self.dropout, generator=torch.Generator().manual_seed(seed + 1 + index))
                    )
        if self.output_activation is not None:
            model.append(ACTIVATIONS[self.output_activation]())
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
