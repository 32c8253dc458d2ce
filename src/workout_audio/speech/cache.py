"""Content-addressed speech cache: one WAV per (engine, voice, settings, text).

Each entry is a finished clip (trimmed, levelled, 44.1 kHz mono) in a plain WAV
file that any player opens, with one extra chunk (``wkau``) before the samples:
JSON naming the engine and text, and a CRC-32 of the samples. Entries live in the
``speech/`` folder of the cache root and follow its scheme (:mod:`..storage.cache`):
written whole, so readers (this process, or another build running at the same
time) see an entry or none; touched when used; pruned least recently used first,
with music measurements and pictures, under one cap. An entry whose header, length
or checksum is wrong is discarded and made again. The metadata chunk is the
writer's business: pruning reads only sizes and times.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import struct
import threading
import weakref
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..audio.levelling import CLIP_CREST_DB, LEVELLING_SCHEME
from ..audio.loudness import CLIP_LOUDNESS_LUFS
from ..audio.pcm import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from ..storage.cache import (
    DEFAULT_MAX_SIZE_BYTES,
    STALE_PART_S,
    CacheRoot,
    PruneResult,
    default_root,
    format_size,
    parse_size,
    touch,
    write_entry,
)

__all__ = [
    "DEFAULT_MAX_SIZE_BYTES",
    "STALE_PART_S",
    "CacheInfo",
    "PruneResult",
    "SpeechCache",
    "StoredClip",
    "VoiceUse",
    "default_cache_dir",
    "format_size",
    "parse_size",
]

log = logging.getLogger(__name__)

# Bump when the way clips are made (trim, level, format) changes: old entries stop matching.
# Clips are levelled to a loudness with held peaks, by one scheme; changing any of the
# three makes new entries (v3 entries, levelled by ffmpeg's limiter, are never read).
CLIP_FORMAT = f"clip-v4-{CLIP_LOUDNESS_LUFS:g}LUFS-{CLIP_CREST_DB:g}dB-{LEVELLING_SCHEME}"
META_CHUNK = b"wkau"
_FMT = struct.pack(
    "<HHIIHH",
    1,  # PCM
    CHANNELS,
    SAMPLE_RATE_HZ,
    SAMPLE_RATE_HZ * CHANNELS * SAMPLE_WIDTH_BYTES,
    CHANNELS * SAMPLE_WIDTH_BYTES,
    SAMPLE_WIDTH_BYTES * 8,
)


def default_cache_dir() -> Path:
    """The user's cache root for workout-audio (XDG on Linux, Library/Caches on macOS, ...)."""
    return default_root()


class BrokenEntry(Exception):
    """A cache file that is not a whole entry."""


@dataclass(frozen=True)
class VoiceUse:
    """The entries of one engine's voice in the cache."""

    engine: str
    voice: str
    entries: int
    size_bytes: int


@dataclass(frozen=True)
class CacheInfo:
    """What the speech cache holds, as ``workout-audio cache info`` shows it."""

    folder: Path
    entries: int = 0
    size_bytes: int = 0
    by_engine: dict[str, int] = field(default_factory=dict)
    by_voice: list[VoiceUse] = field(default_factory=list)  # largest first
    partial_files: int = 0  # temporary files of writes in progress, or of killed writers
    max_size_bytes: int = DEFAULT_MAX_SIZE_BYTES


