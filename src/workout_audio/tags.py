"""ID3v2 tags: title, album, artist, genre, the script as lyrics, one chapter per exercise."""

from __future__ import annotations

from pathlib import Path

from mutagen.id3 import CHAP, CTOC, ID3, TALB, TCON, TIT2, TPE1, USLT, CTOCFlags
from mutagen.id3._tags import save_frame

from .durations import format_clock
from .script import Script

__all__ = ["lyrics_text", "write_tags"]

ARTIST = "workout-audio"
GENRE = "Fitness"


def lyrics_text(script: Script) -> str:
    """Every spoken cue on its own line, with its time: ``[03:15] Round 2 of 3.``."""
    return "\n".join(f"[{format_clock(e.start_ms)}] {e.text}" for e in script.speech())


# ID3 wants ISO 639-2 codes for lyrics.
_LYRICS_LANGUAGE = {"en": "eng", "es": "spa", "fr": "fra", "de": "deu", "it": "ita", "pt": "por"}


class _ChapterOrderedID3(ID3):
    """ID3 that writes CHAP frames in chapter order.

    mutagen orders frames by size, and ffmpeg and some players list chapters
    in file order rather than CTOC order; tests/test_build.py checks the result.
    """

    def _write(self, config: object) -> bytearray:
        chapters = sorted(self.getall("CHAP"), key=lambda frame: frame.start_time)
        self.delall("CHAP")
        try:
            head = super()._write(config)
        finally:
            for frame in chapters:
                self.add(frame)
        frames = bytearray().join(save_frame(frame, config=config) for frame in chapters)
        return bytearray(head) + frames


def write_tags(
    path: Path, script: Script, *, language: str = "en", album: str | None = None
) -> None:
    """Tag the MP3 at ``path`` with ``script``'s title, lyrics and chapters."""
    tags = _ChapterOrderedID3()
    tags.add(TIT2(encoding=3, text=script.routine_name))
    tags.add(TALB(encoding=3, text=album or script.routine_name))
    tags.add(TPE1(encoding=3, text=ARTIST))
    tags.add(TCON(encoding=3, text=GENRE))
    tags.add(
        USLT(
            encoding=3,
            lang=_LYRICS_LANGUAGE.get(language.split("-")[0], "und"),
            desc="",
            text=lyrics_text(script),
        )
    )
    chapter_ids = [f"ch{index}" for index in range(len(script.chapters))]
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=chapter_ids,
            sub_frames=[TIT2(encoding=3, text=script.routine_name)],
        )
    )
    for chapter_id, chapter in zip(chapter_ids, script.chapters, strict=True):
        tags.add(
            CHAP(
                element_id=chapter_id,
                start_time=chapter.start_ms,
                end_time=chapter.end_ms,
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=3, text=chapter.title)],
            )
        )
    tags.save(str(path), v2_version=4)
