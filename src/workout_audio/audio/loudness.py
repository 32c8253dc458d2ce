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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EncoderError
from .ffmpeg import ffmpeg_log, ffmpeg_output, run_ffmpeg
from .pcm import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "BAND_EDGES_HZ",
    "CLIP_LOUDNESS_LUFS",
    "FileProfile",
    "Loudness",
    "encoder_filter",
    "file_profile",
    "measure_file",
    "measure_pcm",
    "share_above",
    "sine_peak_dbfs",
]

CLIP_LOUDNESS_LUFS = -20.0  # every speech clip is stored at this loudness: headroom for peaks
TRUE_PEAK_CEILING_DBTP = -1.0  # the finished track, as a player decodes it, never peaks above this
MIN_MEASURED_MS = 3_000  # a shorter clip is measured looped: the meter needs 400 ms blocks
_SILENT_LUFS = -70.0  # the meter's absolute gate: quieter than this is silence


@dataclass(frozen=True)
class Loudness:
    """An EBU R 128 measurement."""

    integrated_lufs: float
    true_peak_dbtp: float


_INTEGRATED = re.compile(r"Integrated loudness:\s+I:\s+(-?[\d.]+|-?inf|nan) LUFS")
_TRUE_PEAK = re.compile(r"True peak:\s+Peak:\s+(-?[\d.]+|-?inf|nan) dBFS")


def _measure(input_args: list[str], stdin: bytes | None, before: str = "") -> Loudness:
    meter = f"{before},ebur128=peak=true" if before else "ebur128=peak=true"
    args = [*input_args, "-map", "0:a:0", "-af", meter, "-f", "null", "-"]
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
    if 0 < duration_ms < MIN_MEASURED_MS:
        pcm *= math.ceil(MIN_MEASURED_MS / duration_ms)  # looping keeps its mean energy
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
# their analog parameters; the biquads for any sample rate follow from these, by the same
# bilinear transform as the meter's (libebur128's ebur128_init_filter, which ffmpeg's
# ebur128 filter uses). A cookbook shelf with the same parameters strays 0.5 dB from it
# at 1.5 kHz, where speech is loudest, so the prediction would miss the meter.
_K_SHELF = {
    "frequency_hz": 1681.974450955533,
    "gain_db": 3.999843853973347,
    "q": 0.7071752369554196,
    "mid_exponent": 0.4996667741545416,  # the shelf's gain at its midpoint, as a power of Vh
}
_K_HIGHPASS = {"frequency_hz": 38.13547087602444, "q": 0.5003270373238773}


Biquad = tuple[tuple[float, float, float], tuple[float, float, float]]


def k_weighting_biquads(rate_hz: int) -> list[Biquad]:
    """The K-weighting filter at ``rate_hz`` as two biquads ((b0, b1, b2), (a0, a1, a2))."""
    k = math.tan(math.pi * _K_SHELF["frequency_hz"] / rate_hz)
    q = _K_SHELF["q"]
    high = 10 ** (_K_SHELF["gain_db"] / 20)
    mid = high ** _K_SHELF["mid_exponent"]
    shelf = (
        (high + mid * k / q + k * k, 2 * (k * k - high), high - mid * k / q + k * k),
        (1 + k / q + k * k, 2 * (k * k - 1), 1 - k / q + k * k),
    )
    k = math.tan(math.pi * _K_HIGHPASS["frequency_hz"] / rate_hz)
    q = _K_HIGHPASS["q"]
    highpass = ((1.0, -2.0, 1.0), (1 + k / q + k * k, 2 * (k * k - 1), 1 - k / q + k * k))
    return [shelf, highpass]


def _k_weighting_db(frequency_hz: float) -> float:
    """The K-weighting filter's gain at ``frequency_hz``."""
    z = cmath.exp(-2j * math.pi * frequency_hz / SAMPLE_RATE_HZ)  # z^-1
    gain = 1.0
    for (b0, b1, b2), (a0, a1, a2) in k_weighting_biquads(SAMPLE_RATE_HZ):
        gain *= abs((b0 + b1 * z + b2 * z * z) / (a0 + a1 * z + a2 * z * z))
    return 20 * math.log10(gain)


