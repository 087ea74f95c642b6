"""Bad inputs across the API and the command line: each gives the right error type and a helpful message.

Four tables, one per category:

- in-memory API calls (wrong shapes at every layer, integer and mismatched dtypes, a tensor on
  another device, NaN/Inf inputs, class targets out of range, bad learning rates, empty data sets,
  bad batch sizes, a missing data folder): the exact exception type and a message naming the
  module (its repr) or the function, with the expected and the actual value;
- broken MNIST IDX files on disk (garbage gzip, truncated gzip, a wrong magic number): a
  ``ValueError`` from ``load_data`` naming the folder it read;
- checkpoints that do not fit (another architecture, not safetensors, truncated): a
  ``CheckpointError``, with neither the file nor the target model changed;
- command-line usage errors: ``SystemExit(2)`` with the one-line message on stderr, no traceback.
"""

import gzip
import re
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import safetensors.torch
import torch

import minitorch_nn as mn
from minitorch_nn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minitorch_nn.cli import main
from minitorch_nn.data import DATA_DIR_ENV, TensorLoader, load_data
from minitorch_nn.train import fit

LINEAR = "Linear(in_features=4, out_features=3)"
CONV = "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))"
BATCHNORM = "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
CROSS_ENTROPY = "CrossEntropyLoss(reduction='mean')"
NEEDS_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def no_data_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data set the tests see does not depend on the environment."""
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def _fit(input: torch.Tensor, target: torch.Tensor, *, batch_size: int = 4, epochs: int = 1) -> object:
    """One epoch of ``fit`` on a 3-class linear model, without progress bars."""
    model = mn.Sequential(mn.Linear(input.shape[-1] if input.dim() else 1, 3))
    optimizer = mn.SGD(model.parameters(), lr=0.1)
    return fit(
        model,
        mn.CrossEntropyLoss(),
        optimizer,
        (input, target),
        epochs=epochs,
        batch_size=batch_size,
        progress=False,
    )


def _with(value: float, sample: int, feature: int) -> torch.Tensor:
    """Eight samples of two zero features, one of them set to ``value``."""
    input = torch.zeros(8, 2)
    input[sample, feature] = value
    return input


def _labels(count: int) -> torch.Tensor:
    return torch.zeros(count, dtype=torch.int64)


def _params() -> list[mn.Parameter]:
    return list(mn.Linear(2, 2).parameters())


API_CASES: list[tuple[Callable[[], object], type[Exception], str]] = [
    # Wrong shapes, layer by layer.
    (
        lambda: mn.Linear(4, 3)(torch.zeros(2, 5)),
        ValueError,
        f"{LINEAR}: expected input of shape (*, 4), got (2, 5)",
    ),
    (
        lambda: mn.Conv2d(1, 2, 3)(torch.zeros(2, 3, 8, 8)),
        ValueError,
        f"{CONV}: expected input of shape (N, 1, H, W) or (1, H, W), got (2, 3, 8, 8)",
    ),
    (
        lambda: mn.Conv2d(1, 2, 3)(torch.zeros(8, 8)),
        ValueError,
        f"{CONV}: expected input of shape (N, 1, H, W) or (1, H, W), got (8, 8)",
    ),
    (
        lambda: mn.BatchNorm1d(4)(torch.zeros(4)),
        ValueError,
        f"{BATCHNORM}: expected input of shape (N, 4) or (N, 4, L), got (4,)",
    ),
    (
        lambda: mn.MaxPool2d(2)(torch.zeros(1, 1, 1, 4)),
        ValueError,
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False): "
        "expected input of shape (N, C, H, W) or (C, H, W) with C >= 1 and H, W >= (2, 2), got (1, 1, 1, 4)",
    ),
    (
        lambda: mn.AvgPool2d(2)(torch.zeros(4, 4)),
        ValueError,
        "AvgPool2d(kernel_size=2, stride=2, padding=0): "
        "expected input of shape (N, C, H, W) or (C, H, W) with C >= 1 and H, W >= (2, 2), got (4, 4)",
    ),
    (
        lambda: mn.Softmax(dim=1)(torch.zeros(3)),
        ValueError,
        "Softmax(dim=1): expected input with dimension 1, got shape (3,)",
    ),
    (
        lambda: mn.LogSoftmax(dim=-2)(torch.zeros(3)),
        ValueError,
        "LogSoftmax(dim=-2): expected input with dimension -2, got shape (3,)",
    ),
    (
        lambda: mn.Flatten()(torch.zeros(3)),
        ValueError,
        "Flatten(start_dim=1, end_dim=-1): cannot flatten input of shape (3,)",
    ),
    (
        lambda: mn.MSELoss()(torch.zeros(4, 10), torch.zeros(10, 4)),
        ValueError,
        "MSELoss(reduction='mean'): expected target of shape (4, 10) (the input's), got (10, 4)",
    ),
    (
        lambda: mn.CrossEntropyLoss()(torch.zeros(3), _labels(3)),
        ValueError,
        f"{CROSS_ENTROPY}: expected int64 class-index target of shape (), got torch.int64 of shape (3,)",
    ),
    (
        lambda: mn.Sequential(mn.Linear(4, 3), mn.ReLU(), mn.Linear(4, 2))(torch.zeros(2, 4)),
        ValueError,
        "Linear(in_features=4, out_features=2): expected input of shape (*, 4), got (2, 3)",
    ),
    # Dtypes: an integer input, and float32 data into a float64 model.
    (
        lambda: mn.Linear(4, 3)(torch.zeros(2, 4, dtype=torch.int64)),
        TypeError,
        f"{LINEAR}: expected a floating-point input, got torch.int64",
    ),
    (
        lambda: mn.Linear(4, 3)(torch.zeros(2, 4, dtype=torch.float32)),
        TypeError,
        f"{LINEAR}: expected input of dtype torch.float64, got torch.float32",
    ),
    (
        lambda: mn.Conv2d(1, 2, 3)(torch.zeros(2, 1, 8, 8, dtype=torch.float32)),
        TypeError,
        f"{CONV}: expected input of dtype torch.float64, got torch.float32",
    ),
    (
        lambda: mn.BatchNorm1d(4)(torch.zeros(2, 4, dtype=torch.float32)),
        TypeError,
        f"{BATCHNORM}: expected input of dtype torch.float64, got torch.float32",
    ),
    # Devices.
    pytest.param(  # type: ignore[list-item]  # a row with a mark
        lambda: mn.Linear(4, 3)(torch.zeros(2, 4, device="cuda")),
        ValueError,
        f"{LINEAR}: expected input on device cpu, got cuda:0",
        marks=NEEDS_CUDA,
        id="linear-cpu-cuda-input",
    ),
    # NaN or Inf in the data.
    (
        lambda: _fit(_with(float("nan"), 3, 1), _labels(8)),
        ValueError,
        "fit: train_data input contains NaN or Inf (first in sample 3)",
    ),
    (
        lambda: _fit(_with(float("-inf"), 5, 0), _labels(8)),
        ValueError,
        "fit: train_data input contains NaN or Inf (first in sample 5)",
    ),
    # Class targets out of range.
    (
        lambda: mn.CrossEntropyLoss()(torch.zeros(3, 3), torch.tensor([2, 3, 1])),
        ValueError,
        f"{CROSS_ENTROPY}: expected class indices in [0, 3), got values in [1, 3]",
    ),
    (
        lambda: mn.CrossEntropyLoss()(torch.zeros(2, 3), torch.tensor([-1, 0])),
        ValueError,
        f"{CROSS_ENTROPY}: expected class indices in [0, 3), got values in [-1, 0]",
    ),
    # Learning rates.
    (
        lambda: mn.SGD(_params(), lr=-0.1),
        ValueError,
        "SGD: expected lr to be a finite number >= 0, got -0.1",
    ),
    (
        lambda: mn.SGD(_params(), lr=float("nan")),
        ValueError,
        "SGD: expected lr to be a finite number >= 0, got nan",
    ),
    (
        lambda: mn.Adam(_params(), lr=-1e-3),
        ValueError,
        "Adam: expected lr to be a finite number >= 0, got -0.001",
    ),
    (
        lambda: mn.Adam(_params(), lr=float("nan")),
        ValueError,
        "Adam: expected lr to be a finite number >= 0, got nan",
    ),
    # Empty data sets and bad counts.
    (
        lambda: _fit(torch.zeros(0, 2), _labels(0)),
        ValueError,
        "fit: expected a non-empty train_data, got 0 samples",
    ),
    (
        lambda: _fit(torch.zeros(8, 2), _labels(7)),
        ValueError,
        "fit: expected train_data input and target with the same first dimension, got (8, 2) and (7,)",
    ),
    (
        lambda: _fit(torch.zeros(8, 2), _labels(8), batch_size=-1),
        ValueError,
        "fit: expected batch_size to be an int >= 0, got -1",
    ),
    (
        lambda: _fit(torch.zeros(8, 2), _labels(8), epochs=-2),
        ValueError,
        "fit: expected epochs to be an int >= 0, got -2",
    ),
    (
        lambda: TensorLoader(torch.zeros(8, 2), _labels(8), batch_size=-1),
        ValueError,
        "TensorLoader: expected batch_size to be an int >= 1, got -1",
    ),
    (
        lambda: TensorLoader(torch.zeros(8, 2), _labels(8), batch_size=0),
        ValueError,
        "TensorLoader: expected batch_size to be an int >= 1, got 0",
    ),
    # A missing data folder: the message says where it looked.
    (
        lambda: load_data("/nonexistent"),
        FileNotFoundError,
        "load_data: no mnist data: looked in /nonexistent, /nonexistent/MNIST/raw, /nonexistent/mnist",
    ),
]
API_IDS = [
    "linear-features",
    "conv-channels",
    "conv-rank",
    "batchnorm-rank",
    "maxpool-too-small",
    "avgpool-rank",
    "softmax-dim",
    "logsoftmax-dim",
    "flatten-1d",
    "mse-target-shape",
    "cross-entropy-logits-rank",
    "sequential-inner-layer",
    "linear-int64-input",
    "linear-float32-into-float64",
    "conv-float32-into-float64",
    "batchnorm-float32-into-float64",
    "linear-cpu-cuda-input",
    "fit-nan-input",
    "fit-inf-input",
    "cross-entropy-target-too-large",
    "cross-entropy-target-negative",
    "sgd-negative-lr",
    "sgd-nan-lr",
    "adam-negative-lr",
    "adam-nan-lr",
    "fit-empty-data",
    "fit-target-count",
    "fit-negative-batch-size",
    "fit-negative-epochs",
    "loader-negative-batch-size",
    "loader-zero-batch-size",
    "load-data-missing-folder",
]


@pytest.mark.parametrize(("build_and_call", "error_type", "message"), API_CASES, ids=API_IDS)
def test_api_bad_input(
    build_and_call: Callable[[], object], error_type: type[Exception], message: str
) -> None:
    with pytest.raises(error_type, match=re.escape(message)) as excinfo:
        build_and_call()
    assert type(excinfo.value) is error_type


def test_sequential_names_the_failing_layer() -> None:
    model = mn.Sequential(mn.Linear(4, 3), mn.ReLU(), mn.Linear(4, 2))
    with pytest.raises(ValueError, match=re.escape("expected input of shape (*, 4), got (2, 3)")) as excinfo:
        model(torch.zeros(2, 4))
    assert excinfo.value.__notes__ == ["in Sequential layer [2]"]


# --- Broken MNIST files ------------------------------------------------------------------------------

IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _write_idx(folder: Path, count: int = 20, image_magic: int = 2051, label_magic: int = 2049) -> None:
    """The four MNIST files, gzipped, with ``count`` random 28x28 images each (as in test_examples)."""
    g = torch.Generator().manual_seed(0)
    for prefix in ("train", "t10k"):
        images = torch.randint(0, 256, (count, 28, 28), generator=g, dtype=torch.uint8)
        labels = torch.randint(0, 10, (count,), generator=g, dtype=torch.uint8)
        header = struct.pack(">IIII", image_magic, count, 28, 28)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(header + images.numpy().tobytes())
        )
        header = struct.pack(">II", label_magic, count)
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(header + labels.numpy().tobytes())
        )


def _garbage_images(folder: Path) -> None:
    _write_idx(folder)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b but not gzip after all")


def _truncated_images(folder: Path) -> None:
    _write_idx(folder)
    path = folder / "train-images-idx3-ubyte.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _short_images(folder: Path) -> None:
    """A valid gzip stream whose IDX content stops 100 pixels early."""
    _write_idx(folder)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-100]))


def _images_magic_2049(folder: Path) -> None:
    _write_idx(folder, image_magic=2049)


def _labels_magic_2051(folder: Path) -> None:
    _write_idx(folder, label_magic=2051)


DATA_CASES: list[tuple[Callable[[Path], None], str]] = [
    (_garbage_images, "load_data: could not read the mnist files in {folder}"),
    (_truncated_images, "load_data: could not read the mnist files in {folder}"),
    (
        _short_images,
        "load_data: {folder}/train-images-idx3-ubyte.gz is not an MNIST-format IDX image file: "
        "its header announces 20 items (15696 bytes), but it has 15596",
    ),
    (
        _images_magic_2049,
        "load_data: {folder}/train-images-idx3-ubyte.gz is not an MNIST-format IDX image file: "
        "expected magic number 2051, got 2049",
    ),
    (
        _labels_magic_2051,
        "load_data: {folder}/train-labels-idx1-ubyte.gz is not an MNIST-format IDX label file: "
        "expected magic number 2049, got 2051",
    ),
]


@pytest.mark.parametrize(
    ("corrupt", "message"),
    DATA_CASES,
    ids=["garbage-gz", "truncated-gz", "short-idx", "images-magic-2049", "labels-magic-2051"],
)
def test_broken_idx_files(tmp_path: Path, corrupt: Callable[[Path], None], message: str) -> None:
    corrupt(tmp_path)
    with pytest.raises(ValueError, match=re.escape(message.format(folder=tmp_path))) as excinfo:
        load_data(tmp_path)
    assert type(excinfo.value) is ValueError


def test_valid_idx_files_load(tmp_path: Path) -> None:
    """The helper writes files that load, so the rows above fail for the corruption alone."""
    _write_idx(tmp_path)
    assert load_data(tmp_path).train_input.shape == (20, 784)


# --- Checkpoints that do not fit ---------------------------------------------------------------------


def _save_linear_4_3(path: Path) -> None:
    save_checkpoint(path, mn.Sequential(mn.Linear(4, 3)))


def _not_safetensors(path: Path) -> None:
    path.write_bytes(b"hello world, not a checkpoint")


def _truncated_checkpoint(path: Path) -> None:
    _save_linear_4_3(path)
    path.write_bytes(path.read_bytes()[:-10])


def _empty_file(path: Path) -> None:
    path.write_bytes(b"")


def _plain_safetensors(path: Path) -> None:
    path.write_bytes(safetensors.torch.save({"weight": torch.zeros(3, 4)}))


CHECKPOINT_CASES: list[tuple[Callable[[Path], None], Callable[[], mn.Module], str]] = [
    (
        _save_linear_4_3,
        lambda: mn.Sequential(mn.Linear(5, 3)),
        "load_checkpoint: {path}: the checkpoint does not fit Sequential\n"
        "  shape mismatch for 0.weight: expected (3, 5), got (3, 4)",
    ),
    (
        _save_linear_4_3,
        lambda: mn.Sequential(mn.Linear(4, 3), mn.ReLU(), mn.Linear(3, 2)),
        "load_checkpoint: {path}: the checkpoint does not fit Sequential\n"
        "  missing key: 2.weight\n  missing key: 2.bias",
    ),
    (
        _not_safetensors,
        lambda: mn.Sequential(mn.Linear(4, 3)),
        "read_checkpoint: {path}: not a safetensors file, or truncated: its header claims",
    ),
    (
        _truncated_checkpoint,
        lambda: mn.Sequential(mn.Linear(4, 3)),
        "read_checkpoint: {path}: truncated: its tensors need",
    ),
    (
        _empty_file,
        lambda: mn.Sequential(mn.Linear(4, 3)),
        "read_checkpoint: {path}: not a safetensors file (0 bytes, less than its 8-byte header)",
    ),
    (
        _plain_safetensors,
        lambda: mn.Sequential(mn.Linear(4, 3)),
        "read_checkpoint: {path}: a safetensors file, but not a minitorch_nn checkpoint "
        "(expected metadata format 'minitorch_nn.checkpoint/2', got None)",
    ),
]


@pytest.mark.parametrize(
    ("write", "build_target", "message"),
    CHECKPOINT_CASES,
    ids=[
        "other-architecture",
        "missing-layer",
        "not-safetensors",
        "truncated",
        "empty-file",
        "safetensors-not-checkpoint",
    ],
)
def test_checkpoint_that_does_not_fit(
    tmp_path: Path, write: Callable[[Path], None], build_target: Callable[[], mn.Module], message: str
) -> None:
    path = tmp_path / "run.safetensors"
    write(path)
    before = path.read_bytes()
    target = build_target()
    params = {name: tensor.clone() for name, tensor in target.state_dict().items()}
    with pytest.raises(CheckpointError, match=re.escape(message.format(path=path))):
        load_checkpoint(path, target)
    assert path.read_bytes() == before
    after = target.state_dict()
    assert after.keys() == params.keys()
    assert all(torch.equal(after[name], value) for name, value in params.items())


# --- The command line ------------------------------------------------------------------------------

F32 = "<= 3.403e+38 (the float32 range)"

CLI_CASES: list[tuple[list[str], str]] = [
    (["train", "--data-dir", "/nonexistent"], "argument --data-dir: no such folder: /nonexistent"),
    (
        ["train", "--dataset", "fashion-mnist", "--data-dir", "{tmp}"],
        "no fashion-mnist files in {tmp}: pass --data-dir DIR, a folder with the four original .gz files",
    ),
    (["train", "--activation", "swish"], "argument --activation: invalid choice: 'swish'"),
    (
        ["train", "--layers", "784,x,10"],
        "argument --layers: expected two or more comma-separated sizes >= 1, "
        "such as 784,256,10, got '784,x,10'",
    ),
    (
        ["train", "--layers", "784"],
        "argument --layers: expected two or more comma-separated sizes >= 1, such as 784,256,10, got '784'",
    ),
    (
        ["train", "--layers", "784,0,10"],
        "argument --layers: expected two or more comma-separated sizes >= 1, "
        "such as 784,256,10, got '784,0,10'",
    ),
    (["train", "--lr", "-1"], f"argument --lr: expected a finite number >= 0 and {F32}, got '-1'"),
    (["train", "--lr", "nan"], f"argument --lr: expected a finite number >= 0 and {F32}, got 'nan'"),
    (["train", "--lr", "1e39"], f"argument --lr: expected a finite number >= 0 and {F32}, got '1e39'"),
    (
        ["train", "--weight-decay", "1e300"],
        f"argument --weight-decay: expected a finite number >= 0 and {F32}, got '1e300'",
    ),
    (["train", "--batch-size", "-5"], "argument --batch-size: expected an integer >= 0 and < 2^63, got '-5'"),
    (
        ["evaluate", "{tmp}/existing.safetensors", "--batch-size", "-5"],
        "argument --batch-size: expected an integer >= 0 and < 2^63, got '-5'",
    ),
    (["train", "--seed", "1e23"], "argument --seed: expected an integer >= 0 and < 2^63, got '1e23'"),
    (
        ["train", "--batch-size", str(2**63)],
        f"argument --batch-size: expected an integer >= 0 and < 2^63, got '{2**63}'",
    ),
    (
        ["evaluate", "{tmp}/existing.safetensors", "--batch-size", str(10**20)],
        f"argument --batch-size: expected an integer >= 0 and < 2^63, got '{10**20}'",
    ),
    (["train", "--checkpoint", "{tmp}/new.safetensors/"], "expected a file path, got the folder path"),
    (["train", "--checkpoint", "{tmp}/" + "b" * 246 + ".st"], "its name is too long: the temporary files"),
    (
        ["train", "--seed", str(10**23)],
        f"argument --seed: expected an integer >= 0 and < 2^63, got '{10**23}'",
    ),
    (["train", "--step-size", "0"], "argument --step-size: expected an integer >= 1, got '0'"),
    (["train", "--t-max", "0"], "argument --t-max: expected an integer >= 1, got '0'"),
    (
        ["train", "--scheduler", "step", "--gamma", "0"],
        "argument --gamma: expected a finite number > 0 and < 1, got '0'",
    ),
    (["train", "--gamma", "0.5"], "--gamma applies to --scheduler step, got --scheduler none"),
    (["train", "--step-size", "3"], "--step-size applies to --scheduler step, got --scheduler none"),
    (
        ["train", "--scheduler", "cosine", "--step-size", "3"],
        "--step-size applies to --scheduler step, got --scheduler cosine",
    ),
    (["train", "--t-max", "5"], "--t-max applies to --scheduler cosine, got --scheduler none"),
    (
        ["train", "--scheduler", "cosine", "--epochs", "0"],
        "--scheduler cosine needs --t-max N, or --epochs N >= 1 as its default",
    ),
    (
        ["train", "--dataset", "disk", "--layers", "2,100000000000,2"],
        "NetworkSpec(layers=(2, 100000000000, 2)): its 500000000002 parameters need",
    ),
    (["train", "--plot", "{tmp}/out.txt"], "--plot: expected a .png file, got '{tmp}/out.txt'"),
    (["train", "--plot", ""], "argument --plot: expected a file path, got ''"),
    (["train", "--metrics", ""], "argument --metrics: expected a file path, got ''"),
    (["train", "--checkpoint", " "], "argument --checkpoint: expected a file path, got ' '"),
    (
        ["evaluate", "{tmp}/existing.safetensors", "--confusion", "{tmp}/x.txt"],
        "--confusion: expected a .png file, got '{tmp}/x.txt'",
    ),
    (
        ["evaluate", "{tmp}/existing.safetensors", "--confusion", "{tmp}/existing.safetensors"],
        "--confusion: expected a .png file",
    ),
    (
        ["train", "--checkpoint", "{tmp}/run.png", "--plot", "{tmp}/run.png"],
        "--checkpoint and --plot name the same file, {tmp}/run.png: each output needs its own",
    ),
    (
        ["train", "--checkpoint", "{tmp}/run.safetensors", "--metrics", "{tmp}/run.safetensors"],
        "--checkpoint and --metrics name the same file, {tmp}/run.safetensors: each output needs its own",
    ),
    (
        ["train", "--checkpoint", "{tmp}/run.safetensors", "--metrics", "{tmp}/run.safetensors.lock"],
        "--metrics names {tmp}/run.safetensors.lock, the lock file of --checkpoint, which the run removes",
    ),
    (["train", "--checkpoint", "{tmp}"], "--checkpoint: {tmp} is a folder"),
    (["train", "--metrics", "{tmp}"], "--metrics: {tmp} is a folder"),
    (["train", "--checkpoint", "/dev/full"], "--checkpoint: /dev/full is a character device"),
    (
        ["train", "--checkpoint", "{tmp}/existing.safetensors"],
        "--checkpoint {tmp}/existing.safetensors already exists: pass --resume (or --auto-resume) to "
        "continue that run, --overwrite to replace it, or another path",
    ),
    (
        ["train", "--metrics", "{tmp}/existing.jsonl"],
        "--metrics {tmp}/existing.jsonl already exists: pass --overwrite to replace it, or another path",
    ),
    (
        ["train", "--checkpoint", "{tmp}/existing.safetensors", "--resume", "--overwrite"],
        "--overwrite starts a new run and --resume continues one: give one of them",
    ),
    (["train", "--epochs", "1.5"], "argument --epochs: expected an integer >= 0, got '1.5'"),
    (["train", "--dropout", "1.5"], "argument --dropout: expected a finite number >= 0 and < 1, got '1.5'"),
    (["train", "--momentum", "1"], "argument --momentum: expected a finite number >= 0 and < 1, got '1'"),
    (
        ["train", "--optimizer", "adam", "--momentum", "0.9"],
        "--momentum applies to --optimizer sgd; adam has betas instead",
    ),
    (
        ["train", "--layers", "785,10"],
        "--layers must start with 784 (the inputs of mnist) and end with 10 (its classes), got 785,10",
    ),
    (["train", "--resume"], "--resume needs --checkpoint FILE, the run to continue"),
    (
        ["train", "--checkpoint", "{tmp}/missing.safetensors", "--resume"],
        "--resume: no checkpoint at {tmp}/missing.safetensors",
    ),
    (
        ["train", "--checkpoint", "/nonexistent/run.safetensors"],
        "--checkpoint: /nonexistent/run.safetensors: its folder /nonexistent does not exist",
    ),
    (
        ["train", "--dataset", "disk", "--full"],
        "--full applies to mnist and fashion-mnist; the disk set has 1000 + 1000 points",
    ),
    (["evaluate", "/nonexistent.safetensors"], "argument checkpoint: no such file: /nonexistent.safetensors"),
    (
        ["summary", "--checkpoint", "/nonexistent.safetensors"],
        "argument --checkpoint: no such file: /nonexistent.safetensors",
    ),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
]
CLI_IDS = [
    "data-dir-missing",
    "data-files-missing",
    "activation-swish",
    "layers-not-int",
    "layers-one-size",
    "layers-zero-size",
    "lr-negative",
    "lr-nan",
    "lr-beyond-float32",
    "weight-decay-beyond-float32",
    "batch-size-negative",
    "evaluate-batch-size-negative",
    "seed-float-text",
    "batch-size-beyond-int64",
    "evaluate-batch-size-beyond-int64",
    "checkpoint-with-a-trailing-slash",
    "checkpoint-name-too-long-for-its-temporaries",
    "seed-beyond-int64",
    "step-size-0",
    "t-max-0",
    "gamma-0",
    "gamma-without-step",
    "step-size-without-scheduler",
    "step-size-with-cosine",
    "t-max-without-cosine",
    "cosine-without-period",
    "layers-beyond-memory",
    "plot-not-png",
    "plot-empty",
    "metrics-empty",
    "checkpoint-blank",
    "confusion-not-png",
    "confusion-is-the-checkpoint",
    "plot-is-the-checkpoint",
    "metrics-is-the-checkpoint",
    "metrics-is-the-lock-file",
    "checkpoint-is-a-folder",
    "metrics-is-a-folder",
    "checkpoint-is-a-device",
    "checkpoint-exists",
    "metrics-exists",
    "overwrite-with-resume",
    "epochs-float",
    "dropout-above-1",
    "momentum-1",
    "adam-with-momentum",
    "layers-do-not-fit-mnist",
    "resume-without-checkpoint",
    "resume-missing-checkpoint",
    "checkpoint-folder-missing",
    "disk-full",
    "evaluate-missing-file",
    "summary-missing-checkpoint",
    "unknown-command",
]


@pytest.mark.parametrize(("argv", "message"), CLI_CASES, ids=CLI_IDS)
def test_cli_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "existing.safetensors").write_bytes(b"an earlier run's checkpoint")
    (tmp_path / "existing.jsonl").write_text('{"epoch": 1}\n')
    with pytest.raises(SystemExit) as excinfo:
        main([arg.format(tmp=tmp_path) for arg in argv])
    assert excinfo.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, "a usage error is one line"
    last = err.strip()
    assert last.startswith("minitorch-nn")
    assert last.endswith("--help')")
    assert ": error: " in last
    assert message.format(tmp=tmp_path) in last
    assert (tmp_path / "existing.safetensors").read_bytes() == b"an earlier run's checkpoint"
    assert (tmp_path / "existing.jsonl").read_text() == '{"epoch": 1}\n'
