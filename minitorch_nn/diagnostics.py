"""Per-layer training diagnostics: what each layer outputs, receives back and learns, and what is wrong.

``Diagnostics(model)`` registers a forward hook and a full backward hook on
every leaf module of ``model`` (each module of ``named_modules()`` without
children) and gathers, on the steps it samples, cheap running figures:

- activations: the mean and standard deviation of each layer's output; for
  ``Tanh`` and ``Sigmoid`` the fraction *saturated* (within 1 % of an
  asymptote: ``|y| > 0.99`` for Tanh, ``y < 0.01`` or ``y > 0.99`` for
  Sigmoid); for ``ReLU`` the fraction of units (features of a 2-D output,
  channels of a 3-D or 4-D one) *dead*: that never fired (``y > 0``) on any
  sampled step of the epoch;
- gradients: the norm of each parameter's gradient (mean and max over the
  steps), the same divided by the parameter's norm, and the mean norm of each
  layer's input gradient (none for the first layer of a training step, whose
  input gradient is not computed);
- updates: the ratio ``|Δθ| / |θ|`` of each step's parameter change to the
  parameter's norm (mean and max over the steps; about 1e-3 is healthy).

Nothing is stored but a few 0-dim tensors per sampled step, and nothing is
read back to the host until the epoch ends. ``end_epoch()`` returns the
epoch's ``EpochDiagnostics``; ``verdicts`` turns the epochs so far into
``Verdict`` s with reasons. ``fit(..., diagnostics=True)`` does all of this.

Sampling: ``every=k`` samples the first step of every epoch and then every
k-th step of it (1: every step). The default is ``EVERY`` = 20. The choice
depends only on step counts, never on timings, so the same run gives the
same figures on any machine. The hooks are registered for a sampled step
and removed after it, so a step that is not sampled runs exactly the code
it runs without diagnostics. Dead units are those that never fired on the
sampled steps. In full-batch training every epoch is one step, so every
step is sampled and pays the full cost (about 1.2x for the reference job;
``benchmarks/bench_diagnostics.py``).

The hooks only read: a run with diagnostics is bit-identical to one without.
"""

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.hooks import RemovableHandle
from minitorch_nn.module import ModuleBase, position_name
from minitorch_nn.modules.activation import ReLU, Sigmoid, Tanh
from minitorch_nn.network_summary import one_line
from minitorch_nn.parameter import Parameter

__all__ = [
    "Diagnostics",
    "EpochDiagnostics",
    "LayerStats",
    "ParameterStats",
    "Verdict",
    "verdicts",
]

EVERY = 20
"""The default sampling: the first step of each epoch, then every 20th step of it.

A sampled step costs up to 1.6x a plain one (the two-layer MLP at batch 64, the worst case of
``benchmarks/bench_diagnostics.py --every 1``); one in 20 keeps the average within a few per cent,
under the 15 % the diagnostics may cost, with room for this machine's noise."""

SATURATION_MARGIN = 0.01
"""A Tanh or Sigmoid output within this of an asymptote is saturated (its derivative is below 2 %)."""

# Verdict thresholds; see ``verdicts`` for why each is what it is.
VANISHING_GRAD_RATIO = 1e-6
VANISHING_FALL = 1e-3
EXPLODING_GRAD_RATIO = 1e2
EXPLODING_RISE = 1e3
SATURATED_FRACTION = 0.5
DEAD_FRACTION = 0.5
UPDATE_TOO_HIGH = 1e-1
UPDATE_TOO_LOW = 1e-5


@dataclass(frozen=True)
class ParameterStats:
    """The figures of one parameter over one epoch's sampled steps.

    Args:
        norm: ``|θ|`` at the end of the epoch.
        grad_norm: the mean over the steps of ``|∇θ|``.
        grad_norm_max: the largest ``|∇θ|`` of a step.
        grad_ratio: the mean of ``|∇θ| / |θ|`` (``None`` while ``θ`` is 0).
        update_ratio: the mean of ``|Δθ| / |θ|`` over the steps (``None`` while ``θ`` is 0).
        update_ratio_max: the largest ``|Δθ| / |θ|`` of a step.

    Example:
        >>> ParameterStats(2.0, 0.1, 0.2, 0.05, 1e-3, 2e-3).update_ratio
        0.001
    """

    norm: float
    grad_norm: float
    grad_norm_max: float
    grad_ratio: float | None
    update_ratio: float | None
    update_ratio_max: float | None


