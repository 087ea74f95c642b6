"""The MNIST loader, on small IDX files written here and on the real files when present."""

import gzip
import os
import re
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from minitorch_nn.data import DATA_DIR_ENV, disk_data, disk_set, load_data, one_hot
from minitorch_nn.data import mnist as mnist_module

N_TRAIN, N_TEST = 1010, 1005
NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _images(count: int, offset: int) -> torch.Tensor:
    """Image i has pixel p = (7 i + p + offset) mod 256, so every image differs."""
    index = torch.arange(count).view(-1, 1) * 7 + torch.arange(784).view(1, -1) + offset
    return (index % 256).to(torch.uint8).view(count, 28, 28)


def _labels(count: int, offset: int) -> torch.Tensor:
    return ((torch.arange(count) * 3 + offset) % 10).to(torch.uint8)


def _idx_bytes(tensor: torch.Tensor) -> bytes:
    if tensor.dim() == 3:
        header = struct.pack(">IIII", 2051, *tensor.shape)
    else:
        header = struct.pack(">II", 2049, tensor.shape[0])
    return header + tensor.numpy().tobytes()


EXPECTED = {
    "train-images-idx3-ubyte": _images(N_TRAIN, 0),
    "train-labels-idx1-ubyte": _labels(N_TRAIN, 0),
    "t10k-images-idx3-ubyte": _images(N_TEST, 100),
    "t10k-labels-idx1-ubyte": _labels(N_TEST, 5),
}


