"""Content-addressed speech cache: one WAV per (engine, voice, settings, text).

Each entry is a finished clip (trimmed, levelled, 44.1 kHz mono) in a plain WAV
file that any player opens, with one extra chunk (``wkau``) before the samples:
JSON naming the engine and text, and a CRC-32 of the samples. An entry is
written to a hidden temporary file in its folder and renamed into place, so
readers (this process, or another build running at the same time) see it whole
or not at all; an entry whose header, length or checksum is wrong is discarded
and made again.

The cache is bounded (:data:`DEFAULT_MAX_SIZE_BYTES`, or ``cache.max_size`` in the
user's config file): an entry's modification time is when it was last used (a hit
touches it), and past the cap the least recently used entries go first. The
metadata chunk is the writer's business: pruning reads only sizes and times.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import struct
import tempfile
import threading
import time
import weakref
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import platformdirs

from ..audio.loudness import CLIP_CREST_DB, CLIP_LOUDNESS_LUFS
from ..audio.pcm import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from ..storage.config import setting

__all__ = [
    "DEFAULT_MAX_SIZE_BYTES",
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
# Clips are levelled to a loudness with held peaks; changing either makes new entries.
CLIP_FORMAT = f"clip-v3-{CLIP_LOUDNESS_LUFS:g}LUFS-{CLIP_CREST_DB:g}dB"
META_CHUNK = b"wkau"
STALE_PART_S = 3600  # a temporary file this old belongs to a writer that was killed
DEFAULT_MAX_SIZE_BYTES = 1_000_000_000  # 1 GB: thousands of tracks' worth of phrases
TOUCH_AFTER_S = 60  # a hit refreshes an entry's time when older: LRU without a write a read
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?)[bB]?\s*")
_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}\.wav")
_SHARD_NAME = re.compile(r"[0-9a-f]{2}")
_PART_NAME = re.compile(r"\..+\.part")
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
    """The user's cache folder for workout-audio (XDG on Linux, Library/Caches on macOS, ...)."""
    return Path(platformdirs.user_cache_dir("workout-audio")) / "speech"