@dataclass(frozen=True)
class LayerStats:
    """The figures of one leaf module over one epoch.

    Args:
        path: where the layer sits: ``[0]``, ``[1].body[0]``; ``""`` for a model that is itself a leaf.
        layer: the path and the layer's one-line repr, as verdicts name it.
        steps: the sampled steps whose forward reached this layer.
        mean: the mean of every output element over those steps (``None`` if it output nothing).
        std: their standard deviation.
        saturated: for Tanh and Sigmoid, the fraction of output elements within 1 % of an asymptote.
        dead: for ReLU, the fraction of units that never fired (output > 0) on any sampled step.
        input_grad_norm: the mean norm of the gradient with respect to the layer's input (``None``
            where it was not computed: the first layer of a training step).
        parameters: the layer's own parameters by name.

    Example:
        >>> LayerStats("[1]", "[1] ReLU()", 4, 0.3, 0.5, None, 0.25, 1.5).dead
        0.25
    """

    path: str
    layer: str
    steps: int
    mean: float | None
    std: float | None
    saturated: float | None
    dead: float | None
    input_grad_norm: float | None
    parameters: dict[str, ParameterStats] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """A diagnosis: what is wrong, where, since when, and a reason in words.

    Args:
        kind: ``"vanishing"``, ``"exploding"``, ``"saturated"``, ``"dead"``, ``"lr too high"`` or
            ``"lr too low"``.
        layer: the layer it names (path and repr), or ``"all layers"``.
        epochs: for how many consecutive epochs, up to the last, it has held.
        value: the figure that crossed the threshold.
        message: the one-line hint.

    Example:
        >>> Verdict("dead", "[1] ReLU()", 2, 0.75, "layer [1] ReLU(): ...").kind
        'dead'
    """

    kind: str
    layer: str
    epochs: int
    value: float
    message: str


@dataclass(frozen=True)
class EpochDiagnostics:
    """One epoch's figures per layer, and the verdicts on the epochs up to it.

    Args:
        epoch: the epoch's number, from 1.
        steps: the training steps of the epoch.
        sampled: how many of them were measured.
        layers: one ``LayerStats`` per leaf module, in ``named_modules()`` order.
        verdicts: what ``verdicts`` found on the epochs up to this one.

    Example:
        >>> EpochDiagnostics(1, 10, 3, []).to_dict()
        {'epoch': 1, 'steps': 10, 'sampled': 3, 'layers': [], 'verdicts': []}
    """

    epoch: int
    steps: int
    sampled: int
    layers: list[LayerStats]
    verdicts: list[Verdict] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """The figures as plain JSON values (the ``diagnostics`` entry of a metrics line)."""
        return asdict(self)


def _leaves(model: ModuleBase, path: str = "") -> Iterator[tuple[str, ModuleBase]]:
    children = list(model.named_children())
    if not children:
        yield path, model
    for name, child in children:
        yield from _leaves(child, path + position_name(name))


def _units_dims(output: Tensor) -> tuple[int, ...]:
    """The dimensions a unit's firing is reduced over: all but features (2-D) or channels (3-D, 4-D)."""
    if output.dim() <= 1:
        return ()
    return (0, *range(2, output.dim()))


