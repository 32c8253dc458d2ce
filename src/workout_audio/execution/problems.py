"""A job's own problem, carried back from its worker."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError, WorkoutAudioError

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """A job's own problem, carried back from its worker as text: an exception with
    arguments of its own does not always survive the trip (pickle calls it again)."""

    message: str
    usage: bool  # the input's fault (exit 2), not the machine's

    @classmethod
    def of(cls, error: WorkoutAudioError) -> Problem:
        return cls(str(error), isinstance(error, UsageError))

    def error(self) -> WorkoutAudioError:
        """The problem raised again, in this process."""
        return UsageError(self.message) if self.usage else WorkoutAudioError(self.message)
