"""Files written beside the track: synced lyrics, subtitles, a CUE sheet, the script, chapters.

Each is text made from the Script alone, so its times are the track's times:
LRC to 10 ms, SRT and WebVTT to the millisecond, CUE to its 1/75 s frames.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..durations import format_timestamp
from ..errors import UsageError
from ..storage.files import write_whole

if TYPE_CHECKING:  # the command line lists the names without loading the timeline
    from ..timeline.script import Script

__all__ = [
    "DEFAULT_SIDECARS",
    "SIDECARS",
    "Sidecar",
    "TrackInfo",
    "cue_sheet",
    "lrc_lines",
    "lrc_text",
    "parse_sidecars",
    "podcast_chapters",
    "sidecar_paths",
    "srt_text",
    "vtt_text",
    "write_sidecars",
]

log = logging.getLogger(__name__)

ARTIST = "workout-audio"
CUE_FRAMES_PER_S = 75
CUE_MAX_TRACKS = 99  # the CUE sheet format numbers tracks 01 to 99


@dataclass(frozen=True)
class TrackInfo:
    """What a sidecar may say about the track it sits beside."""

    path: Path
    engine: str = ""  # the voice that spoke it, as the script's JSON names it


def _lrc_stamp(at_ms: int) -> str:
    centis = (at_ms + 5) // 10  # to the nearest 10 ms
    minutes, centis = divmod(centis, 6000)
    return f"[{minutes:02d}:{centis // 100:02d}.{centis % 100:02d}]"


def lrc_lines(script: Script) -> list[tuple[int, str]]:
    """Every spoken cue with its start: what synced lyrics show, in order."""
    return [(event.start_ms, event.text or "") for event in script.speech()]


def lrc_text(script: Script) -> str:
    """The spoken cues as LRC: ``[03:15.20]Round 2 of 3.``, one line each."""
    lines = [f"{_lrc_stamp(at_ms)}{text}" for at_ms, text in lrc_lines(script)]
    return "\n".join(lines) + "\n"


def _lrc_file(script: Script, track: TrackInfo) -> str:
    length = _lrc_stamp(script.length_ms)[1:-1].split(".")[0]
    head = [f"[ti:{script.routine_name}]", f"[ar:{ARTIST}]", f"[length:{length}]"]
    return "\n".join(head) + "\n" + lrc_text(script)


def srt_text(script: Script, track: TrackInfo | None = None) -> str:
    """The spoken cues as SubRip subtitles, each shown while it is said."""
    blocks = [
        f"{number}\n{format_timestamp(e.start_ms, ',')} --> {format_timestamp(e.end_ms, ',')}\n"
        f"{e.text}\n"
        for number, e in enumerate(script.speech(), start=1)
    ]
    return "\n".join(blocks)


def vtt_text(script: Script, track: TrackInfo | None = None) -> str:
    """The spoken cues as WebVTT subtitles, each shown while it is said."""
    cues = [
        f"{format_timestamp(e.start_ms)} --> {format_timestamp(e.end_ms)}\n"
        f"{_vtt_escape(e.text or '')}\n"
        for e in script.speech()
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cue_quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def _cue_index(at_ms: int) -> str:
    frames = (at_ms * CUE_FRAMES_PER_S + 500) // 1000  # the nearest frame: within 6.7 ms
    seconds, frame = divmod(frames, CUE_FRAMES_PER_S)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes:02d}:{seconds:02d}:{frame:02d}"


def cue_sheet(script: Script, track: TrackInfo) -> str:
    """A CUE sheet: one TRACK with one INDEX per chapter, for players that split by cue."""
    file_type = "MP3" if track.path.suffix.lower() == ".mp3" else "WAVE"
    chapters = script.chapters
    if len(chapters) > CUE_MAX_TRACKS:
        log.warning(
            "%s: the CUE sheet holds the first %d of %d chapters (its format stops at 99)",
            track.path.with_suffix(".cue"),
            CUE_MAX_TRACKS,
            len(chapters),
        )
        chapters = chapters[:CUE_MAX_TRACKS]
    lines = [
        f"PERFORMER {_cue_quote(ARTIST)}",
        f"TITLE {_cue_quote(script.routine_name)}",
        f"FILE {_cue_quote(track.path.name)} {file_type}",
    ]
    for number, chapter in enumerate(chapters, start=1):
        lines += [
            f"  TRACK {number:02d} AUDIO",
            f"    TITLE {_cue_quote(chapter.title)}",
            f"    PERFORMER {_cue_quote(ARTIST)}",
            f"    INDEX 01 {_cue_index(chapter.start_ms)}",
        ]
    return "\r\n".join(lines) + "\r\n"


def podcast_chapters(script: Script, track: TrackInfo | None = None) -> str:
    """Podcasting 2.0 JSON chapters (``version`` 1.2.0), times in seconds."""
    document = {
        "version": "1.2.0",
        "title": script.routine_name,
        "author": ARTIST,
        "chapters": [
            {
                "startTime": chapter.start_ms / 1000,
                "endTime": chapter.end_ms / 1000,
                "title": chapter.title,
            }
            for chapter in script.chapters
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _script_json(script: Script, track: TrackInfo) -> str:
    from ..timeline.script import script_as_json

    return json.dumps(script_as_json(script, track.engine), indent=2) + "\n"


@dataclass(frozen=True)
class Sidecar:
    """One kind of file beside the track."""

    name: str
    suffix: str  # replaces the track's suffix: track.mp3 -> track.lrc
    make: Callable[[Script, TrackInfo], str]
    description: str


SIDECARS: dict[str, Sidecar] = {
    s.name: s
    for s in [
        Sidecar("lrc", ".lrc", _lrc_file, "synced lyrics (LRC, 10 ms)"),
        Sidecar("srt", ".srt", srt_text, "SubRip subtitles"),
        Sidecar("vtt", ".vtt", vtt_text, "WebVTT subtitles"),
        Sidecar("cue", ".cue", cue_sheet, "a CUE sheet, one INDEX per chapter"),
        Sidecar("json", ".json", _script_json, "the script, as `script --format json`"),
        Sidecar("chapters", ".chapters.json", podcast_chapters, "Podcasting 2.0 JSON chapters"),
    ]
}
DEFAULT_SIDECARS = ("lrc",)


def parse_sidecars(value: str) -> tuple[str, ...]:
    """``"lrc,srt"`` -> ``("lrc", "srt")``; ``"none"`` -> ``()``.

    Raises:
        UsageError: an unknown name (the message lists the valid ones).
    """
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    if names == ["none"]:
        return ()
    unknown = [name for name in names if name not in SIDECARS]
    if unknown or not names:
        valid = ", ".join([*SIDECARS, "none"])
        what = f"unknown sidecar {unknown[0]!r}" if unknown else "give at least one name"
        raise UsageError(f"--sidecars: {what}; choose from {valid}")
    return tuple(dict.fromkeys(names))


def sidecar_paths(track: Path, names: Iterable[str]) -> list[Path]:
    """Where each named sidecar of ``track`` goes: beside it, same stem."""
    return [track.with_suffix(SIDECARS[name].suffix) for name in names]


def write_sidecars(script: Script, track: TrackInfo, names: Iterable[str]) -> list[Path]:
    """Write each named sidecar beside ``track.path``, each whole or not at all.

    Raises:
        StorageError: a file could not be written (disk full, no permission, ...).
    """
    written = []
    for name in names:
        sidecar = SIDECARS[name]
        path = track.path.with_suffix(sidecar.suffix)
        write_whole(path, sidecar.make(script, track).encode("utf-8"))
        written.append(path)
    return written
