"""Speech: pick an engine, and turn phrases into clean clips through the cache."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED as _FIRST_COMPLETED
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from ..errors import EngineError, UsageError
from ..loudness import CLIP_LOUDNESS_LUFS
from . import espeak as _espeak  # noqa: F401 - registers the engine
from . import gtts as _gtts  # noqa: F401 - registers the engine
from . import piper as _piper  # noqa: F401 - registers the engine
from .base import ENGINES, Engine, VoiceSettings, engine_class, engine_names
from .cache import CacheInfo, SpeechCache, default_cache_dir
from .clip import Clip, speech_clip
from .espeak import EspeakEngine
from .gtts import GttsEngine, google_reachable
from .piper import PiperEngine

__all__ = [
    "ENGINES",
    "CacheInfo",
    "Engine",
    "EngineReport",
    "SpeechCache",
    "VoiceSettings",
    "choose_engine",
    "default_cache_dir",
    "engine_class",
    "engine_names",
    "engine_reports",
    "synthesize_phrases",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

MAX_PROCESSES = 4  # each piper worker holds its own copy of the voice (~150 MB)
MIN_PHRASES_FOR_PROCESSES = 8  # fewer are quicker in this process than starting workers
OFFLINE = (PiperEngine, EspeakEngine)  # auto's fallbacks, best first


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
    preferred = ["gtts", "piper", "espeak"]  # auto's order; plugins after, by name
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
    speaks the language: one voice for the whole track, never a mix. ``--voice``
    names a piper voice, so with ``auto`` it means piper.

    Raises:
        UsageError: unknown engine name, an option the engine does not take, or a
            language it does not speak.
        EngineError: the named engine cannot run here, or no engine speaks the language.
    """
    if settings.engine != "auto":
        engine = engine_class(settings.engine).from_settings(settings, language)
        if cache is not None and _all_cached(engine, phrases, cache):
            return engine, None  # a rebuild needs nothing from the engine: not even a network
        reason = engine.unavailable_reason()
        if reason is not None:
            raise EngineError(f"the {settings.engine} engine cannot run here: {reason}")
        return engine, None
    if settings.voice_path is not None:
        return PiperEngine.from_settings(_only(settings, "voice_path", "rate"), language), None

    google_settings = _only(settings, "tld", "slow")
    offline_settings = _only(settings, "rate")
    try:
        google = GttsEngine.from_settings(google_settings, language)
    except UsageError as error:
        why_not_google = str(error)
    else:
        if cache is not None and _all_cached(google, phrases, cache):
            return google, _rate_notice(settings)
        if google_reachable(google.tld):
            return google, _rate_notice(settings)
        why_not_google = "Google is not reachable"
    if settings.tld is not None or settings.slow:
        why_not_google += " (--tld and --slow are for Google's voice only)"
    reasons = [why_not_google]
    for engine_type in OFFLINE:
        reason = engine_type.unavailable_reason()
        if reason is None:
            try:
                engine = engine_type.from_settings(offline_settings, language)
            except UsageError as error:
                reasons.append(str(error))
                continue
            label = engine.voice_label()
            return engine, (
                f"{why_not_google}: using the offline {engine.NAME} voice"
                + (f" ({label})" if label else "")
            )
        reasons.append(f"{engine_type.NAME}: {reason}")
    raise EngineError(f"no voice speaks {language!r} here: " + "; ".join(reasons))


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
    return bool(wanted) and all(cache.get(cache.key(identity, text)) is not None for text in wanted)


