"""Adaptive optimizers: ``Adam`` (L2 penalty in the gradient) and ``AdamW`` (decoupled weight decay)."""

from collections.abc import Iterable, Mapping
from typing import ClassVar

import torch
from typing_extensions import override

from minitorch_nn._types import Tensor
from minitorch_nn.optim.optimizer import Hyperparameters, OptimizerBase, check_lr, check_number
from minitorch_nn.parameter import Parameter

__all__ = ["Adam", "AdamW"]


class Adam(OptimizerBase):
    r"""Adam: :math:`\theta \leftarrow \theta - \text{lr}\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)`.

    With :math:`g = \text{grad} + \lambda \theta`, the moment averages are
    :math:`m_t = \beta_1 m_{t-1} + (1 - \beta_1) g` and
    :math:`v_t = \beta_2 v_{t-1} + (1 - \beta_2) g^2`, bias-corrected as
    :math:`\hat m_t = m_t / (1 - \beta_1^t)` and :math:`\hat v_t = v_t / (1 - \beta_2^t)`.
    The buffers ``exp_avg`` (:math:`m`) and ``exp_avg_sq`` (:math:`v`) start at
    zero on the first step. These are ``torch.optim.Adam``'s rules (without
    ``amsgrad``), applied with the same operations.

    Args:
        params: an iterable of ``Parameter``, such as ``model.parameters()``.
        lr: the learning rate, a finite number >= 0. Default: 1e-3.
        betas: the decay rates :math:`(\beta_1, \beta_2)`, each in [0, 1). Default: (0.9, 0.999).
        eps: the term :math:`\epsilon` >= 0 added to the denominator. Default: 1e-8.
        weight_decay: the L2 penalty :math:`\lambda` >= 0 added to the gradient. Default: 0.

    Raises:
        TypeError: if ``params`` holds something other than a ``Parameter``, ``betas`` is not a pair,
            or an option is not a number.
        ValueError: if ``params`` is empty or repeats one, or a number is out of range or not finite.

    Example:
        >>> p = Parameter(torch.tensor([1.0, -1.0]))
        >>> p.grad.copy_(torch.tensor([0.5, -3.0]))
        tensor([ 0.5000, -3.0000])
        >>> optimizer = Adam([p], lr=0.1)
        >>> optimizer.step()  # the first step moves each value by about lr, against its gradient
        >>> [round(x, 4) for x in p.value.tolist()]
        [0.9, -0.9]
    """

    betas: tuple[float, float]
    eps: float
    weight_decay: float
    _decoupled: ClassVar[bool] = False

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"{type(self).__name__}: expected betas to be a pair of numbers, got {betas!r}")
        settings = {"lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps}
        super().__init__(params, {**settings, "weight_decay": weight_decay})

    @override
    def hyperparameters(self) -> Hyperparameters:
        beta1, beta2 = self.betas
        return {
            "lr": self.lr,
            "beta1": beta1,
            "beta2": beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }

    @override
    def _checked(self, hyperparameters: Mapping[str, object]) -> Hyperparameters:
        name = self._name
        return {
            "lr": check_lr(name, hyperparameters["lr"]),
            "beta1": check_number(name, "betas[0]", hyperparameters["beta1"], "in [0, 1)"),
            "beta2": check_number(name, "betas[1]", hyperparameters["beta2"], "in [0, 1)"),
            "eps": check_number(name, "eps", hyperparameters["eps"], ">= 0"),
            "weight_decay": check_number(name, "weight_decay", hyperparameters["weight_decay"], ">= 0"),
        }

    @override
    def _apply(self, hyperparameters: Hyperparameters) -> None:
        self.lr = float(hyperparameters["lr"])
        self.betas = (float(hyperparameters["beta1"]), float(hyperparameters["beta2"]))
        self.eps = float(hyperparameters["eps"])
        self.weight_decay = float(hyperparameters["weight_decay"])

    @override
    def _buffer_names(self, hyperparameters: Hyperparameters) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    @override
    def _update(self, value: Tensor, grad: Tensor, state: dict[str, Tensor]) -> None:
        beta1, beta2 = self.betas
        if self.weight_decay != 0 and self._decoupled:
            value.mul_(1 - self.lr * self.weight_decay)
        elif self.weight_decay != 0:
            grad = grad.add(value, alpha=self.weight_decay)  # a new tensor: ``param.grad`` stays as it is
        if not state:
            state["exp_avg"], state["exp_avg_sq"] = torch.zeros_like(value), torch.zeros_like(value)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step = float(self.num_steps)
        step_size = self.lr / (1 - beta1**step)
        denominator = exp_avg_sq.sqrt().div_((1 - beta2**step) ** 0.5).add_(self.eps)
        value.addcdiv_(exp_avg, denominator, value=-step_size)


class AdamW(Adam):
    r"""AdamW: :math:`\theta \leftarrow \theta (1 - \text{lr}\, \lambda)`, then Adam's step on the gradient.

    The weight decay is decoupled from the gradient, so it does not pass
    through the moment averages. These are ``torch.optim.AdamW``'s rules.

    Args:
        params: an iterable of ``Parameter``, such as ``model.parameters()``.
        lr: the learning rate, a finite number >= 0. Default: 1e-3.
        betas: the decay rates :math:`(\beta_1, \beta_2)`, each in [0, 1). Default: (0.9, 0.999).
        eps: the term :math:`\epsilon` >= 0 added to the denominator. Default: 1e-8.
        weight_decay: the decay rate :math:`\lambda` >= 0 per unit of ``lr``. Default: 1e-2.

    Raises:
        TypeError: if ``params`` holds something other than a ``Parameter``, ``betas`` is not a pair,
            or an option is not a number.
        ValueError: if ``params`` is empty or repeats one, or a number is out of range or not finite.

    Example:
        >>> p = Parameter(torch.tensor([2.0]))
        >>> optimizer = AdamW([p], lr=0.1, weight_decay=0.5)
        >>> optimizer.step()  # grad is zero, so only the decay acts: 2 * (1 - 0.1 * 0.5)
        >>> round(p.value.item(), 6)
        1.9
    """

    _decoupled: ClassVar[bool] = True

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay)
