"""Files written whole or not at all: a temporary file beside the target, renamed over it.

Every file the program leaves behind (tracks, side files, cache entries, downloaded
voices) goes through here, so a reader, or another build running at the same time,
sees the old file or the new one and never half of one, and a write that fails or is
interrupted leaves nothing behind. Temporary files are hidden (``.NAME.XXXX.part``)
so a folder listing does not show them, and take the permissions the user's umask
gives a new file (``mkstemp`` alone would make them private).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StorageError

__all__ = [
    "PART_SUFFIX",
    "Pending",
    "file_facts",
    "give_usual_permissions",
    "pending_file",
    "write_whole",
]

PART_SUFFIX = ".part"  # every temporary file ends so (perhaps followed by its own suffix)
_umask: int | None = None
_umask_lock = threading.Lock()


def _user_umask() -> int:
    """The process's umask, read once.

    Linux states it in /proc; elsewhere it can only be read by setting it, which for a
    moment leaves other threads' new files open to all, so that is done only once.
    """
    global _umask
    with _umask_lock:
        if _umask is None:
            try:
                with open("/proc/self/status", encoding="ascii") as status:
                    line = next(line for line in status if line.startswith("Umask:"))
                _umask = int(line.split()[1], 8)
            except (OSError, StopIteration, ValueError, IndexError):
                _umask = os.umask(0o022)
                os.umask(_umask)
        return _umask


def give_usual_permissions(path: Path) -> None:
    """Let ``path`` be read as any new file of the user's would be (``0o666`` less the umask)."""
    path.chmod(0o666 & ~_user_umask())


class Pending:
    """A temporary file beside ``target``: fill ``path``, then :meth:`commit` it into place."""

    def __init__(self, target: Path, path: Path) -> None:
        self.target, self.path = target, path
        self.committed = False

    def commit(self, mode: int | None = None) -> Path:
        """Rename the filled temporary file over the target, with the usual permissions
        or ``mode`` (``0o600`` for a secret, which is then never readable by others).

        Raises:
            OSError: the rename failed (the temporary file is removed when the block ends).
        """
        if mode is None:
            give_usual_permissions(self.path)
        else:
            self.path.chmod(mode)
        os.replace(self.path, self.target)
        self.committed = True
        return self.target


@contextmanager
def pending_file(target: Path, suffix: str = "") -> Iterator[Pending]:
    """A new empty hidden file beside ``target`` (``.NAME.XXXX.part`` + ``suffix``) that the
    block fills and commits; it is removed if the block ends any other way.

    ``suffix`` lets a tool that picks its format from the name (ffmpeg) write into it.

    Raises:
        OSError: the temporary file could not be made (no such folder, no permission).
    """
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=PART_SUFFIX + suffix
    )
    os.close(handle)
    pending = Pending(target, Path(name))
    try:
        yield pending
    finally:
        if not pending.committed:
            pending.path.unlink(missing_ok=True)


def write_whole(path: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` through a temporary file, with the user's usual permissions
    or ``mode``.

    Raises:
        StorageError: the file could not be written (disk full, no permission, ...).
    """
    try:
        with pending_file(path) as pending:
            pending.path.write_bytes(data)
            return pending.commit(mode)
    except OSError as error:
        raise StorageError.from_os_error(error, path) from None


def file_facts(path: Path) -> list[tuple[str, int, int]]:
    """Each file's name, size and time (a folder's files, in name order): what a stamp
    compares to see that a file a track reads was changed, without reading it."""
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    return [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file()]
