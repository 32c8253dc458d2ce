"""Which engine speaks a track: the one asked for, or auto's pick for the language; and the
``voices`` report of every engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import EngineError, UsageError
from ..settings import VoiceSettings
from .base import Engine
from .cache import SpeechCache
from .gtts import GttsEngine, google_reachable
from .piper import PiperEngine
from .registry import BUILTIN_ENGINES, engine_class, engine_names, make_engine

__all__ = ["EngineReport", "choose_engine", "engine_reports", "fallback_engine", "offline_engine"]

# auto's fallbacks when Google is out, best first: the built-in order without Google.
OFFLINE = tuple(engine for engine in BUILTIN_ENGINES if engine is not GttsEngine)


@dataclass(frozen=True)
class EngineReport:
    """One engine as ``workout-audio voices`` shows it."""

    name: str
    description: str
    unavailable_reason: str | None  # None: it runs here
    languages: list[str]
    voices: list[str]


def engine_reports() -> list[EngineReport]:
    """Every engine, built-in and plugin: whether it runs here (and why not), its languages
    and voices. Probes the network once, for Google."""
    reports = []
    preferred = [engine.NAME for engine in BUILTIN_ENGINES]  # auto's order; plugins after
    rank = {name: index for index, name in enumerate(preferred)}
    names = sorted(engine_names(), key=lambda name: rank.get(name, len(preferred)))
    for name in names:
        try:
            engine_type = engine_class(name)
        except EngineError as error:  # a broken plugin is reported, not fatal
            reports.append(EngineReport(name, "plugin", str(error), [], []))
            continue
        reports.append(
            EngineReport(
                name=name,
                description=engine_type.DESCRIPTION or (engine_type.__doc__ or "").split("\n")[0],
                unavailable_reason=engine_type.unavailable_reason(),
                languages=engine_type.languages(),
                voices=engine_type.voices(),
            )
        )
    return reports


def choose_engine(
    settings: VoiceSettings,
    language: str,
    *,
    phrases: Iterable[str] = (),
    cache: SpeechCache | None = None,
) -> tuple[Engine, str | None]:
    """The engine to use for a whole track, and a notice when ``auto`` fell back.

    ``auto`` takes Google's voice when every phrase is already cached for it (no
    request at all) or when Google answers; otherwise the first offline voice that
    speaks the language (a piper voice for it, then espeak-ng): one voice for the
    whole track, never a mix. ``--voice`` names a piper voice, so with ``auto`` it
    means piper.

    Raises:
        UsageError: unknown engine name, an option the engine does not take, or a
            language it does not speak.
        EngineError: the named engine cannot run here, or no engine speaks the language.
    """
    if settings.engine != "auto":
        engine = make_engine(engine_class(settings.engine), settings, language)
        if cache is not None and _all_cached(engine, phrases, cache):
            return engine, None  # a rebuild needs nothing from the engine: not even a network
        reason = engine.unavailable_reason()
        if reason is not None:
            raise EngineError(f"the {settings.engine} engine cannot run here: {reason}")
        return engine, None
    if settings.voice_path is not None:
        return make_engine(PiperEngine, _only(settings, "voice_path", "rate"), language), None

    try:
        google = make_engine(GttsEngine, _only(settings, "tld", "slow"), language)
    except UsageError as error:
        return offline_engine(settings, language, why_not_google=str(error))
    assert isinstance(google, GttsEngine)
    if cache is not None and _all_cached(google, phrases, cache):
        return google, _rate_notice(settings)
    if google_reachable(google.tld):
        return google, _rate_notice(settings)
    return offline_engine(settings, language, why_not_google="Google is not reachable")


def offline_engine(
    settings: VoiceSettings, language: str, *, why_not_google: str
) -> tuple[Engine, str]:
    """auto's offline voice for ``language``, and the notice that names it.

    Raises:
        EngineError: no offline engine speaks the language; says why for each.
    """
    if settings.tld is not None or settings.slow:
        why_not_google += " (--tld and --slow are for Google's voice only)"
    reasons = [why_not_google]
    for engine_type in OFFLINE:
        reason = engine_type.unavailable_reason()
        if reason is not None:
            reasons.append(f"{engine_type.NAME}: {reason}")
            continue
        try:
            engine = make_engine(engine_type, _only(settings, "rate"), language)
        except UsageError as error:
            reasons.append(str(error))
            continue
        label = engine.voice_label()
        return engine, (
            f"{why_not_google}: using the offline {engine.NAME} voice"
            + (f" ({label})" if label else "")
            + (f"; {engine.advice()}" if engine.advice() else "")
        )
    raise EngineError(f"no voice speaks {language!r} here: " + "; ".join(reasons))


def fallback_engine(
    settings: VoiceSettings, language: str, failed: Engine
) -> tuple[Engine, str] | None:
    """The voice to make the whole track again with when ``auto``'s Google voice, picked
    on cached phrases alone, failed for a phrase the cache lacked; None when there is
    no such case (another engine was asked for, or Google does answer).

    Raises:
        EngineError: no offline engine speaks the language.
    """
    if settings.engine != "auto" or not isinstance(failed, GttsEngine):
        return None
    if google_reachable(failed.tld):
        return None  # Google answers: its error is the one to report
    return offline_engine(settings, language, why_not_google="Google is not reachable")


def _only(settings: VoiceSettings, *options: str) -> VoiceSettings:
    """``settings`` with every voice option but ``options`` back at its default."""
    return dataclasses.replace(
        settings,
        tld=settings.tld if "tld" in options else None,
        slow=settings.slow and "slow" in options,
        voice_path=settings.voice_path if "voice_path" in options else None,
        rate=settings.rate if "rate" in options else 1.0,
    )


def _rate_notice(settings: VoiceSettings) -> str | None:
    if settings.rate == 1.0:
        return None
    return "Google's voice has one pace: --rate is for the offline voices (--slow reads slowly)"


def _all_cached(engine: Engine, phrases: Iterable[str], cache: SpeechCache) -> bool:
    identity = engine.identity()
    wanted = list(dict.fromkeys(phrases))
    return bool(wanted) and all(
        cache.get_stored(cache.key(identity, text)) is not None for text in wanted
    )
