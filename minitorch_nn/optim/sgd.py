"""``SGD``: stochastic gradient descent with momentum, dampening, weight decay, Nesterov and ``maximize``."""

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
    tensor_scalar,
)

__all__ = ["SGD"]


class SGD(OptimizerBase):
    r"""SGD: :math:`b \leftarrow \mu b + (1 - \tau) g`, :math:`\theta \leftarrow \theta - \text{lr}\, b`.

    Here :math:`g` is ``grad + weight_decay * value`` (``-grad + ...`` with
    ``maximize=True``). The first step sets the buffer :math:`b` to :math:`g`
    itself, without dampening; with ``nesterov=True`` the step uses
    :math:`g + \mu b` instead of :math:`b`; with ``momentum=0`` it is plain
    :math:`\theta \leftarrow \theta - \text{lr}\, g`. These are
    ``torch.optim.SGD``'s rules, applied with the same operations in the same
    order, so trajectories agree with torch's to the last bit in float64.

    The arguments are ``torch.optim.SGD``'s, in its order and with its
    defaults. ``foreach`` and ``fused`` pick one of torch's kernels, all with
    the same arithmetic: they are accepted and change nothing here, where
    ``step`` always uses multi-tensor (``torch._foreach_*``) calls.

    Args:
        params: an iterable of ``Parameter``, such as ``model.parameters()``, or of ``(name, Parameter)``
            pairs, such as ``model.named_parameters()``. Param groups (dicts) are refused: make one
            optimizer per group.
        lr: the learning rate, a finite number >= 0, or a one-element floating-point tensor holding one
            (read once; later values set through ``lr`` are rounded to its dtype). Default: 1e-3.
        momentum: the momentum factor :math:`\mu` >= 0. Default: 0.
        dampening: the dampening :math:`\tau` in [0, 1] of each new gradient. Default: 0.
        weight_decay: the L2 penalty :math:`\lambda` >= 0 added to the gradient (a number or a
            one-element tensor). Default: 0.
        nesterov: use Nesterov momentum; needs ``momentum > 0`` and ``dampening = 0``. Default: False.
        maximize: maximize the objective: step along ``+grad``. Default: False.
        foreach: ``None``, ``True`` or ``False``: accepted, changes nothing (see above). Default: None.
        differentiable: only ``False``: steps run outside autograd. Default: False.
        fused: ``None``, ``True`` or ``False``: accepted, changes nothing (see above). Default: None.

    Raises:
        TypeError: if ``params`` holds something other than a ``Parameter`` (a param group, say), or an
            option has the wrong kind.
        ValueError: if ``params`` is empty or repeats one, a number is out of range or not finite,
            ``nesterov`` is set without ``momentum > 0`` and ``dampening = 0``, ``foreach`` and ``fused``
            are both ``True``, or ``differentiable=True``.

    Example:
        >>> import torch
        >>> from minitorch_nn import Parameter
        >>> p = Parameter(torch.tensor([1.0, 2.0]))
        >>> p.grad.copy_(torch.tensor([2.0, -2.0]))
        tensor([ 2., -2.])
        >>> optimizer = SGD([p], lr=0.5)
        >>> optimizer.step()
        >>> p.value.tolist()
        [0.0, 3.0]
        >>> optimizer.zero_grad()
        >>> p.grad.tolist()
        [0.0, 0.0]
        >>> q = Parameter(torch.zeros(1))
        >>> _ = q.grad.fill_(1.0)
        >>> optimizer = SGD([q], 1.0, 0.5)  # torch's order: params, lr, momentum
        >>> for _ in range(3):  # buffer 1, then 1.5, then 1.75
        ...     optimizer.step()
        >>> q.value.tolist()
        [-4.25]
        >>> SGD([q], maximize=True)
        SGD(lr=0.001, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=True, params=1)
    """

    momentum: float
    dampening: float
    weight_decay: float
    nesterov: bool
    maximize: bool
    foreach: bool | None
    fused: bool | None
    _added: ClassVar[Hyperparameters] = {"maximize": False}

    def __init__(
        self,
        params: Params,
        lr: float | Tensor = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float | Tensor = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        name = type(self).__name__
        check_implementation(name, {"foreach": foreach, "fused": fused, "differentiable": differentiable})
        self.foreach, self.fused = foreach, fused
        settings = {"lr": lr, "momentum": momentum, "dampening": dampening, "nesterov": nesterov}
        decay = tensor_scalar(name, "weight_decay", weight_decay)
        super().__init__(params, {**settings, "weight_decay": decay, "maximize": maximize})

    @override
    def hyperparameters(self) -> Hyperparameters:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "dampening": self.dampening,
            "weight_decay": self.weight_decay,
            "nesterov": self.nesterov,
            "maximize": self.maximize,
        }

    @override
    def _checked(self, hyperparameters: Mapping[str, object]) -> Hyperparameters:
        name = self._name
        checked: Hyperparameters = {
            "lr": check_lr(name, hyperparameters["lr"]),
            "momentum": check_number(name, "momentum", hyperparameters["momentum"], ">= 0"),
            "dampening": check_number(name, "dampening", hyperparameters["dampening"], "in [0, 1]"),
            "weight_decay": check_number(name, "weight_decay", hyperparameters["weight_decay"], ">= 0"),
            "nesterov": check_bool(name, "nesterov", hyperparameters["nesterov"]),
            "maximize": check_bool(name, "maximize", hyperparameters["maximize"]),
        }
        momentum, dampening = checked["momentum"], checked["dampening"]
        if checked["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"{name}: nesterov momentum needs momentum > 0 and dampening = 0, "
                f"got momentum={momentum}, dampening={dampening}"
            )
        return checked

    @override
    def _apply(self, hyperparameters: Hyperparameters) -> None:
        self.lr = float(hyperparameters["lr"])
        self.momentum = float(hyperparameters["momentum"])
        self.dampening = float(hyperparameters["dampening"])
        self.weight_decay = float(hyperparameters["weight_decay"])
        self.nesterov = bool(hyperparameters["nesterov"])
        self.maximize = bool(hyperparameters["maximize"])

    @override
    def _buffer_names(self, hyperparameters: Hyperparameters) -> tuple[str, ...]:
        return ("momentum_buffer",) if hyperparameters["momentum"] != 0 else ()

    @override
    def step(self) -> None:
        """Update every ``value`` in place, as ``_update`` says, with one multi-tensor call per operation.

        The ``torch._foreach_*`` calls do on the CPU exactly the per-tensor
        arithmetic of ``_update``, in the same order (results are bit-identical);
        they save one dispatch per parameter and per operation.
        """
        with torch.no_grad():
            self.num_steps += 1
            values = [p.value for p in self.params]
            grads = [p.grad for p in self.params]
            if self.maximize:  # new tensors, as torch's: ``param.grad`` stays as it is
                grads = list(torch._foreach_neg(grads))
                if self.weight_decay != 0:
                    torch._foreach_add_(grads, values, alpha=self.weight_decay)
            elif self.weight_decay != 0:
                grads = list(torch._foreach_add(grads, values, alpha=self.weight_decay))
            if self.momentum != 0:
                if all("momentum_buffer" in state for state in self._state):
                    buffers = [state["momentum_buffer"] for state in self._state]
                    torch._foreach_mul_(buffers, self.momentum)
                    torch._foreach_add_(buffers, grads, alpha=1 - self.dampening)
                else:  # the first step: each buffer starts as the gradient itself
                    buffers = [grad.clone() for grad in grads]
                    for state, buffer in zip(self._state, buffers, strict=True):
                        state["momentum_buffer"] = buffer
                grads = (
                    list(torch._foreach_add(grads, buffers, alpha=self.momentum))
                    if self.nesterov
                    else buffers
                )
            torch._foreach_add_(values, grads, alpha=-self.lr)

    @override
    def _update(self, value: Tensor, grad: Tensor, state: dict[str, Tensor]) -> None:
        if self.maximize:
            grad = grad.neg()
        if self.weight_decay != 0:
            grad = grad.add(value, alpha=self.weight_decay)  # a new tensor: ``param.grad`` stays as it is
        if self.momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.clone()
            else:
                buffer.mul_(self.momentum).add_(grad, alpha=1 - self.dampening)
            grad = grad.add(buffer, alpha=self.momentum) if self.nesterov else buffer
        value.add_(grad, alpha=-self.lr)
