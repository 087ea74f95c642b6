"""Losses: regression (MSELoss, L1Loss, HuberLoss, on a shared element-wise base), classification on
logits (CrossEntropyLoss, BCEWithLogitsLoss) and on (log-)probabilities (NLLLoss, BCELoss).

Every loss takes torch.nn's arguments in torch.nn's order, with ``reduction`` ``"mean"``, ``"sum"``
or ``"none"``. For ``"none"`` the output is a tensor, so ``backward`` needs ``grad_output`` (d L / d
output, of the output's shape); for a 0-dim loss ``backward()`` means ``grad_output = 1``.
"""

from abc import abstractmethod
from typing import Final, Literal

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Loss
from minitorch_nn.parameter import Buffer

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "ElementwiseLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "Reduction",
]

Reduction = Literal["mean", "sum", "none"]

# torch's binary_cross_entropy: each log is clamped at -100, and the backward divides by
# max(x (1 - x), 1e-12); both keep the loss and its gradient finite at x = 0 and x = 1. torch's 1e-12 is a
# float32 constant, whatever the input's dtype: 9.999999960041972e-13.
BCE_LOG_FLOOR: Final[float] = -100.0
BCE_GRAD_EPS: Final[float] = 9.999999960041972e-13


def check_reduction(owner: str, reduction: str) -> Reduction:
    """Return ``reduction`` if it is ``"mean"``, ``"sum"`` or ``"none"``, else raise ``ValueError``."""
    if reduction == "mean":
        return "mean"
    if reduction == "sum":
        return "sum"
    if reduction == "none":
        return "none"
    raise ValueError(f"{owner}: expected reduction 'mean', 'sum' or 'none', got {reduction!r}")


def refuse_legacy(owner: str, size_average: object, reduce: object) -> None:
    """Raise ``ValueError`` unless torch's deprecated ``size_average`` and ``reduce`` are ``None``."""
    for name, value in (("size_average", size_average), ("reduce", reduce)):
        if value is not None:
            raise ValueError(
                f"{owner}: expected {name}=None, got {value!r}; torch.nn deprecated size_average and "
                "reduce in favour of reduction ('mean', 'sum' or 'none'), the only form taken here"
            )


def weight_buffer(owner: str, name: str, weight: Tensor | None, *, per_class: bool) -> Buffer | None:
    """``weight`` as a ``Buffer`` (a copy), or ``None``; refuse a non-float, non-finite or misshapen one."""
    if weight is None:
        return None
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"{owner}: expected {name} to be a torch.Tensor or None, got {type(weight).__name__}")
    if not weight.is_floating_point():
        raise TypeError(f"{owner}: expected a floating-point {name}, got {weight.dtype}")
    if per_class and weight.dim() != 1:
        raise ValueError(f"{owner}: expected {name} of shape (C,), one per class, got {shape_str(weight)}")
    if not bool(torch.isfinite(weight).all()):
        raise ValueError(f"{owner}: expected a finite {name}, got a {name} with NaN or infinite entries")
    return Buffer(weight.detach().clone())


def check_like_buffer(loss: Loss, input: Tensor, value: Tensor, name: str) -> None:
    """Raise ``TypeError`` unless ``input`` has the dtype and device of the buffer ``name`` (``value``)."""
    if value.dtype != input.dtype or value.device != input.device:
        raise TypeError(
            f"{loss!r}: expected input of the {name}'s dtype and device ({value.dtype}, {value.device}), "
            f"got {input.dtype} on {input.device}"
        )


def _per_row(value: Tensor | float) -> Tensor | float:
    """A per-position value ``(N, *)`` as ``(N, 1, *)``, to broadcast over the classes; a scalar as is."""
    return value.unsqueeze(1) if isinstance(value, Tensor) and value.dim() else value


def _add_at(grad: Tensor, index: Tensor, value: Tensor | float, scale: float) -> Tensor:
    """``grad[n, index[n, 0, *], *] += scale * value[n, *]`` in place (``value`` may be a scalar)."""
    if not isinstance(value, Tensor):
        return grad.scatter_(1, index, scale * value, reduce="add")
    src = value * scale
    return grad.scatter_add_(1, index, src.unsqueeze(1) if src.dim() else src.expand(index.shape))


def _reduced(loss: Tensor, reduction: Reduction, count: Tensor | int) -> Tensor:
    """``loss`` itself for ``"none"``, its sum, or its sum divided by ``count`` (NaN for 0, as torch)."""
    if reduction == "none":
        return loss
    total = torch.sum(loss)
    return total if reduction == "sum" else total / count


