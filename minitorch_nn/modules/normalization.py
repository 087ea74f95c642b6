"""Normalisation: BatchNorm1d and BatchNorm2d (per channel, with running statistics for evaluation) and
LayerNorm (per sample, over the trailing dimensions), on ATen's fused kernels as ``torch.nn`` runs them.

Each ``forward`` runs one fused kernel (``native_batch_norm``, ``native_layer_norm``) and caches the
input with the statistics the kernel saves; each ``backward`` runs the matching fused backward kernel
once for the input gradient and both parameter gradients. The kernels keep the input's memory format,
so a ``torch.channels_last`` batch stays channels_last through forward and backward.
"""

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import Final

import torch
from typing_extensions import override

from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Shape, Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.modules.linear import check_size
from minitorch_nn.parameter import Buffer, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]

# ATen's fused normalisation kernels, the ones torch.nn's modules reach on CPU and CUDA.
_aten = torch.ops.aten


def _check_eps(owner: str, eps: object) -> float:
    """``eps`` as given (so that ``repr`` prints it as torch does); raise unless finite and > 0."""
    if isinstance(eps, bool) or not isinstance(eps, int | float):
        raise TypeError(f"{owner}: expected eps to be a float, got {type(eps).__name__}")
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"{owner}: expected eps > 0 and finite, got {eps}")
    return eps


