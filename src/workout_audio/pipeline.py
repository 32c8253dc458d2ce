"""The whole flow in two calls: a routine to a timed script with its clips, and on to an MP3."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .audio.music import Music, MusicOptions, check_music
from .audio.pcm import SAMPLE_WIDTH_BYTES, samples_to_ms
from .audio.tones import load_sound
from .encode.formats import audio_format, tag_track
from .encode.render import EncodeOptions, render
from .errors import EngineError, LengthError, UsageError
from .outputs.art_cache import cached_artwork
from .outputs.sidecars import DEFAULT_SIDECARS, TrackInfo, write_sidecars
from .routine import Routine
from .speech import (
    Engine,
    SpeechCache,
    VoiceSettings,
    choose_engine,
    engine_class,
    fallback_engine,
    make_engine,
    synthesize_phrases,
)
from .speech.clip_store import ClipStore
from .storage.cache import CacheRoot
from .timeline.fit import UnreachableLength, check_roughly, fit_length
from .timeline.phrases import phrases_for
from .timeline.script import Script, make_script, schedule, script_phrases

__all__ = [
    "Prepared",
    "build",
    "build_variants",
    "check_language",
    "length_label",
    "prepare",
    "prepare_music",
]

Progress = Callable[[str, int, int], None]  # stage, done, total
_FIT_ATTEMPTS = 4  # fits on estimated then measured phrase lengths; 2 are almost always enough


@dataclass(frozen=True)
class Prepared:
    """A scheduled script with the clips it needs, and the voice that made them."""

    script: Script
    clips: ClipStore  # read from the speech cache as they are played
    engine: str
    notice: str | None  # said once to the user, e.g. "using the offline voice"
    profiles: dict[str, list[float]] | None = None  # each clip's loudness, as stored with it
    tones: dict[str, bytes] = dataclasses.field(default_factory=dict)  # the routine's own sounds


def prepare(
    routine: Routine,
    *,
    voice: VoiceSettings | None = None,
    length_ms: int | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Prepared:
    """Synthesise (or fetch from the cache) every phrase and schedule the track.

    Raises:
        WorkoutAudioError: an engine, length or audio problem, with a one-line message.
    """
    voice = voice or VoiceSettings()
    if voice.language and voice.language != routine.language:
        routine = dataclasses.replace(routine, language=voice.language)
    else:
        check_language(routine)
    target_ms = length_ms if length_ms is not None else routine.length_ms
    if target_ms is not None:  # a length far out of reach is refused before any speech is made
        check_roughly(routine, target_ms, from_file=length_ms is None)
    tones = {
        sound.tone: load_sound(
            sound.tone, sound.path, where=f"{routine.path}:{sound.line}: sounds.{sound.tone}"
        )
        for sound in routine.sounds
    }
    # The wording, then the voice, are checked for the language before anything is synthesised.
    phrases = script_phrases(routine, length_ms=length_ms)
    cache = SpeechCache(cache_dir)
    engine, notice = choose_engine(voice, routine.language, phrases=phrases, cache=cache)

    profiles: dict[str, list[float]] = {}

    def speak(engine: Engine) -> tuple[ClipStore, Script]:
        def synthesize(phrases: list[str]) -> ClipStore:
            return synthesize_phrases(
                engine,
                phrases,
                cache,
                progress=(lambda done, total: progress("speech", done, total))
                if progress
                else None,
                profiles=profiles,
            )

        profiles.clear()
        clips = synthesize(phrases)
        return clips, _schedule(routine, clips, length_ms, synthesize)

    try:
        clips, script = speak(engine)
    except EngineError:
        # auto took Google's voice on cached phrases alone, and a fitted plan needs more:
        # the whole track is made again in the offline voice, never a mix of voices.
        fallback = fallback_engine(voice, routine.language, engine)
        if fallback is None:
            raise
        engine, notice = fallback
        clips, script = speak(engine)
    return Prepared(
        script=script,
        clips=clips,
        engine=engine.NAME,
        notice=notice,
        profiles=profiles,
        tones=tones,
    )


def check_language(routine: Routine, voice: VoiceSettings | None = None) -> None:
    """Check the routine's ``language:`` has cue wording and, when ``voice`` names an
    engine (not auto), that the engine speaks it; as ``validate`` and ``build`` do.

    Raises:
        UsageError: names the routine's file:line when the file chose the language.
    """
    where = f"{routine.path}:{routine.language_line}: language: " if routine.language_line else ""
    named = voice if voice is not None and voice.engine != "auto" else None
    engine_type = engine_class(named.engine) if named is not None else None  # not the file's
    try:
        phrases_for(routine.language)
        if named is not None and engine_type is not None:
            make_engine(engine_type, named, routine.language)
    except UsageError as error:
        raise UsageError(f"{where}{error}") from None


def _schedule(
    routine: Routine,
    clips: ClipStore,
    length_ms: int | None,
    synthesize: Callable[[list[str]], ClipStore],
) -> Script:
    """The script, with the clips of every phrase the fitted plan says (added to ``clips``).

    A plan fitted to a length may say things the routine as written does not
    ("Round 2 of 2."): those are synthesised and the plan fitted again on their
    real lengths, until every phrase it uses is measured.
    """

    def measured() -> dict[str, int]:
        return {text: samples_to_ms(clips.byte_count(text) // SAMPLE_WIDTH_BYTES) for text in clips}

    target_ms = length_ms if length_ms is not None else routine.length_ms
    if target_ms is None:
        return make_script(routine, measured())
    for _ in range(_FIT_ATTEMPTS):
        try:
            fitted = fit_length(routine, target_ms, measured(), from_file=length_ms is None)
        except UnreachableLength as error:
            # Measure what the plans it names would say, so the lengths it names are exact.
            named = [
                text for plan in error.plans for text in script_phrases(plan, length_ms=target_ms)
            ]
            missing = [text for text in dict.fromkeys(named) if text not in clips]
            if not missing:
                raise
            clips.update_from(synthesize(missing))
            continue
        wanted = script_phrases(fitted.layout.routine, length_ms=target_ms)
        missing = [text for text in wanted if text not in clips]
        if not missing:
            return schedule(fitted.layout, fitted.lengths_ms, measured(), adjustments=fitted.notes)
        clips.update_from(synthesize(missing))
    raise LengthError(f"{routine.path}: could not settle on a plan for this length; try another")


def prepare_music(
    routine: Routine, music: MusicOptions | None, cache_dir: Path | None
) -> Music | None:
    """The music to mix: ``music`` (from the command line) over the routine's ``music:``.

    Every track is checked and measured here, before any speech is made.

    Raises:
        UsageError: a music path is missing, an empty folder or playlist, or not audio.
    """
    wanted = (music or MusicOptions()).over(routine.music)
    return check_music(wanted, CacheRoot(cache_dir).music)


def build(
    routine: Routine,
    output: Path,
    *,
    voice: VoiceSettings | None = None,
    length_ms: int | None = None,
    cache_dir: Path | None = None,
    options: EncodeOptions | None = None,
    music: MusicOptions | None = None,
    sidecars: Sequence[str] = DEFAULT_SIDECARS,
    chapter_images: bool = True,
    progress: Progress | None = None,
) -> Prepared:
    """Make the track of ``routine`` at ``output``, and its ``sidecars`` beside it.

    ``music`` (a file, folder or playlist, its level and ducking) plays under the voice;
    the routine's own ``music:`` fills in what it leaves unsaid. The track carries a cover
    and, unless ``chapter_images`` is false, a picture per chapter. Nothing is written
    unless the track succeeds; each file is whole or absent.
    """
    mix = prepare_music(routine, music, cache_dir)
    prepared = prepare(
        routine, voice=voice, length_ms=length_ms, cache_dir=cache_dir, progress=progress
    )
    _write(prepared, output, options, mix, progress, sidecars, chapter_images, cache_dir)
    return prepared


def _write(
    prepared: Prepared,
    output: Path,
    options: EncodeOptions | None,
    music: Music | None,
    progress: Progress | None,
    sidecars: Sequence[str] = DEFAULT_SIDECARS,
    chapter_images: bool = True,
    cache_dir: Path | None = None,
) -> None:
    format_name = (options or EncodeOptions()).format
    # The pictures come from the cache, or are drawn while ffmpeg encodes (Pillow and zlib
    # let go of the GIL); only ID3 carries a picture per chapter that players show.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="art") as drawing:
        pictures = drawing.submit(
            cached_artwork,
            prepared.script,
            chapter_images and format_name == "mp3",
            CacheRoot(cache_dir).art,
        )

        def finish(path: Path) -> None:
            tag_track(
                path,
                prepared.script,
                format_name,
                language=prepared.script.language,
                artwork=pictures.result(),
            )
            umask = os.umask(0)
            os.umask(umask)
            path.chmod(0o666 & ~umask)

        render(
            prepared.script,
            prepared.clips,
            output,
            options=options,
            music=music,
            profiles=prepared.profiles,
            finish=finish,
            progress=(lambda done, total: progress("encode", done, total)) if progress else None,
            tones=prepared.tones,
        )
    write_sidecars(prepared.script, TrackInfo(output, prepared.engine), sidecars)


def length_label(length_ms: int) -> str:
    """A length as it goes in a file name: ``20m``, ``1h30m``, ``90s``, ``1500ms``."""
    if length_ms % 1000:
        return f"{length_ms}ms"
    hours, rest_s = divmod(length_ms // 1000, 3600)
    minutes, seconds = divmod(rest_s, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    parts.append(f"{seconds}s" if seconds else "")
    return "".join(parts)


def build_variants(
    routine: Routine,
    lengths_ms: list[int],
    folder: Path,
    *,
    stem: str,
    voice: VoiceSettings | None = None,
    cache_dir: Path | None = None,
    options: EncodeOptions | None = None,
    music: MusicOptions | None = None,
    sidecars: Sequence[str] = DEFAULT_SIDECARS,
    chapter_images: bool = True,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[tuple[Path, Prepared]]:
    """One track a length, ``folder/STEM-20m.mp3``; every distinct phrase synthesised once.

    Every plan is made (and checked) before any file is written, so a length that
    cannot be made leaves nothing behind; then the tracks are encoded in parallel.
    """
    mix = prepare_music(routine, music, cache_dir)
    suffix = audio_format((options or EncodeOptions()).format).suffix
    planned = [
        (
            folder / f"{stem}-{length_label(length_ms)}{suffix}",
            prepare(
                routine, voice=voice, length_ms=length_ms, cache_dir=cache_dir, progress=progress
            ),
        )
        for length_ms in dict.fromkeys(lengths_ms)
    ]
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(planned) > 1:  # the tracks already keep the cores busy
        options = dataclasses.replace(options or EncodeOptions(), encoders=1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Each encode is its own ffmpeg process; the threads only feed it PCM.
        jobs = [
            pool.submit(_write, p, path, options, mix, None, sidecars, chapter_images, cache_dir)
            for path, p in planned
        ]
        for done in jobs:
            done.result()
    return planned