def parse_size(value: str | int) -> int:
    """``200MB``, ``1.5GB``, ``500k``, ``2GiB`` or a number of bytes -> bytes (kB = 1000 B).

    Raises:
        ValueError: not a size.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    found = _SIZE.fullmatch(str(value))
    if not found:
        raise ValueError(f"{value!r} is not a size like 200MB or 2GB")
    number, unit, binary = found.groups()
    base = 1024 if binary else 1000
    return int(float(number) * base ** _UNITS[unit.lower()])


def format_size(size_bytes: int) -> str:
    """``512 B``, ``3.4 MB``, ``1.0 GB`` (powers of 1000, as disks are sold)."""
    size = float(size_bytes)
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


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
    """What the cache holds, as ``workout-audio cache info`` shows it."""

    folder: Path
    entries: int = 0
    size_bytes: int = 0
    by_engine: dict[str, int] = field(default_factory=dict)
    by_voice: list[VoiceUse] = field(default_factory=list)  # largest first
    partial_files: int = 0  # temporary files of writes in progress, or of killed writers
    max_size_bytes: int = DEFAULT_MAX_SIZE_BYTES


@dataclass(frozen=True)
class PruneResult:
    """What ``prune`` removed, and what is left."""

    removed: int
    freed_bytes: int
    entries: int
    size_bytes: int


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
    """Finished speech clips on disk; entries appear whole or not at all."""

    def __init__(self, folder: Path | None = None, max_size_bytes: int | None = None) -> None:
        """A cache in ``folder`` (default: the user cache folder), kept under
        ``max_size_bytes`` (default: ``cache.max_size`` from the config file, else 1 GB)."""
        self.folder = folder or default_cache_dir()
        self._max_size_bytes = max_size_bytes

    @property
    def max_size_bytes(self) -> int:
        """The cap; read from the config file on first use.

        Raises:
            UsageError: the config file's ``cache.max_size`` is not a size.
        """
        if self._max_size_bytes is None:
            configured = setting("cache.max_size", parse_size)
            self._max_size_bytes = DEFAULT_MAX_SIZE_BYTES if configured is None else configured
        return self._max_size_bytes

    def key(self, identity: dict[str, str], text: str) -> str:
        """The entry name for ``text`` said by the engine described by ``identity``."""
        material = json.dumps({**identity, "text": text, "format": CLIP_FORMAT}, sort_keys=True)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        """Where the entry ``key`` lives (whether or not it exists)."""
        return self.folder / key[:2] / f"{key}.wav"

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
        self._touch(path)
        return StoredClip(entry, data_at, data_size), meta

    @staticmethod
    def _touch(path: Path) -> None:
        """Mark an entry used now (its modification time), unless it was a moment ago."""
        with contextlib.suppress(OSError):  # pruned meanwhile, or a read-only cache
            if time.time() - path.stat().st_mtime > TOUCH_AFTER_S:
                os.utime(path)

    def put(self, key: str, pcm: bytes, meta: dict[str, str] | None = None) -> bool:
        """Store a clip: written to a temporary file, then renamed into place.

        A cache that cannot be written (full disk, no permission) is not the build's
        failure: the clip is still used, the problem logged, and False returned.
        """
        path = self.path(key)
        blob = encode_entry(pcm, meta or {})
        try:
            handle, temporary = self._temporary(path.parent)
        except OSError as error:
            log.warning("could not write speech cache entry %s: %s", path, error)
            return False
        try:
            with os.fdopen(handle, "wb") as part:
                part.write(blob)
            os.replace(temporary, path)
        except BaseException as error:  # an error or Ctrl-C mid-write: leave nothing behind
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            if not isinstance(error, OSError):
                raise
            log.warning("could not write speech cache entry %s: %s", path, error)
            return False
        self._sweep_stale_parts(path.parent)
        return True

    @staticmethod
    def _temporary(folder: Path) -> tuple[int, str]:
        for attempt in range(2):  # a concurrent `cache clear` may remove the folder
            folder.mkdir(parents=True, exist_ok=True)
            try:
                return tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
            except FileNotFoundError:
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _shards(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return [p for p in self.folder.iterdir() if p.is_dir() and _SHARD_NAME.fullmatch(p.name)]

    def _sweep_stale_parts(self, shard: Path) -> None:
        """Remove temporary files left by writers that were killed (SIGKILL, power loss)."""
        deadline = time.time() - STALE_PART_S
        with contextlib.suppress(OSError):
            for part in shard.iterdir():
                if _PART_NAME.fullmatch(part.name):
                    with contextlib.suppress(OSError):
                        if part.stat().st_mtime < deadline:
                            part.unlink()

    def _entries(self) -> list[tuple[Path, os.stat_result]]:
        found = []
        for shard in self._shards():
            with contextlib.suppress(OSError):
                for path in shard.iterdir():
                    if _ENTRY_NAME.fullmatch(path.name):
                        with contextlib.suppress(OSError):
                            found.append((path, path.stat()))
        return found

    def info(self) -> CacheInfo:
        """Entry count, size on disk, entries per engine and per voice, and the cap."""
        entries = size = partial = 0
        engines: Counter[str] = Counter()
        voices: dict[tuple[str, str], list[int]] = {}
        for path, stat in self._entries():
            size += stat.st_size
            entries += 1
            try:
                meta = _read_meta(path)
            except OSError:
                meta = {}
            engine = str(meta.get("engine", "older version"))
            engines[engine] += 1
            use = voices.setdefault((engine, str(meta.get("voice") or "")), [0, 0])
            use[0] += 1
            use[1] += stat.st_size
        for shard in self._shards():
            with contextlib.suppress(OSError):
                partial += sum(1 for p in shard.iterdir() if _PART_NAME.fullmatch(p.name))
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
            partial,
            self.max_size_bytes,
        )

    def prune(self, max_size_bytes: int | None = None, keep: Iterable[str] = ()) -> PruneResult:
        """Remove the least recently used entries until the cache holds at most
        ``max_size_bytes`` (default: the cap); entries named in ``keep`` stay.

        Safe while other builds run: an entry removed under a reader is just made again.
        """
        limit = self.max_size_bytes if max_size_bytes is None else max_size_bytes
        kept = set(keep)
        entries = self._entries()
        size = sum(stat.st_size for _, stat in entries)
        removed = freed = 0
        for path, stat in sorted(entries, key=lambda entry: entry[1].st_mtime):
            if size <= limit:
                break
            if path.stem in kept:
                continue
            try:
                path.unlink()
            except FileNotFoundError:  # another build pruned it first
                pass
            except OSError as error:
                log.warning("could not remove speech cache entry %s: %s", path, error)
                continue
            else:
                removed += 1
                freed += stat.st_size
            size -= stat.st_size
        for shard in self._shards():
            self._sweep_stale_parts(shard)
        if removed:
            log.info("speech cache: removed %d least recently used entries", removed)
        return PruneResult(removed, freed, len(entries) - removed, size)

    def clear(self) -> int:
        """Remove every entry and temporary file; returns how many entries went.

        Only files named like entries are touched, so a mistaken ``--cache-dir``
        pointing at someone's documents loses nothing.
        """
        removed = 0
        for shard in self._shards():
            for path in shard.iterdir():
                is_entry = bool(_ENTRY_NAME.fullmatch(path.name))
                if is_entry or _PART_NAME.fullmatch(path.name):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed += is_entry
            with contextlib.suppress(OSError):
                shard.rmdir()  # only when empty
        return removed