def _chunk(name: bytes, body: bytes) -> bytes:
    return name + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def encode_entry(pcm: bytes, meta: dict[str, str]) -> bytes:
    """A WAV file holding ``pcm``, with ``meta`` and the samples' CRC-32 in its own chunk."""
    info = json.dumps({**meta, "crc32": zlib.crc32(pcm)}, ensure_ascii=False, sort_keys=True)
    body = (
        b"WAVE" + _chunk(b"fmt ", _FMT) + _chunk(META_CHUNK, info.encode()) + _chunk(b"data", pcm)
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def decode_entry(blob: bytes) -> tuple[bytes, dict[str, object]]:
    """The samples and metadata of a whole entry.

    Raises:
        BrokenEntry: not a WAV, another format, truncated, padded or corrupted.
    """
    data_at, data_size, meta = _checked_entry(blob)
    return blob[data_at : data_at + data_size], meta


def _checked_entry(blob: bytes) -> tuple[int, int, dict[str, object]]:
    """Where a whole entry's samples start in it, how many bytes they take, and its
    metadata, once checked.

    Raises:
        BrokenEntry: not a WAV, another format, truncated, padded or corrupted.
    """
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise BrokenEntry("not a WAV file")
    if struct.unpack_from("<I", blob, 4)[0] != len(blob) - 8:
        raise BrokenEntry("truncated")
    chunks: dict[bytes, tuple[int, int]] = {}  # name -> (offset of the body, its size)
    offset = 12
    while offset < len(blob):
        if offset + 8 > len(blob):
            raise BrokenEntry("truncated chunk header")
        name, size = blob[offset : offset + 4], struct.unpack_from("<I", blob, offset + 4)[0]
        if offset + 8 + size > len(blob):
            raise BrokenEntry("truncated chunk")
        chunks[name] = (offset + 8, size)
        offset += 8 + size + size % 2

    def body(name: bytes) -> bytes:
        at, size = chunks[name]
        return blob[at : at + size]

    if b"fmt " not in chunks or body(b"fmt ") != _FMT:
        raise BrokenEntry("another audio format")
    try:
        meta = json.loads(body(META_CHUNK))
        data_at, data_size = chunks[b"data"]
    except (KeyError, ValueError) as error:
        raise BrokenEntry(f"missing or unreadable chunk: {error}") from None
    samples = memoryview(blob)[data_at : data_at + data_size]
    if not isinstance(meta, dict) or not data_size or zlib.crc32(samples) != meta.get("crc32"):
        raise BrokenEntry("checksum mismatch")
    return data_at, data_size, meta


class StoredClip:
    """A checked cache entry's samples, left on disk and read each time they are wanted.

    The entry stays open, so it still reads if the cache is pruned or cleared meanwhile;
    it is closed when the last reference goes.
    """

    def __init__(self, entry: BinaryIO, offset: int, size: int) -> None:
        self.offset, self.size = offset, size
        self._entry = entry
        self._reading = threading.Lock()  # the parts of a track are read from threads
        weakref.finalize(self, self._entry.close)

    def read(self) -> bytes:
        """The clip's PCM.

        Raises:
            OSError: the disk failed under it.
        """
        with self._reading:
            self._entry.seek(self.offset)
            return self._entry.read(self.size)


def _read_meta(path: Path) -> dict[str, object]:
    """An entry's metadata without reading its samples (for ``cache info``)."""
    with path.open("rb") as entry:
        if entry.read(12)[8:12] != b"WAVE":
            return {}
        while header := entry.read(8):
            if len(header) < 8:
                return {}
            name, size = header[:4], struct.unpack("<I", header[4:])[0]
            if name == META_CHUNK:
                try:
                    meta = json.loads(entry.read(size))
                except ValueError:
                    return {}
                return meta if isinstance(meta, dict) else {}
            if name == b"data":
                return {}
            entry.seek(size + size % 2, os.SEEK_CUR)
    return {}


class SpeechCache:
    """Finished speech clips on disk, in the ``speech/`` folder of a cache root."""

    def __init__(self, folder: Path | None = None, max_size_bytes: int | None = None) -> None:
        """The clips of the cache root ``folder`` (default: the user cache folder); the root
        is kept under ``max_size_bytes`` (default: ``cache.max_size`` from the settings
        file, else 1 GB)."""
        self.root = CacheRoot(folder, max_size_bytes)
        self.folder = self.root.folder

    @property
    def max_size_bytes(self) -> int:
        """The cap over the whole cache root; read from the settings file on first use.

        Raises:
            UsageError: the settings file's ``cache.max_size`` is not a size.
        """
        return self.root.max_size_bytes

    def key(self, identity: dict[str, str], text: str) -> str:
        """The entry name for ``text`` said by the engine described by ``identity``."""
        material = json.dumps({**identity, "text": text, "format": CLIP_FORMAT}, sort_keys=True)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        """Where the entry ``key`` lives (whether or not it exists)."""
        return self.root.speech / key[:2] / f"{key}.wav"

    def get(self, key: str) -> bytes | None:
        """The clip's PCM, or None when absent; a broken entry is discarded."""
        found = self.get_stored(key)
        return None if found is None else found[0].read()

    def get_stored(self, key: str) -> tuple[StoredClip, dict[str, object]] | None:
        """The clip, checked and left on disk, and its metadata; or None when absent. A broken
        entry is discarded."""
        path = self.path(key)
        try:
            entry = path.open("rb", buffering=0)
        except FileNotFoundError:
            return None
        except OSError as error:
            log.warning("cannot read speech cache entry %s: %s", path, error)
            return None
        try:
            data_at, data_size, meta = _checked_entry(entry.read())
        except OSError as error:
            entry.close()
            log.warning("cannot read speech cache entry %s: %s", path, error)
            return None
        except BrokenEntry as error:
            inode = os.fstat(entry.fileno()).st_ino
            entry.close()
            log.warning("discarding broken speech cache entry %s: %s", path, error)
            # Only the file we read: another build may have just renamed a good one into place.
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == inode:
                    path.unlink()
            return None
        touch(path)
        return StoredClip(entry, data_at, data_size), meta

    def put(self, key: str, pcm: bytes, meta: dict[str, str] | None = None) -> bool:
        """Store a clip, whole or not at all.

        A cache that cannot be written (full disk, no permission) is not the build's
        failure: the clip is still used, the problem logged, and False returned.
        """
        return write_entry(self.path(key), encode_entry(pcm, meta or {}))

    def info(self) -> CacheInfo:
        """Entry count, size on disk, entries per engine and per voice, and the cap."""
        entries = size = 0
        engines: Counter[str] = Counter()
        voices: dict[tuple[str, str], list[int]] = {}
        for entry in self.root.entries(["speech"]):
            size += entry.size_bytes
            entries += 1
            try:
                meta = _read_meta(entry.path)
            except OSError:
                meta = {}
            engine = str(meta.get("engine", "older version"))
            engines[engine] += 1
            use = voices.setdefault((engine, str(meta.get("voice") or "")), [0, 0])
            use[0] += 1
            use[1] += entry.size_bytes
        by_voice = sorted(
            (
                VoiceUse(engine, voice, count, used)
                for (engine, voice), (count, used) in voices.items()
            ),
            key=lambda use: (-use.size_bytes, use.engine, use.voice),
        )
        return CacheInfo(
            self.folder,
            entries,
            size,
            dict(sorted(engines.items())),
            by_voice,
            self.root.partial_files(["speech"]),
            self.max_size_bytes,
        )

    def prune(self, max_size_bytes: int | None = None, keep: Iterable[str] = ()) -> PruneResult:
        """Bring the whole cache root under ``max_size_bytes`` (default: the cap), least
        recently used entries of any kind first; the clips named in ``keep`` stay.

        Safe while other builds run: an entry removed under a reader is just made again.
        """
        return self.root.prune(max_size_bytes, keep=[self.path(key) for key in keep])

    def clear(self) -> int:
        """Remove every clip and temporary file of the speech cache; returns how many clips
        went. Only files named like entries are touched."""
        return self.root.clear(["speech"])["speech"]
