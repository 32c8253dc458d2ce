"""Script + clips (+ music) -> PCM streams -> ffmpeg -> a track, written whole or not at all.

The voice is streamed in time order (voice_track.py); with music, mix.py lays it under
the voice on the way. Memory holds the clips and a second or two of audio, never the
whole track, and the work is linear in its length. The gain and any limiter in front
of the encoder were planned from the script (track_loudness.py). A voice-only MP3 is
cut at silences into a part per core, encoded side by side (encoder.py) and joined
into one gapless stream (mp3_join.py).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..audio.music import MUSIC_CHANNELS
from ..audio.pcm import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ms_to_samples
from ..durations import format_clock
from ..errors import StorageError, UsageError
from ..machine import usable_cores
from ..routine import ToneName
from ..settings import EncodeSettings
from ..timeline.script import Script
from .encoder import encode
from .formats import audio_format
from .mp3_join import PartsMisaligned, frames_for, join_mp3, plan_parts
from .track_loudness import encoder_levels
from .voice_track import silences, voice_pcm

if TYPE_CHECKING:
    from ..audio.music import Music

__all__ = ["MAX_TRACK_MS", "render"]

SPLIT_MIN_MS = 60_000  # shorter tracks encode faster than two encoders start
MAX_TRACK_MS = 6 * 3_600_000  # longer is a mistake (100 rounds of a 6 h hold), not a workout
Progress = Callable[[int, int], None]


def render(
    script: Script,
    clips: Mapping[str, bytes],
    output: Path,
    *,
    options: EncodeSettings | None = None,
    music: Music | None = None,
    profiles: Mapping[str, list[float]] | None = None,
    finish: Callable[[Path], None] | None = None,
    progress: Progress | None = None,
    tones: Mapping[ToneName, bytes] | None = None,
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
    options = options or EncodeSettings()
    if script.length_ms > MAX_TRACK_MS:
        raise UsageError(
            f"{output}: the track would run {format_clock(script.length_ms)}, over 6 hours: "
            "shorten the routine or give it a length"
        )
    temporary = _temporary_beside(output, audio_format(options.format).suffix)
    track = _Track(script, clips, tones, music, options, profiles)
    track_samples = ms_to_samples(script.length_ms)
    try:
        try:
            track.encode(temporary, _spans(track), progress)
        except PartsMisaligned:  # an ffmpeg whose LAME flushes otherwise: encoded whole
            track.encode(temporary, [(0, track_samples)], progress)
        try:
            if finish:
                finish(temporary)
            os.replace(temporary, output)
        except Exception as error:
            storage = _storage_error(error, output)
            if storage is error:
                raise
            raise storage from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return output


@dataclass(frozen=True)
class _Track:
    """What goes into the encoders: the voice's parts, or all of it under the music."""

    script: Script
    clips: Mapping[str, bytes]
    tones: Mapping[ToneName, bytes] | None
    music: Music | None
    options: EncodeSettings
    profiles: Mapping[str, list[float]] | None = None

    def encode(self, path: Path, spans: list[tuple[int, int]], progress: Progress | None) -> None:
        """Encode the track to ``path``: each span by its own ffmpeg, side by side, joined."""
        parts = [path, *(_temporary_beside(path, f".{i}.mp3") for i in range(1, len(spans)))]
        read_ahead_streams: list[Generator[bytes, None, None]] = []  # closed whatever happens
        try:
            levels = encoder_levels(
                self.script, self.clips, self.options, self.music, self.profiles, self.tones
            )
            if self.music is not None:
                from ..audio.mix import mixed_pcm  # numpy loads only for music

                voice = voice_pcm(self.script, self.clips, self.tones)
                music = replace(self.music, level_db=self.music.level_db + levels.music_offset_db)
                mix = mixed_pcm(voice, self.script, music)
                if levels.in_process and levels.limit_dbfs is not None:
                    from ..audio.peak_limit import limited_pcm
                    from ..audio.read_ahead import read_ahead

                    gain, ceiling = 10 ** (levels.gain_db / 20), 10 ** (levels.limit_dbfs / 20)
                    read_ahead_streams.append(read_ahead(mix))
                    mix = limited_pcm(
                        read_ahead_streams[-1], MUSIC_CHANNELS, gain, ceiling * 32_768
                    )
                streams, channels = [mix], MUSIC_CHANNELS
            else:
                streams = [voice_pcm(self.script, self.clips, self.tones, span) for span in spans]
                channels = CHANNELS
            output_format = audio_format(self.options.format)
            commands = [
                [
                    "-y", "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", str(channels),
                    "-i", "pipe:0", "-af", levels.filter,
                    *output_format.encoder_args(self.options.bitrate_for(channels)),
                    # no random Ogg stream serial, no ffmpeg version in the stream: the
                    # same track gives the same bytes
                    "-fflags", "+bitexact",
                    # the header is rewritten below; tags come later
                    *(["-id3v2_version", "0"] if output_format.splittable else []),
                    str(part),
                ]
                for part in parts
            ]  # fmt: skip
            total_bytes = ms_to_samples(self.script.length_ms) * channels * SAMPLE_WIDTH_BYTES
            encode(commands, streams, _counter(total_bytes, progress))
            if output_format.splittable:  # an MP3: joined, or its header's padding set right
                expected = [frames_for(stop - start) for start, stop in spans[:-1]]
                samples = ms_to_samples(self.script.length_ms)
                try:
                    join_mp3(path, parts[1:], expected, samples)
                except OSError as error:
                    raise StorageError.from_os_error(error, path) from error
        finally:
            for stream in read_ahead_streams:  # its thread and decoder stop now, not at exit
                stream.close()
            for part in parts[1:]:
                part.unlink(missing_ok=True)


