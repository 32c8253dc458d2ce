"""Routine -> its timeline: the occurrences and the transitions between them, lengths computed once.

An *occurrence* is one work interval as done: an exercise in one round of its
block. Before each comes a *transition* (the end tone, "Rest.", block and round
announcements, the call "Next up: Hip Thrust, 10 reps.", silence, the countdown);
a per-side move has a *switch* between its two sides. A transition lasts its rest,
but never less than its spoken cues and countdown need (``rest: 0s`` means
"announce and go").

Both consumers work on this one model: :mod:`workout_audio.script` places cues on
the segments of a layout, and :mod:`workout_audio.fit` moves its rests. Every
length comes from :meth:`Layout.lengths_at` and :meth:`Layout.segments`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .phrases import Phrases, phrases_for
from .routine import Block, Exercise, Rests, Routine

__all__ = [
    "GAP_MS",
    "GUARD_MS",
    "LEAD_IN_MS",
    "LENGTH_CUE_MS",
    "PPM",
    "TAIL_MS",
    "TONE_MS",
    "ClipDurations",
    "Layout",
    "Occurrence",
    "Segment",
    "Transition",
    "layout",
    "measurer",
    "plan",
    "prescription",
]

# A phrase's spoken length in ms: a mapping of measured clips, or a function.
ClipDurations = Mapping[str, int] | Callable[[str], int]

# How long each tone lasts; render.py makes tones of exactly these lengths.
TONE_MS = {"beep": 150, "start": 450, "end": 600, "tick": 40}

LEAD_IN_MS = 600  # silence before the first word of the track
TAIL_MS = 1_500  # silence after the last word
GAP_MS = 350  # between two spoken cues in a row
GUARD_MS = 150  # the least silence between a cue and the next clip or tone
# After the intro, silence to get into position before the first countdown; like a rest,
# a target length may move it within its range.
SETTLE_MS = 5_000
SETTLE_RANGE_MS = (2_000, 20_000)
# The intro's "30 minutes in total." gets a slot of its own length, so the length said
# never changes the timing (a clip longer than the slot is left out).
LENGTH_CUE_MS = 3_000
PPM = 1_000_000  # rest positions run from -PPM (shortest) through 0 (as written) to PPM


def measurer(clip_ms: ClipDurations) -> Callable[[str], int]:
    """``clip_ms`` as a function."""
    if isinstance(clip_ms, Mapping):
        return clip_ms.__getitem__
    return clip_ms


@dataclass(frozen=True)
class Occurrence:
    """One work interval: an exercise as done in one round of its block."""

    block_index: int
    block: Block
    round: int
    exercise: Exercise
    first_in_block: bool
    first_in_round: bool

    @property
    def work_ms(self) -> int:
        """Work time of one side, this round."""
        return self.exercise.work_in_ms(self.round)

    @property
    def reps(self) -> int | None:
        """This round's reps; None for a hold."""
        return self.exercise.reps_in(self.round)

    @property
    def sides(self) -> tuple[str | None, ...]:
        """The sides in order, or ``(None,)`` for a move done once."""
        first = self.exercise.first_side
        if not self.exercise.per_side:
            return (None,)
        return (first, "right" if first == "left" else "left")


@dataclass(frozen=True)
class Transition:
    """The time before an occurrence (or between its sides): cues in order, silence, countdown.

    It lasts its rest (from end tone to start tone), never less than its cues need;
    an ``additive`` one (the intro) lasts its cues plus its rest.
    """

    kind: str  # "intro", "exercise", "round", "block" (whose rest it is) or "switch"
    owner: int | None  # index of the block whose rest (or switch) this is; None for the intro
    cues: tuple[str, ...]
    rest_ms: int  # as written; 0 = no rest
    rest_range_ms: tuple[int, int]  # what a target length may move the rest to
    countdown_beats: int
    starts_after_tone: bool
    get_ready: str | None = None
    length_cue: str | None = None  # said after the first cue, in a slot of LENGTH_CUE_MS
    additive: bool = False

    @property
    def lead_ms(self) -> int:
        """Silence before the first cue (after work, the end tone and a guard)."""
        return TONE_MS["end"] + GUARD_MS if self.starts_after_tone else LEAD_IN_MS

    def min_ms(self, clip_ms: Callable[[str], int]) -> int:
        """The least this transition can last: its cues and countdown."""
        speech_ms = sum(map(clip_ms, self.cues)) + GAP_MS * max(len(self.cues) - 1, 0)
        if self.length_cue:
            speech_ms += LENGTH_CUE_MS + GAP_MS
        return self.lead_ms + speech_ms + GUARD_MS + self.countdown_beats * 1000

    def length_ms(self, position_ppm: int, min_ms: int) -> int:
        """The length with the rest at a position: -PPM its shortest, 0 as written, PPM longest."""
        low_ms, high_ms = self.rest_range_ms
        span_ms = (high_ms - self.rest_ms) if position_ppm >= 0 else (self.rest_ms - low_ms)
        rest_ms = self.rest_ms + span_ms * position_ppm // PPM
        return min_ms + rest_ms if self.additive else max(rest_ms, min_ms)