class _Activations:
    """Running sums of one layer's outputs: count, sum, sum of squares, saturated count, unit peaks."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind  # "tanh", "sigmoid", "relu" or None
        self.count = 0
        self.steps = 0
        self.sums: list[Tensor] = []
        self.squares: list[Tensor] = []
        self.saturated: list[Tensor] = []
        self.peak: Tensor | None = None
        self.units_known = True

    def observe(self, output: Tensor) -> None:
        self.steps += 1
        if not output.is_floating_point() or output.numel() == 0:
            return
        self.count += output.numel()
        self.sums.append(output.sum())  # read back as float64 at the epoch's end
        self.squares.append(torch.linalg.vector_norm(output))
        if self.kind == "tanh":
            self.saturated.append((output.abs() > 1 - SATURATION_MARGIN).sum())
        elif self.kind == "sigmoid":
            self.saturated.append(((output - 0.5).abs() > 0.5 - SATURATION_MARGIN).sum())
        elif self.kind == "relu" and self.units_known:
            dims = _units_dims(output)
            peak = output.amax(dim=dims) if dims else output
            if self.peak is None:
                self.peak = peak.clone() if not dims else peak
            elif self.peak.shape == peak.shape:
                torch.maximum(self.peak, peak, out=self.peak)
            else:
                self.units_known = False  # the number of units changed between batches

    def figures(self) -> tuple[float | None, float | None, float | None, float | None]:
        """mean, std, saturated fraction, dead fraction."""
        if not self.count:
            return None, None, None, None
        total = float(torch.stack(self.sums).double().sum())
        square = float(torch.stack(self.squares).double().square().sum())
        mean = total / self.count
        std = math.sqrt(max(square / self.count - mean * mean, 0.0))
        saturated = float(torch.stack(self.saturated).sum()) / self.count if self.saturated else None
        dead = None
        if self.kind == "relu" and self.units_known and self.peak is not None and self.peak.numel():
            dead = float((self.peak <= 0).sum()) / self.peak.numel()
        return mean, std, saturated, dead


def _kind(module: ModuleBase) -> str | None:
    if isinstance(module, Tanh):
        return "tanh"
    if isinstance(module, Sigmoid):
        return "sigmoid"
    if isinstance(module, ReLU):
        return "relu"
    return None


class _Layer:
    """What one leaf module gathered in the current epoch."""

    def __init__(self, path: str, module: ModuleBase) -> None:
        self.path, self.module = path, module
        self.name = f"{path} {one_line(module)}" if path else one_line(module)
        self.params = [(name, p) for name, p in module.named_parameters() if "." not in name]
        self.reset()

    def reset(self) -> None:
        self.activations = _Activations(_kind(self.module))
        self.input_grads: list[Tensor] = []

    def observe_grad_input(self, grad_input: Tensor | None) -> None:
        if grad_input is not None and grad_input.is_floating_point() and grad_input.numel():
            self.input_grads.append(torch.linalg.vector_norm(grad_input))

    def stats(self, parameters: dict[str, ParameterStats]) -> LayerStats:
        mean, std, saturated, dead = self.activations.figures()
        grad = float(torch.stack(self.input_grads).double().mean()) if self.input_grads else None
        return LayerStats(
            self.path, self.name, self.activations.steps, mean, std, saturated, dead, grad, parameters
        )


class Diagnostics:
    """Gather per-layer statistics of a training run through hooks, and diagnose them.

    The training loop calls ``start_step()`` before the forward pass,
    ``before_update()`` between ``accumulate_grad`` and ``optimizer.step()``,
    ``end_step()`` after it, and ``end_epoch()`` after each epoch; ``fit``
    does when given ``diagnostics=True``. ``remove()`` removes every hook.
    Forward passes outside a step (evaluation) are not counted.

    Args:
        model: the network; a hook pair is registered on every leaf module.
        every: sample the first step of each epoch and then every ``every``-th step of it.
            Default: ``EVERY`` (20).

    Example:
        >>> import torch, minitorch_nn as mn
        >>> g = torch.Generator().manual_seed(0)
        >>> model = mn.Sequential(mn.Linear(4, 8, generator=g), mn.Tanh(), mn.Linear(8, 2, generator=g))
        >>> optimizer, loss = mn.SGD(model.parameters(), lr=0.1), mn.MSELoss()
        >>> diagnostics = Diagnostics(model, every=1)
        >>> x, y = torch.randn(16, 4, generator=g), torch.zeros(16, 2)
        >>> for _ in range(3):
        ...     diagnostics.start_step()
        ...     optimizer.zero_grad()
        ...     _ = loss(model(x), y)
        ...     model.accumulate_grad(loss.backward())
        ...     diagnostics.before_update(optimizer.params)
        ...     optimizer.step()
        ...     diagnostics.end_step()
        >>> epoch = diagnostics.end_epoch()
        >>> diagnostics.remove()
        >>> epoch.sampled, [layer.layer for layer in epoch.layers][:2]
        (3, ['[0] Linear(in_features=4, out_features=8)', '[1] Tanh()'])
        >>> 0 < epoch.layers[0].parameters["weight"].update_ratio < 1
        True
    """

    def __init__(self, model: ModuleBase, *, every: int = EVERY) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Diagnostics: expected every to be an int >= 1, got {every!r}")
        self.every = every
        self.model = model
        self.epochs: list[EpochDiagnostics] = []
        self._findings: list[dict[tuple[str, str], tuple[float, str]]] = []
        self._layers = [_Layer(path, module) for path, module in _leaves(model)]
        self._handles: list[RemovableHandle] = []
        self._active = False
        self._steps = 0
        self._sampled = 0
        self._params: list[Parameter] = []
        self._reset_steps()

    def _register(self) -> None:
        """Put a forward and a full backward hook on every leaf, for one sampled step."""
        try:
            for layer in self._layers:
                self._handles.append(layer.module.register_forward_hook(self._forward_hook(layer)))
                self._handles.append(layer.module.register_full_backward_hook(self._backward_hook(layer)))
        except BaseException:
            self.remove()
            raise

    def _reset_steps(self) -> None:
        self._grad_norms: list[Tensor] = []
        self._update_norms: list[Tensor] = []
        self._value_norms: list[Tensor] = []
        self._snapshot: list[Tensor] | None = None

    def _forward_hook(self, layer: _Layer) -> Callable[[ModuleBase, object, object], None]:
        def hook(module: ModuleBase, args: object, output: object) -> None:
            if self._active and isinstance(output, torch.Tensor):
                layer.activations.observe(output)

        return hook

    def _backward_hook(self, layer: _Layer) -> Callable[[ModuleBase, Sequence[Tensor | None], object], None]:
        def hook(module: ModuleBase, grad_input: Sequence[Tensor | None], grad_output: object) -> None:
            if self._active and grad_input:
                layer.observe_grad_input(grad_input[0])

        return hook

    def remove(self) -> None:
        """Remove every hook this object registered (safe to call twice)."""
        handles, self._handles = self._handles, []
        for handle in handles:
            handle.remove()

    def start_step(self) -> None:
        """Decide whether the coming step is sampled; if so, register the hooks that record it."""
        self._steps += 1
        sample = (self._steps - 1) % self.every == 0  # the epoch's first step, then every k-th
        self._active = sample
        self._sampled += sample
        if sample and not self._handles:
            self._register()

    def before_update(self, params: Sequence[Parameter]) -> None:
        """On a sampled step, record ``|∇θ|`` and ``|θ|``, and keep ``-θ`` to measure the update."""
        if not self._active:
            return
        self._params = list(params)
        if self._params:
            values = [p.value for p in self._params]
            self._grad_norms.append(torch.stack(torch._foreach_norm([p.grad for p in self._params])))
            self._value_norms.append(torch.stack(torch._foreach_norm(values)))
            self._snapshot = list(torch._foreach_neg(values))

    def end_step(self) -> None:
        """On a sampled step, record ``|Δθ|`` after the optimizer's step, and remove the hooks."""
        if self._active and self._snapshot is not None:
            torch._foreach_add_(self._snapshot, [p.value for p in self._params])  # θ_new - θ_old
            self._update_norms.append(torch.stack(torch._foreach_norm(self._snapshot)))
            self._snapshot = None
        self._active = False
        self.remove()

    def end_epoch(self, epoch: int | None = None) -> EpochDiagnostics:
        """Read back the epoch's figures, diagnose the epochs so far, and start a new epoch.

        Args:
            epoch: the epoch's number. Default: one more than the epochs this object has ended.
        """
        self._active = False
        per_param = self._parameter_stats()
        layers = []
        for layer in self._layers:
            own = {name: per_param[id(p)] for name, p in layer.params if id(p) in per_param}
            layers.append(layer.stats(own))
            layer.reset()
        number = len(self.epochs) + 1 if epoch is None else epoch
        self._findings.append(_findings(layers))  # once per epoch: the verdicts then cost O(1) per epoch
        found = EpochDiagnostics(number, self._steps, self._sampled, layers, _judged(self._findings))
        self.epochs.append(found)
        self._steps = self._sampled = 0
        self._reset_steps()
        return found

    def _parameter_stats(self) -> dict[int, ParameterStats]:
        if not self._grad_norms or len(self._update_norms) != len(self._grad_norms):
            return {}
        grads = torch.stack(self._grad_norms).double().cpu()  # (steps, params)
        before = torch.stack(self._value_norms).double().cpu()  # |θ| before each step
        updates = torch.stack(self._update_norms).double().cpu()
        stats = {}
        for index, param in enumerate(self._params):
            g, norm, delta = grads[:, index], before[:, index], updates[:, index]
            grad_ratio = update = update_max = None
            if bool((norm > 0).all()):
                grad_ratio = float((g / norm).mean())
                update, update_max = float((delta / norm).mean()), float((delta / norm).max())
            stats[id(param)] = ParameterStats(
                float(torch.linalg.vector_norm(param.value.double())), float(g.mean()), float(g.max()),
                grad_ratio, update, update_max,
            )  # fmt: skip
        return stats