class ElementwiseLoss(Loss):
    """Base of losses that compare ``input`` and ``target`` element by element.

    ``forward`` checks that both are floating point and of one shape, caches
    ``input - target``, and reduces ``pointwise(diff)``: by sum, by mean, or
    not at all (``"none"``). ``backward`` returns ``derivative(diff)`` times
    ``grad_output``, divided by the element count for ``"mean"``.
    """

    reduction: Final[Reduction]

    def __init__(self, reduction: Reduction = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(type(self).__name__, reduction)
        self._diff: Tensor | None = None

    @abstractmethod
    def pointwise(self, diff: Tensor) -> Tensor:
        """The loss of each element, from ``input - target``, as a new tensor."""

    @abstractmethod
    def derivative(self, diff: Tensor) -> Tensor:
        """The derivative of ``pointwise`` with respect to the input, as a new tensor."""

    @override
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Return the loss; cache ``input - target`` for ``backward``."""
        self._check_pair(input, target)
        self._diff = input - target
        return _reduced(self.pointwise(self._diff), self.reduction, self._diff.numel())

    @override
    def backward(self, grad_output: Tensor | None = None) -> Tensor:
        """Return d L / d input for the last ``forward``, given d L / d output (``None``: 1, 0-dim loss)."""
        diff = self._cached(self._diff)
        scale = self._output_grad(grad_output, diff.shape if self.reduction == "none" else ())
        grad = self.derivative(diff)
        if self.reduction == "mean":
            grad.div_(diff.numel())
        return grad if scale is None else grad.mul_(scale)

    @override
    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(ElementwiseLoss):
    r"""Squared error :math:`\ell_i = (x_i - t_i)^2`, summed, averaged (``"mean"``) or kept per element.

    Its gradient is :math:`2 (x - t)`, divided by the element count for ``"mean"``.

    Args:
        size_average: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduce: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduction: ``"mean"`` averages over every element, ``"sum"`` adds them
            up, ``"none"`` returns each element's loss, as in ``torch.nn.MSELoss``. Default: ``"mean"``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Target: :math:`(*)`, the shape of the input.
        - Output: :math:`()`, a 0-dim tensor; :math:`(*)` for ``"none"``.

    Example:
        >>> loss = MSELoss(reduction="sum")
        >>> loss(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])).item()
        5.0
        >>> loss.backward().tolist()
        [[2.0, 4.0]]
        >>> each = MSELoss(reduction="none")
        >>> each(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0])).tolist()
        [1.0, 4.0]
        >>> each.backward(torch.tensor([1.0, 0.5])).tolist()
        [2.0, 2.0]
    """

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: Reduction = "mean"
    ) -> None:
        refuse_legacy("MSELoss", size_average, reduce)
        super().__init__(reduction)

    @override
    def pointwise(self, diff: Tensor) -> Tensor:
        return diff * diff

    @override
    def derivative(self, diff: Tensor) -> Tensor:
        return diff * 2.0


class L1Loss(ElementwiseLoss):
    r"""Absolute error :math:`\ell_i = |x_i - t_i|`, summed, averaged (``"mean"``) or kept per element.

    Its gradient is :math:`\operatorname{sign}(x - t)`, 0 where :math:`x = t`, as in torch.

    Args:
        size_average: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduce: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``. Default: ``"mean"``.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Target: :math:`(*)`, the shape of the input.
        - Output: :math:`()`, a 0-dim tensor; :math:`(*)` for ``"none"``.

    Example:
        >>> loss = L1Loss()
        >>> loss(torch.tensor([1.0, -3.0]), torch.tensor([0.0, 0.0])).item()
        2.0
        >>> loss.backward().tolist()
        [0.5, -0.5]
    """

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: Reduction = "mean"
    ) -> None:
        refuse_legacy("L1Loss", size_average, reduce)
        super().__init__(reduction)

    @override
    def pointwise(self, diff: Tensor) -> Tensor:
        return diff.abs()

    @override
    def derivative(self, diff: Tensor) -> Tensor:
        return torch.sign(diff)


class HuberLoss(ElementwiseLoss):
    r"""Huber loss: :math:`\frac12 d^2` for :math:`|d| < \delta`, else :math:`\delta (|d| - \frac12 \delta)`.

    Here :math:`d = x - t`. The gradient is :math:`d` clamped to :math:`[-\delta, \delta]`.

    Args:
        reduction: ``"mean"``, ``"sum"`` or ``"none"``. Default: ``"mean"``.
        delta: where the loss turns from quadratic to linear; must be > 0. Default: 1.0.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Target: :math:`(*)`, the shape of the input.
        - Output: :math:`()`, a 0-dim tensor; :math:`(*)` for ``"none"``.

    Example:
        >>> loss = HuberLoss(reduction="sum", delta=1.0)
        >>> loss(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0])).item()
        2.625
        >>> loss.backward().tolist()
        [0.5, 1.0]
    """

    delta: Final[float]

    def __init__(self, reduction: Reduction = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: expected delta > 0, got {delta}")
        self.delta = float(delta)

    @override
    def pointwise(self, diff: Tensor) -> Tensor:
        size = diff.abs()
        return torch.where(size < self.delta, 0.5 * diff * diff, self.delta * (size - 0.5 * self.delta))

    @override
    def derivative(self, diff: Tensor) -> Tensor:
        return diff.clamp(-self.delta, self.delta)

    @override
    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


# --- Classification over C classes: NLLLoss and CrossEntropyLoss ---------------------------------


class _ClassLoss(Loss):
    """What NLLLoss and CrossEntropyLoss share: ``weight``, ``ignore_index``, shapes, index targets.

    Inputs are ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dk)``, classes along dim 1 (dim 0 unbatched);
    an unbatched input is handled as a batch of one. The loss of a position :math:`n` with class
    :math:`y_n` is weighted by :math:`w_n = w_{y_n}` (1 without ``weight``, 0 where
    :math:`y_n` is ``ignore_index``); ``"mean"`` divides the sum by :math:`\\sum_n w_n`.
    """

    reduction: Final[Reduction]
    ignore_index: Final[int]

    def __init__(self, weight: Tensor | None, ignore_index: int, reduction: Reduction) -> None:
        super().__init__()
        owner = type(self).__name__
        self.weight = weight_buffer(owner, "weight", weight, per_class=True)
        if not isinstance(ignore_index, int) or isinstance(ignore_index, bool):
            raise TypeError(f"{owner}: expected ignore_index to be an int, got {type(ignore_index).__name__}")
        self.ignore_index = ignore_index
        self.reduction = check_reduction(owner, reduction)
        self._log_probs: Tensor | None = None  # (N, C, *): the log-probabilities (NLLLoss: its input)
        self._index: Tensor | None = None  # (N, 1, *): the target, ignored entries set to 0
        self._weights: Tensor | None = None  # (N, *): w_n, or None for all ones
        self._valid: Tensor | None = None  # (N, *): target != ignore_index, or None when nothing is ignored
        self._count: Tensor | int = 0  # the divisor of "mean"
        self._out_shape: tuple[int, ...] = ()
        self._unbatched = False

    def _batched(self, input: Tensor) -> Tensor:
        """``input`` with a batch dimension; raise unless it is ``(C,)``, ``(N, C)`` or ``(N, C, *)``."""
        self._check_floating(input)
        if input.dim() == 0:
            raise ValueError(f"{self!r}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got ()")
        return input.unsqueeze(0) if input.dim() == 1 else input

    def _check_weight(self, input: Tensor) -> Tensor | None:
        """The weight, checked against the input's classes, dtype and device."""
        if self.weight is None:
            return None
        weight, classes = self.weight.value, input.shape[1]
        if weight.shape != (classes,):
            raise ValueError(
                f"{self!r}: expected weight of shape ({classes},), one per class of the input, "
                f"got {shape_str(weight)}"
            )
        check_like_buffer(self, input, weight, "weight")
        return weight

    def _index_target(self, input: Tensor, target: Tensor) -> Tensor:
        """``target`` as int64 of shape ``(N, *)``; raise unless it fits ``input``."""
        if not isinstance(target, torch.Tensor):
            raise TypeError(f"{self!r}: expected target to be a torch.Tensor, got {type(target).__name__}")
        expected = input.shape[:1] + input.shape[2:] if input.dim() > 1 else torch.Size()
        if target.dtype not in (torch.int64, torch.uint8) or target.shape != expected:
            raise ValueError(
                f"{self!r}: expected int64 class-index target of shape {tuple(expected)}, "
                f"got {target.dtype} of shape {shape_str(target)}"
            )
        target = target.long()
        return target.unsqueeze(0) if input.dim() == 1 else target

    def _may_ignore(self, target: Tensor, classes: int) -> bool:
        """Raise unless every entry is a class index or ``ignore_index``; ``True`` if some may be ignored.

        On a GPU the values are not read (that would cost a synchronisation), so it answers ``True``.
        """
        if target.numel() == 0:
            return False
        if target.device.type != "cpu":
            return True
        low, high = (int(v) for v in torch.aminmax(target))
        if low >= 0 and high < classes:
            return low <= self.ignore_index <= high
        kept = target[target != self.ignore_index]
        if kept.numel():
            low, high = (int(v) for v in torch.aminmax(kept))
            if not (low >= 0 and high < classes):
                expected = f"expected class indices in [0, {classes})"
                raise ValueError(f"{self!r}: {expected}, got values in [{low}, {high}]")
        return True

    def _gather_setup(self, batched: Tensor, target: Tensor) -> Tensor:
        """Cache the index, the per-position weights, the mask and the "mean" divisor; return the index."""
        weight = self._check_weight(batched)
        valid = target != self.ignore_index if self._may_ignore(target, batched.shape[1]) else None
        safe = target if valid is None else target.masked_fill(~valid, 0)
        weights = None if weight is None else weight[safe]
        if valid is not None:
            weights = valid.to(batched.dtype) if weights is None else weights * valid
        self._valid, self._weights = valid, weights
        self._count = target.numel() if weights is None else weights.sum()
        self._index = safe.unsqueeze(1)
        return self._index

    def _position_grad(self, grad_output: Tensor | None) -> Tensor | float:
        """d L / d loss_n for every position: ``grad_output`` (``"none"``) or its share of the sum or mean."""
        scale = self._output_grad(grad_output, self._out_shape)
        if self.reduction == "none":
            return 1.0 if scale is None else scale.unsqueeze(0) if self._unbatched else scale
        if self.reduction == "sum":
            return 1.0 if scale is None else scale
        count = self._count
        if isinstance(count, int):
            return (1.0 if scale is None else scale) / max(count, 1)
        return count.reciprocal() if scale is None else scale / count

    def _hit_grad(self, position: Tensor | float) -> Tensor | float:
        """d L / d (-log p at the target class) for every position: the position's gradient times ``w_n``."""
        grad = position
        if self._weights is not None:
            grad = self._weights * grad
            if self._valid is not None:  # 0 where ignored, even when the "mean" divisor is 0 (torch's)
                grad = grad.masked_fill(~self._valid, 0.0)
        return grad

    def _finish(self, loss: Tensor) -> Tensor:
        """Reduce the per-position ``loss`` ``(N, *)`` (0 where ignored); record the output's shape."""
        if self._valid is not None:
            loss = loss.masked_fill_(~self._valid, 0.0)
        out = _reduced(loss, self.reduction, self._count)
        if self.reduction == "none" and self._unbatched:
            out = out.squeeze(0)
        self._out_shape = tuple(out.shape)
        return out

    @override
    def extra_repr(self) -> str:
        ignore = f", ignore_index={self.ignore_index}" if self.ignore_index != -100 else ""
        return f"reduction={self.reduction!r}{ignore}"


