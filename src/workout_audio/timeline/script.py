"""Layout -> Script: every cue and tone with its exact start time, as a pure dry run.

The timeline (occurrences, transitions and their lengths) comes from
:mod:`workout_audio.timeline.layout`; this module places what is heard on it. A
transition's cues are said in full; optional cues (tips, "Halfway.", "10 seconds
left.", counted reps, "Get ready") are placed only where they fit whole; nothing
is ever cut or overlapped.

Speech durations are measured from the real clips (``clip_ms``), so the times
here are the times in the MP3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from ..durations import format_clock
from ..errors import RoutineError, RoutineErrors
from ..routine import Routine, Side, Target, TimedMessage
from ..routine.targets import format_distance, format_target
from .cues import Cues
from .fit import fit_length, guessed_speech_ms
from .layout import (
    GAP_MS,
    GUARD_MS,
    LENGTH_CUE_MS,
    TONE_MS,
    ClipDurations,
    Layout,
    Segment,
    ToneName,
    Transition,
    layout,
    measurer,
    plan,
)
from .occurrences import Occurrence
from .phrases import phrases_for

__all__ = [
    "TONE_MS",
    "Chapter",
    "Event",
    "EventKind",
    "Script",
    "ToneName",
    "check_messages",
    "make_script",
    "schedule",
    "script_as_json",
    "script_phrases",
    "unplaced_messages",
]

EventKind = Literal["speech", "tone"]
GET_READY_LEAD_MS = 15_000  # rests with this much silence get a "Get ready" reminder


@dataclass(frozen=True)
class Event:
    """One clip in the track: a spoken cue (``text``) or a tone (``tone``)."""

    start_ms: int
    duration_ms: int
    kind: EventKind
    text: str | None = None
    tone: ToneName | None = None
    block: str | None = None
    round: int | None = None
    exercise: str | None = None
    side: Side | None = None

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
    target: Target | None = None  # what the move aims for, for cards and charts


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
    unplaced: tuple[TimedMessage, ...] = ()  # messages with no room at their time
    distances: tuple[str, ...] = ()  # how each distance was timed: "Run: 1km at 4:30/km = 4:30"

    def speech(self) -> Iterator[Event]:
        """The spoken cues in order."""
        return (e for e in self.events if e.kind == "speech")


@dataclass(frozen=True)
class _Where:
    """What an event belongs to, stamped on it for tables and side files."""

    block: str | None = None
    round: int | None = None
    exercise: str | None = None
    side: Side | None = None


@dataclass
class _Timeline:
    """Events under construction."""

    events: list[Event] = field(default_factory=list)
    unplaced: list[TimedMessage] = field(default_factory=list)

    def speech(self, start_ms: int, duration_ms: int, text: str, where: _Where) -> None:
        block, round_, exercise, side = where.block, where.round, where.exercise, where.side
        self.events.append(
            Event(start_ms, duration_ms, "speech", text, None, block, round_, exercise, side)
        )

    def tone(self, start_ms: int, tone: ToneName, where: _Where) -> None:
        block, round_, exercise, side = where.block, where.round, where.exercise, where.side
        self.events.append(
            Event(start_ms, TONE_MS[tone], "tone", None, tone, block, round_, exercise, side)
        )


def script_phrases(routine: Routine, *, length_ms: int | None = None) -> list[str]:
    """Every distinct phrase a build of ``routine`` may say, in first-use order."""
    target_ms = length_ms if length_ms is not None else routine.length_ms
    planned = plan(routine, target_ms=target_ms)
    phrases = list(planned.phrases())
    for cues in planned.cues:
        phrases += cues.work_phrases()
    phrases.append(planned.outro)
    return list(dict.fromkeys(phrases))


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

    def last_fit(self, duration_ms: int) -> int | None:
        """The latest start where ``duration_ms`` fits, ending at least GUARD_MS before the end."""
        ends = [self.end_ms - GUARD_MS] + [a - GUARD_MS for a, _ in self.taken]
        for end_ms in sorted(ends, reverse=True):
            if self.fits(end_ms - duration_ms, duration_ms):
                return end_ms - duration_ms
        return None

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
    segment: Segment,
    transition: Transition,
    clip_ms: Callable[[str], int],
    where: _Where,
) -> None:
    cursor_ms = segment.start_ms + transition.lead_ms
    for index, cue in enumerate(transition.cues):
        if index:
            cursor_ms += GAP_MS
        timeline.speech(cursor_ms, clip_ms(cue), cue, where)
        cursor_ms += clip_ms(cue)
        if index == 0 and transition.length_cue:
            cursor_ms += GAP_MS
            if clip_ms(transition.length_cue) <= LENGTH_CUE_MS:
                duration_ms = clip_ms(transition.length_cue)
                timeline.speech(cursor_ms, duration_ms, transition.length_cue, where)
            cursor_ms += LENGTH_CUE_MS
    work_start_ms = segment.end_ms
    countdown_start_ms = work_start_ms - transition.countdown_beats * 1000
    if transition.get_ready:
        duration_ms = clip_ms(transition.get_ready)
        said_ms = countdown_start_ms - 1000 - duration_ms
        if said_ms - cursor_ms >= GET_READY_LEAD_MS:
            timeline.speech(said_ms, duration_ms, transition.get_ready, where)
    for beat in range(transition.countdown_beats, 0, -1):
        timeline.tone(work_start_ms - beat * 1000, "beep", where)


def _render_period(
    timeline: _Timeline,
    segment: Segment,
    transition: Transition,
    clip_ms: Callable[[str], int],
    where: _Where,
) -> None:
    """The rest of an EMOM period: countdown beeps that fit after the end tone, an announcement."""
    placer = _Placer(segment.start_ms + transition.lead_ms, segment.end_ms)
    for beat in range(transition.countdown_beats, 0, -1):
        at_ms = segment.end_ms - beat * 1000
        if at_ms >= segment.start_ms + TONE_MS["end"]:
            timeline.tone(at_ms, "beep", where)
            placer.take(at_ms, TONE_MS["beep"])
    _announce(timeline, placer, transition, clip_ms, where)


def _announce(
    timeline: _Timeline,
    placer: _Placer,
    transition: Transition,
    clip_ms: Callable[[str], int],
    where: _Where,
) -> None:
    """The longest announcement that fits whole, as late as it fits; else nothing."""
    for cues in transition.announcements:
        duration_ms = sum(map(clip_ms, cues)) + GAP_MS * (len(cues) - 1)
        start_ms = placer.last_fit(duration_ms)
        if start_ms is None:
            continue
        placer.take(start_ms, duration_ms)
        for cue in cues:
            timeline.speech(start_ms, clip_ms(cue), cue, where)
            start_ms += clip_ms(cue) + GAP_MS
        return


def _render_work(
    timeline: _Timeline,
    segment: Segment,
    occ: Occurrence,
    cues: Cues,
    clip_ms: Callable[[str], int],
    where: _Where,
) -> None:
    start_ms, work_ms = segment.start_ms, segment.length_ms
    placer = _Placer(start_ms, segment.end_ms)
    timeline.tone(start_ms, "start", where)
    placer.take(start_ms, TONE_MS["start"])
    continuous = segment.then is not None and segment.then.kind == "continuous"
    if not continuous:  # in continuous flow the next start tone marks the boundary
        then = segment.then
        tone: ToneName = "rest" if then is not None and then.rests else "end"
        timeline.tone(segment.end_ms, tone, where)
    if occ.reps is not None:
        counted = dict(cues.counted)
        for rep in range(2, occ.reps + 1):
            at_ms = start_ms + (rep - 1) * occ.timing.rep_ms
            spoken = counted.get(rep)
            if spoken is not None and placer.fits(at_ms, clip_ms(spoken)):
                timeline.speech(at_ms, clip_ms(spoken), spoken, where)
                placer.take(at_ms, clip_ms(spoken))
            else:
                timeline.tone(at_ms, "tick", where)
                placer.take(at_ms, TONE_MS["tick"])
    else:
        beats = occ.timing.countdown_beats
        if work_ms >= (beats + 2) * 1000:
            for beat in range(beats, 0, -1):
                at_ms = start_ms + work_ms - beat * 1000
                timeline.tone(at_ms, "beep", where)
                placer.take(at_ms, TONE_MS["beep"])
    for message in cues.messages:  # at the time the plan says, or not at all
        at_ms, duration_ms = start_ms + message.at_ms, clip_ms(message.text)
        if placer.fits(at_ms, duration_ms):
            timeline.speech(at_ms, duration_ms, message.text, where)
            placer.take(at_ms, duration_ms)
        else:
            timeline.unplaced.append(message)
    for offset_ms, cue in cues.callouts:
        if placer.fits(start_ms + offset_ms, clip_ms(cue)):
            timeline.speech(start_ms + offset_ms, clip_ms(cue), cue, where)
            placer.take(start_ms + offset_ms, clip_ms(cue))
    if continuous:
        assert segment.then is not None
        _announce(timeline, placer, segment.then, clip_ms, where)
    earliest_ms = start_ms + TONE_MS["start"] + 500
    for tip in cues.tips:
        tip_start_ms = placer.first_fit(earliest_ms, clip_ms(tip))
        if tip_start_ms is not None:
            timeline.speech(tip_start_ms, clip_ms(tip), tip, where)
            placer.take(tip_start_ms, clip_ms(tip))
            earliest_ms = tip_start_ms + clip_ms(tip)


def _chapter(occ: Occurrence, cues: Cues, start_ms: int, end_ms: int) -> Chapter:
    """The chapter of one occurrence: its title, and the parts players and cards show."""
    if occ.exercise is None:  # one chapter for a whole AMRAP
        return Chapter(cues.chapter_title, start_ms, end_ms, block=occ.block.name)
    return Chapter(
        title=cues.chapter_title,
        start_ms=start_ms,
        end_ms=end_ms,
        block=occ.block.name,
        exercise=occ.exercise.name,
        prescription=cues.prescription,
        round_label=cues.round_label,
        target=occ.exercise.target,
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
        LengthError: the routine cannot be made that long (see :mod:`workout_audio.timeline.fit`).
    """
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
    measure = measurer(clip_ms)
    routine = planned.routine
    say = phrases_for(routine.language)
    timeline = _Timeline()
    chapters: list[tuple[Occurrence, Cues, int]] = []
    total_ms = 0
    for segment in planned.segments(lengths_ms):
        occ, cues = segment.occurrence, segment.cues
        if occ is None or cues is None:  # the outro, after the last end tone
            outro = planned.plan.outro
            said_ms = segment.start_ms + TONE_MS["end"] + GUARD_MS
            timeline.speech(said_ms, measure(outro), outro, _Where())
            total_ms = segment.end_ms
            continue
        where = _Where(occ.block.name, occ.round, occ.name, segment.side)
        if segment.kind == "transition":
            chapters.append((occ, cues, segment.start_ms))
        transition = segment.transition
        if transition is not None and transition.kind == "period":
            _render_period(timeline, segment, transition, measure, where)
        elif transition is not None and transition.kind != "continuous":
            _render_transition(timeline, segment, transition, measure, where)
        elif transition is None:
            _render_work(timeline, segment, occ, cues, measure, where)

    events = tuple(sorted(timeline.events, key=lambda e: e.start_ms))
    ends = [start for *_, start in chapters[1:]] + [total_ms]
    return Script(
        routine_name=routine.name,
        language=say.language,
        length_ms=total_ms,
        events=events,
        chapters=tuple(
            _chapter(occ, cues, s, e) for (occ, cues, s), e in zip(chapters, ends, strict=True)
        ),
        target_ms=planned.target_ms,
        adjustments=adjustments,
        unplaced=tuple(dict.fromkeys(timeline.unplaced)),
        distances=_distance_notes(routine),
    )


