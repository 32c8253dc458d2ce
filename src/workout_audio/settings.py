"""What a user may ask of a build: the voice, the music and the encoding, as typed values.

These sit low in the package so every layer can take them: the routine file
states music, the speech engines read the voice, the encoder its settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .levels import DEFAULT_TARGET_LUFS

__all__ = ["RATE_RANGE", "EncodeSettings", "MusicSettings", "VoiceSettings"]

RATE_RANGE = (0.5, 2.0)  # slower than half or faster than double is no longer a coach
NAME_MAX_CHARS = 40  # a greeting longer than this no longer fits the intro's pause
# A name as it is spoken: letters, with spaces, hyphens, apostrophes and dots between them.
_SPOKEN_NAME = re.compile(rf"(?=.{{1,{NAME_MAX_CHARS}}}$)[^\W\d_]+(?:[ '’.-]+[^\W\d_]+)*\.?")


@dataclass(frozen=True)
class VoiceSettings:
    """What the user asked of the voice; None and defaults mean "the engine's own choice".

    Attributes:
        engine: ``auto``, a built-in engine name or a plugin's.
        language: the cue language; None means the routine's ``language:``.
        tld: Google's accent, by top-level domain (``com.au``, ``co.uk``); gtts only.
        slow: Google's slow reading; gtts only.
        voice_path: a piper voice file (``.onnx`` with its ``.onnx.json`` beside it).
        rate: speaking speed, 1.0 normal, 0.8 slower, 1.25 faster; piper and espeak.
        listener_name: the person the track is made for, greeted by name in the intro.
    """

    engine: str = "auto"
    language: str | None = None
    tld: str | None = None
    slow: bool = False
    voice_path: Path | None = None
    rate: float = 1.0
    listener_name: str | None = None

    def __post_init__(self) -> None:
        low, high = RATE_RANGE
        if not low <= self.rate <= high:
            raise UsageError(f"--rate: {self.rate:g} is outside {low:g} to {high:g}")
        if self.tld is not None and not re.fullmatch(r"[a-z]{2,3}(\.[a-z]{2,3})?", self.tld):
            raise UsageError(f"--tld: {self.tld!r} is not a top-level domain like com.au or co.uk")
        if self.listener_name is not None and not _SPOKEN_NAME.fullmatch(self.listener_name):
            raise UsageError(
                f"--name: {self.listener_name!r} is not a name to greet "
                f"(1 to {NAME_MAX_CHARS} letters, spaces, hyphens or apostrophes)"
            )


@dataclass(frozen=True)
class MusicSettings:
    """Music under the voice, as asked for by the user or a routine; None is "not said".

    Attributes:
        source: an audio file, a folder of them (played in name order) or an .m3u playlist.
        level_db: the music against the voice when nobody speaks (-15 dB when not said).
        duck_db: how far the music dips under each spoken cue (12 dB when not said).
        where: the option or routine line that asked for it, named in messages about it.
    """

    source: Path | None = None
    level_db: float | None = None
    duck_db: float | None = None
    where: str = "--music"

    def over(self, fallback: MusicSettings | None) -> MusicSettings:
        """These settings, with what they leave unsaid taken from ``fallback``."""
        if fallback is None:
            return self
        return MusicSettings(
            source=self.source or fallback.source,
            level_db=self.level_db if self.level_db is not None else fallback.level_db,
            duck_db=self.duck_db if self.duck_db is not None else fallback.duck_db,
            where=self.where if self.source else fallback.where,
        )


@dataclass(frozen=True)
class EncodeSettings:
    """How the track is encoded.

    Attributes:
        bitrate_kbps: None for 96 kbit/s (the voice alone, mono) or 128 (with music, stereo).
        loudness_lufs: the finished track's integrated loudness.
        format: ``mp3``, ``m4a`` or ``opus``.
        encoders: encoders run side by side on one track (None: one per core).
    """

    bitrate_kbps: int | None = None
    loudness_lufs: float = DEFAULT_TARGET_LUFS
    format: str = "mp3"
    encoders: int | None = None

    def bitrate_for(self, channels: int) -> int:
        """The bitrate asked for, or the default for this many channels."""
        return self.bitrate_kbps or (96 if channels == 1 else 128)
