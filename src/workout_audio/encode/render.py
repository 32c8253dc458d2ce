"""Script + clips (+ music) -> PCM streams -> ffmpeg -> MP3, written whole or not at all.

Events never overlap, so the voice is streamed in time order: silence up to
each event, then its samples. With music, mix.py lays it under the voice on the
way. Memory holds the clips and a second or two of audio, never the whole
track, and the work is linear in its length. ffmpeg lifts the mix to the
target loudness in front of the encoder (loudness.py). A voice-only MP3 is cut
at silences into a part per core, encoded side by side (encoder.py) and joined
into one gapless stream (mp3_join.py).
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..audio.loudness import (
    BIN_MS,
    CLIP_LOUDNESS_LUFS,
    add_powers,
    encoder_filter,
    gated_loudness,
    lufs_to_power,
    silent_powers,
    speech_profile,
)
from ..audio.pcm import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ms_to_samples
from ..audio.tones import TONE_SHAPES, tones_for
from ..durations import format_clock
from ..errors import StorageError, UsageError
from ..machine import usable_cores
from ..routine import ToneName
from ..settings import EncodeSettings
from ..speech.clip_store import ClipStore
from ..timeline.script import Script
from .encoder import encode
from .formats import audio_format
from .mp3_join import PartsMisaligned, frames_for, join_mp3, plan_parts

if TYPE_CHECKING:
    from ..audio.music import Music

__all__ = ["render"]

SILENCE_CHUNK_SAMPLES = SAMPLE_RATE_HZ  # one second of zeros per write
SPLIT_MIN_MS = 60_000  # shorter tracks encode faster than two encoders start
MAX_TRACK_MS = 6 * 3_600_000  # longer is a mistake (100 rounds of a 6 h hold), not a workout
Progress = Callable[[int, int], None]


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
    channels, powers = CHANNELS, silent_powers(script.length_ms)
    if music is not None:
        from ..audio.mix import MUSIC_CHANNELS, music_bin_powers

        channels, powers = MUSIC_CHANNELS, music_bin_powers(script, music)
    given = profiles or {}
    known = {text: given.get(text) or speech_profile(pcm) for text, pcm in clips.items()}
    for event in script.events:
        if event.tone is None:  # a spoken cue
            profile = known[event.text or ""]
        else:
            tone_power = lufs_to_power(CLIP_LOUDNESS_LUFS + TONE_SHAPES[event.tone][1])
            profile = [tone_power] * (event.duration_ms // BIN_MS)
        add_powers(powers, event.start_ms, profile, channels)  # the voice is in every channel
    return gated_loudness(powers)


_SILENCE = bytes(SILENCE_CHUNK_SAMPLES * SAMPLE_WIDTH_BYTES)


def _silence(samples: int) -> Iterator[bytes]:
    while samples > 0:
        step = min(samples, SILENCE_CHUNK_SAMPLES)
        yield _SILENCE[: step * SAMPLE_WIDTH_BYTES]
        samples -= step


def _placed(
    script: Script, clips: Mapping[str, bytes], tones: Mapping[ToneName, bytes]
) -> Iterator[tuple[int, int, Callable[[], bytes]]]:
    """Each event's first sample, its length in samples and how to get its PCM, in time
    order, checked to fit its slot. Nothing is read: clips kept in the cache stay there."""
    cursor = 0
    for event in script.events:
        start = ms_to_samples(event.start_ms)
        if start < cursor:
            raise AssertionError(f"events overlap at {event.start_ms} ms: {event}")
        if event.tone is None:  # a spoken cue
            text = event.text or ""
            samples = _byte_count(clips, text) // SAMPLE_WIDTH_BYTES
            read = functools.partial(clips.__getitem__, text)
        else:
            samples = len(tones[event.tone]) // SAMPLE_WIDTH_BYTES
            read = functools.partial(tones.__getitem__, event.tone)
        if samples > ms_to_samples(event.end_ms) - start + 1:
            raise AssertionError(f"clip longer than its slot: {event}")
        yield start, samples, read
        cursor = start + samples
    if cursor > ms_to_samples(script.length_ms):
        raise AssertionError("events run past the end of the track")


def _byte_count(clips: Mapping[str, bytes], text: str) -> int:
    return clips.byte_count(text) if isinstance(clips, ClipStore) else len(clips[text])


def voice_pcm(
    script: Script,
    clips: Mapping[str, bytes],
    tones: Mapping[ToneName, bytes] | None = None,
    span: tuple[int, int] | None = None,
) -> Iterator[bytes]:
    """The voice track (mono PCM: cues, tones and silence) in time order, piece by piece.

    ``tones`` replaces generated tones by name (see :func:`workout_audio.audio.tones.load_sound`);
    ``span`` (first sample, sample after the last) gives that part of the track alone, and
    reads only the clips in it.
    """
    first, stop = span or (0, ms_to_samples(script.length_ms))
    cursor = first  # the next sample to yield
    for start, samples, read in _placed(script, clips, tones_for(tones)):
        end = start + samples
        if end <= cursor:
            continue
        if start >= stop:
            break
        yield from _silence(start - cursor)
        cut = max(cursor - start, 0)
        yield read()[cut * SAMPLE_WIDTH_BYTES : (min(end, stop) - start) * SAMPLE_WIDTH_BYTES]
        cursor = min(end, stop)
    yield from _silence(stop - cursor)


def silences(
    script: Script, clips: Mapping[str, bytes], tones: Mapping[ToneName, bytes] | None = None
) -> list[tuple[int, int]]:
    """The runs of silence between the voice's events, as (first sample, sample after)."""
    found, cursor = [], 0
    for start, samples, _ in _placed(script, clips, tones_for(tones)):
        if start > cursor:
            found.append((cursor, start))
        cursor = start + samples
    length = ms_to_samples(script.length_ms)
    if length > cursor:
        found.append((cursor, length))
    return found


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
        try:
            if self.music is not None:
                from ..audio.mix import MUSIC_CHANNELS, mixed_pcm  # numpy loads only for music

                voice = voice_pcm(self.script, self.clips, self.tones)
                streams, channels = [mixed_pcm(voice, self.script, self.music)], MUSIC_CHANNELS
            else:
                streams = [voice_pcm(self.script, self.clips, self.tones, span) for span in spans]
                channels = CHANNELS
            gain_db = self.options.loudness_lufs - predicted_lufs(
                self.script, self.clips, self.music, self.profiles
            )
            output_format = audio_format(self.options.format)
            commands = [
                [
                    "-y", "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", str(channels),
                    "-i", "pipe:0", "-af", encoder_filter(gain_db),
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
