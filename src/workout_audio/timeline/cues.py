"""Cue wording: every phrase said around an occurrence, built once from the language's tables.

The layout measures these strings and the script places them; neither builds a
phrase of its own, so a cue reads the same wherever it is said (the call, the
chapter title, a card). :mod:`.phrases` keeps each language's templates and its
plural and number rules; this module decides which template says what.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..routine import Block, Exercise, Routine, TimedMessage
from .occurrences import Occurrence
from .phrases import Phrases
from .targets import distance_words, target_words

__all__ = [
    "AMRAP_HALFWAY_MIN_MS",
    "AMRAP_LONG_MS",
    "AMRAP_MARK_MS",
    "AMRAP_TIME_LEFT_MS",
    "COUNTED_REPS",
    "HALFWAY_MIN_MS",
    "TIME_LEFT_MIN_MS",
    "TIME_LEFT_MS",
    "Cues",
    "TrackCues",
    "occurrence_cues",
    "track_cues",
]

COUNTED_REPS = 3  # the last reps are counted aloud
HALFWAY_MIN_MS = 40_000  # holds this long get a "Halfway." cue
TIME_LEFT_MS = 10_000  # "10 seconds left." ...
TIME_LEFT_MIN_MS = 25_000  # ... on holds at least this long
AMRAP_TIME_LEFT_MS = (10_000, 30_000, 60_000)  # "1 minute left." ... on caps twice as long
AMRAP_HALFWAY_MIN_MS = 120_000
AMRAP_LONG_MS = 600_000  # caps longer than this hear every 5 minutes left
AMRAP_MARK_MS = 300_000


@dataclass(frozen=True)
class TrackCues:
    """What the track says once, or the same way every time."""

    intro: str  # "Runners' Total Body."
    greeting: str | None  # "Let's go, Maria.", when the track is made for someone by name
    length: str | None  # "30 minutes in total.", when a length is asked for
    equipment: str | None  # "You will need: a mat and a band."
    rest: str  # "Rest."
    switch_sides: str  # "Switch sides."
    outro: str  # "Workout complete. Great work!"


def track_cues(routine: Routine, say: Phrases, target_ms: int | None) -> TrackCues:
    """The intro, the length said, the equipment, the outro and the lines every set shares."""
    equipment = None
    if routine.equipment:
        equipment = say.say("equipment", items=say.join(list(routine.equipment)))
    return TrackCues(
        intro=say.say("intro", routine=routine.name),
        greeting=say.say("greeting", name=routine.listener_name) if routine.listener_name else None,
        length=say.say("total_length", length=say.duration(target_ms)) if target_ms else None,
        equipment=equipment,
        rest=say.say("rest"),
        switch_sides=say.say("switch_sides"),
        outro=say.say("outro"),
    )


@dataclass(frozen=True)
class Cues:
    """Everything that may be said about one occurrence, each phrase built once.

    The layout chooses among the calls (``first_up`` after the intro, ``next_up``
    before a rest, ``now`` without one, ``name_only`` where nothing longer fits).
    """

    prescription: str  # "10 reps", "30 seconds per side, left side first", "1 kilometre"
    first_up: str  # "First up: Hip Thrust, 10 reps."
    next_up: str  # "Next up: Hip Thrust, 10 reps."
    now: str  # "Hip Thrust, 10 reps."
    name_only: str  # "Hip Thrust."
    get_ready: str  # "Get ready: Hip Thrust."
    block_intro: str | None  # the block's moves and rounds, before its first occurrence
    round_cue: str | None  # "Round 2 of 3.", "Last round.", before a round's first move
    tips: tuple[str, ...]
    counted: tuple[tuple[int, str], ...]  # (rep, as said): the last reps, counted aloud
    callouts: tuple[tuple[int, str], ...]  # (offset_ms, phrase) in a hold or an AMRAP
    chapter_title: str  # "Strength · Round 2/3 · Hip Thrust"
    round_label: str | None  # "Round 2/3"; None in a one-round block
    messages: tuple[TimedMessage, ...] = ()  # the move's own texts, at set times

    def work_phrases(self) -> list[str]:
        """Every phrase that may be said during the work."""
        timed = (text for _, text in (*self.counted, *self.callouts))
        return [*self.tips, *timed, *(message.text for message in self.messages)]


def occurrence_cues(occ: Occurrence, say: Phrases) -> Cues:
    """The wording of one occurrence in the language of ``say``."""
    prescription = _amount(occ.exercise, occ.reps, occ.work_ms, say)
    called = prescription  # the calls add the targets: "5 minutes, at 5 30 per kilometre"
    if occ.exercise is not None and occ.exercise.target is not None:
        called = say.say("list_comma").join([called, *target_words(occ.exercise.target, say)])
    round_label = None
    if occ.exercise is not None and occ.block.rounds > 1:
        round_label = say.say("chapter_round", number=occ.round, total=occ.block.rounds)
    title = occ.block.name
    if occ.exercise is not None:
        title = " · ".join([occ.block.name, *filter(None, [round_label]), occ.exercise.name])
    return Cues(
        prescription=prescription,
        first_up=say.say("first_up", exercise=occ.name, prescription=called),
        next_up=say.say("next_up", exercise=occ.name, prescription=called),
        now=say.say("now", exercise=occ.name, prescription=called),
        name_only=say.say("name_only", exercise=occ.name),
        get_ready=say.say("get_ready", exercise=_first_move(occ)),
        block_intro=_block_cue(occ.block, say) if occ.first_in_block else None,
        round_cue=_round_cue(occ, say),
        tips=occ.exercise.tips if occ.exercise is not None else (),
        counted=() if occ.reps is None else tuple((n, str(n)) for n in _counted_reps(occ.reps)),
        callouts=() if occ.reps is not None else tuple(_callouts(occ, say)),
        chapter_title=title,
        round_label=round_label,
        messages=occ.exercise.messages if occ.exercise is not None else (),
    )


def _first_move(occ: Occurrence) -> str:
    """The move the athlete gets ready for: an AMRAP starts with its first."""
    if occ.exercise is None and occ.block.exercises:
        return occ.block.exercises[0].name
    return occ.name


def _counted_reps(reps: int) -> range:
    """The reps counted aloud (where they fit); the others tick."""
    return range(max(2, reps - COUNTED_REPS + 1), reps + 1)


def _callouts(occ: Occurrence, say: Phrases) -> list[tuple[int, str]]:
    """Timed cues during a hold or an AMRAP, as (offset, phrase), most important first."""
    work_ms = occ.work_ms

    def left(left_ms: int) -> tuple[int, str]:
        time = say.duration(left_ms)
        return work_ms - left_ms, say.count("time_left", say.agreement(left_ms), time=time)

    if occ.exercise is not None:  # a hold
        callouts = [left(TIME_LEFT_MS)] if work_ms >= TIME_LEFT_MIN_MS else []
        if work_ms >= HALFWAY_MIN_MS:
            callouts.append((work_ms // 2, say.say("halfway")))
        return callouts
    # An AMRAP: the clock is all the athlete hears from us.
    callouts = [left(left_ms) for left_ms in AMRAP_TIME_LEFT_MS if work_ms >= 2 * left_ms]
    if work_ms >= AMRAP_HALFWAY_MIN_MS:
        callouts.append((work_ms // 2, say.say("halfway")))
    if work_ms > AMRAP_LONG_MS:  # every 5 minutes left on a long cap
        marks = range(AMRAP_MARK_MS, work_ms, AMRAP_MARK_MS)
        callouts += [left(m) for m in reversed(marks) if work_ms - m != work_ms // 2]
    return callouts


def _amount(exercise: Exercise | None, reps: int | None, work_ms: int, say: Phrases) -> str:
    """What a move asks for: ``10 reps``, ``30 seconds per side, left side first``,
    ``1 kilometre`` (a move given by distance)."""
    amount = say.count("reps", reps) if reps is not None else say.duration(work_ms)
    if exercise is not None and exercise.distance_m is not None:
        amount = distance_words(exercise.distance_m, say)
    if exercise is None or not exercise.per_side:
        return amount
    side = say.say("side_left" if exercise.first_side == "left" else "side_right")
    return say.say("per_side", amount=amount, side=side)


def _round_values(exercise: Exercise, say: Phrases) -> str:
    """A ladder's values, said once: ``2, 4, 6, 4, 2 reps`` or ``30 seconds, 40 seconds``."""
    if exercise.reps_by_round:
        *head, last = exercise.reps_by_round
        return say.say("list_comma").join([*map(str, head), say.count("reps", last)])
    return say.say("list_comma").join(say.duration(t) for t in exercise.time_by_round_ms)


