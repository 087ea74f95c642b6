"""Per-layer diagnostics: figures against plain torch, verdicts on constructed cases, fit and the CLI."""

import json
import math
from pathlib import Path
from typing import cast

import pytest
import torch

import minitorch_nn as mn
from minitorch_nn.data import load_data
from minitorch_nn.diagnostics import (
    Diagnostics,
    EpochDiagnostics,
    LayerStats,
    ParameterStats,
    _Activations,
    verdicts,
)
from minitorch_nn.interop import to_torch

# The running figures, against plain torch on the concatenated outputs.


def test_activation_mean_and_std_match_torch(generator: torch.Generator) -> None:
    batches = [torch.randn(5, 7, generator=generator) * 3 + 1 for _ in range(4)]
    gathered = _Activations(None)
    for batch in batches:
        gathered.observe(batch)
    mean, std, saturated, dead = gathered.figures()
    everything = torch.cat(batches)
    assert mean == pytest.approx(float(everything.mean()), rel=1e-12)
    assert std == pytest.approx(float(everything.std(correction=0)), rel=1e-10)
    assert saturated is None and dead is None


def test_tanh_saturation_counts_outputs_within_one_percent_of_the_asymptotes() -> None:
    output = torch.tensor([[0.995, -0.999, 0.5, 0.98], [-0.991, 0.0, 0.2, 0.9899]])
    gathered = _Activations("tanh")
    gathered.observe(output)
    assert gathered.figures()[2] == 3 / 8  # 0.995, -0.999, -0.991


def test_sigmoid_saturation_counts_outputs_below_0_01_or_above_0_99() -> None:
    output = torch.tensor([0.005, 0.995, 0.5, 0.0101, 0.989, 0.001])
    gathered = _Activations("sigmoid")
    gathered.observe(output.view(2, 3))
    assert gathered.figures()[2] == 3 / 6


