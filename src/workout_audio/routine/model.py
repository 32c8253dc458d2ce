"""The routine as loaded: immutable dataclasses, every timing resolved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from ..settings import MusicSettings
from .targets import Target

__all__ = [
    "DEFAULT_TIMING",
    "PERIOD_REST_MS",
    "REST_KINDS",
    "TONE_NAMES",
    "Block",
    "BlockRole",
    "Exercise",
    "Flow",
    "RestKind",
    "Rests",
    "Routine",
    "Side",
    "Sound",
    "TimedMessage",
    "Timing",
    "ToneName",
]

PERIOD_REST_MS = 1_000  # the least of an EMOM period its work must leave

RestKind = Literal["exercise", "round", "block"]  # what a rest comes after
REST_KINDS: tuple[RestKind, ...] = get_args(RestKind)
Side = Literal["left", "right"]
Flow = Literal["paused", "continuous"]  # continuous: each interval starts as the last ends
BlockRole = Literal["warmup", "main", "cooldown"]  # warmup and cooldown lose rounds last
ToneName = Literal["beep", "start", "end", "rest", "tick"]  # what a routine's sounds may replace
TONE_NAMES: tuple[ToneName, ...] = get_args(ToneName)


@dataclass(frozen=True)
class Rests:
    """Rest lengths: after an exercise, after a round, after a block. 0 means no rest.

    Each may carry the range a target length may move it in (``30s..90s``);
    without one it may move from half to double its length.
    """

    exercise_ms: int
    round_ms: int
    block_ms: int
    exercise_range_ms: tuple[int, int] | None = None
    round_range_ms: tuple[int, int] | None = None
    block_range_ms: tuple[int, int] | None = None

    def after(self, kind: RestKind) -> int:
        """The rest after an exercise, a round or a block, as written."""
        if kind == "exercise":
            return self.exercise_ms
        return self.round_ms if kind == "round" else self.block_ms

    def range_ms(self, kind: RestKind) -> tuple[int, int]:
        """The shortest and longest a rest of ``kind`` may become."""
        if kind == "exercise":
            written = self.exercise_range_ms
        else:
            written = self.round_range_ms if kind == "round" else self.block_range_ms
        if written is not None:
            return written
        nominal_ms = self.after(kind)
        return nominal_ms // 2, nominal_ms * 2


@dataclass(frozen=True)
class Timing:
    """Timing in force for one exercise, resolved routine -> block -> exercise."""

    rep_ms: int
    switch_sides_ms: int
    rest: Rests
    countdown_beats: int
    flow: Flow = "paused"


@dataclass(frozen=True)
class TimedMessage:
    """A text spoken ``at_ms`` after the move starts (a plan's cue text, Zwift's textevent)."""

    at_ms: int
    text: str
    line: int


@dataclass(frozen=True)
class Exercise:
    """One move as written: a hold (``time_ms``, per side if ``per_side``) or ``reps``.

    A value given per round (``reps: [2, 4, 6]``) is in ``reps_by_round`` or
    ``time_by_round_ms`` instead, one value a round. A move given by ``distance_m``
    has the time its pace target takes for it in ``time_ms``.
    """

    name: str
    time_ms: int | None
    reps: int | None
    per_side: bool
    first_side: Side
    tips: tuple[str, ...]
    timing: Timing
    line: int
    flex: bool = True  # False pins its hold or tempo when a target length is solved
    time_by_round_ms: tuple[int, ...] = ()
    reps_by_round: tuple[int, ...] = ()
    target: Target | None = None
    distance_m: float | None = None
    messages: tuple[TimedMessage, ...] = ()

    @property
    def counted(self) -> bool:
        """Whether the move is counted in reps (else it is held for a time)."""
        return self.reps is not None or bool(self.reps_by_round)

    @property
    def by_round(self) -> bool:
        """Whether its value changes from round to round."""
        return bool(self.reps_by_round or self.time_by_round_ms)

    def reps_in(self, round_number: int) -> int | None:
        """The reps of one round (counted from 1), or None for a hold."""
        if self.reps_by_round:
            return self.reps_by_round[round_number - 1]
        return self.reps

    def span_in_ms(self, round_number: int) -> int:
        """One round from first start tone to last end tone: both sides and the switch."""
        work_ms = self.work_in_ms(round_number)
        return 2 * work_ms + self.timing.switch_sides_ms if self.per_side else work_ms

    def work_in_ms(self, round_number: int) -> int:
        """Work time of one side in one round: the hold, or reps x tempo."""
        if self.time_by_round_ms:
            return self.time_by_round_ms[round_number - 1]
        if self.time_ms is not None:
            return self.time_ms
        reps = self.reps_in(round_number)
        assert reps is not None  # loading guarantees a time or reps
        return reps * self.timing.rep_ms


@dataclass(frozen=True)
class Block:
    """A group of exercises done for ``rounds`` rounds (a warmup, a superset, a circuit)."""

    name: str
    rounds: int
    exercises: tuple[Exercise, ...]
    timing: Timing
    line: int
    rounds_fixed: bool = False  # True: a target length never adds or drops rounds here
    role: BlockRole = "main"
    every_ms: int | None = None  # EMOM: each exercise starts on the next period of this length
    amrap_ms: int | None = None  # AMRAP: one self-paced interval of this length
    flex: bool = True  # False pins its periods, cap, holds and tempo when a length is solved

    @property
    def continuous(self) -> bool:
        """Whether its intervals follow each other without a pause (run/walk)."""
        return self.timing.flow == "continuous"

    @property
    def repeatable(self) -> bool:
        """Whether a target length may add or drop rounds (never a ladder's: its values are set)."""
        if self.rounds_fixed or self.amrap_ms is not None:
            return False
        return not any(e.by_round for e in self.exercises)


@dataclass(frozen=True)
class Sound:
    """A routine's own sound file for one tone (``start``, ``rest``, ...)."""

    tone: ToneName
    path: Path
    line: int | None


@dataclass(frozen=True)
class Routine:
    """A whole workout, validated; ``path`` and ``length_line`` let later errors cite the file."""

    name: str
    blocks: tuple[Block, ...]
    timing: Timing
    length_ms: int | None
    language: str
    equipment: tuple[str, ...]
    source: str | None
    path: str
    length_line: int | None = None
    language_line: int | None = None
    music: MusicSettings | None = None
    sounds: tuple[Sound, ...] = ()  # files that replace generated tones
    listener_name: str | None = None  # greeted in the intro ("Let's go, Maria."); not in the file


DEFAULT_TIMING = Timing(
    rep_ms=3_000,
    switch_sides_ms=5_000,
    rest=Rests(exercise_ms=15_000, round_ms=45_000, block_ms=60_000),
    countdown_beats=3,
)
