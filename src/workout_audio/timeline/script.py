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
from dataclasses import dataclass, field

from ..routine import Routine
from .fit import fit_length
from .layout import (
    GAP_MS,
    GUARD_MS,
    LENGTH_CUE_MS,
    TONE_MS,
    ClipDurations,
    Layout,
    Occurrence,
    Segment,
    Transition,
    layout,
    measurer,
    plan,
    prescription,
)
from .phrases import Phrases, phrases_for

__all__ = [
    "TONE_MS",
    "Chapter",
    "Event",
    "Script",
    "make_script",
    "schedule",
    "script_as_json",
    "script_phrases",
]

_REST_KINDS = ("exercise", "round", "block")  # transitions that rest after the work
COUNTED_REPS = 3  # the last reps are counted aloud
HALFWAY_MIN_MS = 40_000  # holds this long get a "Halfway." cue
TIME_LEFT_MS = 10_000  # "10 seconds left." ...
TIME_LEFT_MIN_MS = 25_000  # ... on holds at least this long
GET_READY_LEAD_MS = 15_000  # rests with this much silence get a "Get ready" reminder
AMRAP_TIME_LEFT_MS = (10_000, 30_000, 60_000)  # "1 minute left." ... on caps twice as long
AMRAP_HALFWAY_MIN_MS = 120_000
AMRAP_LONG_MS = 600_000  # caps longer than this hear every 5 minutes left
AMRAP_MARK_MS = 300_000


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


@dataclass
class _Timeline:
    """Events under construction, with the context stamped on each."""

    events: list[Event] = field(default_factory=list)

    def add(self, start_ms: int, duration_ms: int, kind: str, **context: object) -> None:
        self.events.append(Event(start_ms, duration_ms, kind, **context))  # type: ignore[arg-type]


def _callouts(occ: Occurrence, say: Phrases) -> list[tuple[int, str]]:
    """Timed cues during a hold or an AMRAP, as (offset, phrase), most important first."""
    work_ms = occ.work_ms

    def left(left_ms: int) -> tuple[int, str]:
        return work_ms - left_ms, say.say("time_left", time=say.duration(left_ms))

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


def _counted_reps(reps: int) -> range:
    """The reps counted aloud (where they fit); the others tick."""
    return range(max(2, reps - COUNTED_REPS + 1), reps + 1)


def _work_phrases(occ: Occurrence, say: Phrases) -> list[str]:
    """Every phrase that may be said during an occurrence's work."""
    phrases = list(occ.exercise.tips) if occ.exercise is not None else []
    if occ.reps is not None:
        phrases += [str(n) for n in _counted_reps(occ.reps)]
    else:
        phrases += [text for _, text in _callouts(occ, say)]
    return phrases


def script_phrases(routine: Routine, *, length_ms: int | None = None) -> list[str]:
    """Every distinct phrase a build of ``routine`` may say, in first-use order."""
    say = phrases_for(routine.language)
    target_ms = length_ms if length_ms is not None else routine.length_ms
    planned = plan(routine, target_ms=target_ms)
    phrases = list(planned.phrases())
    for occ in planned.occurrences:
        phrases += _work_phrases(occ, say)
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
    context: dict[str, object],
) -> None:
    cursor_ms = segment.start_ms + transition.lead_ms
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
    work_start_ms = segment.end_ms
    countdown_start_ms = work_start_ms - transition.countdown_beats * 1000
    if transition.get_ready:
        duration_ms = clip_ms(transition.get_ready)
        said_ms = countdown_start_ms - 1000 - duration_ms
        if said_ms - cursor_ms >= GET_READY_LEAD_MS:
            timeline.add(said_ms, duration_ms, "speech", text=transition.get_ready, **context)
    for beat in range(transition.countdown_beats, 0, -1):
        timeline.add(work_start_ms - beat * 1000, TONE_MS["beep"], "tone", tone="beep", **context)


def _render_period(
    timeline: _Timeline,
    segment: Segment,
    transition: Transition,
    clip_ms: Callable[[str], int],
    context: dict[str, object],
) -> None:
    """The rest of an EMOM period: countdown beeps that fit after the end tone, an announcement."""
    placer = _Placer(segment.start_ms + transition.lead_ms, segment.end_ms)
    for beat in range(transition.countdown_beats, 0, -1):
        at_ms = segment.end_ms - beat * 1000
        if at_ms >= segment.start_ms + TONE_MS["end"]:
            timeline.add(at_ms, TONE_MS["beep"], "tone", tone="beep", **context)
            placer.take(at_ms, TONE_MS["beep"])
    _announce(timeline, placer, transition, clip_ms, context)