def test_dead_units_are_those_that_never_fired_in_any_batch() -> None:
    gathered = _Activations("relu")
    gathered.observe(torch.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    gathered.observe(torch.tensor([[0.0, 0.0, 2.0, 0.0]]))
    assert gathered.figures()[3] == 2 / 4  # units 0 and 3 never fired


def test_dead_channels_of_a_convolution_output() -> None:
    output = torch.zeros(2, 3, 4, 4)
    output[1, 2, 3, 3] = 0.5  # channel 2 fires once; channels 0 and 1 never
    gathered = _Activations("relu")
    gathered.observe(output)
    assert gathered.figures()[3] == 2 / 3


def test_an_empty_batch_adds_nothing() -> None:
    gathered = _Activations("relu")
    gathered.observe(torch.zeros(0, 4))
    assert gathered.figures() == (None, None, None, None)


# Verdicts on constructed figures.


def _weight(grad_ratio: float, update: float) -> ParameterStats:
    return ParameterStats(1.0, grad_ratio, grad_ratio, grad_ratio, update, update)


def _layer(path: str, grad_in: float | None, **kwargs: object) -> LayerStats:
    fields: dict[str, object] = {"mean": 0.0, "std": 1.0, "saturated": None, "dead": None, "parameters": {}}
    fields.update(kwargs)
    return LayerStats(path, f"{path} L", 1, input_grad_norm=grad_in, **fields)  # type: ignore[arg-type]


def test_no_verdict_on_healthy_figures() -> None:
    layers = [_layer("[0]", None, parameters={"weight": _weight(0.1, 1e-3)}), _layer("[1]", 1.0),
              _layer("[2]", 0.5, parameters={"weight": _weight(0.1, 1e-3)})]  # fmt: skip
    assert verdicts([EpochDiagnostics(1, 1, 1, layers)]) == []


def test_a_gradient_falling_by_three_orders_of_magnitude_is_vanishing_and_counts_epochs() -> None:
    layers = [_layer("[0]", None, parameters={"weight": _weight(0.1, 1e-3)}), _layer("[1]", 1e-4),
              _layer("[2]", 1.0, parameters={"weight": _weight(0.1, 1e-3)})]  # fmt: skip
    epochs = [EpochDiagnostics(e, 1, 1, layers) for e in (1, 2, 3)]
    (found,) = verdicts(epochs)
    assert (found.kind, found.layer, found.epochs) == ("vanishing", "[0] L", 3)
    assert found.message.startswith("layer [0] L: the gradient reaching it is 1e-04 of the one leaving")
    assert "for 3 epochs: vanishing" in found.message


def test_lr_too_low_only_when_every_weight_barely_moves() -> None:
    slow = [_layer("[0]", None, parameters={"weight": _weight(0.1, 1e-7)}), _layer("[1]", 1.0),
            _layer("[2]", 1.0, parameters={"weight": _weight(0.1, 1e-6)})]  # fmt: skip
    assert [v.kind for v in verdicts([EpochDiagnostics(1, 1, 1, slow)])] == ["lr too low"]
    mixed = [slow[0], slow[1], _layer("[2]", 1.0, parameters={"weight": _weight(0.1, 1e-3)})]
    assert verdicts([EpochDiagnostics(1, 1, 1, mixed)]) == []


def test_saturated_dead_exploding_and_too_high_are_named() -> None:
    first, last = {"weight": _weight(0.1, 0.5)}, {"weight": _weight(0.1, 1e-3)}
    layers = [_layer("[0]", None, parameters=first), _layer("[1]", 1e4, saturated=0.6),
              _layer("[2]", 1e4, dead=0.7), _layer("[3]", 1.0, parameters=last)]  # fmt: skip
    found = {(v.kind, v.layer) for v in verdicts([EpochDiagnostics(1, 1, 1, layers)])}
    assert found == {
        ("exploding", "[0] L"),
        ("saturated", "[1] L"),
        ("dead", "[2] L"),
        ("lr too high", "[0] L"),
    }


def test_a_verdict_that_stopped_holding_is_not_reported() -> None:
    bad = [_layer("[0]", None, dead=0.9)]
    good = [_layer("[0]", None, dead=0.1)]
    assert verdicts([EpochDiagnostics(1, 1, 1, bad), EpochDiagnostics(2, 1, 1, good)]) == []
    assert verdicts([EpochDiagnostics(1, 1, 1, bad), EpochDiagnostics(2, 1, 1, good),
                     EpochDiagnostics(3, 1, 1, bad)])[0].epochs == 1  # fmt: skip


def test_every_must_be_a_positive_int() -> None:
    with pytest.raises(ValueError, match=r"Diagnostics: expected every to be an int >= 1, got 0"):
        Diagnostics(mn.Tanh(), every=0)


# Through the hooks: figures against torch.autograd on the twin, fit, the CLI.


def _mlp(generator: torch.Generator, activation: type[mn.Module] = mn.Tanh) -> mn.Sequential:
    return mn.Sequential(
        mn.Linear(6, 5, generator=generator), activation(), mn.Linear(5, 3, generator=generator)
    )


def test_gradient_and_update_figures_match_autograd_on_the_twin(generator: torch.Generator) -> None:
    model = _mlp(generator)
    twin = to_torch(model)
    x, y = torch.randn(8, 6, generator=generator), torch.randn(8, 3, generator=generator)
    before = {name: p.detach().clone() for name, p in twin.named_parameters()}
    torch.nn.functional.mse_loss(twin(x), y).backward()  # type: ignore[no-untyped-call]  # torch's stub
    diagnostics = Diagnostics(model, every=1)
    optimizer, loss = mn.SGD(model.parameters(), lr=0.1), mn.MSELoss()
    diagnostics.start_step()
    optimizer.zero_grad()
    loss(model(x), y)
    model.accumulate_grad(loss.backward())
    diagnostics.before_update(optimizer.params)
    optimizer.step()
    diagnostics.end_step()
    epoch = diagnostics.end_epoch()
    diagnostics.remove()
    for layer, index in ((epoch.layers[0], 0), (epoch.layers[2], 2)):
        for name in ("weight", "bias"):
            grad = getattr(twin[index], name).grad
            old = before[f"{index}.{name}"]
            stats = layer.parameters[name]
            assert stats.grad_norm == pytest.approx(float(grad.norm()), rel=1e-9)
            assert stats.grad_ratio == pytest.approx(float(grad.norm() / old.norm()), rel=1e-9)
            assert stats.update_ratio == pytest.approx(float(0.1 * grad.norm() / old.norm()), rel=1e-9)
    # The input gradient of the Tanh, d loss / d (first layer's output), as autograd gives it.
    hidden = twin[0](x).detach().requires_grad_()
    torch.nn.functional.mse_loss(twin[2](twin[1](hidden)), y).backward()  # type: ignore[no-untyped-call]
    assert hidden.grad is not None
    assert epoch.layers[1].input_grad_norm == pytest.approx(float(hidden.grad.norm()), rel=1e-9)
    assert epoch.layers[0].input_grad_norm is None  # accumulate_grad computes none
    out = torch.tanh(twin[0](x)).detach()
    assert epoch.layers[1].mean == pytest.approx(float(out.mean()), rel=1e-9)


def _fit(
    model: mn.Sequential, lr: float, diagnostics: bool, epochs: int = 3, **kwargs: object
) -> mn.train.History:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, cast(mn.Linear, model[0]).in_features, generator=g)
    y = torch.randint(0, 3, (64,), generator=g)
    kwargs.setdefault("progress", False)
    return mn.train.fit(
        model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=lr), (x, y), epochs=epochs,
        batch_size=16, generator=torch.Generator().manual_seed(2),
        diagnostics=diagnostics, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def test_diagnostics_leave_training_bit_identical_and_no_attribute_behind() -> None:
    plain, watched = _mlp(torch.Generator().manual_seed(0)), _mlp(torch.Generator().manual_seed(0))
    state = {id(m): set(vars(m)) for m in watched.modules()}
    first, second = _fit(plain, 0.5, False), _fit(watched, 0.5, True)
    assert first.train_loss == second.train_loss
    for a, b in zip(plain.parameters(), watched.parameters(), strict=True):
        assert torch.equal(a.value, b.value)
    assert {id(m): set(vars(m)) for m in watched.modules()} == state
    assert len(second.diagnostics) == 3 and first.diagnostics == []


