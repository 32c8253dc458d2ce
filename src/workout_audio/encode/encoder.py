"""ffmpeg as the encoder: PCM in on a pipe, a file out, one process or several side by side.

However it ends (a failure, a full disk, an interrupt), every ffmpeg started here
is stopped and waited for, and the error names what went wrong in one line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from ..audio.ffmpeg import widen_pipe
from ..errors import EncoderError, StorageError

__all__ = ["encode"]

Counted = Callable[[int], None]  # told how many bytes went in, after each piece


class _Encoder:
    """One ffmpeg process reading PCM on its stdin, its log in a file (never blocks it)."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.log = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.log
            )
        except OSError as error:
            self.log.close()
            raise EncoderError(
                f"could not run ffmpeg ({command[0]}): {error.strerror or error}; "
                "reinstall imageio-ffmpeg or put a working ffmpeg on PATH"
            ) from None
        widen_pipe(self.process.stdin)

    def feed(self, pieces: Iterator[bytes], counted: Counted | None = None) -> None:
        """Write every piece, then close the pipe; if ffmpeg stops reading, stop writing."""
        stdin = self.process.stdin
        assert stdin is not None
        try:
            for piece in pieces:
                stdin.write(piece)
                if counted:
                    counted(len(piece))
        except BrokenPipeError:
            pass  # ffmpeg stopped reading; its log says why
        finally:
            if hasattr(pieces, "close"):
                pieces.close()  # stops the music's decoders at once
            # Closed here: a flush into a dead pipe must neither hide ffmpeg's own error
            # (its log, read in finish) nor replace an interrupt that is unwinding.
            with contextlib.suppress(OSError):
                stdin.close()

    def finish(self) -> None:
        """Wait for ffmpeg to end.

        Raises:
            EncoderError: it failed (its last words, a signal, or a full disk).
        """
        returncode = self.process.wait()
        if returncode != 0:
            self.log.seek(0)
            lines = self.log.read().decode("utf-8", "replace").strip().splitlines()
            raise EncoderError(_encoder_failure(self.command[0], returncode, lines))

    def stop(self) -> None:
        """Kill ffmpeg if it still runs, wait for it, and let go of its log."""
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        self.process.wait()
        self.log.close()


def encode(
    commands: Sequence[list[str]],
    streams: Sequence[Iterator[bytes]],
    counted: Counted | None = None,
) -> None:
    """Run one ffmpeg per command at once, each fed its stream of PCM on stdin.

    Raises:
        EncoderError: an ffmpeg could not start or failed; the others are stopped.
    """
    encoders: list[_Encoder] = []
    try:
        for command in commands:
            encoders.append(_Encoder(command))
        with ThreadPoolExecutor(max(len(encoders) - 1, 1), thread_name_prefix="encode") as pool:
            try:
                # Writing lets go of the GIL: the threads only move bytes into the pipes.
                others = [
                    pool.submit(encoder.feed, stream, counted)
                    for encoder, stream in zip(encoders[1:], streams[1:], strict=True)
                ]
                encoders[0].feed(streams[0], counted)
                for other in others:
                    other.result()
            except BaseException:
                for encoder in encoders:  # unblocks the other writers at once
                    encoder.stop()
                raise
        for encoder in encoders:
            encoder.finish()
    finally:
        for encoder in encoders:
            encoder.stop()


# What a killed encoder most likely ran into.
_SIGNAL_CAUSES = {
    "SIGKILL": " (out of memory, or stopped by another program?)",
    "SIGXFSZ": " (the file grew past the size limit)",
}
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # a write failed for lack of room


def _encoder_failure(exe: str, returncode: int, log_lines: list[str]) -> str:
    """One line on why ffmpeg stopped: its last words, a signal, or a full disk."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"ffmpeg ({exe}) was killed by {name} while encoding{_SIGNAL_CAUSES.get(name, '')}"
    last = log_lines[-1].strip() if log_lines else f"exit status {returncode}"
    for code in _NO_ROOM:
        words = os.strerror(code)  # ffmpeg reports the system's own words
        if any(words in line for line in log_lines):
            cause = StorageError.from_os_error(OSError(code, words))
            return f"ffmpeg could not write the track: {cause}"
    return f"ffmpeg ({exe}) failed while encoding: {last}"
