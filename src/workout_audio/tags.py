"""ID3v2 tags: title, album, artist, genre, synced lyrics, a cover, one chapter per exercise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    CTOC,
    ID3,
    SYLT,
    TALB,
    TCON,
    TIT2,
    TLEN,
    TPE1,
    USLT,
    CTOCFlags,
    Encoding,
    PictureType,
)
from mutagen.id3._tags import save_frame

from .script import Script
from .sidecars import ARTIST, lrc_lines, lrc_text

__all__ = ["ARTIST", "GENRE", "Artwork", "lyrics_language", "write_tags"]

GENRE = "Fitness"
_MS_TIMESTAMPS = 2  # SYLT's timestamp format: absolute milliseconds
_LYRICS_CONTENT = 1  # SYLT's content type: lyrics

# ID3 and MP4 want ISO 639-2 codes for lyrics.
_LYRICS_LANGUAGE = {"en": "eng", "es": "spa", "fr": "fra", "de": "deu", "it": "ita", "pt": "por"}


def lyrics_language(language: str) -> str:
    """``"en-GB"`` -> ``"eng"``: the ISO 639-2 code tags want, ``"und"`` when unknown."""
    return _LYRICS_LANGUAGE.get(language.split("-")[0].lower(), "und")


@dataclass(frozen=True)
class Artwork:
    """Pictures for the tags: a front cover and one image per chapter (may be empty)."""

    cover: bytes | None = None
    chapter_images: Sequence[bytes] = ()
    mime: str = "image/png"


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
    path: Path,
    script: Script,
    *,
    language: str = "en",
    album: str | None = None,
    artwork: Artwork | None = None,
) -> None:
    """Tag the MP3 at ``path`` with ``script``'s title, lyrics, chapters and pictures.

    The cues go in twice: as SYLT (synchronised, in milliseconds) and as LRC
    text in USLT, which players such as Musicolet and Poweramp read instead.
    """
    artwork = artwork or Artwork()
    if artwork.chapter_images and len(artwork.chapter_images) != len(script.chapters):
        raise ValueError("one chapter image per chapter, or none")
    lang = lyrics_language(language)
    tags = _ChapterOrderedID3()
    tags.add(TIT2(encoding=Encoding.UTF8, text=script.routine_name))
    tags.add(TALB(encoding=Encoding.UTF8, text=album or script.routine_name))
    tags.add(TPE1(encoding=Encoding.UTF8, text=ARTIST))
    tags.add(TCON(encoding=Encoding.UTF8, text=GENRE))
    tags.add(TLEN(encoding=Encoding.UTF8, text=str(script.length_ms)))
    tags.add(USLT(encoding=Encoding.UTF8, lang=lang, desc="", text=lrc_text(script)))
    tags.add(
        SYLT(
            encoding=Encoding.UTF8,
            lang=lang,
            format=_MS_TIMESTAMPS,
            type=_LYRICS_CONTENT,
            desc="",
            text=[(text, at_ms) for at_ms, text in lrc_lines(script)],
        )
    )
    if artwork.cover is not None:
        tags.add(
            APIC(
                encoding=Encoding.UTF8,
                mime=artwork.mime,
                type=PictureType.COVER_FRONT,
                desc="Cover",
                data=artwork.cover,
            )
        )
    images: Sequence[bytes | None] = artwork.chapter_images or [None] * len(script.chapters)
    chapter_ids = [f"ch{index}" for index in range(len(script.chapters))]
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=chapter_ids,
            sub_frames=[TIT2(encoding=Encoding.UTF8, text=script.routine_name)],
        )
    )
    for chapter_id, chapter, image in zip(chapter_ids, script.chapters, images, strict=True):
        sub_frames: list[object] = [TIT2(encoding=Encoding.UTF8, text=chapter.title)]
        if image is not None:
            sub_frames.append(
                APIC(
                    encoding=Encoding.UTF8,
                    mime=artwork.mime,
                    type=PictureType.OTHER,
                    desc=chapter_id,
                    data=image,
                )
            )
        tags.add(
            CHAP(
                element_id=chapter_id,
                start_time=chapter.start_ms,
                end_time=chapter.end_ms,
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=sub_frames,
            )
        )
    # ID3v2.3, not 2.4: ffmpeg (and the players built on it) read a chapter's sub-frame
    # sizes as plain integers, as 2.3 writes them, so 2.4 chapters with pictures vanish.
    tags.save(str(path), v2_version=3)
