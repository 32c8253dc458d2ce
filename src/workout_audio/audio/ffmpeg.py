"""ffmpeg: which one runs, decoding any audio to our PCM, and wide pipes to and from it."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from functools import cache
from typing import IO

from ..errors import EncoderError
from .pcm import CHANNELS, SAMPLE_RATE_HZ

__all__ = ["decode_to_pcm", "ffmpeg_exe", "widen_pipe"]

PIPE_BYTES = 1 << 20  # a wide pipe to or from ffmpeg: both sides wake each other less often


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


def decode_to_pcm(audio: bytes) -> bytes:
    """Decode any audio ffmpeg reads (MP3, WAV, ...) to our PCM format.

    Raises:
        EncoderError: ffmpeg could not run or could not decode the bytes.
    """
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-i", "pipe:0",
        "-f", "s16le", "-acodec", "pcm_s16le",
        "-ar", str(SAMPLE_RATE_HZ), "-ac", str(CHANNELS),
        "pipe:1",
    ]  # fmt: skip
    try:
        done = subprocess.run(command, input=audio, capture_output=True, check=False)
    except OSError as error:
        raise EncoderError(f"could not run ffmpeg ({command[0]}): {error}") from None
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else f"exit status {done.returncode}"
        raise EncoderError(f"ffmpeg could not decode speech audio: {reason}")
    return done.stdout


def widen_pipe(stream: IO[bytes] | None) -> None:
    """Give a pipe to or from ffmpeg PIPE_BYTES of room (Linux; elsewhere it stays as it is)."""
    try:
        import fcntl  # not on Windows
    except ImportError:
        return
    if stream is not None:
        with contextlib.suppress(OSError, AttributeError):  # older kernels, other Unixes
            fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
