"""The speech engine interface and the user's voice settings.

An engine is a small class: ``NAME``, whether it runs here, the languages it speaks,
what identifies its sound (the cache key), and ``synthesize``. The built-in ones are
listed in :mod:`.registry`; third parties add theirs through an entry point.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from ..errors import EngineError, UsageError

__all__ = [
    "Engine",
    "VoiceSettings",
    "base_language",
    "fail",
    "match_language",
]

RATE_RANGE = (0.5, 2.0)  # slower than half or faster than double is no longer a coach


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
    """

    engine: str = "auto"
    language: str | None = None
    tld: str | None = None
    slow: bool = False
    voice_path: Path | None = None
    rate: float = 1.0

    def __post_init__(self) -> None:
        low, high = RATE_RANGE
        if not low <= self.rate <= high:
            raise UsageError(f"--rate: {self.rate:g} is outside {low:g} to {high:g}")
        if self.tld is not None and not re.fullmatch(r"[a-z]{2,3}(\.[a-z]{2,3})?", self.tld):
            raise UsageError(f"--tld: {self.tld!r} is not a top-level domain like com.au or co.uk")


class Engine(ABC):
    """Turns one phrase into audio bytes in any format ffmpeg can decode.

    An engine object is made for one language and one set of settings, and is
    pickled into worker processes when ``PARALLEL`` is ``"processes"``.
    """

    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str] = ""
    # How distinct phrases may be synthesised at once: one after another, in a thread
    # pool (engines waiting on a network or a subprocess) or in worker processes
    # (engines computing in Python, or in a library that holds the GIL).
    PARALLEL: ClassVar[Literal["serial", "threads", "processes"]] = "serial"
    MAX_WORKERS: ClassVar[int | None] = None  # None: one per core
    # Settings this engine understands; any other one the user gives is refused.
    OPTIONS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, language: str) -> None:
        self.language = language

    @classmethod
    def from_settings(cls, settings: VoiceSettings, language: str) -> Engine:
        """The engine for ``language`` as ``settings`` ask; checks everything before synthesis.

        Settings the engine does not take are refused before this is called
        (:func:`.registry.make_engine`).

        Raises:
            UsageError: a language it does not speak, or a setting it cannot honour.
        """
        return cls(language)

    @classmethod
    @abstractmethod
    def unavailable_reason(cls) -> str | None:
        """Why this engine cannot run here, or None when it can."""

    @classmethod
    def languages(cls) -> list[str]:
        """Language codes this engine speaks here (empty when it cannot tell)."""
        return []

    @classmethod
    def voices(cls) -> list[str]:
        """The voices (or accents) this engine offers here, one line each."""
        return []

    @abstractmethod
    def identity(self) -> dict[str, str]:
        """Everything that changes the sound of a phrase: part of its cache key."""

    @abstractmethod
    def synthesize(self, text: str) -> bytes:
        """Audio for ``text``.

        Raises:
            EngineError: the phrase could not be synthesised.
        """

    def worker_setup(self, workers: int) -> None:  # noqa: B027 - optional hook, no-op by default
        """Called once in each worker process (``PARALLEL = "processes"``) before any phrase."""

    def cancel(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Stop soon: phrases in other threads are no longer wanted (an error, or Ctrl-C)."""

    def voice_label(self) -> str:
        """The voice and its settings in a few words: ``en_US-joe-medium, rate 1.2``."""
        return ""

    def advice(self) -> str:
        """A word to the user when auto falls back to this voice (how to get a better one)."""
        return ""


def base_language(language: str) -> str:
    """``pt-BR``, ``pt_BR`` and ``PT`` -> ``pt``."""
    return language.replace("_", "-").split("-")[0].casefold()


def match_language(language: str, known: list[str]) -> str | None:
    """The code in ``known`` that speaks ``language`` (``pt-BR`` -> ``pt-br`` or ``pt``)."""
    by_folded = {code.casefold().replace("_", "-"): code for code in known}
    wanted = language.casefold().replace("_", "-")
    for candidate in (wanted, wanted.split("-")[0]):
        if candidate in by_folded:
            return by_folded[candidate]
    return None


def fail(engine: str, text: str, reason: str) -> EngineError:
    """An EngineError naming the engine and phrase."""
    return EngineError(f"{engine} could not say {text!r}: {reason}")
