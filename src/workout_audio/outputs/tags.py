"""Tags for each format: title, album, artist, genre, lyrics, a cover, one chapter per set.

MP3 gets ID3v2.3 (synced lyrics, chapters with pictures); M4A gets MP4 atoms
and chapters written by ffmpeg; Opus gets Vorbis comments with CHAPTERxxx entries.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..audio.ffmpeg import run_ffmpeg
from ..durations import format_timestamp
from .sidecars import ARTIST, lrc_lines, lrc_text

if TYPE_CHECKING:
    from ..timeline.script import Script

__all__ = [
    "ARTIST",
    "GENRE",
    "Artwork",
    "Tagger",
    "lyrics_language",
    "write_mp4_tags",
    "write_opus_tags",
    "write_tags",
]

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


class Tagger(Protocol):
    """Tags a finished track of one format (see encode/formats.py) from its script."""

    def __call__(
        self, path: Path, script: Script, *, language: str = ..., artwork: Artwork | None = ...
    ) -> None: ...


@cache
def _chapter_ordered_id3() -> type[Any]:
    """ID3 that writes CHAP frames in chapter order (mutagen loads only when tagging).

    mutagen orders frames by size, and ffmpeg and some players list chapters
    in file order rather than CTOC order; tests/test_build.py checks the result.
    """
    from mutagen.id3 import ID3

    # Private, checked against mutagen 1.48.1: how ID3._write turns one frame into bytes;
    # mutagen has no public way to choose the order frames are written in.
    from mutagen.id3._tags import save_frame

    class ChapterOrderedID3(ID3):
        # Overrides a private method, checked against mutagen 1.48.1: ID3.save calls
        # _write(config) for the frames' bytes, ordered by its own rules.
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

    return ChapterOrderedID3


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
    from mutagen.id3 import (
        APIC,
        CHAP,
        CTOC,
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

    artwork = artwork or Artwork()
    if artwork.chapter_images and len(artwork.chapter_images) != len(script.chapters):
        raise ValueError("one chapter image per chapter, or none")
    lang = lyrics_language(language)
    tags = _chapter_ordered_id3()()
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


def _ffmetadata_escape(text: str) -> str:
    for special in ("\\", "=", ";", "#", "\n"):
        text = text.replace(special, "\\" + special)
    return text


def ffmetadata(script: Script) -> str:
    """The chapters in ffmpeg's metadata file format, times in milliseconds."""
    lines = [";FFMETADATA1", f"title={_ffmetadata_escape(script.routine_name)}"]
    for chapter in script.chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={chapter.start_ms}",
            f"END={chapter.end_ms}",
            f"title={_ffmetadata_escape(chapter.title)}",
        ]
    return "\n".join(lines) + "\n"


def _add_mp4_chapters(path: Path, script: Script) -> None:
    """Copy the audio into a new MP4 with chapters (a chapter track and Nero chpl)."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as folder:
        metadata = Path(folder) / "chapters.txt"
        metadata.write_text(ffmetadata(script), encoding="utf-8")
        chaptered = Path(folder) / f"chaptered{path.suffix}"
        args = [
            "-y", "-i", str(path), "-f", "ffmetadata", "-i", str(metadata),
            "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
            "-c", "copy", "-f", "ipod", str(chaptered),
        ]  # fmt: skip
        run_ffmpeg(args, what="add chapters")
        os.replace(chaptered, path)


def write_mp4_tags(
    path: Path, script: Script, *, language: str = "en", artwork: Artwork | None = None
) -> None:
    """Tag the M4A at ``path``: chapters, title, album, artist, genre, LRC lyrics and cover.

    MP4 has no picture per chapter that players agree on, so only the cover is written.
    """
    from mutagen.mp4 import MP4, MP4Cover

    _add_mp4_chapters(path, script)
    track = MP4(str(path))
    if track.tags is None:
        track.add_tags()
    tags = track.tags
    assert tags is not None
    tags["\xa9nam"] = [script.routine_name]
    tags["\xa9alb"] = [script.routine_name]
    tags["\xa9ART"] = [ARTIST]
    tags["\xa9gen"] = [GENRE]
    tags["\xa9lyr"] = [lrc_text(script)]
    if artwork and artwork.cover is not None:
        image_format = MP4Cover.FORMAT_PNG if artwork.mime == "image/png" else MP4Cover.FORMAT_JPEG
        tags["covr"] = [MP4Cover(artwork.cover, imageformat=image_format)]
    track.save()


def write_opus_tags(
    path: Path, script: Script, *, language: str = "en", artwork: Artwork | None = None
) -> None:
    """Tag the Opus file at ``path``: Vorbis comments with chapters, LRC lyrics and a cover."""
    from mutagen.flac import Picture
    from mutagen.id3 import PictureType
    from mutagen.oggopus import OggOpus

    track = OggOpus(str(path))
    tags = track.tags
    assert tags is not None  # an Opus stream always has its comment header
    tags["TITLE"] = script.routine_name
    tags["ALBUM"] = script.routine_name
    tags["ARTIST"] = ARTIST
    tags["GENRE"] = GENRE
    tags["LANGUAGE"] = lyrics_language(language)
    tags["LYRICS"] = lrc_text(script)
    for number, chapter in enumerate(script.chapters, start=1):  # the Vorbis chapter extension
        tags[f"CHAPTER{number:03d}"] = format_timestamp(chapter.start_ms)
        tags[f"CHAPTER{number:03d}NAME"] = chapter.title
    if artwork and artwork.cover is not None:
        picture = Picture()
        picture.type = PictureType.COVER_FRONT
        picture.mime = artwork.mime
        picture.desc = "Cover"
        picture.data = artwork.cover
        tags["METADATA_BLOCK_PICTURE"] = base64.b64encode(picture.write()).decode("ascii")
    track.save()
