"""PCM in one format everywhere: signed 16-bit mono at 44.1 kHz.

Every piece of the track (speech, tones, silence) is in this format before it
meets another, so nothing is resampled by accident. Times become sample
indices here and only here.
"""

from __future__ import annotations

import math

__all__ = ["CHANNELS", "SAMPLE_RATE_HZ", "SAMPLE_WIDTH_BYTES", "ms_to_samples", "samples_to_ms"]

SAMPLE_RATE_HZ = 44_100
SAMPLE_WIDTH_BYTES = 2
CHANNELS = 1


def ms_to_samples(duration_ms: int) -> int:
    """Sample index of a time; computed from absolute times, so rounding never drifts."""
    return duration_ms * SAMPLE_RATE_HZ // 1000


def samples_to_ms(samples: int) -> int:
    """The whole milliseconds that hold ``samples`` samples (rounded up)."""
    return math.ceil(samples * 1000 / SAMPLE_RATE_HZ)
