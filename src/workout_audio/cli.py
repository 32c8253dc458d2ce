"""The ``workout-audio`` command: each command parses options, makes one core call, maps errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from .durations import format_clock, parse_duration_ms
from .errors import RoutineErrors, UsageError, WorkoutAudioError
from .pipeline import Prepared, build, prepare
from .routine import Routine, load_routine
from .script import Script
from .speech import VoiceSettings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Turn a workout routine written in YAML into one voice-guided MP3.",
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

T = TypeVar("T")


class Engine(str, Enum):
    auto = "auto"
    gtts = "gtts"
    piper = "piper"


class Format(str, Enum):
    table = "table"
    json = "json"


RoutineArg = Annotated[
    Path, typer.Argument(help="The routine file (YAML).", show_default=False, dir_okay=False)
]
EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine", help="Voice: gtts when Google is reachable, else the offline piper voice."
    ),
]
LengthOpt = Annotated[
    str | None,
    typer.Option(
        "--length", help="Exact track length (30m, 1h, 45:00, 1500s); rests absorb the difference."
    ),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="Speech cache folder (default: the user cache folder)."),
]


def _fail(error: WorkoutAudioError) -> NoReturn:
    err.print(f"[red]error:[/red] {error}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(error.exit_code)


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except WorkoutAudioError as error:
        _fail(error)
    except KeyboardInterrupt:
        err.print("interrupted: nothing was written", highlight=False)
        raise typer.Exit(130) from None


def _parse_length(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        length_ms = parse_duration_ms(value)
    except ValueError as error:
        raise UsageError(f"--length: {error}") from None
    if length_ms <= 0:
        raise UsageError("--length: must be more than zero")
    return length_ms


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    labels = {"speech": "Synthesising speech", "encode": "Encoding MP3"}
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _load(path: Path) -> Routine:
    return load_routine(path)


@app.command("build")
def build_command(
    routine_path: RoutineArg,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Where to write the MP3 (default build/NAME.mp3)."),
    ] = None,
    engine: EngineOpt = Engine.auto,
    length: LengthOpt = None,
    cache_dir: CacheOpt = None,
    bitrate: Annotated[int, typer.Option(help="MP3 bitrate in kbit/s.", min=32, max=320)] = 96,
) -> None:
    """Build the voice-guided MP3 of a routine.

    Example: workout-audio build routines/runners-total-body.yaml --length 30m
    """
    from .render import EncodeOptions

    with _user_errors():
        routine = _load(routine_path)
        length_ms = _parse_length(length)
        if output is None:
            output = Path("build") / f"{routine_path.stem}.mp3"
            output.parent.mkdir(parents=True, exist_ok=True)
        with _progress_bar() as progress:
            prepared = build(
                routine,
                output,
                voice=VoiceSettings(engine=engine.value),
                length_ms=length_ms,
                cache_dir=cache_dir,
                options=EncodeOptions(bitrate_kbps=bitrate),
                progress=progress,
            )
        _notice(prepared)
        out.print(
            f"wrote {output} ({format_clock(prepared.script.length_ms)}, "
            f"{len(prepared.script.chapters)} chapters, voice: {prepared.engine})",
            highlight=False,
        )
        _report(prepared.script)


def _notice(prepared: Prepared) -> None:
    if prepared.notice:
        err.print(f"note: {prepared.notice}", highlight=False)


def _report(script: Script) -> None:
    """What a target length changed, as a coach's notes."""
    if script.target_ms is None or not script.adjustments:
        return
    out.print(f"fitted to {format_clock(script.target_ms)}:", highlight=False)
    for change in script.adjustments:
        out.print(f"  {change}", highlight=False, markup=False)


@app.command("script")
def script_command(
    routine_path: RoutineArg,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    engine: EngineOpt = Engine.auto,
    length: LengthOpt = None,
    cache_dir: CacheOpt = None,
) -> None:
    """Print the exact timed script a build would render (same times as the MP3).

    Example: workout-audio script routines/runners-total-body.yaml --format json
    """
    with _user_errors():
        routine = _load(routine_path)
        length_ms = _parse_length(length)
        with _progress_bar() as progress:
            prepared = prepare(
                routine,
                voice=VoiceSettings(engine=engine.value),
                length_ms=length_ms,
                cache_dir=cache_dir,
                progress=progress,
            )
        _notice(prepared)
        if format is Format.json:
            typer.echo(json.dumps(script_as_json(prepared.script, prepared.engine), indent=2))
        else:
            out.print(_script_table(prepared.script))


