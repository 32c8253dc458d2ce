"""Plain routine data -> Routine: the checks a schema cannot state, while building the model.

The JSON Schema states every shape and range once; what is left here is what it
cannot say: durations, time-xor-reps, per-round list lengths, work that fits an
EMOM period, rests where a structure has none, duplicates and control characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar, get_args

from ..durations import parse_duration_ms
from ..levels import DUCK_RANGE_DB, MUSIC_LEVEL_RANGE_DB, parse_level
from ..settings import MusicSettings
from .messages import Problems, Where, show
from .model import (
    DEFAULT_TIMING,
    PERIOD_REST_MS,
    REST_KINDS,
    TONE_NAMES,
    Block,
    BlockRole,
    Exercise,
    Flow,
    Rests,
    Routine,
    Side,
    Sound,
    TimedMessage,
    Timing,
)
from .targets import (
    Target,
    format_distance,
    parse_cadence,
    parse_distance_m,
    parse_heart_rate,
    parse_pace,
    parse_power,
)

__all__ = ["Builder"]

_MAX_DURATION_MS = 6 * 3_600_000
_SIDES: tuple[Side, ...] = get_args(Side)
_FLOWS: tuple[Flow, ...] = get_args(Flow)
_INSIDE = ("exercise", "round")  # an every: block's own rests; its block rest follows it
_NO_RESTS = Rests(0, 0, 0, (0, 0), (0, 0), (0, 0))
_NO_RESTS_CONTINUOUS = (
    "no rests in continuous flow: write a recovery as a move (like Walk), or set it to 0s"
)
_NO_RESTS_EVERY = "no rests inside an every: block: each period rests for what its work leaves"
_ROLES: tuple[BlockRole, ...] = get_args(BlockRole)
_CONTROL_CATEGORIES = ("Cc", "Zl", "Zp")
_Part = TypeVar("_Part")  # one kind of target: a pace, a heart rate, a power, a cadence


class Builder:
    """Semantic checks the schema cannot express, while building the dataclasses.

    Runs even after schema errors so that one pass reports everything; a field that
    already has an error, or the wrong type, is skipped with a harmless stand-in value.
    """

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def routine(self, raw: dict[str, object]) -> Routine:
        timing = self.timing(raw.get("timing"), ("timing",), DEFAULT_TIMING)
        if timing.flow == "continuous":
            self.no_rests(raw.get("timing"), ("timing",), _NO_RESTS_CONTINUOUS)
        length_ms = None
        if "length" in raw:
            length_ms = self.duration(raw["length"], ("length",), allow_zero=False)
        language = raw.get("language")
        source = self.text(raw["source"], ("source",)) if "source" in raw else ""
        blocks = []
        first_lines: dict[str, int] = {}
        for index, block_raw in enumerate(_items(raw.get("blocks"))):
            if not isinstance(block_raw, dict):
                continue
            block = self.block(block_raw, ("blocks", index), timing)
            blocks.append(block)
            name_where: Where = ("blocks", index, "name")
            key = block.name.casefold()
            if key in first_lines:
                message = (
                    f"duplicate block name {show(block.name)} (first at line {first_lines[key]})"
                )
                self.problems.add(name_where, message)
            elif key:
                first_lines[key] = self.problems.line(name_where) or block.line
        return Routine(
            name=self.name(raw.get("name"), ("name",)),
            blocks=tuple(blocks),
            timing=timing,
            length_ms=length_ms,
            language=language if isinstance(language, str) else "en",
            equipment=self.texts(raw.get("equipment"), ("equipment",)),
            source=source or None,
            path=self.problems.path,
            length_line=self.problems.lines.get(("length",)) if "length" in raw else None,
            language_line=self.problems.lines.get(("language",)) if "language" in raw else None,
            music=self.music(raw.get("music"), ("music",)),
            sounds=self.sounds(raw.get("sounds"), ("sounds",)),
        )

    def sounds(self, raw: object, where: Where) -> tuple[Sound, ...]:
        """Sound files by tone, relative to the routine's folder; the schema checks names."""
        if not isinstance(raw, dict):
            return ()
        found = []
        for name, value in raw.items():
            tone = next((t for t in TONE_NAMES if t == name), None)
            if tone is None or not isinstance(value, str) or not value.strip():
                continue  # the schema has said why
            path = Path(self.problems.path).parent / Path(value).expanduser()
            if not path.is_file():
                self.problems.add(
                    (*where, tone), f"no sound file at {value!r} (relative to the routine's folder)"
                )
            found.append(Sound(tone, path, self.problems.line((*where, tone))))
        return tuple(found)

    def music(self, raw: object, where: Where) -> MusicSettings | None:
        """The routine's music: its file relative to the routine, and its levels."""
        if not isinstance(raw, dict) or not isinstance(raw.get("file"), str):
            return None
        levels: dict[str, float | None] = {"level": None, "duck": None}
        for key, valid in (("level", MUSIC_LEVEL_RANGE_DB), ("duck", DUCK_RANGE_DB)):
            if key in raw:
                try:
                    levels[key] = parse_level(raw[key], valid)
                except ValueError as error:
                    self.problems.add((*where, key), str(error))
        line = self.problems.line((*where, "file"))
        return MusicSettings(
            source=Path(self.problems.path).parent / Path(str(raw["file"])).expanduser(),
            level_db=levels["level"],
            duck_db=levels["duck"],
            where=f"{self.problems.path}:{line}: music.file" if line else "music.file",
        )

    def block(self, raw: dict[str, object], where: Where, base: Timing) -> Block:
        timing = self.timing(raw.get("timing"), (*where, "timing"), base)
        rounds = self.whole(raw["rounds"], (*where, "rounds")) if "rounds" in raw else None
        every_ms = amrap_ms = None
        if "every" in raw:
            every_ms = self.duration(raw["every"], (*where, "every"), allow_zero=False)
        if "amrap" in raw:
            amrap_ms = self.duration(raw["amrap"], (*where, "amrap"), allow_zero=False)
        continuous = timing.flow == "continuous"
        self.structure(raw, where, continuous)
        if continuous:
            self.no_rests(raw.get("timing"), (*where, "timing"), _NO_RESTS_CONTINUOUS)
            timing = replace(timing, rest=_NO_RESTS)
        if every_ms is not None:
            self.no_rests(raw.get("timing"), (*where, "timing"), _NO_RESTS_EVERY, _INSIDE)
        # A protocol (run/walk intervals, EMOM periods) keeps its times unless flex: true.
        protocol = continuous or every_ms is not None
        block_flex = raw.get("flex") is True if protocol else raw.get("flex") is not False
        exercises = tuple(
            self.exercise(item, (*where, "exercises", index), timing, block_flex, every_ms)
            for index, item in enumerate(_items(raw.get("exercises")))
            if isinstance(item, dict)
        )
        rounds = self.rounds_by_lists(raw, where, exercises, rounds)
        if every_ms is not None:
            self.fits_period(where, exercises, rounds, every_ms)
        name = self.name(raw.get("name"), (*where, "name"))
        role = raw.get("role")
        if not isinstance(role, str) or role not in _ROLES:
            role = _role_from_name(name)
        return Block(
            name=name,
            rounds=rounds,
            exercises=exercises,
            timing=timing,
            line=self.problems.line(where) or 0,
            rounds_fixed=raw.get("rounds_fixed") is True,
            role=role,
            every_ms=every_ms,
            amrap_ms=amrap_ms,
            flex=block_flex,
        )

    def structure(self, raw: dict[str, object], where: Where, continuous: bool) -> None:
        """The combinations of every:, amrap:, rounds and flow that mean nothing."""
        if "amrap" in raw and "rounds" in raw:
            message = "an amrap: block has no rounds (the athlete does as many as they can)"
            self.problems.add((*where, "rounds"), message)
        if "amrap" in raw and "every" in raw:
            self.problems.add((*where, "amrap"), "give either every: (EMOM) or amrap:, not both")
        for key in ("every", "amrap"):
            if key in raw and continuous:
                message = (
                    f"an {key}: block cannot be in continuous flow; "
                    "set timing: {flow: paused} on this block"
                )
                self.problems.add((*where, key), message)
        if "amrap" in raw:
            for index, item in enumerate(_items(raw.get("exercises"))):
                for key in ("reps", "time"):
                    if isinstance(item, dict) and isinstance(item.get(key), list):
                        message = "an amrap: block has no rounds to give per-round values to"
                        self.problems.add((*where, "exercises", index, key), message)
                if isinstance(item, dict) and "messages" in item:
                    message = (
                        "an amrap: block is one self-paced interval, so its moves have no "
                        "set times to say messages at"
                    )
                    self.problems.add((*where, "exercises", index, "messages"), message)

    def no_rests(
        self, raw: object, where: Where, message: str, kinds: tuple[str, ...] = REST_KINDS
    ) -> None:
        """A rest written where the structure sets the time between intervals is an error."""
        rest = raw.get("rest") if isinstance(raw, dict) else None
        if not isinstance(rest, dict):
            return
        for kind in kinds:
            value = rest.get(kind)
            field = (*where, "rest", kind)
            if kind not in rest or self.problems.flagged(field):
                continue
            try:
                ranged = isinstance(value, str) and ".." in value
                nonzero = ranged or parse_duration_ms(value) > 0
            except ValueError:
                continue  # not a duration: the schema says why
            if nonzero:
                self.problems.add(field, message)

    def fits_period(
        self, where: Where, exercises: tuple[Exercise, ...], rounds: int, every_ms: int
    ) -> None:
        """Every exercise's work, in every round, must leave some of its period to rest."""
        for index, exercise in enumerate(exercises):
            values = len(exercise.reps_by_round or exercise.time_by_round_ms) or rounds
            timed = exercise.time_ms is not None or bool(exercise.time_by_round_ms)
            if values != rounds or not (timed or exercise.counted):
                continue  # already an error: a list of the wrong length, or no time or reps
            worst = max(range(1, rounds + 1), key=exercise.span_in_ms)
            work_ms = exercise.work_in_ms(worst)
            reps = exercise.reps_in(worst)
            shown = f"{_secs(work_ms)}"
            if reps is not None:
                shown = f"{reps} reps x {_secs(exercise.timing.rep_ms)} = {shown}"
            span_ms = exercise.span_in_ms(worst)
            if exercise.per_side:
                shown += (
                    f" per side, twice with a {_secs(exercise.timing.switch_sides_ms)} "
                    f"switch = {_secs(span_ms)}"
                )
            if span_ms + PERIOD_REST_MS > every_ms:
                message = (
                    f"its work ({shown}) does not fit the {_secs(every_ms)} period of every:; "
                    f"leave at least {_secs(PERIOD_REST_MS)} to rest"
                )
                self.problems.add((*where, "exercises", index), message)

    def rounds_by_lists(
        self,
        raw: dict[str, object],
        where: Where,
        exercises: tuple[Exercise, ...],
        rounds: int | None,
    ) -> int:
        """The block's rounds: as written, else the length of its per-round lists (else 1)."""
        lists = [
            (e, "reps" if e.reps_by_round else "time", len(e.reps_by_round or e.time_by_round_ms))
            for e in exercises
            if e.by_round
        ]
        for exercise, key, count in lists:
            field = (*where, "exercises", exercises.index(exercise), key)
            first, first_key, first_count = lists[0]
            if rounds is not None and count != rounds:
                message = (
                    f"has {count} values, one a round, but the block has rounds: {rounds} "
                    "(leave rounds out: a list sets them)"
                )
                self.problems.add(field, message)
            elif rounds is None and count != first_count:
                message = (
                    f"has {count} values but {first.name}'s {first_key} has {first_count}: "
                    "every per-round list in a block needs one value a round"
                )
                self.problems.add(field, message)
        if rounds is not None:
            return rounds
        return lists[0][2] if lists else 1

    def exercise(
        self,
        raw: dict[str, object],
        where: Where,
        base: Timing,
        block_flex: bool = True,
        every_ms: int | None = None,
    ) -> Exercise:
        has_time, has_reps = "time" in raw, "reps" in raw
        raw_timing = raw.get("timing")
        if isinstance(raw_timing, dict) and "flow" in raw_timing:
            message = "flow is set for the whole routine or a block, not one exercise"
            self.problems.add((*where, "timing", "flow"), message)
        if base.flow == "continuous":
            self.no_rests(raw_timing, (*where, "timing"), _NO_RESTS_CONTINUOUS)
            if raw.get("per_side") is True:
                message = (
                    "per_side needs a pause to switch, and continuous flow has none; "
                    "write each side as its own move"
                )
                self.problems.add((*where, "per_side"), message)
        if every_ms is not None:
            self.no_rests(raw_timing, (*where, "timing"), _NO_RESTS_EVERY, _INSIDE)
        has_distance = "distance" in raw
        if has_distance and (has_time or has_reps):
            given = "time" if has_time else "reps"
            message = f"give either distance or {given}, not both (a distance is timed by its pace)"
            self.problems.add((*where, "distance"), message)
        elif has_time == has_reps and not has_distance:
            self.problems.add(where, "give exactly one of 'time' or 'reps' (or a 'distance')")
        target = self.target(raw.get("target"), (*where, "target"))
        time_ms: int | None = None
        times_ms: tuple[int, ...] = ()
        if has_time and isinstance(raw["time"], list):
            times_ms = self.each(raw["time"], (*where, "time"), self.positive_duration)
        elif has_time:
            time_ms = self.duration(raw["time"], (*where, "time"), allow_zero=False)
        reps: int | None = None
        reps_list: tuple[int, ...] = ()
        if has_reps and isinstance(raw["reps"], list):
            reps_list = self.each(raw["reps"], (*where, "reps"), self.reps)
        elif has_reps:
            reps = self.reps(raw["reps"], (*where, "reps"))
        distance_m = None
        if has_distance and not (has_time or has_reps):
            distance_m, time_ms = self.distance(raw["distance"], (*where, "distance"), target)
        side = raw.get("first_side")
        messages = self.messages(raw.get("messages"), (*where, "messages"), time_ms, times_ms)
        return Exercise(
            name=self.name(raw.get("name"), (*where, "name")),
            time_ms=time_ms,
            reps=reps,
            time_by_round_ms=times_ms,
            reps_by_round=reps_list,
            per_side=raw.get("per_side") is True,
            first_side=side if isinstance(side, str) and side in _SIDES else "left",
            tips=self.texts(raw.get("tips"), (*where, "tips")),
            timing=self.exercise_timing(raw_timing, (*where, "timing"), base),
            line=self.problems.line(where) or 0,
            # A distance at a pace takes the time it takes: a target length never moves it.
            flex=block_flex and raw.get("flex") is not False and distance_m is None,
            target=target,
            distance_m=distance_m,
            messages=messages,
        )

    def target(self, raw: object, where: Where) -> Target | None:
        """A move's targets; a form the schema lets through but that means nothing is an error."""
        if not isinstance(raw, dict):
            return None
        rpe = self.whole(raw["rpe"], (*where, "rpe")) if "rpe" in raw else None
        target = Target(
            pace=self.target_part(raw, (*where, "pace"), parse_pace),
            hr=self.target_part(raw, (*where, "hr"), parse_heart_rate),
            power=self.target_part(raw, (*where, "power"), parse_power),
            cadence=self.target_part(raw, (*where, "cadence"), parse_cadence),
            rpe=rpe,
            ramp=raw.get("ramp") is True,
        )
        if target.ramp and not self.problems.flagged((*where, "ramp")):
            ranges = [t for t in (target.power, target.hr, target.pace) if t and t.ranged]
            if len(ranges) != 1:
                found = "none" if not ranges else f"{len(ranges)}"
                message = (
                    "a ramp needs exactly one range to move along, in power, hr or pace "
                    f"(power: 60-75%); found {found}"
                )
                self.problems.add((*where, "ramp"), message)
        return target

    def target_part(
        self, raw: dict[str, object], where: Where, parse: Callable[[str], _Part]
    ) -> _Part | None:
        """One target (``pace: 5:30/km``) parsed, or None when absent or wrong."""
        value = raw.get(str(where[-1]))
        if not isinstance(value, str) or self.problems.flagged(where):
            return None  # absent, or the schema has said why
        try:
            return parse(value)
        except ValueError as error:
            self.problems.add(where, str(error))
            return None

    def distance(
        self, raw: object, where: Where, target: Target | None
    ) -> tuple[float | None, int | None]:
        """A distance in metres and its time at the slower end of the pace target."""
        if self.problems.flagged(where):
            return None, None
        try:
            distance_m = parse_distance_m(raw)
        except ValueError as error:
            self.problems.add(where, str(error))
            return None, None
        if target is None or target.pace is None:
            if not self.problems.flagged((*where[:-1], "target", "pace")):
                message = "needs a pace target (target: {pace: 5:30/km}) to be timed"
                self.problems.add(where, message)
            return distance_m, None
        time_ms = target.pace.time_for_ms(distance_m)
        if time_ms > _MAX_DURATION_MS:
            message = f"{format_distance(distance_m)} at this pace is absurdly long (over 6 hours)"
            self.problems.add(where, message)
            return distance_m, None
        return distance_m, time_ms

    def messages(
        self, raw: object, where: Where, time_ms: int | None, times_ms: tuple[int, ...]
    ) -> tuple[TimedMessage, ...]:
        """Texts at offsets within the move; one past its end would never be heard."""
        shortest_ms = min(times_ms) if times_ms else time_ms
        found = []
        for index, item in enumerate(_items(raw)):
            if not isinstance(item, dict) or "at" not in item:
                continue  # the schema has said why
            item_where: Where = (*where, index)
            at_ms = self.duration(item["at"], (*item_where, "at"), allow_zero=True)
            text = self.text(item.get("text"), (*item_where, "text"))
            if at_ms is None or not text:
                continue
            if shortest_ms is not None and at_ms >= shortest_ms:
                message = (
                    f"at {_secs(at_ms)} is not within the move, which lasts {_secs(shortest_ms)}"
                )
                self.problems.add((*item_where, "at"), message)
                continue
            found.append(TimedMessage(at_ms, text, self.problems.line(item_where) or 0))
        return tuple(sorted(found, key=lambda message: message.at_ms))

    def each(
        self, raw: list[object], where: Where, read: Callable[[object, Where], int | None]
    ) -> tuple[int, ...]:
        """A per-round list read item by item; empty when any item is wrong."""
        values = [read(item, (*where, index)) for index, item in enumerate(raw)]
        return () if None in values or not values else tuple(v for v in values if v is not None)

    def positive_duration(self, raw: object, where: Where) -> int | None:
        return self.duration(raw, where, allow_zero=False)

    def reps(self, raw: object, where: Where) -> int | None:
        return self.whole(raw, where)

    def exercise_timing(self, raw: object, where: Where, base: Timing) -> Timing:
        """An exercise's timing: its block's flow, and no rests in continuous flow."""
        timing = replace(self.timing(raw, where, base), flow=base.flow)
        return replace(timing, rest=_NO_RESTS) if base.flow == "continuous" else timing

    def timing(self, raw: object, where: Where, base: Timing) -> Timing:
        """``base`` with the parts given in ``raw`` replaced."""
        if not isinstance(raw, dict):
            return base
        rest = raw.get("rest")
        rests = base.rest
        if isinstance(rest, dict):
            rest_where = (*where, "rest")
            exercise = self.rest(rest, "exercise", rest_where, rests)
            round_ = self.rest(rest, "round", rest_where, rests)
            block = self.rest(rest, "block", rest_where, rests)
            rests = Rests(
                exercise_ms=exercise[0],
                round_ms=round_[0],
                block_ms=block[0],
                exercise_range_ms=exercise[1],
                round_range_ms=round_[1],
                block_range_ms=block[1],
            )
        countdown = None
        if "countdown" in raw:
            countdown = self.whole(raw["countdown"], (*where, "countdown"))
        flow = raw.get("flow")
        return Timing(
            rep_ms=self.override(raw, "rep", where, base.rep_ms, False),
            switch_sides_ms=self.override(raw, "switch_sides", where, base.switch_sides_ms, True),
            rest=rests,
            countdown_beats=base.countdown_beats if countdown is None else countdown,
            flow=flow if flow in _FLOWS else base.flow,
        )

    def rest(
        self, raw: dict[str, object], kind: str, where: Where, base: Rests
    ) -> tuple[int, tuple[int, int] | None]:
        """A rest as written: ``45s`` (its range is then the default) or ``30s..90s``."""
        inherited: tuple[int, tuple[int, int] | None] = (
            getattr(base, f"{kind}_ms"),
            getattr(base, f"{kind}_range_ms"),
        )
        value = raw.get(kind)
        if not (isinstance(value, str) and ".." in value):
            return self.override(
                raw, kind, where, inherited[0], True
            ), None if kind in raw else inherited[1]
        field = (*where, kind)
        low_text, _, high_text = value.partition("..")
        low_ms = self.duration(low_text, field, allow_zero=True)
        high_ms = self.duration(high_text, field, allow_zero=True)
        if low_ms is None or high_ms is None:
            return inherited
        if low_ms > high_ms:
            self.problems.add(field, f"range {show(value)} runs backwards")
            return inherited
        # Without a target length the rest sits mid-range, on a whole second.
        middle_ms = round((low_ms + high_ms) / 2000) * 1000
        return min(max(middle_ms, low_ms), high_ms), (low_ms, high_ms)

    def override(
        self, raw: dict[str, object], key: str, where: Where, default_ms: int, allow_zero: bool
    ) -> int:
        if key not in raw:
            return default_ms
        duration_ms = self.duration(raw[key], (*where, key), allow_zero=allow_zero)
        return default_ms if duration_ms is None else duration_ms

    def duration(self, raw: object, where: Where, *, allow_zero: bool) -> int | None:
        if self.problems.flagged(where):
            return None
        try:
            duration_ms = parse_duration_ms(raw)
        except ValueError as exc:
            self.problems.add(where, str(exc))
            return None
        if duration_ms == 0 and not allow_zero:
            self.problems.add(where, f"must be longer than 0, got {show(raw)}")
            return None
        if duration_ms > _MAX_DURATION_MS:
            self.problems.add(where, f"{show(raw)} is absurdly long (over 6 hours)")
            return None
        return duration_ms

    def whole(self, raw: object, where: Where) -> int | None:
        """A whole number; the schema states its type and range, so one it refused is None."""
        if self.problems.flagged(where) or isinstance(raw, bool):
            return None
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        return raw if isinstance(raw, int) else None

    def name(self, raw: object, where: Where) -> str:
        name = self.text(raw, where)
        # The schema refuses an empty name; only one of nothing but spaces gets this far.
        if isinstance(raw, str) and not name and not self.problems.flagged(where):
            self.problems.add(where, "must not be blank")
        return name

    def texts(self, raw: object, where: Where) -> tuple[str, ...]:
        texts = (self.text(item, (*where, index)) for index, item in enumerate(_items(raw)))
        return tuple(text for text in texts if text)

    def text(self, raw: object, where: Where) -> str:
        """Text with its spaces folded to single ones; a control character is an error.

        Folding here, once, means every cue, chapter and cache key sees the same text.
        """
        if not isinstance(raw, str):
            return ""
        if not self.problems.flagged(where):
            for char in raw.strip():
                if unicodedata.category(char) in _CONTROL_CATEGORIES:
                    self.problems.add(where, f"contains a control character (U+{ord(char):04X})")
                    break
        return " ".join(raw.split())


def _items(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _secs(duration_ms: int) -> str:
    return f"{duration_ms / 1000:g} s"


def _role_from_name(name: str) -> BlockRole:
    """A block called "Warmup" or "Cool-down" is one, unless its ``role`` says otherwise."""
    folded = name.casefold().replace("-", "").replace(" ", "")
    if "warmup" in folded:
        return "warmup"
    if "cooldown" in folded:
        return "cooldown"
    return "main"
