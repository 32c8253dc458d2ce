"""Routine -> Script: every cue and tone with its exact start time, as a pure dry run.

The track is a chain of intervals. Before each exercise occurrence comes a
*transition* (the end tone, "Rest.", block and round announcements, the call
"Next up: Hip Thrust, 10 reps.", silence, then the countdown beeps); then the
*work* (start tone, per-rep ticks or timed-hold cues, a switch-sides pause for
per-side moves). A transition lasts its rest, but never less than its spoken
cues and countdown need: ``rest: 0s`` means "announce and go". Optional cues
(tips, "Halfway.", "10 seconds left.", counted reps, "Get ready") are placed
only where they fit whole; nothing is ever cut or overlapped.

Speech durations are measured from the real clips (``clip_ms``), so the times
here are the times in the MP3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from .phrases import Phrases, phrases_for
from .routine import Block, Exercise, Routine

__all__ = [
    "TONE_MS",
    "Chapter",
    "ClipDurations",
    "Event",
    "Layout",
    "Script",
    "layout",
    "make_script",
    "schedule",
    "script_as_json",
    "script_phrases",
]

# A phrase's spoken length in ms: a mapping of measured clips, or a function.
ClipDurations = Mapping[str, int] | Callable[[str], int]

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
COUNTED_REPS = 3  # the last reps are counted aloud
HALFWAY_MIN_MS = 40_000  # holds this long get a "Halfway." cue
TIME_LEFT_MS = 10_000  # "10 seconds left." ...
TIME_LEFT_MIN_MS = 25_000  # ... on holds at least this long
GET_READY_LEAD_MS = 15_000  # rests with this much silence get a "Get ready" reminder
PPM = 1_000_000  # rest positions run from -PPM (shortest) through 0 (as written) to PPM


@dataclass(frozen=True)
class Event:
    """One clip in the track: a spoken cue (``text``) or a tone (``tone``)."""

    start_ms: int
    duration_ms: int
    kind: str  # "speech" or "tone"
    text: str | None = None
    tone: str | None = None
    block: str | None = None
    round: int | None = None
    exercise: str | None = None
    side: str | None = None

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


@dataclass(frozen=True)
class Chapter:
    """One exercise occurrence, from its announcement to the next one's."""

    title: str
    start_ms: int
    end_ms: int
    block: str = ""
    exercise: str = ""
    prescription: str = ""  # as the call says it: "10 reps", "30 seconds per side"
    round_label: str | None = None  # "Round 2/3"; None in a one-round block


@dataclass(frozen=True)
class Script:
    """The whole timed plan of a track: what is played, and when."""

    routine_name: str
    language: str
    length_ms: int
    events: tuple[Event, ...]
    chapters: tuple[Chapter, ...]
    target_ms: int | None = None  # the length asked for, if any
    adjustments: tuple[str, ...] = ()  # what a target length changed, as a coach would say it

    def speech(self) -> Iterator[Event]:
        """The spoken cues in order."""
        return (e for e in self.events if e.kind == "speech")


@dataclass(frozen=True)
class _Occurrence:
    """One exercise as done in one round of its block."""

    block: Block
    round: int
    exercise: Exercise
    first_in_block: bool
    first_in_round: bool