def _weight(layer: LayerStats) -> tuple[str, ParameterStats] | None:
    """The layer's weight: the parameter named ``weight``, else its first one."""
    if "weight" in layer.parameters:
        return "weight", layer.parameters["weight"]
    return next(iter(layer.parameters.items()), None)


def _reaching(layers: Sequence[LayerStats], index: int) -> float | None:
    """The gradient reaching layer ``index``'s output: the input gradient of the next layer that has one."""
    return next((la.input_grad_norm for la in layers[index + 1 :] if la.input_grad_norm is not None), None)


def _findings(layers: Sequence[LayerStats]) -> dict[tuple[str, str], tuple[float, str]]:
    """What is wrong in one epoch: ``(kind, layer) -> (value, reason)``."""
    found: dict[tuple[str, str], tuple[float, str]] = {}
    top = next((la.input_grad_norm for la in reversed(layers) if la.input_grad_norm is not None), None)
    weighted = [(i, la, w) for i, la in enumerate(layers) if (w := _weight(la)) is not None]
    for index, layer, _ in weighted[:-1]:
        reach = _reaching(layers, index)
        if top and reach is not None:
            fall = reach / top
            if fall < VANISHING_FALL:
                found["vanishing", layer.layer] = (
                    fall, f"the gradient reaching it is {fall:.0e} of the one leaving the last layer",
                )  # fmt: skip
            elif fall > EXPLODING_RISE:
                found["exploding", layer.layer] = (
                    fall, f"the gradient reaching it is {fall:.0e} times the one leaving the last layer",
                )  # fmt: skip
    for _, layer, (name, weight) in weighted:
        ratio = weight.grad_ratio
        if ratio is not None and ratio < VANISHING_GRAD_RATIO and ("vanishing", layer.layer) not in found:
            found["vanishing", layer.layer] = (ratio, f"gradient {ratio:.0e} of the {name} norm")
    for layer in layers:
        if layer.saturated is not None and layer.saturated > SATURATED_FRACTION:
            found["saturated", layer.layer] = (
                layer.saturated, f"{layer.saturated:.0%} of its outputs within 1 % of the asymptotes",
            )  # fmt: skip
        if layer.dead is not None and layer.dead > DEAD_FRACTION:
            found["dead", layer.layer] = (layer.dead, f"{layer.dead:.0%} of its units never fired")
    updates = [(la, n, w.update_ratio) for _, la, (n, w) in weighted if w.update_ratio is not None]
    for layer, name, update in updates:
        if update > UPDATE_TOO_HIGH:
            found["lr too high", layer.layer] = (
                update,
                f"each step changes its {name} by {update:.0e} of its norm",
            )
    if updates and all(update < UPDATE_TOO_LOW for _, _, update in updates):
        largest = max(update for _, _, update in updates)
        found["lr too low", "all layers"] = (
            largest,
            f"no step changes a weight by more than {largest:.0e} of its norm",
        )
    return found


