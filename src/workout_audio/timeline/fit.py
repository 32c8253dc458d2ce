"""The length solver: the plan closest to the routine as written whose track is exactly the target.

A coach shortening or stretching a workout changes, in this order:

1. the rests, within their ranges (``rest: {round: 30s..90s}``; half to double by default);
2. the holds and the rep tempo, up to 25% either way (``flex: false`` pins them), and an
   AMRAP's cap in whole minutes; run/walk intervals and EMOM periods are the protocol
   and stay as written unless their block says ``flex: true``;
3. whole rounds of repeatable blocks (never below one round, never a block with
   ``rounds_fixed: true``, a ladder's or an AMRAP; warmup and cooldown last);

and says what changed. Lengths are exact to the millisecond on the real clips: the
last milliseconds go to the rests. The same routine, target and clips always give
the same plan.

The intro announces the length ("30 minutes in total.") in a slot the track as
written does not have; a target too short for the slot (a run/walk asked for its
own length, with only the settle before the first move to give back) is made
without the announcement, so the length as written is always reachable.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache

from ..durations import format_clock
from ..errors import LengthError
from ..routine import PERIOD_REST_MS, Block, Exercise, Routine
from .layout import PPM, ClipDurations, Layout, layout

__all__ = [
    "WORK_FLEX_PPM",
    "Fitted",
    "UnreachableLength",
    "check_roughly",
    "fit_length",
    "guessed_speech_ms",
    "length_range_ms",
]

WORK_FLEX_PPM = 250_000  # holds and tempo move at most 25% either way
ROUNDS_GROWTH = 2  # a block may grow to at most double its rounds (a 1-round block to 2)
_FALLBACK_MS_PER_CHAR = 70  # speech rate guessed before any clip is measured
ROUGH_MARGIN_PPM = 100_000  # check_roughly refuses only targets 10% beyond the guessed range

Rounds = tuple[int, ...]


@dataclass(frozen=True)
class Fitted:
    """A plan that makes the track exactly the target length."""

    layout: Layout  # of the routine as adjusted
    lengths_ms: list[int]  # of every transition
    notes: tuple[str, ...]  # what changed, for the user


def fit_length(
    routine: Routine, target_ms: int, clip_ms: ClipDurations, *, from_file: bool = False
) -> Fitted:
    """Find the plan closest to ``routine`` whose track lasts exactly ``target_ms``.

    Phrases missing from a mapping ``clip_ms`` (a cue that only a changed plan says,
    like "Round 2 of 2.") are estimated while searching; the chosen plan's own
    phrases must be measured for its lengths to be exact, so callers synthesise
    ``script_phrases(fitted.layout.routine, ...)`` and fit again until none is missing.

    Raises:
        LengthError: no plan reaches ``target_ms``; names the lengths that can be made.
    """
    solver = _Solver(routine, target_ms, _estimating(clip_ms))
    try:
        layout_, lengths = solver.solve()
    except UnreachableLength as error:
        where = routine.path
        if from_file and routine.length_line is not None:
            where = f"{routine.path}:{routine.length_line}: length"
        raise UnreachableLength(f"{where}: {error}", error.plans) from None
    return Fitted(layout_, lengths, _notes(routine, layout_, lengths))


class UnreachableLength(LengthError):
    """No plan reaches the target; ``plans`` are the routines whose lengths the message names.

    Their phrases may have been estimated: measure them and fit again, and the
    lengths named become exact.
    """

    def __init__(self, message: str, plans: list[Routine]) -> None:
        super().__init__(message)
        self.plans = plans


def length_range_ms(routine: Routine, clip_ms: ClipDurations) -> tuple[int, int]:
    """The shortest and longest tracks ``routine`` can make."""
    # Any target gives the same range: the intro's spoken length has a slot of fixed size.
    solver = _Solver(routine, routine.length_ms or 1, _estimating(clip_ms))
    return solver.shortest_ms(), solver.longest_ms()


def guessed_speech_ms(text: str) -> int:
    """How long ``text`` takes to say at a typical rate, before any clip is made."""
    return len(text) * _FALLBACK_MS_PER_CHAR


def check_roughly(routine: Routine, target_ms: int, *, from_file: bool = False) -> None:
    """Refuse, before any speech is made, a target far outside what ``routine`` can make.

    Speech is guessed at a typical speaking rate; only targets more than
    ``ROUGH_MARGIN_PPM`` beyond the guessed range are refused, so a target the
    real voice could reach is never turned away here.

    Raises:
        LengthError: the target is clearly out of reach; names the rough range.
    """
    shortest, longest = length_range_ms(routine, guessed_speech_ms)
    margin = PPM + ROUGH_MARGIN_PPM
    if target_ms * margin // PPM >= shortest and target_ms <= longest * margin // PPM:
        return
    where = routine.path
    if from_file and routine.length_line is not None:
        where = f"{routine.path}:{routine.length_line}: length"
    raise LengthError(
        f"{where}: cannot make a {format_clock(target_ms)} track: this routine can run from "
        f"about {_clock_up(shortest)} to {_clock_down(longest)}"
    )


def _estimating(clip_ms: ClipDurations) -> Callable[[str], int]:
    """Measured lengths where known; elsewhere a guess at the voice's speaking rate."""
    if not isinstance(clip_ms, Mapping):
        return clip_ms
    rates = [ms / len(text) for text, ms in clip_ms.items() if len(text) >= 8]
    ms_per_char = statistics.median(rates) if rates else _FALLBACK_MS_PER_CHAR

    def measure(text: str) -> int:
        known = clip_ms.get(text)
        return known if known is not None else round(len(text) * ms_per_char)

    return measure


