"""Loudness by design: every clip enters the cache at one loudness, tones are set against it,
and the encoder lifts the mix to the user's target with a light limiter in front.

Loudness is measured as EBU R 128 / ITU-R BS.1770 (LUFS, true peak in dBTP) with
ffmpeg's ebur128 filter, the same meter players and podcast hosts use.
"""

from __future__ import annotations

import cmath
import itertools
import math
import re
from array import array
from collections.abc import MutableSequence, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import EncoderError
from .ffmpeg import ffmpeg_log, run_ffmpeg
from .pcm import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES

__all__ = [
    "CLIP_LOUDNESS_LUFS",
    "Loudness",
    "encoder_filter",
    "measure_file",
    "measure_pcm",
    "sine_peak_dbfs",
]

CLIP_LOUDNESS_LUFS = -20.0  # every speech clip is stored at this loudness: headroom for peaks
TRUE_PEAK_CEILING_DBTP = -1.0  # the finished track never peaks above this
# The final limiter holds sample peaks here; peaks between samples and the MP3 encoder's
# own overshoot (up to a decibel in joint stereo) stay below TRUE_PEAK_CEILING_DBTP.
LIMITER_CEILING_DBFS = -2.5
_MIN_MEASURED_MS = 3_000  # a shorter clip is measured looped: the meter needs 400 ms blocks
_SILENT_LUFS = -70.0  # the meter's absolute gate: quieter than this is silence


@dataclass(frozen=True)
class Loudness:
    """An EBU R 128 measurement."""

    integrated_lufs: float
    true_peak_dbtp: float


_INTEGRATED = re.compile(r"Integrated loudness:\s+I:\s+(-?[\d.]+|-?inf|nan) LUFS")
_TRUE_PEAK = re.compile(r"True peak:\s+Peak:\s+(-?[\d.]+|-?inf|nan) dBFS")


def _measure(input_args: list[str], stdin: bytes | None) -> Loudness:
    args = [*input_args, "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"]
    log = ffmpeg_log(args, input=stdin, what="measure loudness")
    integrated, peak = _INTEGRATED.search(log), _TRUE_PEAK.search(log)
    if integrated is None or peak is None:
        lines = log.strip().splitlines()
        raise EncoderError(
            f"ffmpeg could not measure loudness: {lines[-1] if lines else 'no summary'}"
        )
    return Loudness(float(integrated.group(1)), float(peak.group(1)))


def _limiter(ceiling_dbfs: float) -> str:
    """ffmpeg's lookahead limiter, holding sample peaks at ``ceiling_dbfs``, delay compensated."""
    limit = 10 ** (ceiling_dbfs / 20)
    return f"alimiter=limit={limit:.4f}:attack=5:release=60:level=false:latency=true"


def _filtered(pcm: bytes, audio_filter: str, output_format: str, purpose: str) -> bytes:
    """Mono PCM through an ffmpeg filter, as ``output_format`` (s16le, f32le).

    Raises:
        EncoderError: ffmpeg could not run or failed (``purpose`` says what for).
    """
    args = [
        "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", "1", "-i", "pipe:0",
        "-af", audio_filter, "-f", output_format, "pipe:1",
    ]  # fmt: skip
    return run_ffmpeg(args, input=pcm, what=purpose)


def measure_pcm(pcm: bytes, channels: int = 1) -> Loudness:
    """The loudness of our PCM; a clip shorter than the meter's window is measured looped.

    Raises:
        EncoderError: ffmpeg could not run.
    """
    frame_bytes = SAMPLE_WIDTH_BYTES * channels
    duration_ms = len(pcm) // frame_bytes * 1000 // SAMPLE_RATE_HZ
    if 0 < duration_ms < _MIN_MEASURED_MS:
        pcm *= math.ceil(_MIN_MEASURED_MS / duration_ms)  # looping keeps its mean energy
    raw = ["-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", str(channels), "-i", "pipe:0"]
    return _measure(raw, pcm)


def measure_file(path: Path) -> Loudness:
    """The loudness of an audio file's first audio stream (a finished track, a song).

    Raises:
        EncoderError: ffmpeg could not run or could not decode the file.
    """
    return _measure(["-i", str(path)], None)


def is_silent(loudness: Loudness) -> bool:
    """Whether the meter found nothing above its absolute gate."""
    return not loudness.integrated_lufs > _SILENT_LUFS


# BS.1770's K-weighting: a +4 dB high shelf, then a high-pass (the "RLB" curve), given by
# their analog parameters; the biquads for any sample rate follow from these.
_K_SHELF = {
    "frequency_hz": 1681.974450955533,
    "gain_db": 3.999843853973347,
    "q": 0.7071752369554196,
}
_K_HIGHPASS = {"frequency_hz": 38.13547087602444, "q": 0.5003270373238773}


def _k_biquads(rate_hz: int) -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """The K-weighting filter at ``rate_hz`` as two biquads ((b0, b1, b2), (a0, a1, a2))."""
    w0 = 2 * math.pi * _K_SHELF["frequency_hz"] / rate_hz
    big_a = 10 ** (_K_SHELF["gain_db"] / 40)
    alpha = math.sin(w0) / (2 * _K_SHELF["q"])
    cos_w0, root = math.cos(w0), 2 * math.sqrt(big_a) * alpha
    shelf = (
        (
            big_a * ((big_a + 1) + (big_a - 1) * cos_w0 + root),
            -2 * big_a * ((big_a - 1) + (big_a + 1) * cos_w0),
            big_a * ((big_a + 1) + (big_a - 1) * cos_w0 - root),
        ),
        (
            (big_a + 1) - (big_a - 1) * cos_w0 + root,
            2 * ((big_a - 1) - (big_a + 1) * cos_w0),
            (big_a + 1) - (big_a - 1) * cos_w0 - root,
        ),
    )
    w0 = 2 * math.pi * _K_HIGHPASS["frequency_hz"] / rate_hz
    alpha, cos_w0 = math.sin(w0) / (2 * _K_HIGHPASS["q"]), math.cos(w0)
    highpass = ((1.0, -2.0, 1.0), (1 + alpha, -2 * cos_w0, 1 - alpha))
    return [shelf, highpass]


