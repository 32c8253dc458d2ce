"""Routine -> Plan: the timed moves a watch or a trainer can run in step with the track.

Only a continuous routine keeps its boundaries on a watch: in paused flow the track
waits between moves for cues, and the pauses follow the speech, not the plan. A
move given by reps has no time a watch could count down, so it is refused too.
"""

from __future__ import annotations

from ..errors import RoutineError, UsageError
from ..routine import Exercise, Routine
from .plan import Message, Plan, Section, Step

__all__ = ["steps_of"]


def _refuse(routine: Routine, line: int | None, message: str) -> RoutineError:
    return RoutineError(routine.path, line, "export", message)


def _step(routine: Routine, move: Exercise) -> Step:
    if move.time_ms is None or move.time_by_round_ms:
        raise _refuse(
            routine, move.line, f"{move.name!r} has no single time (reps, or a time per round): "
            "a watch counts time or distance; give it time: or distance:"
        )  # fmt: skip
    if move.per_side:
        raise _refuse(
            routine, move.line, f"{move.name!r} is done per side: a watch step has no side "
            "switch; write each side as a move"
        )  # fmt: skip
    messages = tuple(Message(m.at_ms, m.text) for m in move.messages)
    if move.distance_m is not None:
        return Step(move.name, None, move.distance_m, move.target, messages, move.tips)
    return Step(move.name, move.time_ms, None, move.target, messages, move.tips)


def steps_of(routine: Routine) -> Plan:
    """The routine's blocks as sections of timed steps.

    Raises:
        UsageError: the routine is paused, or has a move or block a watch cannot time.
    """
    if routine.timing.flow != "continuous":
        raise UsageError(
            f"{routine.path}: export needs timing: {{flow: continuous}}: in paused flow the "
            "track waits for its cues between moves, and a watch would run ahead"
        )
    sections = []
    for block in routine.blocks:
        if block.every_ms is not None or block.amrap_ms is not None:
            raise _refuse(
                routine, block.line, f"block {block.name!r} is an EMOM or AMRAP: "
                "its moves have no fixed start a watch could keep"
            )  # fmt: skip
        steps = tuple(_step(routine, move) for move in block.exercises)
        sections.append(Section(block.name, steps, block.rounds, block.role, block.rounds > 1))
    return Plan(routine.name, tuple(sections), source=routine.source or "")