def _adjust_block(block: Block, rounds: int, work_ppm: int) -> Block:
    """Its rounds and work; an AMRAP's cap moves in whole minutes, an EMOM's period in seconds.

    An EMOM's period (only with ``flex: true``) never shrinks below what its moves,
    as adjusted, need with their rest.
    """
    exercises = block.exercises
    if block.amrap_ms is None:  # an AMRAP is self-paced: only its cap moves
        exercises = tuple(_adjust_exercise(e, work_ppm) for e in block.exercises)
    adjusted = replace(block, rounds=rounds, exercises=exercises)
    if work_ppm == 0 or not block.flex:
        return adjusted
    if block.amrap_ms is not None:
        return replace(adjusted, amrap_ms=_scaled(block.amrap_ms, work_ppm, 60_000))
    if block.every_ms is not None:
        spans_ms = [e.span_in_ms(r) for e in exercises for r in range(1, rounds + 1)]
        least_ms = -(-(max(spans_ms) + PERIOD_REST_MS) // 1000) * 1000
        every_ms = max(_scaled(block.every_ms, work_ppm, 1000), least_ms)
        return replace(adjusted, every_ms=every_ms)
    return adjusted


def _adjust_exercise(exercise: Exercise, work_ppm: int) -> Exercise:
    """Holds move in whole seconds (they are spoken), tempo in 10 ms steps."""
    if work_ppm == 0 or not exercise.flex:
        return exercise
    if exercise.time_ms is not None:
        return replace(exercise, time_ms=_scaled_hold(exercise.time_ms, work_ppm))
    if exercise.time_by_round_ms:
        holds_ms = tuple(_scaled_hold(time_ms, work_ppm) for time_ms in exercise.time_by_round_ms)
        return replace(exercise, time_by_round_ms=holds_ms)
    rep_ms = _scaled(exercise.timing.rep_ms, work_ppm, 10)
    return replace(exercise, timing=replace(exercise.timing, rep_ms=rep_ms))


def _scaled_hold(time_ms: int, work_ppm: int) -> int:
    return _scaled(time_ms, work_ppm, 1000 if time_ms >= 8000 else 100)


def _scaled(value_ms: int, work_ppm: int, step_ms: int) -> int:
    """``value_ms`` moved by ``work_ppm`` of its flex, on a ``step_ms`` grid inside the bounds."""
    low_ms = -(-value_ms * (PPM - WORK_FLEX_PPM) // PPM // step_ms) * step_ms  # ceil to grid
    high_ms = value_ms * (PPM + WORK_FLEX_PPM) // PPM // step_ms * step_ms
    wanted_ms = value_ms + value_ms * WORK_FLEX_PPM // PPM * work_ppm // PPM
    snapped_ms = (wanted_ms + step_ms // 2) // step_ms * step_ms
    if low_ms > high_ms:  # no grid point inside: keep it as written
        return value_ms
    return max(step_ms, min(max(snapped_ms, low_ms), high_ms))


class _Solver:
    """Searches plans for one routine and target; layouts are measured once each."""

    def __init__(self, routine: Routine, target_ms: int, measure: Callable[[str], int]) -> None:
        self.routine = routine
        self.target_ms = target_ms
        self.measure = measure
        self.written: Rounds = tuple(block.rounds for block in routine.blocks)
        self.layout = cache(self._layout)

    def _layout(self, rounds: Rounds, work_ppm: int, announced: bool = True) -> Layout:
        blocks = tuple(
            _adjust_block(block, count, work_ppm)
            for block, count in zip(self.routine.blocks, rounds, strict=True)
        )
        adjusted = replace(self.routine, blocks=blocks)
        return layout(adjusted, self.measure, target_ms=self.target_ms, announced=announced)

    def rest_range(self, rounds: Rounds, work_ppm: int) -> tuple[int, int]:
        """The shortest (without the length announced) and longest tracks these rounds and
        work make; the range is whole, since the rests reach further than the slot."""
        quiet = self.layout(rounds, work_ppm, False)
        planned = self.layout(rounds, work_ppm)
        return quiet.total_ms(quiet.lengths_at(-PPM)), planned.total_ms(planned.lengths_at(PPM))

    def fit(self, rounds: Rounds, work_ppm: int) -> tuple[Layout, list[int]] | None:
        """The rests that make the target, with the length announced if there is room."""
        for announced in (True, False):
            planned = self.layout(rounds, work_ppm, announced)
            lengths = _fit_rests(planned, self.target_ms)
            if lengths is not None:
                return planned, lengths
        return None

    def full_range(self, rounds: Rounds) -> tuple[int, int]:
        return self.rest_range(rounds, -PPM)[0], self.rest_range(rounds, PPM)[1]

    def shortest_ms(self) -> int:
        return self.full_range(_last(_round_steps(self.routine, shorter=True), self.written))[0]

    def longest_ms(self) -> int:
        return self.full_range(_last(_round_steps(self.routine, shorter=False), self.written))[1]

    def solve(self) -> tuple[Layout, list[int]]:
        target_ms = self.target_ms
        found = self.within(self.written)
        if found:
            return found
        low_ms, _ = self.full_range(self.written)
        shorter = target_ms < low_ms
        previous = self.written
        for rounds in _round_steps(self.routine, shorter=shorter):
            low_ms, high_ms = self.full_range(rounds)
            if low_ms <= target_ms <= high_ms:
                found = self.within(rounds)
                if found:
                    return found
            elif (target_ms > high_ms) if shorter else (target_ms < low_ms):
                # One round too many, one too few: the target falls between the two.
                fewer, more = (rounds, previous) if shorter else (previous, rounds)
                raise UnreachableLength(
                    f"cannot make a {format_clock(target_ms)} track: the nearest lengths "
                    f"this routine can make are {_clock_down(self.full_range(fewer)[1])} "
                    f"and {_clock_up(self.full_range(more)[0])}",
                    [self.layout(fewer, PPM).routine, self.layout(more, -PPM).routine],
                )
            previous = rounds
        low_ms, high_ms = self.full_range(self.written)
        if low_ms <= target_ms <= high_ms:
            raise self.gap(self.written)
        fewest = _last(_round_steps(self.routine, shorter=True), self.written)
        most = _last(_round_steps(self.routine, shorter=False), self.written)
        raise UnreachableLength(
            f"cannot make a {format_clock(target_ms)} track: this routine can run from "
            f"{_clock_up(self.shortest_ms())} to {_clock_down(self.longest_ms())}",
            [self.layout(fewest, -PPM).routine, self.layout(most, PPM).routine],
        )

    def gap(self, rounds: Rounds) -> UnreachableLength:
        """The refusal of a target between two steps of the work (an AMRAP's whole minutes)."""
        below: tuple[int, int] | None = None  # (length, work position)
        above: tuple[int, int] | None = None
        for work_ppm in range(-PPM, PPM + 1, PPM // 200):
            low_ms, high_ms = self.rest_range(rounds, work_ppm)
            if high_ms < self.target_ms and (below is None or high_ms > below[0]):
                below = (high_ms, work_ppm)
            if low_ms > self.target_ms and (above is None or low_ms < above[0]):
                above = (low_ms, work_ppm)
        if below is None or above is None:
            return UnreachableLength(
                f"cannot make a {format_clock(self.target_ms)} track: this routine can run "
                f"from {_clock_up(self.shortest_ms())} to {_clock_down(self.longest_ms())}",
                [self.layout(rounds, -PPM).routine, self.layout(rounds, PPM).routine],
            )
        return UnreachableLength(
            f"cannot make a {format_clock(self.target_ms)} track: the nearest lengths "
            f"this routine can make are {_clock_down(below[0])} and {_clock_up(above[0])}",
            [self.layout(rounds, below[1]).routine, self.layout(rounds, above[1]).routine],
        )

    def within(self, rounds: Rounds) -> tuple[Layout, list[int]] | None:
        """Rests first; then holds and tempo, as little as will do."""
        found = self.fit(rounds, 0)
        if found is not None:
            return found
        low_ms, _ = self.rest_range(rounds, 0)
        direction = -1 if self.target_ms < low_ms else 1
        work_ppm = self._least_work_change(rounds, direction)
        if work_ppm is None:
            return None
        return self.fit(rounds, work_ppm)

    def _least_work_change(self, rounds: Rounds, direction: int) -> int | None:
        """The smallest change of holds and tempo that brings the target within the rests' reach."""

        def reaches(work_ppm: int) -> bool:
            low_ms, high_ms = self.rest_range(rounds, work_ppm)
            return low_ms <= self.target_ms if direction < 0 else self.target_ms <= high_ms

        if not reaches(direction * PPM):
            return None
        near, far = 0, PPM  # distances from "as written": `far` reaches, `near` does not
        while far - near > 1:
            middle = (near + far) // 2
            if reaches(direction * middle):
                far = middle
            else:
                near = middle
        # Rounding to whole seconds can overshoot the other way; step on until it fits.
        for distance in range(far, PPM + 1, PPM // 200):
            low_ms, high_ms = self.rest_range(rounds, direction * distance)
            if low_ms <= self.target_ms <= high_ms:
                return direction * distance
        return None


def _fit_rests(planned: Layout, target_ms: int) -> list[int] | None:
    """Transition lengths, rests moved together, that make the track exactly ``target_ms``."""
    if not planned.total_ms(planned.lengths_at(-PPM)) <= target_ms:
        return None
    if not target_ms <= planned.total_ms(planned.lengths_at(PPM)):
        return None
    low, high = -PPM, PPM
    while low < high:  # the furthest position whose track does not pass the target
        middle = (low + high + 1) // 2
        if planned.total_ms(planned.lengths_at(middle)) <= target_ms:
            low = middle
        else:
            high = middle - 1
    lengths = planned.lengths_at(low)
    caps = planned.caps_ms()
    deficit_ms = target_ms - planned.total_ms(lengths)
    # The last milliseconds go one at a time to the rests that can still grow, in order.
    while deficit_ms > 0:
        growable = [i for i, (n, cap) in enumerate(zip(lengths, caps, strict=True)) if n < cap]
        if not growable:
            return None
        for index in growable:
            if deficit_ms == 0:
                break
            lengths[index] += 1
            deficit_ms -= 1
    return lengths


def _round_steps(routine: Routine, *, shorter: bool) -> Iterator[Rounds]:
    """Rounds per block, one round dropped (or added) at a time, as a coach would."""
    written = [block.rounds for block in routine.blocks]
    rounds = list(written)
    blocks = routine.blocks
    while True:
        if shorter:
            eligible = [i for i, b in enumerate(blocks) if b.repeatable and rounds[i] > 1]
        else:
            eligible = [
                i
                for i, b in enumerate(blocks)
                if b.repeatable and rounds[i] < max(ROUNDS_GROWTH * written[i], written[i] + 1)
            ]
        main = [i for i in eligible if blocks[i].role == "main"]
        candidates = main or eligible  # warmup and cooldown last
        if not candidates:
            return
        if shorter:  # the block with the most rounds left; among equals, the later one
            pick = max(candidates, key=lambda i: (rounds[i], i))
            rounds[pick] -= 1
        else:  # the block grown least so far; among equals, the earlier one
            pick = min(candidates, key=lambda i: (rounds[i] / written[i], i))
            rounds[pick] += 1
        yield tuple(rounds)


def _last(steps: Iterator[Rounds], default: Rounds) -> Rounds:
    last = default
    for last in steps:  # noqa: B007 - only the final one is wanted
        pass
    return last


def _clock_up(duration_ms: int) -> str:
    return format_clock(-(-duration_ms // 100) * 100)


def _clock_down(duration_ms: int) -> str:
    return format_clock(duration_ms // 100 * 100)


def _seconds(durations_ms: tuple[int, ...]) -> str:
    """``30 s``, or a ladder's holds as ``30/40/50 s``."""
    return "/".join(f"{duration_ms / 1000:g}" for duration_ms in durations_ms) + " s"


def _minutes(duration_ms: int | None) -> str:
    return f"{(duration_ms or 0) / 60_000:g} min"


def _holds(exercise: Exercise) -> tuple[int, ...]:
    return exercise.time_by_round_ms or (exercise.time_ms or 0,)


def _notes(routine: Routine, planned: Layout, lengths: list[int]) -> tuple[str, ...]:
    """What the plan changed, block by block: ``Strength Set A: rounds 3 -> 2, rests x0.80``."""
    notes = []
    as_written = planned.lengths_at(0)
    for index, (before, after) in enumerate(
        zip(routine.blocks, planned.routine.blocks, strict=True)
    ):
        changes = []
        if before.rounds != after.rounds:
            changes.append(f"rounds {before.rounds} -> {after.rounds}")
        if before.amrap_ms is not None and before.amrap_ms != after.amrap_ms:
            changes.append(f"AMRAP {_minutes(before.amrap_ms)} -> {_minutes(after.amrap_ms)}")
        if before.every_ms is not None and before.every_ms != after.every_ms:
            changes.append(
                f"every {_seconds((before.every_ms,))} -> {_seconds((after.every_ms or 0,))}"
            )
        rests = [
            i
            for i, transition in enumerate(planned.transitions)
            if transition.owner == index and transition.rest_ms > 0
        ]
        written_ms = sum(as_written[i] for i in rests)
        planned_ms = sum(lengths[i] for i in rests)
        if written_ms and abs(planned_ms - written_ms) * 100 >= written_ms:
            changes.append(f"rests x{planned_ms / written_ms:.2f}")
        changes += _work_changes(before.exercises, after.exercises)
        if changes:
            notes.append(f"{before.name}: {', '.join(changes)}")
    return (*_intro_notes(planned, lengths, rests_moved=any("rests x" in n for n in notes)), *notes)


def _intro_notes(planned: Layout, lengths: list[int], *, rests_moved: bool) -> list[str]:
    """Time moved before the first move (the settle after the intro) where no rest moved to
    say so (a run/walk has no rests), and a length left unsaid."""
    notes = []
    intro = planned.transitions[0]
    settle_ms = lengths[0] - planned.minimums_ms[0]
    moved = abs(settle_ms - intro.rest_ms) * 100 >= intro.rest_ms
    if intro.additive and moved and not rests_moved:
        notes.append(f"before the first move: {_tenths(intro.rest_ms)} -> {_tenths(settle_ms)}")
    if planned.plan.track.length is None:
        notes.append("the intro does not say the length: the track has no room for it")
    return notes


def _tenths(duration_ms: int) -> str:
    return f"{round(duration_ms / 100) / 10:g} s"


def _work_changes(before: tuple[Exercise, ...], after: tuple[Exercise, ...]) -> list[str]:
    """``holds 30 s -> 24 s`` when every hold moved alike, else one note a move; tempo likewise."""
    holds = [
        (old.name, _holds(old), _holds(new))
        for old, new in zip(before, after, strict=True)
        if not old.counted and _holds(old) != _holds(new)
    ]
    tempos = [
        (old.name, (old.timing.rep_ms,), (new.timing.rep_ms,))
        for old, new in zip(before, after, strict=True)
        if old.counted and old.timing.rep_ms != new.timing.rep_ms
    ]
    changes = []
    for label, moved, unit in (("holds", holds, ""), ("tempo", tempos, " a rep")):
        if not moved:
            continue
        if len({(old, new) for _, old, new in moved}) == 1:
            _, old, new = moved[0]
            changes.append(f"{label} {_seconds(old)} -> {_seconds(new)}{unit}")
        else:
            changes += [
                f"{name} {_seconds(old)} -> {_seconds(new)}{unit}" for name, old, new in moved
            ]
    return changes
