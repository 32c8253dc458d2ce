"""Targets of a move (pace, heart rate, power, cadence, effort) and distances: text <-> values.

The one home of these forms: the loader parses them, the importers write them back with
:func:`format_target`, the cues and charts read the dataclasses. A range keeps the order
it was written in, because a ramp moves from its first value to its second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "CADENCE_UNITS",
    "DISTANCE_UNITS_M",
    "PACE_UNITS_M",
    "CadenceTarget",
    "CadenceUnit",
    "HeartRateKind",
    "HeartRateTarget",
    "PaceTarget",
    "PaceUnit",
    "PowerKind",
    "PowerTarget",
    "Target",
    "describe_target",
    "format_distance",
    "format_target",
    "parse_cadence",
    "parse_distance_m",
    "parse_heart_rate",
    "parse_pace",
    "parse_power",
]

PaceUnit = Literal["km", "mi", "100m", "500m"]  # a pace is time per one of these
PACE_UNITS_M: dict[PaceUnit, float] = {"km": 1000.0, "mi": 1609.344, "100m": 100.0, "500m": 500.0}
DISTANCE_UNITS_M = {"m": 1.0, "km": 1000.0, "mi": 1609.344}
HeartRateKind = Literal["zone", "bpm", "max", "threshold"]  # max, threshold: percent of it
PowerKind = Literal["ftp", "watts", "zone"]  # ftp: percent of functional threshold power
CadenceUnit = Literal["rpm", "spm"]
CADENCE_UNITS: tuple[CadenceUnit, ...] = get_args(CadenceUnit)
_ZONES = (1, 7)  # Z1..Z5 in most tools, Z6 and Z7 in seven-zone power and HR models
_MAX_DISTANCE_M = 1_000_000.0

_NUMBER = r"\d+(?:\.\d+)?"
_CLOCK = r"\d{1,2}:\d{2}(?:\.\d+)?"
_PACE_RE = re.compile(rf"^({_CLOCK})(?:\s*-\s*({_CLOCK}))?\s*/\s*(km|mi|100m|500m)$")
_ZONE_RE = re.compile(r"^z(\d)(?:\s*-\s*z?(\d))?$")
_BPM_RE = re.compile(rf"^({_NUMBER})(?:\s*-\s*({_NUMBER}))?\s*bpm$")
_PERCENT_OF_RE = re.compile(rf"^({_NUMBER})(?:\s*-\s*({_NUMBER}))?\s*%\s*(max|threshold)$")
_PERCENT_RE = re.compile(rf"^({_NUMBER})(?:\s*-\s*({_NUMBER}))?\s*%$")
_WATTS_RE = re.compile(rf"^({_NUMBER})(?:\s*-\s*({_NUMBER}))?\s*w$")
_CADENCE_RE = re.compile(rf"^({_NUMBER})(?:\s*-\s*({_NUMBER}))?\s*(rpm|spm)$")
_DISTANCE_RE = re.compile(rf"^({_NUMBER})\s*(m|km|mi)$")


@dataclass(frozen=True)
class PaceTarget:
    """Time per ``unit`` in milliseconds, ``first_ms`` to ``second_ms`` as written."""

    first_ms: int
    second_ms: int
    unit: PaceUnit

    @property
    def slower_ms(self) -> int:
        """The range's slower end: the one a distance is timed by."""
        return max(self.first_ms, self.second_ms)

    @property
    def ranged(self) -> bool:
        return self.first_ms != self.second_ms

    def time_for_ms(self, distance_m: float) -> int:
        """How long ``distance_m`` takes at the slower end of the range."""
        return round(distance_m * self.slower_ms / PACE_UNITS_M[self.unit])


class _Span:
    """A value written alone (``Z2``) or as a range (``140-150bpm``): ``first`` to ``second``."""

    first: float
    second: float

    @property
    def ranged(self) -> bool:
        """Written as a range of two different ends."""
        return self.first != self.second


@dataclass(frozen=True)
class HeartRateTarget(_Span):
    """A zone (``Z2``), beats a minute, or a percent of maximum or threshold heart rate."""

    kind: HeartRateKind
    first: float
    second: float


@dataclass(frozen=True)
class PowerTarget(_Span):
    """A percent of FTP, watts, or a power zone."""

    kind: PowerKind
    first: float
    second: float


