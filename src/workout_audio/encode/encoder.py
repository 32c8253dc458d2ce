"""ffmpeg as the encoder: PCM in on a pipe, a file out, one process or several side by side.

However it ends (a failure, a full disk, an interrupt), every ffmpeg started here
is stopped and waited for, and the error names what went wrong in one line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from ..audio.ffmpeg import FfmpegProcess

__all__ = ["encode"]

Counted = Callable[[int], None]  # told how many bytes went in, after each piece


def _feed(encoder: FfmpegProcess, pieces: Iterator[bytes], counted: Counted | None) -> None:
    """Write every piece, then close the pipe; if ffmpeg stops reading, stop writing."""
    stdin = encoder.stdin
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


def encode(
    commands: Sequence[list[str]],
    streams: Sequence[Iterator[bytes]],
    counted: Counted | None = None,
) -> None:
    """Run one ffmpeg per command (its arguments) at once, each fed its stream of PCM on stdin.

    Raises:
        FfmpegError: an ffmpeg could not start or failed; the others are stopped.
    """
    encoders: list[FfmpegProcess] = []
    try:
        for command in commands:
            encoders.append(FfmpegProcess(command, what="encode the track", feed=True))
        with ThreadPoolExecutor(max(len(encoders) - 1, 1), thread_name_prefix="encode") as pool:
            try:
                # Writing lets go of the GIL: the threads only move bytes into the pipes.
                others = [
                    pool.submit(_feed, encoder, stream, counted)
                    for encoder, stream in zip(encoders[1:], streams[1:], strict=True)
                ]
                _feed(encoders[0], streams[0], counted)
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
