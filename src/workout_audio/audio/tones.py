"""The tones of a track: generated with pydub by default, or a routine's own sound files.

Each tone fills a slot of exactly ``TONE_MS[name]``, so a replacement never
moves anything: a file is decoded with ffmpeg, its leading silence trimmed,
cut (with a short fade) or padded with silence to the slot, and brought to the
generated tone's loudness against the voice, so the track's predicted loudness
holds and a loud recording does not startle.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from ..errors import EncoderError, UsageError
from ..routine import TONE_NAMES, ToneName
from ..timeline.script import TONE_MS
from .ffmpeg import FfmpegError, decode_to_pcm
from .loudness import CLIP_LOUDNESS_LUFS, is_silent, measure_pcm, sine_peak_dbfs
from .pcm import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ms_to_samples
from .segments import AudioSegment, Sine, detect_leading_silence

__all__ = ["TONE_NAMES", "TONE_SHAPES", "load_sound", "tone_pcm", "tones_for"]

# name -> (frequencies in Hz played one after another, loudness against the voice in LU):
# clearly heard over the voice's level, never piercing.
TONE_SHAPES: dict[ToneName, tuple[tuple[int, ...], float]] = {
    "beep": ((880,), -4.0),
    "start": ((1320,), -2.0),
    "end": ((988, 659), -3.0),
    "rest": ((784, 659, 523), -3.0),  # a falling major triad: work is over, breathe
    "tick": ((1760,), -16.0),
}
SILENCE_DBFS = -45.0  # quieter than this at the start of a sound file is trimmed
FADE_OUT_MS = 30  # a file cut to its slot fades out rather than clicks
PEAK_CEILING_DBFS = -1.0  # a replacement is turned down rather than clipped


def _segment(pcm: bytes) -> AudioSegment:
    return AudioSegment(
        data=pcm, sample_width=SAMPLE_WIDTH_BYTES, frame_rate=SAMPLE_RATE_HZ, channels=CHANNELS
    )


def _fit_to_slot(segment: AudioSegment, duration_ms: int) -> bytes:
    wanted_bytes = ms_to_samples(duration_ms) * SAMPLE_WIDTH_BYTES
    return bytes(segment.raw_data[:wanted_bytes]).ljust(wanted_bytes, b"\0")


@cache
def tone_pcm(name: ToneName) -> bytes:
    """A tone of exactly ``TONE_MS[name]`` made with pydub's generators, in our PCM format."""
    frequencies, against_voice_lu = TONE_SHAPES[name]
    duration_ms = TONE_MS[name]
    part_ms = duration_ms // len(frequencies)
    tone = AudioSegment.empty()
    for frequency in frequencies:
        part = Sine(frequency, sample_rate=SAMPLE_RATE_HZ, bit_depth=8 * SAMPLE_WIDTH_BYTES)
        peak_dbfs = sine_peak_dbfs(CLIP_LOUDNESS_LUFS + against_voice_lu, frequency)
        tone += part.to_audio_segment(duration=part_ms, volume=peak_dbfs).fade_in(4).fade_out(8)
    return _fit_to_slot(tone.set_channels(CHANNELS).set_frame_rate(SAMPLE_RATE_HZ), duration_ms)


def load_sound(name: ToneName, path: Path, *, where: str = "") -> bytes:
    """The sound file at ``path`` as the ``name`` tone: its slot's length, the tone's loudness.

    Raises:
        UsageError: the file cannot be read or holds no sound (``where`` starts the message).
    """
    prefix = f"{where}: " if where else ""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"{prefix}cannot read {path}: {error.strerror or error}") from None
    try:
        segment = _segment(decode_to_pcm(data, what=f"decode {path}"))
    except EncoderError as error:
        reason = error.reason if isinstance(error, FfmpegError) else str(error)
        raise UsageError(f"{prefix}{path} is not audio ffmpeg can read ({reason})") from None
    segment = segment[detect_leading_silence(segment, silence_threshold=SILENCE_DBFS) :]
    if len(segment) == 0 or segment.max_dBFS == float("-inf"):
        raise UsageError(f"{prefix}{path} is silent")
    duration_ms = TONE_MS[name]
    if len(segment) > duration_ms:
        segment = segment[:duration_ms].fade_out(min(FADE_OUT_MS, duration_ms // 4))
    slot = _fit_to_slot(segment, duration_ms)
    loudness = measure_pcm(slot)
    if is_silent(loudness):
        raise UsageError(f"{prefix}{path} is too quiet to hear")
    _, against_voice_lu = TONE_SHAPES[name]
    gain_db = CLIP_LOUDNESS_LUFS + against_voice_lu - loudness.integrated_lufs
    gain_db = min(gain_db, PEAK_CEILING_DBFS - segment.max_dBFS)
    return _fit_to_slot(segment.apply_gain(gain_db), duration_ms)


def tones_for(replacements: Mapping[ToneName, bytes] | None = None) -> dict[ToneName, bytes]:
    """Every tone's PCM: the generated ones, with ``replacements`` (already loaded) on top."""
    return {name: tone_pcm(name) for name in TONE_NAMES} | dict(replacements or {})
