"""Batch normalisation: BatchNorm1d, with running statistics for evaluation."""

from typing import Final

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor, shape_str
from minitorch_nn.module import Module
from minitorch_nn.modules.linear import check_size
from minitorch_nn.parameter import Buffer, Parameter

__all__ = ["BatchNorm1d"]


class BatchNorm1d(Module):
    r"""Batch normalisation per channel: :math:`y = \gamma (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta`.

    In training, :math:`\mu` and :math:`\sigma^2` are the batch's mean and biased
    variance, and the running statistics move towards them:
    :math:`r \leftarrow (1 - m) r + m s`, with the unbiased variance for
    ``running_var``. In evaluation the running statistics are used.

    Args:
        num_features: the number of channels :math:`C`.
        eps: added to the variance for stability. Default: 1e-5.
        momentum: :math:`m` above; ``None`` gives the cumulative average. Default: 0.1.
        affine: learn :math:`\gamma` and :math:`\beta`. Default: ``True``.
        device: device of the parameters and buffers. Default: torch's default device.
        dtype: floating-point dtype of the parameters and buffers. Default: torch's default dtype.

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, L)`.
        - Output: the shape of the input.

    Attributes:
        weight: :math:`\gamma`, ``Parameter`` of shape ``(C,)``, initialised to ones; ``None`` if not affine.
        bias: :math:`\beta`, ``Parameter`` of shape ``(C,)``, initialised to zeros; ``None`` if not affine.
        running_mean: ``Buffer`` of shape ``(C,)``, initialised to zeros.
        running_var: ``Buffer`` of shape ``(C,)``, initialised to ones.
        num_batches_tracked: ``Buffer`` holding an int64 count of training batches.

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

    fresh_grad_input = True
    num_features: Final[int]
    eps: Final[float]
    momentum: Final[float | None]

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.num_features = check_size("BatchNorm1d", "num_features", num_features)
        if not eps > 0:
            raise ValueError(f"BatchNorm1d: expected eps > 0, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm1d: expected momentum in [0, 1] or None, got {momentum}")
        self.eps, self.momentum = float(eps), momentum
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        if affine:
            self.weight = Parameter(torch.ones(num_features, device=device, dtype=dtype))
            self.bias = Parameter(torch.zeros(num_features, device=device, dtype=dtype))
        self.running_mean = Buffer(torch.zeros(num_features, device=device, dtype=dtype))
        self.running_var = Buffer(torch.ones(num_features, device=device, dtype=dtype))
        self.num_batches_tracked = Buffer(torch.zeros((), dtype=torch.int64, device=device))
        self._normalized: Tensor | None = None
        self._inv_std: Tensor | None = None
        self._batch_statistics = True

    def _layout(self, input: Tensor) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The dimensions to reduce over and the shape that broadcasts a (C,) tensor."""
        if input.dim() not in (2, 3) or input.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.num_features}) or (N, {self.num_features}, L), "
                f"got {shape_str(input)}"
            )
        return ((0,), (1, -1)) if input.dim() == 2 else ((0, 2), (1, -1, 1))

    @override
    def forward(self, input: Tensor) -> Tensor:
        """Normalise; cache the normalised input and the inverse standard deviation.

        In training, also update the running statistics and ``num_batches_tracked``.
        """
        self._check_floating(input)
        dims, view = self._layout(input)
        self._check_like(input, self.running_mean.value)
        self._batch_statistics = self.training
        if self.training:
            count = input.numel() // self.num_features
            if count < 2:
                raise ValueError(f"{self!r}: expected more than 1 value per channel in training, got {count}")
            var, mean = torch.var_mean(input, dim=dims, correction=0)
            self._update_running(mean, var, count)
        else:
            mean, var = self.running_mean.value, self.running_var.value
        self._inv_std = torch.rsqrt(var + self.eps)
        self._normalized = (input - mean.view(view)) * self._inv_std.view(view)
        if self.weight is None or self.bias is None:
            return self._normalized
        return torch.addcmul(self.bias.value.view(view), self._normalized, self.weight.value.view(view))

    def _update_running(self, mean: Tensor, var: Tensor, count: int) -> None:
        self.num_batches_tracked.value.add_(1)
        factor = 1.0 / float(self.num_batches_tracked.value) if self.momentum is None else self.momentum
        self.running_mean.value.lerp_(mean, factor)
        self.running_var.value.lerp_(var * (count / (count - 1)), factor)

    @override
    def backward(self, grad_output: Tensor) -> Tensor:
        r"""Add :math:`\sum g \hat x` to ``weight.grad``, :math:`\sum g` to ``bias.grad``; return dL/dx.

        In training the input gradient is
        :math:`\frac{1}{n\sigma}(n \hat g - \sum \hat g - \hat x \sum \hat g \hat x)` with
        :math:`\hat g = g \gamma`; in evaluation it is :math:`\hat g / \sigma`.
        """
        normalized, inv_std = self._cached(self._normalized), self._cached(self._inv_std)
        self._check_grad_output(grad_output, normalized.shape)
        dims, view = self._layout(normalized)
        # Parameter gradients, accumulated in place.
        grad_hat = grad_output
        if self.weight is not None and self.bias is not None:
            self.weight.grad.add_((grad_output * normalized).sum(dim=dims))
            self.bias.grad.add_(grad_output.sum(dim=dims))
            grad_hat = grad_output * self.weight.value.view(view)
        # Input gradient.
        if not self._batch_statistics:
            return grad_hat * inv_std.view(view)
        mean_grad = grad_hat.mean(dim=dims, keepdim=True)
        mean_proj = (grad_hat * normalized).mean(dim=dims, keepdim=True)
        return (grad_hat - mean_grad - normalized * mean_proj) * inv_std.view(view)

    @override
    def extra_repr(self) -> str:
        affine = "" if self.weight is not None else ", affine=False"
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}{affine}"
