"""Every exception workout-audio raises on purpose.

The CLI turns each of them into one line on stderr and an exit status;
anything else escaping is a bug.
"""

from __future__ import annotations

import errno
from pathlib import Path


class WorkoutAudioError(Exception):
    """Base class: a problem the user can act on, shown as one line."""

    exit_code = 1


class UsageError(WorkoutAudioError):
    """Bad input from the user: a routine, an option or an output path."""

    exit_code = 2


class RoutineError(UsageError):
    """A routine file is malformed or breaks a rule; names file, line and field."""

    def __init__(self, path: str, line: int | None, field: str, message: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.message = message
        where = f"{path}:{line}" if line is not None else path
        prefix = f"{where}: {field}: " if field else f"{where}: "
        super().__init__(prefix + message)


class RoutineErrors(RoutineError):
    """Several problems in one routine file; the first is the headline."""

    def __init__(self, errors: list[RoutineError]) -> None:
        first = errors[0]
        super().__init__(first.path, first.line, first.field, first.message)
        self.errors = errors


class LengthError(UsageError):
    """A target length this routine cannot be stretched or squeezed to."""


class EngineError(WorkoutAudioError):
    """A speech engine is unavailable or failed to synthesise a phrase."""


class EncoderError(WorkoutAudioError):
    """ffmpeg is missing, crashed, or could not write the output."""


class StorageError(WorkoutAudioError):
    """A file or folder could not be read or written: disk full, read-only, no permission."""

    @classmethod
    def from_os_error(cls, error: OSError, path: object = None) -> StorageError:
        """One line: ``path`` (or the error's file), what the system said, the likely cause."""
        path = path or error.filename
        where = f"{path}: " if path else ""
        reason = error.strerror or str(error)
        hint = _OS_ERROR_HINTS.get(error.errno or 0, "")
        return cls(f"{where}{reason}{hint}")


_OS_ERROR_HINTS = {
    errno.ENOSPC: " (the disk is full: free some space and build again)",
    errno.EDQUOT: " (your disk quota is used up)",
    errno.EFBIG: " (the file grew past the size limit)",
    errno.EROFS: " (the disk is mounted read-only)",
    errno.EACCES: " (no permission)",
    errno.EPERM: " (not permitted: is the file or folder locked?)",
}


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwinds like Ctrl-C so every cleanup runs, then exits with 143."""


class StoppedPartway(KeyboardInterrupt):
    """Ctrl-C or SIGTERM after some of several tracks were finished: they stay, and are named.

    Attributes:
        terminated: SIGTERM stopped it (exit 143), not Ctrl-C (exit 130).
        written: the files finished and in place.
        not_written: the files never written.
    """

    def __init__(
        self, stopped: KeyboardInterrupt, written: tuple[Path, ...], not_written: tuple[Path, ...]
    ) -> None:
        super().__init__()
        self.terminated = isinstance(stopped, Terminated)
        self.written = written
        self.not_written = not_written
