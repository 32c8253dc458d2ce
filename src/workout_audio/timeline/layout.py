"""Routine -> its timeline: the occurrences and the transitions between them, lengths computed once.

An *occurrence* is one work interval as done: an exercise in one round of its
block, or a whole AMRAP. Before each comes a *transition*, of one of three kinds:

- a pause (``paused`` flow, the default): the end tone, "Rest.", block and round
  announcements, the call "Next up: Hip Thrust, 10 reps.", silence, the countdown.
  It lasts its rest, but never less than its cues need (``rest: 0s``: "announce and go");
- ``continuous`` (run/walk): none at all; the next interval starts the millisecond the
  previous one ends, and is announced over the end of it;
- ``period`` (an ``every:`` block, EMOM): what the previous work leaves of its period,
  so each start falls exactly on the period; the next move is announced in it.

A per-side move has a *switch* between its two sides.

Both consumers work on this one model: :mod:`workout_audio.timeline.script` places cues on
the segments of a layout, and :mod:`workout_audio.timeline.fit` moves its rests. Every
length comes from :meth:`Layout.lengths_at` and :meth:`Layout.segments`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from ..errors import LengthError
from ..routine import Block, Exercise, Rests, Routine, Timing
from .phrases import Phrases, phrases_for

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
# How long each tone lasts; sounds.py makes tones of exactly these lengths. "rest" takes the
# place of "end" when a rest follows the work, so the two are as long as each other.
TONE_MS = {"beep": 150, "start": 450, "end": 600, "rest": 600, "tick": 40}

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
    """One work interval: an exercise as done in one round of its block, or a whole AMRAP."""

    block_index: int
    block: Block
    round: int
    exercise: Exercise | None  # None: the whole AMRAP block
    first_in_block: bool
    first_in_round: bool

    @property
    def name(self) -> str:
        return self.exercise.name if self.exercise is not None else self.block.name

    @property
    def timing(self) -> Timing:
        return self.exercise.timing if self.exercise is not None else self.block.timing

    @property
    def work_ms(self) -> int:
        """Work time of one side, this round (an AMRAP's cap)."""
        if self.exercise is None:
            assert self.block.amrap_ms is not None  # only AMRAPs have no exercise
            return self.block.amrap_ms
        return self.exercise.work_in_ms(self.round)

    @property
    def reps(self) -> int | None:
        """This round's reps; None for a hold or an AMRAP (the athlete sets the pace)."""
        return None if self.exercise is None else self.exercise.reps_in(self.round)

    @property
    def sides(self) -> tuple[str | None, ...]:
        """The sides in order, or ``(None,)`` for a move done once."""
        if self.exercise is None or not self.exercise.per_side:
            return (None,)
        first = self.exercise.first_side
        return (first, "right" if first == "left" else "left")


@dataclass(frozen=True)
class Transition:
    """The time before an occurrence (or between its sides): cues in order, silence, countdown.

    A pause lasts its rest (from end tone to start tone), never less than its cues
    need; an ``additive`` one (the intro) lasts its cues plus its rest. A
    ``continuous`` or ``period`` one lasts what the protocol says, and says the
    first of its ``announcements`` that fits whole (or nothing).
    """

    kind: str  # "intro"; "exercise", "round", "block" (whose rest it is); "switch";
    # "continuous" or "period"
    owner: int | None  # index of the block whose rest (or switch) this is; None for the intro
    cues: tuple[str, ...]
    rest_ms: int  # as written; 0 = no rest
    rest_range_ms: tuple[int, int]  # what a target length may move the rest to
    countdown_beats: int
    starts_after_tone: bool
    get_ready: str | None = None
    length_cue: str | None = None  # said after the first cue, in a slot of LENGTH_CUE_MS
    additive: bool = False
    announcements: tuple[tuple[str, ...], ...] = ()  # longest first; cues said in a row
    period_ms: int | None = None  # "period": the EMOM period the previous work starts

    @property
    def protocol(self) -> bool:
        """Whether the protocol, not the cues or a rest, sets its length."""
        return self.kind in ("continuous", "period")

    @property
    def lead_ms(self) -> int:
        """Silence before the first cue (after work, the end tone and a guard)."""
        return TONE_MS["end"] + GUARD_MS if self.starts_after_tone else LEAD_IN_MS

    def min_ms(self, clip_ms: Callable[[str], int]) -> int:
        """The least a pause can last: its cues and countdown."""
        speech_ms = sum(map(clip_ms, self.cues)) + GAP_MS * max(len(self.cues) - 1, 0)
        if self.length_cue:
            speech_ms += LENGTH_CUE_MS + GAP_MS
        return self.lead_ms + speech_ms + GUARD_MS + self.countdown_beats * 1000

    def length_ms(self, position_ppm: int, min_ms: int) -> int:
        """A pause's length with its rest at a position: -PPM shortest, 0 as written, PPM most."""
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
    transition: Transition | None = None  # of a transition or switch
    side: str | None = None
    then: Transition | None = None  # of work: the transition or switch that follows it

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

    def phrases(self) -> Iterator[str]:
        """Everything its transitions and switches may say."""
        for transition in (*self.transitions, *filter(None, self.switches)):
            yield from transition.cues
            yield from filter(None, [transition.get_ready, transition.length_cue])
            for announcement in transition.announcements:
                yield from announcement


def plan(routine: Routine, *, target_ms: int | None = None) -> Plan:
    """Every occurrence and transition of ``routine`` with its words; ``target_ms`` is announced."""
    say = phrases_for(routine.language)
    occurrences = _occurrences(routine)
    return Plan(
        routine=routine,
        target_ms=target_ms,
        occurrences=occurrences,
        transitions=tuple(_transitions(routine, occurrences, say, target_ms)),
        switches=tuple(_switch(o, say) if o.sides[1:] else None for o in occurrences),
        outro=say.say("outro"),
    )


@dataclass(frozen=True)
class Layout:
    """A plan measured: everything about a routine's timing except its rests."""

    plan: Plan
    minimums_ms: tuple[int, ...]  # what each transition's cues need
    protocol_ms: tuple[int | None, ...]  # the length the protocol sets, where it does
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
            t.length_ms(position_ppm, m) if fixed_ms is None else fixed_ms
            for t, m, fixed_ms in zip(
                self.plan.transitions, self.minimums_ms, self.protocol_ms, strict=True
            )
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
        occurrences, transitions = self.plan.occurrences, self.plan.transitions
        for index, occ in enumerate(occurrences):
            yield Segment("transition", cursor_ms, lengths_ms[index], occ, transitions[index])
            cursor_ms += lengths_ms[index]
            switch = self.plan.switches[index]
            following = transitions[index + 1] if index + 1 < len(transitions) else None
            for side_index, side in enumerate(occ.sides):
                if side_index and switch is not None:
                    switch_ms = self.switches_ms[index]
                    yield Segment("switch", cursor_ms, switch_ms, occ, switch, side)
                    cursor_ms += switch_ms
                then = switch if side_index + 1 < len(occ.sides) else following
                yield Segment("work", cursor_ms, occ.work_ms, occ, side=side, then=then)
                cursor_ms += occ.work_ms
        yield Segment("outro", cursor_ms, self.outro_ms)

    def span_ms(self, index: int) -> int:
        """From occurrence ``index``'s first start tone to its last end tone."""
        occ = self.plan.occurrences[index]
        return occ.work_ms * len(occ.sides) + self.switches_ms[index]


def layout(routine: Routine, clip_ms: ClipDurations, *, target_ms: int | None = None) -> Layout:
    """Measure everything in ``routine`` that rests do not change.

    ``target_ms`` is only what the intro announces.

    Raises:
        LengthError: an EMOM period cannot hold a per-side move with its spoken switch.
    """
    measure = measurer(clip_ms)
    planned = plan(routine, target_ms=target_ms)
    switches_ms = tuple(
        0 if s is None else s.length_ms(0, s.min_ms(measure)) for s in planned.switches
    )
    # The last end tone was added with the last work; the outro is said after it.
    outro_ms = TONE_MS["end"] + GUARD_MS + measure(planned.outro) + TAIL_MS
    unmeasured = Layout(planned, (), (), switches_ms, outro_ms, 0)
    protocol_ms: list[int | None] = []
    for index, transition in enumerate(planned.transitions):
        if transition.kind == "continuous":
            protocol_ms.append(0)
        elif transition.period_ms is not None:
            rest_ms = transition.period_ms - unmeasured.span_ms(index - 1)
            if rest_ms < TONE_MS["end"] + GUARD_MS:
                occ = planned.occurrences[index - 1]
                raise LengthError(
                    f"{routine.path}:{occ.block.line}: {occ.block.name}: {occ.name} with its "
                    f"switch of sides does not fit the every: period; give it a longer period"
                )
            protocol_ms.append(rest_ms)
        else:
            protocol_ms.append(None)
    no_transitions = [0] * len(planned.transitions)
    *_, last = unmeasured.segments(no_transitions)
    return Layout(
        plan=planned,
        minimums_ms=tuple(t.min_ms(measure) for t in planned.transitions),
        protocol_ms=tuple(protocol_ms),
        switches_ms=switches_ms,
        outro_ms=outro_ms,
        fixed_ms=last.end_ms,
    )


def _occurrences(routine: Routine) -> tuple[Occurrence, ...]:
    found = []
    for block_index, block in enumerate(routine.blocks):
        if block.amrap_ms is not None:
            found.append(Occurrence(block_index, block, 1, None, True, True))
            continue
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
    return _amount(occurrence.exercise, occurrence.reps, occurrence.work_ms, say)


def _amount(exercise: Exercise | None, reps: int | None, work_ms: int, say: Phrases) -> str:
    amount = say.count("reps", reps) if reps is not None else say.duration(work_ms)
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
    if block.amrap_ms is not None:
        moves = [
            say.say(
                "amrap_move",
                exercise=e.name,
                prescription=_amount(e, e.reps_in(1), e.work_in_ms(1), say),
            )
            for e in block.exercises
        ]
        length = say.duration(block.amrap_ms)
        return say.say("block_amrap", block=block.name, length=length, moves=say.join(moves))
    moves_said = _moves(block, say)
    rounds = say.count("rounds", block.rounds)
    if block.every_ms is not None:
        period = say.duration(block.every_ms)
        return say.say(
            "block_every", block=block.name, period=period, rounds=rounds, moves=moves_said
        )
    if block.rounds == 1:
        return say.say("block_one_round", block=block.name, moves=moves_said)
    return say.say("block", block=block.name, rounds=rounds, moves=moves_said)


def _round_cue(occurrence: Occurrence, say: Phrases) -> str | None:
    rounds = occurrence.block.rounds
    if rounds == 1 or not occurrence.first_in_round or occurrence.exercise is None:
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
    return "exercise", previous.block_index, previous.timing.rest


def _transitions(
    routine: Routine, occurrences: tuple[Occurrence, ...], say: Phrases, target_ms: int | None
) -> Iterator[Transition]:
    for index, occ in enumerate(occurrences):
        previous = occurrences[index - 1] if index else None
        if previous is not None and previous.block.continuous and occ.block.continuous:
            yield _protocol_transition("continuous", previous, occ, say)
        elif previous is not None and occ.block.every_ms is not None and not occ.first_in_block:
            yield _protocol_transition("period", previous, occ, say)
        else:
            yield _pause(routine, occurrences, index, say, target_ms)


def _call(occ: Occurrence, say: Phrases, key: str) -> str:
    return say.say(key, exercise=occ.name, prescription=prescription(occ, say))


def _protocol_transition(
    kind: str, previous: Occurrence, occ: Occurrence, say: Phrases
) -> Transition:
    """A transition the protocol times: it says the longest announcement that fits."""
    full = [_block_cue(occ.block, say)] if occ.first_in_block else []
    full += filter(None, [_round_cue(occ, say)])
    next_up = _call(occ, say, "next_up")
    announcements = [(*full, next_up)] if full else []
    announcements += [
        (next_up,),
        (_call(occ, say, "now"),),
        (say.say("name_only", exercise=occ.name),),
    ]
    return Transition(
        kind=kind,
        owner=previous.block_index,
        cues=(),
        rest_ms=0,
        rest_range_ms=(0, 0),
        countdown_beats=occ.timing.countdown_beats,
        starts_after_tone=kind == "period",
        announcements=tuple(announcements),
        period_ms=occ.block.every_ms if kind == "period" else None,
    )


def _pause(
    routine: Routine,
    occurrences: tuple[Occurrence, ...],
    index: int,
    say: Phrases,
    target_ms: int | None,
) -> Transition:
    occ = occurrences[index]
    cues: list[str] = []
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
    cues += filter(None, [_round_cue(occ, say)])
    if occ.exercise is None:
        pass  # an AMRAP's block cue has said its moves
    elif index == 0:
        cues.append(_call(occ, say, "first_up"))
    elif rest_ms > 0:
        cues.append(_call(occ, say, "next_up"))
    else:
        cues.append(_call(occ, say, "now"))
    return Transition(
        kind=kind,
        owner=owner,
        cues=tuple(cues),
        rest_ms=rest_ms,
        rest_range_ms=rest_range_ms,
        countdown_beats=occ.timing.countdown_beats,
        starts_after_tone=index > 0,
        get_ready=(say.say("get_ready", exercise=occ.name) if rest_ms > 0 and index > 0 else None),
        length_cue=length_cue,
        additive=index == 0,
    )


def _switch(occurrence: Occurrence, say: Phrases) -> Transition:
    timing = occurrence.timing
    return Transition(
        kind="switch",
        owner=occurrence.block_index,
        cues=(say.say("switch_sides"),),
        rest_ms=timing.switch_sides_ms,
        rest_range_ms=(timing.switch_sides_ms, timing.switch_sides_ms),
        countdown_beats=timing.countdown_beats,
        starts_after_tone=True,
    )