def synthesize_phrases(
    engine: Engine,
    phrases: Iterable[str],
    cache: SpeechCache,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
) -> dict[str, bytes]:
    """Clips (PCM) for every phrase, synthesising only the distinct ones not yet cached.

    Phrases missing from the cache are made in parallel as the engine allows
    (``Engine.PARALLEL``); each is cached the moment it is done, so an interrupted
    build keeps what it made. ``progress(done, total)`` counts the phrases made.

    Args:
        engine: the voice.
        phrases: what to say; repeats are made once.
        cache: where finished clips are kept.
        progress: called in this thread after each phrase is made.
        workers: threads or processes to use; None picks from the engine and the cores.

    Raises:
        EngineError: a phrase could not be synthesised (the others made are cached).
    """
    wanted = list(dict.fromkeys(phrases))
    identity = engine.identity()
    keys = {text: cache.key(identity, text) for text in wanted}
    clips: dict[str, bytes] = {}
    for text in wanted:
        cached = cache.get(keys[text])
        if cached is not None:
            clips[text] = cached
    missing = [text for text in wanted if text not in clips]
    log.info("%d phrases: %d cached, %d to synthesise", len(wanted), len(clips), len(missing))
    meta = {"engine": engine.NAME, "voice": engine.voice_label()}
    for done, (text, clip) in enumerate(_synthesize_all(engine, missing, workers), start=1):
        loudness = {"source_lufs": f"{clip.source_lufs:.1f}", "lufs": f"{CLIP_LOUDNESS_LUFS:.1f}"}
        cache.put(keys[text], clip.pcm, {**meta, **loudness, "text": text})
        clips[text] = clip.pcm
        if progress:
            progress(done, len(missing))
    return {text: clips[text] for text in wanted}


def _clip(engine: Engine, text: str) -> Clip:
    return speech_clip(engine.synthesize(text))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _worker_count(engine: Engine, missing: int, workers: int | None) -> int:
    if workers is not None:
        return max(1, min(workers, missing))
    limit = engine.MAX_WORKERS or _cpu_count()
    if engine.PARALLEL == "threads":
        return max(1, min(limit, missing))
    if engine.PARALLEL == "processes" and missing >= MIN_PHRASES_FOR_PROCESSES:
        return max(1, min(limit, MAX_PROCESSES, missing))
    return 1


def _synthesize_all(
    engine: Engine, texts: list[str], workers: int | None
) -> Iterator[tuple[str, Clip]]:
    """(text, clip) pairs in the order they finish."""
    count = _worker_count(engine, len(texts), workers) if texts else 0
    if count <= 1 or engine.PARALLEL == "serial":
        for text in texts:
            yield text, _clip(engine, text)
        return
    if engine.PARALLEL == "threads":
        yield from _in_pool(ThreadPoolExecutor(count, thread_name_prefix="speech"), engine, texts)
        return
    pool = ProcessPoolExecutor(
        count,
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded parent
        initializer=_worker_start,
        initargs=(engine, count),
    )
    done: set[str] = set()
    try:
        for text, clip in _in_pool(pool, None, texts):
            done.add(text)
            yield text, clip
    except BrokenProcessPool as error:  # a worker died (memory?) or could not start
        log.warning("speech workers failed (%s); going on in this process", error)
        for text in texts:
            if text not in done:
                yield text, _clip(engine, text)


def _in_pool(pool: Executor, engine: Engine | None, texts: list[str]) -> Iterator[tuple[str, Clip]]:
    """Run every phrase in ``pool``; on the first failure or Ctrl-C, stop the rest."""
    futures: dict[Future[Clip], str] = {}
    try:
        # Worker processes start on submit; started with Ctrl-C ignored, they leave it to
        # this process (which stops them) instead of each printing a traceback.
        with _sigint_ignored() if engine is None else contextlib.nullcontext():
            for text in texts:
                if engine is None:
                    futures[pool.submit(_worker_clip, text)] = text
                else:
                    futures[pool.submit(_clip, engine, text)] = text
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=_FIRST_COMPLETED)
            for future in finished:
                yield futures[future], future.result()
    except BaseException:
        if engine is not None:
            engine.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while child processes start: they inherit it, and ignore it from birth."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; leave them be
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


_worker_engine: Engine | None = None


def _worker_start(engine: Engine, workers: int) -> None:
    """In each worker process: Ctrl-C is the parent's to handle; set the engine up once."""
    global _worker_engine
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine.worker_setup(workers)
    _worker_engine = engine


def _worker_clip(text: str) -> Clip:
    assert _worker_engine is not None, "worker not started"
    return _clip(_worker_engine, text)