class NLLLoss(_ClassLoss):
    r"""Negative log-likelihood of log-probabilities :math:`\ell_n = -w_{y_n} x_{n, y_n}`.

    ``"mean"`` divides the sum by :math:`\sum_n w_{y_n}` over the positions that are not
    ignored (their count without ``weight``), as torch; with every position ignored it is NaN.
    The gradient is :math:`-w_{y_n}` at :math:`(n, y_n)` and 0 elsewhere, times the
    position's share of ``grad_output``.

    Args:
        weight: a rescaling weight for each class, of shape :math:`(C,)`; registered as the
            buffer ``weight``. Default: ``None`` (all ones).
        size_average: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        ignore_index: a target value that contributes neither loss nor gradient (nor to the
            ``"mean"`` divisor). Default: -100.
        reduce: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``. Default: ``"mean"``.

    Shape:
        - Input: :math:`(N, C)`, :math:`(C,)` or :math:`(N, C, d_1, ..., d_k)` log-probabilities.
        - Target: :math:`(N)`, :math:`()` or :math:`(N, d_1, ..., d_k)`, int64 class indices in
          :math:`[0, C)` or ``ignore_index``.
        - Output: :math:`()`; for ``"none"`` the target's shape.

    Example:
        >>> loss = NLLLoss(weight=torch.tensor([1.0, 3.0]), reduction="mean")
        >>> log_probs = torch.log(torch.tensor([[0.5, 0.5], [0.25, 0.75]]))
        >>> round(loss(log_probs, torch.tensor([0, 1])).item(), 4)
        0.389
        >>> loss.backward().tolist()
        [[-0.25, 0.0], [0.0, -0.75]]
        >>> sorted(loss.state_dict())
        ['weight']
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: Reduction = "mean",
    ) -> None:
        refuse_legacy("NLLLoss", size_average, reduce)
        super().__init__(weight, ignore_index, reduction)

    @override
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Return the loss; cache the input (not a copy) and the target's index and weights."""
        batched = self._batched(input)
        self._log_probs, self._unbatched = None, input.dim() == 1  # a forward that raises leaves nothing
        if isinstance(target, torch.Tensor) and target.is_floating_point():
            raise TypeError(f"{self!r}: expected an int64 class-index target, got {target.dtype}")
        index = self._gather_setup(batched, self._index_target(input, target))
        self._log_probs = batched
        picked = batched.gather(1, index).squeeze(1)
        loss = picked.neg() if self._weights is None else picked.mul(self._weights).neg_()
        return self._finish(loss)

    @override
    def backward(self, grad_output: Tensor | None = None) -> Tensor:
        """Return ``-w`` at each target class, times the position's gradient; 0 elsewhere."""
        log_probs, index = self._cached(self._log_probs), self._cached(self._index)
        hit = self._hit_grad(self._position_grad(grad_output))
        grad = _add_at(torch.zeros_like(log_probs), index, hit, -1.0)
        return grad.squeeze(0) if self._unbatched else grad


