"""Parity with torch.nn and torch.optim on torch's own test inputs (``module_db``, ``optim_db``).

Every sample of a module or optimizer that minitorch_nn has runs through both frameworks (see
``tests/parity.py``). A sample either matches torch (outputs, gradients, buffers, trajectories) or is
listed in ``KNOWN_DIFFERENCES`` with the reason, and then must be refused with an error that names
the module: never a silent difference. The same list is in ``docs/coming_from_pytorch.md``.
"""

import re
from pathlib import Path

import pytest
import torch

from tests.parity import (
    ModuleSample,
    OptimizerSample,
    load_databases,
    module_samples,
    optimizer_samples,
    run_module_sample,
    run_optimizer_sample,
)

MODULE_DB, OPTIM_DB, MISSING = load_databases()
if MISSING:
    pytest.skip(MISSING, allow_module_level=True)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "coming_from_pytorch.md"

#: The samples minitorch_nn refuses, each with the one-line reason (also in the docs page).
KNOWN_DIFFERENCES: dict[str, str] = {
    "MaxPool2d/train/return_indices": (
        "forward returns one tensor (the Module contract); the indices of the last forward are "
        "MaxPool2d.indices"
    ),
}

#: The least share of module samples that must pass.
TARGET = 0.95

MODULE_SAMPLES = module_samples(MODULE_DB)
OPTIMIZER_SAMPLES = optimizer_samples(OPTIM_DB)


@pytest.mark.parametrize("sample", MODULE_SAMPLES, ids=lambda s: s.key)
def test_module_sample(sample: ModuleSample) -> None:
    """The sample matches torch, or it is a known difference that is refused with a clear error."""
    reason = KNOWN_DIFFERENCES.get(sample.key)
    if reason is None:
        run_module_sample(sample)
        return
    with pytest.raises((TypeError, ValueError)) as refused:
        run_module_sample(sample)
    assert str(refused.value).startswith(sample.name), str(refused.value)


@pytest.mark.parametrize("sample", OPTIMIZER_SAMPLES, ids=lambda s: s.key)
def test_optimizer_sample(sample: OptimizerSample) -> None:
    """20 steps from one start give torch's trajectory; every optimizer sample passes."""
    run_optimizer_sample(sample)


def test_known_differences_are_samples_and_few() -> None:
    """Each listed difference is a real sample, and the passing share reaches the target."""
    keys = [sample.key for sample in MODULE_SAMPLES]
    assert len(set(keys)) == len(keys)
    assert set(KNOWN_DIFFERENCES) <= set(keys)
    assert 1 - len(KNOWN_DIFFERENCES) / len(keys) >= TARGET
    # the samples of torch's database the suite covers: a shrinking database would hide a regression
    assert len(keys) >= 551
    assert len(OPTIMIZER_SAMPLES) >= 76


def test_docs_list_the_known_differences() -> None:
    """docs/coming_from_pytorch.md lists every known difference with its reason, and no other."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Differences from torch.nn", 1)[1].split("\n## ", 1)[0]
    listed = dict(re.findall(r"^\| `([^`]+)` \| (.+?) \|$", section, flags=re.MULTILINE))
    assert listed == KNOWN_DIFFERENCES


def test_the_harness_notices_a_wrong_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    """A backward pass off by 1 % fails its samples: the comparison is not vacuous."""
    import minitorch_nn

    backward = minitorch_nn.Tanh.backward
    monkeypatch.setattr(minitorch_nn.Tanh, "backward", lambda self, g: backward(self, g) * 1.01)
    sample = next(s for s in MODULE_SAMPLES if s.name == "Tanh")
    with pytest.raises(AssertionError, match="input gradient"):
        run_module_sample(sample)


def test_the_harness_notices_a_wrong_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running statistics that are not updated fail the BatchNorm samples."""
    import minitorch_nn

    sample = next(s for s in MODULE_SAMPLES if s.name == "BatchNorm2d" and s.training)
    forward = minitorch_nn.BatchNorm2d.forward

    def frozen(self: minitorch_nn.BatchNorm2d, input: torch.Tensor) -> torch.Tensor:
        saved = {name: b.value.clone() for name, b in self.named_buffers()}
        output = forward(self, input)
        for name, b in self.named_buffers():
            b.value.copy_(saved[name])
        return output

    monkeypatch.setattr(minitorch_nn.BatchNorm2d, "forward", frozen)
    with pytest.raises(AssertionError, match="buffers after forward"):
        run_module_sample(sample)


def test_the_harness_notices_a_wrong_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """An optimizer step that drops weight decay drifts from torch's trajectory."""
    import minitorch_nn.optim

    sample = next(s for s in OPTIMIZER_SAMPLES if s.key == "SGD/non-zero weight_decay")
    init = minitorch_nn.optim.SGD.__init__

    def no_decay(self: minitorch_nn.optim.SGD, params: object, *args: object, **kwargs: object) -> None:
        kwargs["weight_decay"] = 0.0
        init(self, params, *args, **kwargs)  # type: ignore[arg-type]  # forwarded as given

    monkeypatch.setattr(minitorch_nn.optim.SGD, "__init__", no_decay)
    with pytest.raises(AssertionError, match="after step 1"):
        run_optimizer_sample(sample)
