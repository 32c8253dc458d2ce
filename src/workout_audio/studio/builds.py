"""Builds started from the page: one at a time per routine, each in a thread of its own,
its progress kept as a list of events that any number of listeners can read to the end."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import WorkoutAudioError

__all__ = ["Build", "BuildBusy", "Builds"]

log = logging.getLogger(__name__)

Event = dict[str, Any]  # "stage", "done", "total" while it runs; then "finished" or "failed"


class BuildBusy(WorkoutAudioError):
    """A build of this routine is already running: answered, not queued."""

    exit_code = 2


@dataclass
class Build:
    """One build's events so far; ``ended`` once it finished or failed."""

    routine: str
    events: list[Event] = field(default_factory=list)
    ended: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, event: Event, *, last: bool = False) -> None:
        with self._lock:
            self.events.append(event)
            self.ended = self.ended or last

    def since(self, seen: int) -> tuple[list[Event], bool]:
        """The events after the first ``seen``, and whether no more will come."""
        with self._lock:
            return self.events[seen:], self.ended


class Builds:
    """The builds of the studio's routines, keyed by the routine's path in the folder."""

    def __init__(self) -> None:
        self._builds: dict[str, Build] = {}
        self._lock = threading.Lock()

    def get(self, routine: str) -> Build | None:
        with self._lock:
            return self._builds.get(routine)

    def start(
        self, routine: str, work: Callable[[Callable[[str, int, int], None]], Event]
    ) -> Build:
        """Run ``work(progress)`` in a thread; its answer is the last event.

        Raises:
            BuildBusy: this routine's previous build has not ended.
        """
        with self._lock:
            running = self._builds.get(routine)
            if running is not None and not running.ended:
                raise BuildBusy(f"{routine}: a build of this routine is already running")
            build = self._builds[routine] = Build(routine)

        def progress(stage: str, done: int, total: int) -> None:
            build.add({"stage": stage, "done": done, "total": total})

        def run() -> None:
            try:
                answer = work(progress)
            except WorkoutAudioError as error:
                build.add({"failed": str(error)}, last=True)
            except OSError as error:
                build.add({"failed": f"{error.filename or routine}: {error.strerror}"}, last=True)
            except Exception as error:  # a bug must not take the studio down with it
                log.exception("the build of %s failed", routine)
                build.add(
                    {"failed": f"{routine}: the build failed unexpectedly: {error}"}, last=True
                )
            else:
                build.add({"finished": answer}, last=True)

        threading.Thread(target=run, name=f"build {routine}", daemon=True).start()
        return build
