"""A track's pictures kept in the cache, so a rebuild draws nothing and loads no Pillow.

An entry is keyed by all that the pictures show (the routine's name, the track's
length, every chapter) and by the drawing code and its fonts, so a change to any
of them draws afresh. Entries live in the ``art/`` folder of the cache root under its
scheme (:mod:`..storage.cache`: written whole, touched when used, pruned least recently
used first with the rest of the root); besides, only the newest KEEP_ENTRIES are kept, as
a picture entry is big and a routine rarely needs more. A cache that cannot be written
only costs drawing again.
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
from pathlib import Path

from ..storage.cache import touch, write_entry
from ..timeline.script import Script
from .tags import Artwork

__all__ = ["KEEP_ENTRIES", "cached_artwork"]

KEEP_ENTRIES = 32  # a routine's lengths and languages; a few MB each
_ART_SOURCES = [Path(__file__).with_name("art.py"), Path(__file__).with_name("fonts")]
_LENGTH = struct.Struct(">I")


def cached_artwork(script: Script, chapter_images: bool, folder: Path) -> Artwork:
    """The cover and chapter cards of ``script``: from ``folder`` (the cache root's ``art/``)
    if drawn before, else drawn (see :func:`workout_audio.outputs.art.artwork`) and kept there.
    """
    path = folder / f"{_key(script, chapter_images)}.art"
    with contextlib.suppress(OSError, ValueError, struct.error):
        found = _unpacked(path.read_bytes())
        touch(path)  # now among the newest
        return found
    from .art import artwork  # Pillow loads only to draw

    drawn = artwork(script, chapter_images=chapter_images)
    if write_entry(path, _packed(drawn)):
        with contextlib.suppress(OSError):
            _prune(folder)
    return drawn


def _key(script: Script, chapter_images: bool) -> str:
    digest = hashlib.sha256()
    for source in _ART_SOURCES:
        for file in sorted(source.iterdir()) if source.is_dir() else [source]:
            stat = file.stat()
            digest.update(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    shown = (script.routine_name, script.length_ms, script.chapters, chapter_images)
    digest.update(repr(shown).encode())
    return digest.hexdigest()[:32]


def _packed(art: Artwork) -> bytes:
    """The mime type, the cover and each card, each behind its length."""
    pieces = [art.mime.encode(), art.cover or b"", *art.chapter_images]
    return b"".join(_LENGTH.pack(len(piece)) + piece for piece in pieces)


def _unpacked(data: bytes) -> Artwork:
    pieces, offset = [], 0
    while offset < len(data):
        (size,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        if offset + size > len(data):
            raise ValueError("a cached picture is cut short")
        pieces.append(data[offset : offset + size])
        offset += size
    if len(pieces) < 2:
        raise ValueError("a cached picture entry is empty")
    mime, cover, *cards = pieces
    return Artwork(cover=cover or None, chapter_images=tuple(cards), mime=mime.decode())


def _prune(folder: Path) -> None:
    """Remove all but the newest KEEP_ENTRIES entries."""
    entries = sorted(folder.glob("*.art"), key=lambda entry: entry.stat().st_mtime, reverse=True)
    for stale in entries[KEEP_ENTRIES:]:
        stale.unlink(missing_ok=True)
