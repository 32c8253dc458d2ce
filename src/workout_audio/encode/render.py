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
import logging
import math
import os
import tempfile
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..audio.levelling import CLIP_CREST_DB
from ..audio.loudness import (
    BIN_MS,
    CLIP_LOUDNESS_LUFS,
    TRUE_PEAK_CEILING_DBTP,
    add_powers,
    encoder_filter,
    gated_loudness,
    lufs_to_power,
    silent_powers,
    sine_peak_dbfs,
    speech_profile,
)
from ..audio.music import MUSIC_CHANNELS
from ..audio.pcm import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ms_to_samples
from ..audio.tones import TONE_SHAPES, tones_for
from ..durations import format_clock
from ..errors import StorageError, UsageError
from ..levels import target_lufs
from ..machine import usable_cores
from ..routine import ToneName
from ..settings import EncodeSettings
from ..speech.clip_store import ClipStore
from ..timeline.script import TONE_MS, Script
from .encoder import encode
from .formats import audio_format
from .mp3_join import PartsMisaligned, frames_for, join_mp3, plan_parts

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ..audio.music import Music

__all__ = ["EncoderLevels", "encoder_levels", "predicted_lufs", "render"]

log = logging.getLogger(__name__)

SILENCE_CHUNK_SAMPLES = SAMPLE_RATE_HZ  # one second of zeros per write
SPLIT_MIN_MS = 60_000  # shorter tracks encode faster than two encoders start
MAX_TRACK_MS = 6 * 3_600_000  # longer is a mistake (100 rounds of a 6 h hold), not a workout
Progress = Callable[[int, int], None]


def predicted_powers(
    script: Script,
    clips: Mapping[str, bytes],
    music: Music | None = None,
    profiles: Mapping[str, list[float]] | None = None,
    tones: Mapping[ToneName, bytes] | None = None,
    band_hz: float | None = None,
    *,
    voice: bool = True,
) -> npt.NDArray[np.float64] | array[float]:
    """The mix's K-weighted power in each BIN_MS, summed over its channels, before the
    encoder's gain: what the meter will see, from the script alone.

    Each clip's power profile (stored with it in the cache; measured here only when not
    given) is placed at its cue, each generated tone at its set level for its length (a
    replaced sound is measured), and the music's own measured powers, looped, crossfaded,
    ducked and faded as they will play (mix.py), are added under them: unrelated sounds,
    so their powers add. The voice plays in every channel of a stereo mix. ``band_hz``:
    the band the codec keeps (the music's power above it is left out; speech and tones
    have none there).
    """
    channels = CHANNELS if music is None else MUSIC_CHANNELS
    powers: npt.NDArray[np.float64] | array[float] = silent_powers(script.length_ms)
    if music is not None:  # numpy is loaded for the music anyway
        from ..audio.mix import music_bin_powers

        powers = music_bin_powers(script, music, band_hz)
    if not voice:  # the music alone
        return powers
    given = profiles or {}
    known = {text: given.get(text) or speech_profile(pcm) for text, pcm in clips.items()}
    sounds = _tone_profiles(tones)
    for event in script.events:
        profile = known[event.text or ""] if event.tone is None else sounds[event.tone]
        add_powers(powers, ms_to_samples(event.start_ms), profile, channels)
    return powers


def predicted_lufs(
    script: Script,
    clips: Mapping[str, bytes],
    music: Music | None = None,
    profiles: Mapping[str, list[float]] | None = None,
    tones: Mapping[ToneName, bytes] | None = None,
    band_hz: float | None = None,
) -> float:
    """The loudness the mix will measure before the encoder's gain: its predicted powers,
    gated block by block as the meter gates them (loudness.gated_loudness)."""
    return gated_loudness(predicted_powers(script, clips, music, profiles, tones, band_hz))


