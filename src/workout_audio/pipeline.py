"""The whole flow: a routine to a finished track and the files beside it.

``build`` plans and checks every file it will write (planning.py), prepares the
script and its speech (preparation.py), then encodes, tags and writes the files
beside the track; ``build_variants`` does it for several lengths from one speech
cache, ``draw_chart`` draws the picture alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .audio.music import Music
from .encode.formats import audio_format
from .encode.render import render
from .errors import StoppedPartway, UsageError
from .machine import usable_cores
from .outputs.art_cache import cached_artwork
from .outputs.sidecars import DEFAULT_SIDECARS, TrackInfo, write_sidecars
from .planning import (
    OutputPlan,
    chart_path,
    check_cache_dir,
    length_ms_of,
    plan_track,
    plan_variants,
    sidecar_names,
)
from .preparation import (
    PathLike,
    Prepared,
    Progress,
    RoutineLike,
    check_language,
    folder_of,
    load_sounds,
    music_wanted,
    prepare,
    prepare_music,
    routine_of,
    voice_of,
)
from .routine import Routine
from .settings import EncodeSettings, MusicSettings, VoiceSettings
from .storage.cache import CacheRoot
from .storage.files import give_usual_permissions
from .timeline.fit import check_roughly
from .timeline.script import Script, check_messages

__all__ = [
    "BuildResult",
    "ChartResult",
    "build",
    "build_variants",
    "check_routine",
    "draw_chart",
]


@dataclass(frozen=True)
class BuildResult:
    """A finished build: the files written, the script they follow, and the voice.

    Attributes:
        track: the audio file.
        sidecars: the files beside it (lyrics, subtitles, cue sheet, ...).
        chart: the picture of the workout, when one was asked for.
        script: the timed script the track follows, event by event.
        engine: the speech engine that spoke.
        notice: something to tell the user once (e.g. "using the offline voice"), or None.
        music: the music under the voice, checked and measured, or None.
        music_source: the file, folder or playlist the music came from, or None.
    """

    track: Path
    sidecars: tuple[Path, ...]
    chart: Path | None
    script: Script
    engine: str
    notice: str | None
    music: Music | None = None
    music_source: Path | None = None


def build(
    routine: RoutineLike,
    output: PathLike | None = None,
    *,
    length: str | None = None,
    length_ms: int | None = None,
    voice: VoiceSettings | None = None,
    engine: str | None = None,
    music: MusicSettings | PathLike | None = None,
    encode: EncodeSettings | None = None,
    format: str | None = None,
    sidecars: Sequence[str] | str = DEFAULT_SIDECARS,
    chapter_images: bool = True,
    chart: bool = False,
    cache_dir: PathLike | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Make the voice-guided track of a routine, and the files beside it.

    Every file is planned and checked before any speech is made; each is written
    whole or not at all, and nothing is written unless the track succeeds.

    Args:
        routine: a loaded routine, or the path of its YAML file.
        output: where the track goes; default ``build/NAME.mp3`` under the current
            folder (the folder is made), NAME being the routine file's.
        length: the track's exact length as text (``30m``, ``45:00``); or give
            ``length_ms``. Neither: the routine's own ``length:``, else as written.
        length_ms: the length in milliseconds.
        voice: the voice settings (engine, language, accent, rate, voice file).
        engine: the speech engine by name; overrides ``voice.engine``.
        music: music under the voice: a file, folder or .m3u playlist, or
            :class:`MusicSettings` with its levels; the routine's ``music:`` fills in
            what it leaves unsaid.
        encode: bitrate and loudness (:class:`EncodeSettings`).
        format: ``mp3``, ``m4a`` or ``opus``; by default ``output``'s suffix says,
            else ``encode.format``. Refused when ``output``'s suffix names another.
        sidecars: files beside the track: names (``("lrc", "srt")``), or as the
            command line takes them (``"lrc,srt"``, ``"none"``).
        chapter_images: a picture in every chapter (MP3).
        chart: also draw the workout's chart beside the track (NAME.png).
        cache_dir: the speech cache folder (default: the user cache folder).
        progress: called with (stage, done, total) as speech is made and encoded.

    Returns:
        The files written, the script, the engine that spoke and any notice.

    Raises:
        UsageError: a bad routine, setting or output path (before any speech is made).
        WorkoutAudioError: an engine, encoder or storage problem, in one line.
    """
    routine = routine_of(routine)
    length_ms = length_ms_of(length, length_ms)
    plan = plan_track(
        Path(routine.path),
        _path(output),
        format_name=format,
        encode=encode,
        sidecars=sidecar_names(sidecars),
        chart=chart,
    )
    cache_dir = folder_of(cache_dir)
    check_cache_dir(cache_dir)
    mix = prepare_music(routine, _music(music), cache_dir)
    prepared = prepare(
        routine, voice=voice_of(voice, engine), length_ms=length_ms, cache_dir=cache_dir,
        progress=progress,
    )  # fmt: skip
    _write(prepared, plan, mix, progress, chapter_images, cache_dir)
    if plan.chart is not None:
        from .outputs.chart import write_chart  # the chart's drawing loads only when asked for

        write_chart(prepared.script, plan.chart)
    return _result(plan, prepared, mix, music_wanted(routine, _music(music)).source)


