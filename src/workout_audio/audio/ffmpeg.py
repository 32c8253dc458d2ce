"""ffmpeg: which one runs, how it is run, and what its failures mean.

Every ffmpeg the product starts goes through here, in one of three shapes: run to
completion with bytes in and out (:func:`run_ffmpeg`, :func:`ffmpeg_log`), or a
process streaming through a wide pipe (:class:`FfmpegProcess`, :func:`ffmpeg_output`).
However it fails, the error is one line naming what ffmpeg was doing: it could not
start, it said why it stopped, it was killed by a signal, or the disk was full.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from functools import cache
from typing import IO

from ..errors import EncoderError, StorageError
from .pcm import CHANNELS, SAMPLE_RATE_HZ

__all__ = [
    "FfmpegError",
    "FfmpegProcess",
    "decode_to_pcm",
    "ffmpeg_command",
    "ffmpeg_exe",
    "ffmpeg_log",
    "ffmpeg_output",
    "run_ffmpeg",
    "widen_pipe",
]

PIPE_BYTES = 1 << 20  # a wide pipe to or from ffmpeg: both sides wake each other less often

# What a killed ffmpeg most likely ran into.
_SIGNAL_CAUSES = {
    "SIGKILL": " (out of memory, or stopped by another program?)",
    "SIGXFSZ": " (the file grew past the size limit)",
}
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # a write failed for lack of room


class FfmpegError(EncoderError):
    """ffmpeg could not run, or failed at its job; ``reason`` is the cause without the job."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@cache
def ffmpeg_exe() -> str:
    """The ffmpeg to run: one on PATH if present, else the one in the imageio-ffmpeg wheel.

    Raises:
        EncoderError: neither is there.
    """
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as error:
        raise EncoderError(
            f"ffmpeg not found: install imageio-ffmpeg or put ffmpeg on PATH ({error})"
        ) from None


def ffmpeg_command(args: Sequence[str], *, log_level: str = "error") -> list[str]:
    """``args`` behind the executable and the arguments every run shares.

    No banner and no progress lines in the log, and ffmpeg never reads the terminal.
    """
    return [ffmpeg_exe(), "-hide_banner", "-nostats", "-nostdin", "-loglevel", log_level, *args]


def run_ffmpeg(args: Sequence[str], *, input: bytes | None = None, what: str) -> bytes:
    """Run ffmpeg to the end with ``input`` on its stdin; its stdout.

    ``what`` says what it was doing, for the error: "decode speech audio".

    Raises:
        FfmpegError: it could not start or failed.
    """
    return _run(ffmpeg_command(args), input, what)[0]


def ffmpeg_log(args: Sequence[str], *, input: bytes | None = None, what: str) -> str:
    """Run ffmpeg to the end for what it reports in its log (a meter's summary); the log.

    Raises:
        FfmpegError: it could not start or failed.
    """
    return _run(ffmpeg_command(args, log_level="info"), input, what)[1]


def _run(command: list[str], stdin: bytes | None, what: str) -> tuple[bytes, str]:
    try:
        # On any exception, an interrupt included, run() kills ffmpeg and waits for it.
        done = subprocess.run(command, input=stdin, capture_output=True, check=False)
    except OSError as error:
        raise _not_run(command[0], what, error) from None
    log = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise ffmpeg_failure(command[0], what, done.returncode, log)
    return done.stdout, log


class FfmpegProcess:
    """One ffmpeg fed on its stdin (``feed``) or read from its stdout, through a wide pipe.

    Its log goes to an unnamed temporary file, so a chatty ffmpeg never blocks on a full
    pipe nobody reads. Whoever starts one calls :meth:`stop` however things end.
    """

    def __init__(self, args: Sequence[str], *, what: str, feed: bool) -> None:
        command = ffmpeg_command(args)
        self.exe = command[0]
        self.what = what
        self.log = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if feed else subprocess.PIPE,
                stderr=self.log,
            )
        except OSError as error:
            self.log.close()
            raise _not_run(self.exe, what, error) from None
        widen_pipe(self.process.stdin if feed else self.process.stdout)

    @property
    def stdin(self) -> IO[bytes]:
        """The pipe into ffmpeg (a process started with ``feed``)."""
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> IO[bytes]:
        """The pipe out of ffmpeg (a process started without ``feed``)."""
        assert self.process.stdout is not None
        return self.process.stdout

    def finish(self) -> None:
        """Wait for ffmpeg to end.

        Raises:
            FfmpegError: it failed (its last words, a signal, or a full disk).
        """
        returncode = self.process.wait()
        if returncode != 0:
            self.log.seek(0)
            log = self.log.read().decode("utf-8", "replace")
            raise ffmpeg_failure(self.exe, self.what, returncode, log)

    def stop(self) -> None:
        """Kill ffmpeg if it still runs, close its pipes, wait for it, let go of its log."""
        if self.process.poll() is None:
            self.process.kill()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):  # a flush into a dead pipe
                    pipe.close()
        self.process.wait()
        self.log.close()


def ffmpeg_output(args: Sequence[str], *, what: str, block_bytes: int) -> Iterator[bytes]:
    """ffmpeg's stdout, ``block_bytes`` at a time; ffmpeg is stopped however this ends.

    Raises:
        FfmpegError: it could not start, or failed (raised after its last block).
    """
    process = FfmpegProcess(args, what=what, feed=False)
    try:
        while data := process.stdout.read(block_bytes):
            yield data
        process.finish()
    finally:
        process.stop()


def ffmpeg_failure(exe: str, what: str, returncode: int, log: str) -> FfmpegError:
    """One line on why ffmpeg stopped while doing ``what``: a signal, a full disk, its last
    words."""
    lines = log.strip().splitlines()
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        reason = f"killed by {name}{_SIGNAL_CAUSES.get(name, '')}"
    else:
        reason = lines[-1].strip() if lines else f"exit status {returncode}"
        for code in _NO_ROOM:
            words = os.strerror(code)  # ffmpeg reports the system's own words
            if any(words in line for line in lines):
                reason = str(StorageError.from_os_error(OSError(code, words)))
                break
    return FfmpegError(f"ffmpeg ({exe}) failed to {what}: {reason}", reason)


def _not_run(exe: str, what: str, error: OSError) -> FfmpegError:
    reason = f"{error.strerror or error}; reinstall imageio-ffmpeg or put a working ffmpeg on PATH"
    return FfmpegError(f"could not run ffmpeg ({exe}) to {what}: {reason}", reason)


def decode_to_pcm(audio: bytes, *, what: str = "decode speech audio") -> bytes:
    """Decode any audio ffmpeg reads (MP3, WAV, ...) to our PCM format.

    Raises:
        FfmpegError: ffmpeg could not run, could not decode the bytes, or found no audio.
    """
    args = [
        "-i", "pipe:0",
        "-f", "s16le", "-acodec", "pcm_s16le",
        "-ar", str(SAMPLE_RATE_HZ), "-ac", str(CHANNELS),
        "pipe:1",
    ]  # fmt: skip
    pcm = run_ffmpeg(args, input=audio, what=what)
    if not pcm:
        reason = "it holds no audio"
        raise FfmpegError(f"ffmpeg ({ffmpeg_exe()}) failed to {what}: {reason}", reason)
    return pcm


def widen_pipe(stream: IO[bytes] | None) -> None:
    """Give a pipe to or from ffmpeg PIPE_BYTES of room (Linux; elsewhere it stays as it is)."""
    try:
        import fcntl  # not on Windows
    except ImportError:
        return
    if stream is not None:
        with contextlib.suppress(OSError, AttributeError):  # older kernels, other Unixes
            fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
