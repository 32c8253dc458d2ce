"""Routine -> its occurrences: each work interval as it is done, in order.

An *occurrence* is an exercise in one round of its block, or a whole AMRAP. The
layout times them and the cue wording speaks of them; both start from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..routine import Block, Exercise, Routine, Side, Timing

__all__ = ["Occurrence", "occurrences"]


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
    def sides(self) -> tuple[Side | None, ...]:
        """The sides in order, or ``(None,)`` for a move done once."""
        if self.exercise is None or not self.exercise.per_side:
            return (None,)
        first = self.exercise.first_side
        return (first, "right" if first == "left" else "left")


def occurrences(routine: Routine) -> tuple[Occurrence, ...]:
    """Every work interval of ``routine`` in the order it is done."""
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
