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

A per-side move has a *switch* between its two sides. What each says comes from
:mod:`workout_audio.timeline.cues`, asked once per occurrence; the layout only
chooses among those phrases and measures them.

Both consumers work on this one model: :mod:`workout_audio.timeline.script` places cues on
the segments of a layout, and :mod:`workout_audio.timeline.fit` moves its rests. Every
length comes from :meth:`Layout.lengths_at` and :meth:`Layout.segments`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from ..errors import LengthError
from ..routine import REST_KINDS, RestKind, Rests, Routine, Side, ToneName
from .cues import Cues, TrackCues, occurrence_cues, track_cues
from .occurrences import Occurrence, occurrences
from .phrases import phrases_for

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
    "SegmentKind",
    "ToneName",
    "Transition",
    "TransitionKind",
    "layout",
    "measurer",
    "plan",
]

# A phrase's spoken length in ms: a mapping of measured clips, or a function.
ClipDurations = Mapping[str, int] | Callable[[str], int]

# What comes before an occurrence: the intro, a rest (after an exercise, a round or a
# block), a protocol's own time (continuous, period); or between its sides, a switch.
TransitionKind = Literal[RestKind, "intro", "switch", "continuous", "period"]
SegmentKind = Literal["transition", "switch", "work", "outro"]

# How long each tone lasts; audio/tones.py makes tones of exactly these lengths. "rest" takes
# the place of "end" when a rest follows the work, so the two are as long as each other.
# (Keyed by plain names: a routine's sounds: and audio/tones.py name tones as strings.)
TONE_MS: dict[ToneName, int] = {"beep": 150, "start": 450, "end": 600, "rest": 600, "tick": 40}

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
class Transition:
    """The time before an occurrence (or between its sides): cues in order, silence, countdown.

    A pause lasts its rest (from end tone to start tone), never less than its cues
    need; an ``additive`` one (the intro) lasts its cues plus its rest. A
    ``continuous`` or ``period`` one lasts what the protocol says, and says the
    first of its ``announcements`` that fits whole (or nothing).
    """

    kind: TransitionKind  # a rest's kind says whose rest it is: the exercise's, round's, block's
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
        return self.kind == "continuous" or self.kind == "period"

    @property
    def rests(self) -> bool:
        """Whether the work before it ends in a rest (with the rest tone, not the end tone)."""
        return self.kind in REST_KINDS and self.rest_ms > 0

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

    kind: SegmentKind
    start_ms: int
    length_ms: int
    occurrence: Occurrence | None = None
    transition: Transition | None = None  # of a transition or switch
    side: Side | None = None
    then: Transition | None = None  # of work: the transition or switch that follows it
    cues: Cues | None = None  # the wording of its occurrence

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.length_ms


@dataclass(frozen=True)
class Plan:
    """What a routine's track says, in order, before anything is measured."""

    routine: Routine
    target_ms: int | None
    occurrences: tuple[Occurrence, ...]
    cues: tuple[Cues, ...]  # the wording of occurrences[i]
    transitions: tuple[Transition, ...]  # transitions[i] comes before occurrences[i]
    switches: tuple[Transition | None, ...]  # between the two sides of occurrences[i]
    track: TrackCues

    @property
    def outro(self) -> str:
        return self.track.outro

    def phrases(self) -> Iterator[str]:
        """Everything its transitions and switches may say."""
        for transition in (*self.transitions, *filter(None, self.switches)):
            yield from transition.cues
            yield from filter(None, [transition.get_ready, transition.length_cue])
            for announcement in transition.announcements:
                yield from announcement


