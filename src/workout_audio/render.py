"""Script + clips (+ music) -> one PCM stream -> ffmpeg -> MP3, written whole or not at all.

Events never overlap, so the voice is streamed in time order: silence up to
each event, then its samples. With music, mix.py lays it under the voice on the
way. Memory holds the clips and a second or two of audio, never the whole
track, and the work is linear in its length. ffmpeg lifts the mix to the
target loudness in front of the encoder (loudness.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .audio import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ffmpeg_exe, ms_to_samples
from .durations import format_clock
from .errors import EncoderError, StorageError, UsageError
from .formats import audio_format
from .loudness import (
    BIN_MS,
    CLIP_LOUDNESS_LUFS,
    DEFAULT_TARGET_LUFS,
    add_powers,
    encoder_filter,
    gated_loudness,
    lufs_to_power,
    speech_profile,
)
from .script import Script
from .sounds import TONE_SHAPES, tones_for

if TYPE_CHECKING:
    from .music import Music

__all__ = ["EncodeOptions", "check_output", "render"]

SILENCE_CHUNK_SAMPLES = SAMPLE_RATE_HZ  # one second of zeros per write
MAX_TRACK_MS = 6 * 3_600_000  # longer is a mistake (100 rounds of a 6 h hold), not a workout
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EncodeOptions:
    """How the track is encoded: bitrate (None: 96 kbit/s mono, 128 with music) and loudness."""

    bitrate_kbps: int | None = None
    loudness_lufs: float = DEFAULT_TARGET_LUFS
    format: str = "mp3"  # a name in formats.FORMATS

    def bitrate_for(self, channels: int) -> int:
        """The bitrate asked for, or the default for this many channels."""
        return self.bitrate_kbps or (96 if channels == 1 else 128)


def predicted_lufs(
    script: Script,
    clips: Mapping[str, bytes],
    music: Music | None = None,
    profiles: Mapping[str, list[float]] | None = None,
) -> float:
    """The loudness the mix will measure before the encoder's gain, from the script alone.

    Each clip's K-weighted power profile (stored with it in the cache; measured here only
    when not given) and each tone's set level say what plays when, so the track's loudness
    follows without analysing the mix.
    """
    channels, powers = CHANNELS, [0.0] * -(-script.length_ms // BIN_MS)
    if music is not None:
        from .mix import MUSIC_CHANNELS, music_bin_powers

        channels, powers = MUSIC_CHANNELS, music_bin_powers(script, music)
    given = profiles or {}
    known = {text: given.get(text) or speech_profile(pcm) for text, pcm in clips.items()}
    for event in script.events:
        if event.kind == "speech":
            profile = known[event.text or ""]
        else:
            tone_power = lufs_to_power(CLIP_LOUDNESS_LUFS + TONE_SHAPES[event.tone or ""][1])
            profile = [tone_power] * (event.duration_ms // BIN_MS)
        add_powers(powers, event.start_ms, profile, channels)  # the voice is in every channel
    return gated_loudness(powers)


_SILENCE = bytes(SILENCE_CHUNK_SAMPLES * SAMPLE_WIDTH_BYTES)


def _silence(samples: int) -> Iterator[bytes]:
    while samples > 0:
        step = min(samples, SILENCE_CHUNK_SAMPLES)
        yield _SILENCE[: step * SAMPLE_WIDTH_BYTES]
        samples -= step


def voice_pcm(
    script: Script,
    clips: Mapping[str, bytes],
    progress: Progress | None = None,
    tones: Mapping[str, bytes] | None = None,
) -> Iterator[bytes]:
    """The voice track (mono PCM: cues, tones and silence) in time order, piece by piece.

    ``tones`` replaces generated tones by name (see :func:`workout_audio.sounds.load_sound`).
    """
    tones = tones_for(tones)
    cursor = 0  # samples yielded so far
    total = ms_to_samples(script.length_ms)
    for index, event in enumerate(script.events):
        start = ms_to_samples(event.start_ms)
        if start < cursor:
            raise AssertionError(f"events overlap at {event.start_ms} ms: {event}")
        yield from _silence(start - cursor)
        pcm = clips[event.text or ""] if event.kind == "speech" else tones[event.tone or ""]
        if len(pcm) // SAMPLE_WIDTH_BYTES > ms_to_samples(event.end_ms) - start + 1:
            raise AssertionError(f"clip longer than its slot: {event}")
        yield pcm
        cursor = start + len(pcm) // SAMPLE_WIDTH_BYTES
        if progress and index % 16 == 0:
            progress(cursor, total)
    if cursor > total:
        raise AssertionError("events run past the end of the track")
    yield from _silence(total - cursor)
    if progress:
        progress(total, total)


def _stream_pcm(pieces: Iterator[bytes], stream: IO[bytes]) -> None:
    try:
        for piece in pieces:
            stream.write(piece)
    finally:
        if hasattr(pieces, "close"):
            pieces.close()  # stops the music's decoders at once


def _encode(command: list[str], pieces: Iterator[bytes]) -> None:
    """Stream the track into ffmpeg; on any failure or interrupt, ffmpeg is stopped."""
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: ffmpeg never blocks on it
        try:
            encoder = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log
            )
        except OSError as error:
            raise EncoderError(
                f"could not run ffmpeg ({command[0]}): {error.strerror or error}; "
                "reinstall imageio-ffmpeg or put a working ffmpeg on PATH"
            ) from None
        with encoder:  # closes stdin and waits for ffmpeg on the way out
            assert encoder.stdin is not None
            try:
                _stream_pcm(pieces, encoder.stdin)
            except BrokenPipeError:
                pass  # ffmpeg stopped reading; its log says why
            except BaseException:
                encoder.kill()
                raise
            finally:
                # Closed here: a flush into a dead pipe must neither hide ffmpeg's own error
                # (its log, read below) nor replace an interrupt that is unwinding.
                with contextlib.suppress(OSError):
                    encoder.stdin.close()
        if encoder.returncode != 0:
            log.seek(0)
            lines = log.read().decode("utf-8", "replace").strip().splitlines()
            raise EncoderError(_encoder_failure(command[0], encoder.returncode, lines))


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


def check_output(output: Path) -> None:
    """Refuse, before any work, an output path the track could not be written to.

    Raises:
        UsageError: the folder is missing or not writable, the path is a folder, or an
            earlier file there is read-only.
    """
    folder = output.parent
    if output.is_dir():
        raise UsageError(f"{output}: is a folder; give a file name, like {output / 'track.mp3'}")
    if not folder.exists():
        raise UsageError(f"{output}: folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{output}: {str(folder)!r} is a file, not a folder")
    if output.exists() and not os.access(output, os.W_OK):
        raise UsageError(f"{output}: the file there is read-only or locked; not replacing it")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(f"{output}: cannot write in {str(folder)!r}: {error.strerror}") from None


def render(
    script: Script,
    clips: Mapping[str, bytes],
    output: Path,
    *,
    options: EncodeOptions | None = None,
    music: Music | None = None,
    profiles: Mapping[str, list[float]] | None = None,
    finish: Callable[[Path], None] | None = None,
    progress: Progress | None = None,
    tones: Mapping[str, bytes] | None = None,
) -> Path:
    """Encode ``script`` to an MP3 at ``output``: mono, or stereo with ``music`` under it.

    The MP3 is written to a temporary file beside ``output``, handed to
    ``finish`` (to add tags), and renamed over ``output`` only when complete:
    a failed or interrupted render leaves any earlier file untouched.

    Raises:
        UsageError: the output folder does not exist or is not writable, or the track
            would be absurdly long (over ``MAX_TRACK_MS``).
        EncoderError: ffmpeg failed.
        StorageError: the finished track could not be written (disk full, ...).
    """
    options = options or EncodeOptions()
    folder = output.parent
    check_output(output)
    if script.length_ms > MAX_TRACK_MS:
        raise UsageError(
            f"{output}: the track would run {format_clock(script.length_ms)}, over 6 hours: "
            "shorten the routine or give it a length"
        )
    try:
        suffix = f".part{audio_format(options.format).suffix}"
        handle, name = tempfile.mkstemp(dir=folder, prefix=f".{output.stem}.", suffix=suffix)
    except OSError as error:
        raise UsageError(f"{output}: cannot write in {str(folder)!r}: {error.strerror}") from None
    os.close(handle)
    temporary = Path(name)
    pieces = voice_pcm(script, clips, progress, tones)
    channels = CHANNELS
    if music is not None:
        from .mix import MUSIC_CHANNELS, mixed_pcm  # numpy loads only for music

        pieces, channels = mixed_pcm(pieces, script, music), MUSIC_CHANNELS
    gain_db = options.loudness_lufs - predicted_lufs(script, clips, music, profiles)
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", str(channels), "-i", "pipe:0",
        "-af", encoder_filter(gain_db),
        *audio_format(options.format).encoder_args(options.bitrate_for(channels)),
        str(temporary),
    ]  # fmt: skip
    try:
        _encode(command, pieces)
        try:
            if finish:
                finish(temporary)
            os.replace(temporary, output)
        except Exception as error:
            fault = _os_error_behind(error)
            if fault is None:
                raise
            raise StorageError.from_os_error(fault, output) from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return output


def _os_error_behind(error: BaseException | None) -> OSError | None:
    """The OSError that ``error`` is or wraps (mutagen wraps them in its own errors)."""
    for _ in range(8):  # chains are short; the bound keeps a cycle from hanging us
        if error is None or isinstance(error, OSError):
            return error
        error = error.__cause__ or error.__context__
    return None