_ADVICE = {
    "vanishing": "vanishing; initialisation too small, or saturating activations?",
    "exploding": "exploding; initialisation too large, or learning rate too high?",
    "saturated": "saturated units; inputs or weights too large?",
    "dead": "dead units; learning rate too high, or initialisation pushing them negative?",
    "lr too high": "learning rate too high?",
    "lr too low": "learning rate too low?",
}


def verdicts(epochs: Sequence[EpochDiagnostics]) -> list[Verdict]:
    """Diagnose the last of ``epochs``: one ``Verdict`` per problem and layer, with how long it held.

    The thresholds, and why:

    - *vanishing*: the gradient reaching a layer (the input gradient of the layer after it) is below
      ``VANISHING_FALL`` = 1e-3 of the gradient leaving the last layer (three orders of magnitude lost
      on the way down: its parameters learn a thousand times slower than the last layer's, whatever
      the loss's scale); or its weight's gradient is below ``VANISHING_GRAD_RATIO`` = 1e-6 of the
      weight's norm (with any learning rate up to 1, a step then moves it a thousand times less than
      the healthy 1e-3);
    - *exploding*: that gradient is above ``EXPLODING_RISE`` = 1e3 times the last layer's;
    - *saturated*: more than ``SATURATED_FRACTION`` = 50 % of a Tanh's or Sigmoid's outputs within 1 %
      of the asymptotes, where the derivative is below 2 % (a majority of the units pass almost no
      gradient);
    - *dead*: more than ``DEAD_FRACTION`` = 50 % of a ReLU's units never fired in the epoch (they pass
      no gradient, so nothing revives them);
    - *lr too high*: a weight's update ratio ``|Δθ| / |θ|`` above ``UPDATE_TOO_HIGH`` = 0.1, two orders
      of magnitude above the healthy 1e-3 (each step rewrites a tenth of the weight);
    - *lr too low*: every weight's update ratio below ``UPDATE_TOO_LOW`` = 1e-5, two orders below
      (named on ``all layers``: when only some layers barely move, their gradient is the problem).

    Example:
        >>> layer = LayerStats("[1]", "[1] ReLU()", 1, 0.0, 0.0, None, 0.75, None)
        >>> [v.message for v in verdicts([EpochDiagnostics(1, 1, 1, [layer])])]
        ['layer [1] ReLU(): 75% of its units never fired for 1 epoch: dead units; learning rate too high, \
or initialisation pushing them negative?']
    """
    return _judged([_findings(epoch.layers) for epoch in epochs])


def _judged(history: Sequence[dict[tuple[str, str], tuple[float, str]]]) -> list[Verdict]:
    """The verdicts of the last epoch, given each epoch's findings (how long each held, from the end)."""
    if not history:
        return []
    result = []
    for key, (value, reason) in history[-1].items():
        held = 0
        for found in reversed(history):
            if key not in found:
                break
            held += 1
        kind, layer = key
        where = layer if layer == "all layers" else f"layer {layer}"
        span = "1 epoch" if held == 1 else f"{held} epochs"
        result.append(Verdict(kind, layer, held, value, f"{where}: {reason} for {span}: {_ADVICE[kind]}"))
    return result
