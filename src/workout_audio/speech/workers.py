"""Cached synthesis: each distinct phrase made once, in threads or worker processes as the
engine allows, cached the moment it is done; Ctrl-C and failures stop the rest."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED as _FIRST_COMPLETED
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ..audio.loudness import CLIP_LOUDNESS_LUFS, format_profile, parse_profile, speech_profile
from ..machine import usable_cores
from .base import Engine
from .cache import SpeechCache, StoredClip
from .clip import Clip, speech_clip
from .clip_store import ClipStore

__all__ = ["Progress", "synthesize_phrases"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

MAX_PROCESSES = 4  # each piper worker holds its own copy of the voice (~150 MB)
MIN_PHRASES_FOR_PROCESSES = 8  # fewer are quicker in this process than starting workers


def synthesize_phrases(
    engine: Engine,
    phrases: Iterable[str],
    cache: SpeechCache,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
    profiles: dict[str, list[float]] | None = None,
) -> ClipStore:
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
        profiles: filled with each phrase's loudness profile (stored with its clip).

    Raises:
        EngineError: a phrase could not be synthesised (the others made are cached).
    """
    wanted = list(dict.fromkeys(phrases))
    identity = engine.identity()
    keys = {text: cache.key(identity, text) for text in wanted}
    clips = ClipStore()
    profiles = {} if profiles is None else profiles
    for text in wanted:
        cached = cache.get_stored(keys[text])
        if cached is not None:
            clips.keep(text, cached[0])
            profiles[text] = _stored_profile(cached[0], cached[1])
    missing = [text for text in wanted if text not in clips]
    log.info("%d phrases: %d cached, %d to synthesise", len(wanted), len(clips), len(missing))
    if missing:
        cache.max_size_bytes  # noqa: B018 - a bad cache.max_size is refused before synthesis
    meta = {"engine": engine.NAME, "voice": engine.voice_label()}
    for done, (text, clip) in enumerate(_synthesize_all(engine, missing, workers), start=1):
        loudness = {
            "source_lufs": f"{clip.source_lufs:.1f}",
            "lufs": f"{CLIP_LOUDNESS_LUFS:.1f}",
            "profile": format_profile(clip.profile),
        }
        cache.put(keys[text], clip.pcm, {**meta, **loudness, "text": text})
        clips.keep(text, clip.pcm)
        profiles[text] = clip.profile
        if progress:
            progress(done, len(missing))
    if missing:  # the cache grew: back under its cap, this track's clips kept
        cache.prune(keep=keys.values())
    return clips.subset(wanted)


def _stored_profile(clip: StoredClip, meta: dict[str, object]) -> list[float]:
    """The profile stored with a clip; measured again only if it is missing or unreadable."""
    try:
        return parse_profile(str(meta["profile"]))
    except (KeyError, ValueError):
        return speech_profile(clip.read())


def _clip(engine: Engine, text: str) -> Clip:
    return speech_clip(engine.synthesize(text))


def _worker_count(engine: Engine, missing: int, workers: int | None) -> int:
    if workers is not None:
        return max(1, min(workers, missing))
    limit = engine.MAX_WORKERS or usable_cores()
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