@dataclass
class _Transition:
    """The time before an occurrence: cues said in order, then silence, then the countdown.

    It lasts its rest (from end tone to start tone), never less than its cues need;
    an ``additive`` one (the intro) lasts its cues plus its rest.
    """

    cues: list[str]
    rest_ms: int  # as written; 0 = no rest
    rest_range_ms: tuple[int, int]  # what a target length may move the rest to
    countdown_beats: int
    starts_after_tone: bool
    get_ready: str | None = None
    length_cue: str | None = None  # said after the first cue, in a slot of LENGTH_CUE_MS
    additive: bool = False

    def min_ms(self, clip_ms: Callable[[str], int]) -> int:
        speech_ms = sum(map(clip_ms, self.cues)) + GAP_MS * max(len(self.cues) - 1, 0)
        if self.length_cue:
            speech_ms += LENGTH_CUE_MS + GAP_MS
        lead_ms = TONE_MS["end"] + GUARD_MS if self.starts_after_tone else LEAD_IN_MS
        return lead_ms + speech_ms + GUARD_MS + self.countdown_beats * 1000

    def rest_at(self, position_ppm: int) -> int:
        """The rest at a position: -PPM its shortest, 0 as written, PPM its longest."""
        low_ms, high_ms = self.rest_range_ms
        span_ms = (high_ms - self.rest_ms) if position_ppm >= 0 else (self.rest_ms - low_ms)
        return self.rest_ms + span_ms * position_ppm // PPM

    def length_ms(self, rest_ms: int, min_ms: int) -> int:
        return min_ms + rest_ms if self.additive else max(rest_ms, min_ms)


@dataclass
class _Timeline:
    """Events under construction, with the context stamped on each."""

    events: list[Event] = field(default_factory=list)

    def add(self, start_ms: int, duration_ms: int, kind: str, **context: object) -> None:
        self.events.append(Event(start_ms, duration_ms, kind, **context))  # type: ignore[arg-type]

    def retone(self, at_ms: int, old: str, new: str) -> None:
        """Play tone ``new`` instead of the ``old`` one that starts at ``at_ms``."""
        for index in range(len(self.events) - 1, -1, -1):  # it is among the latest added
            event = self.events[index]
            if event.kind == "tone" and event.tone == old and event.start_ms == at_ms:
                self.events[index] = replace(event, tone=new)
                return


def _occurrences(routine: Routine) -> list[_Occurrence]:
    found = []
    for block in routine.blocks:
        for round_number in range(1, block.rounds + 1):
            for index, exercise in enumerate(block.exercises):
                found.append(
                    _Occurrence(
                        block=block,
                        round=round_number,
                        exercise=exercise,
                        first_in_block=round_number == 1 and index == 0,
                        first_in_round=index == 0,
                    )
                )
    return found


def _prescription(exercise: Exercise, say: Phrases) -> str:
    amount = (
        say.count("reps", exercise.reps)
        if exercise.reps is not None
        else say.duration(exercise.work_ms)
    )
    if not exercise.per_side:
        return amount
    side = say.say("side_left" if exercise.first_side == "left" else "side_right")
    return say.say("per_side", amount=amount, side=side)


def _block_cue(block: Block, say: Phrases) -> str:
    moves = say.join([e.name for e in block.exercises])
    if block.rounds == 1:
        return say.say("block_one_round", block=block.name, moves=moves)
    return say.say("block", block=block.name, rounds=say.count("rounds", block.rounds), moves=moves)


def _round_cue(occurrence: _Occurrence, say: Phrases) -> str | None:
    rounds = occurrence.block.rounds
    if rounds == 1:
        return None
    if occurrence.round == rounds:
        return say.say("last_round")
    return say.say("round", number=occurrence.round, total=rounds)


def _rest_before(occurrences: list[_Occurrence], index: int) -> tuple[int, tuple[int, int]]:
    """The written rest between occurrence ``index - 1`` and ``index``, and its range."""
    previous = occurrences[index - 1]
    if occurrences[index].first_in_block:
        rests, kind = previous.block.timing.rest, "block"
    elif occurrences[index].first_in_round:
        rests, kind = previous.block.timing.rest, "round"
    else:
        rests, kind = previous.exercise.timing.rest, "exercise"
    nominal_ms: int = getattr(rests, f"{kind}_ms")
    return nominal_ms, rests.range_ms(kind)


