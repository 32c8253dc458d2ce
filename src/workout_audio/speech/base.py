"""The speech engine interface, the user's voice settings, and the registry of engines by name.

Built-in engines register with :func:`register`; a third-party package adds one by
declaring an entry point in the ``workout_audio.engines`` group whose name is the
engine's name and whose object is an :class:`Engine` subclass. Entry points are
loaded only when their engine is asked for (or listed by ``workout-audio voices``).
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import ClassVar, Literal

from ..errors import EngineError, UsageError

__all__ = [
    "ENGINES",
    "ENTRY_POINT_GROUP",
    "Engine",
    "VoiceSettings",
    "base_language",
    "engine_class",
    "engine_names",
    "match_language",
    "prepare_text",
    "register",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "workout_audio.engines"
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

        Raises:
            UsageError: a setting this engine does not take, or a language it does not speak.
        """
        refuse_options(cls, settings)
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


_OPTION_FLAGS = {"tld": "--tld", "slow": "--slow", "voice_path": "--voice", "rate": "--rate"}


def refuse_options(engine: type[Engine], settings: VoiceSettings) -> None:
    """Refuse voice settings ``engine`` would silently ignore.

    Raises:
        UsageError: names the option and the engines that take it.
    """
    given = {
        "tld": settings.tld is not None,
        "slow": settings.slow,
        "voice_path": settings.voice_path is not None,
        "rate": settings.rate != 1.0,
    }
    for option, flag in _OPTION_FLAGS.items():
        if given[option] and option not in engine.OPTIONS:
            takers = sorted(name for name, e in ENGINES.items() if option in e.OPTIONS)
            raise UsageError(
                f"{flag} does not apply to the {engine.NAME} engine"
                + (f" (it is for: {', '.join(takers)})" if takers else "")
            )


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


ENGINES: dict[str, type[Engine]] = {}


def register(engine: type[Engine]) -> type[Engine]:
    """Class decorator: make an engine reachable by its NAME."""
    ENGINES[engine.NAME] = engine
    return engine


def _plugin_entry_points() -> dict[str, metadata.EntryPoint]:
    found = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in ENGINES or entry_point.name == "auto":
            log.warning("ignoring plugin engine %r: the name is taken", entry_point.name)
            continue
        found[entry_point.name] = entry_point
    return found


def engine_names() -> list[str]:
    """Every engine name a user may give, built-in and plugins, without loading plugins."""
    return sorted({*ENGINES, *_plugin_entry_points()})


def _load_plugin(entry_point: metadata.EntryPoint) -> type[Engine]:
    try:
        loaded = entry_point.load()
    except Exception as error:  # any import error of someone else's package
        raise EngineError(
            f"the {entry_point.name!r} engine plugin ({entry_point.value}) failed to load: "
            f"{type(error).__name__}: {error}"
        ) from None
    if not (isinstance(loaded, type) and issubclass(loaded, Engine)):
        raise EngineError(
            f"the {entry_point.name!r} engine plugin ({entry_point.value}) "
            "is not a workout_audio.speech.Engine subclass"
        )
    if not getattr(loaded, "NAME", None):
        loaded.NAME = entry_point.name
    ENGINES[entry_point.name] = loaded
    return loaded


def engine_class(name: str) -> type[Engine]:
    """The engine registered as ``name``, loading a plugin's on first use.

    Raises:
        UsageError: no such engine; the message lists the known ones.
        EngineError: the plugin that provides it could not be loaded.
    """
    if name in ENGINES:
        return ENGINES[name]
    plugins = _plugin_entry_points()
    if name in plugins:
        return _load_plugin(plugins[name])
    known = ", ".join(["auto", *engine_names()])
    raise UsageError(f"unknown engine {name!r}; choose one of: {known}")


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