@app.command("variants")
def variants_command(
    routine_path: RoutineArg,
    lengths: Annotated[
        str,
        typer.Option(
            "--lengths", help="Comma-separated lengths: 15m,20m,30m,45m.", show_default=False
        ),
    ],
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output-dir", help="Folder for the MP3s (default build/).", file_okay=False
        ),
    ] = None,
    engine: EngineOpt = Engine.auto,
    cache_dir: CacheOpt = None,
    bitrate: Annotated[int, typer.Option(help="MP3 bitrate in kbit/s.", min=32, max=320)] = 96,
) -> None:
    """Build one MP3 per length from one speech cache: NAME-20m.mp3, NAME-45m.mp3, ...

    Example: workout-audio variants routines/runners-total-body.yaml --lengths 15m,20m,30m,45m
    """
    from .pipeline import build_variants
    from .render import EncodeOptions

    with _user_errors():
        routine = _load(routine_path)
        wanted = [_parse_length(text.strip()) for text in lengths.split(",") if text.strip()]
        if not wanted:
            raise UsageError("--lengths: give at least one length, e.g. 20m,45m")
        folder = output_dir or Path("build")
        if output_dir is None:
            folder.mkdir(parents=True, exist_ok=True)
        with _progress_bar() as progress:
            built = build_variants(
                routine,
                [length_ms for length_ms in wanted if length_ms is not None],
                folder,
                stem=routine_path.stem,
                voice=VoiceSettings(engine=engine.value),
                cache_dir=cache_dir,
                options=EncodeOptions(bitrate_kbps=bitrate),
                progress=progress,
            )
        for path, prepared in built:
            out.print(
                f"wrote {path} ({format_clock(prepared.script.length_ms)}, "
                f"{len(prepared.script.chapters)} chapters, voice: {prepared.engine})",
                highlight=False,
            )
            _report(prepared.script)


def script_as_json(script: Script, engine: str) -> dict[str, object]:
    """The script as plain data: times in seconds, as ``script --format json`` prints it."""
    return {
        "routine": script.routine_name,
        "language": script.language,
        "engine": engine,
        "length_s": script.length_ms / 1000,
        "adjustments": (
            None
            if script.target_ms is None
            else {
                "target_s": script.target_ms / 1000,
                "length_s": script.length_ms / 1000,
                "changes": list(script.adjustments),
            }
        ),
        "events": [
            {
                "start_s": e.start_ms / 1000,
                "end_s": e.end_ms / 1000,
                "kind": e.kind,
                **({"text": e.text} if e.kind == "speech" else {"tone": e.tone}),
                "block": e.block,
                "round": e.round,
                "exercise": e.exercise,
                "side": e.side,
            }
            for e in script.events
        ],
        "chapters": [
            {"title": c.title, "start_s": c.start_ms / 1000, "end_s": c.end_ms / 1000}
            for c in script.chapters
        ],
    }


def _script_table(script: Script) -> Table:
    table = Table(
        title=f"{script.routine_name} · {format_clock(script.length_ms)}",
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("time", justify="right", style="cyan")
    table.add_column("cue")
    table.add_column("exercise", style="dim")
    for event in script.events:
        if event.kind == "tone" and event.tone in ("tick", "beep"):
            continue  # ticks and beeps would drown the table; the JSON has them all
        cue = event.text if event.kind == "speech" else f"♪ {event.tone} tone"
        side = f" ({event.side})" if event.side else ""
        minutes, seconds = divmod(event.start_ms / 1000, 60)
        table.add_row(
            f"{int(minutes)}:{seconds:04.1f}",
            escape(cue or ""),
            escape(f"{event.exercise or ''}{side}"),
        )
    return table


@app.command("validate")
def validate_command(
    routine_paths: Annotated[
        list[Path], typer.Argument(help="Routine files to check.", show_default=False)
    ],
) -> None:
    """Check routine files; print every problem as file:line: field: message.

    Example: workout-audio validate routines/*.yaml
    """
    failed = False
    for path in routine_paths:
        try:
            load_routine(path)
        except RoutineErrors as error:
            failed = True
            for problem in error.errors:
                err.print(str(problem), highlight=False, markup=False, soft_wrap=True)
            continue
        except WorkoutAudioError as error:
            failed = True
            err.print(str(error), highlight=False, markup=False, soft_wrap=True)
            continue
        out.print(f"{path}: ok", highlight=False)
    if failed:
        raise typer.Exit(2)


def main() -> None:
    """Entry point of the console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    app(prog_name="workout-audio")


if __name__ == "__main__":  # pragma: no cover
    main()