def _plan_transitions(routine: Routine, say: Phrases, target_ms: int | None) -> list[_Transition]:
    occurrences = _occurrences(routine)
    transitions = []
    for index, occ in enumerate(occurrences):
        cues: list[str] = []
        exercise = occ.exercise
        call = {"exercise": exercise.name, "prescription": _prescription(exercise, say)}
        length_cue = None
        if index == 0:
            cues.append(say.say("intro", routine=routine.name))
            if target_ms:
                length_cue = say.say("total_length", length=say.duration(target_ms))
            if routine.equipment:
                cues.append(say.say("equipment", items=say.join(list(routine.equipment))))
            rest_ms, rest_range_ms = SETTLE_MS, SETTLE_RANGE_MS
        else:
            rest_ms, rest_range_ms = _rest_before(occurrences, index)
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
        transitions.append(
            _Transition(
                cues=cues,
                rest_ms=rest_ms,
                rest_range_ms=rest_range_ms,
                countdown_beats=exercise.timing.countdown_beats,
                starts_after_tone=index > 0,
                get_ready=(
                    say.say("get_ready", exercise=exercise.name)
                    if rest_ms > 0 and index > 0
                    else None
                ),
                length_cue=length_cue,
                additive=index == 0,
            )
        )
    return transitions


def _switch_transition(exercise: Exercise, say: Phrases) -> _Transition:
    return _Transition(
        cues=[say.say("switch_sides")],
        rest_ms=exercise.timing.switch_sides_ms,
        rest_range_ms=(exercise.timing.switch_sides_ms, exercise.timing.switch_sides_ms),
        countdown_beats=exercise.timing.countdown_beats,
        starts_after_tone=True,
    )


def _outro(say: Phrases) -> str:
    return say.say("outro")


def _work_cues(exercise: Exercise, say: Phrases) -> list[str]:
    """Optional phrases said during the work interval."""
    cues = list(exercise.tips)
    if exercise.reps is not None:
        count_from = max(2, exercise.reps - COUNTED_REPS + 1)
        cues += [str(n) for n in range(count_from, exercise.reps + 1)]
    else:
        cues += [say.say("halfway"), say.say("time_left", time=say.duration(TIME_LEFT_MS))]
    return cues


def script_phrases(routine: Routine, *, length_ms: int | None = None) -> list[str]:
    """Every distinct phrase a build of ``routine`` may say, in first-use order."""
    say = phrases_for(routine.language)
    phrases: list[str] = []
    target_ms = length_ms if length_ms is not None else routine.length_ms
    for transition in _plan_transitions(routine, say, target_ms):
        phrases += transition.cues
        phrases += filter(None, [transition.get_ready, transition.length_cue])
    for block in routine.blocks:
        for exercise in block.exercises:
            if exercise.per_side:
                phrases += _switch_transition(exercise, say).cues
            phrases += _work_cues(exercise, say)
    phrases.append(_outro(say))
    return list(dict.fromkeys(phrases))


def _measure(clip_ms: ClipDurations) -> Callable[[str], int]:
    if isinstance(clip_ms, Mapping):
        return clip_ms.__getitem__
    return clip_ms


@dataclass(frozen=True)
class Layout:
    """Everything about a routine's timing except its rests: what a length solver moves."""

    routine: Routine
    target_ms: int | None
    fixed_ms: int  # work, switch pauses, the outro
    transitions: tuple[_Transition, ...]
    minimums_ms: tuple[int, ...]  # what each transition's cues need

    def lengths_at(self, position_ppm: int) -> list[int]:
        """Every transition's length with all rests at one position (see _Transition.rest_at)."""
        return [
            t.length_ms(t.rest_at(position_ppm), m)
            for t, m in zip(self.transitions, self.minimums_ms, strict=True)
        ]

    def caps_ms(self) -> list[int]:
        """The longest each transition may become."""
        return [
            t.length_ms(t.rest_range_ms[1], m)
            for t, m in zip(self.transitions, self.minimums_ms, strict=True)
        ]

    def total_ms(self, lengths: list[int]) -> int:
        """The track's length with these transition lengths."""
        return self.fixed_ms + sum(lengths)