def _tone_profiles(tones: Mapping[ToneName, bytes] | None) -> dict[ToneName, list[float]]:
    """Each tone's power per BIN_MS: a generated tone is a steady sine at its set loudness
    for its length; a replaced sound is measured (it was brought to that loudness as a
    whole, but its power moves)."""
    replaced = dict(tones or {})
    profiles = {name: speech_profile(pcm) for name, pcm in replaced.items()}
    for name, (_, against_voice_lu) in TONE_SHAPES.items():
        if name not in profiles:
            samples = ms_to_samples(TONE_MS[name])
            power = lufs_to_power(CLIP_LOUDNESS_LUFS + against_voice_lu)
            profiles[name] = [power] * (samples // ms_to_samples(BIN_MS))
    return profiles


def predicted_peak_dbfs(
    music: Music | None, tones: Mapping[ToneName, bytes] | None = None
) -> float:
    """The highest true peak the mix can reach before the encoder's gain.

    Clips' sample peaks are held CLIP_CREST_DB over their loudness when they enter the
    cache (a peak between samples adds a little more: _VOICE_TRUE_PEAK_DB); a tone's peak
    follows from its level, a replaced sound's from its samples; each music file's true
    peak was measured with its loudness, and it plays at its own gain. A cue sounds over
    the music ducked under it; a tone over the music at full level (ticks do not dip it).
    """
    voice_db = CLIP_LOUDNESS_LUFS + CLIP_CREST_DB + _VOICE_TRUE_PEAK_DB
    replaced = dict(tones or {})
    tone_db = max(
        _pcm_peak_dbfs(replaced[name])
        if name in replaced
        else max(sine_peak_dbfs(CLIP_LOUDNESS_LUFS + level, hz) for hz in frequencies)
        for name, (frequencies, level) in TONE_SHAPES.items()
    )
    if music is None:
        return max(voice_db, tone_db)
    from ..audio.mix import music_peak_dbtp

    music_db = music_peak_dbtp(music)
    return max(_summed_db(voice_db, music_db - music.duck_db), _summed_db(tone_db, music_db))


_VOICE_TRUE_PEAK_DB = 0.5  # speech's true peak over its held sample peak, at most


def _pcm_peak_dbfs(pcm: bytes) -> float:
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2")
    peak = int(np.abs(samples.astype(np.int32)).max()) if len(samples) else 0
    return 20 * math.log10(max(peak, 1) / 32768)


def _summed_db(first_db: float, second_db: float) -> float:
    """The peak of two sounds whose peaks may meet (their amplitudes add)."""
    return 20 * math.log10(10 ** (first_db / 20) + 10 ** (second_db / 20))


@dataclass(frozen=True)
class EncoderLevels:
    """What ffmpeg does in front of the encoder: one gain for the whole mix, and a limiter
    on its peaks only when the predicted peaks, after that gain and the codec's overshoot,
    would pass TRUE_PEAK_CEILING_DBTP."""

    gain_db: float
    predicted_lufs: float
    predicted_peak_dbtp: float  # as decoded: after the gain and the codec's overshoot
    limit_dbfs: float | None
    # The gain and the limiter are applied in this process (peak_limit.py), true peaks
    # held at limit_dbfs, and ffmpeg only encodes: a track with music that needs limiting.
    in_process: bool = False
    # The music a fraction of a decibel off its set level: clear of the meter's gate
    # (_clear_of_the_gate). The mix plays it so.
    music_offset_db: float = 0.0

    @property
    def filter(self) -> str:
        """ffmpeg's filter for these levels."""
        if self.in_process:
            return "anull"
        return encoder_filter(self.gain_db, self.limit_dbfs)


def encoder_levels(
    script: Script,
    clips: Mapping[str, bytes],
    options: EncodeSettings,
    music: Music | None = None,
    profiles: Mapping[str, list[float]] | None = None,
    tones: Mapping[ToneName, bytes] | None = None,
) -> EncoderLevels:
    """The gain that brings the track, as decoded, to its target, and the limiter it needs.

    The target is as heard (levels.target_lufs: mono 3 LU under stereo); the format's codec
    changes the loudness a player measures by a known amount (formats.py), made up here.
    """
    output_format = audio_format(options.format)
    channels = CHANNELS if music is None else MUSIC_CHANNELS
    heard_lufs = target_lufs(options.loudness_lufs, channels)
    target = heard_lufs - output_format.loudness_change_lu
    music_offset_db = 0.0
    if music is None:
        powers = predicted_powers(script, clips, None, profiles, tones)
    else:
        powers, music_offset_db = _clear_of_the_gate(
            predicted_powers(script, clips, music, profiles, tones, output_format.band_hz),
            predicted_powers(script, {}, music, {}, {}, output_format.band_hz, voice=False),
            heard_lufs - output_format.loudness_change_lu,
        )
        music = replace(music, level_db=music.level_db + music_offset_db)
    predicted = gated_loudness(powers)
    gain_db = _gain_to(powers, heard_lufs, output_format.loudness_change_lu)
    peak_dbtp = predicted_peak_dbfs(music, tones) + gain_db + output_format.peak_overshoot_db
    if peak_dbtp <= TRUE_PEAK_CEILING_DBTP:
        return EncoderLevels(gain_db, predicted, peak_dbtp, None, music_offset_db=music_offset_db)
    limit_dbfs = TRUE_PEAK_CEILING_DBTP - output_format.peak_overshoot_db
    log.info(
        "peaks up to %.1f dBTP predicted: a limiter holds them at %.1f dBTP",
        peak_dbtp, limit_dbfs,
    )  # fmt: skip
    if music is None:  # rare (a loud target): ffmpeg's limiter, the voice split in parts
        return EncoderLevels(gain_db, predicted, peak_dbtp, limit_dbfs)
    gain_db = _limited_gain_db(script, clips, tones, music, powers, target, gain_db, limit_dbfs)
    return EncoderLevels(
        gain_db, predicted, peak_dbtp, limit_dbfs, in_process=True, music_offset_db=music_offset_db
    )


# A track whose rests hold the music right at the meter's relative gate measures a whole
# LU louder or quieter as the codec's noise tips those blocks one way or the other. The
# music then moves by the least of these (decibels) that clears most of them off the gate:
# too little to hear against the voice.
_MUSIC_NUDGES_DB = (0.0, -0.25, 0.25, -0.5, 0.5, -0.75, 0.75)
_EDGE_ALLOWED_LU = 0.2  # blocks near the gate may move the loudness this far, no more


def _clear_of_the_gate(
    track: npt.NDArray[np.float64] | array[float],
    music: npt.NDArray[np.float64] | array[float],
    target_lufs: float,
) -> tuple[npt.NDArray[np.float64], float]:
    """The track's powers (``music`` is its music's part) with the music nudged, and by how
    much, so that few blocks sit on the meter's relative gate at the gain that reaches
    ``target_lufs``."""
    import numpy as np

    from ..audio.loudness import gate_edge_lu

    track_bins, music_bins = np.asarray(track), np.asarray(music)
    best: tuple[float, npt.NDArray[np.float64], float] | None = None
    for nudge_db in _MUSIC_NUDGES_DB:
        powers = track_bins + music_bins * (10 ** (nudge_db / 10) - 1)
        edge_lu = gate_edge_lu(powers, target_lufs - gated_loudness(powers))
        if edge_lu <= _EDGE_ALLOWED_LU:
            if nudge_db:
                log.info("the music moves %+.2f dB, clear of the meter's gate", nudge_db)
            return powers, nudge_db
        if best is None or edge_lu < best[0]:
            best = (edge_lu, powers, nudge_db)
    assert best is not None
    return best[1], best[2]


def _gain_to(
    powers: npt.NDArray[np.float64] | array[float], heard_lufs: float, codec_change_lu: float
) -> float:
    """The gain at which the predicted powers, after the codec's change, measure
    ``heard_lufs``: the meter gates the track as heard, so a gain that lifts quiet blocks
    over its absolute gate changes what it counts, and the gain is found again at the gain
    found (twice is usually enough)."""
    gain_db = heard_lufs - codec_change_lu - gated_loudness(powers)
    for _ in range(_GAIN_STEPS):
        missed_lu = heard_lufs - gated_loudness(powers, gain_db + codec_change_lu)
        if not math.isfinite(missed_lu) or abs(missed_lu) < 0.01:
            break
        gain_db += missed_lu
    return gain_db


_GAIN_STEPS = 6  # the gate can flip back and forth at an edge: the last step stands


# The limiter takes loudness as it acts: it is run over the mix at these gains above the
# one the prediction alone gives, and the gain that meets the target is read off between
# them. No more is made up than the last: a track the meter hears only in its short cues
# (a long hold under quiet music) would reach its target only with the voice crushed, and
# stays a little under it instead.
_LIMITED_GAINS_DB = (0.0, 1.0, 2.0, 3.0)


def _limited_gain_db(
    script: Script,
    clips: Mapping[str, bytes],
    tones: Mapping[ToneName, bytes] | None,
    music: Music,
    powers: npt.NDArray[np.float64] | array[float],
    target_lufs: float,
    unlimited_gain_db: float,
    limit_dbtp: float,
) -> float:
    """The gain that brings the limited mix to ``target_lufs``: the mix is made once more,
    without encoding it, and the limiter's gain at each of _LIMITED_GAINS_DB over
    ``unlimited_gain_db`` scales the predicted powers bin by bin, gated as the meter
    gates them."""
    import numpy as np

    from ..audio.mix import mixed_pcm
    from ..audio.peak_limit import limited_shares
    from ..audio.read_ahead import read_ahead

    gains_db = [unlimited_gain_db + step for step in _LIMITED_GAINS_DB]
    ceiling = 10 ** (limit_dbtp / 20) * 32_768
    mix = read_ahead(mixed_pcm(voice_pcm(script, clips, tones), script, music))
    shares = limited_shares(
        mix, MUSIC_CHANNELS, [10 ** (g / 20) for g in gains_db], ceiling, len(powers)
    )
    reached = [
        gated_loudness(np.asarray(powers) * share, gain_db)
        for gain_db, share in zip(gains_db, shares, strict=True)
    ]
    for index in range(1, len(gains_db)):  # the loudness rises with the gain: interpolate
        if reached[index] >= target_lufs or index == len(gains_db) - 1:
            low, high = reached[index - 1], reached[index]
            slope = (high - low) / (gains_db[index] - gains_db[index - 1])
            found = gains_db[index - 1] + (target_lufs - low) / max(slope, 0.05)
            found = min(max(found, gains_db[0]), gains_db[-1])
            log.info(
                "the limiter takes %.2f LU: the gain is %.2f dB, not %.2f",
                found - unlimited_gain_db, found, unlimited_gain_db,
            )  # fmt: skip
            return found
    return unlimited_gain_db


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
                    mix = limited_pcm(read_ahead(mix), MUSIC_CHANNELS, gain, ceiling * 32_768)
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