class CrossEntropyLoss(_ClassLoss):
    r"""Cross-entropy of logits :math:`\ell_n = -\sum_c a_{nc} \log \operatorname{softmax}(x_n)_c`.

    With class-index targets :math:`a_{nc} = (1 - \varepsilon) w_{y_n} [c = y_n] + \frac{\varepsilon}{C} w_c`
    (0 for a position whose target is ``ignore_index``), with label smoothing :math:`\varepsilon` and
    class weights :math:`w` (ones by default); ``"mean"`` divides the sum by :math:`\sum_n w_{y_n}`
    over the positions not ignored, as torch does (the smoothing term too). With probability
    targets :math:`p`, :math:`a_{nc} = w_c ((1 - \varepsilon) p_{nc} + \varepsilon / C)` and
    ``"mean"`` divides by the number of positions :math:`N d_1 \cdots d_k`. The gradient is
    :math:`\operatorname{softmax}(x_n) \sum_c a_{nc} - a_n`, times the position's share of
    ``grad_output``. The log-softmax is shifted by the maximum, so logits of any size stay finite.

    Args:
        weight: a rescaling weight for each class, of shape :math:`(C,)`; registered as the
            buffer ``weight``. Default: ``None`` (all ones).
        size_average: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        ignore_index: a class-index target value that contributes neither loss nor gradient (nor to
            the ``"mean"`` divisor); with probability targets only a negative value is accepted,
            as in torch. Default: -100.
        reduce: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``. Default: ``"mean"``.
        label_smoothing: :math:`\varepsilon` in [0, 1]. Default: 0.0.

    Shape:
        - Input: :math:`(N, C)`, :math:`(C,)` or :math:`(N, C, d_1, ..., d_k)` logits.
        - Target: class indices (int64) of shape :math:`(N)`, :math:`()` or :math:`(N, d_1, ..., d_k)`,
          in :math:`[0, C)` or ``ignore_index``; or floating-point class probabilities of the
          input's shape (a target of the input's shape is read as probabilities, as in torch).
        - Output: :math:`()`; for ``"none"`` the shape of the input without its class dimension.

    Example:
        >>> loss = CrossEntropyLoss()
        >>> logits = torch.tensor([[0.0, 0.0], [1e4, -1e4]])
        >>> loss(logits, torch.tensor([0, 1])).item()
        10000.3466796875
        >>> loss.backward().tolist()
        [[-0.25, 0.25], [0.5, -0.5]]
        >>> each = CrossEntropyLoss(reduction="none", ignore_index=1)
        >>> each(logits, torch.tensor([0, 1])).tolist()
        [0.6931471824645996, 0.0]
        >>> each.backward(torch.tensor([2.0, 1.0])).tolist()
        [[-1.0, 1.0], [0.0, 0.0]]
    """

    label_smoothing: Final[float]

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: Reduction = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        refuse_legacy("CrossEntropyLoss", size_average, reduce)
        super().__init__(weight, ignore_index, reduction)
        if not isinstance(label_smoothing, int | float) or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: expected label_smoothing in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)
        self._soft_target: Tensor | None = None  # (N, C, *): a_nc, for probability targets only

    @override
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Return the loss; cache the log-probabilities and what the target contributes to the gradient."""
        plain = self.weight is None and not self.label_smoothing and self.reduction != "none"
        if plain and input.dim() == 2 and isinstance(target, Tensor) and target.dtype == torch.int64:
            loss = self._forward_plain(input, target)  # the common case, without masks and weights
            if loss is not None:
                return loss
        batched = self._batched(input)
        self._log_probs, self._unbatched = None, input.dim() == 1  # a forward that raises leaves nothing
        if isinstance(target, torch.Tensor) and target.is_floating_point():
            if target.shape == input.shape:
                return self._forward_soft(input, batched, target)
            raise ValueError(
                f"{self!r}: expected probability target of shape {shape_str(input)}, got {shape_str(target)}"
            )
        self._soft_target = None
        index = self._gather_setup(batched, self._index_target(input, target))
        self._log_probs = torch.log_softmax(batched, dim=1)
        picked = self._log_probs.gather(1, index).squeeze(1)
        loss = picked.neg() if self._weights is None else picked.mul(self._weights).neg_()
        if self.label_smoothing:
            loss = loss.mul_(1.0 - self.label_smoothing).add_(self._smooth_term())
        return self._finish(loss)

    def _forward_plain(self, input: Tensor, target: Tensor) -> Tensor | None:
        """The loss for ``(N, C)`` logits and ``(N,)`` class indices none of which is ignored, without
        weights or smoothing: the gathered log-probabilities, summed. ``None`` if an index may be ignored.
        """
        self._check_floating(input)
        self._log_probs = None  # a forward that raises leaves nothing
        if target.shape != input.shape[:1] or self._may_ignore(target, input.shape[1]):
            return None
        self._index = index = target.unsqueeze(1)
        self._log_probs = log_probs = torch.log_softmax(input, dim=1)
        self._weights = self._valid = self._soft_target = None
        self._unbatched, self._count, self._out_shape = False, target.numel(), ()
        total = log_probs.gather(1, index).sum()
        return total.neg_() if self.reduction == "sum" else total.div_(-target.numel())

    def _smooth_term(self) -> Tensor:
        r""":math:`-\frac{\varepsilon}{C} \sum_c w_c \log p_{nc}`, 0 where the target is ignored."""
        log_probs = self._cached(self._log_probs)
        weighted = log_probs if self.weight is None else log_probs * self._class_view(log_probs)
        smooth = weighted.sum(dim=1).mul_(-self.label_smoothing / log_probs.shape[1])
        return smooth if self._valid is None else smooth.masked_fill_(~self._valid, 0.0)

    def _class_view(self, like: Tensor) -> Tensor:
        """The weight viewed as ``(1, C, 1, ..., 1)`` to broadcast over ``like``."""
        assert self.weight is not None
        return self.weight.value.view((1, -1) + (1,) * (like.dim() - 2))

    def _forward_soft(self, input: Tensor, batched: Tensor, target: Tensor) -> Tensor:
        """The loss for class-probability targets; cache :math:`a_{nc}`."""
        if self.ignore_index >= 0:
            raise ValueError(
                f"{self!r}: expected ignore_index < 0 with probability targets (ignore_index applies to "
                f"class-index targets only), got ignore_index={self.ignore_index}"
            )
        weight = self._check_weight(batched)
        soft = target.unsqueeze(0) if self._unbatched else target
        if self.label_smoothing:
            soft = soft * (1.0 - self.label_smoothing) + self.label_smoothing / batched.shape[1]
        if weight is not None:
            soft = soft * self._class_view(batched)
        self._soft_target, self._valid, self._weights, self._index = soft, None, None, None
        log_probs = self._log_probs = torch.log_softmax(batched, dim=1)
        loss = (soft * log_probs).sum(dim=1).neg_()
        self._count = loss.numel()
        return self._finish(loss)

    @override
    def backward(self, grad_output: Tensor | None = None) -> Tensor:
        """Return ``softmax(x) * a.sum(1) - a``, times each position's share of ``grad_output``."""
        log_probs = self._cached(self._log_probs)
        if self._soft_target is not None:
            grad = self._backward_soft(log_probs, self._soft_target, grad_output)
        else:
            grad = self._backward_index(log_probs, grad_output)
        return grad.squeeze(0) if self._unbatched else grad

    def _backward_soft(self, log_probs: Tensor, soft: Tensor, grad_output: Tensor | None) -> Tensor:
        position = self._position_grad(grad_output)
        grad = torch.exp(log_probs).mul_(soft.sum(dim=1, keepdim=True)).sub_(soft)
        return grad.mul_(_per_row(position))

    def _backward_index(self, log_probs: Tensor, grad_output: Tensor | None) -> Tensor:
        index, classes, eps = self._cached(self._index), log_probs.shape[1], self.label_smoothing
        position = self._position_grad(grad_output)
        hit = self._hit_grad(position)
        grad = torch.exp(log_probs)
        if not eps:  # a_n = w_n at y_n: softmax * w_n - onehot(y_n) * w_n
            return _add_at(grad.mul_(_per_row(hit)), index, hit, -1.0)
        # a_nc = (1 - eps) w_n [c = y_n] + eps / C * w_c, all 0 where ignored
        spread = torch.as_tensor(position, dtype=grad.dtype, device=grad.device).mul(eps / classes)
        if self._valid is not None:
            spread = spread.expand(self._valid.shape).masked_fill(~self._valid, 0.0)
        total = float(classes) if self.weight is None else self.weight.value.sum()
        hit_tensor = torch.as_tensor(hit, dtype=grad.dtype, device=grad.device)
        grad.mul_(_per_row(spread * total + hit_tensor.mul(1.0 - eps)))
        _add_at(grad, index, hit, eps - 1.0)
        per_class = _per_row(spread)
        return grad.sub_(per_class if self.weight is None else per_class * self._class_view(grad))

    @override
    def extra_repr(self) -> str:
        smoothing = f", label_smoothing={self.label_smoothing}" if self.label_smoothing else ""
        return super().extra_repr() + smoothing