def layout(routine: Routine, clip_ms: ClipDurations, *, target_ms: int | None = None) -> Layout:
    """Measure everything in ``routine`` that rests do not change.

    ``target_ms`` is only what the intro announces.
    """
    measure = _measure(clip_ms)
    say = phrases_for(routine.language)
    transitions = _plan_transitions(routine, say, target_ms)
    fixed_ms = 0
    for occ in _occurrences(routine):
        exercise = occ.exercise
        fixed_ms += exercise.work_ms
        if exercise.per_side:
            switch = _switch_transition(exercise, say)
            fixed_ms += max(switch.rest_ms, switch.min_ms(measure)) + exercise.work_ms
    fixed_ms += TONE_MS["end"] + GUARD_MS + measure(_outro(say)) + TAIL_MS
    return Layout(
        routine=routine,
        target_ms=target_ms,
        fixed_ms=fixed_ms,
        transitions=tuple(transitions),
        minimums_ms=tuple(t.min_ms(measure) for t in transitions),
    )


class _Placer:
    """Free-time bookkeeping inside one interval: optional cues go only where they fit whole."""

    def __init__(self, start_ms: int, end_ms: int) -> None:
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.taken: list[tuple[int, int]] = []

    def take(self, start_ms: int, duration_ms: int) -> None:
        self.taken.append((start_ms, start_ms + duration_ms))

    def fits(self, start_ms: int, duration_ms: int) -> bool:
        end_ms = start_ms + duration_ms
        if start_ms < self.start_ms or end_ms + GUARD_MS > self.end_ms:
            return False
        return all(end_ms + GUARD_MS <= a or start_ms >= b + GUARD_MS for a, b in self.taken)

    def first_fit(self, earliest_ms: int, duration_ms: int) -> int | None:
        """The earliest start at or after ``earliest_ms`` where ``duration_ms`` fits."""
        candidates = [earliest_ms] + [
            b + GUARD_MS for _, b in self.taken if b + GUARD_MS > earliest_ms
        ]
        for start_ms in sorted(candidates):
            if self.fits(start_ms, duration_ms):
                return start_ms
        return None


def _render_transition(
    timeline: _Timeline,
    start_ms: int,
    length_ms: int,
    transition: _Transition,
    clip_ms: Callable[[str], int],
    context: dict[str, object],
) -> None:
    # After work, the first TONE_MS["end"] belong to the end tone that _render_work added.
    lead_ms = TONE_MS["end"] + GUARD_MS if transition.starts_after_tone else LEAD_IN_MS
    cursor_ms = start_ms + lead_ms
    for index, cue in enumerate(transition.cues):
        if index:
            cursor_ms += GAP_MS
        timeline.add(cursor_ms, clip_ms(cue), "speech", text=cue, **context)
        cursor_ms += clip_ms(cue)
        if index == 0 and transition.length_cue:
            cursor_ms += GAP_MS
            if clip_ms(transition.length_cue) <= LENGTH_CUE_MS:
                duration_ms = clip_ms(transition.length_cue)
                timeline.add(
                    cursor_ms, duration_ms, "speech", text=transition.length_cue, **context
                )
            cursor_ms += LENGTH_CUE_MS
    work_start_ms = start_ms + length_ms
    countdown_start_ms = work_start_ms - transition.countdown_beats * 1000
    if transition.get_ready:
        duration_ms = clip_ms(transition.get_ready)
        said_ms = countdown_start_ms - 1000 - duration_ms
        if said_ms - cursor_ms >= GET_READY_LEAD_MS:
            timeline.add(said_ms, duration_ms, "speech", text=transition.get_ready, **context)
    for beat in range(transition.countdown_beats, 0, -1):
        timeline.add(work_start_ms - beat * 1000, TONE_MS["beep"], "tone", tone="beep", **context)


