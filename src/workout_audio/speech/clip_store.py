"""A track's clips by phrase: found in the cache, they stay there until they are played.

A clip the speech cache already holds is checked, left on disk and read each time
the track plays it (the page cache keeps that cheap); only clips made in this
build are held in memory. So a warm build of a long routine holds no more speech
than a short one.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from .cache import StoredClip

__all__ = ["ClipStore"]


class ClipStore(MutableMapping[str, bytes]):
    """PCM by phrase, in memory or on disk (:class:`StoredClip`), in the order added."""

    def __init__(self) -> None:
        self._clips: dict[str, bytes | StoredClip] = {}

    def keep(self, text: str, clip: bytes | StoredClip) -> None:
        """Hold ``clip`` for ``text``: its PCM, or where the cache keeps it."""
        self._clips[text] = clip

    def subset(self, texts: list[str]) -> ClipStore:
        """These phrases' clips (each must be held), in this order."""
        chosen = ClipStore()
        for text in texts:
            chosen.keep(text, self._clips[text])
        return chosen

    def byte_count(self, text: str) -> int:
        """How long ``text``'s PCM is, in bytes, without reading it."""
        clip = self._clips[text]
        return len(clip) if isinstance(clip, bytes) else clip.size

    def __getitem__(self, text: str) -> bytes:
        clip = self._clips[text]
        return clip if isinstance(clip, bytes) else clip.read()

    def __setitem__(self, text: str, pcm: bytes) -> None:
        self._clips[text] = pcm

    def __delitem__(self, text: str) -> None:
        del self._clips[text]

    def __iter__(self) -> Iterator[str]:
        return iter(self._clips)

    def __len__(self) -> int:
        return len(self._clips)

    def update_from(self, other: ClipStore) -> None:
        """Hold ``other``'s clips too, as ``other`` holds them (nothing is read)."""
        self._clips.update(other._clips)
