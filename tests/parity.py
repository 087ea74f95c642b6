"""torch's own test inputs, run through minitorch_nn: the machinery of ``tests/test_parity.py``.

``module_samples()`` lists every ``ModuleInput`` of ``torch.testing._internal.common_modules.module_db``
for the modules that have a minitorch_nn namesake (in training mode, and in eval mode too for modules
whose modes differ). ``run_module_sample`` builds both modules from the sample's constructor
arguments, copies torch's parameters and buffers into ours, runs the sample's input through both in
float64 and compares outputs, input gradients, parameter gradients and buffers with
``torch.testing.assert_close``. ``optimizer_samples`` and ``run_optimizer_sample`` do the same for
``optim_db`` over 20 steps.

torch's test helpers are internal: ``load_databases`` imports them defensively and returns the reason
they are missing instead of raising. ``python -m tests.parity`` prints the pass rate per module.
"""

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

import minitorch_nn
import minitorch_nn.optim
from minitorch_nn.module import Loss, Module, ModuleBase

__all__ = [
    "ModuleSample",
    "OptimizerSample",
    "load_databases",
    "module_samples",
    "optimizer_samples",
    "run_module_sample",
    "run_optimizer_sample",
]

OPTIMIZER_STEPS = 20


def load_databases() -> tuple[list[Any], list[Any], str]:
    """``(module_db, optim_db, "")``, or ``([], [], reason)`` if torch's internal test helpers are missing."""
    try:
        with contextlib.redirect_stderr(None):
            from torch.testing._internal.common_modules import module_db
            from torch.testing._internal.common_optimizers import optim_db
    except Exception as error:  # internal modules: any failure to import means "not available"
        return [], [], f"torch's internal test helpers are not importable: {type(error).__name__}: {error}"
    return list(module_db), list(optim_db), ""


@dataclass(frozen=True)
class ModuleSample:
    """One ``ModuleInput`` of ``module_db``: ``key`` is ``"<Module>/<train|eval>/<desc>"``."""

    name: str
    training: bool
    desc: str
    index: int
    info: Any

    @property
    def key(self) -> str:
        return f"{self.name}/{'train' if self.training else 'eval'}/{self.desc or '(default)'}"


def _ours(name: str) -> type[ModuleBase] | None:
    cls = getattr(minitorch_nn, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, ModuleBase) else None


def module_samples(module_db: list[Any]) -> list[ModuleSample]:
    """The samples of each ``module_db`` module with a minitorch_nn namesake, in ``module_db``'s order."""
    samples: list[ModuleSample] = []
    for info in module_db:
        name = info.module_cls.__name__
        if _ours(name) is None:
            continue
        for training in (True, False) if info.train_and_eval_differ else (True,):
            inputs = _generate(info, training)
            descs = [sample.desc for sample in inputs]
            for index, desc in enumerate(descs):
                # module_db repeats a few descriptions within one module: number the repeats
                unique = desc if descs.count(desc) == 1 else f"{desc}#{descs[:index].count(desc)}"
                samples.append(ModuleSample(name, training, unique, index, info))
    return samples


def _generate(info: Any, training: bool) -> list[Any]:
    """The sample inputs, drawn from a fixed seed so that a run is repeatable."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return list(
            info.module_inputs_func(
                info, device="cpu", dtype=torch.float64, requires_grad=True, training=training
            )
        )


def _detached(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple | list):
        return type(value)(_detached(v) for v in value)
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value


def _tensors(values: Iterator[Any]) -> list[torch.Tensor]:
    return [v for v in values if isinstance(v, torch.Tensor)]


def build_pair(sample: ModuleSample) -> tuple[torch.nn.Module, ModuleBase, Any]:
    """torch's module and ours from the sample's constructor arguments, ours holding torch's state."""
    data = _generate(sample.info, sample.training)[sample.index]
    args, kwargs = data.constructor_input.args, data.constructor_input.kwargs
    with torch.random.fork_rng():
        torch.manual_seed(1)
        reference = sample.info.module_cls(*_detached(args), **_detached(kwargs)).to(torch.float64)
    reference.train(sample.training)
    cls = _ours(sample.name)
    assert cls is not None
    ours = cls(*_detached(args), **_detached(kwargs)).to(dtype=torch.float64)
    ours.train(sample.training)
    state = {key: value.detach().clone() for key, value in reference.state_dict().items()}
    ours.load_state_dict(state)
    return reference, ours, data


def _close(actual: Any, expected: Any, what: str) -> None:
    torch.testing.assert_close(actual, expected, equal_nan=True, msg=lambda m: f"{what}: {m}")


