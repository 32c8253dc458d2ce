"""The cache root: what a build keeps to go faster next time, in one folder with one scheme.

The root is the user cache folder (``platformdirs.user_cache_dir("workout-audio")``) or
the folder given with ``--cache-dir``. Under it, one folder a kind:

- ``speech/``: finished clips, ``XX/KEY.wav`` (in two-hex-digit shards: thousands of them);
- ``music/``: measured loudness of the user's music files, ``KEY.json``;
- ``art/``: a track's cover and chapter cards, ``KEY.art``.

One scheme for all three:

- An entry is a file named by its key (hex digits) and a suffix, in its kind's folder or a
  shard of it; nothing else is ever counted or removed, so a ``--cache-dir`` pointing at a
  folder of the user's own loses nothing.
- Entries are written whole (``storage.files``): a reader sees an entry or none.
- An entry's modification time is when it was last used: a hit touches it.
- The root as a whole stays under one cap (1 GB, or ``cache.max_size`` in the settings
  file). Pruning removes the least recently used entries first, whatever their kind,
  and never an entry the build that prunes has just used (it names them). A build
  prunes when it has added clips; ``cache prune`` does it on demand. Pictures, a few
  MB an entry, are besides kept to the newest few (``outputs.art_cache``).

Older versions kept speech in the root itself (``ROOT/XX/KEY.wav``, when ``--cache-dir``
named the speech folder) and music and pictures inside the speech folder
(``speech/music``, ``speech/art``). The first use of a root moves such clips into
``speech/`` one by one (a rename, never a copy: no clip is lost; where ``speech/`` holds
the same key already, that entry is kept, as builds since have played it), and moves
``speech/music`` and ``speech/art`` up to ``music/`` and ``art/``; where those exist
already, the old ones' entries are dropped, as they can be measured or drawn again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import platformdirs

from .config import setting
from .files import PART_SUFFIX, pending_file

__all__ = [
    "DEFAULT_MAX_SIZE_BYTES",
    "KINDS",
    "STALE_PART_S",
    "CacheKind",
    "CacheRoot",
    "Entry",
    "KindUsage",
    "PruneResult",
    "format_size",
    "parse_size",
    "sweep_stale_parts",
    "touch",
    "write_entry",
]

log = logging.getLogger(__name__)

CacheKind = Literal["speech", "music", "art"]
KINDS: tuple[CacheKind, ...] = get_args(CacheKind)
DEFAULT_MAX_SIZE_BYTES = 1_000_000_000  # 1 GB: thousands of tracks' worth of phrases
STALE_PART_S = 3600  # a temporary file this old belongs to a writer that was killed
TOUCH_AFTER_S = 60  # a hit refreshes an entry's time when older: LRU without a write a read
_ENTRY_NAME = re.compile(r"[0-9a-f]{16,64}\.[a-z0-9]{1,8}")
_SHARD_NAME = re.compile(r"[0-9a-f]{2}")
_PART_NAME = re.compile(r"\..+" + re.escape(PART_SUFFIX) + r"(\.[a-z0-9]+)?")
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?)[bB]?\s*")
_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_LEGACY_KINDS: tuple[CacheKind, ...] = ("music", "art")  # once kept inside speech/
_migrated: set[Path] = set()  # roots this process has already brought to this layout
_migrating = threading.Lock()


def default_root() -> Path:
    """The user's cache folder for workout-audio (XDG on Linux, Library/Caches on macOS, ...)."""
    return Path(platformdirs.user_cache_dir("workout-audio"))


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


@dataclass(frozen=True)
class Entry:
    """One cache file: where, of what kind, how big, and when last used."""

    path: Path
    kind: CacheKind
    size_bytes: int
    used_at_s: float


@dataclass(frozen=True)
class KindUsage:
    """How many entries of one kind the root holds, and their size."""

    kind: CacheKind
    folder: Path
    entries: int
    size_bytes: int


@dataclass(frozen=True)
class PruneResult:
    """What ``prune`` removed, and what is left (of the kinds it looked at)."""

    removed: int
    freed_bytes: int
    entries: int
    size_bytes: int


def touch(path: Path) -> None:
    """Mark an entry used now (its modification time), unless it was a moment ago."""
    with contextlib.suppress(OSError):  # pruned meanwhile, or a read-only cache
        if time.time() - path.stat().st_mtime > TOUCH_AFTER_S:
            os.utime(path)