def _temporary_beside(output: Path, suffix: str) -> Path:
    """A new empty file beside ``output``, hidden, for a track or part being written."""
    try:
        handle, name = tempfile.mkstemp(
            dir=output.parent, prefix=f".{output.stem}.", suffix=f".part{suffix}"
        )
    except OSError as error:
        raise UsageError(
            f"{output}: cannot write in {str(output.parent)!r}: {error.strerror}"
        ) from None
    os.close(handle)
    return Path(name)


def _spans(track: _Track) -> list[tuple[int, int]]:
    """The parts of the track encoded side by side, (first sample, sample after) each.

    A voice-only MP3 long enough to gain from it is split at silences, a part per core
    (mp3_join.py); music never stops, and other formats prime their streams differently,
    so those are encoded whole.
    """
    length = ms_to_samples(track.script.length_ms)
    count = track.options.encoders or usable_cores()
    whole = track.music is not None or not audio_format(track.options.format).splittable
    if whole or count < 2 or track.script.length_ms < SPLIT_MIN_MS:
        return [(0, length)]
    return plan_parts(length, silences(track.script, track.clips, track.tones), count)


def _counter(total_bytes: int, progress: Progress | None) -> Callable[[int], None] | None:
    """A tally of the PCM sent to the encoders, reported as samples of the track."""
    if progress is None:
        return None
    sent = [0, 0]  # bytes so far, bytes at the last report

    def counted(size: int) -> None:
        sent[0] += size
        if sent[0] - sent[1] >= total_bytes // 100 or sent[0] >= total_bytes:
            sent[1] = sent[0]
            samples = total_bytes // SAMPLE_WIDTH_BYTES
            progress(min(sent[0], total_bytes) // SAMPLE_WIDTH_BYTES, samples)

    return counted


def _storage_error(error: Exception, output: Path) -> Exception:
    """``error`` as a StorageError when an OSError lies behind it (disk full, ...)."""
    fault = _os_error_behind(error)
    return error if fault is None else StorageError.from_os_error(fault, output)


def _os_error_behind(error: BaseException | None) -> OSError | None:
    """The OSError that ``error`` is or wraps (mutagen wraps them in its own errors)."""
    for _ in range(8):  # chains are short; the bound keeps a cycle from hanging us
        if error is None or isinstance(error, OSError):
            return error
        error = error.__cause__ or error.__context__
    return None