def plan(routine: Routine, *, target_ms: int | None = None, announced: bool = True) -> Plan:
    """Every occurrence and transition of ``routine`` with its words; ``target_ms`` is
    announced in the intro unless ``announced`` is False (a track too short for it)."""
    say = phrases_for(routine.language)
    done = occurrences(routine)
    cues = tuple(occurrence_cues(occ, say) for occ in done)
    track = track_cues(routine, say, target_ms if announced else None)
    return Plan(
        routine=routine,
        target_ms=target_ms,
        occurrences=done,
        cues=cues,
        transitions=tuple(_transitions(done, cues, track)),
        switches=tuple(_switch(o, track) if o.sides[1:] else None for o in done),
        track=track,
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
            cues = self.plan.cues[index]
            transition = transitions[index]
            yield Segment("transition", cursor_ms, lengths_ms[index], occ, transition, cues=cues)
            cursor_ms += lengths_ms[index]
            switch = self.plan.switches[index]
            following = transitions[index + 1] if index + 1 < len(transitions) else None
            for side_index, side in enumerate(occ.sides):
                if side_index and switch is not None:
                    switch_ms = self.switches_ms[index]
                    yield Segment("switch", cursor_ms, switch_ms, occ, switch, side, cues=cues)
                    cursor_ms += switch_ms
                then = switch if side_index + 1 < len(occ.sides) else following
                yield Segment("work", cursor_ms, occ.work_ms, occ, None, side, then, cues)
                cursor_ms += occ.work_ms
        yield Segment("outro", cursor_ms, self.outro_ms)

    def span_ms(self, index: int) -> int:
        """From occurrence ``index``'s first start tone to its last end tone."""
        occ = self.plan.occurrences[index]
        return occ.work_ms * len(occ.sides) + self.switches_ms[index]


def layout(
    routine: Routine,
    clip_ms: ClipDurations,
    *,
    target_ms: int | None = None,
    announced: bool = True,
) -> Layout:
    """Measure everything in ``routine`` that rests do not change.

    ``target_ms`` is only what the intro announces (when ``announced``).

    Raises:
        LengthError: an EMOM period cannot hold a per-side move with its spoken switch.
    """
    measure = measurer(clip_ms)
    planned = plan(routine, target_ms=target_ms, announced=announced)
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


def _rest_before(occurrences: tuple[Occurrence, ...], index: int) -> tuple[RestKind, int, Rests]:
    """Which rest comes between occurrence ``index - 1`` and ``index``, and whose it is."""
    previous = occurrences[index - 1]
    if occurrences[index].first_in_block:
        return "block", previous.block_index, previous.block.timing.rest
    if occurrences[index].first_in_round:
        return "round", previous.block_index, previous.block.timing.rest
    return "exercise", previous.block_index, previous.timing.rest


def _transitions(
    occurrences: tuple[Occurrence, ...], cues: tuple[Cues, ...], track: TrackCues
) -> Iterator[Transition]:
    for index, occ in enumerate(occurrences):
        previous = occurrences[index - 1] if index else None
        if previous is not None and previous.block.continuous and occ.block.continuous:
            yield _protocol_transition("continuous", previous, occ, cues[index])
        elif previous is not None and occ.block.every_ms is not None and not occ.first_in_block:
            yield _protocol_transition("period", previous, occ, cues[index])
        else:
            yield _pause(occurrences, index, cues[index], track)


def _protocol_transition(
    kind: Literal["continuous", "period"], previous: Occurrence, occ: Occurrence, cues: Cues
) -> Transition:
    """A transition the protocol times: it says the longest announcement that fits."""
    full = [said for said in (cues.block_intro, cues.round_cue) if said]
    announcements = [(*full, cues.next_up)] if full else []
    announcements += [(cues.next_up,), (cues.now,), (cues.name_only,)]
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
    occurrences: tuple[Occurrence, ...], index: int, cues: Cues, track: TrackCues
) -> Transition:
    occ = occurrences[index]
    said: list[str] = []
    kind: TransitionKind
    owner: int | None
    if index == 0:
        said += filter(None, [track.intro, track.greeting, track.equipment])
        kind, owner = "intro", None
        rest_ms, rest_range_ms = SETTLE_MS, SETTLE_RANGE_MS
    else:
        rest_kind, owner, rests = _rest_before(occurrences, index)
        kind, rest_ms, rest_range_ms = rest_kind, rests.after(rest_kind), rests.range_ms(rest_kind)
        if rest_ms > 0:
            said.append(track.rest)
    said += filter(None, [cues.block_intro, cues.round_cue])
    if occ.exercise is None:
        pass  # an AMRAP's block cue has said its moves
    elif index == 0:
        said.append(cues.first_up)
    elif rest_ms > 0:
        said.append(cues.next_up)
    else:
        said.append(cues.now)
    return Transition(
        kind=kind,
        owner=owner,
        cues=tuple(said),
        rest_ms=rest_ms,
        rest_range_ms=rest_range_ms,
        countdown_beats=occ.timing.countdown_beats,
        starts_after_tone=index > 0,
        get_ready=cues.get_ready if rest_ms > 0 and index > 0 else None,
        length_cue=track.length if index == 0 else None,
        additive=index == 0,
    )


def _switch(occurrence: Occurrence, track: TrackCues) -> Transition:
    timing = occurrence.timing
    return Transition(
        kind="switch",
        owner=occurrence.block_index,
        cues=(track.switch_sides,),
        rest_ms=timing.switch_sides_ms,
        rest_range_ms=(timing.switch_sides_ms, timing.switch_sides_ms),
        countdown_beats=timing.countdown_beats,
        starts_after_tone=True,
    )
