"""Content-addressed speech cache: one WAV per (engine, voice, settings, text)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import wave
from pathlib import Path

import platformdirs

from ..audio import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES

__all__ = ["SpeechCache", "default_cache_dir"]

log = logging.getLogger(__name__)

# Bump when the way clips are made (trim, level, format) changes: old entries stop matching.
CLIP_FORMAT = "clip-v1"


def default_cache_dir() -> Path:
    """The user's cache folder for workout-audio (XDG on Linux, Library/Caches on macOS, ...)."""
    return Path(platformdirs.user_cache_dir("workout-audio")) / "speech"


class SpeechCache:
    """Finished speech clips on disk; entries appear whole or not at all."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_cache_dir()

    def key(self, identity: dict[str, str], text: str) -> str:
        """The entry name for ``text`` said by the engine described by ``identity``."""
        material = json.dumps({**identity, "text": text, "format": CLIP_FORMAT}, sort_keys=True)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.wav"

    def get(self, key: str) -> bytes | None:
        """The clip's PCM, or None when absent; an unreadable entry is discarded."""
        path = self._path(key)
        try:
            with wave.open(str(path), "rb") as wav:
                if (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) != (
                    SAMPLE_RATE_HZ,
                    SAMPLE_WIDTH_BYTES,
                    CHANNELS,
                ):
                    raise wave.Error("format differs")
                frames = wav.readframes(wav.getnframes())
                if len(frames) != wav.getnframes() * SAMPLE_WIDTH_BYTES * CHANNELS or not frames:
                    raise wave.Error("truncated")
                return frames
        except FileNotFoundError:
            return None
        except (wave.Error, EOFError, OSError) as error:
            log.warning("discarding broken speech cache entry %s: %s", path, error)
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, pcm: bytes) -> None:
        """Store a clip: written to a temporary file, then renamed into place."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as raw, wave.open(raw, "wb") as wav:
                wav.setnchannels(CHANNELS)
                wav.setsampwidth(SAMPLE_WIDTH_BYTES)
                wav.setframerate(SAMPLE_RATE_HZ)
                wav.writeframes(pcm)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
