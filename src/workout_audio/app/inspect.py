"""``script``, ``chart`` and ``validate``: look at a routine without making its track."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .options import (
    CacheOpt,
    EngineOpt,
    LangOpt,
    LengthOpt,
    RateOpt,
    RoutineArg,
    SlowOpt,
    TldOpt,
    VoiceFileOpt,
    voice_settings,
)

if TYPE_CHECKING:
    from rich.table import Table

    from ..routine import ToneName
    from ..timeline.script import Script

__all__ = ["chart_command", "script_command", "validate_command"]

# Ticks and beeps would drown the table; the JSON has them all.
_UNLISTED_TONES: tuple[ToneName, ...] = ("tick", "beep")


class ScriptFormat(str, Enum):
    table = "table"
    json = "json"


def script_command(
    routine_path: RoutineArg,
    format: Annotated[
        ScriptFormat, typer.Option("--format", help="table or json.", metavar="FORMAT")
    ] = ScriptFormat.table,
    length: LengthOpt = None,
    cache_dir: CacheOpt = None,
    engine: EngineOpt = "auto",
    lang: LangOpt = None,
    tld: TldOpt = None,
    slow: SlowOpt = False,
    voice: VoiceFileOpt = None,
    rate: RateOpt = 1.0,
) -> None:
    """Print the exact timed script a build would render (same times as the MP3).

    Example: workout-audio script routines/runners-total-body.yaml --format json
    """
    from ..preparation import prepare
    from ..timeline.script import script_as_json
    from .console import notice, out, progress_bar

    voice_wanted = voice_settings(engine, lang, tld, slow, voice, rate)
    with progress_bar() as progress:
        prepared = prepare(
            routine_path, voice=voice_wanted, length=length, cache_dir=cache_dir,
            progress=progress,
        )  # fmt: skip
    notice(prepared.notice)
    if format is ScriptFormat.json:
        typer.echo(json.dumps(script_as_json(prepared.script, prepared.engine), indent=2))
    else:
        out.print(_script_table(prepared.script))


def _script_table(script: Script) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from ..durations import format_clock

    table = Table(
        title=f"{script.routine_name} · {format_clock(script.length_ms)}",
        caption="\n".join(f"timed by pace: {escape(timed)}" for timed in script.distances) or None,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("time", justify="right", style="cyan")
    table.add_column("cue")
    table.add_column("exercise", style="dim")
    for event in script.events:
        if event.tone in _UNLISTED_TONES:
            continue
        cue = event.text if event.kind == "speech" else f"♪ {event.tone} tone"
        side = f" ({event.side})" if event.side else ""
        table.add_row(
            format_clock(event.start_ms, tenths=True),
            escape(cue or ""),
            escape(f"{event.exercise or ''}{side}"),
        )
    return table


def chart_command(
    routine_path: RoutineArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="The picture: FILE.png or FILE.svg (default build/NAME.png).",
            metavar="FILE",
        ),
    ] = None,
    length: LengthOpt = None,
    cache_dir: CacheOpt = None,
    engine: EngineOpt = "auto",
    lang: LangOpt = None,
    tld: TldOpt = None,
    slow: SlowOpt = False,
    voice: VoiceFileOpt = None,
    rate: RateOpt = 1.0,
) -> None:
    """Draw the whole workout as a timeline: a row per block, work, rest and switch bars.

    Example: workout-audio chart routines/runners-total-body.yaml --length 20m -o build/chart.svg
    """
    from ..durations import format_clock
    from ..pipeline import draw_chart
    from .console import notice, progress_bar, say

    voice_wanted = voice_settings(engine, lang, tld, slow, voice, rate)
    with progress_bar() as progress:
        drawn = draw_chart(
            routine_path, output, voice=voice_wanted, length=length, cache_dir=cache_dir,
            progress=progress,
        )  # fmt: skip
    notice(drawn.notice)
    say(
        f"wrote {drawn.path} ({format_clock(drawn.script.length_ms)}, "
        f"{len(drawn.script.chapters)} sets)"
    )


def validate_command(
    routine_paths: Annotated[
        list[Path],
        typer.Argument(help="Routine files to check.", show_default=False, metavar="ROUTINE"),
    ],
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="Also check this engine speaks each routine's language: (auto: any does).",
            metavar="ENGINE",
        ),
    ] = "auto",
    cache_dir: CacheOpt = None,
) -> None:
    """Check routine files and the music and sounds they name; print every problem as
    file:line: field: message.

    Example: workout-audio validate routines/*.yaml
    """
    from ..errors import RoutineErrors, WorkoutAudioError
    from ..pipeline import check_routine
    from .console import err, say

    failed = False
    for path in routine_paths:
        try:
            check_routine(path, engine=engine, cache_dir=cache_dir)
        except RoutineErrors as error:
            failed = True
            for problem in error.errors:
                err.print(str(problem), highlight=False, markup=False, soft_wrap=True)
            continue
        except WorkoutAudioError as error:
            failed = True
            err.print(str(error), highlight=False, markup=False, soft_wrap=True)
            continue
        say(f"{path}: ok")
    if failed:
        raise typer.Exit(2)
