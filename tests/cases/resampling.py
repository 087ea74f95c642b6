"""Registry cases: the resampling family (see tests/cases/__init__.py).

Pooling, adaptive pooling, upsampling and channel dropout, each restated with
its ``torch.nn.functional`` counterpart (``F.max_pool2d``, ``F.avg_pool2d``,
``F.adaptive_avg_pool2d``, ``F.interpolate``) or, for ``Dropout2d``, with a
channel mask redrawn from a fresh generator seeded as the module's. The first
``MaxPool2d`` / ``AvgPool2d`` cases (no padding) are in ``core``.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor
from tests.cases.core import DROPOUT_SEED, Dims, ModuleCase


def _image(d: Dims) -> Shape:
    return (d.batch, d.channels, d.height, d.width)


def _case(name: str, make: Callable[[], mn.Module], reference: Callable[[Tensor], Tensor]) -> ModuleCase:
    """A parameter-free layer on an (N, C, H, W) input, restated by ``reference``."""
    return ModuleCase(name, lambda d, g: make(), _image, lambda x, p, t, d: reference(x))


def _unbatched_case(
    name: str, make: Callable[[], mn.Module], reference: Callable[[Tensor], Tensor]
) -> ModuleCase:
    """A parameter-free layer on one unbatched (C, H, W) sample, restated by ``reference``."""
    return ModuleCase(
        name, lambda d, g: make(), lambda d: (d.channels, d.height, d.width), lambda x, p, t, d: reference(x)
    )


def _channel_mask(x: Tensor, p: float) -> Tensor:
    """The mask Dropout2d draws: one ``rand >= p`` per (n, c), from a generator seeded as the case's."""
    g = torch.Generator().manual_seed(DROPOUT_SEED)
    keep = torch.rand((x.shape[0], x.shape[1], 1, 1), generator=g, dtype=torch.float64) >= p
    return keep.double() / (1 - p)


CASES: list[ModuleCase] = [
    _case("MaxPool2d-padding", lambda: mn.MaxPool2d(3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1)),
    _case(
        "MaxPool2d-dilation",
        lambda: mn.MaxPool2d(3, stride=1, padding=1, dilation=2),
        lambda x: F.max_pool2d(x, 3, 1, 1, dilation=2),
    ),
    _case(
        "MaxPool2d-ceil-mode",
        lambda: mn.MaxPool2d(3, 2, ceil_mode=True),
        lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True),
    ),
    _case(
        "MaxPool2d-rectangular",
        lambda: mn.MaxPool2d((2, 3), (1, 2), (1, 1), (2, 1), ceil_mode=True),
        lambda x: F.max_pool2d(x, (2, 3), (1, 2), (1, 1), (2, 1), ceil_mode=True),
    ),
    _case("AvgPool2d-padding", lambda: mn.AvgPool2d(3, 2, 1), lambda x: F.avg_pool2d(x, 3, 2, 1)),
    _case(
        "AvgPool2d-padding-exclude-pad",
        lambda: mn.AvgPool2d(3, 2, 1, count_include_pad=False),
        lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    ),
    _case(
        "AvgPool2d-ceil-mode",
        lambda: mn.AvgPool2d(3, 2, 1, ceil_mode=True),
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    ),
    _case(
        "AvgPool2d-ceil-mode-exclude-pad",
        lambda: mn.AvgPool2d((3, 2), 2, (1, 0), ceil_mode=True, count_include_pad=False),
        lambda x: F.avg_pool2d(x, (3, 2), 2, (1, 0), ceil_mode=True, count_include_pad=False),
    ),
    _case(
        "AvgPool2d-divisor-override",
        lambda: mn.AvgPool2d((2, 3), 1, 1, divisor_override=5),
        lambda x: F.avg_pool2d(x, (2, 3), 1, 1, divisor_override=5),
    ),
    _case(
        "AdaptiveAvgPool2d-global", lambda: mn.AdaptiveAvgPool2d(1), lambda x: x.mean((2, 3), keepdim=True)
    ),
    _case(
        "AdaptiveAvgPool2d-non-dividing",
        lambda: mn.AdaptiveAvgPool2d((5, 4)),
        lambda x: F.adaptive_avg_pool2d(x, (5, 4)),
    ),
    _case(
        "AdaptiveAvgPool2d-keep-height",
        lambda: mn.AdaptiveAvgPool2d((None, 3)),
        lambda x: F.adaptive_avg_pool2d(x, (x.shape[2], 3)),
    ),
    _case(
        "AdaptiveAvgPool2d-larger",
        lambda: mn.AdaptiveAvgPool2d(11),
        lambda x: F.adaptive_avg_pool2d(x, 11),
    ),
    _case(
        "Upsample-nearest-scale-2",
        lambda: mn.Upsample(scale_factor=2),
        lambda x: F.interpolate(x, scale_factor=2.0),
    ),
    _case(
        "Upsample-nearest-size",
        lambda: mn.Upsample(size=(11, 7)),
        lambda x: F.interpolate(x, size=(11, 7)),
    ),
    _case(
        "Upsample-nearest-non-integer-scale",
        lambda: mn.Upsample(scale_factor=(1.7, 0.6)),
        lambda x: F.interpolate(x, scale_factor=(1.7, 0.6)),
    ),
    _case(
        "Upsample-nearest-exact",
        lambda: mn.Upsample(scale_factor=1.5, mode="nearest-exact"),
        lambda x: F.interpolate(x, scale_factor=1.5, mode="nearest-exact"),
    ),
    _case(
        "Upsample-bilinear",
        lambda: mn.Upsample(scale_factor=2, mode="bilinear"),
        lambda x: F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False),
    ),
    _case(
        "Upsample-bilinear-align-corners",
        lambda: mn.Upsample(size=(10, 13), mode="bilinear", align_corners=True),
        lambda x: F.interpolate(x, size=(10, 13), mode="bilinear", align_corners=True),
    ),
    _case(
        "Upsample-bilinear-non-integer-scale",
        lambda: mn.Upsample(scale_factor=1.7, mode="bilinear"),
        lambda x: F.interpolate(x, scale_factor=1.7, mode="bilinear"),
    ),
    _case(
        "Upsample-bilinear-recompute-scale",
        lambda: mn.Upsample(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
        lambda x: F.interpolate(x, scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
    ),
    ModuleCase(
        "Dropout2d-train",
        lambda d, g: mn.Dropout2d(0.4, generator=torch.Generator().manual_seed(DROPOUT_SEED)),
        _image,
        lambda x, p, t, d: x * _channel_mask(x, 0.4),
        mode_dependent=True,
    ),
    ModuleCase(
        "Dropout2d-eval",
        lambda d, g: mn.Dropout2d(0.4),
        _image,
        lambda x, p, t, d: x,
        training=False,
        mode_dependent=True,
    ),
    _unbatched_case("MaxPool2d-unbatched", lambda: mn.MaxPool2d(3, 2, 1), lambda x: F.max_pool2d(x, 3, 2, 1)),
    _unbatched_case("AvgPool2d-unbatched", lambda: mn.AvgPool2d(2, 1), lambda x: F.avg_pool2d(x, 2, 1)),
    _unbatched_case(
        "AdaptiveAvgPool2d-unbatched",
        lambda: mn.AdaptiveAvgPool2d((3, 2)),
        lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    ),
    _unbatched_case(
        "AdaptiveAvgPool2d-unbatched-global", lambda: mn.AdaptiveAvgPool2d(1), lambda x: x.mean((1, 2), True)
    ),
]
