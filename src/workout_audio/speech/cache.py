"""Content-addressed speech cache: one WAV per (engine, voice, settings, text).

Each entry is a finished clip (trimmed, levelled, 44.1 kHz mono) in a plain WAV
file that any player opens, with one extra chunk (``wkau``) before the samples:
JSON naming the engine and text, and a CRC-32 of the samples. An entry is
written to a hidden temporary file in its folder and renamed into place, so
readers (this process, or another build running at the same time) see it whole
or not at all; an entry whose header, length or checksum is wrong is discarded
and made again.
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
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from ..audio import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from ..loudness import CLIP_CREST_DB, CLIP_LOUDNESS_LUFS

__all__ = ["CacheInfo", "SpeechCache", "default_cache_dir"]

log = logging.getLogger(__name__)

# Bump when the way clips are made (trim, level, format) changes: old entries stop matching.
# Clips are levelled to a loudness with held peaks; changing either makes new entries.
CLIP_FORMAT = f"clip-v3-{CLIP_LOUDNESS_LUFS:g}LUFS-{CLIP_CREST_DB:g}dB"
META_CHUNK = b"wkau"
STALE_PART_S = 3600  # a temporary file this old belongs to a writer that was killed
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


class BrokenEntry(Exception):
    """A cache file that is not a whole entry."""


@dataclass(frozen=True)
class CacheInfo:
    """What the cache holds, as ``workout-audio cache info`` shows it."""

    folder: Path
    entries: int = 0
    size_bytes: int = 0
    by_engine: dict[str, int] = field(default_factory=dict)
    partial_files: int = 0  # temporary files of writes in progress, or of killed writers


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
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise BrokenEntry("not a WAV file")
    if struct.unpack_from("<I", blob, 4)[0] != len(blob) - 8:
        raise BrokenEntry("truncated")
    chunks: dict[bytes, bytes] = {}
    offset = 12
    while offset < len(blob):
        if offset + 8 > len(blob):
            raise BrokenEntry("truncated chunk header")
        name, size = blob[offset : offset + 4], struct.unpack_from("<I", blob, offset + 4)[0]
        body = blob[offset + 8 : offset + 8 + size]
        if len(body) != size:
            raise BrokenEntry("truncated chunk")
        chunks[name] = body
        offset += 8 + size + size % 2
    if chunks.get(b"fmt ") != _FMT:
        raise BrokenEntry("another audio format")
    try:
        meta = json.loads(chunks[META_CHUNK])
        pcm = chunks[b"data"]
    except (KeyError, ValueError) as error:
        raise BrokenEntry(f"missing or unreadable chunk: {error}") from None
    if not isinstance(meta, dict) or not pcm or zlib.crc32(pcm) != meta.get("crc32"):
        raise BrokenEntry("checksum mismatch")
    return pcm, meta


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

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_cache_dir()

    def key(self, identity: dict[str, str], text: str) -> str:
        """The entry name for ``text`` said by the engine described by ``identity``."""
        material = json.dumps({**identity, "text": text, "format": CLIP_FORMAT}, sort_keys=True)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        """Where the entry ``key`` lives (whether or not it exists)."""
        return self.folder / key[:2] / f"{key}.wav"

    def get(self, key: str) -> bytes | None:
        """The clip's PCM, or None when absent; a broken entry is discarded."""
        path = self.path(key)
        try:
            with path.open("rb") as entry:
                blob = entry.read()
                inode = os.fstat(entry.fileno()).st_ino
        except FileNotFoundError:
            return None
        except OSError as error:
            log.warning("cannot read speech cache entry %s: %s", path, error)
            return None
        try:
            return decode_entry(blob)[0]
        except BrokenEntry as error:
            log.warning("discarding broken speech cache entry %s: %s", path, error)
            # Only the file we read: another build may have just renamed a good one into place.
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == inode:
                    path.unlink()
            return None

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

    def info(self) -> CacheInfo:
        """Entry count, size on disk and entries per engine."""
        entries = size = partial = 0
        engines: Counter[str] = Counter()
        for shard in self._shards():
            for path in shard.iterdir():
                with contextlib.suppress(OSError):
                    if _ENTRY_NAME.fullmatch(path.name):
                        size += path.stat().st_size
                        entries += 1
                        engines[str(_read_meta(path).get("engine", "older version"))] += 1
                    elif _PART_NAME.fullmatch(path.name):
                        partial += 1
        return CacheInfo(self.folder, entries, size, dict(sorted(engines.items())), partial)

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
