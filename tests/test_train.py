"""``minitorch_nn.train``: fit's figures against a hand-written loop, progress, metrics, non-finite stops."""

import io
import json
import math
from pathlib import Path
from typing import Literal

import pytest
import torch
from typing_extensions import override

import minitorch_nn as mn
from minitorch_nn.checkpoint import CheckpointLockedError, OutputPathError, save_checkpoint
from minitorch_nn.data import TensorLoader
from minitorch_nn.train import NonFiniteError, confusion_matrix, evaluate, fit
from tests.run_outputs import locked_by_another_process

Data = tuple[torch.Tensor, torch.Tensor]


def blobs(count: int, seed: int) -> Data:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(count, 4, generator=g)
    return x, (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 0.5).long()


def network(seed: int = 0) -> mn.Sequential:
    g = torch.Generator().manual_seed(seed)
    return mn.Sequential(mn.Linear(4, 8, generator=g), mn.Tanh(), mn.Linear(8, 3, generator=g))


def test_fit_figures_match_a_hand_written_loop() -> None:
    """The reference restates the loop with plain torch ops over the same batches (a ``TensorLoader``
    on an identically seeded generator, tested in test_batches.py): the loss and errors of each
    batch's forward pass before its step, and the test figures after the epoch."""
    train, test = blobs(50, 1), blobs(30, 2)
    model, reference = network(), network()
    history = fit(
        model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.3), train, epochs=3, batch_size=16,
        eval_data=test, generator=torch.Generator().manual_seed(7), progress=False,
    )  # fmt: skip
    optimizer = mn.SGD(reference.parameters(), lr=0.3)
    loader = TensorLoader(*train, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(7))
    loss = mn.CrossEntropyLoss()
    for record in history:
        total, wrong = 0.0, 0
        for x, y in loader:
            optimizer.zero_grad()
            output = reference(x)
            value = torch.nn.functional.cross_entropy(output, y)
            total, wrong = total + value.item() * len(y), wrong + int((output.argmax(1) != y).sum())
            loss(output, y)
            reference.accumulate_grad(loss.backward())
            optimizer.step()
        test_output = reference(test[0])
        assert record.train_loss == pytest.approx(total / 50, rel=1e-12)
        assert record.train_error == wrong / 50
        assert record.eval_error == float((test_output.argmax(1) != test[1]).double().mean())
        assert record.eval_loss == pytest.approx(
            torch.nn.functional.cross_entropy(test_output, test[1]).item()
        )
        assert record.lr == 0.3