@dataclass(frozen=True)
class Segment:
    """A stretch of the track: a transition, a switch, one side's work, or the outro."""

    kind: str  # "transition", "switch", "work" or "outro"
    start_ms: int
    length_ms: int
    occurrence: Occurrence | None = None
    transition: Transition | None = None
    side: str | None = None

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.length_ms


@dataclass(frozen=True)
class Plan:
    """What a routine's track says, in order, before anything is measured."""

    routine: Routine
    target_ms: int | None
    occurrences: tuple[Occurrence, ...]
    transitions: tuple[Transition, ...]  # transitions[i] comes before occurrences[i]
    switches: tuple[Transition | None, ...]  # between the two sides of occurrences[i]
    outro: str


def plan(routine: Routine, *, target_ms: int | None = None) -> Plan:
    """Every occurrence and transition of ``routine`` with its words; ``target_ms`` is announced."""
    say = phrases_for(routine.language)
    occurrences = _occurrences(routine)
    return Plan(
        routine=routine,
        target_ms=target_ms,
        occurrences=occurrences,
        transitions=tuple(_transitions(routine, occurrences, say, target_ms)),
        switches=tuple(_switch(o, say) if o.exercise.per_side else None for o in occurrences),
        outro=say.say("outro"),
    )


@dataclass(frozen=True)
class Layout:
    """A plan measured: everything about a routine's timing except its rests."""

    plan: Plan
    minimums_ms: tuple[int, ...]  # what each transition's cues need
    switches_ms: tuple[int, ...]  # each occurrence's switch between sides (0: none)
    outro_ms: int  # from the last end tone to the end of the track
    fixed_ms: int  # everything but the transitions: work, switches, the outro

    @property
    def routine(self) -> Routine:
        return self.plan.routine

    @property
    def target_ms(self) -> int | None:
        return self.plan.target_ms

    @property
    def transitions(self) -> tuple[Transition, ...]:
        return self.plan.transitions

    def lengths_at(self, position_ppm: int) -> list[int]:
        """Every transition's length with all rests at one position (see Transition.length_ms)."""
        return [
            t.length_ms(position_ppm, m)
            for t, m in zip(self.plan.transitions, self.minimums_ms, strict=True)
        ]

    def caps_ms(self) -> list[int]:
        """The longest each transition may become."""
        return self.lengths_at(PPM)

    def total_ms(self, lengths_ms: list[int]) -> int:
        """The track's length with these transition lengths."""
        return self.fixed_ms + sum(lengths_ms)

    def segments(self, lengths_ms: list[int]) -> Iterator[Segment]:
        """The whole track in order, each stretch at its start, with these transition lengths."""
        cursor_ms = 0
        for index, occ in enumerate(self.plan.occurrences):
            transition = self.plan.transitions[index]
            yield Segment("transition", cursor_ms, lengths_ms[index], occ, transition)
            cursor_ms += lengths_ms[index]
            for side_index, side in enumerate(occ.sides):
                switch = self.plan.switches[index]
                if side_index and switch is not None:
                    switch_ms = self.switches_ms[index]
                    yield Segment("switch", cursor_ms, switch_ms, occ, switch, side)
                    cursor_ms += switch_ms
                yield Segment("work", cursor_ms, occ.work_ms, occ, side=side)
                cursor_ms += occ.work_ms
        yield Segment("outro", cursor_ms, self.outro_ms)


def layout(routine: Routine, clip_ms: ClipDurations, *, target_ms: int | None = None) -> Layout:
    """Measure everything in ``routine`` that rests do not change.

    ``target_ms`` is only what the intro announces.
    """
    measure = measurer(clip_ms)
    planned = plan(routine, target_ms=target_ms)
    switches_ms = tuple(
        0 if s is None else s.length_ms(0, s.min_ms(measure)) for s in planned.switches
    )
    # The last end tone was added with the last work; the outro is said after it.
    outro_ms = TONE_MS["end"] + GUARD_MS + measure(planned.outro) + TAIL_MS
    unmeasured = Layout(planned, (), switches_ms, outro_ms, 0)
    no_transitions = [0] * len(planned.transitions)
    *_, last = unmeasured.segments(no_transitions)
    return Layout(
        plan=planned,
        minimums_ms=tuple(t.min_ms(measure) for t in planned.transitions),
        switches_ms=switches_ms,
        outro_ms=outro_ms,
        fixed_ms=last.end_ms,
    )


