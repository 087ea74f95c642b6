"""``gradcheck``: compare a module's hand-written backward with central differences.

Public so that users can prove the modules they write themselves.
"""

import itertools

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.module import Loss, Module, ModuleBase

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with the numeric one.

    The message names the worst element: the tensor, its index, the analytic
    and the numeric value.

    Example:
        >>> import torch
        >>> from minitorch_nn import Tanh
        >>> class WrongTanh(Tanh):
        ...     def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        ...         return 2 * super().backward(grad_output)
        >>> g = torch.Generator().manual_seed(0)
        >>> try:
        ...     gradcheck(WrongTanh(), torch.tensor([0.5, -1.0], dtype=torch.float64), generator=g)
        ... except GradcheckError as error:
        ...     print(str(error).replace(": a", ":\\n a"))
        gradcheck: WrongTanh(): gradient of 'input' disagrees at index (0,):
         analytic 2.423825792, numeric 1.211912896 (atol=1e-07, rtol=1e-05, eps=1e-06; 0 kink(s) skipped)
    """


class _Frozen:
    """Everything a forward pass may change besides its output: RNG states and buffers.

    ``restore_rng`` before each evaluation makes a stochastic module (``Dropout``)
    draw the same mask every time; ``restore`` at the end also undoes what the
    many forward passes did to buffers such as BatchNorm's running statistics.
    """

    def __init__(self, module: ModuleBase, device: torch.device) -> None:
        self.global_state = torch.get_rng_state()
        self.cuda_state = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        self.device = device
        generators = {
            id(g): g for m in _modules(module) for g in vars(m).values() if isinstance(g, torch.Generator)
        }
        self.generators = [(g, g.get_state()) for g in generators.values()]
        self.buffers = [(b, b.value.clone()) for _, b in module.named_buffers()]

    def restore_rng(self) -> None:
        torch.set_rng_state(self.global_state)
        if self.cuda_state is not None:
            torch.cuda.set_rng_state(self.cuda_state, self.device)
        for generator, state in self.generators:
            generator.set_state(state)

    def restore(self) -> None:
        self.restore_rng()
        for buffer, value in self.buffers:
            buffer.value.copy_(value)


def _modules(module: ModuleBase) -> list[ModuleBase]:
    return [module, *(m for child in module.children() for m in _modules(child))]


def _scalar(
    module: Module | Loss, input: Tensor, target: Tensor | None, weight: Tensor, frozen: _Frozen
) -> float:
    frozen.restore_rng()
    if isinstance(module, Loss):
        assert target is not None
        loss = module.forward(input, target)
        return float((loss if loss.dim() == 0 else torch.sum(loss * weight)).item())
    return float(torch.sum(module.forward(input) * weight).item())


def _analytic(
    module: Module | Loss, input: Tensor, target: Tensor | None, weight: Tensor, frozen: _Frozen
) -> dict[str, Tensor]:
    """The gradients ``backward`` gives, leaving every ``grad`` buffer as it was."""
    params = dict(module.named_parameters())
    saved = {name: p.grad.clone() for name, p in params.items()}
    module.zero_grad()
    frozen.restore_rng()
    if isinstance(module, Loss):
        assert target is not None
        scalar = module.forward(input, target).dim() == 0
        grads = {"input": (module.backward() if scalar else module.backward(weight)).clone()}
    else:
        module.forward(input)
        grads = {"input": module.backward(weight).clone()}
    if not input.is_floating_point():  # integer indices: no gradient to check
        del grads["input"]
    for name, p in params.items():
        grads[name] = p.grad.clone()
        p.grad.copy_(saved[name])
    return grads


def _numeric(
    module: Module | Loss, input: Tensor, target: Tensor | None, weight: Tensor, frozen: _Frozen, eps: float
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Central differences, one element at a time (restored exactly), and where the function has a kink.

    An element sits at a kink when the one-sided differences disagree by more
    than ``1e-3 * max(1, |central|)``: the function is not differentiable within
    ``eps`` of it (ReLU at 0, L1 at ``input == target``), so it is not checked.
    """
    tensors = {"input": input} if input.is_floating_point() else {}
    tensors |= {name: p.value for name, p in module.named_parameters()}
    center = _scalar(module, input, target, weight, frozen)
    grads: dict[str, Tensor] = {}
    kinks: dict[str, Tensor] = {}
    for name, tensor in tensors.items():
        grad = torch.empty(tensor.shape, dtype=torch.float64)
        kink = torch.zeros(tensor.shape, dtype=torch.bool)
        for index in itertools.product(*map(range, tensor.shape)):  # any strides, no views needed
            original = tensor[index].item()
            tensor[index] = original + eps
            plus = _scalar(module, input, target, weight, frozen)
            tensor[index] = original - eps
            minus = _scalar(module, input, target, weight, frozen)
            tensor[index] = original
            grad[index] = central = (plus - minus) / (2 * eps)
            kink[index] = abs((plus - center) - (center - minus)) / eps > 1e-3 * max(1.0, abs(central))
        grads[name], kinks[name] = grad.to(tensor.device), kink.to(tensor.device)
    return grads, kinks


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
    For a ``Loss`` the scalar is the loss and ``backward()`` its gradient; a
    loss whose output is not 0-dim (``reduction="none"``) is checked as a
    ``Module`` is, with ``backward(v)``. Both
    the input gradient and every parameter gradient are checked; an element
    passes when :math:`|a - n| \le \text{atol} + \text{rtol} |n|`. An
    integer input (the indices of an ``Embedding``) has no gradient: then only
    the parameter gradients are checked (``backward`` still runs).

    Elements at a kink of a non-smooth function (where the one-sided
    differences disagree, such as ReLU at 0) are skipped. Stochastic modules
    are made deterministic: every evaluation starts from the same random
    generator states, so ``Dropout`` keeps one mask. The module's ``grad``
    buffers, parameter values, buffers and generator states are left as they were.

    Args:
        module: the module or loss to check; its parameters must be float64.
        input: a float64 input, or an integer one (parameter gradients only), left unmodified.
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
        TypeError: if a parameter is not float64, or the input is neither float64 nor integer.

    Example:
        >>> from minitorch_nn import Linear
        >>> g = torch.Generator().manual_seed(0)
        >>> layer = Linear(3, 2, generator=g, dtype=torch.float64)
        >>> gradcheck(layer, torch.randn(4, 3, generator=g, dtype=torch.float64), generator=g)
        True
    """
    if isinstance(module, Loss) and target is None:
        raise ValueError(f"gradcheck: {module!r} is a Loss, so a target is needed")
    integer = not (input.is_floating_point() or input.is_complex() or input.dtype == torch.bool)
    dtypes = [] if integer else [input.dtype]
    dtypes += [p.dtype for p in module.parameters()]
    if any(dtype != torch.float64 for dtype in dtypes):
        raise TypeError(
            f"gradcheck: expected float64 input and parameters, got {sorted(set(map(str, dtypes)))}"
        )
    point = input.detach().clone()
    frozen = _Frozen(module, input.device)
    weight = torch.empty(0, dtype=torch.float64)
    frozen.restore_rng()
    if isinstance(module, Loss):
        assert target is not None
        shape = module.forward(point, target).shape
    else:
        shape = module.forward(point).shape
    if isinstance(module, Module) or shape:
        weight = torch.randn(shape, generator=generator, dtype=torch.float64).to(input.device)
    try:
        analytic = _analytic(module, point, target, weight, frozen)
        numeric, kinks = _numeric(module, point, target, weight, frozen, eps)
        _scalar(module, point, target, weight, frozen)  # leave the caches at the unperturbed point
    finally:
        frozen.restore()
    for name, num in numeric.items():
        ana = analytic[name]
        excess = ((ana - num).abs() - (atol + rtol * num.abs())).masked_fill(kinks[name], 0.0)
        if excess.numel() and excess.max().item() > 0:
            index = tuple(int(i) for i in torch.unravel_index(excess.argmax(), excess.shape))
            raise GradcheckError(
                f"gradcheck: {module!r}: gradient of {name!r} disagrees at index {index}: "
                f"analytic {ana[index].item():.10g}, numeric {num[index].item():.10g} "
                f"(atol={atol}, rtol={rtol}, eps={eps}; {int(kinks[name].sum())} kink(s) skipped)"
            )
    return True