def _k_filter() -> str:
    """The K-weighting filter as ffmpeg biquads."""
    return ",".join(
        f"biquad=b0={b0!r}:b1={b1!r}:b2={b2!r}:a0={a0!r}:a1={a1!r}:a2={a2!r}"
        for (b0, b1, b2), (a0, a1, a2) in k_weighting_biquads(SAMPLE_RATE_HZ)
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
_BIN_SAMPLES = SAMPLE_RATE_HZ * BIN_MS // 1000
_BLOCK_BINS = 400 // BIN_MS  # BS.1770's gating blocks are 400 ms long ...
_HOP_BINS = 100 // BIN_MS  # ... and start every 100 ms (75 % overlap)
_RELATIVE_GATE_LU = 10.0  # BS.1770's relative gate: blocks this far under the mean are left out


def silent_powers(length_ms: int) -> array[float]:
    """A track's power per BIN_MS, all zero (8 bytes a bin: a 2-hour track holds 720,000).

    A plain array: a voice-only track is predicted without numpy, which a warm build
    would otherwise load for this alone (add_powers and gated_loudness take either).
    """
    return array("d", bytes(8 * -(-length_ms // BIN_MS)))


def gated_loudness(
    powers: Sequence[float] | npt.NDArray[np.float64], gain_db: float = 0.0
) -> float:
    """Integrated loudness from the mean power in each BIN_MS of a track, heard at
    ``gain_db``, gated exactly as the meter gates (ITU-R BS.1770-4 section 2.8: 400 ms
    blocks every 100 ms, kept above the absolute gate of -70 LUFS, then above the relative
    gate 10 LU under their mean). The gain matters: the absolute gate acts on the track
    as heard, and a quiet stretch the gain lifts over it lowers the relative gate.

    Power here is the K-weighted mean square summed over channels, so a bin's powers from
    the voice, the tones and the music add: they are unrelated sounds. A plain array
    (silent_powers) is gated in Python, anything else with numpy.
    """
    if isinstance(powers, array):
        return _gated_in_python(powers, gain_db)
    import numpy as np

    bins = np.asarray(powers, dtype=np.float64)
    if len(bins) < _BLOCK_BINS:
        return -math.inf
    running = np.concatenate([[0.0], np.cumsum(bins)])
    starts = np.arange(0, len(bins) - _BLOCK_BINS + 1, _HOP_BINS)
    blocks = (running[starts + _BLOCK_BINS] - running[starts]) / _BLOCK_BINS
    audible = blocks[blocks > lufs_to_power(_SILENT_LUFS - gain_db)]
    if not len(audible):
        return -math.inf
    gate = lufs_to_power(power_to_lufs(float(audible.mean())) - _RELATIVE_GATE_LU)
    return power_to_lufs(float(audible[audible > gate].mean())) + gain_db


def gate_edge_lu(powers: npt.NDArray[np.float64], gain_db: float = 0.0) -> float:
    """How far the integrated loudness (heard at ``gain_db``) moves between every block
    within GATE_EDGE_LU of the relative gate falling under it and every one passing it:
    the codec's noise can tip such blocks either way, so this is what a prediction cannot
    promise. Each quiet block let in lowers the mean of the gated blocks."""
    import numpy as np

    bins = np.asarray(powers, dtype=np.float64)
    if len(bins) < _BLOCK_BINS:
        return 0.0
    running = np.concatenate([[0.0], np.cumsum(bins)])
    starts = np.arange(0, len(bins) - _BLOCK_BINS + 1, _HOP_BINS)
    blocks = (running[starts + _BLOCK_BINS] - running[starts]) / _BLOCK_BINS
    audible = blocks[blocks > lufs_to_power(_SILENT_LUFS - gain_db)]
    if not len(audible):
        return 0.0
    gate = lufs_to_power(power_to_lufs(float(audible.mean())) - _RELATIVE_GATE_LU)
    edge = 10 ** (GATE_EDGE_LU / 10)
    widest = audible[audible > gate / edge]
    narrowest = audible[audible > gate * edge]
    if not len(narrowest):
        return 0.0
    return power_to_lufs(float(narrowest.mean())) - power_to_lufs(float(widest.mean()))


GATE_EDGE_LU = 0.5  # a block this close to the relative gate may end up on either side


def _gated_in_python(bins: array[float], gain_db: float) -> float:
    """gated_loudness's blocks and gates, step for step, without numpy."""
    if len(bins) < _BLOCK_BINS:
        return -math.inf
    running = [0.0, *itertools.accumulate(bins)]
    starts = range(0, len(bins) - _BLOCK_BINS + 1, _HOP_BINS)
    blocks = [(running[s + _BLOCK_BINS] - running[s]) / _BLOCK_BINS for s in starts]
    audible = [block for block in blocks if block > lufs_to_power(_SILENT_LUFS - gain_db)]
    if not audible:
        return -math.inf
    gate = lufs_to_power(power_to_lufs(math.fsum(audible) / len(audible)) - _RELATIVE_GATE_LU)
    kept = [block for block in audible if block > gate]
    return power_to_lufs(math.fsum(kept) / len(kept)) + gain_db


def _binned_powers(weighted: npt.NDArray[np.float64], channels: int) -> npt.NDArray[np.float64]:
    """K-weighted samples (interleaved ``channels``) as mean power per BIN_MS, summed over
    the channels; a last partial bin counts as the share of a bin it fills."""
    import numpy as np

    frames = weighted.reshape(-1, channels)
    whole = len(frames) // _BIN_SAMPLES * _BIN_SAMPLES
    powers = (frames[:whole].reshape(-1, _BIN_SAMPLES, channels) ** 2).mean(axis=1).sum(axis=1)
    if whole < len(frames):
        rest = float((frames[whole:] ** 2).sum() / _BIN_SAMPLES)
        powers = np.append(powers, rest)
    return np.asarray(powers, dtype=np.float64)


def speech_profile(pcm: bytes) -> list[float]:
    """A mono clip's K-weighted mean power in each BIN_MS: what it adds to a track's loudness
    wherever it is placed. Measured once, when the clip enters the cache.

    Raises:
        EncoderError: ffmpeg could not run.
    """
    import numpy as np  # only where clips are made

    weighted_pcm = _filtered(pcm, _k_filter(), "f32le", "weigh a clip's loudness")
    weighted = np.frombuffer(weighted_pcm, dtype="<f4").astype(np.float64)
    return [float(p) for p in _binned_powers(weighted, 1)]


@dataclass(frozen=True)
class FileProfile:
    """An audio file as the mix plays it: its K-weighted power per BIN_MS (summed over the
    channels), its length, and its loudness and true peak as the meter measures them."""

    powers: tuple[float, ...]
    length_samples: int
    loudness: Loudness
    # The share of its K-weighted power above each of BAND_EDGES_HZ: what a codec that
    # keeps the band under an edge takes from its loudness.
    shares_above: tuple[float, ...]


# Codecs keep the band under 16 to 20 kHz at our bitrates: music is measured for what
# lies above each of these (white noise holds a quarter of its K-weighted power there).
BAND_EDGES_HZ = tuple(range(14_000, 22_001, 500))


def share_above(shares_above: Sequence[float], band_hz: float) -> float:
    """The share of a sound's power above ``band_hz``, from its shares above BAND_EDGES_HZ
    (straight between edges)."""
    if not shares_above:
        return 0.0
    clipped = min(max(band_hz, BAND_EDGES_HZ[0]), BAND_EDGES_HZ[-1])
    for index in range(len(BAND_EDGES_HZ) - 1):
        low, high = BAND_EDGES_HZ[index], BAND_EDGES_HZ[index + 1]
        if clipped <= high:
            fraction = (clipped - low) / (high - low)
            first, second = shares_above[index], shares_above[index + 1]
            return first + (second - first) * fraction
    return shares_above[-1]


def file_profile(path: Path, channels: int) -> FileProfile:
    """Measure ``path`` decoded at SAMPLE_RATE_HZ in ``channels``, as the mix decodes it (a
    mono song upmixed to stereo is heard, and measured, 3 dB louder). The powers are
    streamed: memory holds a second of audio, and 8 bytes a bin.

    Raises:
        EncoderError: ffmpeg could not run or could not decode the file.
    """
    import numpy as np  # only where music is measured

    as_played = f"aresample={SAMPLE_RATE_HZ},aformat=channel_layouts={_LAYOUTS[channels]}"
    loudness = _measure(["-i", str(path)], None, as_played)
    args = [
        "-i", str(path), "-map", "0:a:0", "-af", f"{as_played},{_k_filter()}",
        "-f", "f32le", "pipe:1",
    ]  # fmt: skip
    bin_bytes = 4 * channels * _BIN_SAMPLES
    parts: list[npt.NDArray[np.float64]] = []
    above = np.zeros(len(BAND_EDGES_HZ) + 1)  # power above each edge, then in all
    pending, samples = b"", 0

    def take(raw: bytes) -> None:
        weighted = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        parts.append(_binned_powers(weighted, channels))
        spectrum = np.abs(np.fft.rfft(weighted.reshape(-1, channels), axis=0)) ** 2
        frequencies = np.fft.rfftfreq(len(weighted) // channels, 1 / SAMPLE_RATE_HZ)
        cumulative = np.concatenate([[0.0], np.cumsum(spectrum.sum(axis=1))])
        edges = np.searchsorted(frequencies, BAND_EDGES_HZ, side="right")
        above[:-1] += cumulative[-1] - cumulative[edges]
        above[-1] += cumulative[-1]

    for data in ffmpeg_output(args, what=f"measure {path}", block_bytes=100 * bin_bytes):
        pending += data
        whole = len(pending) - len(pending) % bin_bytes
        if whole:
            take(pending[:whole])
            samples += whole // (4 * channels)
        pending = pending[whole:]
    rest = len(pending) // (4 * channels)
    if rest:
        take(pending[: rest * 4 * channels])
        samples += rest
    powers = np.concatenate(parts) if parts else np.zeros(0)
    shares = above[:-1] / above[-1] if above[-1] > 0 else above[:-1]
    return FileProfile(
        tuple(float(p) for p in powers), samples, loudness, tuple(float(s) for s in shares)
    )


_LAYOUTS = {1: "mono", 2: "stereo"}


def format_profile(profile: Sequence[float]) -> str:
    """A profile as compact text for a cache entry (decibels, 0.01 dB steps)."""
    return ",".join(f"{10 * math.log10(p):.2f}" if p > 0 else "x" for p in profile)


def parse_profile(text: str) -> list[float]:
    """A profile from ``format_profile``'s text.

    Raises:
        ValueError: not a profile.
    """
    return [0.0 if part == "x" else 10 ** (float(part) / 10) for part in text.split(",") if part]


def add_powers(
    powers: npt.NDArray[np.float64] | array[float],
    start_samples: int,
    profile: Sequence[float] | npt.NDArray[np.float64],
    scale: float = 1.0,
) -> None:
    """Add a sound's profile (a power per BIN_MS from its first sample), times ``scale``,
    into a track's from ``start_samples``. A sound that starts inside a bin spreads each of
    its bins over the two of the track's it straddles, in proportion."""
    first, offset = divmod(start_samples, _BIN_SAMPLES)
    share = offset / _BIN_SAMPLES
    room = len(powers) - first
    if room <= 0:
        return
    if isinstance(powers, array):  # a voice-only track, without numpy: a clip at a time
        placed = [power * scale for power in profile[:room]]
        for index, power in enumerate(placed):
            powers[first + index] += power * (1 - share)
        if share:
            for index, power in enumerate(placed[: room - 1]):
                powers[first + 1 + index] += power * share
        return
    import numpy as np

    placed_array = np.asarray(profile, dtype=np.float64)[:room] * scale
    powers[first : first + len(placed_array)] += placed_array * (1 - share)
    if share:
        tail = placed_array[: room - 1] * share
        powers[first + 1 : first + 1 + len(tail)] += tail


def encoder_filter(gain_db: float, limit_dbfs: float | None) -> str:
    """ffmpeg's filter in front of the encoder: the one gain to the target, then a limiter
    holding sample peaks at ``limit_dbfs`` when the track's predicted peaks call for one
    (None: they stay under the ceiling, and nothing but the gain touches the sound)."""
    gain = f"volume={gain_db:.2f}dB"
    return gain if limit_dbfs is None else f"{gain},{_limiter(limit_dbfs)}"
