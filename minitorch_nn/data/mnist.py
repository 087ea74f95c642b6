"""MNIST and Fashion-MNIST, loaded through torchvision with the course loader's semantics.

The loader takes a folder holding the four original IDX files (gzipped, as
distributed, or extracted), or torchvision's own ``<root>/MNIST/raw`` layout,
and reads them with torchvision's dataset classes, fully offline. A reduced
split (the first 1000 training and 1000 test MNIST images) ships with the
package, so the reference example needs no data folder at all; that file is
read directly, without importing torchvision (which takes seconds).
"""

import errno
import gzip
import hashlib
import os
import shutil
import stat
import tempfile
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple, cast

from minitorch_nn._types import Tensor
from minitorch_nn.data.idx import READ_ERRORS, check_header, read_idx, unreadable
from minitorch_nn.data.targets import check_labels
from minitorch_nn.data.targets import one_hot as one_hot_rows  # load_data has a flag named one_hot

__all__ = ["DATA_DIR_ENV", "REDUCED_SIZE", "Dataset", "Split", "load_data"]

Dataset = Literal["mnist", "fashion-mnist"]
"""The data sets ``load_data`` reads.

Example:
    >>> from typing import get_args
    >>> get_args(Dataset)
    ('mnist', 'fashion-mnist')
"""

DATA_DIR_ENV = "MINITORCH_NN_DATA_DIR"
"""Environment variable naming a folder with ``mnist/`` and ``fashion-mnist/`` inside.

Example:
    >>> import os
    >>> folder = os.environ.get(DATA_DIR_ENV)  # e.g. "../shared/data"; None when unset
    >>> DATA_DIR_ENV
    'MINITORCH_NN_DATA_DIR'
"""

REDUCED_SIZE = 1000
"""How many training and test images the reduced split keeps (the first ones, in file order).

Example:
    >>> load_data().train_input.shape[0] == REDUCED_SIZE
    True
"""

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_CLASS_NAMES: dict[str, str] = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_NUM_CLASSES = 10


class Split(NamedTuple):
    """Training and test tensors, unpackable as ``train_input, train_target, test_input, test_target``.

    Example:
        >>> split = load_data()
        >>> split.train_input.shape, split.test_target.shape
        (torch.Size([1000, 784]), torch.Size([1000]))
        >>> train_input, train_target, test_input, test_target = split
    """

    train_input: Tensor
    train_target: Tensor
    test_input: Tensor
    test_target: Tensor


def _status(path: Path) -> str:
    """``"file"``, ``"missing"``, or what ``path`` is instead of a readable file ("a folder", ...)."""
    try:
        mode = path.stat().st_mode
    except ValueError:  # a name no file system accepts (an embedded NUL byte)
        return "missing"
    except OSError as err:
        if err.errno == errno.ENOENT and path.is_symlink():
            return "a broken link"
        if err.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG):
            return "missing"
        return f"not examinable ({err.strerror or err})"
    if stat.S_ISREG(mode):
        return "file"
    return "a folder" if stat.S_ISDIR(mode) else "not a regular file"


def _file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if _status(candidate) == "file":
            return candidate
    return None


