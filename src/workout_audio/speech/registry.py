"""Engines by name: the built-in ones in one explicit tuple, third parties' by entry point.

A third-party package adds an engine by declaring an entry point in the
``workout_audio.engines`` group whose name is the engine's name and whose object is an
:class:`~.base.Engine` subclass. Entry points are loaded only when their engine is asked
for (or listed by ``workout-audio voices``).
"""

from __future__ import annotations

import logging
from importlib import metadata

from ..errors import EngineError, UsageError
from ..settings import VoiceSettings
from .base import Engine
from .espeak import EspeakEngine
from .gtts import GttsEngine
from .piper import PiperEngine

__all__ = [
    "BUILTIN_ENGINES",
    "ENGINES",
    "ENTRY_POINT_GROUP",
    "engine_class",
    "engine_names",
    "make_engine",
    "refuse_options",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "workout_audio.engines"
BUILTIN_ENGINES: tuple[type[Engine], ...] = (GttsEngine, PiperEngine, EspeakEngine)  # auto's order
# Every engine by name: the built-in ones, then plugins as they are loaded.
ENGINES: dict[str, type[Engine]] = {engine.NAME: engine for engine in BUILTIN_ENGINES}

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


def make_engine(engine: type[Engine], settings: VoiceSettings, language: str) -> Engine:
    """``engine`` for ``language``, after refusing any setting it would ignore.

    Raises:
        UsageError: a setting the engine does not take, or a language it does not speak.
    """
    refuse_options(engine, settings)
    return engine.from_settings(settings, language)


def _plugin_entry_points() -> dict[str, metadata.EntryPoint]:
    found = {}
    builtin = {engine.NAME for engine in BUILTIN_ENGINES}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in builtin or entry_point.name == "auto":
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