# --- Binary classification: BCEWithLogitsLoss on logits, BCELoss on probabilities ------------------


class _BinaryLoss(Loss):
    """What BCEWithLogitsLoss and BCELoss share: ``weight``, the checks, the reduction's gradient."""

    reduction: Final[Reduction]

    def __init__(self, weight: Tensor | None, reduction: Reduction) -> None:
        super().__init__()
        self.weight = weight_buffer(type(self).__name__, "weight", weight, per_class=False)
        self.reduction = check_reduction(type(self).__name__, reduction)
        self._input: Tensor | None = None
        self._target: Tensor | None = None

    def _check_broadcast(self, input: Tensor, buffer: Buffer | None, name: str) -> Tensor | None:
        """The buffer's value, if it broadcasts to the input's shape and has its dtype and device."""
        if buffer is None:
            return None
        value = buffer.value
        trailing = input.shape[input.dim() - value.dim() :] if value.dim() <= input.dim() else None
        if trailing is None or any(v not in (1, i) for v, i in zip(value.shape, trailing, strict=True)):
            raise ValueError(
                f"{self!r}: expected {name} broadcastable to the input's shape {shape_str(input)}, "
                f"got {shape_str(value)}"
            )
        check_like_buffer(self, input, value, name)
        return value

    def _reduced_weighted(self, loss: Tensor, weight: Tensor | None) -> Tensor:
        """The element losses (a new tensor) times the weight, in place, reduced as ``reduction`` says."""
        return _reduced(loss if weight is None else loss.mul_(weight), self.reduction, loss.numel())

    def _scaled(self, grad: Tensor, grad_output: Tensor | None) -> Tensor:
        """``grad`` (a new tensor, d loss_i / d x_i) times the weight and d L / d loss_i, in place."""
        input = self._cached(self._input)
        scale = self._output_grad(grad_output, input.shape if self.reduction == "none" else ())
        if self.weight is not None:
            grad.mul_(self.weight.value)
        if self.reduction == "mean":
            grad.div_(max(input.numel(), 1))
        return grad if scale is None else grad.mul_(scale)

    @override
    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(_BinaryLoss):
    r"""Binary cross-entropy of logits :math:`\ell = -w [p t \log \sigma(x) + (1 - t) \log(1 - \sigma(x))]`.

    Computed as :math:`w [(1 - t) x + (1 + (p - 1) t) \operatorname{softplus}(-x)]`, stable for
    any logit, with :math:`\operatorname{softplus}(-x) = \max(-x, 0) + \log(1 + e^{-|x|})`, element
    weight :math:`w` and positive-class weight :math:`p` (both 1 by default). The gradient is
    :math:`w [(1 + (p - 1) t) \sigma(x) - p t]` (:math:`w (\sigma(x) - t)` for :math:`p = 1`);
    ``"mean"`` divides by the element count.

    Args:
        weight: a rescaling weight, broadcast to the input's shape; registered as the buffer
            ``weight``. Default: ``None``.
        size_average: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduce: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``. Default: ``"mean"``.
        pos_weight: the weight of positive examples, broadcast to the input's shape (one per class
            along the last dimension, say, shape :math:`(C,)`); registered as the buffer
            ``pos_weight``. Default: ``None``.

    Shape:
        - Input: :math:`(*)` logits, any shape.
        - Target: :math:`(*)`, the shape of the input, values in [0, 1].
        - Output: :math:`()`, a 0-dim tensor; :math:`(*)` for ``"none"``.

    Example:
        >>> loss = BCEWithLogitsLoss(reduction="sum")
        >>> loss(torch.tensor([0.0, 1e4]), torch.tensor([1.0, 1.0])).item()
        0.6931471824645996
        >>> loss.backward().tolist()
        [-0.5, 0.0]
        >>> weighted = BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]), reduction="none")
        >>> weighted(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0])).tolist()
        [2.079441547393799, 0.6931471824645996]
        >>> weighted.backward(torch.ones(2)).tolist()
        [-1.5, 0.5]
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: Reduction = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        refuse_legacy("BCEWithLogitsLoss", size_average, reduce)
        super().__init__(weight, reduction)
        self.pos_weight = weight_buffer("BCEWithLogitsLoss", "pos_weight", pos_weight, per_class=False)

    @override
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Return the loss; cache ``input`` and ``target`` (not copies)."""
        self._check_pair(input, target)
        weight = self._check_broadcast(input, self.weight, "weight")
        pos_weight = self._check_broadcast(input, self.pos_weight, "pos_weight")
        self._input, self._target = input, target
        softplus = torch.log1p(torch.exp(-input.abs()))
        if pos_weight is None:
            loss = input.clamp(min=0).sub_(input * target).add_(softplus)
        else:
            log_weight = (pos_weight - 1).mul(target).add_(1)
            loss = (1 - target).mul_(input).add_(log_weight.mul_(softplus.add_((-input).clamp_(min=0))))
        return self._reduced_weighted(loss, weight)

    @override
    def backward(self, grad_output: Tensor | None = None) -> Tensor:
        """Return ``sigmoid(x) - t`` (with ``pos_weight``: ``(1 + (p - 1) t) sigmoid(x) - p t``), weighted."""
        input, target = self._cached(self._input), self._cached(self._target)
        grad = torch.sigmoid(input)
        if self.pos_weight is None:
            grad.sub_(target)
        else:
            pos_target = self.pos_weight.value * target
            grad.mul_(pos_target - target + 1).sub_(pos_target)
        return self._scaled(grad, grad_output)