def _not_a_file(folder: Path, name: str) -> tuple[Path, str] | None:
    """The first of ``name`` and ``name.gz`` in ``folder`` that is there but is not a file."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        status = _status(candidate)
        if status not in ("file", "missing"):
            return candidate, status
    return None


def _candidates(root: Path, dataset: Dataset) -> list[Path]:
    raw = Path(_CLASS_NAMES[dataset]) / "raw"
    return [root, root / raw, root / dataset, root / dataset / raw]


def _find_folder(root: Path, dataset: Dataset) -> Path | None:
    """The first candidate folder holding the four files; a folder where every file is there, but
    one of them is not a file (a folder, a broken link), raises ``ValueError`` naming it."""
    for folder in _candidates(root, dataset):
        found = [_file(folder, name) for name in FILES]
        if all(path is not None for path in found):
            return folder
        wrong = [_not_a_file(folder, name) for name, path in zip(FILES, found, strict=True) if path is None]
        there = [entry for entry in wrong if entry is not None]
        if len(there) == len(wrong):  # every file is there, but some are not files
            raise ValueError(f"load_data: {there[0][0]} is {there[0][1]}, expected an MNIST IDX file")
    return None


def _torchvision_class(dataset: Dataset) -> type:
    from torchvision import datasets  # imported lazily: it takes seconds

    cls: type = getattr(datasets, _CLASS_NAMES[dataset])
    return cls


class _Raw(NamedTuple):
    """The four tensors as read (train images, train labels, test images, test labels), and the
    file each one came from, for messages."""

    tensors: tuple[Tensor, Tensor, Tensor, Tensor]
    sources: tuple[Path, Path, Path, Path]


def _read_folder(folder: Path, dataset: Dataset) -> _Raw:
    """Stage the files in torchvision's layout in a temporary folder and load them there."""
    cls = _torchvision_class(dataset)
    found = [_file(folder, name) for name in FILES]
    if any(source is None for source in found):  # _find_folder checked every file
        raise FileNotFoundError(f"load_data: the {dataset} files in {folder} disappeared while being read")
    sources = cast(tuple[Path, Path, Path, Path], tuple(found))
    what = f"load_data: could not read the {dataset} files in {folder}"
    with tempfile.TemporaryDirectory(prefix="minitorch_nn-") as tmp:
        raw = Path(tmp) / cls.__name__ / "raw"
        raw.mkdir(parents=True)
        for name, source in zip(FILES, sources, strict=True):
            try:
                if source.suffix == ".gz":
                    if name == FILES[0]:
                        _check_not_other_dataset(source, dataset)
                    with gzip.open(source, "rb") as src, open(raw / name, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                else:
                    (raw / name).symlink_to(source.resolve())
            except READ_ERRORS as err:
                raise ValueError(f"{what}: {unreadable(source, err)}") from err
        for name, source in zip(FILES, sources, strict=True):
            check_header(raw / name, source)
        try:
            train, test = cls(tmp, train=True), cls(tmp, train=False)
        except (AssertionError, EOFError, OSError, RuntimeError, ValueError) as err:
            raise ValueError(f"{what}: {err!r}") from err
    return _Raw((train.data, train.targets, test.data, test.targets), sources)


def _check_not_other_dataset(source: Path, dataset: Dataset) -> None:
    """Refuse the other data set's original files: MNIST and Fashion-MNIST share file names."""
    other: Dataset = "fashion-mnist" if dataset == "mnist" else "mnist"
    known = {md5 for _, md5 in _torchvision_class(other).resources}  # type: ignore[attr-defined]  # torchvision has no type hints
    if hashlib.md5(source.read_bytes()).hexdigest() in known:
        raise ValueError(f"load_data: {source} is an original {other} file, but dataset={dataset!r}")


def _check(raw: _Raw) -> None:
    """Shapes, counts and labels of what was read, whichever way it was read; messages name the files."""
    tensors, sources = raw
    for images, labels, image_file, label_file in (
        (*tensors[:2], *sources[:2]),
        (*tensors[2:], *sources[2:]),
    ):
        if images.dim() != 3 or tuple(images.shape[1:]) != (28, 28) or images.shape[0] == 0:
            raise ValueError(
                f"load_data: {image_file}: expected images of shape (N, 28, 28) with N >= 1, "
                f"got {tuple(images.shape)}"
            )
        if labels.dim() != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(
                f"load_data: expected as many labels in {label_file} as images in {image_file}, "
                f"got {_count(labels, 'labels')} and {images.shape[0]} images"
            )
        check_labels(labels, _NUM_CLASSES, f"load_data: {label_file}")


def _count(labels: Tensor, what: str) -> str:
    return f"{labels.shape[0]} {what}" if labels.dim() == 1 else f"{what} of shape {tuple(labels.shape)}"


def _reduced_mnist() -> _Raw:
    """The split shipped in the package, read directly: it is our own derived file, and importing
    torchvision would take longer than the reference job's training."""
    folder = resources.files("minitorch_nn.data") / "mnist_1000"
    with resources.as_file(folder) as path:
        sources = cast(tuple[Path, Path, Path, Path], tuple(Path(path) / f"{name}.gz" for name in FILES))
        images = [read_idx(source, 2051, (28, 28)) for source in sources[0::2]]
        labels = [read_idx(source, 2049, ()) for source in sources[1::2]]
    return _Raw((images[0], labels[0], images[1], labels[1]), sources)


def _missing(root: Path | None, dataset: Dataset, full: bool) -> FileNotFoundError:
    looked = [str(c) for c in _candidates(root, dataset)] if root is not None else []
    where = "looked in " + ", ".join(looked) if looked else f"no root given and {DATA_DIR_ENV} is not set"
    shipped = (
        "" if dataset != "mnist" or not full else " (only the reduced MNIST split ships with the package)"
    )
    return FileNotFoundError(
        f"load_data: no {dataset} data{shipped}: {where}. Pass root=<a folder holding "
        f"{', '.join(n + '.gz' for n in FILES)}>, set {DATA_DIR_ENV} to a folder with a "
        f"'{dataset}' subfolder, or pass download=True with a root to download into."
    )


def _download(root: Path, dataset: Dataset) -> _Raw:
    cls = _torchvision_class(dataset)
    train, test = cls(str(root), train=True, download=True), cls(str(root), train=False, download=True)
    sources = cast(tuple[Path, Path, Path, Path], tuple(root / cls.__name__ / "raw" / name for name in FILES))
    return _Raw((train.data, train.targets, test.data, test.targets), sources)


def _raw(root: Path | None, dataset: Dataset, full: bool, download: bool) -> _Raw:
    if root is not None:
        if _status(root) == "file":
            raise ValueError(
                f"load_data: expected root to be a folder holding the four IDX files, got the file {root}"
            )
        folder = _find_folder(root, dataset)
        if folder is not None:
            return _read_folder(folder, dataset)
        if download:
            return _download(root, dataset)
        raise _missing(root, dataset, full)
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        folder = _find_folder(Path(env), dataset)
        if folder is not None:
            return _read_folder(folder, dataset)
    if dataset == "mnist" and not full:
        return _reduced_mnist()
    raise _missing(Path(env) if env else None, dataset, full)


def _check_not_constant(images: Tensor, source: Path, narrowed: bool) -> None:
    """Refuse to normalise images whose standard deviation is zero: every pixel the same."""
    low, high = int(images.min()), int(images.max())
    if low == high:
        which = f"the first {images.shape[0]}" if narrowed else f"all {images.shape[0]}"
        raise ValueError(
            f"load_data: {source}: normalize=True would divide by a zero standard deviation: "
            f"expected training images whose pixels vary, got {which} training images with every pixel {low}"
        )


def load_data(
    root: str | os.PathLike[str] | None = None,
    *,
    dataset: Dataset = "mnist",
    full: bool = False,
    one_hot: bool = False,
    normalize: bool = False,
    flatten: bool = True,
    download: bool = False,
) -> Split:
    """Load MNIST or Fashion-MNIST as float tensors, as the course's ``load_data`` does.

    Where the files come from, in order: ``root`` (the folder itself, its
    ``MNIST/raw`` or ``FashionMNIST/raw``, or its ``mnist``/``fashion-mnist``
    subfolder); else the folder named by ``$MINITORCH_NN_DATA_DIR``; else, for
    the reduced MNIST split, the copy shipped with the package.

    Args:
        root: folder holding the four IDX files (``.gz`` or extracted). Default: see above.
        dataset: ``"mnist"`` or ``"fashion-mnist"``. Default: ``"mnist"``.
        full: keep all 60000/10000 images instead of the first 1000/1000. Default: ``False``.
        one_hot: return targets as 0/1 rows of shape (N, 10) instead of class indices. Default: ``False``.
        normalize: subtract ONE scalar mean and divide by ONE scalar unbiased std,
            both computed on the (narrowed) training images, from train and test. Default: ``False``.
        flatten: images of shape (N, 784) rather than (N, 1, 28, 28). Default: ``True``.
        download: if no files are found under ``root``, download them there with
            torchvision's downloader (needs a network). Default: ``False``.

    Shape:
        - train_input, test_input: (N, 784) float32 (or (N, 1, 28, 28)), pixels in [0, 255] unless normalised.
        - train_target, test_target: (N,) int64 class indices, or (N, 10) float32 when ``one_hot``.

    Raises:
        FileNotFoundError: if no data is found; the message says where it looked and what to pass.
        ValueError: if the files are truncated, not MNIST-format IDX files, hold no images, disagree
            on the number of images, or hold labels outside [0, 10), and, with ``normalize``, if every
            training pixel has the same value (the standard deviation is zero). The message names the file.

    Example:
        >>> train_input, train_target, test_input, test_target = load_data(one_hot=True, normalize=True)
        >>> train_input.shape, train_target.shape, test_input.shape
        (torch.Size([1000, 784]), torch.Size([1000, 10]), torch.Size([1000, 784]))
        >>> abs(train_input.mean().item()) < 1e-6, round(train_input.std().item(), 4)
        (True, 1.0)
    """
    if dataset not in _CLASS_NAMES:
        raise ValueError(f"load_data: expected dataset 'mnist' or 'fashion-mnist', got {dataset!r}")
    path = Path(root) if root is not None else None
    raw = _raw(path, dataset, full, download)
    _check(raw)
    train_images, train_labels, test_images, test_labels = raw.tensors
    if not full:
        train_images, train_labels = train_images[:REDUCED_SIZE], train_labels[:REDUCED_SIZE]
        test_images, test_labels = test_images[:REDUCED_SIZE], test_labels[:REDUCED_SIZE]
    shape = (-1, 28 * 28) if flatten else (-1, 1, 28, 28)
    train_input = train_images.reshape(shape).float()
    test_input = test_images.reshape(shape).float()
    if normalize:
        _check_not_constant(train_images, raw.sources[0], narrowed=not full)
        mean, std = train_input.mean(), train_input.std()
        train_input.sub_(mean).div_(std)
        test_input.sub_(mean).div_(std)
    train_target, test_target = train_labels.long(), test_labels.long()
    if one_hot:
        train_target, test_target = (
            one_hot_rows(train_target, _NUM_CLASSES),
            one_hot_rows(test_target, _NUM_CLASSES),
        )
    return Split(train_input, train_target, test_input, test_target)
