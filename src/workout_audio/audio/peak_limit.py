"""A track's true peaks held under a ceiling in this process, as the mix streams by.

ffmpeg's ``alimiter`` holds sample peaks only, and not strictly: a codec then rebuilds
the waveform between samples and its decoded peaks rose 2 dB over the ceiling on noisy
music. This limiter looks at the peaks between samples too (BS.1770's true peak: the
signal 4x oversampled), with the same shape as the clip levelling's limiter
(levelling.py: the gain falls in a straight line over the 5 ms before a peak, and comes
back exponentially), and reports its gain, so the loudness it takes is made up before
the track is encoded rather than left to chance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING

from .levelling import ATTACK_MS, RELEASE_TAU_MS, running_min_ahead
from .loudness import BIN_MS
from .pcm import SAMPLE_RATE_HZ

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Block = NDArray[np.float32]  # samples by channels, 16-bit scale
    Gains = NDArray[np.float64]

__all__ = ["TruePeakLimiter", "limited_pcm", "limited_shares", "true_peaks"]

OVERSAMPLING = 4  # BS.1770-4 Annex 2: true peak from the signal at 4x its rate
# The interpolator: a Kaiser-windowed sinc, as long, as steep and cut as close to half the
# rate as the resampler ffmpeg's meter oversamples with (libswresample's defaults), so
# the peaks found here are the peaks the meter finds.
_TAPS_PER_PHASE = 32
_CUTOFF = 0.97  # of half the rate
_KAISER_BETA = 9.0


@cache
def _phases() -> NDArray[np.float64]:
    """The interpolator's filters, one per point between two samples."""
    import numpy as np

    half = _TAPS_PER_PHASE // 2
    rows = []
    for phase in range(1, OVERSAMPLING):
        offset = phase / OVERSAMPLING
        positions = np.arange(-half + 1, half + 1) - offset  # taps at x[n-half+1 .. n+half]
        window = np.kaiser(_TAPS_PER_PHASE, _KAISER_BETA)
        taps = np.sinc(positions * _CUTOFF) * window
        rows.append(taps / taps.sum())
    phases: NDArray[np.float64] = np.array(rows)
    return phases


def true_peaks(samples: Block, floor: float = 0.0) -> Gains:
    """Per sample, the highest magnitude over its channels at it and at the oversampled
    points from it towards the next sample. ``samples`` carries TAPS/2 samples of context
    on each side; the result is for the samples in between.

    Where no point between samples can reach ``floor`` (the samples around it, times the
    most the interpolator can add up to, stay under it), the sample's own peak is given:
    exact where it matters to a limiter holding peaks at ``floor`` or above, and far
    cheaper over the quiet stretches.
    """
    import numpy as np

    half = _TAPS_PER_PHASE // 2
    count = len(samples) - 2 * half
    magnitudes = np.abs(samples)
    sample_peaks = magnitudes[:, 0]
    for channel in range(1, samples.shape[1]):  # faster than a max along the short axis
        sample_peaks = np.maximum(sample_peaks, magnitudes[:, channel])
    peaks: Gains = sample_peaks[half : half + count].astype(np.float64)
    for first, stop in _runs_reaching(sample_peaks, count, floor):
        window = samples[first : stop + 2 * half]
        for taps in _phases():
            for channel in range(samples.shape[1]):
                # between x[n] and x[n+1]: taps over x[n-half+1 .. n+half]
                between = np.convolve(window[:, channel].astype(np.float64), taps[::-1], "valid")
                np.maximum(peaks[first:stop], np.abs(between[1 : 1 + stop - first]),
                           out=peaks[first:stop])  # fmt: skip
    return peaks


_CHUNK_SAMPLES = 256  # the stretch screened at once against the floor (>= the taps)


@cache
def _interpolator_bound() -> float:
    """The most a point between samples can exceed the samples around it, as a factor."""
    return float(abs(_phases()).sum(axis=1).max())


