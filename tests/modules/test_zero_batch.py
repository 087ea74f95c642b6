"""Empty batches, and empty images where torch takes them, through every layer of the registry, as torch.nn.

Every layer case of ``tests.cases.CASES`` (the losses left out) is run with a batch of 0, and with an
image height or width of 0 where its input has one, in training and in evaluation: ``forward``,
``backward`` and ``accumulate_grad``. A kernel can kill the interpreter on an empty tensor
(``native_batch_norm_backward`` did, with SIGFPE), so a subprocess runs them all first, and a case
that killed it fails here without being run in this process. The cases that came through are compared
with their ``torch.nn`` twin (``minitorch_nn.interop.to_torch``): where torch refuses the input, ours
must refuse it with a ``ValueError`` or ``TypeError`` naming the module; where torch takes it, the
output, the buffers after ``forward`` (BatchNorm's running statistics and batch count), the input
gradient and the parameter gradients (of ``backward`` and of ``accumulate_grad``) must equal
torch.autograd's.
"""

import dataclasses
import functools
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn._types import Tensor
from minitorch_nn.interop import to_torch
from tests.cases import CASES, Dims, ModuleCase

LAYER_CASES = [case for case in CASES if case.target is None]
EMPTY = ("batch", "height", "width")  # the size set to 0
MODES = (True, False)  # training, evaluation
ROOT = Path(__file__).resolve().parents[2]


def _has(case: ModuleCase, empty: str) -> bool:
    """Whether the case's input has the size ``empty`` (an image's height, say)."""
    dims = Dims.draw(torch.Generator().manual_seed(0))
    return case.input_shape(dataclasses.replace(dims, **{empty: 0})) != case.input_shape(dims)


KEYS = [
    (case, empty, training)
    for case in LAYER_CASES
    for empty in EMPTY
    if _has(case, empty)
    for training in MODES
]


# Empty inputs torch takes and we refuse: (case, the size set to 0) -> why.
REFUSED_HERE: dict[tuple[str, str], str] = {
    ("AdaptiveAvgPool2d-global", "height"): "torch's global pooling is a mean: over no values, NaN",
    ("AdaptiveAvgPool2d-global", "width"): "torch's global pooling is a mean: over no values, NaN",
    ("AdaptiveAvgPool2d-unbatched-global", "height"): "torch's global pooling is a mean: over no values, NaN",
    ("AdaptiveAvgPool2d-unbatched-global", "width"): "torch's global pooling is a mean: over no values, NaN",
    ("Mean", "height"): "a mean over no values is NaN: Mean refuses an empty dimension",
}


def _key(case: ModuleCase, empty: str, training: bool) -> str:
    return f"{case.name}/{empty}=0/{'train' if training else 'eval'}"


def _build(case: ModuleCase, empty: str, training: bool) -> tuple[mn.Module, Tensor]:
    """The case's module and an input with ``empty`` set to 0 (``case.build`` with one size changed)."""
    g = torch.Generator().manual_seed(0)
    zero = dataclasses.replace(Dims.draw(g), **{empty: 0})
    module = case.make(zero, g).to(dtype=torch.float64).train(training)
    assert isinstance(module, mn.Module)
    return module, case.input(case.input_shape(zero), g)


def _exercise(case: ModuleCase, empty: str, training: bool) -> None:
    """forward, backward and accumulate_grad on the empty input; Python exceptions are not this check's."""
    try:
        module, input = _build(case, empty, training)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = module(input)
        grad_output = torch.ones_like(output)
        module.backward(grad_output)
        module.accumulate_grad(grad_output)
    except Exception:  # a refusal or a bug, both caught by the in-process comparison; not a crash
        return


def exercise_all(skip: set[str]) -> None:
    """Run every key but those in ``skip``, printing ``start KEY`` before and ``done KEY`` after each."""
    for case, empty, training in KEYS:
        key = _key(case, empty, training)
        if key in skip:
            continue
        print(f"start {key}", flush=True)
        _exercise(case, empty, training)
        print(f"done {key}", flush=True)


@functools.cache
def crashes() -> dict[str, str]:
    """``{key: how the interpreter died}`` for each key whose run killed a subprocess.

    The subprocess runs every key; when one kills it, a new one goes on after that key.
    """
    found: dict[str, str] = {}
    done: set[str] = set()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(len(KEYS)):
        code = f"from tests.modules.test_zero_batch import exercise_all; exercise_all({done | set(found)!r})"
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        if result.returncode == 0:
            return found
        lines = result.stdout.splitlines()
        done |= {line.removeprefix("done ") for line in lines if line.startswith("done ")}
        unfinished = [line.removeprefix("start ") for line in lines if line.startswith("start ")]
        unfinished = [key for key in unfinished if key not in done]
        assert unfinished, f"the subprocess failed before any case:\n{result.stderr[-2000:]}"
        found[unfinished[-1]] = f"exit status {result.returncode}: {result.stderr.strip()[-300:]}"
    return found


