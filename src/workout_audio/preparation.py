"""A routine to its timed script and the speech it says: the voice chosen, every phrase
synthesised (or taken from the cache), the length fitted on the clips' real lengths.

This is the dry run under :func:`workout_audio.build`: nothing is written but the
speech cache's entries.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from .audio.music import Music, check_music
from .audio.pcm import SAMPLE_WIDTH_BYTES, samples_to_ms
from .audio.tones import load_sound
from .errors import EngineError, LengthError, UsageError
from .interchange import load_workout
from .planning import check_cache_dir, length_ms_of
from .routine import Routine, ToneName
from .settings import MusicSettings, VoiceSettings
from .speech import (
    Engine,
    SpeechCache,
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
from .timeline.script import Script, make_script, schedule, script_phrases, unplaced_messages

__all__ = [
    "PathLike",
    "Prepared",
    "Progress",
    "RoutineLike",
    "check_language",
    "clip_lengths_ms",
    "folder_of",
    "load_sounds",
    "music_wanted",
    "prepare",
    "prepare_music",
    "routine_of",
    "voice_of",
]

Progress = Callable[[str, int, int], None]  # stage, done, total
# A routine, or the path of its file; paths and settings as Path objects or strings.
RoutineLike = Union[Routine, str, "os.PathLike[str]"]
PathLike = Union[str, "os.PathLike[str]"]
log = logging.getLogger(__name__)
_FIT_ATTEMPTS = 4  # fits on estimated then measured phrase lengths; 2 are almost always enough


@dataclass(frozen=True)
class Prepared:
    """A scheduled script with the clips it needs, and the voice that made them."""

    script: Script
    clips: ClipStore  # read from the speech cache as they are played
    engine: str
    notice: str | None  # said once to the user, e.g. "using the offline voice"
    profiles: dict[str, list[float]] | None = None  # each clip's loudness, as stored with it
    tones: dict[ToneName, bytes] = dataclasses.field(
        default_factory=dict
    )  # the routine's own sounds


def prepare(
    routine: RoutineLike,
    *,
    length: str | None = None,
    length_ms: int | None = None,
    voice: VoiceSettings | None = None,
    engine: str | None = None,
    cache_dir: PathLike | None = None,
    progress: Progress | None = None,
) -> Prepared:
    """Synthesise (or fetch from the cache) every phrase and schedule the track.

    This is a dry run of :func:`build`: the exact timed script, with its clips, and
    no file written but the speech cache's.

    Args:
        routine: a loaded routine, or the path of its YAML file.
        length: the track's exact length as text (``30m``, ``45:00``); or give
            ``length_ms``. Neither: the routine's own ``length:``, else as written.
        length_ms: the length in milliseconds.
        voice: the voice settings (engine, language, accent, rate, voice file).
        engine: the speech engine by name (``piper``, ``gtts``, ``espeak``, ``auto``);
            overrides ``voice.engine``.
        cache_dir: the speech cache folder (default: the user cache folder).
        progress: called with (stage, done, total) as speech is made.

    Returns:
        The script, its clips, the engine that spoke, and a notice for the user.

    Raises:
        WorkoutAudioError: a routine, engine, length or audio problem, in one line.
    """
    loaded = routine_of(routine)
    target_ms = length_ms_of(length, length_ms)
    cache_folder = folder_of(cache_dir)
    check_cache_dir(cache_folder)
    return _prepare(loaded, voice_of(voice, engine), target_ms, cache_folder, progress)


def _prepare(
    routine: Routine,
    voice: VoiceSettings,
    length_ms: int | None,
    cache_dir: Path | None,
    progress: Progress | None,
) -> Prepared:
    if voice.language and voice.language != routine.language:
        routine = dataclasses.replace(routine, language=voice.language)
    else:
        check_language(routine)
    if voice.listener_name != routine.listener_name:
        routine = dataclasses.replace(routine, listener_name=voice.listener_name)
    target_ms = length_ms if length_ms is not None else routine.length_ms
    if target_ms is not None:  # a length far out of reach is refused before any speech is made
        check_roughly(routine, target_ms, from_file=length_ms is None)
    tones = load_sounds(routine)
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
    for problem in unplaced_messages(routine, script):  # as validate says, with the real voice
        log.warning("%s (left out of this track)", problem)
    return Prepared(
        script=script,
        clips=clips,
        engine=engine.NAME,
        notice=notice,
        profiles=profiles,
        tones=tones,
    )


def load_sounds(routine: Routine) -> dict[ToneName, bytes]:
    """The routine's own ``sounds:``, each decoded; as ``validate`` and ``build`` read them.

    Raises:
        UsageError: a sound file is missing or not audio, named with its file:line.
    """
    return {
        sound.tone: load_sound(
            sound.tone, sound.path, where=f"{routine.path}:{sound.line}: sounds.{sound.tone}"
        )
        for sound in routine.sounds
    }


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
        return clip_lengths_ms(clips)

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


def clip_lengths_ms(clips: ClipStore) -> dict[str, int]:
    """Each phrase's measured length, as the length fitter takes it."""
    return {text: samples_to_ms(clips.byte_count(text) // SAMPLE_WIDTH_BYTES) for text in clips}


def prepare_music(
    routine: Routine, music: MusicSettings | None, cache_dir: Path | None
) -> Music | None:
    """The music to mix: ``music`` (from the command line) over the routine's ``music:``.

    Every track is checked and measured here, before any speech is made.

    Raises:
        UsageError: a music path is missing, an empty folder or playlist, or not audio.
    """
    wanted = music_wanted(routine, music)
    if wanted.source is None and (wanted.level_db is not None or wanted.duck_db is not None):
        log.warning(
            "a music level or duck was given, but there is no music to apply it to "
            "(give --music, or music: in the routine): ignored"
        )
    return check_music(wanted, CacheRoot(cache_dir).music)


def music_wanted(routine: Routine, music: MusicSettings | None) -> MusicSettings:
    """The music asked for: ``music`` (from the command line) over the routine's ``music:``."""
    return (music or MusicSettings()).over(routine.music)


def routine_of(routine: RoutineLike) -> Routine:
    """The routine itself, or the one in a file: our YAML, or a workout to import."""
    return routine if isinstance(routine, Routine) else load_workout(os.fspath(routine))


def folder_of(path: PathLike | None) -> Path | None:
    return None if path is None else Path(path).expanduser()


def voice_of(voice: VoiceSettings | None, engine: str | None) -> VoiceSettings:
    voice = voice or VoiceSettings()
    return voice if engine is None else dataclasses.replace(voice, engine=engine)