def test_full_batch_uses_the_data_in_order_and_one_step_per_epoch() -> None:
    """Row i of the loss weighs i + 1, so a full batch in any other order (fit shuffles by default)
    gives other losses and other steps than the hand-written loop over the data in order, whose
    loss gradient torch.autograd computes."""

    class RowWeighted(mn.Loss):
        """sum_i (i + 1) * ||input_i - target_i||^2 / N."""

        def __init__(self) -> None:
            super().__init__()
            self._grad: torch.Tensor | None = None

        @override
        def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            weights = torch.arange(1, len(input) + 1, dtype=input.dtype).unsqueeze(1)
            self._grad = 2 * weights * (input - target) / len(input)
            return (weights * (input - target) ** 2).sum() / len(input)

        @override
        def backward(self, grad_output: torch.Tensor | None = None) -> torch.Tensor:
            grad = self._cached(self._grad)
            return grad if grad_output is None else grad * grad_output

    x, labels = blobs(20, 3)
    target = torch.nn.functional.one_hot(labels, 3).to(x.dtype)
    model, reference = network(), network()
    optimizer = mn.SGD(model.parameters(), lr=0.1)
    history = fit(model, RowWeighted(), optimizer, (x, target), epochs=2, batch_size=0, progress=False)
    assert optimizer.num_steps == 2 and len(history) == 2

    reference_optimizer, weights, losses = mn.SGD(reference.parameters(), lr=0.1), torch.arange(1.0, 21.0), []
    for _ in range(2):
        reference_optimizer.zero_grad()
        output = reference(x).requires_grad_()
        with torch.enable_grad():
            loss = (weights.unsqueeze(1) * (output - target) ** 2).sum() / 20
            (grad,) = torch.autograd.grad(loss, output)
        reference.accumulate_grad(grad)
        reference_optimizer.step()
        losses.append(loss.item())
    assert history.train_loss == pytest.approx(losses, rel=1e-12)
    for (name, ours), theirs in zip(model.named_parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(ours.value, theirs.value, rtol=1e-12, atol=1e-12, msg=name)


def test_scheduler_steps_once_per_epoch_and_records_the_epochs_lr() -> None:
    model = network()
    optimizer = mn.SGD(model.parameters(), lr=0.4)
    scheduler = mn.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(
        model, mn.CrossEntropyLoss(), optimizer, blobs(20, 1), epochs=3, batch_size=10, scheduler=scheduler,
        progress=False,
    )  # fmt: skip
    assert [r.lr for r in history] == [0.4, 0.2, 0.1]
    assert optimizer.lr == 0.05


def test_metrics_file_holds_one_json_line_per_epoch(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    model = network()
    history = fit(
        model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1), blobs(20, 1), epochs=3,
        batch_size=8, eval_data=blobs(10, 2), metrics=path, progress=False,
    )  # fmt: skip
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert [line["train_loss"] for line in lines] == history.train_loss  # floats read back bit for bit
    assert [line["eval_error"] for line in lines] == history.eval_error


def test_progress_bars_show_loss_and_error_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    model = network()
    fit(
        model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1), blobs(200, 1), epochs=2,
        batch_size=2, eval_data=blobs(10, 2), progress=True,
    )  # fmt: skip
    err = capsys.readouterr().err
    assert "epochs: 100%" in err and "2/2" in err
    assert "loss=" in err and "eval_error=" in err
    assert "epoch 1:" in err  # the batch bar of a long epoch (100 batches)


def test_progress_is_quiet_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    model = network()
    fit(
        model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1), blobs(20, 1), epochs=2, batch_size=5
    )
    assert capsys.readouterr() == ("", "")


