"""The work a batch hands out, as plain picklable jobs: one track, and its voices' phrases.

Each job is a top-level function of picklable arguments, so a process pool and a
Dask worker on another machine run the very same code; a job never raises for a
problem of its own item (it returns it), so one bad track cannot stop the rest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkoutAudioError
from ..execution import SpeechJob, remove_leftovers
from ..pipeline import build
from ..settings import VoiceSettings
from ..storage.files import file_facts, write_whole
from .manifest import BatchItem

__all__ = [
    "ItemResult",
    "build_item",
    "is_up_to_date",
    "speech_jobs",
    "stamp_of",
]

_STAMP_SUFFIX = ".batch-stamp"


@dataclass(frozen=True)
class ItemResult:
    """What became of one item.

    Attributes:
        where: the manifest's ``file:line`` of the item.
        output: the track, or a program's folder.
        status: ``built``, ``up to date`` (skipped), ``failed`` or ``cancelled``.
        seconds: the time its build took (0 when skipped or cancelled).
        error: the problem, in one line, when it failed.
        sessions_built: for a program, the sessions made (None for a track).
        sessions_skipped: for a program, the sessions already up to date.
    """

    where: str
    output: Path
    status: str
    seconds: float = 0.0
    error: str | None = None
    sessions_built: int | None = None
    sessions_skipped: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("built", "up to date")


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


def _stamp_path(output: Path) -> Path:
    return output.with_name(f".{output.name}{_STAMP_SUFFIX}")
