"""The first module library's cases, and what every case is built from: ``ModuleCase`` and ``Dims``.

``reference`` restates the forward pass with plain torch operations (and
``torch.nn.functional`` kernels), from the input, the parameter values (in
``parameters()`` order), the target and the drawn sizes, so that torch.autograd
can differentiate it independently of our ``backward``. Sizes are drawn at
random (small) from the test's seeded generator.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn._types import Shape, Tensor

DROPOUT_SEED = 1234
BN_EPS = 1e-5


@dataclass(frozen=True)
class Dims:
    """Small sizes for one test, drawn at random."""

    batch: int
    features: int
    out: int
    channels: int
    height: int
    width: int

    @classmethod
    def draw(cls, g: torch.Generator) -> "Dims":
        def pick(low: int, high: int) -> int:
            return int(torch.randint(low, high + 1, (), generator=g))

        return cls(pick(2, 5), pick(2, 6), pick(2, 5), pick(1, 3), pick(6, 9), pick(6, 9))


Reference = Callable[[Tensor, Sequence[Tensor], Tensor | None, Dims], Tensor]
Make = Callable[[Dims, torch.Generator], mn.Module | mn.Loss]


def _normal(shape: Shape, g: torch.Generator) -> Tensor:
    return torch.randn(shape, generator=g, dtype=torch.float64)


@dataclass(frozen=True)
class ModuleCase:
    """How to build one module, what it takes, and its forward pass in plain torch."""

    name: str
    make: Make
    input_shape: Callable[[Dims], Shape]
    reference: Reference
    target: Callable[[Dims, torch.Generator], Tensor] | None = None
    training: bool = True
    mode_dependent: bool = False
    input: Callable[[Shape, torch.Generator], Tensor] = _normal
    # False for integer inputs (Embedding's indices): no input gradient is checked, parameter ones are.
    differentiable_input: bool = True
    # False where a gradient is a convention, not the derivative (Embedding's padding row gets none).
    finite_differences: bool = True

    def build(self, generator: torch.Generator) -> tuple[mn.Module | mn.Loss, Tensor, Tensor | None, Dims]:
        """The module (float64, in the case's mode), a random input, the target and the sizes."""
        dims = Dims.draw(generator)
        module = self.make(dims, generator).to(dtype=torch.float64).train(self.training)
        input = self.input(self.input_shape(dims), generator)
        target = None if self.target is None else self.target(dims, generator)
        return module, input, target, dims

    def expected(
        self, module: mn.Module | mn.Loss, input: Tensor, target: Tensor | None, dims: Dims
    ) -> Tensor:
        """The reference output for the module's current parameter values."""
        return self.reference(input, [p.value for p in module.parameters()], target, dims)


def _flat(d: Dims) -> Shape:
    return (d.batch, d.features)


def _image(d: Dims) -> Shape:
    return (d.batch, d.channels, d.height, d.width)


def _pointwise(fn: Callable[[Tensor], Tensor]) -> Reference:
    return lambda x, p, t, d: fn(x)


def _layer(name: str, make: Make, reference: Reference, shape: Callable[[Dims], Shape] = _flat) -> ModuleCase:
    return ModuleCase(name, make, shape, reference)


def _linear(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return F.linear(x, p[0], p[1] if len(p) > 1 else None)


def _dropout_mask(shape: Shape, p: float) -> Tensor:
    keep = torch.rand(shape, generator=torch.Generator().manual_seed(DROPOUT_SEED), dtype=torch.float64) >= p
    return keep.double() / (1 - p)


def _batch_norm(dims: tuple[int, ...]) -> Reference:
    def reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
        view = (1, -1) if x.dim() == 2 else (1, -1, 1)
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        out = (x - mean) / torch.sqrt(var + BN_EPS)
        return out * p[0].view(view) + p[1].view(view) if p else out

    return reference


def _running_stats(features: int) -> tuple[Tensor, Tensor]:
    return torch.linspace(-0.5, 0.5, features, dtype=torch.float64), torch.linspace(
        0.5, 2.0, features
    ).double()


def _bn_eval(d: Dims, g: torch.Generator) -> mn.BatchNorm1d:
    bn = mn.BatchNorm1d(d.features)
    mean, var = _running_stats(d.features)
    bn.load_state_dict({**bn.state_dict(), "running_mean": mean, "running_var": var})
    assert bn.weight is not None and bn.bias is not None
    bn.weight.value.copy_(torch.rand(d.features, generator=g) + 0.5)
    bn.bias.value.copy_(torch.randn(d.features, generator=g))
    return bn


def _bn_eval_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    mean, var = _running_stats(d.features)
    return (x - mean) / torch.sqrt(var + BN_EPS) * p[0] + p[1]


def _cnn(d: Dims, g: torch.Generator) -> mn.Sequential:
    return mn.Sequential(
        mn.Conv2d(d.channels, 3, 3, padding=1, generator=g),
        mn.ReLU(),
        mn.MaxPool2d(2),
        mn.Flatten(),
        mn.Linear(3 * (d.height // 2) * (d.width // 2), d.out, generator=g),
    )


def _cnn_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    h = F.max_pool2d(torch.relu(F.conv2d(x, p[0], p[1], padding=1)), 2)
    return F.linear(h.flatten(1), p[2], p[3])


def _mlp(d: Dims, g: torch.Generator) -> mn.Sequential:
    return mn.Sequential(
        mn.Linear(d.features, 4, generator=g), mn.Tanh(), mn.Linear(4, d.out, generator=g), mn.Sigmoid()
    )


def _mlp_reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
    return torch.sigmoid(F.linear(torch.tanh(F.linear(x, p[0], p[1])), p[2], p[3]))


# Losses ------------------------------------------------------------------------------------------


def _same_shape_target(d: Dims, g: torch.Generator) -> Tensor:
    return torch.randn(_flat(d), generator=g, dtype=torch.float64)


def _binary_target(d: Dims, g: torch.Generator) -> Tensor:
    return torch.rand(_flat(d), generator=g, dtype=torch.float64)


def _class_target(d: Dims, g: torch.Generator) -> Tensor:
    return torch.randint(0, d.features, (d.batch,), generator=g)


def _probability_target(d: Dims, g: torch.Generator) -> Tensor:
    return torch.softmax(torch.randn(_flat(d), generator=g, dtype=torch.float64), dim=1)


def _loss(
    name: str,
    make: Callable[[], mn.Loss],
    fn: Callable[[Tensor, Tensor], Tensor],
    target: Callable[[Dims, torch.Generator], Tensor] = _same_shape_target,
    input: Callable[[Shape, torch.Generator], Tensor] = _normal,
) -> ModuleCase:
    def reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
        assert t is not None
        return fn(x, t)

    return ModuleCase(name, lambda d, g: make(), _flat, reference, target, input=input)


def _wide(shape: Shape, g: torch.Generator) -> Tensor:
    return 3 * torch.randn(shape, generator=g, dtype=torch.float64)


def _log_probabilities(shape: Shape, g: torch.Generator) -> Tensor:
    return torch.log_softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim=1)


def _probabilities(shape: Shape, g: torch.Generator) -> Tensor:
    return torch.sigmoid(torch.randn(shape, generator=g, dtype=torch.float64))


def _class_weight(d: Dims) -> Tensor:
    return torch.linspace(0.5, 2.0, d.features, dtype=torch.float64)


def _weighted_loss(
    name: str,
    make: Callable[[Tensor], mn.Loss],
    fn: Callable[[Tensor, Tensor, Tensor], Tensor],
    weight: Callable[[Dims], Tensor],
    target: Callable[[Dims, torch.Generator], Tensor],
    input: Callable[[Shape, torch.Generator], Tensor] = _normal,
) -> ModuleCase:
    """A loss built with a weight that depends on the drawn sizes; ``fn(x, t, weight)`` is its reference."""

    def reference(x: Tensor, p: Sequence[Tensor], t: Tensor | None, d: Dims) -> Tensor:
        assert t is not None
        return fn(x, t, weight(d))

    return ModuleCase(name, lambda d, g: make(weight(d)), _flat, reference, target, input=input)


CASES: list[ModuleCase] = [
    _layer("Linear", lambda d, g: mn.Linear(d.features, d.out, generator=g), _linear),
    _layer("Linear-no-bias", lambda d, g: mn.Linear(d.features, d.out, bias=False, generator=g), _linear),
    _layer(
        "Linear-sequence",
        lambda d, g: mn.Linear(d.features, d.out, generator=g),
        _linear,
        lambda d: (d.batch, d.channels + 1, d.features),
    ),
    _layer(
        "Linear-unbatched",
        lambda d, g: mn.Linear(d.features, d.out, generator=g),
        _linear,
        lambda d: (d.features,),
    ),
    _layer("Identity", lambda d, g: mn.Identity(), _pointwise(lambda x: x)),
    _layer("Tanh", lambda d, g: mn.Tanh(), _pointwise(torch.tanh)),
    _layer("Tanh-image", lambda d, g: mn.Tanh(), _pointwise(torch.tanh), _image),
    _layer("Sigmoid", lambda d, g: mn.Sigmoid(), _pointwise(torch.sigmoid)),
    _layer("ReLU", lambda d, g: mn.ReLU(), _pointwise(torch.relu)),
    _layer("LeakyReLU", lambda d, g: mn.LeakyReLU(0.2), _pointwise(lambda x: F.leaky_relu(x, 0.2))),
    _layer("ELU", lambda d, g: mn.ELU(alpha=1.3), _pointwise(lambda x: F.elu(x, 1.3))),
    _layer("Softplus", lambda d, g: mn.Softplus(beta=2.0), _pointwise(lambda x: F.softplus(x, beta=2.0))),
    ModuleCase(
        "Softplus-threshold",
        lambda d, g: mn.Softplus(beta=1.0, threshold=2.0),
        _flat,
        _pointwise(lambda x: F.softplus(x, beta=1.0, threshold=2.0)),
        input=_wide,
    ),
    _layer("GELU", lambda d, g: mn.GELU(), _pointwise(F.gelu)),
    _layer("GELU-tanh", lambda d, g: mn.GELU("tanh"), _pointwise(lambda x: F.gelu(x, approximate="tanh"))),
    _layer("SiLU", lambda d, g: mn.SiLU(), _pointwise(F.silu)),
    _layer("Softmax", lambda d, g: mn.Softmax(dim=1), _pointwise(lambda x: torch.softmax(x, 1))),
    _layer("Softmax-dim0", lambda d, g: mn.Softmax(dim=0), _pointwise(lambda x: torch.softmax(x, 0))),
    _layer("LogSoftmax", lambda d, g: mn.LogSoftmax(dim=1), _pointwise(lambda x: torch.log_softmax(x, 1))),
    _layer("Flatten", lambda d, g: mn.Flatten(), _pointwise(lambda x: x.flatten(1)), _image),
    ModuleCase(
        "Dropout-train",
        lambda d, g: mn.Dropout(0.3, generator=torch.Generator().manual_seed(DROPOUT_SEED)),
        _flat,
        lambda x, p, t, d: x * _dropout_mask(x.shape, 0.3),
        mode_dependent=True,
    ),
    ModuleCase(
        "Dropout-eval",
        lambda d, g: mn.Dropout(0.3),
        _flat,
        _pointwise(lambda x: x),
        training=False,
        mode_dependent=True,
    ),
    ModuleCase(
        "BatchNorm1d-train",
        lambda d, g: mn.BatchNorm1d(d.features),
        _flat,
        _batch_norm((0,)),
        mode_dependent=True,
    ),
    ModuleCase(
        "BatchNorm1d-train-3d",
        lambda d, g: mn.BatchNorm1d(d.channels),
        lambda d: (d.batch, d.channels, d.width),
        _batch_norm((0, 2)),
        mode_dependent=True,
    ),
    ModuleCase(
        "BatchNorm1d-no-affine",
        lambda d, g: mn.BatchNorm1d(d.features, affine=False),
        _flat,
        _batch_norm((0,)),
        mode_dependent=True,
    ),
    ModuleCase("BatchNorm1d-eval", _bn_eval, _flat, _bn_eval_reference, training=False, mode_dependent=True),
    _layer(
        "Conv2d",
        lambda d, g: mn.Conv2d(d.channels, 2, 3, generator=g),
        lambda x, p, t, d: F.conv2d(x, p[0], p[1]),
        _image,
    ),
    _layer(
        "Conv2d-stride-padding",
        lambda d, g: mn.Conv2d(d.channels, 2, (2, 3), stride=2, padding=1, bias=False, generator=g),
        lambda x, p, t, d: F.conv2d(x, p[0], None, stride=2, padding=1),
        _image,
    ),
    _layer("MaxPool2d", lambda d, g: mn.MaxPool2d(2), _pointwise(lambda x: F.max_pool2d(x, 2)), _image),
    _layer(
        "MaxPool2d-overlapping",
        lambda d, g: mn.MaxPool2d(3, stride=2),
        _pointwise(lambda x: F.max_pool2d(x, 3, 2)),
        _image,
    ),
    _layer("AvgPool2d", lambda d, g: mn.AvgPool2d(2), _pointwise(lambda x: F.avg_pool2d(x, 2)), _image),
    _layer(
        "AvgPool2d-overlapping",
        lambda d, g: mn.AvgPool2d((3, 2), stride=1),
        _pointwise(lambda x: F.avg_pool2d(x, (3, 2), 1)),
        _image,
    ),
    _layer("Sequential-mlp", _mlp, _mlp_reference),
    _layer("Sequential-cnn", _cnn, _cnn_reference, _image),
    _loss("MSELoss-mean", lambda: mn.MSELoss(), lambda x, t: F.mse_loss(x, t)),
    _loss("MSELoss-sum", lambda: mn.MSELoss(reduction="sum"), lambda x, t: F.mse_loss(x, t, reduction="sum")),
    _loss("L1Loss-mean", lambda: mn.L1Loss(), lambda x, t: F.l1_loss(x, t)),
    _loss("L1Loss-sum", lambda: mn.L1Loss(reduction="sum"), lambda x, t: F.l1_loss(x, t, reduction="sum")),
    _loss(
        "HuberLoss",
        lambda: mn.HuberLoss(delta=0.5),
        lambda x, t: F.huber_loss(x, t, delta=0.5),
        input=_wide,
    ),
    _loss(
        "HuberLoss-sum",
        lambda: mn.HuberLoss(reduction="sum", delta=2.0),
        lambda x, t: F.huber_loss(x, t, reduction="sum", delta=2.0),
        input=_wide,
    ),
    _loss(
        "BCEWithLogitsLoss",
        lambda: mn.BCEWithLogitsLoss(),
        lambda x, t: F.binary_cross_entropy_with_logits(x, t),
        _binary_target,
        _wide,
    ),
    _loss(
        "BCEWithLogitsLoss-sum",
        lambda: mn.BCEWithLogitsLoss(reduction="sum"),
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="sum"),
        _binary_target,
    ),
    _loss("CrossEntropyLoss", lambda: mn.CrossEntropyLoss(), F.cross_entropy, _class_target, _wide),
    _loss(
        "CrossEntropyLoss-sum-smoothing",
        lambda: mn.CrossEntropyLoss(reduction="sum", label_smoothing=0.1),
        lambda x, t: F.cross_entropy(x, t, reduction="sum", label_smoothing=0.1),
        _class_target,
    ),
    _loss(
        "CrossEntropyLoss-probabilities",
        lambda: mn.CrossEntropyLoss(label_smoothing=0.2),
        lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2),
        _probability_target,
    ),
    _weighted_loss(
        "CrossEntropyLoss-weight-ignore-smoothing",
        lambda w: mn.CrossEntropyLoss(w, ignore_index=1, label_smoothing=0.1),
        lambda x, t, w: F.cross_entropy(x, t, w, ignore_index=1, label_smoothing=0.1),
        _class_weight,
        _class_target,
    ),
    _weighted_loss(
        "BCEWithLogitsLoss-pos_weight",
        lambda w: mn.BCEWithLogitsLoss(reduction="sum", pos_weight=w),
        lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, reduction="sum", pos_weight=w),
        _class_weight,
        _binary_target,
        _wide,
    ),
    _loss("NLLLoss", lambda: mn.NLLLoss(), F.nll_loss, _class_target, _log_probabilities),
    _weighted_loss(
        "NLLLoss-weight-ignore-sum",
        lambda w: mn.NLLLoss(w, ignore_index=0, reduction="sum"),
        lambda x, t, w: F.nll_loss(x, t, w, ignore_index=0, reduction="sum"),
        _class_weight,
        _class_target,
        _log_probabilities,
    ),
    _loss("BCELoss", lambda: mn.BCELoss(), F.binary_cross_entropy, _binary_target, _probabilities),
    _loss(
        "MSELoss-none",
        lambda: mn.MSELoss(reduction="none"),
        lambda x, t: F.mse_loss(x, t, reduction="none"),
    ),
    _weighted_loss(
        "CrossEntropyLoss-none-weight-ignore-smoothing",
        lambda w: mn.CrossEntropyLoss(w, ignore_index=0, reduction="none", label_smoothing=0.3),
        lambda x, t, w: F.cross_entropy(x, t, w, ignore_index=0, reduction="none", label_smoothing=0.3),
        _class_weight,
        _class_target,
    ),
    _loss(
        "NLLLoss-none",
        lambda: mn.NLLLoss(reduction="none"),
        lambda x, t: F.nll_loss(x, t, reduction="none"),
        _class_target,
        _log_probabilities,
    ),
    _weighted_loss(
        "BCEWithLogitsLoss-none-weight",
        lambda w: mn.BCEWithLogitsLoss(w, reduction="none"),
        lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, w, reduction="none"),
        _class_weight,
        _binary_target,
    ),
    _loss(
        "BCELoss-none",
        lambda: mn.BCELoss(reduction="none"),
        lambda x, t: F.binary_cross_entropy(x, t, reduction="none"),
        _binary_target,
        _probabilities,
    ),
    _weighted_loss(
        "BCELoss-weight-sum",
        lambda w: mn.BCELoss(w, reduction="sum"),
        lambda x, t, w: F.binary_cross_entropy(x, t, w, reduction="sum"),
        _class_weight,
        _binary_target,
        _probabilities,
    ),
]