@dataclass(frozen=True)
class CadenceTarget(_Span):
    """Revolutions (cycling) or steps (running) a minute."""

    first: float
    second: float
    unit: CadenceUnit


@dataclass(frozen=True)
class Target:
    """What a move asks for; any of them together (power and cadence, say)."""

    pace: PaceTarget | None = None
    hr: HeartRateTarget | None = None
    power: PowerTarget | None = None
    cadence: CadenceTarget | None = None
    rpe: int | None = None
    ramp: bool = False  # the one range among power, hr and pace moves over the move

    @property
    def ramped(self) -> PaceTarget | HeartRateTarget | PowerTarget | None:
        """The range that moves from its first value to its second, if the move is a ramp."""
        if not self.ramp:
            return None
        return next((t for t in (self.power, self.hr, self.pace) if t and t.ranged), None)


def parse_pace(text: str) -> PaceTarget:
    """``"5:30/km"``, ``"5:20-5:40/km"``, ``"8:50/mi"``, ``"1:45/100m"``, ``"2:00/500m"``."""
    found = _PACE_RE.match(_fold(text))
    if not found:
        raise ValueError(f"{text!r} is not a pace (try 5:30/km, 5:20-5:40/km, 8:50/mi, 1:45/100m)")
    first_ms = _clock_ms(found[1], text)
    second_ms = _clock_ms(found[2], text) if found[2] else first_ms
    unit = next(u for u in PACE_UNITS_M if u == found[3])
    return PaceTarget(first_ms, second_ms, unit)


def parse_heart_rate(text: str) -> HeartRateTarget:
    """``"Z2"``, ``"150bpm"``, ``"140-150bpm"``, ``"75% max"``, ``"85-95% threshold"``."""
    folded = _fold(text)
    if zone := _ZONE_RE.match(folded):
        return HeartRateTarget("zone", *_zones(zone, text))
    if bpm := _BPM_RE.match(folded):
        return HeartRateTarget("bpm", *_numbers(bpm, text, 30, 250, "bpm"))
    if percent := _PERCENT_OF_RE.match(folded):
        kind: HeartRateKind = "max" if percent[3] == "max" else "threshold"
        return HeartRateTarget(kind, *_numbers(percent, text, 1, 120, "%"))
    raise ValueError(f"{text!r} is not a heart rate (try Z2, 140-150bpm, 75% max or 90% threshold)")


def parse_power(text: str) -> PowerTarget:
    """``"75%"`` (of FTP), ``"70-80%"``, ``"250W"``, ``"200-250W"``, ``"Z3"``."""
    folded = _fold(text)
    if zone := _ZONE_RE.match(folded):
        return PowerTarget("zone", *_zones(zone, text))
    if percent := _PERCENT_RE.match(folded):
        return PowerTarget("ftp", *_numbers(percent, text, 1, 300, "%"))
    if watts := _WATTS_RE.match(folded):
        return PowerTarget("watts", *_numbers(watts, text, 1, 3000, "W"))
    raise ValueError(f"{text!r} is not a power (try 75%, 70-80%, 250W, 200-250W or Z3)")


def parse_cadence(text: str) -> CadenceTarget:
    """``"90rpm"``, ``"170spm"``, ``"85-95rpm"``."""
    found = _CADENCE_RE.match(_fold(text))
    if not found:
        raise ValueError(f"{text!r} is not a cadence (try 90rpm, 85-95rpm or 170spm)")
    first, second = _numbers(found, text, 1, 300, found[3])
    return CadenceTarget(first, second, "rpm" if found[3] == "rpm" else "spm")


def parse_distance_m(value: object) -> float:
    """``"400m"``, ``"1km"``, ``"1.5km"``, ``"1mi"``, ``"800 m"`` -> metres."""
    found = _DISTANCE_RE.match(_fold(value)) if isinstance(value, str) else None
    if not found:
        raise ValueError(f"{value!r} is not a distance (try 400m, 1km, 1.5km or 1mi)")
    distance_m = float(found[1]) * DISTANCE_UNITS_M[found[2]]
    if not 0 < distance_m <= _MAX_DISTANCE_M:
        raise ValueError(f"{value!r} must be more than 0 and at most 1000km")
    return distance_m