def _k_weighting_db(frequency_hz: float) -> float:
    """The K-weighting filter's gain at ``frequency_hz``."""
    z = cmath.exp(-2j * math.pi * frequency_hz / SAMPLE_RATE_HZ)  # z^-1
    gain = 1.0
    for (b0, b1, b2), (a0, a1, a2) in _k_biquads(SAMPLE_RATE_HZ):
        gain *= abs((b0 + b1 * z + b2 * z * z) / (a0 + a1 * z + a2 * z * z))
    return 20 * math.log10(gain)


def _k_filter() -> str:
    """The K-weighting filter as ffmpeg biquads."""
    return ",".join(
        f"biquad=b0={b0!r}:b1={b1!r}:b2={b2!r}:a0={a0!r}:a1={a1!r}:a2={a2!r}"
        for (b0, b1, b2), (a0, a1, a2) in _k_biquads(SAMPLE_RATE_HZ)
    )


def sine_peak_dbfs(loudness_lufs: float, frequency_hz: float) -> float:
    """The peak level at which a steady sine at ``frequency_hz`` measures ``loudness_lufs``.

    A sine's mean square is half its peak squared (-3.01 dB), and BS.1770 adds -0.691 dB
    to the K-weighted mean square.
    """
    return loudness_lufs + 0.691 + 10 * math.log10(2) - _k_weighting_db(frequency_hz)


def lufs_to_power(loudness_lufs: float) -> float:
    """BS.1770's summed, K-weighted mean square for a loudness."""
    return float(10 ** ((loudness_lufs + 0.691) / 10))


def power_to_lufs(power: float) -> float:
    """The loudness of a summed, K-weighted mean square."""
    return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf


BIN_MS = 10  # loudness is predicted from the power in each 10 ms of the track
_BLOCK_BINS = 400 // BIN_MS  # BS.1770's gating blocks are 400 ms long ...
_HOP_BINS = 100 // BIN_MS  # ... and start every 100 ms
_RELATIVE_GATE_LU = 10.0


def silent_powers(length_ms: int) -> array[float]:
    """A track's power per BIN_MS, all zero: packed doubles, 8 bytes a bin (a 2-hour track
    holds 720,000 bins)."""
    return array("d", bytes(8 * -(-length_ms // BIN_MS)))


def gated_loudness(powers: Sequence[float]) -> float:
    """Integrated loudness (BS.1770, absolute and relative gates) from the mean power in
    each BIN_MS of a track."""
    running = array("d", [0.0])
    running.extend(itertools.accumulate(powers))
    blocks = [
        (running[i + _BLOCK_BINS] - running[i]) / _BLOCK_BINS
        for i in range(0, len(powers) - _BLOCK_BINS + 1, _HOP_BINS)
    ]
    audible = [p for p in blocks if power_to_lufs(p) > _SILENT_LUFS]
    if not audible:
        return -math.inf
    gate = power_to_lufs(sum(audible) / len(audible)) - _RELATIVE_GATE_LU
    kept = [p for p in audible if power_to_lufs(p) > gate]
    return power_to_lufs(sum(kept) / len(kept))


def speech_profile(pcm: bytes) -> list[float]:
    """A mono clip's K-weighted mean power in each BIN_MS: what it adds to a track's loudness
    wherever it is placed. Measured once, when the clip enters the cache.

    Raises:
        EncoderError: ffmpeg could not run.
    """
    import numpy as np  # only where clips are made

    weighted_pcm = _filtered(pcm, _k_filter(), "f32le", "weigh a clip's loudness")
    weighted = np.frombuffer(weighted_pcm, dtype="<f4").astype(np.float64)
    step = SAMPLE_RATE_HZ * BIN_MS // 1000
    whole = len(weighted) // step * step
    powers = list((weighted[:whole].reshape(-1, step) ** 2).mean(axis=1))
    if whole < len(weighted):
        powers.append(float((weighted[whole:] ** 2).sum() / step))
    return [float(p) for p in powers]


def format_profile(profile: list[float]) -> str:
    """A profile as compact text for a cache entry (decibels, 0.01 dB steps)."""
    return ",".join(f"{10 * math.log10(p):.2f}" if p > 0 else "x" for p in profile)


def parse_profile(text: str) -> list[float]:
    """A profile from ``format_profile``'s text.

    Raises:
        ValueError: not a profile.
    """
    return [0.0 if part == "x" else 10 ** (float(part) / 10) for part in text.split(",") if part]


def add_powers(
    powers: MutableSequence[float], start_ms: int, profile: Sequence[float], scale: float
) -> None:
    """Add a clip's profile (a power per BIN_MS), times ``scale``, into a track's from
    ``start_ms``."""
    first = start_ms // BIN_MS
    for index, power in enumerate(profile[: max(len(powers) - first, 0)]):
        powers[first + index] += power * scale


def encoder_filter(gain_db: float) -> str:
    """ffmpeg's filter in front of the encoder: the gain to the target, then a light limiter
    (clips' peaks are already held, so it only touches a louder target's or the music's)."""
    return f"volume={gain_db:.2f}dB,{_limiter(LIMITER_CEILING_DBFS)}"