def write_entry(path: Path, data: bytes) -> bool:
    """Store a cache entry whole, making its folder as needed.

    A cache that cannot be written (full disk, no permission) is not the build's failure:
    the problem is logged and False returned.
    """
    for attempt in range(2):  # a concurrent `cache clear` may remove the folder meanwhile
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with pending_file(path) as pending:
                pending.path.write_bytes(data)
                pending.commit()
        except FileNotFoundError:
            if attempt:
                log.warning("could not write cache entry %s: its folder went away", path)
                return False
        except OSError as error:
            log.warning("could not write cache entry %s: %s", path, error)
            return False
        else:
            sweep_stale_parts(path.parent)
            return True
    return False  # pragma: no cover


def sweep_stale_parts(folder: Path) -> None:
    """Remove temporary files left by writers that were killed (SIGKILL, power loss)."""
    deadline = time.time() - STALE_PART_S
    with contextlib.suppress(OSError):
        for part in folder.iterdir():
            if _PART_NAME.fullmatch(part.name):
                with contextlib.suppress(OSError):
                    if part.stat().st_mtime < deadline:
                        part.unlink()


def _entry_folders(folder: Path) -> list[Path]:
    """A kind's folder and its shards: where its entries may be."""
    if not folder.is_dir():
        return []
    with contextlib.suppress(OSError):
        shards = [p for p in folder.iterdir() if _SHARD_NAME.fullmatch(p.name) and p.is_dir()]
        return [folder, *shards]
    return []


