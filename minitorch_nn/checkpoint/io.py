"""Writing files atomically and checking output paths, and the random-generator states a checkpoint keeps."""

import contextlib
import errno as errno_codes
import os
import re
import secrets
import stat
from pathlib import Path

import torch

from minitorch_nn._types import Tensor
from minitorch_nn.module import ModuleBase

__all__ = [
    "OutputPathError",
    "PathLike",
    "atomic_write",
    "module_generators",
    "output_path_problem",
    "rng_states",
]

PathLike = str | os.PathLike[str]


class OutputPathError(ValueError):
    """A path that cannot receive a file: it is empty, or it names an existing non-regular file.

    ``atomic_write`` raises it before writing anything when ``path`` (after
    following symlinks) is a folder, a device such as ``/dev/null``, a FIFO or a
    socket: replacing one of those by a regular file is never what was meant.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> try:
        ...     atomic_write(folder, b"data")
        ... except OutputPathError as error:
        ...     print(str(error).replace(folder, "FOLDER"))
        atomic_write: FOLDER is a folder, not a regular file; nothing was written
    """


def _kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is, or ``None`` for a regular file."""
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    )
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _named(text: str, final: Path) -> str:
    """``text`` as the caller wrote it, and where it leads when it is a symlink."""
    return f"{text} (a link to {final})" if os.path.islink(text) else text


def output_path_problem(path: PathLike) -> str | None:
    """Why ``path`` cannot receive a file, in one line, or ``None`` if it can: a check before a long job.

    Symlinks are followed, as ``atomic_write`` follows them. The reasons are:
    the path is empty; it exists and is not a regular file (a folder, a
    device, a FIFO, a socket); its folder does not exist (also for a dangling
    symlink whose target's folder is missing) or is not a folder; its folder is
    not writable (``os.access``, which also reports a read-only file system).
    A missing file in a writable folder is fine: it will be created.

    Args:
        path: the file a job will write later.

    Returns:
        ``None``, or the reason, starting with the path.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> output_path_problem(folder / "run.safetensors") is None
        True
        >>> output_path_problem("/dev/null")
        '/dev/null is a character device, not a regular file'
        >>> print(output_path_problem(folder / "missing" / "run.safetensors").replace(str(folder), "F"))
        F/missing/run.safetensors: its folder F/missing does not exist
    """
    text = os.fspath(path)
    if text == "":
        return "the path is empty"
    final = Path(os.path.realpath(text))
    named = _named(text, final)
    try:
        kind = _kind(os.stat(final).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        kind = None
    except OSError as error:
        return f"{named} cannot be checked: {error.strerror or error}"
    if kind is not None:
        return f"{named} is {kind}, not a regular file"
    folder = final.parent
    try:
        folder_mode = os.stat(folder).st_mode
    except OSError:
        return f"{named}: its folder {folder} does not exist"
    if not stat.S_ISDIR(folder_mode):
        return f"{named}: {folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{named}: its folder {folder} is not writable"
    longest = len(os.fsencode(_temporary(final).name)) + 3  # room for a 10-digit pid
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if longest > limit:
        return (
            f"{named}: its name is too long: the temporary files written beside it need "
            f"{longest} bytes, more than the {limit} its folder allows"
        )
    return None


def _os_error(message: str, error: OSError) -> OSError:
    """An ``OSError`` of ``error``'s class and ``errno`` whose text is ``message`` and the OS's reason."""
    reason = error.strerror or str(error)
    kind = type(OSError(error.errno, reason)) if error.errno is not None else OSError
    raised = kind(f"{message}: {reason}")
    raised.errno = error.errno
    return raised


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno_codes.EIO, "the write made no progress")
        view = view[written:]


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _temporary(final: Path) -> Path:
    """A fresh temporary name beside ``final``: ``.{name}.{pid}.{random}.tmp``."""
    return final.parent / f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def _remove_stale(final: Path) -> None:
    """Remove temporary files of ``final`` left by processes that no longer exist (best effort)."""
    pattern = re.compile(rf"\.{re.escape(final.name)}\.([1-9][0-9]{{0,9}})\.[0-9a-f]+\.tmp")
    with contextlib.suppress(OSError), os.scandir(final.parent) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match and int(match[1]) != os.getpid() and not _alive(int(match[1])):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _sync_folder(folder: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):  # POSIX: make the rename durable
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash at any moment leaves the old file or the new one.

    The bytes go to a temporary file ``.{name}.{pid}.{random}.tmp`` in the
    same folder, which is flushed, ``fsync``-ed and renamed over ``path`` (an
    atomic step on POSIX); then the folder is synced so that the rename itself
    survives a power cut. If ``path`` is a symlink, its final target is
    replaced in the same way (the temporary file lies in the target's folder),
    so the link stays a link. After a successful write, temporary files of the
    same path left by processes that no longer exist (killed during a write)
    are removed. The file keeps the permission bits of the one it replaces
    (``0o644`` for a new file).

    Args:
        path: the file to write; its folder must exist.
        data: the file's new contents.

    Raises:
        OutputPathError: before writing anything, if ``path`` is empty or is (or links to) an existing
            folder, device, FIFO or socket.
        OSError: if writing fails (no space left, read-only file system, permission denied, missing
            folder): of the OS error's class and ``errno``, with a message naming ``path`` and the
            OS's reason. The previous file is intact and the temporary file is removed.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "data.bin"
        >>> atomic_write(path, b"first")
        >>> atomic_write(path, b"second")
        >>> path.read_bytes(), [p.name for p in path.parent.iterdir()]
        (b'second', ['data.bin'])
    """
    text = os.fspath(path)
    if text == "":
        raise OutputPathError("atomic_write: the path is empty; nothing was written")
    final = Path(os.path.realpath(text))
    where = f"atomic_write: {_named(text, final)}"
    try:
        existing: int | None = os.stat(final).st_mode
    except (FileNotFoundError, NotADirectoryError):
        existing = None
    except OSError as error:
        raise _os_error(f"{where}: cannot write", error) from error
    if existing is not None and (kind := _kind(existing)) is not None:
        raise OutputPathError(f"{where} is {kind}, not a regular file; nothing was written")
    temporary = _temporary(final)
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as error:
        raise _os_error(f"{where}: cannot write", error) from error
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temporary, stat.S_IMODE(existing) if existing is not None else 0o644)
        os.replace(temporary, final)
    except BaseException as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(error, OSError):
            raise _os_error(f"{where}: cannot write", error) from error
        raise
    try:
        _sync_folder(final.parent)
    except OSError as error:
        raise _os_error(f"{where}: written, but its folder could not be synced", error) from error
    _remove_stale(final)