def test_metrics_lines_carry_the_diagnostics(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    history = _fit(_mlp(torch.Generator().manual_seed(0)), 0.5, True, metrics=metrics)
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert [line["diagnostics"]["layers"][0]["layer"] for line in lines] == [
        "[0] Linear(in_features=6, out_features=5)"
    ] * 3
    assert lines[2]["diagnostics"] == json.loads(json.dumps(history.diagnostics[2]))
    assert lines[0]["diagnostics"]["steps"] == 4


def _found(history: mn.train.History) -> list[tuple[str, str]]:
    """The (kind, layer) of each verdict on the last epoch."""
    verdicts = history.diagnostics[-1]["verdicts"]
    assert isinstance(verdicts, list)
    return [(v["kind"], v["layer"]) for v in verdicts]


def _reference_job() -> tuple[mn.Sequential, mn.train.History]:
    torch.manual_seed(0)
    model = mn.Sequential(mn.Linear(784, 50), mn.Tanh(), mn.Linear(50, 10), mn.Tanh())
    for param in model.parameters():
        mn.init.normal_(param, 0.0, 1e-6)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 784, generator=g)
    y = torch.nn.functional.one_hot(torch.randint(0, 10, (200,), generator=g), 10).double()
    history = mn.train.fit(
        model, mn.MSELoss(reduction="sum"), mn.SGD(model.parameters(), lr=0.1 / 200), (x, y),
        epochs=3, batch_size=0, progress=False, diagnostics=True,
    )  # fmt: skip
    return model, history


def test_the_reference_initialisation_is_diagnosed_vanishing_on_layer_0() -> None:
    _, history = _reference_job()
    found = _found(history)
    assert ("vanishing", "[0] Linear(in_features=784, out_features=50)") in found


def test_a_deep_sigmoid_network_is_diagnosed_vanishing() -> None:
    g = torch.Generator().manual_seed(0)
    layers: list[mn.Module] = [mn.Linear(6, 16, generator=g)]
    for _ in range(8):
        layers += [mn.Sigmoid(), mn.Linear(16, 16, generator=g)]
    layers += [mn.Sigmoid(), mn.Linear(16, 3, generator=g)]
    history = _fit(mn.Sequential(*layers), 0.1, True, epochs=1)
    assert ("vanishing", "[0] Linear(in_features=6, out_features=16)") in _found(history)


def test_relu_with_a_huge_learning_rate_is_diagnosed_dead() -> None:
    x, y, _, _ = load_data(None, normalize=True)  # the 1000 MNIST images shipped with the package
    torch.manual_seed(0)
    model = mn.Sequential(mn.Linear(784, 100), mn.ReLU(), mn.Linear(100, 100), mn.ReLU(), mn.Linear(100, 10))
    data = (x.to(torch.get_default_dtype()), y)
    history = mn.train.fit(
        model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=1.0), data, epochs=2, batch_size=100,
        generator=torch.Generator().manual_seed(2), progress=False, diagnostics=True,
    )  # fmt: skip
    assert history.diagnostics[0]["layers"][1]["dead"] == 0.0  # type: ignore[index]
    assert ("dead", "[1] ReLU()") in _found(history)


