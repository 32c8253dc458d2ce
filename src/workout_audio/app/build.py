"""``build`` and ``variants``: a routine to a finished track, or one a length."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import (
    LOUDNESS_DEFAULT,
    SIDECARS_DEFAULT,
    BitrateOpt,
    CacheOpt,
    ChapterImagesOpt,
    DuckOpt,
    EngineOpt,
    FormatOpt,
    LangOpt,
    LengthOpt,
    LoudnessOpt,
    MusicLevelOpt,
    MusicOpt,
    NameOpt,
    RateOpt,
    RoutineArg,
    SidecarsOpt,
    SlowOpt,
    TldOpt,
    VoiceFileOpt,
    encode_settings,
    music_settings,
    voice_settings,
)

__all__ = ["build_command", "variants_command"]


def build_command(
    routine_path: RoutineArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Where to write the track (default build/NAME.mp3).",
            metavar="FILE",
        ),
    ] = None,
    length: LengthOpt = None,
    cache_dir: CacheOpt = None,
    chart: Annotated[
        bool,
        typer.Option("--chart", help="Also draw the workout's chart beside it (NAME.png)."),
    ] = False,
    engine: EngineOpt = "auto",
    lang: LangOpt = None,
    tld: TldOpt = None,
    slow: SlowOpt = False,
    voice: VoiceFileOpt = None,
    rate: RateOpt = 1.0,
    name: NameOpt = None,
    bitrate: BitrateOpt = None,
    music: MusicOpt = None,
    music_level: MusicLevelOpt = None,
    duck: DuckOpt = None,
    loudness: LoudnessOpt = LOUDNESS_DEFAULT,
    format_name: FormatOpt = None,
    sidecars: SidecarsOpt = SIDECARS_DEFAULT,
    chapter_images: ChapterImagesOpt = True,
) -> None:
    """Build the voice-guided track of a routine, with its lyrics file beside it.

    Example: workout-audio build routines/runners-total-body.yaml --music ~/Music/run --length 30m
    """
    from ..pipeline import build
    from ..planning import track_format
    from .console import notice, progress_bar, say, wrote

    voice_wanted = voice_settings(engine, lang, tld, slow, voice, rate, name)
    music_wanted = music_settings(music, music_level, duck)
    encode = encode_settings(bitrate, loudness)
    with progress_bar(track_format(output, format_name, encode)) as progress:
        result = build(
            routine_path,
            output,
            length=length,
            voice=voice_wanted,
            music=music_wanted,
            encode=encode,
            format=format_name,
            sidecars=sidecars,
            chapter_images=chapter_images,
            chart=chart,
            cache_dir=cache_dir,
            progress=progress,
        )
    notice(result.notice)
    wrote(result)
    extras = [*result.sidecars, *([result.chart] if result.chart else [])]
    if extras:
        say(f"beside it: {', '.join(p.name for p in extras)}")


def variants_command(
    routine_path: RoutineArg,
    lengths: Annotated[
        str,
        typer.Option(
            "--lengths",
            help="Comma-separated lengths: 15m,20m,30m,45m.",
            show_default=False,
            metavar="LENGTHS",
        ),
    ],
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output-dir",
            help="Folder for the MP3s (default build/).",
            file_okay=False,
            metavar="FOLDER",
        ),
    ] = None,
    cache_dir: CacheOpt = None,
    engine: EngineOpt = "auto",
    lang: LangOpt = None,
    tld: TldOpt = None,
    slow: SlowOpt = False,
    voice: VoiceFileOpt = None,
    rate: RateOpt = 1.0,
    bitrate: BitrateOpt = None,
    music: MusicOpt = None,
    music_level: MusicLevelOpt = None,
    duck: DuckOpt = None,
    loudness: LoudnessOpt = LOUDNESS_DEFAULT,
    format_name: FormatOpt = None,
    sidecars: SidecarsOpt = SIDECARS_DEFAULT,
    chapter_images: ChapterImagesOpt = True,
) -> None:
    """Build one MP3 per length from one speech cache: NAME-20m.mp3, NAME-45m.mp3, ...

    Example: workout-audio variants routines/runners-total-body.yaml --lengths 15m,20m,30m,45m
    """
    from ..pipeline import build_variants
    from ..planning import track_format
    from .console import notice, progress_bar, wrote

    voice_wanted = voice_settings(engine, lang, tld, slow, voice, rate)
    music_wanted = music_settings(music, music_level, duck)
    encode = encode_settings(bitrate, loudness)
    with progress_bar(track_format(None, format_name, encode)) as progress:
        built = build_variants(
            routine_path,
            lengths.split(","),
            output_dir,
            voice=voice_wanted,
            music=music_wanted,
            encode=encode,
            format=format_name,
            sidecars=sidecars,
            chapter_images=chapter_images,
            cache_dir=cache_dir,
            progress=progress,
        )
    if built:
        notice(built[0].notice)
    for result in built:
        wrote(result)
