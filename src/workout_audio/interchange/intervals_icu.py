"""intervals.icu workout text -> Plan.

The syntax (intervals.icu's workout builder): a line that does not start with
``-`` is a section header; ``4x`` alone or at the end of a header repeats the
steps below it up to the next blank line or header; a step is
``- [cue text] duration|distance [target] [cadence]``. Every step must have a
length the audio can keep: an open step or one ended by pressing lap is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..errors import RoutineError, UsageError
from ..routine.targets import Target, parse_cadence, parse_heart_rate, parse_pace, parse_power
from .plan import Plan, Role, Section, Step

__all__ = ["parse_intervals_icu", "parse_pace_s"]

_REPEAT_RE = re.compile(r"^(?:(?P<header>.*?)\s+)?(?P<rounds>\d+)\s*x$", re.IGNORECASE)
_UNIT_DURATION_RE = re.compile(
    r"^(?=\d)(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$"
)
_MINUTES_SECONDS_RE = re.compile(r"^(?P<m>\d+)m(?P<s>\d+)$")  # 1m30
_PRIME_DURATION_RE = re.compile(r"^(?=\d)(?:(?P<m>\d+)')?(?:(?P<s>\d+)\")?$")  # 5' 30" 1'30"
_DISTANCE_RE = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<unit>mtr|km|mi)$", re.IGNORECASE)
_METRES = {"mtr": 1.0, "km": 1000.0, "mi": 1609.344}
_PERCENT_RE = re.compile(r"^(?P<low>\d+(?:\.\d+)?)(?:-(?P<high>\d+(?:\.\d+)?))?%$")
_WATTS_RE = re.compile(r"^(?P<low>\d+)(?:-(?P<high>\d+))?w$", re.IGNORECASE)
_ZONE_RE = re.compile(r"^z(?P<low>\d)(?:-z(?P<high>\d))?$", re.IGNORECASE)
_CADENCE_RE = re.compile(r"^(?P<low>\d+)(?:-(?P<high>\d+))?(?P<unit>rpm|spm)$", re.IGNORECASE)
_PACE_RE = re.compile(
    r"^(?P<low>\d+:\d{2})(?:/(?P<unit_low>[a-z0-9]+))?(?:-(?P<high>\d+:\d{2}))?"
    r"/(?P<unit>km|mi|100m|500m|400m|250m|100y)$",
    re.IGNORECASE,
)
# Track and pool units the routine format does not have, as (its unit, the factor to it).
_PACE_UNITS_CONVERTED = {"400m": ("km", 2.5), "250m": ("km", 4.0), "100y": ("100m", 1 / 0.9144)}
# intervals.icu also writes a range with the unit on both ends: 50%-75%, 200w-240w.
_BOTH_ENDS_RE = re.compile(r"^(\d+(?:\.\d+)?)(%|w)-(\d+(?:\.\d+)?)\2$", re.IGNORECASE)
_KINDS = ("hr", "lthr", "pace")  # the word after a number or zone saying what it measures
_ROLES: dict[str, Role] = {
    "warmup": "warmup", "warm up": "warmup", "warm-up": "warmup",
    "cooldown": "cooldown", "cool down": "cooldown", "cool-down": "cooldown",
}  # fmt: skip


@dataclass
class _Open:
    """The section being read."""

    name: str
    line: int
    rounds: int = 1
    repeat: bool = False
    steps: list[Step] = field(default_factory=list)
    unnamed: list[bool] = field(default_factory=list)  # no cue text: a name is chosen


def parse_pace_s(text: str) -> tuple[int, str]:
    """``4:30/km`` -> (270, "km"): seconds per unit of distance."""
    match = re.fullmatch(r"(\d+):(\d{2})/(km|mi|100m|500m)", text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a pace like 4:30/km")
    return int(match[1]) * 60 + int(match[2]), match[3]


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _pace(match: re.Match[str]) -> str:
    """An absolute pace in a unit the routine format has (a 400 m lap pace per km)."""
    unit = match["unit"].lower()
    clocks = [c for c in (match["low"], match["high"]) if c]
    if unit in _PACE_UNITS_CONVERTED:
        unit, factor = _PACE_UNITS_CONVERTED[unit]
        clocks = [_clock_ms(_seconds(c) * factor * 1000) for c in clocks]
    return "-".join(clocks) + f"/{unit}"


def _seconds(clock: str) -> int:
    minutes, _, seconds = clock.partition(":")
    return int(minutes) * 60 + int(seconds)


def _clock_ms(duration_ms: float) -> str:
    """m:ss, with milliseconds where a converted pace has them."""
    whole_ms = round(duration_ms)
    minutes, rest_ms = divmod(whole_ms, 60_000)
    text = f"{minutes}:{rest_ms // 1000:02d}"
    return text + (f".{rest_ms % 1000:03d}".rstrip("0") if rest_ms % 1000 else "")


def _number(text: str) -> str:
    return f"{float(text):g}"


def _duration_ms(token: str) -> int | None:
    for pattern in (_UNIT_DURATION_RE, _MINUTES_SECONDS_RE, _PRIME_DURATION_RE):
        match = pattern.match(token)
        if match and any(match.groups()):
            parts = match.groupdict()
            seconds = (
                float(parts.get("h") or 0) * 3600
                + float(parts.get("m") or 0) * 60
                + float(parts.get("s") or 0)
            )
            return round(seconds * 1000)
    return None


class _Reader:
    def __init__(self, path: str, threshold_pace: str | None) -> None:
        self.path = path
        try:
            self.threshold = parse_pace_s(threshold_pace) if threshold_pace else None
        except ValueError as error:
            raise UsageError(f"--threshold-pace: {error}") from None

    def fail(self, line: int, message: str) -> RoutineError:
        return RoutineError(self.path, line, "step", message)

    def step(self, text: str, line: int, role: Role) -> Step:
        tokens = text.split()
        lowered = [t.casefold() for t in tokens]
        if "lap" in lowered:
            raise self.fail(
                line, "a step ended by pressing lap has no length the audio can keep: "
                "give it a duration (10m) or a distance (1km)"
            )  # fmt: skip
        index = 0
        for index, token in enumerate(tokens):  # noqa: B007 - the split is used below
            duration_ms = _duration_ms(token)
            distance = _DISTANCE_RE.match(token)
            if duration_ms is not None or distance is not None:
                break
        else:
            raise self.fail(
                line, f"{text.strip()!r} has no duration or distance: the audio cannot time "
                "an open step; give one like 10m, 30s or 1km"
            )  # fmt: skip
        if duration_ms == 0:
            raise self.fail(line, f"{token!r} is no time at all: give a duration above zero")
        name = " ".join(tokens[:index])
        target = self.target(tokens[index + 1 :], line)
        free = target.pop("freeride", False)
        distance_m = None
        if distance is not None:
            distance_m = float(distance["value"]) * _METRES[distance["unit"].casefold()]
            if "pace" not in target:
                raise self.fail(
                    line, f"{token} needs a pace to be timed: add one like 4:30/km Pace "
                    "(or 80% Pace with --threshold-pace)"
                )  # fmt: skip
        if not name:
            name = "Free ride" if free else _DEFAULT_NAMES[role]
        duration_ms = duration_ms if distance is None else None
        return Step(name, duration_ms, distance_m, self.checked(target, line) if target else None)

    def checked(self, written: dict[str, str | int | bool], line: int) -> Target:
        """The routine format's own parsers check each target's range and form."""
        try:
            return Target(
                pace=parse_pace(str(written["pace"])) if "pace" in written else None,
                hr=parse_heart_rate(str(written["hr"])) if "hr" in written else None,
                power=parse_power(str(written["power"])) if "power" in written else None,
                cadence=parse_cadence(str(written["cadence"])) if "cadence" in written else None,
                ramp=bool(written.get("ramp", False)),
            )
        except ValueError as error:
            raise self.fail(line, str(error)) from None

    def target(self, tokens: list[str], line: int) -> dict[str, str | int | bool]:
        target: dict[str, str | int | bool] = {}
        index = 0
        while index < len(tokens):
            token = _BOTH_ENDS_RE.sub(r"\1-\3\2", tokens[index])
            following = tokens[index + 1].casefold() if index + 1 < len(tokens) else ""
            kind = following if following in _KINDS else ""
            index += 2 if kind else 1
            if token.casefold() == "ramp":
                target["ramp"] = True
            elif token.casefold() == "freeride":
                target["freeride"] = True
            elif match := _PERCENT_RE.match(token):
                self.percent(target, match, kind, line)
            elif match := _ZONE_RE.match(token):
                zone = "Z" + match["low"] + (f"-Z{match['high']}" if match["high"] else "")
                if kind == "pace":
                    raise self.fail(
                        line, f"{zone} Pace depends on pace zones the file does not give: "
                        "write the pace itself (4:30/km Pace) or a share of threshold (80% Pace)"
                    )  # fmt: skip
                target["hr" if kind in ("hr", "lthr") else "power"] = zone
            elif match := _WATTS_RE.match(token):
                high = f"-{match['high']}" if match["high"] else ""
                target["power"] = f"{match['low']}{high}W"
            elif match := _CADENCE_RE.match(token):
                high = f"-{match['high']}" if match["high"] else ""
                target["cadence"] = f"{match['low']}{high}{match['unit'].lower()}"
            elif match := _PACE_RE.match(token):
                target["pace"] = _pace(match)
            elif re.fullmatch(r"\d+:\d{2}(?:-\d+:\d{2})?", token):
                raise self.fail(
                    line, f"{token} has no unit: intervals.icu takes it from a setting the "
                    f"file does not carry; write {token}/km (or /mi, /100m, /500m)"
                )  # fmt: skip
            else:
                raise self.fail(line, f"{token!r} is not a target this importer knows")
        return target

    def percent(
        self, target: dict[str, str | int | bool], match: re.Match[str], kind: str, line: int
    ) -> None:
        low, high = match["low"], match["high"]
        share = _number(low) + (f"-{_number(high)}" if high else "") + "%"
        if kind == "hr":
            target["hr"] = f"{share} max"
        elif kind == "lthr":
            target["hr"] = f"{share} threshold"
        elif kind == "pace":
            if self.threshold is None:
                raise self.fail(
                    line, f"{share} Pace is a share of your threshold pace: import it with "
                    "it (workout-audio import FILE --threshold-pace 4:30/km)"
                )  # fmt: skip
            threshold_s, unit = self.threshold
            # A pace at 80% of threshold is 80% of its speed: slower, so a longer time.
            paces = [_clock(threshold_s * 100 / float(v)) for v in (low, high) if v]
            target["pace"] = "-".join(paces) + f"/{unit}"
        else:
            target["power"] = share


_DEFAULT_NAMES: dict[Role, str] = {"warmup": "Warm up", "main": "Interval", "cooldown": "Cool down"}


def _effort(target: Target | None) -> float | None:
    """How hard a step is, to tell work from recovery within one repeat."""
    if target is None:
        return None
    if target.power is not None:
        return max(target.power.first, target.power.second)
    if target.hr is not None:
        return max(target.hr.first, target.hr.second)
    if target.pace is not None:
        return -min(target.pace.first_ms, target.pace.second_ms)  # a faster pace is harder
    return None


def _work_and_recover(section: _Open) -> tuple[Step, ...]:
    """In a repeat, steps with no cue text are called "Work" (the hardest) and "Recover"."""
    efforts = [_effort(step.target) for step in section.steps]
    known = [e for e in efforts if e is not None]
    if len(known) != len(efforts) or len(set(known)) < 2:
        return tuple(section.steps)
    hardest = max(known)
    return tuple(
        replace(step, name="Work" if effort == hardest else "Recover") if unnamed else step
        for step, effort, unnamed in zip(section.steps, efforts, section.unnamed, strict=True)
    )


def parse_intervals_icu(
    text: str, path: str, name: str, *, threshold_pace: str | None = None
) -> Plan:
    """Read an intervals.icu workout; ``threshold_pace`` turns percent paces into paces.

    Raises:
        RoutineError: a step the audio cannot time, or a token that is not a target;
            the message names the file and line.
    """
    reader = _Reader(path, threshold_pace)
    sections: list[Section] = []
    current: _Open | None = None
    header = ""

    def close() -> None:
        nonlocal current
        if current is not None and current.steps:
            role = _ROLES.get(current.name.casefold(), "main")
            steps = _work_and_recover(current) if current.repeat else tuple(current.steps)
            sections.append(Section(current.name, steps, current.rounds, role, current.repeat))
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            close()
            continue
        if line.startswith("-"):
            if current is None:
                current = _Open(header or "Main set", number)
            role = _ROLES.get(current.name.casefold(), "main")
            step = reader.step(line[1:], number, role)
            current.steps.append(step)
            current.unnamed.append(step.name == _DEFAULT_NAMES[role] or step.name == "Free ride")
            continue
        close()
        repeat = _REPEAT_RE.match(line)
        if repeat is not None:
            header = (repeat["header"] or "").strip() or "Intervals"
            rounds = int(repeat["rounds"])
            if rounds < 1:
                raise reader.fail(number, f"{line!r} repeats nothing: give 1x or more")
            current = _Open(header, number, rounds, repeat=True)
        else:
            header = line
    close()
    if not sections:
        raise RoutineError(path, None, "", "no steps: an intervals.icu step starts with '- '")
    return Plan(name, tuple(sections), source="intervals.icu")
