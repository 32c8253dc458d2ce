"""Speech: pick an engine, and turn phrases into clean clips through the cache."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..audio import speech_clip
from ..errors import EngineError, UsageError
from . import gtts as _gtts  # noqa: F401 - registers the engine
from . import piper as _piper  # noqa: F401 - registers the engine
from .base import ENGINES, Engine, engine_class
from .cache import SpeechCache, default_cache_dir
from .gtts import GttsEngine
from .piper import PiperEngine

__all__ = [
    "ENGINES",
    "Engine",
    "SpeechCache",
    "VoiceSettings",
    "choose_engine",
    "default_cache_dir",
    "synthesize_phrases",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class VoiceSettings:
    """What the user asked of the voice; ``language`` None means the routine's own."""

    engine: str = "auto"
    language: str | None = None


def choose_engine(settings: VoiceSettings, language: str) -> tuple[Engine, str | None]:
    """The engine to use for a whole track, and a notice when ``auto`` fell back.

    ``auto`` takes gTTS when Google answers, else the offline piper voice:
    one voice for the whole track, never a mix.

    Raises:
        UsageError: unknown engine name.
        EngineError: the named engine cannot run here.
    """
    name = settings.engine
    if name == "auto":
        if GttsEngine.unavailable_reason() is None:
            return GttsEngine(language), None
        reason = PiperEngine.unavailable_reason()
        if reason is not None:
            raise EngineError(f"no voice available: Google is unreachable and {reason}")
        return PiperEngine(language), "Google is not reachable: using the offline piper voice"
    engine_type = engine_class(name)
    reason = engine_type.unavailable_reason()
    if reason is not None:
        raise EngineError(f"engine {name!r} cannot run here: {reason}")
    if engine_type is PiperEngine and language.split("-")[0] not in PiperEngine.LANGUAGES:
        raise UsageError(f"the bundled piper voice speaks English only, not {language!r}")
    return engine_type(language), None


def synthesize_phrases(
    engine: Engine,
    phrases: Iterable[str],
    cache: SpeechCache,
    progress: Progress | None = None,
) -> dict[str, bytes]:
    """Clips (PCM) for every phrase, synthesising only those not yet cached.

    Raises:
        EngineError: a phrase could not be synthesised.
    """
    wanted = list(dict.fromkeys(phrases))
    identity = engine.identity()
    clips: dict[str, bytes] = {}
    missing: list[tuple[str, str]] = []
    for text in wanted:
        key = cache.key(identity, text)
        cached = cache.get(key)
        if cached is None:
            missing.append((text, key))
        else:
            clips[text] = cached
    log.info("%d phrases: %d cached, %d to synthesise", len(wanted), len(clips), len(missing))
    for done, (text, key) in enumerate(missing, start=1):
        pcm = speech_clip(engine.synthesize(text))
        cache.put(key, pcm)
        clips[text] = pcm
        if progress:
            progress(done, len(missing))
    return clips