def _moves(block: Block, say: Phrases) -> str:
    """Each distinct move once, in order, with its per-round values if it has them."""
    moves: dict[str, str] = {}
    for exercise in block.exercises:
        if exercise.name in moves:
            continue
        moves[exercise.name] = exercise.name
        if exercise.by_round:
            values = _round_values(exercise, say)
            moves[exercise.name] = say.say("move_by_round", exercise=exercise.name, values=values)
    return say.join(list(moves.values()))


def _block_cue(block: Block, say: Phrases) -> str:
    """A block's introduction: its name, rounds (or period, or cap) and moves."""
    if block.amrap_ms is not None:  # "12 minutes, as many rounds as possible: 5 burpees, ..."
        moves = say.say("list_comma").join(_amrap_move(e, say) for e in block.exercises)
        length = say.duration(block.amrap_ms)
        return say.say("block_amrap", block=block.name, length=length, moves=moves)
    moves_said = _moves(block, say)
    rounds = say.count("rounds", block.rounds)
    if block.every_ms is not None:
        every = say.every(block.every_ms)
        return say.say(
            "block_every", block=block.name, every=every, rounds=rounds, moves=moves_said
        )
    if block.rounds == 1:
        return say.say("block_one_round", block=block.name, moves=moves_said)
    return say.say("block", block=block.name, rounds=rounds, moves=moves_said)


def _amrap_move(exercise: Exercise, say: Phrases) -> str:
    """One move of an AMRAP's list, as a coach reads it: ``5 burpees``, ``30 seconds of plank``."""
    name = say.move(exercise.name)
    reps = exercise.reps_in(1)
    if reps is not None:
        amount = say.count("amrap_reps", reps, exercise=name)
    else:
        amount = say.say(
            "amrap_move", prescription=say.duration(exercise.work_in_ms(1)), exercise=name
        )
    if not exercise.per_side:
        return amount
    side = say.say("side_left" if exercise.first_side == "left" else "side_right")
    return say.say("per_side", amount=amount, side=side)


def _round_cue(occurrence: Occurrence, say: Phrases) -> str | None:
    rounds = occurrence.block.rounds
    if rounds == 1 or not occurrence.first_in_round or occurrence.exercise is None:
        return None
    if occurrence.round == rounds:
        return say.say("last_round")
    return say.say("round", number=occurrence.round, total=rounds)
