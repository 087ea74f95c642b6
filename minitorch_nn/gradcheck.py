"""``gradcheck``: compare a module's hand-written backward with central differences.

Public so that users can prove the modules they write themselves.
"""

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.module import Loss, Module

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with the numeric one."""


def _scalar(module: Module | Loss, input: Tensor, target: Tensor | None, weight: Tensor) -> float:
    if isinstance(module, Loss):
        assert target is not None
        return float(module.forward(input, target).item())
    return float(torch.sum(module.forward(input) * weight).item())


def _analytic(
    module: Module | Loss, input: Tensor, target: Tensor | None, weight: Tensor
) -> dict[str, Tensor]:
    """The gradients ``backward`` gives, leaving every ``grad`` buffer as it was."""
    params = dict(module.named_parameters())
    saved = {name: p.grad.clone() for name, p in params.items()}
    module.zero_grad()
    if isinstance(module, Loss):
        assert target is not None
        module.forward(input, target)
        grads = {"input": module.backward().clone()}
    else:
        module.forward(input)
        grads = {"input": module.backward(weight).clone()}
    for name, p in params.items():
        grads[name] = p.grad.clone()
        p.grad.copy_(saved[name])
    return grads


def _numeric(
    module: Module | Loss, input: Tensor, target: Tensor | None, weight: Tensor, eps: float
) -> dict[str, Tensor]:
    """Central differences, perturbing one element at a time and restoring it exactly."""
    tensors = {"input": input} | {name: p.value for name, p in module.named_parameters()}
    grads: dict[str, Tensor] = {}
    for name, tensor in tensors.items():
        flat = tensor.view(-1)
        grad = torch.empty_like(flat)
        for i in range(flat.numel()):
            original = flat[i].item()
            flat[i] = original + eps
            plus = _scalar(module, input, target, weight)
            flat[i] = original - eps
            minus = _scalar(module, input, target, weight)
            flat[i] = original
            grad[i] = (plus - minus) / (2 * eps)
        grads[name] = grad.view_as(tensor)
    return grads


def gradcheck(
    module: Module | Loss,
    input: Tensor,
    target: Tensor | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-7,
    rtol: float = 1e-5,
    generator: torch.Generator | None = None,
) -> bool:
    r"""Check ``module.backward`` against central finite differences, in float64.

    For a ``Module`` the checked scalar is :math:`\sum_i y_i v_i` with ``y`` the
    output and ``v`` a random tensor, so ``backward(v)`` must give its gradient.
    For a ``Loss`` the scalar is the loss and ``backward()`` its gradient. Both
    the input gradient and every parameter gradient are checked; an element
    passes when :math:`|a - n| \le \text{atol} + \text{rtol} |n|`. The module's
    ``grad`` buffers and parameter values are left as they were.

    Args:
        module: the module or loss to check; its parameters must be float64.
        input: a float64 input, left unmodified.
        target: the target, required for a ``Loss``.
        eps: the finite-difference step. Default: 1e-6.
        atol: absolute tolerance. Default: 1e-7.
        rtol: relative tolerance. Default: 1e-5.
        generator: random generator for ``v``. Default: torch's global one.

    Returns:
        ``True`` when every gradient agrees.

    Raises:
        GradcheckError: naming the worst element: which tensor, its index, the
            analytic and the numeric value.
        TypeError: if the input or a parameter is not float64.

    Example:
        >>> from minitorch_nn import Linear
        >>> g = torch.Generator().manual_seed(0)
        >>> layer = Linear(3, 2, generator=g, dtype=torch.float64)
        >>> gradcheck(layer, torch.randn(4, 3, generator=g, dtype=torch.float64), generator=g)
        True
    """
    if isinstance(module, Loss) and target is None:
        raise ValueError(f"gradcheck: {module!r} is a Loss, so a target is needed")
    dtypes = [input.dtype] + [p.dtype for p in module.parameters()]
    if any(dtype != torch.float64 for dtype in dtypes):
        raise TypeError(
            f"gradcheck: expected float64 input and parameters, got {sorted(set(map(str, dtypes)))}"
        )
    point = input.detach().clone()
    weight = torch.empty(0, dtype=torch.float64)
    if isinstance(module, Module):
        shape = module.forward(point).shape
        weight = torch.randn(shape, generator=generator, dtype=torch.float64, device=input.device)
    analytic = _analytic(module, point, target, weight)
    numeric = _numeric(module, point, target, weight, eps)
    _scalar(module, point, target, weight)  # leave the caches at the unperturbed point
    for name, num in numeric.items():
        ana = analytic[name]
        excess = (ana - num).abs() - (atol + rtol * num.abs())
        if excess.numel() and excess.max().item() > 0:
            index = tuple(int(i) for i in torch.unravel_index(excess.argmax(), excess.shape))
            raise GradcheckError(
                f"gradcheck: {module!r}: gradient of {name!r} disagrees at index {index}: "
                f"analytic {ana[index].item():.10g}, numeric {num[index].item():.10g} "
                f"(atol={atol}, rtol={rtol}, eps={eps})"
            )
    return True