def _check_momentum(owner: str, momentum: object) -> float | None:
    if momentum is None:
        return None
    if isinstance(momentum, bool) or not isinstance(momentum, int | float):
        raise TypeError(f"{owner}: expected momentum to be a float or None, got {type(momentum).__name__}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"{owner}: expected momentum in [0, 1] or None, got {momentum}")
    return momentum


def _value(param: Parameter | None) -> Tensor | None:
    return None if param is None else param.value


def _accumulate(
    weight: Parameter | None, bias: Parameter | None, grad_weight: Tensor | None, grad_bias: Tensor | None
) -> None:
    """Add the kernel's parameter gradients into ``weight.grad`` and ``bias.grad``, in place."""
    if weight is not None and grad_weight is not None:
        weight.grad.add_(grad_weight)
    if bias is not None and grad_bias is not None:
        bias.grad.add_(grad_bias)


class _FusedNorm(Module):
    """What the normalisations share: one fused ATen call gives the input, weight and bias gradients.

    A subclass's ``_backward`` makes that call, adds the parameter gradients and
    returns the input gradient when ``input_grad`` asks for it.
    """

    fresh_output = True
    fresh_grad_input = True

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        """Add the ``weight`` and ``bias`` gradients; return dL/dx (one fused kernel call; the class
        docstring gives the formula)."""
        grad_input = self._backward(grad_output, input_grad=True)
        assert grad_input is not None  # the kernel returns it when output_mask[0] is set
        return grad_input

    @override
    def accumulate_grad(self, grad_output: Tensor) -> None:
        """Add the ``weight`` and ``bias`` gradients as ``backward`` does; skip the input gradient."""
        self._backward(grad_output, input_grad=False)

    @abstractmethod
    def _backward(self, grad_output: Tensor, input_grad: bool) -> Tensor | None:
        """Add the parameter gradients for ``grad_output``; return the input gradient if ``input_grad``."""


class _BatchNorm(_FusedNorm):
    r"""Shared by ``BatchNorm1d`` and ``BatchNorm2d``, which differ only in the input's rank (as in torch).

    :math:`y = \gamma (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta` per channel, with :math:`\mu`,
    :math:`\sigma^2` over every dimension but the channel one. Batch statistics are used in training,
    and in evaluation too when ``track_running_stats=False``; otherwise evaluation uses the running
    statistics. ``forward`` runs ``torch.native_batch_norm``, which also updates the running statistics
    in training; ``backward`` runs ``aten.native_batch_norm_backward``.
    """

    num_features: Final[int]
    eps: Final[float]
    momentum: Final[float | None]
    affine: Final[bool]
    track_running_stats: Final[bool]

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        self.num_features = check_size(owner, "num_features", num_features)
        self.eps = _check_eps(owner, eps)
        self.momentum = _check_momentum(owner, momentum)
        self.affine = check_bool(owner, "affine", affine)
        self.track_running_stats = check_bool(owner, "track_running_stats", track_running_stats)
        check_bool(owner, "bias", bias)
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        if affine:
            self.weight = Parameter(torch.ones(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(torch.zeros(num_features, device=device, dtype=dtype))
        self.running_mean: Buffer | None = None
        self.running_var: Buffer | None = None
        self.num_batches_tracked: Buffer | None = None
        if track_running_stats:
            self.running_mean = Buffer(torch.zeros(num_features, device=device, dtype=dtype))
            self.running_var = Buffer(torch.ones(num_features, device=device, dtype=dtype))
            self.num_batches_tracked = Buffer(torch.zeros((), dtype=torch.int64, device=device))
        self._input: Tensor | None = None
        self._save_mean: Tensor | None = None
        self._save_invstd: Tensor | None = None
        self._eval_mean: Tensor | None = None
        self._eval_var: Tensor | None = None
        self._batch_statistics = True

    @abstractmethod
    def _check_input_dim(self, input: Tensor) -> None:
        """Raise ``ValueError`` unless ``input`` has the rank and channel count this module takes."""

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Normalise; cache the input and the batch mean and inverse standard deviation (or, when
        the running statistics normalise, a copy of them).

        In training with ``track_running_stats``, also update the running statistics and
        ``num_batches_tracked``.
        """
        self._check_floating(input)
        self._check_input_dim(input)
        state = self._state()
        if state is not None:
            self._check_like(input, state)
        batch = self.training or self.running_mean is None
        if batch:
            self._check_count(input)
        running_mean, running_var, factor = self._running()
        self._input, self._batch_statistics = input, batch
        if input.numel() == 0:
            # An empty batch, as torch.nn: an empty output, the running statistics untouched (the batch
            # is still counted in num_batches_tracked), and no kernel call (the CPU kernels refuse an
            # empty input in training, and the backward one divides by zero on it).
            self._save_mean = self._save_invstd = self._eval_mean = self._eval_var = None
            return torch.empty_like(input)
        output, save_mean, save_invstd = torch.native_batch_norm(
            input, _value(self.weight), _value(self.bias), running_mean, running_var, batch, factor, self.eps
        )
        self._save_mean, self._save_invstd = save_mean, save_invstd
        self._eval_mean = None if batch or running_mean is None else running_mean.clone()
        self._eval_var = None if batch or running_var is None else running_var.clone()
        return output

    def _state(self) -> Tensor | None:
        """A tensor of the module's dtype and device; None without parameters and buffers."""
        if self.weight is not None:
            return self.weight.value
        return None if self.running_mean is None else self.running_mean.value

    def _check_count(self, input: Tensor) -> None:
        """Refuse exactly one value per channel, as torch does (an empty batch is let through)."""
        count = input.numel() // self.num_features
        if count == 1:
            when = "in training" if self.training else "with batch statistics (track_running_stats=False)"
            raise ValueError(f"{self!r}: expected more than 1 value per channel {when}, got {count}")

    def _running(self) -> tuple[Tensor | None, Tensor | None, float]:
        """The running statistics the kernel reads (evaluation) or updates (training), and the update factor.

        None when no statistics are tracked. A training call counts the batch first, so that
        ``momentum=None`` weighs it by ``1 / num_batches_tracked``, as torch does.
        """
        if self.running_mean is None or self.running_var is None or self.num_batches_tracked is None:
            return None, None, 0.0
        if not self.training:
            return self.running_mean.value, self.running_var.value, 0.0
        self.num_batches_tracked.value.add_(1)
        factor = (
            1.0 / float(self.num_batches_tracked.value) if self.momentum is None else float(self.momentum)
        )
        return self.running_mean.value, self.running_var.value, factor

    def _backward(self, grad_output: Tensor, input_grad: bool) -> Tensor | None:
        r"""One ``native_batch_norm_backward`` call: ``weight.grad`` :math:`+= \sum g \hat x`,
        ``bias.grad`` :math:`+= \sum g`, and, with batch statistics, the input gradient
        :math:`\frac{1}{n\sigma}(n \hat g - \sum \hat g - \hat x \sum \hat g \hat x)` with
        :math:`\hat g = g \gamma`, sums over the :math:`n` values of a channel; with the running
        statistics it is :math:`\hat g / \sigma`."""
        input = self._cached(self._input)
        self._check_grad_output(grad_output, input.shape)
        mask = [input_grad, self.weight is not None, self.bias is not None]
        if not any(mask):
            return None
        if input.numel() == 0:  # sums over no values: the parameter gradients gain 0
            return torch.empty_like(input) if input_grad else None
        grads: tuple[Tensor | None, Tensor | None, Tensor | None] = _aten.native_batch_norm_backward(
            grad_output,
            input,
            _value(self.weight),
            self._eval_mean,
            self._eval_var,
            self._save_mean,
            self._save_invstd,
            self._batch_statistics,
            self.eps,
            mask,
        )
        grad_input, grad_weight, grad_bias = grads
        # Parameter gradients, accumulated in place; then the input gradient (None unless asked for).
        _accumulate(self.weight, self.bias, grad_weight, grad_bias)
        return grad_input

    @override
    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    r"""Batch normalisation per channel: :math:`y = \gamma (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta`.

    In training, :math:`\mu` and :math:`\sigma^2` are the batch's mean and biased
    variance over :math:`N` (and :math:`L`), and the running statistics move towards them:
    :math:`r \leftarrow (1 - m) r + m s`, with the unbiased variance for
    ``running_var``. In evaluation the running statistics are used, or the batch's
    statistics if ``track_running_stats=False``. The work is done by ATen's fused
    kernels, ``native_batch_norm`` and ``native_batch_norm_backward``, as in ``torch.nn``.

    Args:
        num_features: the number of channels :math:`C`.
        eps: added to the variance for stability. Default: 1e-5.
        momentum: :math:`m` above; ``None`` gives the cumulative average. Default: 0.1.
        affine: learn :math:`\gamma` and :math:`\beta`. Default: ``True``.
        track_running_stats: keep running statistics (buffers) for evaluation; if ``False``
            there are no buffers and the batch's statistics are used in both modes. Default: ``True``.
        bias: with ``affine``, learn :math:`\beta` too. Default: ``True``.
        device: device of the parameters and buffers. Default: torch's default device.
        dtype: floating-point dtype of the parameters and buffers. Default: torch's default dtype.

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, L)`.
        - Output: the shape of the input.

    Attributes:
        weight: :math:`\gamma`, ``Parameter`` of shape ``(C,)``, initialised to ones; ``None`` if not affine.
        bias: :math:`\beta`, ``Parameter`` of shape ``(C,)``, initialised to zeros; ``None`` if not
            affine or ``bias=False``.
        running_mean: ``Buffer`` of shape ``(C,)``, initialised to zeros; ``None`` if not tracked.
        running_var: ``Buffer`` of shape ``(C,)``, initialised to ones; ``None`` if not tracked.
        num_batches_tracked: ``Buffer`` holding an int64 count of training batches; ``None`` if not tracked.

    Example:
        >>> bn = BatchNorm1d(2)
        >>> y = bn(torch.tensor([[1.0, 10.0], [3.0, 30.0]]))
        >>> y.round(decimals=4).tolist()
        [[-1.0, -1.0], [1.0, 1.0]]
        >>> [round(v, 4) for v in bn.running_mean.value.tolist()]
        [0.2, 2.0]
        >>> [round(v, 4) for v in bn.running_var.value.tolist()]
        [1.1, 20.9]
        >>> bn.backward(torch.tensor([[1.0, 0.0], [0.0, 0.0]])).shape
        torch.Size([2, 2])
    """

    @override
    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() not in (2, 3) or input.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.num_features}) or (N, {self.num_features}, L), "
                f"got {shape_str(input)}"
            )