def _distance_notes(routine: Routine) -> tuple[str, ...]:
    """How each move given by distance was timed: at its pace, a range's slower end."""
    notes = []
    for block in routine.blocks:
        for exercise in block.exercises:
            target = exercise.target
            if exercise.distance_m is None or target is None or target.pace is None:
                continue
            pace = target.pace
            steady = replace(pace, first_ms=pace.slower_ms, second_ms=pace.slower_ms)
            slower = format_target(Target(pace=steady))["pace"]
            why = f" (the slower end of {format_target(target)['pace']})" if pace.ranged else ""
            time = format_clock(exercise.time_ms or 0)
            distance = format_distance(exercise.distance_m)
            notes.append(f"{block.name}: {exercise.name}: {distance} at {slower}{why} = {time}")
    return tuple(dict.fromkeys(notes))


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
        "timed_by_pace": list(script.distances),
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


def check_messages(routine: Routine, clip_ms: ClipDurations | None = None) -> None:
    """Refuse messages that find no room at their time: over a countdown, a tone, another
    cue, or past the move's end. Speech is guessed at a typical rate unless measured.

    Raises:
        RoutineErrors: one problem per message, with its line and field.
    """
    if not any(exercise.messages for block in routine.blocks for exercise in block.exercises):
        return
    script = make_script(routine, clip_ms if clip_ms is not None else guessed_speech_ms)
    errors = unplaced_messages(routine, script)
    if errors:
        raise RoutineErrors(errors)


def unplaced_messages(routine: Routine, script: Script) -> list[RoutineError]:
    """A problem, with its line and field, for each of the routine's messages that
    ``script`` (made from it) found no room for at its time."""
    return [
        RoutineError(
            routine.path,
            message.line,
            f"blocks[{b}].exercises[{e}].messages[{m}]",
            f"no room to say {message.text!r} at {format_clock(message.at_ms)}: it would "
            "overlap a countdown, a tone or another cue, or run past the move's end; "
            "move it or shorten it",
        )
        for b, block in enumerate(routine.blocks)
        for e, exercise in enumerate(block.exercises)
        for m, message in enumerate(exercise.messages)
        if message in script.unplaced
    ]