class CacheRoot:
    """The cache root and its kinds' folders; see the module's docstring for the scheme."""

    def __init__(self, folder: Path | None = None, max_size_bytes: int | None = None) -> None:
        """The root at ``folder`` (default: the user cache folder), kept under
        ``max_size_bytes`` (default: ``cache.max_size`` from the settings file, else 1 GB)."""
        self.folder = folder or default_root()
        self._max_size_bytes = max_size_bytes

    def __repr__(self) -> str:
        return f"CacheRoot({str(self.folder)!r})"

    @property
    def max_size_bytes(self) -> int:
        """The cap over the whole root; read from the settings file on first use.

        Raises:
            UsageError: the settings file's ``cache.max_size`` is not a size.
        """
        if self._max_size_bytes is None:
            configured = setting("cache.max_size", parse_size)
            self._max_size_bytes = DEFAULT_MAX_SIZE_BYTES if configured is None else configured
        return self._max_size_bytes

    @property
    def speech(self) -> Path:
        """The folder of speech clips."""
        return self.kind_folder("speech")

    @property
    def music(self) -> Path:
        """The folder of music measurements."""
        return self.kind_folder("music")

    @property
    def art(self) -> Path:
        """The folder of pictures."""
        return self.kind_folder("art")

    def kind_folder(self, kind: CacheKind) -> Path:
        """The folder of one kind's entries, brought to this layout first if it is older."""
        self.migrate()
        return self.folder / kind

    def entries(self, kinds: Sequence[CacheKind] = KINDS) -> list[Entry]:
        """Every entry of ``kinds``, with its size and time of last use."""
        found = []
        for kind in kinds:
            for folder in _entry_folders(self.kind_folder(kind)):
                with contextlib.suppress(OSError):
                    for path in folder.iterdir():
                        if _ENTRY_NAME.fullmatch(path.name):
                            with contextlib.suppress(OSError):
                                stat = path.stat()
                                found.append(Entry(path, kind, stat.st_size, stat.st_mtime))
        return found

    def partial_files(self, kinds: Sequence[CacheKind] = KINDS) -> int:
        """Temporary files of writes in progress, or of writers that were killed."""
        count = 0
        for kind in kinds:
            for folder in _entry_folders(self.kind_folder(kind)):
                with contextlib.suppress(OSError):
                    count += sum(1 for p in folder.iterdir() if _PART_NAME.fullmatch(p.name))
        return count

    def usage(self, kinds: Sequence[CacheKind] = KINDS) -> list[KindUsage]:
        """Entry count and size of each of ``kinds``, in the order given."""
        entries = self.entries(kinds)
        return [
            KindUsage(
                kind,
                self.kind_folder(kind),
                sum(1 for e in entries if e.kind == kind),
                sum(e.size_bytes for e in entries if e.kind == kind),
            )
            for kind in kinds
        ]

    def prune(
        self,
        max_size_bytes: int | None = None,
        keep: Iterable[Path] = (),
        kinds: Sequence[CacheKind] = KINDS,
    ) -> PruneResult:
        """Remove the least recently used entries of ``kinds`` until they hold at most
        ``max_size_bytes`` together (default: the cap); the entries in ``keep`` stay.

        Safe while other builds run: an entry removed under a reader is just made again.
        """
        limit = self.max_size_bytes if max_size_bytes is None else max_size_bytes
        kept = set(keep)
        entries = self.entries(kinds)
        size = sum(entry.size_bytes for entry in entries)
        removed = freed = 0
        for entry in sorted(entries, key=lambda entry: entry.used_at_s):
            if size <= limit:
                break
            if entry.path in kept:
                continue
            try:
                entry.path.unlink()
            except FileNotFoundError:  # another build pruned it first
                pass
            except OSError as error:
                log.warning("could not remove cache entry %s: %s", entry.path, error)
                continue
            else:
                removed += 1
                freed += entry.size_bytes
            size -= entry.size_bytes
        for kind in kinds:
            for folder in _entry_folders(self.kind_folder(kind)):
                sweep_stale_parts(folder)
        if removed:
            log.info("cache: removed %d least recently used entries", removed)
        return PruneResult(removed, freed, len(entries) - removed, size)

    def clear(self, kinds: Sequence[CacheKind] = KINDS) -> dict[CacheKind, int]:
        """Remove every entry and temporary file of ``kinds``; how many entries went, by kind.

        Only files named like entries are touched; a shard is removed only once empty.
        """
        removed: dict[CacheKind, int] = dict.fromkeys(kinds, 0)
        for kind in kinds:
            top = self.kind_folder(kind)
            for folder in _entry_folders(top):
                with contextlib.suppress(OSError):
                    for path in folder.iterdir():
                        is_entry = bool(_ENTRY_NAME.fullmatch(path.name))
                        if is_entry or _PART_NAME.fullmatch(path.name):
                            with contextlib.suppress(FileNotFoundError):
                                path.unlink()
                                removed[kind] += is_entry
                if folder != top:
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # only when empty
        return removed

    def migrate(self) -> None:
        """Bring an older layout to this one, once a process (see the module's docstring)."""
        root = self.folder
        if root in _migrated:
            return
        with _migrating:
            if root in _migrated:
                return
            if root.is_dir():
                moved = self._move_root_clips()
                for kind in _LEGACY_KINDS:
                    self._move_up(kind)
                if moved:
                    log.info("cache: moved %d speech clips into %s", moved, root / "speech")
            _migrated.add(root)  # only now: other threads wait on the lock until it is done

    def _move_root_clips(self) -> int:
        """Clips in shards of the root itself, as ``--cache-dir`` once named the speech folder."""
        moved = 0
        for shard in _entry_folders(self.folder)[1:]:
            with contextlib.suppress(OSError):
                for path in shard.iterdir():
                    if not _ENTRY_NAME.fullmatch(path.name):
                        continue
                    target = self.folder / "speech" / shard.name / path.name
                    with contextlib.suppress(OSError):
                        target.parent.mkdir(parents=True, exist_ok=True)
                        if target.exists():
                            # The entry in speech/ is what builds since have played: a
                            # clip made again may differ by a few samples, so it stays.
                            path.unlink()
                            continue
                        os.replace(path, target)
                        moved += 1
            with contextlib.suppress(OSError):
                shard.rmdir()  # only when empty: a file of the user's keeps it
        return moved

    def _move_up(self, kind: CacheKind) -> None:
        """``speech/KIND`` to ``KIND``: renamed whole, or its entries dropped if both exist."""
        old, new = self.folder / "speech" / kind, self.folder / kind
        if not old.is_dir():
            return
        with contextlib.suppress(OSError):
            if not new.exists():
                old.rename(new)
                return
        with contextlib.suppress(OSError):
            for path in old.iterdir():
                if _ENTRY_NAME.fullmatch(path.name) or _PART_NAME.fullmatch(path.name):
                    path.unlink(missing_ok=True)
            old.rmdir()