class BatchNorm2d(_BatchNorm):
    r"""2-D batch normalisation: :math:`y = \gamma (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta`.

    As ``torch.nn.BatchNorm2d``: :math:`\mu` and :math:`\sigma^2` are the mean and biased
    variance of each channel over its :math:`N H W` values. In training they normalise and the
    running statistics move towards them, :math:`r \leftarrow (1 - m) r + m s` with the
    unbiased variance for ``running_var``; in evaluation the running statistics normalise, or
    the batch's if ``track_running_stats=False``. ATen's fused kernels
    (``native_batch_norm``, ``native_batch_norm_backward``) do the work and keep a
    ``torch.channels_last`` input channels_last, output and input gradient alike.

    Args:
        num_features: the number of channels :math:`C`.
        eps: added to the variance for stability. Default: 1e-5.
        momentum: :math:`m` above; ``None`` gives the cumulative average
            (:math:`m = 1/\text{num\_batches\_tracked}`). Default: 0.1.
        affine: learn :math:`\gamma` and :math:`\beta`. Default: ``True``.
        track_running_stats: keep running statistics (buffers) for evaluation; if ``False``
            there are no buffers and the batch's statistics are used in both modes. Default: ``True``.
        bias: with ``affine``, learn :math:`\beta` too. Default: ``True``.
        device: device of the parameters and buffers. Default: torch's default device.
        dtype: floating-point dtype of the parameters and buffers. Default: torch's default dtype.

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: :math:`(N, C, H, W)`, in the input's memory format.

    Attributes:
        weight: :math:`\gamma`, ``Parameter`` of shape ``(C,)``, initialised to ones; ``None`` if not affine.
        bias: :math:`\beta`, ``Parameter`` of shape ``(C,)``, initialised to zeros; ``None`` if not
            affine or ``bias=False``.
        running_mean: ``Buffer`` of shape ``(C,)``, initialised to zeros; ``None`` if not tracked.
        running_var: ``Buffer`` of shape ``(C,)``, initialised to ones; ``None`` if not tracked.
        num_batches_tracked: ``Buffer`` holding an int64 count of training batches; ``None`` if not tracked.

    Example:
        >>> bn = BatchNorm2d(2)
        >>> bn
        BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
        >>> x = torch.arange(16.0).reshape(2, 2, 2, 2)
        >>> y = bn(x)
        >>> [round(v, 4) for v in y[0, 0].flatten().tolist()]
        [-1.3242, -1.0835, -0.8427, -0.6019]
        >>> [round(v, 4) for v in bn.running_mean.value.tolist()]
        [0.55, 0.95]
        >>> bn.backward(torch.ones(2, 2, 2, 2)).abs().max().item() < 1e-6
        True
        >>> bn.bias.grad.tolist()
        [8.0, 8.0]
        >>> y = bn.eval()(x.to(memory_format=torch.channels_last))
        >>> y.is_contiguous(memory_format=torch.channels_last)
        True
    """

    @override
    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() != 4 or input.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.num_features}, H, W), got {shape_str(input)}"
            )


