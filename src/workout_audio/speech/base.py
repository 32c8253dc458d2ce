"""The speech engine interface and the registry of engines by name."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import ClassVar

from ..errors import EngineError, UsageError

__all__ = ["ENGINES", "Engine", "engine_class", "prepare_text", "register"]


class Engine(ABC):
    """Turns one phrase into audio bytes in any format ffmpeg can decode."""

    NAME: ClassVar[str]

    def __init__(self, language: str) -> None:
        self.language = language

    @classmethod
    @abstractmethod
    def unavailable_reason(cls) -> str | None:
        """Why this engine cannot run here, or None when it can."""

    @abstractmethod
    def identity(self) -> dict[str, str]:
        """Everything that changes the sound of a phrase: part of its cache key."""

    @abstractmethod
    def synthesize(self, text: str) -> bytes:
        """Audio for ``text``.

        Raises:
            EngineError: the phrase could not be synthesised.
        """


ENGINES: dict[str, type[Engine]] = {}


def register(engine: type[Engine]) -> type[Engine]:
    """Class decorator: make an engine reachable by its NAME."""
    ENGINES[engine.NAME] = engine
    return engine


def engine_class(name: str) -> type[Engine]:
    """The engine registered as ``name``.

    Raises:
        UsageError: no such engine; the message lists the known ones.
    """
    try:
        return ENGINES[name]
    except KeyError:
        known = ", ".join(["auto", *sorted(ENGINES)])
        raise UsageError(f"unknown engine {name!r}; choose one of: {known}") from None


def _hyphenated_numbers(text: str) -> str:
    """ "90-90" is a position, read "ninety ninety", not "ninety dash ninety"."""
    return re.sub(r"(?<=\d)-(?=\d)", " ", text)


def _curly_quotes(text: str) -> str:
    return (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )


PRE_PROCESSORS = [_curly_quotes, _hyphenated_numbers]


def prepare_text(text: str) -> str:
    """The text as handed to an engine, after the pre-processors."""
    for pre_processor in PRE_PROCESSORS:
        text = pre_processor(text)
    return text


def fail(engine: str, text: str, reason: str) -> EngineError:
    """An EngineError naming the engine and phrase."""
    return EngineError(f"{engine} could not say {text!r}: {reason}")
