"""The work a batch hands out, as plain picklable jobs: a voice's phrases, and one track.

Each job is a top-level function of picklable arguments, so a process pool and a
Dask worker on another machine run the very same code; a job never raises for a
problem of its own item (it returns it), so one bad track cannot stop the rest.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError, WorkoutAudioError
from ..pipeline import build
from ..preparation import RoutineLike, prepare
from ..settings import VoiceSettings
from ..speech import SpeechCache, choose_engine, synthesize_phrases
from ..storage.files import PART_SUFFIX, file_facts, write_whole
from ..timeline.phrases import phrases_for
from .manifest import BatchItem

__all__ = [
    "ItemResult",
    "Problem",
    "SpeechJob",
    "build_item",
    "is_up_to_date",
    "remove_leftovers",
    "speak_phrases",
    "speech_jobs",
    "stamp_of",
]

_STAMP_SUFFIX = ".batch-stamp"


@dataclass(frozen=True)
class ItemResult:
    """What became of one item.

    Attributes:
        where: the manifest's ``file:line`` of the item.
        output: the track.
        status: ``built``, ``up to date`` (skipped), ``failed`` or ``cancelled``.
        seconds: the time its build took (0 when skipped or cancelled).
        error: the problem, in one line, when it failed.
    """

    where: str
    output: Path
    status: str
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("built", "up to date")


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


def speech_jobs(items: list[BatchItem]) -> list[SpeechJob]:
    """One job a voice: no two jobs say the same phrase, so no two workers make it."""
    grouped: dict[VoiceSettings, tuple[dict[tuple[Path, int | None], None], dict[str, None]]] = {}
    for item in items:
        voice = dataclasses.replace(item.voice, language=item.language, listener_name=None)
        tracks, names = grouped.setdefault(voice, ({}, {}))
        tracks[(item.routine, item.length_ms)] = None
        if item.listener_name:
            names[item.listener_name] = None
    return [
        SpeechJob(voice, tuple(tracks), tuple(names)) for voice, (tracks, names) in grouped.items()
    ]


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


def build_item(item: BatchItem, cache_dir: Path | None) -> ItemResult:
    """Build one track as ``build`` would, then stamp it; a problem is returned, not raised."""
    started = time.monotonic()
    remove_leftovers((*item.files, _stamp_path(item.output)))
    try:
        build(
            item.routine,
            item.output,
            length_ms=item.length_ms,
            voice=item.voice,
            music=item.music,
            encode=item.encode,
            format=item.format,
            sidecars=item.sidecars,
            cache_dir=cache_dir,
        )
        write_whole(_stamp_path(item.output), stamp_of(item).encode())
    except (WorkoutAudioError, OSError) as error:
        seconds = time.monotonic() - started
        return ItemResult(item.where, item.output, "failed", seconds, str(error))
    return ItemResult(item.where, item.output, "built", time.monotonic() - started)


def stamp_of(item: BatchItem) -> str:
    """What the item's files were made from: the routine's bytes, its music files' sizes and
    times, every setting, and this version; a rerun with the same stamp skips the item."""
    from .. import __version__

    music = item.music.source if item.music is not None else None
    sources = [item.routine, *([music] if music is not None else [])]
    facts = {
        "version": __version__,
        "routine": hashlib.sha256(item.routine.read_bytes()).hexdigest(),
        "files": [file_facts(path) for path in sources],
        "item": repr(dataclasses.replace(item, where="")),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def is_up_to_date(item: BatchItem) -> bool:
    """Every file of the item is there, made from what the item asks for now."""
    try:
        stamp = _stamp_path(item.output).read_text(encoding="ascii")
        return all(path.is_file() for path in item.files) and stamp == stamp_of(item)
    except (OSError, UnicodeDecodeError):
        return False


def remove_leftovers(files: Iterable[Path]) -> None:
    """A worker killed mid-track leaves its temporary files (never the files themselves):
    they go before the track is built again. The track's job is the only writer of its files."""
    for path in files:
        # pending_file's names: .NAME.XXXX.part, or .STEM.XXXX.part.SUFFIX for the encoder
        name, stem, suffix = (glob.escape(part) for part in (path.name, path.stem, path.suffix))
        patterns = (f".{name}.*{PART_SUFFIX}*", f".{stem}.*{PART_SUFFIX}{suffix}")
        for leftover in {p for pattern in patterns for p in path.parent.glob(pattern)}:
            leftover.unlink(missing_ok=True)


def _stamp_path(output: Path) -> Path:
    return output.with_name(f".{output.name}{_STAMP_SUFFIX}")