def _occurrences(routine: Routine) -> tuple[Occurrence, ...]:
    found = []
    for block_index, block in enumerate(routine.blocks):
        for round_number in range(1, block.rounds + 1):
            for index, exercise in enumerate(block.exercises):
                found.append(
                    Occurrence(
                        block_index=block_index,
                        block=block,
                        round=round_number,
                        exercise=exercise,
                        first_in_block=round_number == 1 and index == 0,
                        first_in_round=index == 0,
                    )
                )
    return tuple(found)


def prescription(occurrence: Occurrence, say: Phrases) -> str:
    """What a move asks for this round: ``10 reps``, ``30 seconds per side, left side first``."""
    exercise = occurrence.exercise
    reps = occurrence.reps
    amount = say.count("reps", reps) if reps is not None else say.duration(occurrence.work_ms)
    if not exercise.per_side:
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
    moves = _moves(block, say)
    if block.rounds == 1:
        return say.say("block_one_round", block=block.name, moves=moves)
    return say.say("block", block=block.name, rounds=say.count("rounds", block.rounds), moves=moves)


def _round_cue(occurrence: Occurrence, say: Phrases) -> str | None:
    rounds = occurrence.block.rounds
    if rounds == 1:
        return None
    if occurrence.round == rounds:
        return say.say("last_round")
    return say.say("round", number=occurrence.round, total=rounds)


def _rest_before(occurrences: tuple[Occurrence, ...], index: int) -> tuple[str, int, Rests]:
    """Which rest comes between occurrence ``index - 1`` and ``index``, and whose it is."""
    previous = occurrences[index - 1]
    if occurrences[index].first_in_block:
        return "block", previous.block_index, previous.block.timing.rest
    if occurrences[index].first_in_round:
        return "round", previous.block_index, previous.block.timing.rest
    return "exercise", previous.block_index, previous.exercise.timing.rest


def _transitions(
    routine: Routine, occurrences: tuple[Occurrence, ...], say: Phrases, target_ms: int | None
) -> Iterator[Transition]:
    for index, occ in enumerate(occurrences):
        cues: list[str] = []
        exercise = occ.exercise
        call = {"exercise": exercise.name, "prescription": prescription(occ, say)}
        length_cue = None
        owner: int | None
        if index == 0:
            cues.append(say.say("intro", routine=routine.name))
            if target_ms:
                length_cue = say.say("total_length", length=say.duration(target_ms))
            if routine.equipment:
                cues.append(say.say("equipment", items=say.join(list(routine.equipment))))
            kind, owner = "intro", None
            rest_ms, rest_range_ms = SETTLE_MS, SETTLE_RANGE_MS
        else:
            kind, owner, rests = _rest_before(occurrences, index)
            rest_ms, rest_range_ms = getattr(rests, f"{kind}_ms"), rests.range_ms(kind)
            if rest_ms > 0:
                cues.append(say.say("rest"))
        if occ.first_in_block:
            cues.append(_block_cue(occ.block, say))
        round_cue = _round_cue(occ, say) if occ.first_in_round else None
        if round_cue:
            cues.append(round_cue)
        if index == 0:
            cues.append(say.say("first_up", **call))
        elif rest_ms > 0:
            cues.append(say.say("next_up", **call))
        else:
            cues.append(say.say("now", **call))
        yield Transition(
            kind=kind,
            owner=owner,
            cues=tuple(cues),
            rest_ms=rest_ms,
            rest_range_ms=rest_range_ms,
            countdown_beats=exercise.timing.countdown_beats,
            starts_after_tone=index > 0,
            get_ready=(
                say.say("get_ready", exercise=exercise.name) if rest_ms > 0 and index > 0 else None
            ),
            length_cue=length_cue,
            additive=index == 0,
        )


def _switch(occurrence: Occurrence, say: Phrases) -> Transition:
    exercise = occurrence.exercise
    switch_ms = exercise.timing.switch_sides_ms
    return Transition(
        kind="switch",
        owner=occurrence.block_index,
        cues=(say.say("switch_sides"),),
        rest_ms=switch_ms,
        rest_range_ms=(switch_ms, switch_ms),
        countdown_beats=exercise.timing.countdown_beats,
        starts_after_tone=True,
    )
