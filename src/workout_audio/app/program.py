"""``program validate`` and ``program build``: a multi-week plan to tracks and a podcast feed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .help import Command, Group
from .options import (
    OUTPUT_PANEL,
    VOICE_PANEL,
    BitrateOpt,
    CacheOpt,
    DuckOpt,
    FormatOpt,
    LangOpt,
    MusicLevelOpt,
    MusicOpt,
    SlowOpt,
    TldOpt,
    VoiceFileOpt,
    music_settings,
)

if TYPE_CHECKING:
    from ..programs import Session

__all__ = ["program_app"]

program_app = typer.Typer(
    cls=Group,
    no_args_is_help=True,
    help="A multi-week plan: check it, or build a track a session and a private podcast feed."
    "\n\nExample: workout-audio program build programs/couch-to-5k.yaml -o c25k",
)

ProgramArg = Annotated[
    Path,
    typer.Argument(
        help="The program file (YAML).", show_default=False, dir_okay=False, metavar="PROGRAM"
    ),
]


@program_app.command("validate", cls=Command)
def program_validate_command(program_path: ProgramArg) -> None:
    """Check a program file and every routine it names; file:line: field: message.

    Example: workout-audio program validate programs/couch-to-5k.yaml
    """
    from ..durations import format_clock
    from ..programs import check_program
    from .console import say

    program = check_program(program_path)
    for session in program.sessions:
        length = f"  ({format_clock(session.length_ms)})" if session.length_ms else ""
        say(f"{session.stem}  {session.title}{length}")
    say(f"ok: {program.name}, {len(program.sessions)} sessions in {program.weeks} weeks")


@program_app.command("build", cls=Command)
def program_build_command(
    program_path: ProgramArg,
    output_dir: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output-dir",
            help="Folder for the tracks, the feed and the page.",
            metavar="FOLDER",
            show_default=False,
        ),
    ],
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Where the folder will be served; every URL in the feed starts with it "
            "(default: this machine's, port 8000).",
            metavar="URL",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", help="Sessions made at once (default: one per core).", min=1, metavar="N"
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Make the sessions on a Dask cluster: its scheduler's address (tcp://HOST:8786).",
            metavar="ADDRESS",
        ),
    ] = None,
    cache_dir: CacheOpt = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Voice: auto, gtts, piper, espeak (default: the program's, else auto).",
            rich_help_panel=VOICE_PANEL,
            metavar="ENGINE",
        ),
    ] = None,
    lang: LangOpt = None,
    tld: TldOpt = None,
    slow: SlowOpt = False,
    voice: VoiceFileOpt = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            help="Speaking speed, 0.5 to 2.0.",
            rich_help_panel=VOICE_PANEL,
            metavar="RATE",
        ),
    ] = None,
    bitrate: BitrateOpt = None,
    music: MusicOpt = None,
    music_level: MusicLevelOpt = None,
    duck: DuckOpt = None,
    loudness: Annotated[
        str | None,
        typer.Option(
            "--loudness",
            help="The tracks' loudness in LUFS (default: the program's, else -16).",
            rich_help_panel=OUTPUT_PANEL,
            metavar="LUFS",
        ),
    ] = None,
    format_name: FormatOpt = None,
) -> None:
    """Build one track a session, then feed.xml, program.m3u8 and index.html; sessions
    already up to date are skipped.

    Example: workout-audio program build programs/couch-to-5k.yaml -o c25k --base-url http://192.168.1.20:8000/
    """
    from ..programs import build_program, load_program
    from .console import say
    from .options import encode_settings

    program = load_program(program_path)
    voice_wanted, music_wanted, encode = program.settings_over(
        music_settings(music, music_level, duck),
        engine=engine, language=lang, voice_path=voice, rate=rate, tld=tld,
        slow=slow or None, bitrate_kbps=bitrate, format=format_name,
        loudness_lufs=None if loudness is None else encode_settings(None, loudness).loudness_lufs,
    )  # fmt: skip

    def told(session: Session, made: bool) -> None:
        say(f"{'made' if made else 'up to date'}: {session.stem}  {session.title}")

    result = build_program(
        program, output_dir, base_url=base_url, jobs=jobs, scheduler=scheduler, voice=voice_wanted,
        music=music_wanted, encode=encode, cache_dir=cache_dir, progress=told,
    )  # fmt: skip
    say(
        f"wrote {result.feed} ({len(result.built)} sessions made, "
        f"{len(result.skipped)} up to date); subscribe to {result.feed_url}"
    )