def _runs_reaching(
    sample_peaks: NDArray[np.float32], count: int, floor: float
) -> list[tuple[int, int]]:
    """The stretches ``[first, stop)`` of the ``count`` results (``sample_peaks`` carries the
    taps' context on each side) where a point between samples could reach ``floor``."""
    import numpy as np

    if floor <= 0:
        return [(0, count)] if count > 0 else []
    chunks = -(-count // _CHUNK_SAMPLES)
    # chunk k's results need the samples from k * CHUNK to (k + 1) * CHUNK + TAPS, which lie
    # in padded chunks k and k + 1
    padded = np.zeros((chunks + 1) * _CHUNK_SAMPLES, dtype=np.float32)
    available = min(len(sample_peaks), len(padded))
    padded[:available] = sample_peaks[:available]
    most = padded.reshape(-1, _CHUNK_SAMPLES).max(axis=1)
    reaching = np.maximum(most[:-1], most[1:]) * _interpolator_bound() >= floor
    edges = np.flatnonzero(np.diff(np.concatenate([[False], reaching, [False]]).astype(np.int8)))
    return [
        (int(start) * _CHUNK_SAMPLES, min(int(end) * _CHUNK_SAMPLES, count))
        for start, end in zip(edges[::2], edges[1::2], strict=True)
    ]


class TruePeakLimiter:
    """The gain that holds a stream's true peaks at ``ceiling`` (16-bit scale) at each of
    ``gains`` (the track's gain before limiting), fed block by block in time order.

    The peaks are found once for all the gains: the gain each sample needs scales with
    the track's gain. ``envelopes`` gives, for a block, the limiter's gain at every one of
    ``gains``, lagging the input by the lookahead; ``finish`` gives the rest.
    """

    def __init__(self, ceiling: float, gains: Sequence[float]) -> None:

        self.ceiling = ceiling
        self.gains = list(gains)
        self.attack = SAMPLE_RATE_HZ * ATTACK_MS // 1000
        self.tau_samples = SAMPLE_RATE_HZ * RELEASE_TAU_MS / 1000
        half = _TAPS_PER_PHASE // 2
        self.context = half
        self.pending: Block | None = None  # input not yet enveloped (with left context)
        self.held_log = [-math.inf] * len(self.gains)  # the held reduction, per gain
        # the lookahead minima of the last attack samples, per gain (None: at the start,
        # where the first peaks are held from the first sample on)
        self.last_ahead: list[Gains | None] = [None for _ in self.gains]

    def envelopes(self, block: Block) -> list[Gains]:
        """The limiter's gain per gain for the samples that ``block`` lets us decide."""
        import numpy as np

        channels = block.shape[1]
        if self.pending is None:
            self.pending = np.zeros((self.context, channels), dtype=np.float32)
        self.pending = np.concatenate([self.pending, block])
        # decided: all but the lookahead and the interpolator's right context
        ready = len(self.pending) - self.context - self.attack - self.context
        if ready <= 0:
            return [np.zeros(0) for _ in self.gains]
        return self._decide(ready)

    def finish(self) -> list[Gains]:
        """The limiter's gain for the samples still held: the stream has ended."""
        import numpy as np

        if self.pending is None:
            return [np.zeros(0) for _ in self.gains]
        channels = self.pending.shape[1]
        tail = np.zeros((self.attack + 2 * self.context, channels), dtype=np.float32)
        ready = len(self.pending) - self.context
        self.pending = np.concatenate([self.pending, tail])
        return self._decide(ready) if ready > 0 else [np.zeros(0) for _ in self.gains]

    def _decide(self, ready: int) -> list[Gains]:
        import numpy as np

        assert self.pending is not None
        window = self.pending[: self.context + ready + self.attack + self.context]
        # for the ready samples and the lookahead after them; exact wherever any gain limits
        floor = self.ceiling / max(self.gains)
        peaks = true_peaks(window, floor)
        ahead = None  # nothing reaches the ceiling at any gain: no lookahead to take
        if float(peaks.max(initial=0.0)) >= floor:
            with np.errstate(divide="ignore"):
                headroom = self.ceiling / peaks
            ahead = running_min_ahead(headroom, self.attack)[:ready]
        decay = _decay(ready, self.tau_samples)
        result = []
        for index, gain in enumerate(self.gains):
            needed = None if ahead is None else np.minimum(ahead / gain, 1.0)
            before = self.last_ahead[index]
            if (needed is None or needed.min() == 1.0) and (before is None or before.min() == 1.0):
                # nothing to hold here: only the release of what was held before, as below
                held = self.held_log[index] - decay
                self.held_log[index] = float(held[-1])
                self.last_ahead[index] = np.ones(self.attack)
                # released all the way, to the last bit of a float: exactly 1
                result.append(np.ones(ready) if held[0] < _RELEASED_LOG else 1.0 - np.exp(held))
                continue
            if needed is None:  # what was held just before is let go here
                needed = np.ones(ready)
            if before is None:
                before = np.full(self.attack, needed[0])
            joined = np.concatenate([before, needed])
            ramp = np.cumsum(np.concatenate([[0.0], joined]))
            reduction = 1.0 - (ramp[self.attack + 1 :] - ramp[1 : -self.attack]) / self.attack
            with np.errstate(divide="ignore"):
                logs = np.log(np.maximum(reduction, 0.0)) + decay
            held = np.maximum.accumulate(np.concatenate([[self.held_log[index]], logs]))[1:]
            held -= decay
            self.held_log[index] = float(held[-1])
            self.last_ahead[index] = joined[-self.attack :]
            result.append(1.0 - np.exp(held))
        self.pending = self.pending[ready:]
        return result


_RELEASED_LOG = -38.0  # 1 - e**x rounds to exactly 1.0 in float64 below this (-37.4)


@cache
def _decay(count: int, tau_samples: float) -> Gains:
    """The release's fall, in natural log, over the ``count`` samples after each one
    (the same for every block of that size: made once)."""
    import numpy as np

    decay: Gains = (np.arange(count) + 1) / tau_samples
    decay.flags.writeable = False
    return decay


def limited_pcm(
    blocks: Iterable[bytes], channels: int, gain: float, ceiling: float
) -> Iterator[bytes]:
    """16-bit PCM (``channels`` interleaved) at ``gain``, its true peaks held at
    ``ceiling`` (16-bit scale), as 16-bit PCM: the same length, a lookahead later."""
    import numpy as np

    limiter = TruePeakLimiter(ceiling, [gain])
    queue: list[Block] = []  # input waiting for its gains
    queued = 0
    leftover = b""
    frame = 2 * channels
    bound = math.floor(ceiling)

    def emit(envelope: Gains) -> bytes:
        nonlocal queued
        wanted = len(envelope)
        if not wanted:
            return b""
        joined = np.concatenate(queue) if len(queue) > 1 else queue[0]
        now, rest = joined[:wanted], joined[wanted:]
        queue[:] = [rest] if len(rest) else []
        queued -= wanted
        out = np.clip(np.rint(now * (gain * envelope)[:, None]), -bound, bound)
        return bytes(out.astype("<i2").tobytes())

    for data in blocks:
        data = leftover + data
        whole = len(data) - len(data) % frame
        leftover = data[whole:]
        if not whole:
            continue
        block = np.frombuffer(data[:whole], dtype="<i2").astype(np.float32).reshape(-1, channels)
        queue.append(block)
        queued += len(block)
        (envelope,) = limiter.envelopes(block)
        if piece := emit(envelope):
            yield piece
    (envelope,) = limiter.finish()
    if piece := emit(envelope):
        yield piece


def limited_shares(
    blocks: Iterable[bytes], channels: int, gains: Sequence[float], ceiling: float, bins: int
) -> list[Gains]:
    """For each of ``gains``, the share of its power the limiter leaves in each BIN_MS of
    the stream (the mean square of its gain there): the limiter's gain moves slowly
    against the K-weighting's response, so a bin's K-weighted power is scaled by it."""
    import numpy as np

    limiter = TruePeakLimiter(ceiling, gains)
    bin_samples = SAMPLE_RATE_HZ * BIN_MS // 1000
    sums = [np.zeros(bins) for _ in gains]
    position = 0
    leftover = b""
    frame = 2 * channels

    def add(envelopes: list[Gains]) -> None:
        nonlocal position
        count = len(envelopes[0])
        if not count:
            return
        first_bin = position // bin_samples
        # where each bin this stretch touches begins in it (the first, partway in, at 0)
        starts = np.arange(first_bin * bin_samples, position + count, bin_samples) - position
        starts[0] = 0
        kept = max(0, min(len(starts), bins - first_bin))  # bins past the end are dropped
        for total, envelope in zip(sums, envelopes, strict=True):
            if envelope.min() == 1.0:  # a gain of 1 throughout: each bin's sample count
                piece = np.diff(np.append(starts, count)).astype(np.float64)
            else:
                piece = np.add.reduceat(envelope**2, starts)
            total[first_bin : first_bin + kept] += piece[:kept]
        position += count

    for data in blocks:
        data = leftover + data
        whole = len(data) - len(data) % frame
        leftover = data[whole:]
        if whole:
            block = np.frombuffer(data[:whole], dtype="<i2").astype(np.float32)
            add(limiter.envelopes(block.reshape(-1, channels)))
    add(limiter.finish())
    return [total / bin_samples for total in sums]
