"""Speech clips levelled in this process: every clip enters the cache at CLIP_LOUDNESS_LUFS
with its sample peaks held CLIP_CREST_DB above that.

A clip is decoded once; everything else is numpy on its samples: the K-weighting
(BS.1770's filter, derived as the meter derives it), the gated loudness, a gain, a
lookahead limiter, and the clip's power per BIN_MS for the loudness prediction, all
from one K-weighted signal. With ffmpeg's limiter and meter, each pass of each was a
process of its own, and the profile another: 440 runs for the seed's 39 phrases, most
of a cold build's time.

The limiter behaves like ffmpeg's ``alimiter=attack=5:release=60`` (which levelled
clips before): the gain falls in a straight line over the 5 ms before a peak, so the
peak passes at the ceiling, and comes back over about 60 ms after it. Tests hold its
clips to ffmpeg's own meter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from .loudness import (
    BIN_MS,
    CLIP_LOUDNESS_LUFS,
    MIN_MEASURED_MS,
    gated_loudness,
    k_weighting_biquads,
)
from .pcm import SAMPLE_RATE_HZ

if TYPE_CHECKING:  # numpy is imported where clips are made, not by every build
    import numpy as np
    from numpy.typing import NDArray

    Samples = NDArray[np.float64]

__all__ = [
    "ATTACK_MS",
    "CLIP_CREST_DB",
    "LEVELLING_SCHEME",
    "RELEASE_TAU_MS",
    "LevelledClip",
    "level_speech",
    "running_min_ahead",
]

# A clip's peaks are held this far above its loudness when it enters the cache: speech
# voices differ most in their peaks (piper's run 19 dB over its loudness), and a track
# can only be as loud as its peaks allow.
CLIP_CREST_DB = 9.0
# Part of the clip format in the speech cache: clips levelled another way (by ffmpeg's
# limiter, before) are other entries. Change it whenever levelled samples would change.
LEVELLING_SCHEME = "numpy-limiter-1"

ATTACK_MS = 5  # the gain reaches a peak's level over this lookahead (alimiter's attack)
# ... and comes back after it, exponentially with this time constant: fitted so that at
# equal gain piper's clips measure within 0.2 LU of alimiter's release=60 (a straight
# ramp back over 60 ms) and differ from its output 45 dB below full scale (RMS).
RELEASE_TAU_MS = 40
_LEVELLING_PASSES = 10  # limiting lowers the loudness; each pass makes it up
_LEVEL_TOLERANCE_LU = 0.03  # passes are cheap: finer than the meter's 0.1 LU display
# Piper's peaks stand 19 dB over its loudness and are held at 9: there a decibel of gain
# may bring only a tenth of one in loudness, so the secant is trusted down to this.
_LEAST_SLOPE = 0.05
_FULL_SCALE = 32_768  # a 16-bit sample's scale
# The K-weighting filter's impulse response is cut here: its slowest pole (the 38 Hz
# high-pass) has decayed below 1e-15 of its start by then.
_K_RESPONSE_SAMPLES = 8_192


@dataclass(frozen=True)
class LevelledClip:
    """A levelled clip's PCM, the loudness it came in with, and its K-weighted power per
    BIN_MS (what it adds to a track's loudness wherever it is placed)."""

    pcm: bytes
    source_lufs: float  # -inf: nothing above the meter's absolute gate
    profile: list[float]

    @property
    def silent(self) -> bool:
        """Whether the clip came in as silence (it is then left as it was)."""
        return math.isinf(self.source_lufs)


def level_speech(pcm: bytes) -> LevelledClip:
    """A mono speech clip at CLIP_LOUDNESS_LUFS with its peaks held CLIP_CREST_DB above that.

    A silent clip (nothing above the meter's gate) comes back as it is.
    """
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    weighted, metered = _k_weighted(samples)
    source_lufs = _integrated_lufs(metered)
    if math.isinf(source_lufs):
        return LevelledClip(pcm, source_lufs, _profile(weighted))
    ceiling = 10 ** ((CLIP_LOUDNESS_LUFS + CLIP_CREST_DB) / 20) * _FULL_SCALE
    copies = len(metered) // len(samples)
    # The limiter's gain moves slowly against the K-weighting's response, so the limited
    # clip's weighted signal is close to the clip's own times that gain: passes search on
    # this estimate without filtering again, and the clip found is then measured for real
    # (its error, a few hundredths of a LU, corrects the search if it must).
    # Limiting takes back part of each decibel of gain: step by the secant, not one for one.
    gain_db, slope, error_lu = CLIP_LOUDNESS_LUFS - source_lufs, 1.0, 0.0
    previous: tuple[float, float] | None = None
    limiter = _Limiter(samples, ceiling)
    for _ in range(_LEVELLING_PASSES):
        gain = 10 ** (gain_db / 20)
        envelope = limiter.gain(gain)
        estimate = _integrated_lufs(metered * gain * np.tile(envelope, copies))
        if abs(CLIP_LOUDNESS_LUFS - estimate - error_lu) < _LEVEL_TOLERANCE_LU:
            levelled = _rounded(samples * gain * envelope, ceiling)
            weighted, metered_levelled = _k_weighted(levelled)
            error_lu = _integrated_lufs(metered_levelled) - estimate
            if abs(CLIP_LOUDNESS_LUFS - estimate - error_lu) < _LEVEL_TOLERANCE_LU:
                break
        if previous is not None and previous[1] != estimate:
            slope = max((estimate - previous[1]) / (gain_db - previous[0]), _LEAST_SLOPE)
        previous = (gain_db, estimate)
        gain_db += (CLIP_LOUDNESS_LUFS - estimate - error_lu) / slope
    else:  # out of passes (never seen): the last gain, as it is
        gain = 10 ** (gain_db / 20)
        levelled = _rounded(samples * gain * limiter.gain(gain), ceiling)
        weighted, _ = _k_weighted(levelled)
    return LevelledClip(levelled.astype("<i2").tobytes(), source_lufs, _profile(weighted))


def _k_weighted(samples: Samples) -> tuple[Samples, Samples]:
    """The K-weighted clip (full scale 1.0), and the same clip looped to the meter's
    minimum length as ffmpeg's meter is given it (the clip itself when long enough).

    The filter is applied as a convolution with its impulse response, by FFT: a recursive
    filter a sample at a time would be a Python loop. A loop's later copies are the clip
    convolved circularly (the response is shorter than the clip), so one FFT of the clip
    gives both.
    """
    import numpy as np

    count = len(samples)
    duration_ms = count * 1000 // SAMPLE_RATE_HZ
    copies = math.ceil(MIN_MEASURED_MS / duration_ms) if 0 < duration_ms < MIN_MEASURED_MS else 1
    response = _k_response()
    if count < len(response) and copies > 1:  # shorter than the response: filter the loop
        looped = _convolved(np.tile(samples, copies), response)[: count * copies]
        return looped[:count], looped
    linear = _convolved(samples, response)
    clip = linear[:count]
    if copies == 1:
        return clip, clip
    steady = clip.copy()
    steady[: len(linear) - count] += linear[count:]  # what the copy before rings into it
    return clip, np.concatenate([clip, *[steady] * (copies - 1)])


def _convolved(samples: Samples, response: Samples) -> Samples:
    """``samples`` (16-bit scale) convolved with ``response``, whole (its tail included)."""
    import numpy as np

    length = len(samples) + len(response) - 1
    size = _fft_size(length)
    spectrum = np.fft.rfft(samples / _FULL_SCALE, size) * _response_spectrum(size)
    result: Samples = np.fft.irfft(spectrum, size)[:length]
    return result


def _fft_size(length: int) -> int:
    """The least size of at least ``length`` with no prime factor above 5: the FFT is fast
    for these, and they are much closer to any length than powers of two."""
    best = 1 << (length - 1).bit_length()
    five = 1
    while five < best:
        three = five
        while three < best:
            size = three
            while size < length:
                size *= 2
            best = min(best, size)
            three *= 3
        five *= 5
    return best


@lru_cache(maxsize=16)
def _response_spectrum(size: int) -> NDArray[np.complex128]:
    import numpy as np

    spectrum: NDArray[np.complex128] = np.fft.rfft(_k_response(), size)
    return spectrum


@cache
def _k_response() -> Samples:
    """The K-weighting filter's impulse response at our rate, _K_RESPONSE_SAMPLES long."""
    import numpy as np

    response = np.zeros(_K_RESPONSE_SAMPLES)
    response[0] = 1.0
    for (b0, b1, b2), (a0, a1, a2) in k_weighting_biquads(SAMPLE_RATE_HZ):
        # Once, for a few thousand samples: the direct form I recursion, in Python.
        x1 = x2 = y1 = y2 = 0.0
        for index, x0 in enumerate(response.tolist()):
            y0 = (b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0
            response[index] = y0
            x1, x2, y1, y2 = x0, x1, y0, y1
    return response


def _bin_powers(weighted: Samples) -> Samples:
    """Mean square of the K-weighted signal in each BIN_MS; a last, partial bin counts as
    if the rest of it were silence (where a track's next sound starts)."""
    import numpy as np

    step = SAMPLE_RATE_HZ * BIN_MS // 1000
    bins = -(-len(weighted) // step)
    padded = np.zeros(bins * step)
    padded[: len(weighted)] = weighted
    powers: Samples = (padded.reshape(bins, step) ** 2).mean(axis=1)
    return powers


def _integrated_lufs(weighted: Samples) -> float:
    """BS.1770's gated loudness of a (looped) K-weighted clip, -inf for silence; only
    whole bins count, as the meter's blocks end on whole 100 ms."""
    step = SAMPLE_RATE_HZ * BIN_MS // 1000
    whole = len(weighted) // step * step
    return gated_loudness(_bin_powers(weighted[:whole]).tolist())


def _profile(weighted: Samples) -> list[float]:
    return [float(power) for power in _bin_powers(weighted)]


class _Limiter:
    """The gain (at most 1) that holds every peak of a clip, at any gain, at ``ceiling``.

    The gain each sample needs is held from ATTACK_MS before it (a running minimum over
    the lookahead), then averaged over that window: a straight ramp that reaches the
    needed gain exactly at the peak. The reduction then decays exponentially, so a run
    of peaks is ridden smoothly instead of pumping. The running minimum of the needed
    gain scales with the clip's gain, so it is found once for every pass.
    """

    def __init__(self, samples: Samples, ceiling: float) -> None:
        import numpy as np

        self.attack = SAMPLE_RATE_HZ * ATTACK_MS // 1000
        with np.errstate(divide="ignore"):  # silence needs no limiting: infinite headroom
            headroom = ceiling / np.abs(samples)
        self.least_ahead = running_min_ahead(headroom, self.attack)
        self.decay = np.arange(len(samples)) / (SAMPLE_RATE_HZ * RELEASE_TAU_MS / 1000)

    def gain(self, clip_gain: float) -> Samples:
        """The limiter's gain for the clip times ``clip_gain``."""
        import numpy as np

        ahead = np.minimum(self.least_ahead / clip_gain, 1.0)
        if not len(ahead) or ahead.min() == 1.0:
            return ahead
        ramp = np.cumsum(np.concatenate([np.ones(self.attack), ahead]))
        reduction = 1.0 - (ramp[self.attack :] - ramp[: -self.attack]) / self.attack
        # Hold the deepest reduction seen, decaying by e every RELEASE_TAU_MS, in one
        # pass: log r[n] = max over k <= n of (log r[k] - (n - k) / tau).
        with np.errstate(divide="ignore"):
            logs = np.log(np.maximum(reduction, 0.0))
        held: Samples = 1.0 - np.exp(np.maximum.accumulate(logs + self.decay) - self.decay)
        return held


def _rounded(samples: Samples, ceiling: float) -> Samples:
    """Limited samples to whole 16-bit values, none past the ceiling (the ramp's rounding
    could pass it by a hair; so could ffmpeg's limiter, which clips there too)."""
    import numpy as np

    bound = math.floor(ceiling)
    rounded: Samples = np.clip(np.rint(samples), -bound, bound)
    return rounded


def running_min_ahead(values: Samples, window: int) -> Samples:
    """The least of ``values[n : n + window]`` for every n (van Herk / Gil-Werman: two
    passes of running minima over blocks, whatever the window)."""
    import numpy as np

    count = len(values)
    blocks = -(-(count + window) // window)
    padded = np.full(blocks * window, np.inf)  # past the end, nothing needs limiting
    padded[:count] = values
    rows = padded.reshape(blocks, window)
    prefix = np.minimum.accumulate(rows, axis=1).ravel()
    suffix = np.minimum.accumulate(rows[:, ::-1], axis=1)[:, ::-1].ravel()
    # A window from n to n + window - 1 spans the end of n's block and the start of the next.
    result: Samples = np.minimum(suffix[:count], prefix[window - 1 : window - 1 + count])
    return result
