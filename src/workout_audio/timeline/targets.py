"""A move's targets and distance in words, as a coach says them in the track's language.

"at 5 30 per kilometre", "zone 2", "hold 200 to 250 watts", "build from 60 to 75
percent", "cadence 90", "effort 7 out of 10". The wording is in the phrase files;
this module only chooses the template and fills in the numbers.
"""

from __future__ import annotations

from ..routine.targets import (
    DISTANCE_UNITS_M,
    HeartRateTarget,
    PaceTarget,
    PowerTarget,
    Target,
    format_distance,
)
from .phrases import Phrases

__all__ = ["distance_words", "pace_words", "target_words"]


def target_words(target: Target, say: Phrases) -> list[str]:
    """Each target as its own phrase, in the order a coach gives them: what to hold first."""
    ramped = target.ramped
    words = []
    if target.power:
        words.append(_power(target.power, say, ramped is target.power))
    if target.pace:
        words.append(_pace(target.pace, say, ramped is target.pace))
    if target.hr:
        words.append(_heart_rate(target.hr, say, ramped is target.hr))
    if target.cadence:
        cadence = target.cadence
        value = _value(cadence.first, cadence.second, say, ramp=False)
        words.append(say.say(f"cadence_{cadence.unit}", value=value))
    if target.rpe is not None:
        words.append(say.say("rpe", value=target.rpe))
    return words


def distance_words(distance_m: float, say: Phrases) -> str:
    """``1 kilometre``, ``400 metres``, ``1.5 miles``: the unit it reads shortest in."""
    written = format_distance(distance_m)
    unit = next(u for u in ("km", "mi", "m") if written.endswith(u))
    return say.count(f"distance_{unit}", distance_m / DISTANCE_UNITS_M[unit])


def pace_words(pace_ms: int, say: Phrases, *, in_range: bool = False) -> str:
    """A pace's clock as the voice should read it: ``5 30``, ``5 oh 5``, ``5 minutes``
    (``6`` in a range: "between 6 and 6 30")."""
    minutes, seconds = divmod(round(pace_ms / 1000), 60)
    if seconds == 0:
        return say.count("pace_clock_whole" if in_range else "minutes", minutes)
    key = "pace_clock_oh" if seconds < 10 else "pace_clock"
    return say.count(key, minutes, s=seconds)


def _ramp(phrase: str, rising: bool, say: Phrases) -> str:
    return say.say("target_ramp_up" if rising else "target_ramp_down", target=phrase)


def _value(first: float, second: float, say: Phrases, *, ramp: bool) -> str:
    if first == second:
        return say.number(first)
    key = "target_ramp_value" if ramp else "target_range"
    return say.say(key, first=say.number(first), second=say.number(second))


def _power(power: PowerTarget, say: Phrases, ramp: bool) -> str:
    phrase = say.say(f"power_{power.kind}", value=_value(power.first, power.second, say, ramp=ramp))
    if ramp:
        return _ramp(phrase, power.second > power.first, say)
    return phrase if power.kind == "zone" else say.say("target_hold", target=phrase)


def _heart_rate(hr: HeartRateTarget, say: Phrases, ramp: bool) -> str:
    phrase = say.say(f"hr_{hr.kind}", value=_value(hr.first, hr.second, say, ramp=ramp))
    return _ramp(phrase, hr.second > hr.first, say) if ramp else phrase


def _pace(pace: PaceTarget, say: Phrases, ramp: bool) -> str:
    first = pace_words(pace.first_ms, say, in_range=pace.ranged)
    second = pace_words(pace.second_ms, say, in_range=pace.ranged)
    if ramp:
        value = say.say("target_ramp_value", first=first, second=second)
    elif pace.ranged:
        value = say.say("pace_range", first=first, second=second)
    else:
        value = say.say("pace_one", pace=first)
    phrase = say.say("pace", value=value, per=say.say(f"per_{pace.unit}"))
    # A faster pace is fewer seconds: going from 6:00 to 5:00 builds.
    return _ramp(phrase, pace.second_ms < pace.first_ms, say) if ramp else phrase
