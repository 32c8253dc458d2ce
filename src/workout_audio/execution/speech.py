"""A voice's phrases made once, before the tracks that say them.

One job a voice, so no two workers synthesise the same phrase; the tracks then
find their speech in the cache every worker shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkoutAudioError
from ..preparation import RoutineLike, prepare
from ..settings import VoiceSettings
from ..speech import SpeechCache, choose_engine, synthesize_phrases
from ..timeline.phrases import phrases_for
from .executors import Executor
from .problems import Problem

__all__ = ["SpeechJob", "speak_all", "speak_phrases"]


@dataclass(frozen=True)
class SpeechJob:
    """Every phrase one voice says across a batch, made once before the tracks.

    Attributes:
        voice: the voice, the listener's name left out.
        tracks: each distinct (routine or its file, length) it speaks: prepared, so the
            phrases a fitted length adds are made here too.
        names: the listeners it greets.
    """

    voice: VoiceSettings
    tracks: tuple[tuple[RoutineLike, int | None], ...]
    names: tuple[str, ...]


def speak_phrases(job: SpeechJob, cache_dir: Path | None) -> int | Problem:
    """Make (or find in the cache) every phrase of ``job``; the count of phrases it holds.

    A problem (a length the routine cannot make, an engine missing) is returned, not
    raised or printed by the worker: a batch's tracks report it themselves, a program
    stops on it, each in one line.
    """
    try:
        count = 0
        for routine, length_ms in job.tracks:
            prepared = prepare(routine, voice=job.voice, length_ms=length_ms, cache_dir=cache_dir)
            count += len(prepared.clips)
        if job.names and job.voice.language is not None:
            say = phrases_for(job.voice.language)
            greetings = [say.say("greeting", name=name) for name in job.names]
            cache = SpeechCache(cache_dir)
            engine, _ = choose_engine(job.voice, job.voice.language, phrases=greetings, cache=cache)
            count += len(synthesize_phrases(engine, greetings, cache))
        return count
    except WorkoutAudioError as error:
        return Problem.of(error)
    except OSError as error:
        return Problem(str(error), usage=False)


def speak_all(
    executor: Executor, jobs: Sequence[SpeechJob], cache_dir: Path | None
) -> list[Problem]:
    """Every voice's phrases made on ``executor``, one job a voice, before any track is
    started: two workers then never synthesise the same phrase. The problems met."""
    results = executor.run(speak_phrases, [(job, cache_dir) for job in jobs])
    return [
        result if isinstance(result, Problem) else Problem(f"speech: {result}", usage=False)
        for result in results
        if not isinstance(result, int)
    ]
