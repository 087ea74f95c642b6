"""ONNX export (``examples/export_onnx.py``, ``minitorch-nn export``, ``export_onnx``), run by onnxruntime.

The reference for what the ONNX file must compute is plain torch on the
weights (``F.linear`` and ``tanh``, read from the network or the checkpoint
file), never the exported graph or our own forward pass alone. Skipped, with
the reason, where onnx, onnxscript or onnxruntime is not installed.
"""

import importlib.util
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import minitorch_nn as mn
from minitorch_nn.checkpoint import read_checkpoint
from minitorch_nn.cli import main
from minitorch_nn.data import load_data
from minitorch_nn.interop import export_onnx, to_torch
from tests.examples import load_example

for _name in ("onnx", "onnxscript", "onnxruntime"):
    pytest.importorskip(_name, reason=f"{_name} is not installed (pip install 'minitorch_nn[onnx]')")

import onnxruntime  # noqa: E402

ZETA = 0.9  # the two-layer recipe's input scale (examples/two_layer_mnist.py, the CLI's two-layer preset)


@pytest.fixture(autouse=True)
def float32_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The examples and the CLI train in float32, on the split shipped with the package."""
    monkeypatch.delenv("MINITORCH_NN_DATA_DIR", raising=False)
    torch.set_default_dtype(torch.float32)
    yield


def _onnx(path: Path, inputs: torch.Tensor) -> torch.Tensor:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {"input": inputs.numpy()})[0])


def _two_layer(x: torch.Tensor, state: Mapping[str, torch.Tensor]) -> torch.Tensor:
    hidden = torch.tanh(F.linear(x, state["0.weight"], state["0.bias"]))
    return torch.tanh(F.linear(hidden, state["2.weight"], state["2.bias"]))


def _test_images() -> torch.Tensor:
    return load_data(None, one_hot=True, normalize=True)[2] * ZETA


def _assert_same_predictions(onnx_out: torch.Tensor, reference: torch.Tensor) -> None:
    assert onnx_out.shape == reference.shape == (1000, 10)
    assert torch.equal(onnx_out.argmax(dim=1), reference.argmax(dim=1))
    torch.testing.assert_close(onnx_out, reference, rtol=1e-5, atol=1e-6)


def test_example_trains_exports_and_onnxruntime_agrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "two_layer.onnx"
    model, report = load_example("export_onnx").main(["--epochs", "20", "--output", str(path)])
    state = {name: value.clone() for name, value in model.state_dict().items()}
    _assert_same_predictions(_onnx(path, _test_images()), _two_layer(_test_images(), state))
    assert report.samples == report.same_predictions == 1000
    assert 0 <= report.max_abs_difference < 1e-5
    assert "1000 of 1000 predictions identical" in capsys.readouterr().out


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer run of 30 epochs, written by ``minitorch-nn train``."""
    path = tmp_path_factory.mktemp("run") / "run.safetensors"
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    os.environ.pop("MINITORCH_NN_DATA_DIR", None)
    try:
        argv = ["train", "--preset", "two-layer", "--epochs", "30", "--checkpoint", str(path), "--quiet"]
        assert main(argv) == 0
    finally:
        torch.set_default_dtype(previous)
    return path


def test_example_exports_a_checkpoint(checkpoint: Path, tmp_path: Path) -> None:
    path = tmp_path / "from_checkpoint.onnx"
    _, report = load_example("export_onnx").main(["--checkpoint", str(checkpoint), "--output", str(path)])
    assert report.same_predictions == 1000
    _assert_same_predictions(
        _onnx(path, _test_images()), _two_layer(_test_images(), read_checkpoint(checkpoint).model)
    )


def test_cli_export_end_to_end(checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "model.onnx"
    assert main(["export", str(checkpoint), str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: {checkpoint} (epoch 30), input (batch, 784) torch.float32" in out
    assert "onnxruntime on 64 random inputs: max abs difference" in out
    _assert_same_predictions(
        _onnx(path, _test_images()), _two_layer(_test_images(), read_checkpoint(checkpoint).model)
    )


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    return capsys.readouterr().err


def test_cli_export_refuses_an_existing_file_without_overwrite(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"keep me")
    err = _usage_error(["export", str(checkpoint), str(path)], capsys)
    assert f"minitorch-nn export: error: {path} already exists: pass --overwrite to replace it" in err
    assert path.read_bytes() == b"keep me"
    assert main(["export", str(checkpoint), str(path), "--overwrite"]) == 0
    assert _onnx(path, torch.zeros(3, 784)).shape == (3, 10)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("/dev/null", "/dev/null is a character device, not a regular file"),
        ("{tmp}", "expected a file path, got the folder path"),
        ("{tmp}/missing/model.onnx", "its folder {tmp}/missing does not exist"),
        ("{tmp}/model.bin", "expected a .onnx file, got '{tmp}/model.bin'"),
        ("{checkpoint}", "{checkpoint} is the checkpoint to export: give another path"),
        ("{tmp}/link.onnx", "{tmp}/link.onnx is the checkpoint to export: give another path"),
    ],
)
def test_cli_export_refuses_outputs_it_cannot_write(
    output: str, message: str, checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "link.onnx").symlink_to(checkpoint)
    values = {"tmp": str(tmp_path), "checkpoint": str(checkpoint)}
    output = output.format(**values) + ("/" if output == "{tmp}" else "")
    err = _usage_error(["export", str(checkpoint), output], capsys)
    assert message.format(**values) in err
    assert read_checkpoint(checkpoint).epoch == 30


def test_cli_export_of_a_broken_checkpoint_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"junk")
    assert main(["export", str(broken), str(tmp_path / "model.onnx")]) == 1
    assert "minitorch-nn export: error: read_checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "model.onnx").exists()


def test_missing_onnx_is_named(monkeypatch: pytest.MonkeyPatch, checkpoint: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else find_spec(name)
    )
    with pytest.raises(
        ImportError, match=r"^export_onnx needs onnxscript, which is not installed: pip install"
    ):
        export_onnx(mn.Linear(2, 2), tmp_path / "m.onnx", torch.zeros(2, 2))
    err = _usage_error(["export", str(checkpoint), str(tmp_path / "m.onnx")], capsys)
    assert "export needs onnxscript, not installed: pip install 'minitorch_nn[onnx]'" in err


def test_export_onnx_runs_a_cnn_in_eval_mode_at_any_batch_size(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    model = mn.Sequential(
        mn.Conv2d(1, 4, 3, padding=1, generator=g), mn.BatchNorm2d(4), mn.ReLU(), mn.MaxPool2d(2),
        mn.Flatten(), mn.Linear(4 * 4 * 4, 3, generator=g),
    )  # fmt: skip
    model(torch.randn(16, 1, 8, 8, generator=g))  # running statistics away from 0 and 1
    path = tmp_path / "cnn.onnx"
    export_onnx(model, path, torch.zeros(2, 1, 8, 8))
    assert model.training  # not changed
    reference = to_torch(model).eval()
    for batch in (1, 5):
        x = torch.randn(batch, 1, 8, 8, generator=g)
        with torch.no_grad():
            torch.testing.assert_close(_onnx(path, x), reference(x), rtol=1e-5, atol=1e-6)