def _write(folder: Path, compressed: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, tensor in EXPECTED.items():
        data = _idx_bytes(tensor)
        if compressed:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


@pytest.fixture(autouse=True)
def no_data_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests choose their data folder themselves."""
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def test_gz_folder_first_1000_in_file_order(tmp_path: Path) -> None:
    split = load_data(_write(tmp_path))
    assert split.train_input.shape == (1000, 784) and split.test_input.shape == (1000, 784)
    assert split.train_input.dtype == torch.float32
    assert torch.equal(
        split.train_input, EXPECTED["train-images-idx3-ubyte"][:1000].reshape(1000, 784).float()
    )
    assert torch.equal(split.test_input, EXPECTED["t10k-images-idx3-ubyte"][:1000].reshape(1000, 784).float())
    assert torch.equal(split.train_target, EXPECTED["train-labels-idx1-ubyte"][:1000].long())
    assert torch.equal(split.test_target, EXPECTED["t10k-labels-idx1-ubyte"][:1000].long())


def test_full_keeps_everything(tmp_path: Path) -> None:
    split = load_data(_write(tmp_path), full=True)
    assert split.train_input.shape == (N_TRAIN, 784) and split.test_target.shape == (N_TEST,)


def test_one_hot_targets(tmp_path: Path) -> None:
    split = load_data(_write(tmp_path), one_hot=True)
    labels = EXPECTED["train-labels-idx1-ubyte"][:1000].long()
    assert split.train_target.shape == (1000, 10)
    assert split.train_target.sum().item() == 1000
    for i in (0, 1, 7, 999):
        row = [0.0] * 10
        row[int(labels[i])] = 1.0
        assert split.train_target[i].tolist() == row


def test_normalize_uses_one_scalar_mean_and_unbiased_std_of_train(tmp_path: Path) -> None:
    split = load_data(_write(tmp_path), normalize=True)
    train = EXPECTED["train-images-idx3-ubyte"][:1000].double().reshape(-1)
    test = EXPECTED["t10k-images-idx3-ubyte"][:1000].double().reshape(1000, 784)
    mean = train.sum() / train.numel()
    std = (((train - mean) ** 2).sum() / (train.numel() - 1)).sqrt()
    torch.testing.assert_close(split.test_input.double(), (test - mean) / std, rtol=1e-5, atol=1e-5)
    assert split.train_input.mean().abs() < 1e-5
    assert split.train_input.std().item() == pytest.approx(1.0, abs=1e-5)


def test_unflattened_images(tmp_path: Path) -> None:
    split = load_data(_write(tmp_path), flatten=False)
    assert split.train_input.shape == (1000, 1, 28, 28)
    assert torch.equal(split.train_input[3, 0], EXPECTED["train-images-idx3-ubyte"][3].float())


@pytest.mark.parametrize(
    ("layout", "compressed"),
    [("", False), ("MNIST/raw", True), ("MNIST/raw", False), ("mnist", True)],
    ids=["flat-extracted", "torchvision-gz", "torchvision-extracted", "dataset-subfolder"],
)
def test_finds_other_layouts(tmp_path: Path, layout: str, compressed: bool) -> None:
    _write(tmp_path / layout, compressed=compressed)
    split = load_data(tmp_path)
    assert torch.equal(split.test_target, EXPECTED["t10k-labels-idx1-ubyte"][:1000].long())


def test_fashion_mnist_same_call(tmp_path: Path) -> None:
    _write(tmp_path / "FashionMNIST" / "raw")
    split = load_data(tmp_path, dataset="fashion-mnist")
    assert split.train_input.shape == (1000, 784)


def test_env_var_names_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "fashion-mnist")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert load_data(dataset="fashion-mnist", full=True).train_input.shape == (N_TRAIN, 784)


def test_packaged_reduced_split_needs_no_folder() -> None:
    split = load_data(one_hot=True)
    assert [t.shape for t in split] == [(1000, 784), (1000, 10), (1000, 784), (1000, 10)]
    # Class counts of the first 1000 labels, as the data folder's README states them.
    assert split.train_target.sum(0).tolist() == [97, 116, 99, 93, 105, 92, 94, 117, 87, 100]
    assert split.test_target.sum(0).tolist() == [85, 126, 116, 107, 110, 87, 87, 99, 89, 94]


def test_missing_data_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_data(tmp_path)
    message = str(info.value)
    assert f"looked in {tmp_path}, {tmp_path}/MNIST/raw, {tmp_path}/mnist" in message
    assert "Pass root=<a folder holding train-images-idx3-ubyte.gz" in message
    assert f"set {DATA_DIR_ENV}" in message and "download=True" in message


def test_missing_full_data_without_root() -> None:
    with pytest.raises(FileNotFoundError, match=r"only the reduced MNIST split ships with the package"):
        load_data(full=True)


def _flip_deflate_bytes(data: bytes) -> bytes:
    """Invert 30 bytes of the deflate stream: zlib refuses it (``zlib.error``, not an ``OSError``)."""
    return data[:30] + bytes(b ^ 0xFF for b in data[30:60]) + data[60:]


def _flip_crc(data: bytes) -> bytes:
    return data[:-6] + bytes([data[-6] ^ 1]) + data[-5:]


@pytest.mark.parametrize(
    ("corrupt", "got"),
    [
        (lambda data: data[: len(data) // 2], "got EOFError: Compressed file ended before the end-of-stream"),
        (lambda data: b"not a gzip file at all", "got BadGzipFile: Not a gzipped file (b'no')"),
        (_flip_deflate_bytes, "got zlib.error: Error -3 while decompressing data"),
        (_flip_crc, "got BadGzipFile: CRC check failed"),
        (lambda data: data + b"trailing garbage", "got BadGzipFile: Not a gzipped file (b'tr')"),
    ],
    ids=["truncated", "not-gzip", "corrupt-deflate", "bad-crc", "trailing-garbage"],
)
def test_corrupt_gz_file_is_one_value_error_naming_it(
    tmp_path: Path, corrupt: Callable[[bytes], bytes], got: str
) -> None:
    _write(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(corrupt(path.read_bytes()))
    expected = f"load_data: could not read the mnist files in {tmp_path}: {path}: "
    expected += f"expected a complete gzip file, {got}"
    with pytest.raises(ValueError, match=re.escape(expected)) as info:
        load_data(tmp_path)
    assert type(info.value) is ValueError


def test_mismatched_counts_name_both_files(tmp_path: Path) -> None:
    _write(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(_labels(7, 0))))
    expected = (
        f"load_data: expected as many labels in {tmp_path}/train-labels-idx1-ubyte.gz as images in "
        f"{tmp_path}/train-images-idx3-ubyte.gz, got 7 labels and {N_TRAIN} images"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_data(tmp_path)


def _bad_labels(count: int) -> torch.Tensor:
    """Labels with three outside [0, 10): 12 at index 17, 255 at 40, 10 at 41."""
    labels = _labels(count, 0)
    labels[17], labels[40], labels[41] = 12, 255, 10
    return labels


@pytest.mark.parametrize("compressed", [True, False], ids=["gz", "extracted"])
def test_labels_outside_the_classes_are_refused_at_loading(tmp_path: Path, compressed: bool) -> None:
    _write(tmp_path, compressed=compressed)
    name = "train-labels-idx1-ubyte" + (".gz" if compressed else "")
    data = _idx_bytes(_bad_labels(N_TRAIN))
    (tmp_path / name).write_bytes(gzip.compress(data) if compressed else data)
    expected = (
        f"load_data: {tmp_path / name}: expected labels in [0, 10), got 3 outside (the first at index 17: 12)"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_data(tmp_path)


def test_labels_outside_the_classes_beyond_the_first_1000_are_refused_too(tmp_path: Path) -> None:
    _write(tmp_path)
    labels = _labels(N_TEST, 5)
    labels[1003] = 10
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(labels)))
    with pytest.raises(ValueError, match=re.escape("got 1 outside (the first at index 1003: 10)")):
        load_data(tmp_path)


def test_downloaded_labels_outside_the_classes_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FakeMNIST:
        def __init__(self, root: str, train: bool, download: bool) -> None:
            self.data, self.targets = _images(12, 0), _labels(12, 0).long()
            self.targets[3] = -1

    monkeypatch.setattr(mnist_module, "_torchvision_class", lambda dataset: FakeMNIST)
    expected = (
        f"load_data: {tmp_path}/FakeMNIST/raw/train-labels-idx1-ubyte: expected labels in [0, 10), "
        "got 1 outside (the first at index 3: -1)"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_data(tmp_path, download=True)


def _constant_images(folder: Path, value: int) -> None:
    images = torch.full((N_TRAIN, 28, 28), value, dtype=torch.uint8)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(images)))


@pytest.mark.parametrize(("full", "which"), [(False, "the first 1000"), (True, f"all {N_TRAIN}")])
def test_normalising_constant_images_is_refused(tmp_path: Path, full: bool, which: str) -> None:
    _constant_images(_write(tmp_path), 7)
    expected = (
        f"load_data: {tmp_path}/train-images-idx3-ubyte.gz: normalize=True would divide by a zero "
        "standard deviation: expected training images whose pixels vary, "
        f"got {which} training images with every pixel 7"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_data(tmp_path, normalize=True, full=full)


def test_constant_images_load_without_normalising(tmp_path: Path) -> None:
    _constant_images(_write(tmp_path), 0)
    assert load_data(tmp_path).train_input.abs().sum().item() == 0.0


@pytest.mark.parametrize("name", ["train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte"])
def test_a_folder_where_a_file_is_expected(tmp_path: Path, name: str) -> None:
    _write(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    (tmp_path / name).mkdir()
    with pytest.raises(
        ValueError, match=re.escape(f"load_data: {tmp_path / name} is a folder, expected an MNIST IDX file")
    ):
        load_data(tmp_path)


def test_a_broken_link_where_a_file_is_expected(tmp_path: Path) -> None:
    _write(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.unlink()
    path.symlink_to(tmp_path / "nowhere")
    with pytest.raises(
        ValueError, match=re.escape(f"load_data: {path} is a broken link, expected an MNIST IDX file")
    ):
        load_data(tmp_path)


def test_a_file_as_root(tmp_path: Path) -> None:
    path = _write(tmp_path) / "train-images-idx3-ubyte.gz"
    expected = f"load_data: expected root to be a folder holding the four IDX files, got the file {path}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_data(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("train-labels-idx1-ubyte.gz", b""),
        ("train-labels-idx1-ubyte.gz", gzip.compress(b"")),
        ("train-labels-idx1-ubyte", b""),
    ],
    ids=["empty-file", "empty-gzip-stream", "empty-extracted"],
)
def test_empty_files_are_named(tmp_path: Path, name: str, content: bytes) -> None:
    _write(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    (tmp_path / name).write_bytes(content)
    expected = (
        f"load_data: {tmp_path / name} is not an MNIST-format IDX label file: "
        "expected a header of 8 bytes, got 0 bytes"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_data(tmp_path)


@pytest.mark.parametrize("compressed", [True, False], ids=["gz", "extracted"])
def test_an_unreadable_file_is_named(tmp_path: Path, compressed: bool) -> None:
    _write(tmp_path, compressed=compressed)
    path = tmp_path / ("train-labels-idx1-ubyte" + (".gz" if compressed else ""))
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("this user may read any file (root)")
    with pytest.raises(ValueError, match=re.escape(f"{path}: Permission denied")):
        load_data(tmp_path)


def test_files_of_no_images_are_refused(tmp_path: Path) -> None:
    _write(tmp_path)
    for name, tensor in (
        ("t10k-images-idx3-ubyte", _images(0, 0)),
        ("t10k-labels-idx1-ubyte", _labels(0, 0)),
    ):
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(_idx_bytes(tensor)))
    expected = f"load_data: {tmp_path}/t10k-images-idx3-ubyte.gz: "
    expected += "expected at least one image, got an IDX file of 0 items"
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_data(tmp_path)


def test_unknown_dataset() -> None:
    with pytest.raises(ValueError, match=r"expected dataset 'mnist' or 'fashion-mnist', got 'cifar'"):
        load_data(dataset="cifar")  # type: ignore[arg-type]  # the bad value is the point


def test_download_goes_through_torchvision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, bool, bool]] = []

    class FakeMNIST:
        def __init__(self, root: str, train: bool, download: bool) -> None:
            calls.append((root, train, download))
            count = N_TRAIN if train else N_TEST
            self.data, self.targets = _images(count, 0), _labels(count, 0).long()

    monkeypatch.setattr(mnist_module, "_torchvision_class", lambda dataset: FakeMNIST)
    split = load_data(tmp_path, download=True)
    assert calls == [(str(tmp_path), True, True), (str(tmp_path), False, True)]
    assert split.train_input.shape == (1000, 784)


REAL = os.environ.get(DATA_DIR_ENV)
needs_real = pytest.mark.skipif(
    not REAL, reason=f"{DATA_DIR_ENV} is not set; .ci/run sets it to ../shared/data"
)


@needs_real
def test_real_mnist_full(monkeypatch: pytest.MonkeyPatch) -> None:
    assert REAL is not None
    split = load_data(Path(REAL) / "mnist", full=True)
    assert split.train_input.shape == (60000, 784) and split.test_input.shape == (10000, 784)
    assert split.train_target[:20].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5, 3, 6, 1, 7, 2, 8, 6, 9]
    pixels = split.train_input.double() / 255
    # Figures from the data folder's README (population statistics of pixel/255).
    assert pixels.mean().item() == pytest.approx(0.1306604762738429, rel=1e-12)
    assert pixels.std(unbiased=False).item() == pytest.approx(0.30810780385646264, rel=1e-9)


@needs_real
def test_packaged_split_equals_the_first_1000_of_the_real_files() -> None:
    assert REAL is not None
    real, packaged = load_data(Path(REAL) / "mnist"), load_data()
    for a, b in zip(real, packaged, strict=True):
        assert torch.equal(a, b)


@needs_real
def test_real_fashion_mnist() -> None:
    assert REAL is not None
    split = load_data(REAL, dataset="fashion-mnist", full=True)
    assert split.train_input.shape == (60000, 784) and split.test_target.shape == (10000,)
    assert split.train_target.bincount().tolist() == [6000] * 10


def test_env_var_without_the_files_falls_back_to_the_packaged_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert torch.equal(
        load_data().train_target, load_data(Path(mnist_module.__file__).parent / "mnist_1000").train_target
    )
    with pytest.raises(FileNotFoundError, match=re.escape(f"looked in {tmp_path}, ")):
        load_data(full=True)


def test_download_checks_what_it_got(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class BrokenDownload:
        def __init__(self, root: str, train: bool, download: bool) -> None:
            self.data, self.targets = _images(10, 0), _labels(9, 0).long()

    monkeypatch.setattr(mnist_module, "_torchvision_class", lambda dataset: BrokenDownload)
    with pytest.raises(ValueError, match=r"got 9 labels and 10 images"):
        load_data(tmp_path, download=True)


@needs_real
def test_refuses_the_other_data_sets_files() -> None:
    assert REAL is not None
    with pytest.raises(ValueError, match=r"is an original mnist file, but dataset='fashion-mnist'"):
        load_data(Path(REAL) / "mnist", dataset="fashion-mnist")


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            torch.tensor([0, 3, 10, -1]),
            "one_hot: expected labels in [0, 10), got 2 outside (the first at index 2: 10)",
        ),
        (torch.tensor([0.0, 1.0]), "one_hot: expected integer labels, got torch.float32"),
        (torch.tensor([[0, 1]]), "one_hot: expected labels of shape (N,), got (1, 2)"),
    ],
    ids=["outside-the-classes", "float-labels", "two-dimensional"],
)
def test_one_hot_refuses_what_it_cannot_encode(labels: torch.Tensor, message: str) -> None:
    error = TypeError if "integer" in message else ValueError
    with pytest.raises(error, match=re.escape(message)):
        one_hot(labels, 10)


def test_one_hot_takes_any_integer_dtype() -> None:
    rows = one_hot(torch.tensor([2, 0], dtype=torch.uint8), 3)
    assert rows.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_disk_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match=re.escape("disk_set: expected count to be an int >= 0, got -1")):
        disk_set(-1)
    message = "disk_data: expected count to be an int >= 2 (standardising needs two points), got 1"
    with pytest.raises(ValueError, match=re.escape(message)):
        disk_data(1)
