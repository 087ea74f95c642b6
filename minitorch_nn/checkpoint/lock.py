"""A run lock: one process at a time writes a checkpoint (``fcntl.flock`` on a file beside it)."""

import contextlib
import fcntl
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from minitorch_nn.checkpoint.files import CheckpointError
from minitorch_nn.checkpoint.io import PathLike, _os_error

__all__ = ["CheckpointLock", "CheckpointLockedError"]


class CheckpointLockedError(CheckpointError):
    """Another process holds the lock of a checkpoint (see ``CheckpointLock``).

    Attributes:
        path: the checkpoint, as it was given.
        pid: the process that holds it, as its lock file says, or ``None`` if that cannot be read.

    Example:
        >>> import fcntl, os, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
        >>> other = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT)  # as another run would hold it
        >>> fcntl.flock(other, fcntl.LOCK_EX)
        >>> _ = os.write(other, b"12345\\n")
        >>> try:
        ...     CheckpointLock(path).__enter__()
        ... except CheckpointLockedError as error:
        ...     print(error.pid, str(error).split(" is in use ")[1])
        12345 by another run (process 12345); wait for it to finish or use another checkpoint path
        >>> os.close(other)
    """

    def __init__(self, message: str, *, path: Path | None = None, pid: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.pid = pid


@dataclass
class _Held:
    """This process's hold on one lock file: its descriptor and how many ``with`` blocks share it."""

    fd: int
    count: int
    pid: int


_HELD: dict[Path, _Held] = {}
_GUARD = threading.Lock()


def _holder(fd: int) -> int | None:
    """The pid the current holder wrote into the lock file (it may be writing it right now)."""
    for _ in range(20):
        words = os.pread(fd, 64, 0).split()
        if words and words[0].isdigit():
            return int(words[0])
        time.sleep(0.005)
    return None


class CheckpointLock:
    """Hold an exclusive lock on a checkpoint while a run writes it: ``with CheckpointLock(path): ...``.

    The lock is an ``fcntl.flock`` on ``<name>.lock`` beside the checkpoint
    (after following symlinks), which holds the owner's process id. It is
    released, and the lock file removed, at the end of the ``with`` block, and
    the kernel releases it if the process dies (a lock file left by a killed
    process is taken over). Within one process the lock is re-entrant: a
    nested ``CheckpointLock`` of the same checkpoint succeeds at once, and the
    lock is released when the outermost block ends.

    Args:
        path: the checkpoint file (it need not exist yet; its folder must).

    Attributes:
        path: the checkpoint, as given.
        lock_path: the lock file, beside the checkpoint's resolved path.

    Raises:
        CheckpointLockedError: on entering, if another process holds the lock; the message names
            the checkpoint and that process's id.
        OSError: on entering, if the lock file cannot be created (missing or read-only folder).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
        >>> with CheckpointLock(path) as lock:
        ...     with CheckpointLock(path):  # re-entrant within one process
        ...         print(lock.lock_path.name, lock.lock_path.read_text() == f"{os.getpid()}\\n")
        run.safetensors.lock True
        >>> lock.lock_path.exists()
        False
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        final = Path(os.path.realpath(path))
        self.lock_path = final.parent / f"{final.name}.lock"
        self._depth = 0

    def __repr__(self) -> str:
        return f"CheckpointLock({str(self.path)!r})"

    def __enter__(self) -> "CheckpointLock":
        with _GUARD:
            held = _HELD.get(self.lock_path)
            if held is not None and held.pid == os.getpid():
                held.count += 1
            else:  # not held, or held by the process this one was forked from
                _HELD[self.lock_path] = _Held(self._acquire(), 1, os.getpid())
            self._depth += 1
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with _GUARD:
            held = _HELD.get(self.lock_path)
            if self._depth == 0 or held is None or held.pid != os.getpid():
                raise RuntimeError(f"{self!r}: released, but not held")
            self._depth -= 1
            held.count -= 1
            if held.count == 0:
                del _HELD[self.lock_path]
                self._release(held.fd)

    def _acquire(self) -> int:
        """Open, lock and claim the lock file; retry if its holder removed it while this one waited."""
        for _ in range(100):
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as error:
                where = f"CheckpointLock: {self.path}: cannot create the lock file {self.lock_path}"
                raise _os_error(where, error) from error
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _holder(fd)
                os.close(fd)
                raise CheckpointLockedError(
                    f"CheckpointLock: {self.path} is in use by another run "
                    f"(process {pid if pid is not None else 'unknown'}); "
                    "wait for it to finish or use another checkpoint path",
                    path=self.path,
                    pid=pid,
                ) from None
            if self._is_current(fd):
                return self._claim(fd)
            os.close(fd)  # its holder removed it between our open and flock: lock the new one
        raise CheckpointLockedError(
            f"CheckpointLock: {self.path}: its lock file {self.lock_path} keeps being replaced",
            path=self.path,
        )

    def _claim(self, fd: int) -> int:
        """Write this process's id into the locked file; on a full disk, give the lock up and say so."""
        claim = f"{os.getpid()}\n".encode()
        try:
            os.pwrite(fd, claim, 0)
            os.ftruncate(fd, len(claim))
        except OSError as error:
            self._release(fd)
            where = f"CheckpointLock: {self.path}: cannot write the lock file {self.lock_path}"
            raise _os_error(where, error) from error
        return fd

    def _is_current(self, fd: int) -> bool:
        """Whether ``fd`` is still the file at ``lock_path`` (same device and inode)."""
        try:
            on_disk = os.stat(self.lock_path)
        except FileNotFoundError:
            return False
        opened = os.fstat(fd)
        return (on_disk.st_dev, on_disk.st_ino) == (opened.st_dev, opened.st_ino)

    def _release(self, fd: int) -> None:
        """Remove the lock file while still holding it, then let it go."""
        try:
            if self._is_current(fd):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.lock_path)
        finally:
            os.close(fd)
