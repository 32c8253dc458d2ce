"""Durations as users write them ("30s", "1m30s", "90", "1:30") <-> integer milliseconds."""

from __future__ import annotations

import math
import re

__all__ = ["format_clock", "format_timestamp", "parse_duration_ms"]

_UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1_000, "ms": 1}
_UNITS_RE = re.compile(
    r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$"
)
_CLOCK_RE = re.compile(r"^(?:(\d+):)?(\d+):(\d{2}(?:\.\d+)?)$")


def parse_duration_ms(value: object) -> int:
    """Parse a duration into whole milliseconds.

    Accepts a number of seconds (``90``, ``2.5``), unit strings (``30s``,
    ``1m30s``, ``1h``, ``1500ms``, ``2.5s``) and clock strings (``1:30``,
    ``45:00``, ``1:00:00``).

    Raises:
        ValueError: the value is not a duration, or is negative, NaN or infinite.
    """
    try:
        return _parse_ms(value)
    except OverflowError:  # a number too big for a float, e.g. a 400-digit "1000...0h"
        raise ValueError(f"{_shorten(value)} is too long to be a duration") from None


def _shorten(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:36] + "..."


def _parse_ms(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        return _seconds_to_ms(float(value), value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration")
    text = value.strip().lower().replace(" ", "")
    if not text:
        raise ValueError("empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return _seconds_to_ms(float(text), value)
    clock = _CLOCK_RE.match(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        if float(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
            raise ValueError(f"{value!r} is not a clock time (try 1:30 or 1:00:00)")
        total_s = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
        return _seconds_to_ms(total_s, value)
    units = _UNITS_RE.match(text)
    if units and any(units.groups()):
        hours, minutes, seconds, millis = units.groups()
        total_ms = (
            float(hours or 0) * _UNIT_MS["h"]
            + float(minutes or 0) * _UNIT_MS["m"]
            + float(seconds or 0) * _UNIT_MS["s"]
            + int(millis or 0)
        )
        if math.isinf(total_ms):
            raise OverflowError(value)
        return round(total_ms)
    raise ValueError(f"{value!r} is not a duration (try 30s, 1m30s, 90 or 1:30)")


def _seconds_to_ms(seconds: float, original: object) -> int:
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"{original!r} is not a duration")
    if seconds < 0:
        raise ValueError(f"{original!r} is negative")
    return round(seconds * 1000)


def format_clock(duration_ms: int, *, tenths: bool = False) -> str:
    """``1_800_000`` -> ``"30:00"``; ``3_723_400`` -> ``"1:02:03.4"``.

    Tenths are shown when not whole, or always with ``tenths=True`` (so a column of
    times lines up); rounding carries into the seconds: 119_960 ms is ``"2:00.0"``.
    """
    total_tenths = round(duration_ms / 100)
    total_s = total_tenths // 10
    hours, rest = divmod(total_s, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    return f"{clock}.{total_tenths % 10}" if tenths or total_tenths % 10 else clock


def format_timestamp(at_ms: int, separator: str = ".") -> str:
    """``3_723_400`` -> ``"01:02:03.400"``: the fixed-width time of WebVTT, of Vorbis
    chapters and (with ``separator=","``) of SubRip."""
    hours, rest_ms = divmod(at_ms, 3_600_000)
    minutes, rest_ms = divmod(rest_ms, 60_000)
    seconds, millis = divmod(rest_ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"
