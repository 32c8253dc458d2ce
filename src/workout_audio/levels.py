"""Levels as users write them ("12dB", "-15 dB", "-16") and the ranges each may take."""

from __future__ import annotations

import math
import re

__all__ = [
    "DEFAULT_TARGET_LUFS",
    "DUCK_RANGE_DB",
    "LOUDNESS_RANGE_LUFS",
    "MONO_BELOW_STEREO_LU",
    "MUSIC_LEVEL_RANGE_DB",
    "parse_level",
    "target_lufs",
]

DUCK_RANGE_DB = (0.0, 40.0)  # how far the music dips under a cue
MUSIC_LEVEL_RANGE_DB = (-40.0, 0.0)  # the music against the voice; louder would bury the coach
LOUDNESS_RANGE_LUFS = (-30.0, -9.0)  # -9 is as loud as a mastered pop song; -30 is barely there
DEFAULT_TARGET_LUFS = -16.0  # the finished track in stereo: podcast and spoken-word loudness
# A mono track plays in both ears at full level, which a listener hears about 3 dB louder
# than the meter (which counts one channel) says: -19 LUFS mono sounds like -16 LUFS stereo
# (the usual guidance for spoken word, e.g. AES TD1004 and Apple's podcast specification).
MONO_BELOW_STEREO_LU = 3.0

_LEVEL_RE = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(db|lufs|lu)?\s*$", re.IGNORECASE)


def parse_level(value: object, valid: tuple[float, float], unit: str = "dB") -> float:
    """A level in decibels (``12dB``, ``-15 dB``, ``-16``, ``-16 LUFS``) within ``valid``.

    Raises:
        ValueError: not a level, or outside ``valid``.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a level; write it like '12{unit}'")
    if isinstance(value, (int, float)):
        level = float(value)
    else:
        match = _LEVEL_RE.match(str(value))
        if not match:
            raise ValueError(f"{str(value)!r} is not a level; write it like '12{unit}'")
        level = float(match.group(1))
    low, high = valid
    if not math.isfinite(level) or not low <= level <= high:
        raise ValueError(f"{level:g} {unit} is out of range: from {low:g} to {high:g} {unit}")
    return level


def target_lufs(stereo_lufs: float, channels: int) -> float:
    """The integrated loudness a track of ``channels`` is made at, for a target stated as
    heard in stereo (``--loudness``): a mono track is made MONO_BELOW_STEREO_LU lower."""
    return stereo_lufs - (MONO_BELOW_STEREO_LU if channels == 1 else 0.0)