def _announce(
    timeline: _Timeline,
    placer: _Placer,
    transition: Transition,
    clip_ms: Callable[[str], int],
    context: dict[str, object],
) -> None:
    """The longest announcement that fits whole, as late as it fits; else nothing."""
    for cues in transition.announcements:
        duration_ms = sum(map(clip_ms, cues)) + GAP_MS * (len(cues) - 1)
        start_ms = placer.last_fit(duration_ms)
        if start_ms is None:
            continue
        placer.take(start_ms, duration_ms)
        for cue in cues:
            timeline.add(start_ms, clip_ms(cue), "speech", text=cue, **context)
            start_ms += clip_ms(cue) + GAP_MS
        return


def _render_work(
    timeline: _Timeline,
    segment: Segment,
    occ: Occurrence,
    say: Phrases,
    clip_ms: Callable[[str], int],
    context: dict[str, object],
) -> None:
    start_ms, work_ms = segment.start_ms, segment.length_ms
    placer = _Placer(start_ms, segment.end_ms)
    timeline.add(start_ms, TONE_MS["start"], "tone", tone="start", **context)
    placer.take(start_ms, TONE_MS["start"])
    continuous = segment.then is not None and segment.then.kind == "continuous"
    if not continuous:  # in continuous flow the next start tone marks the boundary
        then = segment.then
        rest_follows = then is not None and then.kind in _REST_KINDS and then.rest_ms > 0
        tone = "rest" if rest_follows else "end"
        timeline.add(segment.end_ms, TONE_MS[tone], "tone", tone=tone, **context)
    if occ.reps is not None:
        counted = _counted_reps(occ.reps)
        for rep in range(2, occ.reps + 1):
            at_ms = start_ms + (rep - 1) * occ.timing.rep_ms
            spoken = str(rep)
            if rep in counted and placer.fits(at_ms, clip_ms(spoken)):
                timeline.add(at_ms, clip_ms(spoken), "speech", text=spoken, **context)
                placer.take(at_ms, clip_ms(spoken))
            else:
                timeline.add(at_ms, TONE_MS["tick"], "tone", tone="tick", **context)
                placer.take(at_ms, TONE_MS["tick"])
    else:
        beats = occ.timing.countdown_beats
        if work_ms >= (beats + 2) * 1000:
            for beat in range(beats, 0, -1):
                at_ms = start_ms + work_ms - beat * 1000
                timeline.add(at_ms, TONE_MS["beep"], "tone", tone="beep", **context)
                placer.take(at_ms, TONE_MS["beep"])
        for offset_ms, cue in _callouts(occ, say):
            if placer.fits(start_ms + offset_ms, clip_ms(cue)):
                timeline.add(start_ms + offset_ms, clip_ms(cue), "speech", text=cue, **context)
                placer.take(start_ms + offset_ms, clip_ms(cue))
    if continuous:
        assert segment.then is not None
        _announce(timeline, placer, segment.then, clip_ms, context)
    earliest_ms = start_ms + TONE_MS["start"] + 500
    for tip in occ.exercise.tips if occ.exercise is not None else ():
        tip_start_ms = placer.first_fit(earliest_ms, clip_ms(tip))
        if tip_start_ms is not None:
            timeline.add(tip_start_ms, clip_ms(tip), "speech", text=tip, **context)
            placer.take(tip_start_ms, clip_ms(tip))
            earliest_ms = tip_start_ms + clip_ms(tip)


def _chapter(occ: Occurrence, say: Phrases, start_ms: int, end_ms: int) -> Chapter:
    """The chapter of one occurrence: its title, and the parts players and cards show."""
    if occ.exercise is None:  # one chapter for a whole AMRAP
        return Chapter(occ.block.name, start_ms, end_ms, block=occ.block.name)
    round_label = None
    if occ.block.rounds > 1:
        round_label = say.say("chapter_round", number=occ.round, total=occ.block.rounds)
    parts = [occ.block.name, *filter(None, [round_label]), occ.exercise.name]
    return Chapter(
        title=" · ".join(parts),
        start_ms=start_ms,
        end_ms=end_ms,
        block=occ.block.name,
        exercise=occ.exercise.name,
        prescription=prescription(occ, say),
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
    chapters: list[tuple[Occurrence, int]] = []
    total_ms = 0
    for segment in planned.segments(lengths_ms):
        occ = segment.occurrence
        if occ is None:  # the outro, after the last end tone
            outro = planned.plan.outro
            said_ms = segment.start_ms + TONE_MS["end"] + GUARD_MS
            timeline.add(said_ms, measure(outro), "speech", text=outro)
            total_ms = segment.end_ms
            continue
        context: dict[str, object] = {
            "block": occ.block.name,
            "round": occ.round,
            "exercise": occ.name,
        }
        if segment.kind == "transition":
            chapters.append((occ, segment.start_ms))
        if segment.kind != "transition":
            context["side"] = segment.side
        transition = segment.transition
        if transition is not None and transition.kind == "period":
            _render_period(timeline, segment, transition, measure, context)
        elif transition is not None and transition.kind != "continuous":
            _render_transition(timeline, segment, transition, measure, context)
        elif transition is None:
            _render_work(timeline, segment, occ, say, measure, context)

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
