"""Registry cases: the normalization family (see tests/cases/__init__.py).

Each reference writes the normalisation out from means and variances (not ``F.batch_norm`` or
``F.layer_norm``): :math:`(x - \\mu) / \\sqrt{\\sigma^2 + \\epsilon}` with the biased variance, then
the affine map from the parameter list ``p`` (the weight, then the bias, as far as they exist). The
first ``BatchNorm1d`` cases are in ``core``.
"""

from collections.abc import Callable, Sequence

import torch

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor
from tests.cases.core import BN_EPS, Dims, ModuleCase

Reference = Callable[[Tensor, Sequence[Tensor], Tensor | None, Dims], Tensor]


def _image(d: Dims) -> Shape:
    return (d.batch, d.channels, d.height, d.width)


def _flat(d: Dims) -> Shape:
    return (d.batch, d.features)


def _channels_last(shape: Shape, g: torch.Generator) -> Tensor:
    return torch.randn(shape, generator=g, dtype=torch.float64).to(memory_format=torch.channels_last)


def _standardize(x: Tensor, dims: tuple[int, ...]) -> Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    return (x - mean) / torch.sqrt(var + BN_EPS)


def _affine(y: Tensor, p: Sequence[Tensor], view: Shape) -> Tensor:
    if p:
        y = y * p[0].view(view)
    if len(p) > 1:
        y = y + p[1].view(view)
    return y


def _batch_norm(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    """Batch statistics per channel, over every dimension but dim 1."""
    dims = (0, *range(2, x.dim()))
    return _affine(_standardize(x, dims), p, (1, -1) + (1,) * (x.dim() - 2))


def _running_stats(channels: int) -> tuple[Tensor, Tensor]:
    return torch.linspace(-0.5, 0.5, channels, dtype=torch.float64), torch.linspace(
        0.5, 2.0, channels, dtype=torch.float64
    )


def _eval_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    mean, var = _running_stats(d.channels)
    view = (1, -1, 1, 1)
    return _affine((x - mean.view(view)) / torch.sqrt(var.view(view) + BN_EPS), p, view)


def _randomize(module: mn.BatchNorm1d | mn.BatchNorm2d | mn.LayerNorm, g: torch.Generator) -> None:
    """Random affine parameters, so that the gradients are not those of the identity map."""
    if module.weight is not None:
        module.weight.value.copy_(torch.rand(module.weight.shape, generator=g) + 0.5)
    if module.bias is not None:
        module.bias.value.copy_(torch.randn(module.bias.shape, generator=g))


def _bn2d(**options: object) -> Callable[[Dims, torch.Generator], mn.BatchNorm2d]:
    def make(d: Dims, g: torch.Generator) -> mn.BatchNorm2d:
        bn = mn.BatchNorm2d(d.channels, **options)  # type: ignore[arg-type]  # options are the case's
        _randomize(bn, g)
        return bn

    return make


def _bn2d_eval(d: Dims, g: torch.Generator) -> mn.BatchNorm2d:
    bn = _bn2d()(d, g)
    mean, var = _running_stats(d.channels)
    bn.load_state_dict({**bn.state_dict(), "running_mean": mean, "running_var": var})
    return bn


def _layer_norm(
    shape: Callable[[Dims], int | Shape], **options: object
) -> Callable[[Dims, torch.Generator], mn.LayerNorm]:
    def make(d: Dims, g: torch.Generator) -> mn.LayerNorm:
        norm = mn.LayerNorm(shape(d), **options)  # type: ignore[arg-type]  # options are the case's
        _randomize(norm, g)
        return norm

    return make


def _layer_norm_reference(size: int) -> Reference:
    """Statistics per sample over the last ``size`` dimensions; weight and bias of those dimensions."""

    def reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
        dims = tuple(range(x.dim() - size, x.dim()))
        return _affine(_standardize(x, dims), p, tuple(x.shape[x.dim() - size :]))

    return reference


def _bn1d_untracked(d: Dims, g: torch.Generator) -> mn.BatchNorm1d:
    bn = mn.BatchNorm1d(d.features, track_running_stats=False)
    _randomize(bn, g)
    return bn


CASES: list[ModuleCase] = [
    ModuleCase("BatchNorm2d-train", _bn2d(), _image, _batch_norm, mode_dependent=True),
    ModuleCase("BatchNorm2d-no-affine", _bn2d(affine=False), _image, _batch_norm, mode_dependent=True),
    ModuleCase("BatchNorm2d-no-bias", _bn2d(bias=False), _image, _batch_norm, mode_dependent=True),
    ModuleCase("BatchNorm2d-momentum-None", _bn2d(momentum=None), _image, _batch_norm, mode_dependent=True),
    ModuleCase(
        "BatchNorm2d-channels-last", _bn2d(), _image, _batch_norm, mode_dependent=True, input=_channels_last
    ),
    ModuleCase("BatchNorm2d-eval", _bn2d_eval, _image, _eval_reference, training=False, mode_dependent=True),
    ModuleCase(
        "BatchNorm2d-eval-channels-last",
        _bn2d_eval,
        _image,
        _eval_reference,
        training=False,
        mode_dependent=True,
        input=_channels_last,
    ),
    # Without running statistics, evaluation normalises with the batch's statistics too: the
    # same output in both modes, which test_modes checks since the case is not mode-dependent.
    ModuleCase(
        "BatchNorm2d-untracked-eval", _bn2d(track_running_stats=False), _image, _batch_norm, training=False
    ),
    ModuleCase("BatchNorm1d-untracked-eval", _bn1d_untracked, _flat, _batch_norm, training=False),
    ModuleCase("LayerNorm", _layer_norm(lambda d: d.features), _flat, _layer_norm_reference(1)),
    ModuleCase(
        "LayerNorm-2d",
        _layer_norm(lambda d: (d.height, d.width)),
        _image,
        _layer_norm_reference(2),
    ),
    ModuleCase(
        "LayerNorm-3d-no-affine",
        _layer_norm(lambda d: (d.channels, d.height, d.width), elementwise_affine=False),
        _image,
        _layer_norm_reference(3),
    ),
    ModuleCase(
        "LayerNorm-no-bias",
        _layer_norm(lambda d: (d.features,), bias=False),
        _flat,
        _layer_norm_reference(1),
    ),
]
