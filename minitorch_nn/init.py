"""Initialisers, filling a tensor in place, with the formulas of ``torch.nn.init``.

Each takes a ``Tensor`` or a ``Parameter`` (its ``value`` is filled) and an
optional ``torch.Generator``; with ``generator=None`` torch's global generator
is used, so ``torch.manual_seed`` makes the draw reproducible. Given the same
generator state, each draws exactly what its ``torch.nn.init`` namesake draws.
"""

import math
from typing import Literal

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.parameter import Parameter

__all__ = [
    "FanMode",
    "Nonlinearity",
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

Nonlinearity = Literal[
    "linear", "conv1d", "conv2d", "conv3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"
]
"""The nonlinearities ``calculate_gain`` knows, as ``torch.nn.init`` names them.

Example:
    >>> from typing import get_args
    >>> "tanh" in get_args(Nonlinearity)
    True
"""
FanMode = Literal["fan_in", "fan_out"]
"""Which fan the Kaiming initialisers scale by: inputs (forward pass) or outputs (backward pass).

Example:
    >>> from typing import get_args
    >>> get_args(FanMode)
    ('fan_in', 'fan_out')
"""


def _tensor(target: Tensor | Parameter) -> Tensor:
    return target.value if isinstance(target, Parameter) else target


def uniform_(
    tensor: Tensor | Parameter,
    a: float = 0.0,
    b: float = 1.0,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Fill with values drawn from the uniform distribution U(a, b).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> uniform_(torch.empty(2, 2), -1.0, 1.0, generator=g).abs().le(1.0).all().item()
        True
    """
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    with torch.no_grad():
        return _tensor(tensor).uniform_(a, b, generator=generator)


def normal_(
    tensor: Tensor | Parameter,
    mean: float = 0.0,
    std: float = 1.0,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Fill with values drawn from the normal distribution N(mean, std²).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> normal_(torch.empty(1000), 0.0, 1e-6, generator=g).std().item() < 2e-6
        True
    """
    if std < 0:
        raise ValueError(f"normal_: expected std >= 0, got {std}")
    with torch.no_grad():
        return _tensor(tensor).normal_(mean, std, generator=generator)


def constant_(tensor: Tensor | Parameter, val: float) -> Tensor:
    """Fill with the constant ``val``.

    Example:
        >>> constant_(torch.empty(3), 0.5).tolist()
        [0.5, 0.5, 0.5]
    """
    with torch.no_grad():
        return _tensor(tensor).fill_(val)


def zeros_(tensor: Tensor | Parameter) -> Tensor:
    """Fill with zeros.

    Example:
        >>> zeros_(torch.ones(2)).tolist()
        [0.0, 0.0]
    """
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor | Parameter) -> Tensor:
    """Fill with ones.

    Example:
        >>> ones_(torch.zeros(2)).tolist()
        [1.0, 1.0]
    """
    return constant_(tensor, 1.0)


def calculate_gain(nonlinearity: Nonlinearity, param: float | None = None) -> float:
    """Return the recommended gain for ``nonlinearity``, as ``torch.nn.init.calculate_gain``.

    Args:
        nonlinearity: the name of the function that follows the layer.
        param: the negative slope for ``"leaky_relu"``. Default: 0.01.

    Example:
        >>> round(calculate_gain("tanh"), 4)
        1.6667
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fans(tensor: Tensor) -> tuple[int, int]:
    if tensor.dim() < 2:
        raise ValueError(
            f"fan in and fan out need a tensor of at least 2 dimensions, got shape {tuple(tensor.shape)}"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def xavier_uniform_(
    tensor: Tensor | Parameter, gain: float = 1.0, *, generator: torch.Generator | None = None
) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Example:
        >>> w = xavier_uniform_(torch.empty(50, 784), generator=torch.Generator().manual_seed(0))
        >>> bool(w.abs().max() <= (6 / (784 + 50)) ** 0.5)
        True
    """
    fan_in, fan_out = _fans(_tensor(tensor))
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(
    tensor: Tensor | Parameter, gain: float = 1.0, *, generator: torch.Generator | None = None
) -> Tensor:
    """Glorot normal: N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Example:
        >>> w = xavier_normal_(torch.empty(50, 784), generator=torch.Generator().manual_seed(0))
        >>> round(w.std().item(), 2)
        0.05
    """
    fan_in, fan_out = _fans(_tensor(tensor))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator=generator)


def _kaiming_std(tensor: Tensor, a: float, mode: FanMode, nonlinearity: Nonlinearity) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: expected mode 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor | Parameter,
    a: float = 0.0,
    mode: FanMode = "fan_in",
    nonlinearity: Nonlinearity = "leaky_relu",
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain from ``calculate_gain``.

    Args:
        tensor: the tensor (or parameter) to fill.
        a: the negative slope of the rectifier that follows. Default: 0.
        mode: ``"fan_in"`` keeps the forward variance, ``"fan_out"`` the backward. Default: ``"fan_in"``.
        nonlinearity: the function that follows. Default: ``"leaky_relu"``.
        generator: the random generator. Default: torch's global generator.

    Example:
        >>> w = kaiming_uniform_(torch.empty(50, 784), nonlinearity="relu",
        ...                      generator=torch.Generator().manual_seed(0))
        >>> bool(w.abs().max() <= (6 / 784) ** 0.5)
        True
    """
    bound = math.sqrt(3.0) * _kaiming_std(_tensor(tensor), a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(
    tensor: Tensor | Parameter,
    a: float = 0.0,
    mode: FanMode = "fan_in",
    nonlinearity: Nonlinearity = "leaky_relu",
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """He normal: N(0, std²) with std = gain / sqrt(fan), gain from ``calculate_gain``.

    Args:
        tensor: the tensor (or parameter) to fill.
        a: the negative slope of the rectifier that follows. Default: 0.
        mode: ``"fan_in"`` keeps the forward variance, ``"fan_out"`` the backward. Default: ``"fan_in"``.
        nonlinearity: the function that follows. Default: ``"leaky_relu"``.
        generator: the random generator. Default: torch's global generator.

    Example:
        >>> w = kaiming_normal_(torch.empty(256, 784), nonlinearity="relu",
        ...                     generator=torch.Generator().manual_seed(0))
        >>> round(w.std().item(), 3)
        0.051
    """
    std = _kaiming_std(_tensor(tensor), a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator=generator)