def _normalized_shape(value: object) -> Shape:
    """``value`` (an int, or a sequence of ints) as a non-empty tuple of sizes > 0."""
    sizes = (value,) if isinstance(value, int) and not isinstance(value, bool) else value
    expected = "LayerNorm: expected normalized_shape to be an int or a non-empty tuple of ints"
    if not isinstance(sizes, Sequence) or isinstance(sizes, str):
        raise TypeError(f"{expected}, got {type(value).__name__}")
    if not sizes or any(isinstance(s, bool) or not isinstance(s, int) for s in sizes):
        raise TypeError(f"{expected}, got {value!r}")
    shape = tuple(int(s) for s in sizes)
    if any(s <= 0 for s in shape):
        raise ValueError(f"LayerNorm: expected normalized_shape > 0, got {shape}")
    return shape


class LayerNorm(_FusedNorm):
    r"""Layer normalisation: :math:`y = \gamma \odot (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta`.

    As ``torch.nn.LayerNorm``: :math:`\mu` and :math:`\sigma^2` are the mean and biased
    variance over the trailing ``normalized_shape`` dimensions of each sample, in training and
    evaluation alike; :math:`\gamma` and :math:`\beta` have the shape ``normalized_shape``
    (one value per element, not per channel). ``forward`` runs ATen's ``native_layer_norm``
    and caches the input with each sample's mean and :math:`1/\sigma`; ``backward`` runs
    ``native_layer_norm_backward``.

    Args:
        normalized_shape: the trailing shape to normalise over: an int (the last dimension) or
            a tuple of ints.
        eps: added to the variance for stability. Default: 1e-5.
        elementwise_affine: learn :math:`\gamma` (and :math:`\beta`). Default: ``True``.
        bias: with ``elementwise_affine``, learn :math:`\beta` too. Default: ``True``.
        device: device of the parameters. Default: torch's default device.
        dtype: floating-point dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(*, S_1, \ldots, S_k)` with :math:`(S_1, \ldots, S_k) =` ``normalized_shape``.
        - Output: the shape of the input.

    Attributes:
        weight: :math:`\gamma`, ``Parameter`` of shape ``normalized_shape``, initialised to ones;
            ``None`` if not ``elementwise_affine``.
        bias: :math:`\beta`, ``Parameter`` of shape ``normalized_shape``, initialised to zeros;
            ``None`` if not ``elementwise_affine`` or ``bias=False``.

    Example:
        >>> norm = LayerNorm(4)
        >>> norm
        LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
        >>> x = torch.tensor([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 6.0, 6.0]])
        >>> [[round(v, 4) for v in row] for row in norm(x).tolist()]
        [[-1.3416, -0.4472, 0.4472, 1.3416], [-1.0, -1.0, 1.0, 1.0]]
        >>> norm.backward(torch.ones(2, 4)).abs().max().item() < 1e-6
        True
        >>> norm.bias.grad.tolist()
        [2.0, 2.0, 2.0, 2.0]
    """

    normalized_shape: Final[Shape]
    eps: Final[float]
    elementwise_affine: Final[bool]

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = _check_eps("LayerNorm", eps)
        self.elementwise_affine = check_bool("LayerNorm", "elementwise_affine", elementwise_affine)
        check_bool("LayerNorm", "bias", bias)
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        if elementwise_affine:
            self.weight = Parameter(torch.ones(self.normalized_shape, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(torch.zeros(self.normalized_shape, device=device, dtype=dtype))
        self._input: Tensor | None = None
        self._mean: Tensor | None = None
        self._rstd: Tensor | None = None

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Normalise each sample; cache the input and each sample's mean and :math:`1/\\sigma`."""
        self._check_floating(input)
        size = len(self.normalized_shape)
        if input.dim() < size or tuple(input.shape[input.dim() - size :]) != self.normalized_shape:
            trailing = ", ".join(str(s) for s in self.normalized_shape)
            raise ValueError(f"{self!r}: expected input of shape (*, {trailing}), got {shape_str(input)}")
        if self.weight is not None:
            self._check_like(input, self.weight.value)
        output, self._mean, self._rstd = torch.native_layer_norm(
            input, self.normalized_shape, _value(self.weight), _value(self.bias), self.eps
        )
        self._input = input
        return output

    def _backward(self, grad_output: Tensor, input_grad: bool) -> Tensor | None:
        r"""One ``native_layer_norm_backward`` call: ``weight.grad`` :math:`+= \sum_n g \hat x`,
        ``bias.grad`` :math:`+= \sum_n g`, and the input gradient
        :math:`\frac{1}{n\sigma}(n \hat g - \sum \hat g - \hat x \sum \hat g \hat x)` with
        :math:`\hat g = g \gamma`, sums over the :math:`n` normalised values of a sample."""
        input = self._cached(self._input)
        mean, rstd = self._cached(self._mean), self._cached(self._rstd)
        self._check_grad_output(grad_output, input.shape)
        mask = [input_grad, self.weight is not None, self.bias is not None]
        if not any(mask):
            return None
        grads: tuple[Tensor | None, Tensor | None, Tensor | None] = _aten.native_layer_norm_backward(
            grad_output,
            input,
            self.normalized_shape,
            mean,
            rstd,
            _value(self.weight),
            _value(self.bias),
            mask,
        )
        grad_input, grad_weight, grad_bias = grads
        # Parameter gradients, accumulated in place; then the input gradient (None unless asked for).
        _accumulate(self.weight, self.bias, grad_weight, grad_bias)
        return grad_input

    @override
    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
