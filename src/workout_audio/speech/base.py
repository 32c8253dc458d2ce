"""The speech engine interface.

An engine is a small class: ``NAME``, whether it runs here, the languages it speaks,
what identifies its sound (the cache key), and ``synthesize``. The built-in ones are
listed in :mod:`.registry`; third parties add theirs through an entry point.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

from ..errors import EngineError
from ..settings import VoiceSettings

__all__ = [
    "Engine",
    "base_language",
    "fail",
    "match_language",
]


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