def module_generators(model: ModuleBase, prefix: str = "") -> dict[str, torch.Generator]:
    """Every ``torch.Generator`` a module holds as an attribute (such as ``Dropout``'s), by dotted name.

    Example:
        >>> import minitorch_nn as mn
        >>> model = mn.Sequential(mn.Linear(2, 2), mn.Dropout(0.5, generator=torch.Generator()))
        >>> list(module_generators(model))
        ['module.1.generator']
    """
    found = {f"module.{prefix}{k}": v for k, v in vars(model).items() if isinstance(v, torch.Generator)}
    for name, child in model.named_children():
        found.update(module_generators(child, f"{prefix}{name}."))
    return found


def rng_states(
    generator: torch.Generator | None = None, model: ModuleBase | None = None
) -> dict[str, Tensor]:
    """The global CPU and CUDA generator states, ``generator``'s, and those of ``model``'s generators.

    Example:
        >>> states = rng_states(torch.Generator().manual_seed(0))
        >>> sorted(states)[-2:], states["torch"].dtype
        (['generator', 'torch'], torch.uint8)
    """
    states = {"torch": torch.get_rng_state()}
    if model is not None:
        states.update((key, g.get_state()) for key, g in module_generators(model).items())
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # type: ignore[no-untyped-call]  # torch leaves it unannotated
        states.update((f"cuda.{i}", s) for i, s in enumerate(torch.cuda.get_rng_state_all()))
    if generator is not None:
        states["generator"] = generator.get_state()
    return states
