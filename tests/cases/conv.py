"""Registry cases: the conv family (see tests/cases/__init__.py).

Each reference restates the layer with ``F.conv2d`` / ``F.conv_transpose2d`` (and ``F.pad`` for
the explicit paddings), from the parameter list ``p``: the weight, then the bias if there is one.
The first ``Conv2d`` cases are in ``core``.
"""

from collections.abc import Sequence

import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor
from tests.cases.core import Dims, ModuleCase


def _image(d: Dims) -> Shape:
    return (d.batch, d.channels, d.height, d.width)


def _doubled(d: Dims) -> Shape:
    return (d.batch, 2 * d.channels, d.height, d.width)


def _bias(p: Sequence[Tensor]) -> Tensor | None:
    return p[1] if len(p) > 1 else None


CASES: list[ModuleCase] = [
    ModuleCase(
        "Conv2d-dilation",
        lambda d, g: mn.Conv2d(
            d.channels, 3, (2, 3), stride=(1, 2), padding=(2, 1), dilation=(2, 1), generator=g
        ),
        _image,
        lambda x, p, t, d: F.conv2d(x, p[0], _bias(p), (1, 2), (2, 1), (2, 1)),
    ),
    ModuleCase(
        "Conv2d-groups",
        lambda d, g: mn.Conv2d(2 * d.channels, 4, 3, padding=1, groups=2, generator=g),
        _doubled,
        lambda x, p, t, d: F.conv2d(x, p[0], _bias(p), padding=1, groups=2),
    ),
    ModuleCase(
        "Conv2d-depthwise",
        lambda d, g: mn.Conv2d(d.channels, 2 * d.channels, 3, stride=2, groups=d.channels, generator=g),
        _image,
        lambda x, p, t, d: F.conv2d(x, p[0], _bias(p), stride=2, groups=d.channels),
    ),
    ModuleCase(
        "Conv2d-same-even-kernel",
        lambda d, g: mn.Conv2d(d.channels, 3, (2, 4), padding="same", dilation=(3, 1), generator=g),
        _image,
        lambda x, p, t, d: F.conv2d(x, p[0], _bias(p), padding="same", dilation=(3, 1)),
    ),
    ModuleCase(
        "Conv2d-valid",
        lambda d, g: mn.Conv2d(d.channels, 2, 3, padding="valid", bias=False, generator=g),
        _image,
        lambda x, p, t, d: F.conv2d(x, p[0], None, padding="valid"),
    ),
    ModuleCase(
        "Conv2d-reflect",
        lambda d, g: mn.Conv2d(
            d.channels, 2, 3, stride=2, padding=(1, 2), padding_mode="reflect", generator=g
        ),
        _image,
        lambda x, p, t, d: F.conv2d(F.pad(x, (2, 2, 1, 1), mode="reflect"), p[0], p[1], stride=2),
    ),
    ModuleCase(
        "Conv2d-replicate",
        lambda d, g: mn.Conv2d(d.channels, 2, 3, padding=2, padding_mode="replicate", generator=g),
        _image,
        lambda x, p, t, d: F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), p[0], p[1]),
    ),
    ModuleCase(
        "Conv2d-circular",
        lambda d, g: mn.Conv2d(d.channels, 2, (3, 2), padding=(2, 1), padding_mode="circular", generator=g),
        _image,
        lambda x, p, t, d: F.conv2d(F.pad(x, (1, 1, 2, 2), mode="circular"), p[0], p[1]),
    ),
    ModuleCase(
        "Conv2d-same-reflect",
        lambda d, g: mn.Conv2d(
            d.channels, 2, 4, padding="same", padding_mode="reflect", bias=False, generator=g
        ),
        _image,
        lambda x, p, t, d: F.conv2d(F.pad(x, (1, 2, 1, 2), mode="reflect"), p[0]),
    ),
    ModuleCase(
        "Conv2d-same-circular",
        lambda d, g: mn.Conv2d(
            d.channels, 2, (2, 3), padding="same", dilation=3, padding_mode="circular", generator=g
        ),
        _image,
        lambda x, p, t, d: F.conv2d(F.pad(x, (3, 3, 1, 2), mode="circular"), p[0], p[1], dilation=3),
    ),
    ModuleCase(
        "ConvTranspose2d",
        lambda d, g: mn.ConvTranspose2d(d.channels, 2, 3, generator=g),
        _image,
        lambda x, p, t, d: F.conv_transpose2d(x, p[0], p[1]),
    ),
    ModuleCase(
        "ConvTranspose2d-stride-padding",
        lambda d, g: mn.ConvTranspose2d(
            d.channels, 3, (3, 4), stride=2, padding=(1, 2), output_padding=1, generator=g
        ),
        _image,
        lambda x, p, t, d: F.conv_transpose2d(x, p[0], p[1], 2, (1, 2), 1),
    ),
    ModuleCase(
        "ConvTranspose2d-groups",
        lambda d, g: mn.ConvTranspose2d(2 * d.channels, 4, 3, stride=(1, 2), groups=2, generator=g),
        _doubled,
        lambda x, p, t, d: F.conv_transpose2d(x, p[0], p[1], (1, 2), groups=2),
    ),
    ModuleCase(
        "ConvTranspose2d-dilation",
        lambda d, g: mn.ConvTranspose2d(
            d.channels, 2, 3, padding=1, output_padding=(1, 0), dilation=2, generator=g
        ),
        _image,
        lambda x, p, t, d: F.conv_transpose2d(x, p[0], p[1], padding=1, output_padding=(1, 0), dilation=2),
    ),
    ModuleCase(
        "ConvTranspose2d-no-bias",
        lambda d, g: mn.ConvTranspose2d(d.channels, 2, 2, stride=2, bias=False, generator=g),
        _image,
        lambda x, p, t, d: F.conv_transpose2d(x, p[0], None, stride=2),
    ),
    ModuleCase(
        "Conv2d-unbatched",
        lambda d, g: mn.Conv2d(d.channels, 3, 3, padding=1, padding_mode="reflect", generator=g),
        lambda d: (d.channels, d.height, d.width),
        lambda x, p, t, d: F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), p[0], p[1]),
    ),
    ModuleCase(
        "ConvTranspose2d-unbatched",
        lambda d, g: mn.ConvTranspose2d(d.channels, 2, 3, stride=2, generator=g),
        lambda d: (d.channels, d.height, d.width),
        lambda x, p, t, d: F.conv_transpose2d(x, p[0], p[1], stride=2),
    ),
]
