"""The user's music: which files play, in what order, and how loud each one is.

A music source is an audio file, a folder (its audio files in name order) or an
.m3u/.m3u8 playlist. Every track is checked (it must decode to sound) and measured
before any speech is made, decoded as the mix plays it: its loudness and true peak,
and its K-weighted power in every 10 ms, from which the track's loudness is predicted
block by block, gated as the meter gates. Measurements are kept in the cache root's
``music/`` folder under its scheme (:mod:`..storage.cache`), keyed by the file's path,
size and time, so a rebuild measures nothing again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import EncoderError, UsageError
from ..settings import MusicSettings
from ..storage.cache import touch, write_entry
from .loudness import file_profile, format_profile, is_silent, parse_profile

__all__ = [
    "AUDIO_SUFFIXES",
    "DEFAULT_DUCK_DB",
    "DEFAULT_LEVEL_DB",
    "MUSIC_CHANNELS",
    "Music",
    "Track",
    "check_music",
]

AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".oga", ".opus", ".flac", ".wav")
PLAYLIST_SUFFIXES = (".m3u", ".m3u8")
DEFAULT_LEVEL_DB = -15.0  # the music against the voice when nobody speaks
DEFAULT_DUCK_DB = 12.0  # how far it dips under a spoken cue
MUSIC_CHANNELS = 2  # a track with music is stereo: music is decoded, and measured, so


@dataclass(frozen=True)
class Track:
    """One music file as the mix plays it: its loudness and true peak, its K-weighted power
    in each 10 ms (summed over MUSIC_CHANNELS) and its length."""

    path: Path
    loudness_lufs: float
    true_peak_dbtp: float = 0.0
    profile: tuple[float, ...] = field(default=(), repr=False, compare=False)
    length_samples: int = 0
    # its K-weighted power's share above each of loudness.BAND_EDGES_HZ
    shares_above: tuple[float, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class Music:
    """Checked music, ready to mix: the playlist and its levels."""

    tracks: tuple[Track, ...]
    level_db: float = DEFAULT_LEVEL_DB
    duck_db: float = DEFAULT_DUCK_DB


def check_music(options: MusicSettings | None, measurements: Path) -> Music | None:
    """The playlist ``options`` names, every track checked and measured; None for no music.

    ``measurements`` is the folder where measured loudness is kept between builds.

    Raises:
        UsageError: the source is missing, an empty folder or playlist, or a file in it
            is not audio, named in one line.
    """
    if options is None or options.source is None:
        return None
    where = options.where
    paths = _playlist(options.source, where)
    store = _MeasurementStore(measurements)
    tracks = tuple(_measured(path, store, where) for path in paths)
    music = Music(tracks)
    if options.level_db is not None:
        music = replace(music, level_db=options.level_db)
    if options.duck_db is not None:
        music = replace(music, duck_db=options.duck_db)
    return music


def _playlist(source: Path, where: str) -> list[Path]:
    if not source.exists():
        raise UsageError(f"{where}: {str(source)!r} does not exist")
    if source.is_dir():
        found = sorted(
            (p for p in source.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES),
            key=lambda p: p.name.casefold(),
        )
        if not found:
            raise UsageError(
                f"{where}: the folder {str(source)!r} holds no audio files "
                f"({', '.join(AUDIO_SUFFIXES)})"
            )
        return found
    if source.suffix.lower() in PLAYLIST_SUFFIXES:
        return _read_m3u(source, where)
    return [source]


def _read_m3u(playlist: Path, where: str) -> list[Path]:
    try:
        text = playlist.read_bytes().decode("utf-8-sig", "replace")
    except OSError as error:
        raise UsageError(f"{where}: cannot read {str(playlist)!r}: {error.strerror}") from None
    tracks = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if "://" in entry:
            raise UsageError(f"{where}: {playlist}:{number}: {entry!r} is not a local file")
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else playlist.parent / path
        if not path.is_file():
            raise UsageError(f"{where}: {playlist}:{number}: {entry!r} does not exist")
        tracks.append(path)
    if not tracks:
        raise UsageError(f"{where}: the playlist {str(playlist)!r} lists no tracks")
    return tracks


def _measured(path: Path, store: _MeasurementStore, where: str) -> Track:
    key = store.key(path)
    known = store.get(key, path)
    if known is not None:
        return known
    try:
        measured = file_profile(path, MUSIC_CHANNELS)
    except EncoderError:
        raise UsageError(f"{where}: {str(path)!r} is not an audio file ffmpeg can play") from None
    if is_silent(measured.loudness):
        raise UsageError(f"{where}: {str(path)!r} is silent")
    loudness = measured.loudness
    track = Track(
        path, loudness.integrated_lufs, loudness.true_peak_dbtp,
        measured.powers, measured.length_samples, measured.shares_above,
    )  # fmt: skip
    store.put(key, track)
    return track


class _MeasurementStore:
    """Music measurements, one JSON file per (path, size, time); an entry without a power
    profile (from an older version) is measured again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def key(path: Path) -> str:
        try:
            stat = path.stat()
        except OSError:
            return ""
        material = f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
        return hashlib.sha256(material.encode("utf-8", "surrogateescape")).hexdigest()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str, path: Path) -> Track | None:
        if not key:
            return None
        try:
            value = json.loads(self.path(key).read_text(encoding="utf-8"))
            track = Track(
                path,
                float(value["loudness_lufs"]),
                float(value["true_peak_dbtp"]),
                tuple(parse_profile(value["profile"])),
                int(value["length_samples"]),
                tuple(float(share) for share in value["shares_above"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if not track.profile or track.length_samples <= 0 or not track.shares_above:
            return None
        touch(self.path(key))
        return track

    def put(self, key: str, track: Track) -> None:
        """Written whole or not at all; a cache that cannot be written costs a re-measure."""
        if key:
            entry = {
                "loudness_lufs": track.loudness_lufs,
                "true_peak_dbtp": track.true_peak_dbtp,
                "length_samples": track.length_samples,
                "shares_above": [round(share, 5) for share in track.shares_above],
                "profile": format_profile(track.profile),
            }
            write_entry(self.path(key), json.dumps(entry).encode())