def test_a_tiny_learning_rate_is_diagnosed_too_low(capsys: pytest.CaptureFixture[str]) -> None:
    history = _fit(_mlp(torch.Generator().manual_seed(0)), 1e-9, True, progress=None)
    kinds = [kind for kind, _ in _found(history)]
    assert kinds == ["lr too low"]
    hints = [line for line in capsys.readouterr().err.splitlines() if "learning rate too low" in line]
    assert len(hints) == 1 and hints[0].startswith("fit: epoch 1: all layers: no step changes a weight")


def test_cli_diagnose_writes_metrics_and_the_figure(tmp_path: Path) -> None:
    from minitorch_nn.cli import main

    metrics, plot = tmp_path / "m.jsonl", tmp_path / "curves.png"
    status = main(["train", "--preset", "two-layer", "--epochs", "2", "--quiet", "--diagnose",
                   "--metrics", str(metrics), "--plot", str(plot)])  # fmt: skip
    assert status == 0
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert all("diagnostics" in line for line in lines) and len(lines) == 2
    assert (tmp_path / "curves_diagnostics.png").read_bytes()[:4] == b"\x89PNG"


def test_a_run_with_diagnostics_resumes_from_its_metrics_file(tmp_path: Path) -> None:
    metrics, checkpoint = tmp_path / "m.jsonl", tmp_path / "run.safetensors"
    _fit(_mlp(torch.Generator().manual_seed(0)), 0.5, True, epochs=2, metrics=metrics, checkpoint=checkpoint)
    model = _mlp(torch.Generator().manual_seed(5))
    _fit(model, 0.5, True, epochs=3, metrics=metrics, checkpoint=checkpoint, resume=True)
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert "diagnostics" in lines[2]


def test_hooks_are_removed_when_fit_stops_on_a_nan() -> None:
    model = _mlp(torch.Generator().manual_seed(0))
    state = {id(m): set(vars(m)) for m in model.modules()}
    cast(mn.Linear, model[0]).weight.value[0, :2] = torch.tensor([math.inf, -math.inf])
    with pytest.raises(mn.train.NonFiniteError, match="first produced by the forward of Sequential layer"):
        _fit(model, 0.5, True, epochs=1)
    assert {id(m): set(vars(m)) for m in model.modules()} == state


def test_every_k_samples_every_kth_step_and_only_those_are_measured(generator: torch.Generator) -> None:
    model = _mlp(generator)
    diagnostics = Diagnostics(model, every=3)
    x = torch.randn(4, 6, generator=generator)
    for _ in range(7):
        diagnostics.start_step()
        model(x)
        diagnostics.before_update(list(model.parameters()))
        diagnostics.end_step()
    model(x)  # outside a step (an evaluation): not counted
    epoch = diagnostics.end_epoch()
    diagnostics.remove()
    assert (epoch.steps, epoch.sampled, epoch.layers[1].steps) == (7, 3, 3)  # steps 1, 4 and 7


def test_the_default_samples_by_count_and_hooks_only_the_sampled_steps(generator: torch.Generator) -> None:
    """every=20 (the default): steps 1 and 21 of each epoch, whatever the machine; between them no hook
    is left on any module, so an unsampled step runs the code a plain step runs."""
    model = _mlp(generator)
    plain = {id(m): set(vars(m)) for m in model.modules()}
    diagnostics = Diagnostics(model)
    x = torch.randn(4, 6, generator=generator)
    hooked = []
    for _epoch in range(2):
        for _ in range(25):
            diagnostics.start_step()
            hooked.append({id(m): set(vars(m)) for m in model.modules()} != plain)
            model(x)
            diagnostics.before_update(list(model.parameters()))
            diagnostics.end_step()
            assert {id(m): set(vars(m)) for m in model.modules()} == plain
        epoch = diagnostics.end_epoch()
        assert (epoch.steps, epoch.sampled, epoch.layers[1].steps) == (25, 2, 2)
    assert [i % 25 for i, h in enumerate(hooked) if h] == [0, 20, 0, 20]
