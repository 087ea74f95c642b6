"""Registry cases: the containers family (see tests/cases/__init__.py).

``Residual`` and ``Concat``, alone and nested in each other and in ``Sequential``
(a U-Net is ``Concat(Identity(), Sequential(down, inner, up))``, recursively). Each
reference restates the whole composition in plain torch from the parameter list ``p``,
taken in ``parameters()`` order: a residual is ``body(x) + shortcut(x)``, a concatenation
``torch.cat`` of the branches' outputs.
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor
from tests.cases.core import Dims, ModuleCase


def _flat(d: Dims) -> Shape:
    return (d.batch, d.features)


def _image(d: Dims) -> Shape:
    return (d.batch, d.channels, d.height, d.width)


def _mlp(d: Dims, g: torch.Generator, out: int) -> mn.Sequential:
    """Linear(features, 4) -> Tanh -> Linear(4, out)."""
    return mn.Sequential(mn.Linear(d.features, 4, generator=g), mn.Tanh(), mn.Linear(4, out, generator=g))


def _mlp_reference(x: Tensor, p: Sequence[Tensor]) -> Tensor:
    return F.linear(torch.tanh(F.linear(x, p[0], p[1])), p[2], p[3])


# Residual ----------------------------------------------------------------------------------------


def _residual_identity(d: Dims, g: torch.Generator) -> mn.Residual:
    return mn.Residual(_mlp(d, g, d.features))


def _residual_identity_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return _mlp_reference(x, p) + x


def _residual_projection(d: Dims, g: torch.Generator) -> mn.Residual:
    return mn.Residual(
        _mlp(d, g, d.out + 1), shortcut=mn.Linear(d.features, d.out + 1, bias=False, generator=g)
    )


def _residual_projection_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return _mlp_reference(x, p[:4]) + F.linear(x, p[4])


def _residual_linear(d: Dims, g: torch.Generator) -> mn.Residual:
    # The body's output is fresh (nobody caches it): forward adds the input into it in place.
    return mn.Residual(mn.Linear(d.features, d.features, generator=g))


def _residual_tanh(d: Dims, g: torch.Generator) -> mn.Residual:
    # Tanh caches its output, so the sum must be a new tensor; and no parameters at all.
    return mn.Residual(mn.Tanh())


def _residual_nested(d: Dims, g: torch.Generator) -> mn.Residual:
    inner = mn.Residual(mn.Sequential(mn.Tanh(), mn.Linear(d.features, d.features, generator=g)))
    return mn.Residual(
        mn.Sequential(inner, mn.Sigmoid()), shortcut=mn.Linear(d.features, d.features, generator=g)
    )


def _residual_nested_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    inner = F.linear(torch.tanh(x), p[0], p[1]) + x
    return torch.sigmoid(inner) + F.linear(x, p[2], p[3])


def _residual_conv(d: Dims, g: torch.Generator) -> mn.Residual:
    c = d.channels
    body = mn.Sequential(
        mn.Conv2d(c, c, 3, padding=1, generator=g), mn.Tanh(), mn.Conv2d(c, c, 3, padding=1, generator=g)
    )
    return mn.Residual(body)


def _residual_conv_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return F.conv2d(torch.tanh(F.conv2d(x, p[0], p[1], padding=1)), p[2], p[3], padding=1) + x


def _residual_strided(d: Dims, g: torch.Generator) -> mn.Residual:
    c = d.channels
    body = mn.Sequential(mn.Conv2d(c, 3, 3, stride=2, padding=1, generator=g), mn.Tanh())
    return mn.Residual(body, shortcut=mn.Conv2d(c, 3, 1, stride=2, bias=False, generator=g))


def _residual_strided_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return torch.tanh(F.conv2d(x, p[0], p[1], stride=2, padding=1)) + F.conv2d(x, p[2], stride=2)


# Concat ------------------------------------------------------------------------------------------


def _concat_three(d: Dims, g: torch.Generator) -> mn.Concat:
    return mn.Concat(
        mn.Identity(),
        mn.Linear(d.features, d.out, generator=g),
        mn.Sequential(mn.Linear(d.features, 3, generator=g), mn.Sigmoid()),
    )


def _concat_three_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return torch.cat([x, F.linear(x, p[0], p[1]), torch.sigmoid(F.linear(x, p[2], p[3]))], dim=1)


def _concat_two(d: Dims, g: torch.Generator) -> mn.Concat:
    return mn.Concat(mn.Tanh(), mn.Linear(d.features, d.out, generator=g), dim=-1)


def _concat_two_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return torch.cat([torch.tanh(x), F.linear(x, p[0], p[1])], dim=-1)


def _concat_batch(d: Dims, g: torch.Generator) -> mn.Concat:
    return mn.Concat(
        mn.Linear(d.features, d.out, generator=g),
        mn.Sequential(mn.Tanh(), mn.Linear(d.features, d.out, bias=False, generator=g)),
        dim=0,
    )


def _concat_batch_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return torch.cat([F.linear(x, p[0], p[1]), F.linear(torch.tanh(x), p[2])], dim=0)


def _concat_one(d: Dims, g: torch.Generator) -> mn.Concat:
    return mn.Concat(mn.Linear(d.features, d.out, generator=g))


def _concat_one_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return F.linear(x, p[0], p[1])


def _concat_identity(d: Dims, g: torch.Generator) -> mn.Concat:
    # Both branches hand back (views of) what they are given: no branch owns a gradient.
    return mn.Concat(mn.Identity(), mn.Identity(), mn.Identity())


def _concat_channels(d: Dims, g: torch.Generator) -> mn.Concat:
    c = d.channels
    return mn.Concat(mn.Identity(), mn.Conv2d(c, 2, 3, padding=1, generator=g))


def _concat_channels_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return torch.cat([x, F.conv2d(x, p[0], p[1], padding=1)], dim=1)


# Nests -------------------------------------------------------------------------------------------


def _unet_residual(d: Dims, g: torch.Generator) -> mn.Residual:
    """A U-Net-like skip inside a residual: ``Residual(Concat(Identity(), mlp), Linear)``."""
    body = mn.Concat(mn.Identity(), _mlp(d, g, 2))
    return mn.Residual(body, shortcut=mn.Linear(d.features, d.features + 2, generator=g))


def _unet_residual_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return torch.cat([x, _mlp_reference(x, p[:4])], dim=1) + F.linear(x, p[4], p[5])


def _unet(d: Dims, g: torch.Generator) -> mn.Sequential:
    """Two levels of ``Concat(Identity(), Sequential(down, inner, up))``, then a head."""
    inner = mn.Concat(
        mn.Identity(), mn.Sequential(mn.Linear(3, 2, generator=g), mn.Tanh(), mn.Linear(2, 3, generator=g))
    )
    level = mn.Sequential(mn.Linear(4, 3, generator=g), mn.Tanh(), inner, mn.Linear(6, 4, generator=g))
    return mn.Sequential(
        mn.Linear(d.features, 4, generator=g),
        mn.Concat(mn.Identity(), level),
        mn.Residual(mn.Sequential(mn.Tanh(), mn.Linear(8, 8, generator=g))),
        mn.Linear(8, d.out, generator=g),
    )


def _unet_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    h = F.linear(x, p[0], p[1])
    down = torch.tanh(F.linear(h, p[2], p[3]))
    inner = torch.cat([down, F.linear(torch.tanh(F.linear(down, p[4], p[5])), p[6], p[7])], dim=1)
    h = torch.cat([h, F.linear(inner, p[8], p[9])], dim=1)
    h = F.linear(torch.tanh(h), p[10], p[11]) + h
    return F.linear(h, p[12], p[13])


CASES: list[ModuleCase] = [
    ModuleCase("Residual-identity", _residual_identity, _flat, _residual_identity_reference),
    ModuleCase("Residual-projection", _residual_projection, _flat, _residual_projection_reference),
    ModuleCase(
        "Residual-linear-body", _residual_linear, _flat, lambda x, p, t, d: F.linear(x, p[0], p[1]) + x
    ),
    ModuleCase("Residual-tanh-body", _residual_tanh, _flat, lambda x, p, t, d: torch.tanh(x) + x),
    ModuleCase("Residual-nested", _residual_nested, _flat, _residual_nested_reference),
    ModuleCase("Residual-conv", _residual_conv, _image, _residual_conv_reference),
    ModuleCase("Residual-strided-shortcut", _residual_strided, _image, _residual_strided_reference),
    ModuleCase("Concat-three-branches", _concat_three, _flat, _concat_three_reference),
    ModuleCase("Concat-dim-last", _concat_two, _flat, _concat_two_reference),
    ModuleCase("Concat-dim0", _concat_batch, _flat, _concat_batch_reference),
    ModuleCase("Concat-one-branch", _concat_one, _flat, _concat_one_reference),
    ModuleCase("Concat-identities", _concat_identity, _flat, lambda x, p, t, d: torch.cat([x, x, x], dim=1)),
    ModuleCase("Concat-channels", _concat_channels, _image, _concat_channels_reference),
    ModuleCase("Residual-unet-body", _unet_residual, _flat, _unet_residual_reference),
    ModuleCase("Concat-unet-nest", _unet, _flat, _unet_reference),
]