def _render_work(
    timeline: _Timeline,
    start_ms: int,
    exercise: Exercise,
    say: Phrases,
    clip_ms: Callable[[str], int],
    context: dict[str, object],
) -> None:
    work_ms = exercise.work_ms
    placer = _Placer(start_ms, start_ms + work_ms)
    timeline.add(start_ms, TONE_MS["start"], "tone", tone="start", **context)
    timeline.add(start_ms + work_ms, TONE_MS["end"], "tone", tone="end", **context)
    placer.take(start_ms, TONE_MS["start"])
    if exercise.reps is not None:
        counted_from = exercise.reps - COUNTED_REPS + 1
        for rep in range(2, exercise.reps + 1):
            at_ms = start_ms + (rep - 1) * exercise.timing.rep_ms
            spoken = str(rep)
            if rep >= counted_from and placer.fits(at_ms, clip_ms(spoken)):
                timeline.add(at_ms, clip_ms(spoken), "speech", text=spoken, **context)
                placer.take(at_ms, clip_ms(spoken))
            else:
                timeline.add(at_ms, TONE_MS["tick"], "tone", tone="tick", **context)
                placer.take(at_ms, TONE_MS["tick"])
    else:
        beats = exercise.timing.countdown_beats
        if work_ms >= (beats + 2) * 1000:
            for beat in range(beats, 0, -1):
                at_ms = start_ms + work_ms - beat * 1000
                timeline.add(at_ms, TONE_MS["beep"], "tone", tone="beep", **context)
                placer.take(at_ms, TONE_MS["beep"])
        timed_cues = []
        if work_ms >= TIME_LEFT_MIN_MS:
            timed_cues.append(
                (work_ms - TIME_LEFT_MS, say.say("time_left", time=say.duration(TIME_LEFT_MS)))
            )
        if work_ms >= HALFWAY_MIN_MS:
            timed_cues.append((work_ms // 2, say.say("halfway")))
        for offset_ms, cue in timed_cues:
            if placer.fits(start_ms + offset_ms, clip_ms(cue)):
                timeline.add(start_ms + offset_ms, clip_ms(cue), "speech", text=cue, **context)
                placer.take(start_ms + offset_ms, clip_ms(cue))
    earliest_ms = start_ms + TONE_MS["start"] + 500
    for tip in exercise.tips:
        tip_start_ms = placer.first_fit(earliest_ms, clip_ms(tip))
        if tip_start_ms is not None:
            timeline.add(tip_start_ms, clip_ms(tip), "speech", text=tip, **context)
            placer.take(tip_start_ms, clip_ms(tip))
            earliest_ms = tip_start_ms + clip_ms(tip)


def _chapter(occ: _Occurrence, say: Phrases, start_ms: int, end_ms: int) -> Chapter:
    round_label = f"Round {occ.round}/{occ.block.rounds}" if occ.block.rounds > 1 else None
    parts = [occ.block.name, *filter(None, [round_label]), occ.exercise.name]
    return Chapter(
        title=" · ".join(parts),
        start_ms=start_ms,
        end_ms=end_ms,
        block=occ.block.name,
        exercise=occ.exercise.name,
        prescription=_prescription(occ.exercise, say),
        round_label=round_label,
    )


def make_script(
    routine: Routine, clip_ms: ClipDurations, *, length_ms: int | None = None
) -> Script:
    """Schedule every cue and tone of ``routine``.

    Args:
        routine: a validated routine.
        clip_ms: the spoken length of every phrase (see :func:`script_phrases`): a
            mapping of measured clips, or a function.
        length_ms: the exact track length wanted; defaults to the routine's
            ``length``; with neither, the routine is played as written.

    Raises:
        LengthError: the routine cannot be made that long (see :mod:`workout_audio.fit`).
    """
    from .fit import fit_length

    target_ms = length_ms if length_ms is not None else routine.length_ms
    if target_ms is None:
        written = layout(routine, clip_ms)
        return schedule(written, written.lengths_at(0), clip_ms)
    fitted = fit_length(routine, target_ms, clip_ms, from_file=length_ms is None)
    return schedule(fitted.layout, fitted.lengths_ms, clip_ms, adjustments=fitted.notes)


def schedule(
    planned: Layout,
    lengths_ms: list[int],
    clip_ms: ClipDurations,
    *,
    adjustments: tuple[str, ...] = (),
) -> Script:
    """Place every cue and tone of a laid-out routine, with these transition lengths."""
    measure = _measure(clip_ms)
    routine = planned.routine
    say = phrases_for(routine.language)
    timeline = _Timeline()
    chapters: list[tuple[_Occurrence, int]] = []
    cursor_ms = 0
    for occ, transition, transition_ms in zip(
        _occurrences(routine), planned.transitions, lengths_ms, strict=True
    ):
        exercise = occ.exercise
        context: dict[str, object] = {
            "block": occ.block.name,
            "round": occ.round,
            "exercise": exercise.name,
        }
        chapters.append((occ, cursor_ms))
        if transition.starts_after_tone and transition.rest_ms > 0:
            timeline.retone(cursor_ms, "end", "rest")  # the work just done ends in a rest
        _render_transition(timeline, cursor_ms, transition_ms, transition, measure, context)
        cursor_ms += transition_ms
        sides = [exercise.first_side, "right" if exercise.first_side == "left" else "left"]
        for side_index, side in enumerate(sides if exercise.per_side else [None]):
            side_context = {**context, "side": side}
            if side_index:
                switch = _switch_transition(exercise, say)
                switch_ms = max(switch.rest_ms, switch.min_ms(measure))
                _render_transition(timeline, cursor_ms, switch_ms, switch, measure, side_context)
                cursor_ms += switch_ms
            _render_work(timeline, cursor_ms, exercise, say, measure, side_context)
            cursor_ms += exercise.work_ms
    cursor_ms += TONE_MS["end"] + GUARD_MS  # the last end tone, added with the last work
    outro = _outro(say)
    timeline.add(cursor_ms, measure(outro), "speech", text=outro)
    total_ms = cursor_ms + measure(outro) + TAIL_MS
    assert total_ms == planned.total_ms(lengths_ms), (total_ms, planned.total_ms(lengths_ms))

    events = tuple(sorted(timeline.events, key=lambda e: e.start_ms))
    ends = [start for _, start in chapters[1:]] + [total_ms]
    return Script(
        routine_name=routine.name,
        language=say.language,
        length_ms=total_ms,
        events=events,
        chapters=tuple(
            _chapter(occ, say, s, e) for (occ, s), e in zip(chapters, ends, strict=True)
        ),
        target_ms=planned.target_ms,
        adjustments=adjustments,
    )


def script_as_json(script: Script, engine: str) -> dict[str, object]:
    """The script as plain data: times in seconds, as ``script --format json`` prints it."""
    return {
        "routine": script.routine_name,
        "language": script.language,
        "engine": engine,
        "length_s": script.length_ms / 1000,
        "adjustments": (
            None
            if script.target_ms is None
            else {
                "target_s": script.target_ms / 1000,
                "length_s": script.length_ms / 1000,
                "changes": list(script.adjustments),
            }
        ),
        "events": [
            {
                "start_s": e.start_ms / 1000,
                "end_s": e.end_ms / 1000,
                "kind": e.kind,
                **({"text": e.text} if e.kind == "speech" else {"tone": e.tone}),
                "block": e.block,
                "round": e.round,
                "exercise": e.exercise,
                "side": e.side,
            }
            for e in script.events
        ],
        "chapters": [
            {"title": c.title, "start_s": c.start_ms / 1000, "end_s": c.end_ms / 1000}
            for c in script.chapters
        ],
    }