def test_no_empty_input_kills_the_interpreter() -> None:
    assert crashes() == {}


def _torch_run(twin: torch.nn.Module, input: Tensor, grad_output_seed: int) -> tuple[Tensor, ...] | Exception:
    """torch's output, input gradient and parameter gradients (zeros for unused ones), or its refusal."""
    differentiable = input.is_floating_point()  # integer indices (Embedding) have no gradient
    leaf = input.clone().requires_grad_(differentiable)
    params = list(twin.parameters())
    leaves = [leaf, *params] if differentiable else params
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = twin(leaf)
        grad_output = torch.randn(output.shape, generator=torch.Generator().manual_seed(grad_output_seed))
        grads = torch.autograd.grad(output, leaves, grad_output.to(output.dtype), allow_unused=True)
    except (RuntimeError, ValueError, IndexError) as error:
        return error
    filled = [torch.zeros_like(t) if g is None else g for g, t in zip(grads, leaves, strict=True)]
    if not differentiable:  # ours: zeros of the indices' shape, in the output's dtype
        filled.insert(0, torch.zeros(input.shape, dtype=output.dtype))
    return (output.detach(), grad_output.to(output.dtype), *filled)


def _close(actual: Tensor, expected: Tensor, what: str) -> None:
    torch.testing.assert_close(actual, expected, msg=lambda message: f"{what}: {message}")


@pytest.mark.parametrize(
    ("case", "empty", "training"), KEYS, ids=[_key(case, empty, training) for case, empty, training in KEYS]
)
def test_empty_input_as_torch_nn(case: ModuleCase, empty: str, training: bool) -> None:
    key = _key(case, empty, training)
    if key in crashes():
        pytest.fail(f"{key} killed the interpreter in a subprocess ({crashes()[key]})")
    try:
        module, input = _build(case, empty, training)
    except ValueError as error:  # the size is the module's too (a Linear after Flatten): refused up front
        pytest.skip(f"the module cannot be built for this size: {error}")
    twin = to_torch(module)
    expected = _torch_run(twin, input, grad_output_seed=1)
    if isinstance(expected, Exception) or (case.name, empty) in REFUSED_HERE:
        with pytest.raises((ValueError, TypeError), match=type(module).__name__):
            module(input)
        return
    output, grad_output, grad_input, *grads = expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        actual = module(input)
    torch.testing.assert_close(actual, output)
    twin_buffers = dict(twin.named_buffers())
    for name, buffer in module.named_buffers():
        _close(buffer.value, twin_buffers[name], name)
    names = [name for name, _ in twin.named_parameters()]
    ours = dict(module.named_parameters())
    module.zero_grad()
    torch.testing.assert_close(module.backward(grad_output.clone()), grad_input)
    for name, grad in zip(names, grads, strict=True):
        _close(ours[name].grad, grad, f"{name}.grad")
    module.zero_grad()
    module.accumulate_grad(grad_output.clone())
    for name, grad in zip(names, grads, strict=True):
        _close(ours[name].grad, grad, f"{name}.grad")


@pytest.mark.parametrize("kind", ["BatchNorm1d", "BatchNorm2d"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_an_empty_training_batch_counts_but_leaves_the_running_statistics(
    kind: str, momentum: float | None
) -> None:
    """torch.nn's behaviour, worked out: no statistics to move towards, but the batch is counted."""
    crashed = [key for key in crashes() if key.startswith(kind)]
    if crashed:  # then this would kill the test run too
        pytest.fail(f"{kind} killed the interpreter on an empty input in a subprocess: {crashed}")
    module = getattr(mn, kind)(3, momentum=momentum)
    shape = (0, 3) if kind == "BatchNorm1d" else (0, 3, 4, 4)
    assert module.running_mean is not None and module.running_var is not None
    assert module.num_batches_tracked is not None
    output = module(torch.zeros(shape))
    assert output.shape == shape
    assert torch.equal(module.running_mean.value, torch.zeros(3))
    assert torch.equal(module.running_var.value, torch.ones(3))
    assert int(module.num_batches_tracked.value) == 1
    assert module.backward(torch.zeros(shape)).shape == shape
    assert module.weight is not None and module.bias is not None
    assert torch.equal(module.weight.grad, torch.zeros(3)) and torch.equal(module.bias.grad, torch.zeros(3))


def test_one_value_per_channel_is_still_refused_in_training() -> None:
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel in training, got 1"):
        mn.BatchNorm1d(3)(torch.zeros(1, 3))
