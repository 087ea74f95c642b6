"""The torch.nn twin of a minitorch_nn network: the same structure in torch.nn modules, the same values.

The benchmarks time a network against its twin, and the tests compare
trajectories with it. ``to_torch`` maps every library module to the torch.nn
module of the same name and arguments, ``Residual`` and ``Concat`` to the two
small torch.nn containers below, and then loads our ``state_dict`` into the
twin with ``strict=True``: the parameter and buffer names must match one for
one, which checks that the two structures are the same.
"""

from __future__ import annotations

import torch

import minitorch_nn as mn

__all__ = ["TorchConcat", "TorchResidual", "to_torch"]


class TorchResidual(torch.nn.Module):
    """``body(x) + shortcut(x)`` (``+ x`` without a shortcut), as ``minitorch_nn.Residual``."""

    def __init__(self, body: torch.nn.Module, shortcut: torch.nn.Module | None) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x)
        return out + (x if self.shortcut is None else self.shortcut(x))


class TorchConcat(torch.nn.Module):
    """The branches' outputs joined along ``dim``, as ``minitorch_nn.Concat`` (children ``0``, ``1``, ...)."""

    def __init__(self, branches: list[torch.nn.Module], dim: int) -> None:
        super().__init__()
        for index, branch in enumerate(branches):
            self.add_module(str(index), branch)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.children()], dim=self.dim)


_SAME_NAME = ("Identity", "Tanh", "Sigmoid", "ReLU", "SiLU", "Flatten")
_POOLS = {
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "AdaptiveAvgPool2d": ("output_size",),
    "Upsample": ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
}


def _convert(m: mn.Module) -> torch.nn.Module:
    nn = torch.nn
    name = type(m).__name__
    if isinstance(m, mn.Sequential):
        return nn.Sequential(*(_convert(child) for child in m))
    if isinstance(m, mn.Residual):
        return TorchResidual(_convert(m.body), None if m.shortcut is None else _convert(m.shortcut))
    if isinstance(m, mn.Concat):
        return TorchConcat([_convert(branch) for branch in m], m.dim)
    if isinstance(m, mn.Linear):
        return nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
    if isinstance(m, mn.Conv2d):
        return nn.Conv2d(
            m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation, m.groups,
            m.bias is not None, m.padding_mode,  # type: ignore[arg-type]  # ours is checked against torch's four
        )  # fmt: skip
    if isinstance(m, mn.ConvTranspose2d):
        return nn.ConvTranspose2d(
            m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.output_padding, m.groups,
            m.bias is not None, m.dilation,
        )  # fmt: skip
    if isinstance(m, mn.BatchNorm1d | mn.BatchNorm2d):
        kind = nn.BatchNorm1d if isinstance(m, mn.BatchNorm1d) else nn.BatchNorm2d
        return kind(m.num_features, m.eps, m.momentum, m.weight is not None, m.track_running_stats)
    if isinstance(m, mn.LayerNorm):
        return nn.LayerNorm(m.normalized_shape, m.eps, m.elementwise_affine, bias=m.bias is not None)
    if name in _POOLS:
        pool: type[torch.nn.Module] = getattr(nn, name)
        return pool(**{setting: getattr(m, setting) for setting in _POOLS[name]})
    if name in _SAME_NAME:
        same: type[torch.nn.Module] = getattr(nn, name)
        return same()
    if isinstance(m, mn.LeakyReLU):
        return nn.LeakyReLU(m.negative_slope)
    raise TypeError(f"to_torch: no torch.nn twin for {name}")


def to_torch(model: mn.Module) -> torch.nn.Module:
    """The torch.nn twin of ``model``, holding copies of its parameter and buffer values, in its mode.

    Raises:
        TypeError: for a module without a twin here (a custom module, ``Dropout``).
        RuntimeError: if the twin's state names differ from ours (``load_state_dict(strict=True)``).
    """
    first = next(iter(model.parameters()), None)
    twin = _convert(model)
    if first is not None:
        twin.to(device=first.device, dtype=first.dtype)
    twin.load_state_dict({name: value.clone() for name, value in model.state_dict().items()}, strict=True)
    return twin.train(model.training)