class BCELoss(_BinaryLoss):
    r"""Binary cross-entropy of probabilities :math:`\ell = -w [t \log x + (1 - t) \log(1 - x)]`.

    As in torch, each logarithm is clamped at -100, so the loss is finite even at
    :math:`x \in \{0, 1\}` (at most :math:`100 w` per element), and the gradient is torch's
    :math:`w (x - t) / \max(x (1 - x), 10^{-12})`: finite everywhere, and equal to the derivative
    of the loss wherever :math:`x (1 - x) \ge 10^{-12}`. ``"mean"`` divides by the element count.
    For inputs that are logits, :class:`BCEWithLogitsLoss` is exact and stable.

    Args:
        weight: a rescaling weight, broadcast to the input's shape; registered as the buffer
            ``weight``. Default: ``None``.
        size_average: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduce: torch's deprecated form of ``reduction``; only ``None`` is accepted. Default: ``None``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``. Default: ``"mean"``.

    Shape:
        - Input: :math:`(*)` probabilities in [0, 1], any shape.
        - Target: :math:`(*)`, the shape of the input, values in [0, 1].
        - Output: :math:`()`, a 0-dim tensor; :math:`(*)` for ``"none"``.

    Example:
        >>> loss = BCELoss(reduction="none")
        >>> loss(torch.tensor([0.5, 0.0]), torch.tensor([1.0, 1.0])).tolist()
        [0.6931471824645996, 100.0]
        >>> [f"{g:.6g}" for g in loss.backward(torch.ones(2)).tolist()]
        ['-2', '-1e+12']
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: Reduction = "mean",
    ) -> None:
        refuse_legacy("BCELoss", size_average, reduce)
        super().__init__(weight, reduction)

    def _check_unit(self, tensor: Tensor, what: str) -> None:
        """Raise ``ValueError`` unless every value of ``tensor`` is in [0, 1] (NaN is not)."""
        if tensor.numel() == 0:
            return
        low, high = (float(v) for v in torch.aminmax(tensor))
        if not (low >= 0.0 and high <= 1.0):
            raise ValueError(f"{self!r}: expected {what} values in [0, 1], got values in [{low}, {high}]")

    @override
    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Return the loss; cache ``input`` and ``target`` (not copies)."""
        self._check_pair(input, target)
        weight = self._check_broadcast(input, self.weight, "weight")
        self._check_unit(input, "input")
        self._check_unit(target, "target")
        self._input, self._target = input, target
        log_x = torch.log(input).clamp_(min=BCE_LOG_FLOOR)
        log_1mx = torch.log1p(-input).clamp_(min=BCE_LOG_FLOOR)
        loss = log_x.sub_(log_1mx).mul_(target).add_(log_1mx).neg_()  # -(t log x + (1 - t) log(1 - x))
        return self._reduced_weighted(loss, weight)

    @override
    def backward(self, grad_output: Tensor | None = None) -> Tensor:
        """Return ``(x - t) / max(x (1 - x), 1e-12)``, weighted, as torch's backward."""
        input, target = self._cached(self._input), self._cached(self._target)
        denominator = (1 - input).mul_(input).clamp_(min=BCE_GRAD_EPS)
        return self._scaled((input - target).div_(denominator), grad_output)