def _attention_call(
    ours: ModuleBase, result: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[torch.Tensor, torch.Tensor]:
    """torch's ``forward(query, key, value, **masks)`` on our MultiheadAttention: the masks become its
    attributes, a key and value equal to the query self-attention; torch's weights (when returned) are
    compared with ``attention_weights``. Returns our output and torch's."""
    assert isinstance(ours, minitorch_nn.MultiheadAttention)
    options = dict(kwargs)
    query, key, value = (*args, *(options.pop(name, None) for name in ("key", "value")))[:3]
    ours.key_padding_mask = options.pop("key_padding_mask", None)
    ours.attn_mask = options.pop("attn_mask", None)
    average = options.pop("average_attn_weights", True)
    options.pop("need_weights", None)
    if options.pop("is_causal", False):
        raise ValueError("MultiheadAttention: is_causal is a constructor argument here, not one of forward")
    if options:
        raise ValueError(f"MultiheadAttention: forward takes no {sorted(options)}")
    same = torch.equal(key, query) and torch.equal(value, query)
    actual = ours(query) if same else ours(query, key, value)
    output, weights = result
    if weights is not None:
        ours_weights = ours.attention_weights
        assert ours_weights is not None
        _close(ours_weights.mean(-3) if average else ours_weights, weights.detach(), "attention weights")
    return actual, output


def _recurrent_call(
    ours: ModuleBase, result: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[torch.Tensor, torch.Tensor]:
    """RNN, LSTM, GRU: torch's ``forward(input, hx)`` returns ``(output, h_n)`` (LSTM: ``(h_n, c_n)``);
    ours takes ``hx`` as ``initial_state``, returns the output and keeps the final state in ``last_state``,
    compared here with torch's."""
    options = dict(kwargs)
    input = args[0] if args else options.pop("input")
    hx = args[1] if len(args) > 1 else options.pop("hx", None)
    if options:
        raise ValueError(f"{type(ours).__name__}: forward takes no {sorted(options)}")
    ours.initial_state = hx  # type: ignore[attr-defined]  # RNN, LSTM and GRU have it
    actual = ours(input)  # type: ignore[operator]  # a Module
    output, final = result
    last = ours.last_state  # type: ignore[attr-defined]
    for index, (mine, theirs) in enumerate(
        zip(
            last if isinstance(last, tuple) else (last,),
            final if isinstance(final, tuple) else (final,),
            strict=True,
        )
    ):
        _close(mine, theirs.detach(), f"final state {('h_n', 'c_n')[index]}")
    return actual, output


#: Per module name: how torch's forward call of a sample maps onto ours, for modules whose forward
#: takes more than one tensor or returns more than one. ``adapter(ours, torch_result, args, kwargs)``
#: runs ours and returns ``(our output, torch's output tensor)``.
CALL_ADAPTERS: dict[
    str, Callable[[ModuleBase, Any, tuple[Any, ...], dict[str, Any]], tuple[torch.Tensor, torch.Tensor]]
] = {
    "MultiheadAttention": _attention_call,
    "RNN": _recurrent_call,
    "LSTM": _recurrent_call,
    "GRU": _recurrent_call,
}


def run_module_sample(sample: ModuleSample) -> None:
    """Run one sample through torch and minitorch_nn; raise ``AssertionError`` where they differ.

    Construction errors and errors from ``forward``/``backward`` propagate as they are: a refusal.
    """
    reference, ours, data = build_pair(sample)
    args, kwargs = data.forward_input.args, data.forward_input.kwargs
    ours_args, ours_kwargs = _detached(args), _detached(kwargs)
    with torch.random.fork_rng():
        torch.manual_seed(2)
        expected = reference(*args, **kwargs)
    with torch.random.fork_rng():
        torch.manual_seed(2)
        assert isinstance(ours, Module | Loss)
        adapter = CALL_ADAPTERS.get(sample.name)
        if adapter is None:
            actual = ours(*ours_args, **ours_kwargs)
        else:
            actual, expected = adapter(ours, expected, ours_args, ours_kwargs)
    _close(actual, expected.detach(), "output")
    _close(
        dict(ours.named_buffers()) and {k: b.value for k, b in ours.named_buffers()},
        dict(reference.named_buffers()),
        "buffers after forward",
    )
    inputs = [t for t in _tensors(iter([*args, *kwargs.values()])) if t.requires_grad]
    if not expected.requires_grad:
        return
    gen = torch.Generator().manual_seed(3)
    scalar_loss = isinstance(ours, Loss) and expected.dim() == 0
    grad_output = (
        torch.ones((), dtype=expected.dtype)
        if scalar_loss
        else torch.randn(expected.shape, generator=gen, dtype=expected.dtype)
    )
    params = list(reference.parameters())
    first = inputs[:1]
    grads = torch.autograd.grad(expected, [*first, *params], grad_output, allow_unused=True)
    ours.zero_grad()
    if isinstance(ours, Loss):
        grad_input = ours.backward() if scalar_loss else ours.backward(grad_output.clone())
    else:
        assert isinstance(ours, Module)
        grad_input = ours.backward(grad_output.clone())
    if first and grads[0] is not None:
        _close(grad_input, grads[0], "input gradient")
    names = [name for name, _ in reference.named_parameters()]
    ours_params = dict(ours.named_parameters())
    for name, grad in zip(names, grads[len(first) :], strict=True):
        expected_grad = torch.zeros_like(ours_params[name].value) if grad is None else grad
        _close(ours_params[name].grad, expected_grad, f"gradient of {name}")


@dataclass(frozen=True)
class OptimizerSample:
    """One ``OptimizerInput`` of ``optim_db`` under one implementation flag: key ``"<Optimizer>/<desc>"``."""

    name: str
    desc: str
    kwargs: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.name}/{self.desc}"


# The implementation flags torch's own optimizer tests combine with every sample; each changes nothing
# in the arithmetic, so each must give the trajectory of the plain sample.
_IMPLEMENTATIONS: dict[str, dict[str, bool]] = {
    "": {},
    "foreach": {"foreach": True},
    "for-loop": {"foreach": False},
    "fused": {"fused": True},
}


def optimizer_samples(optim_db: list[Any]) -> list[OptimizerSample]:
    """Every ``optim_db`` sample of an optimizer minitorch_nn has, under each implementation flag."""
    samples: list[OptimizerSample] = []
    for info in optim_db:
        name = info.optim_cls.__name__
        if not hasattr(minitorch_nn.optim, name):
            continue
        for data in info.optim_inputs_func(device="cpu", dtype=torch.float64):
            for flag, extra in _IMPLEMENTATIONS.items():
                if extra and next(iter(extra)) not in info.supported_impls:
                    continue
                desc = f"{data.desc} ({flag})" if flag else data.desc
                samples.append(OptimizerSample(name, desc, {**data.kwargs, **extra}))
    return samples


def _gradient(value: torch.Tensor, step: int) -> torch.Tensor:
    """A gradient that depends on the value and the step, so that trajectories can drift apart."""
    return torch.sin(3.0 * value + step) + 0.1 * value


def run_optimizer_sample(sample: OptimizerSample) -> None:
    """20 steps of torch's optimizer and ours from one start; raise ``AssertionError`` where they differ."""
    gen = torch.Generator().manual_seed(0)
    starts = [torch.randn(5, 3, generator=gen, dtype=torch.float64), torch.randn(3, generator=gen)]
    reference_params = [s.clone().requires_grad_(True) for s in starts]
    ours_params = [minitorch_nn.Parameter(s.clone()) for s in starts]
    reference = getattr(torch.optim, sample.name)(reference_params, **_detached(sample.kwargs))
    ours = getattr(minitorch_nn.optim, sample.name)(ours_params, **_detached(sample.kwargs))
    for step in range(OPTIMIZER_STEPS):
        for ref, own in zip(reference_params, ours_params, strict=True):
            ref.grad = _gradient(ref.detach(), step)
            own.grad.copy_(_gradient(own.value, step))
        reference.step()
        ours.step()
        for index, (ref, own) in enumerate(zip(reference_params, ours_params, strict=True)):
            _close(own.value, ref.detach(), f"parameter {index} after step {step + 1}")


def pass_rates(results: dict[str, bool], key_to_module: Callable[[str], str]) -> list[tuple[str, int, int]]:
    """``(module, passed, total)`` for each module, in first-seen order."""
    table: dict[str, list[int]] = {}
    for key, passed in results.items():
        row = table.setdefault(key_to_module(key), [0, 0])
        row[0] += int(passed)
        row[1] += 1
    return [(name, passed, total) for name, (passed, total) in table.items()]


def _measure() -> None:  # pragma: no cover - a report for people, run by hand
    module_db, optim_db, reason = load_databases()
    if reason:
        raise SystemExit(reason)
    results: dict[str, bool] = {}
    failures: dict[str, str] = {}
    runs: list[tuple[str, Callable[[], None]]] = [
        *((s.key, lambda s=s: run_module_sample(s)) for s in module_samples(module_db)),
        *((s.key, lambda s=s: run_optimizer_sample(s)) for s in optimizer_samples(optim_db)),
    ]
    for key, run in runs:
        try:
            run()
            results[key] = True
        except Exception as error:
            results[key] = False
            failures[key] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
    rows = pass_rates(results, lambda key: key.split("/")[0])
    for name, passed, total in rows:
        print(f"{name:20s} {passed:4d}/{total:<4d} {100 * passed / total:6.1f} %")
    module_names = {s.name for s in module_samples(module_db)}
    module_rows = [r for r in rows if r[0] in module_names]
    passed = sum(r[1] for r in module_rows)
    total = sum(r[2] for r in module_rows)
    print(f"modules: {passed}/{total} = {100 * passed / total:.1f} %")
    optim_rows = [r for r in rows if r[0] not in module_names]
    o_passed, o_total = sum(r[1] for r in optim_rows), sum(r[2] for r in optim_rows)
    print(f"optimizers: {o_passed}/{o_total} = {100 * o_passed / max(o_total, 1):.1f} %")
    for key, why in failures.items():
        print(f"FAIL {key}: {why}")


if __name__ == "__main__":
    _measure()