def build_variants(
    routine: RoutineLike,
    lengths: Sequence[str | int],
    output_dir: PathLike | None = None,
    *,
    stem: str | None = None,
    voice: VoiceSettings | None = None,
    engine: str | None = None,
    music: MusicSettings | PathLike | None = None,
    encode: EncodeSettings | None = None,
    format: str | None = None,
    sidecars: Sequence[str] | str = DEFAULT_SIDECARS,
    chapter_images: bool = True,
    cache_dir: PathLike | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[BuildResult]:
    """One track a length, ``OUTPUT_DIR/NAME-20m.mp3``; every distinct phrase synthesised once.

    Every file is checked and every plan made before any file is written, so a
    length that cannot be made leaves nothing behind; then the tracks are encoded
    side by side.

    Args:
        routine: a loaded routine, or the path of its YAML file.
        lengths: each length as text (``20m``) or in milliseconds; repeats are made once.
        output_dir: the folder for the tracks; default ``build/`` under the current
            folder (made when missing).
        stem: the tracks' name before the length; default the routine file's name.
        voice: as for :func:`build`.
        engine: as for :func:`build`.
        music: as for :func:`build`.
        encode: as for :func:`build`.
        format: ``mp3``, ``m4a`` or ``opus``; default ``encode.format``.
        sidecars: as for :func:`build`.
        chapter_images: as for :func:`build`.
        cache_dir: as for :func:`build`.
        workers: tracks encoded at once (default: one per core).
        progress: as for :func:`build`; encoding is not reported.

    Returns:
        One result a distinct length, in the order given.

    Raises:
        UsageError: a bad routine, length, setting or output path (before any speech).
        WorkoutAudioError: an engine, encoder or storage problem, in one line.
    """
    routine = routine_of(routine)
    wanted = [
        length_ms_of(None, length) if isinstance(length, int) else length_ms_of(length.strip())
        for length in lengths
        if isinstance(length, int) or length.strip()
    ]
    if not wanted:
        raise UsageError("--lengths: give at least one length, e.g. 20m,45m")
    cache_dir = folder_of(cache_dir)
    check_cache_dir(cache_dir)
    plans = plan_variants(
        Path(routine.path),
        [length_ms for length_ms in wanted if length_ms is not None],
        _path(output_dir),
        stem=stem,
        format_name=format,
        encode=encode,
        sidecars=sidecar_names(sidecars),
    )
    for length_ms, _ in plans:  # every length checked before any speech is made
        check_roughly(routine, length_ms)
    mix = prepare_music(routine, _music(music), cache_dir)
    voice = voice_of(voice, engine)
    planned = [
        (
            plan,
            prepare(
                routine, voice=voice, length_ms=length_ms, cache_dir=cache_dir, progress=progress
            ),
        )
        for length_ms, plan in plans
    ]
    workers = workers or usable_cores()
    if workers > 1 and len(planned) > 1:  # the tracks already keep the cores busy
        planned = [
            (dataclasses.replace(plan, encode=dataclasses.replace(plan.encode, encoders=1)), p)
            for plan, p in planned
        ]
    # Each encode is its own ffmpeg process; the threads only feed it PCM.
    pool = ThreadPoolExecutor(max_workers=workers)
    jobs: list[Future[None]] = []
    try:
        for plan, p in planned:
            jobs.append(pool.submit(_write, p, plan, mix, None, chapter_images, cache_dir))
        for done in jobs:
            done.result()
    except KeyboardInterrupt as stopped:
        pool.shutdown(wait=True, cancel_futures=True)
        finished = [job.done() and not job.cancelled() and not job.exception() for job in jobs]
        finished += [False] * (len(planned) - len(jobs))  # never started
        if any(finished):  # the tracks finished before the stop stay: say which
            files = [(plan.track, *plan.sidecars) for plan, _ in planned]
            made = [paths for done, paths in zip(finished, files, strict=True) if done]
            missed = [paths[0] for done, paths in zip(finished, files, strict=True) if not done]
            raise StoppedPartway(
                stopped,
                written=tuple(f for paths in made for f in paths),
                not_written=tuple(missed),
            ) from None
        raise
    finally:
        pool.shutdown(wait=True)
    source = music_wanted(routine, _music(music)).source
    return [_result(plan, p, mix, source) for plan, p in planned]


@dataclass(frozen=True)
class ChartResult:
    """A chart drawn: where, and the script it shows.

    Attributes:
        path: the picture, PNG or SVG.
        script: the timed script it draws.
        engine: the speech engine whose clip lengths timed it.
        notice: something to tell the user once, or None.
    """

    path: Path
    script: Script
    engine: str
    notice: str | None


def draw_chart(
    routine: RoutineLike,
    output: PathLike | None = None,
    *,
    length: str | None = None,
    length_ms: int | None = None,
    voice: VoiceSettings | None = None,
    engine: str | None = None,
    cache_dir: PathLike | None = None,
    progress: Progress | None = None,
) -> ChartResult:
    """Draw the whole workout as a timeline: a row per block, work, rest and switch bars.

    Args:
        routine: a loaded routine, or the path of its YAML file.
        output: the picture, ``FILE.png`` or ``FILE.svg``; default ``build/NAME.png``.
        length: as for :func:`prepare`.
        length_ms: as for :func:`prepare`.
        voice: as for :func:`prepare`.
        engine: as for :func:`prepare`.
        cache_dir: as for :func:`prepare`.
        progress: as for :func:`prepare`.

    Returns:
        Where the chart went, and the script it shows.

    Raises:
        UsageError: a bad routine, setting or output path (before any speech is made).
        WorkoutAudioError: an engine or storage problem, in one line.
    """
    from .outputs.chart import write_chart

    routine = routine_of(routine)
    length_ms = length_ms_of(length, length_ms)
    path = chart_path(Path(routine.path), _path(output))
    cache_dir = folder_of(cache_dir)
    check_cache_dir(cache_dir)
    prepared = prepare(
        routine, voice=voice_of(voice, engine), length_ms=length_ms, cache_dir=cache_dir,
        progress=progress,
    )  # fmt: skip
    write_chart(prepared.script, path)
    return ChartResult(path, prepared.script, prepared.engine, prepared.notice)


def check_routine(
    path: RoutineLike, *, engine: str = "auto", cache_dir: PathLike | None = None
) -> Routine:
    """Read and check a routine file, its language, and every file it names, as a build
    would; nothing is written but the music's measurements in the cache.

    Args:
        path: the routine's YAML file, or a routine already read from it.
        engine: also check this engine speaks the routine's language (``auto``: any does).
        cache_dir: where the music's measurements are kept (default: the user cache folder).

    Returns:
        The routine.

    Raises:
        RoutineErrors: every problem in the file, each with its line (a message with no
            room at its time among them).
        UsageError: no cue wording, or no voice of ``engine``, for the routine's language;
            a music or sound file the routine names is missing or not audio.
    """
    routine = routine_of(path)
    check_messages(routine)
    check_language(routine, VoiceSettings(engine=engine))
    load_sounds(routine)
    cache_folder = folder_of(cache_dir)
    check_cache_dir(cache_folder)
    prepare_music(routine, None, cache_folder)
    return routine


def _write(
    prepared: Prepared,
    plan: OutputPlan,
    music: Music | None,
    progress: Progress | None,
    chapter_images: bool = True,
    cache_dir: Path | None = None,
) -> None:
    audio = audio_format(plan.encode.format)
    # The pictures come from the cache, or are drawn while ffmpeg encodes (Pillow and zlib
    # let go of the GIL); a picture per chapter only where the format's players show it.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="art") as drawing:
        pictures = drawing.submit(
            cached_artwork,
            prepared.script,
            chapter_images and audio.chapter_art,
            CacheRoot(cache_dir).art,
        )

        def finish(path: Path) -> None:
            audio.tagger(
                path, prepared.script, language=prepared.script.language, artwork=pictures.result()
            )
            give_usual_permissions(path)

        render(
            prepared.script,
            prepared.clips,
            plan.track,
            options=plan.encode,
            music=music,
            profiles=prepared.profiles,
            finish=finish,
            progress=(lambda done, total: progress("encode", done, total)) if progress else None,
            tones=prepared.tones,
        )
    write_sidecars(prepared.script, TrackInfo(plan.track, prepared.engine), plan.sidecar_names)


def _result(
    plan: OutputPlan, prepared: Prepared, music: Music | None, music_source: Path | None
) -> BuildResult:
    return BuildResult(
        track=plan.track,
        sidecars=plan.sidecars,
        chart=plan.chart,
        script=prepared.script,
        engine=prepared.engine,
        notice=prepared.notice,
        music=music,
        music_source=music_source if music is not None else None,
    )


def _music(music: MusicSettings | PathLike | None) -> MusicSettings | None:
    if music is None or isinstance(music, MusicSettings):
        return music
    return MusicSettings(source=Path(music).expanduser())


def _path(path: PathLike | None) -> Path | None:
    return None if path is None else Path(path)