def format_distance(distance_m: float) -> str:
    """Metres -> the shortest canonical form: ``"400m"``, ``"1km"``, ``"1.5km"``, ``"1mi"``."""
    miles = distance_m / DISTANCE_UNITS_M["mi"]
    if abs(miles - round(miles, 2)) < 1e-9 and distance_m % 100:
        return f"{_number(round(miles, 2))}mi"
    if distance_m >= 1000 and distance_m % 100 == 0:
        return f"{_number(distance_m / 1000)}km"
    return f"{_number(distance_m)}m"


def format_target(target: Target) -> dict[str, object]:
    """A target -> the mapping a routine file holds (``{"pace": "5:30/km", "rpe": 7}``)."""
    written: dict[str, object] = {}
    if target.pace:
        pace = target.pace
        clock = _clock(pace.first_ms)
        if pace.ranged:
            clock += "-" + _clock(pace.second_ms)
        written["pace"] = f"{clock}/{pace.unit}"
    if target.hr:
        hr = target.hr
        if hr.kind == "zone":
            written["hr"] = _span(hr.first, hr.second, "Z", "")
        else:
            suffix = "bpm" if hr.kind == "bpm" else f"% {hr.kind}"
            written["hr"] = _span(hr.first, hr.second, "", suffix)
    if target.power:
        power = target.power
        if power.kind == "zone":
            written["power"] = _span(power.first, power.second, "Z", "")
        else:
            unit = "%" if power.kind == "ftp" else "W"
            written["power"] = _span(power.first, power.second, "", unit)
    if target.cadence:
        cadence = target.cadence
        written["cadence"] = _span(cadence.first, cadence.second, "", cadence.unit)
    if target.rpe is not None:
        written["rpe"] = target.rpe
    if target.ramp:
        written["ramp"] = True
    return written


def describe_target(target: Target) -> str:
    """A target in short written form, for a card or a chart: ``4:30/km · 175spm``,
    ``60-75% FTP · ramp``, ``HR Z2 · RPE 7``."""
    written = format_target(target)
    parts = [str(written["pace"])] if "pace" in written else []
    if target.power is not None:
        power = str(written["power"])
        named = {"ftp": f"{power} FTP", "watts": power, "zone": f"Power {power}"}
        parts.append(named[target.power.kind])
    if "hr" in written:
        parts.append(f"HR {written['hr']}")
    if "cadence" in written:
        parts.append(str(written["cadence"]))
    if target.rpe is not None:
        parts.append(f"RPE {target.rpe}")
    if target.ramp:
        parts.append("ramp")
    return " · ".join(parts)


def _fold(text: str) -> str:
    return " ".join(text.strip().lower().split())


def _clock_ms(clock: str, text: str) -> int:
    minutes, _, seconds = clock.partition(":")
    if float(seconds) >= 60:
        raise ValueError(f"{text!r} has {seconds} seconds; a pace's seconds run from 00 to 59")
    total_ms = round((int(minutes) * 60 + float(seconds)) * 1000)
    if total_ms == 0:
        raise ValueError(f"{text!r} is a pace of no time at all")
    return total_ms


def _clock(duration_ms: int) -> str:
    minutes, rest_ms = divmod(duration_ms, 60_000)
    seconds = f"{rest_ms // 1000:02d}"
    if rest_ms % 1000:
        seconds += f"{rest_ms % 1000 / 1000:.3f}".removeprefix("0").rstrip("0")
    return f"{minutes}:{seconds}"


def _zones(found: re.Match[str], text: str) -> tuple[float, float]:
    first = int(found[1])
    second = int(found[2]) if found[2] else first
    low, high = _ZONES
    if not (low <= first <= high and low <= second <= high):
        raise ValueError(f"{text!r}: zones run from Z{low} to Z{high}")
    return float(first), float(second)


def _numbers(
    found: re.Match[str], text: str, low: float, high: float, unit: str
) -> tuple[float, float]:
    first = float(found[1])
    second = float(found[2]) if found[2] else first
    for value in (first, second):
        if not low <= value <= high:
            raise ValueError(f"{text!r}: {_number(value)}{unit} is outside {low}-{high}{unit}")
    return first, second


def _span(first: float, second: float, prefix: str, suffix: str) -> str:
    if first == second:
        return f"{prefix}{_number(first)}{suffix}"
    return f"{prefix}{_number(first)}-{prefix}{_number(second)}{suffix}"


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))