class PoisonedBackward(mn.Module):
    """The identity, whose backward returns NaN from the ``at``-th call on."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.calls = at, 0

    @override
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input

    @override
    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return grad_output * math.nan if self.calls >= self.at else grad_output.clone()

    @override
    def accumulate_grad(self, grad_output: torch.Tensor) -> None:
        self.backward(grad_output)


def test_nan_gradient_names_epoch_batch_and_module_and_keeps_the_checkpoint(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    poison = PoisonedBackward(at=4 + 2)  # epoch 1 has 4 batches; the 2nd batch of epoch 2 fails
    model = mn.Sequential(mn.Linear(4, 8, generator=g), mn.Tanh(), poison, mn.Linear(8, 3, generator=g))
    path = tmp_path / "run.safetensors"
    optimizer = mn.SGD(model.parameters(), lr=0.1)
    saved: list[bytes] = []
    with pytest.raises(NonFiniteError) as caught:
        fit(
            model, mn.CrossEntropyLoss(), optimizer, blobs(16, 1), epochs=3, batch_size=4, checkpoint=path,
            progress=False, on_epoch_end=lambda _: saved.append(path.read_bytes()),
        )  # fmt: skip
    error = caught.value
    assert (error.epoch, error.batch) == (2, 2)
    assert "the backward of Sequential layer [2] PoisonedBackward() (its input gradient)" in str(error)
    assert str(error).startswith("fit: non-finite gradient at epoch 2, batch 2;")
    assert optimizer.num_steps == 5  # no step with the bad gradient
    assert path.read_bytes() == saved[-1]  # the checkpoint of epoch 1, untouched


def test_nan_in_a_parameter_gradient_names_the_parameter() -> None:
    model = network()
    loss = mn.CrossEntropyLoss()
    last = model[2]
    assert isinstance(last, mn.Linear) and last.bias is not None
    last.bias.value.fill_(math.inf)  # the loss is NaN: the first forward that produces it is named
    with pytest.raises(NonFiniteError, match=r"epoch 1, batch 1; first produced by the forward of Sequential "
                       r"layer \[2\] Linear\(in_features=8, out_features=3\)"):  # fmt: skip
        fit(
            model,
            loss,
            mn.SGD(model.parameters(), lr=0.1),
            blobs(8, 1),
            epochs=1,
            batch_size=8,
            progress=False,
        )


def test_evaluate_and_confusion_matrix_against_hand_counts() -> None:
    model = network()
    x, y = blobs(40, 5)
    output = model(x)
    predicted = output.argmax(1)
    result = evaluate(model, mn.CrossEntropyLoss(), (x, y), batch_size=7)
    assert result.error == float((predicted != y).double().mean())
    assert result.loss == pytest.approx(torch.nn.functional.cross_entropy(output, y).item(), rel=1e-12)
    matrix = confusion_matrix(model, (x, y), 3, batch_size=7)
    for true in range(3):
        for guess in range(3):
            assert int(matrix[true, guess]) == int(((y == true) & (predicted == guess)).sum())


def test_evaluate_restores_the_training_mode() -> None:
    model = mn.Sequential(mn.Linear(4, 3), mn.Dropout(0.5))
    evaluate(model, mn.CrossEntropyLoss(), blobs(8, 1))
    assert model.training and model[1].training


def test_one_hot_targets_count_errors_by_arg_max() -> None:
    model = network()
    x, y = blobs(30, 2)
    one_hot = torch.nn.functional.one_hot(y, 3).double() * 0.9
    assert (
        evaluate(model, mn.MSELoss(), (x, one_hot)).error
        == evaluate(model, mn.CrossEntropyLoss(), (x, y)).error
    )


def test_resume_needs_an_existing_checkpoint_within_epochs(tmp_path: Path) -> None:
    model = network()
    optimizer = mn.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="fit: resume=True needs checkpoint=<the file to resume from>"):
        fit(model, mn.CrossEntropyLoss(), optimizer, blobs(8, 1), epochs=1, batch_size=4, resume=True)
    path = tmp_path / "run.safetensors"
    with pytest.raises(FileNotFoundError, match="fit: resume=True, but there is no checkpoint at"):
        fit(
            model, mn.CrossEntropyLoss(), optimizer, blobs(8, 1), epochs=1, batch_size=4, checkpoint=path,
            resume=True,
        )  # fmt: skip
    fit(model, mn.CrossEntropyLoss(), optimizer, blobs(8, 1), epochs=3, batch_size=4, checkpoint=path)
    with pytest.raises(ValueError, match=r"fit: the checkpoint has 3 epochs already, more than epochs=2"):
        fit(
            model, mn.CrossEntropyLoss(), optimizer, blobs(8, 1), epochs=2, batch_size=4, checkpoint=path,
            resume=True,
        )  # fmt: skip


def test_plot_history_writes_a_png(tmp_path: Path) -> None:
    from minitorch_nn.plot import plot_history

    model = network()
    history = fit(
        model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1), blobs(20, 1), epochs=2,
        batch_size=5, eval_data=blobs(10, 2),
    )  # fmt: skip
    path = tmp_path / "curves.png"
    plot_history(history, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_metrics_to_an_open_stream() -> None:
    stream = io.StringIO()
    model = network()
    fit(model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1), blobs(8, 1), epochs=2, batch_size=4,
        metrics=stream)  # fmt: skip
    assert len(stream.getvalue().splitlines()) == 2


def test_save_checkpoint_metadata_must_be_json(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        save_checkpoint(tmp_path / "x.safetensors", network(), metadata={"bad": object()})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_evaluate_pools_the_loss_as_its_reduction_does_for_every_batch_size(
    reduction: Literal["mean", "sum"],
) -> None:
    """The reference: torch's cross-entropy of all the samples at once, under the same reduction."""
    g = torch.Generator().manual_seed(0)
    model = mn.Sequential(mn.Linear(4, 8, generator=g), mn.Tanh(), mn.Linear(8, 3, generator=g))
    x, y = torch.randn(100, 4, generator=g), torch.randint(0, 3, (100,), generator=g)
    logits = model(x)
    expected = float(torch.nn.functional.cross_entropy(logits, y, reduction=reduction))
    for batch_size in (0, 7, 10, 100):
        got = evaluate(model, mn.CrossEntropyLoss(reduction=reduction), (x, y), batch_size=batch_size)
        assert got.loss == pytest.approx(expected, rel=1e-12)


