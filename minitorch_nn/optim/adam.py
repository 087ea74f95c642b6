"""Adaptive optimizers: ``Adam`` (L2 penalty in the gradient, or decoupled) and ``AdamW`` (decoupled)."""

from collections.abc import Mapping
from typing import ClassVar

import torch
from typing_extensions import override

from minitorch_nn._arguments import check_bool
from minitorch_nn._types import Tensor
from minitorch_nn.optim.optimizer import (
    Hyperparameters,
    OptimizerBase,
    Params,
    check_implementation,
    check_lr,
    check_number,
)

__all__ = ["Adam", "AdamW"]


class Adam(OptimizerBase):
    r"""Adam: :math:`\theta \leftarrow \theta - \text{lr}\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)`.

    With :math:`g = \text{grad} + \lambda \theta` (``-grad`` with ``maximize=True``),
    the moment averages are :math:`m_t = \beta_1 m_{t-1} + (1 - \beta_1) g` and
    :math:`v_t = \beta_2 v_{t-1} + (1 - \beta_2) g^2`, bias-corrected as
    :math:`\hat m_t = m_t / (1 - \beta_1^t)` and :math:`\hat v_t = v_t / (1 - \beta_2^t)`.
    The buffers ``exp_avg`` (:math:`m`) and ``exp_avg_sq`` (:math:`v`) start at
    zero on the first step. With ``amsgrad=True`` the buffer ``max_exp_avg_sq``
    keeps the running maximum of :math:`v_t`, which replaces :math:`v_t` in
    :math:`\hat v_t`. With ``decoupled_weight_decay=True`` the decay is
    :math:`\theta \leftarrow \theta (1 - \text{lr}\, \lambda)` before the step
    instead (AdamW). These are ``torch.optim.Adam``'s rules, applied with the
    operations of its for-loop implementation in the same order, so
    trajectories agree with torch's to the last bit in float64.

    The arguments are ``torch.optim.Adam``'s, in its order and with its
    defaults. ``foreach`` and ``fused`` pick one of torch's kernels, all with
    the same arithmetic (to rounding): they are accepted and change nothing
    here, where ``step`` always runs the per-tensor rule.

    Args:
        params: an iterable of ``Parameter``, such as ``model.parameters()``, or of ``(name, Parameter)``
            pairs, such as ``model.named_parameters()``. Param groups (dicts) are refused: make one
            optimizer per group.
        lr: the learning rate, a finite number >= 0, or a one-element floating-point tensor holding one.
            As in torch, a tensor is refused with ``foreach=True``, the step size is computed in its dtype
            (as a float with ``fused=True``), and values a scheduler sets later are rounded to that dtype.
            Default: 1e-3.
        betas: the decay rates :math:`(\beta_1, \beta_2)`, two numbers in [0, 1). Default: (0.9, 0.999).
        eps: the term :math:`\epsilon` >= 0 added to the denominator. Default: 1e-8.
        weight_decay: the weight decay :math:`\lambda` >= 0. Default: 0.
        amsgrad: use the running maximum of :math:`v_t` (AMSGrad). Default: False.
        foreach: ``None``, ``True`` or ``False``: accepted, changes nothing (see above). Default: None.
        maximize: maximize the objective: step along ``+grad``. Default: False.
        capturable: only ``False``: the step count is a Python int, so no CUDA-graph capture. Default: False.
        differentiable: only ``False``: steps run outside autograd. Default: False.
        fused: ``None``, ``True`` or ``False``: accepted, changes nothing (see above). Default: None.
        decoupled_weight_decay: decay the value directly (AdamW) instead of adding
            :math:`\lambda \theta` to the gradient. Default: False.

    Raises:
        TypeError: if ``params`` holds something other than a ``Parameter`` (a param group, say),
            ``betas`` is not a pair of numbers, or an option has the wrong kind.
        ValueError: if ``params`` is empty or repeats one, a number is out of range or not finite,
            ``foreach`` and ``fused`` are both ``True``, ``lr`` is a tensor with ``foreach=True``, or
            ``capturable`` or ``differentiable`` is ``True``.

    Example:
        >>> from minitorch_nn import Parameter
        >>> p = Parameter(torch.tensor([1.0, -1.0]))
        >>> p.grad.copy_(torch.tensor([0.5, -3.0]))
        tensor([ 0.5000, -3.0000])
        >>> optimizer = Adam([p], lr=0.1)
        >>> optimizer.step()  # the first step moves each value by about lr, against its gradient
        >>> [round(x, 4) for x in p.value.tolist()]
        [0.9, -0.9]
        >>> Adam([p], 0.1, (0.8, 0.99), 1e-8, 0.0, True).amsgrad  # torch's order: ..., weight_decay, amsgrad
        True
    """

    betas: tuple[float, float]
    eps: float
    weight_decay: float
    amsgrad: bool
    maximize: bool
    decoupled_weight_decay: bool
    foreach: bool | None
    fused: bool | None
    _added: ClassVar[Hyperparameters] = {"amsgrad": False, "maximize": False, "decoupled_weight_decay": False}

    def __init__(
        self,
        params: Params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        name = type(self).__name__
        flags = {
            "foreach": foreach,
            "fused": fused,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        check_implementation(name, flags)
        if isinstance(lr, torch.Tensor) and foreach is True:
            raise ValueError(f"{name}: a tensor lr is not supported with foreach=True (as in torch)")
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"{name}: expected betas to be a pair of numbers, got {betas!r}")
        if any(isinstance(beta, torch.Tensor) for beta in betas):
            raise TypeError(f"{name}: expected betas to be a pair of numbers, got tensors (pass float(beta))")
        self.foreach, self.fused = foreach, fused
        settings = {"lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps, "weight_decay": weight_decay}
        options = {"amsgrad": amsgrad, "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, {**settings, **options})

    @override
    def hyperparameters(self) -> Hyperparameters:
        beta1, beta2 = self.betas
        return {
            "lr": self.lr,
            "beta1": beta1,
            "beta2": beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "amsgrad": self.amsgrad,
            "maximize": self.maximize,
            "decoupled_weight_decay": self.decoupled_weight_decay,
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
            "amsgrad": check_bool(name, "amsgrad", hyperparameters["amsgrad"]),
            "maximize": check_bool(name, "maximize", hyperparameters["maximize"]),
            "decoupled_weight_decay": check_bool(
                name, "decoupled_weight_decay", hyperparameters["decoupled_weight_decay"]
            ),
        }

    @override
    def _apply(self, hyperparameters: Hyperparameters) -> None:
        self.lr = float(hyperparameters["lr"])
        self.betas = (float(hyperparameters["beta1"]), float(hyperparameters["beta2"]))
        self.eps = float(hyperparameters["eps"])
        self.weight_decay = float(hyperparameters["weight_decay"])
        self.amsgrad = bool(hyperparameters["amsgrad"])
        self.maximize = bool(hyperparameters["maximize"])
        self.decoupled_weight_decay = bool(hyperparameters["decoupled_weight_decay"])

    @override
    def _buffer_names(self, hyperparameters: Hyperparameters) -> tuple[str, ...]:
        return (
            ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
            if hyperparameters["amsgrad"]
            else ("exp_avg", "exp_avg_sq")
        )

    @override
    def _update(self, value: Tensor, grad: Tensor, state: dict[str, Tensor]) -> None:
        # torch's ``_single_tensor_adam``, operation for operation.
        beta1, beta2 = self.betas
        # A tensor lr: torch's for-loop step computes with it in its dtype (its fused one as a float).
        in_dtype = self._lr_dtype is not None and not self.fused
        lr = torch.tensor(self.lr, dtype=self._lr_dtype) if in_dtype else self.lr
        if self.maximize:
            grad = grad.neg()  # a new tensor: ``param.grad`` stays as it is
        if self.weight_decay != 0 and self.decoupled_weight_decay:
            value.mul_(1 - lr * self.weight_decay)
        elif self.weight_decay != 0:
            grad = grad.add(value, alpha=self.weight_decay)
        if not state:
            for name in self._buffer_names({"amsgrad": self.amsgrad}):
                state[name] = torch.zeros_like(value)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step = float(self.num_steps)
        step_size = float(lr / (1 - beta1**step))
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        if self.amsgrad:
            max_exp_avg_sq = state["max_exp_avg_sq"]
            torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            denominator = (max_exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
        else:
            denominator = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
        value.addcdiv_(exp_avg, denominator, value=-step_size)


class AdamW(Adam):
    r"""AdamW: :math:`\theta \leftarrow \theta (1 - \text{lr}\, \lambda)`, then Adam's step on the gradient.

    The weight decay is decoupled from the gradient, so it does not pass
    through the moment averages: this is ``Adam(..., decoupled_weight_decay=True)``
    with a default decay of 1e-2. These are ``torch.optim.AdamW``'s rules and
    arguments, in its order and with its defaults; ``foreach`` and ``fused``
    are accepted and change nothing, as for ``Adam``.

    Args:
        params: an iterable of ``Parameter`` or of ``(name, Parameter)`` pairs; param groups are refused.
        lr: the learning rate, a finite number >= 0 or a one-element floating-point tensor. Default: 1e-3.
        betas: the decay rates :math:`(\beta_1, \beta_2)`, two numbers in [0, 1). Default: (0.9, 0.999).
        eps: the term :math:`\epsilon` >= 0 added to the denominator. Default: 1e-8.
        weight_decay: the decay rate :math:`\lambda` >= 0 per unit of ``lr``. Default: 1e-2.
        amsgrad: use the running maximum of :math:`v_t` (AMSGrad). Default: False.
        maximize: maximize the objective: step along ``+grad``. Default: False.
        foreach: ``None``, ``True`` or ``False``: accepted, changes nothing. Default: None.
        capturable: only ``False``: the step count is a Python int, so no CUDA-graph capture. Default: False.
        differentiable: only ``False``: steps run outside autograd. Default: False.
        fused: ``None``, ``True`` or ``False``: accepted, changes nothing. Default: None.

    Raises:
        TypeError: if ``params`` holds something other than a ``Parameter``, ``betas`` is not a pair
            of numbers, or an option has the wrong kind.
        ValueError: if ``params`` is empty or repeats one, a number is out of range or not finite,
            or an implementation flag is refused (as for ``Adam``).

    Example:
        >>> from minitorch_nn import Parameter
        >>> p = Parameter(torch.tensor([2.0]))
        >>> optimizer = AdamW([p], lr=0.1, weight_decay=0.5)
        >>> optimizer.step()  # grad is zero, so only the decay acts: 2 * (1 - 0.1 * 0.5)
        >>> round(p.value.item(), 6)
        1.9
    """

    _added: ClassVar[Hyperparameters] = {"amsgrad": False, "maximize": False}

    def __init__(
        self,
        params: Params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    @override
    def hyperparameters(self) -> Hyperparameters:
        hyperparameters = super().hyperparameters()
        del hyperparameters["decoupled_weight_decay"]  # always True: not an AdamW argument
        return hyperparameters

    @override
    def _checked(self, hyperparameters: Mapping[str, object]) -> Hyperparameters:
        checked = super()._checked({**hyperparameters, "decoupled_weight_decay": True})
        del checked["decoupled_weight_decay"]
        return checked

    @override
    def _apply(self, hyperparameters: Hyperparameters) -> None:
        super()._apply({**hyperparameters, "decoupled_weight_decay": True})