def test_an_epochs_summed_loss_is_the_sum_over_its_samples() -> None:
    """With reduction="sum" and mini-batches, train_loss is the sum of the batches' sums, each taken
    before its batch's step (worked out with a plain loop over the same batches and steps)."""
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(40, 3, generator=g), torch.randint(0, 2, (40,), generator=g)
    model, reference = (
        mn.Sequential(mn.Linear(3, 2, generator=torch.Generator().manual_seed(2))) for _ in "ab"
    )
    history = fit(
        model, mn.CrossEntropyLoss(reduction="sum"), mn.SGD(model.parameters(), lr=0.01), (x, y),
        epochs=1, batch_size=10, shuffle=False,
    )  # fmt: skip
    total, loss, optimizer = (
        0.0,
        mn.CrossEntropyLoss(reduction="sum"),
        mn.SGD(reference.parameters(), lr=0.01),
    )
    for start in range(0, 40, 10):
        optimizer.zero_grad()
        total += float(
            torch.nn.functional.cross_entropy(
                reference(x[start : start + 10]), y[start : start + 10], reduction="sum"
            )
        )
        loss(reference(x[start : start + 10]), y[start : start + 10])
        reference.accumulate_grad(loss.backward())
        optimizer.step()
    assert history[0].train_loss == pytest.approx(total, rel=1e-12)


def test_fit_refuses_a_checkpoint_another_process_is_writing(tmp_path: Path) -> None:
    """fit holds the checkpoint's lock itself, so a library user gets the protection the CLI has."""
    path = tmp_path / "run.safetensors"
    model = mn.Sequential(mn.Linear(2, 2))
    data = (torch.randn(8, 2), torch.tensor([0, 1] * 4))
    with locked_by_another_process(path) as pid:
        with pytest.raises(CheckpointLockedError, match=f"process {pid}"):
            fit(model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1), data, epochs=1,
                batch_size=4, checkpoint=path)  # fmt: skip
        assert not path.exists()
    fit(model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1), data, epochs=1, batch_size=4,
        checkpoint=path)  # fmt: skip
    assert path.is_file()


@pytest.mark.parametrize("argument", ["checkpoint", "metrics"])
def test_fit_refuses_a_folder_as_an_output_before_the_first_epoch(tmp_path: Path, argument: str) -> None:
    model = mn.Sequential(mn.Linear(2, 2))
    linear = model[0]
    assert isinstance(linear, mn.Linear)
    before = linear.weight.value.clone()
    outputs = {"checkpoint": tmp_path if argument == "checkpoint" else None}
    with pytest.raises(OutputPathError, match=f"fit: {argument}: .* is a folder"):
        fit(
            model, mn.CrossEntropyLoss(), mn.SGD(model.parameters(), lr=0.1),
            (torch.randn(8, 2), torch.tensor([0, 1] * 4)), epochs=3, batch_size=4,
            checkpoint=outputs["checkpoint"], metrics=tmp_path if argument == "metrics" else None,
        )  # fmt: skip
    assert torch.equal(linear.weight.value, before)  # no epoch trained
