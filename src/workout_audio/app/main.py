"""The ``workout-audio`` command: each command parses options, makes one core call, maps errors."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer._click import ClickException, Context  # typer's own copy of click, which it raises
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from ..durations import format_clock, parse_duration_ms
from ..encode.formats import FORMATS, audio_format
from ..encode.render import MAX_TRACK_MS, EncodeOptions, check_output
from ..errors import RoutineErrors, StorageError, Terminated, UsageError, WorkoutAudioError
from ..outputs.sidecars import sidecar_paths
from ..pipeline import Prepared, build, prepare
from ..routine import Routine, load_routine
from ..speech import VoiceSettings
from ..timeline.script import Script, script_as_json
from .cache import CacheOpt, cache_app
from .options import OutputSettings, output_options, voice_options

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


class CommandError(ClickException):
    """One of our errors on its way to the user: one line on stderr, and its exit status."""

    def __init__(self, error: WorkoutAudioError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        # escaped: a routine's text or a path may hold [brackets] that rich would read as markup
        err.print(f"[red]error:[/red] {escape(self.format_message())}", highlight=False)


class _App(TyperGroup):
    """The command group: every error, ours or the command line's, ends as one line."""

    def invoke(self, ctx: Context) -> Any:  # noqa: ANN401 - whatever the command returns
        with _user_errors():
            return super().invoke(ctx)

    def main(self, *args: Any, **extra: Any) -> Any:  # noqa: ANN401
        standalone_mode = extra.pop("standalone_mode", True)
        try:
            returned = super().main(*args, standalone_mode=False, **extra)  # type: ignore[misc]
        except NoArgsIsHelpError as error:
            error.show()  # the bare command prints its help
            code = error.exit_code
        except CommandError as error:
            error.show()
            code = error.exit_code
        except ClickUsageError as error:  # a bad option or a missing argument
            hint = f" (see: {error.ctx.command_path} --help)" if error.ctx else ""
            err.print(f"[red]error:[/red] {escape(error.format_message())}{hint}", highlight=False)
            code = error.exit_code
        except ClickException as error:
            err.print(f"[red]error:[/red] {escape(error.format_message())}", highlight=False)
            code = error.exit_code
        except typer.Abort:
            code = 1
        else:
            code = returned if isinstance(returned, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=_App,
    add_completion=False,
    no_args_is_help=True,
    help="Turn a workout routine written in YAML into one voice-guided MP3.",
)


class Format(str, Enum):
    table = "table"
    json = "json"


RoutineArg = Annotated[
    Path, typer.Argument(help="The routine file (YAML).", show_default=False, dir_okay=False)
]
LengthOpt = Annotated[
    str | None,
    typer.Option(
        "--length",
        help="Exact track length (30m, 1h, 45:00, 1500s): rests, then holds and tempo, "
        "then rounds adjust.",
    ),
]


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except WorkoutAudioError as error:
        raise CommandError(error) from None
    except OSError as error:  # a disk or folder problem our code did not foresee: still one line
        raise CommandError(StorageError.from_os_error(error)) from None
    except Terminated:
        err.print("terminated: nothing was written", highlight=False)
        raise typer.Exit(143) from None
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
    if length_ms > MAX_TRACK_MS:
        raise UsageError(f"--length: {value!r} is absurdly long (over 6 hours)")
    return length_ms


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    labels = {
        "speech": "Synthesising speech",
        "encode": "Encoding MP3",
        "download": "Downloading the voice",
    }
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


def _output_path(output: Path | None, routine_path: Path, suffix: str = ".mp3") -> Path:
    """Where the track goes, checked before minutes of synthesis are spent on it."""
    if output is None:
        output = Path("build") / f"{routine_path.stem}{suffix}"
        try:
            output.parent.mkdir(exist_ok=True)
        except OSError as error:
            raise UsageError(
                f"cannot make the folder {str(output.parent)!r} for the track "
                f"({error.strerror}); choose another place with -o"
            ) from None
    if output.exists() and routine_path.exists() and output.samefile(routine_path):
        raise UsageError(f"{output}: that is the routine itself; write the track elsewhere")
    check_output(output)
    return output


def _encoding(settings: OutputSettings, output: Path | None) -> EncodeOptions:
    """The encoding, its format from --format or else from -o's suffix (mp3 by default)."""
    by_suffix = next(
        (f.name for f in FORMATS.values() if output and output.suffix.lower() == f.suffix), None
    )
    named = settings.encode.format
    if settings.format_named and by_suffix and by_suffix != named:
        raise UsageError(
            f"-o {output}: a {output.suffix if output else ''} file, but --format {named}; "
            f"name it {output.with_suffix(FORMATS[named].suffix) if output else ''}"
        )
    if settings.format_named or by_suffix is None:
        return settings.encode
    return dataclasses.replace(settings.encode, format=by_suffix)


def _check_extras(track: Path, settings: OutputSettings, chart: bool = False) -> None:
    """Every file written beside the track, checked before any work like the track itself."""
    for path in sidecar_paths(track, settings.sidecars):
        check_output(path)
    if chart:
        check_output(track.with_suffix(".png"))


def _check_cache_dir(cache_dir: Path | None) -> None:
    if cache_dir is not None and cache_dir.exists() and not cache_dir.is_dir():
        raise UsageError(f"--cache-dir: {str(cache_dir)!r} is a file, not a folder")


@app.command("build")
@voice_options
@output_options
def build_command(
    routine_path: RoutineArg,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Where to write the track (default build/NAME.mp3)."),
    ] = None,
    length: LengthOpt = None,
    cache_dir: CacheOpt = None,
    chart: Annotated[
        bool,
        typer.Option("--chart", help="Also draw the workout's chart beside it (NAME.png)."),
    ] = False,
    *,
    voice: VoiceSettings,
    output_settings: OutputSettings,
) -> None:
    """Build the voice-guided track of a routine, with its lyrics file beside it.

    Example: workout-audio build routines/runners-total-body.yaml --music ~/Music/run --length 30m
    """
    routine = _load(routine_path)
    length_ms = _parse_length(length)
    encode = _encoding(output_settings, output)
    path = _output_path(output, routine_path, audio_format(encode.format).suffix)
    _check_extras(path, output_settings, chart)
    _check_cache_dir(cache_dir)
    with _progress_bar() as progress:
        prepared = build(
            routine,
            path,
            voice=voice,
            length_ms=length_ms,
            cache_dir=cache_dir,
            options=encode,
            music=output_settings.music,
            sidecars=output_settings.sidecars,
            chapter_images=output_settings.chapter_images,
            progress=progress,
        )
    extras = sidecar_paths(path, output_settings.sidecars)
    if chart:
        from ..outputs.chart import write_chart  # the chart's drawing loads only when asked for

        extras.append(write_chart(prepared.script, path.with_suffix(".png")))
    _notice(prepared)
    _wrote(path, prepared)
    if extras:
        out.print(f"beside it: {', '.join(p.name for p in extras)}", highlight=False, markup=False)


def _notice(prepared: Prepared) -> None:
    if prepared.notice:
        err.print(f"note: {prepared.notice}", highlight=False, markup=False)


def _wrote(path: Path, prepared: Prepared) -> None:
    """Where the track went, how long it is, and what a target length changed."""
    out.print(
        f"wrote {path} ({format_clock(prepared.script.length_ms)}, "
        f"{len(prepared.script.chapters)} chapters, voice: {prepared.engine})",
        highlight=False,
        markup=False,
    )
    _report(prepared.script)


def _report(script: Script) -> None:
    """What a target length changed, as a coach's notes."""
    if script.target_ms is None or not script.adjustments:
        return
    out.print(f"fitted to {format_clock(script.target_ms)}:", highlight=False)
    for change in script.adjustments:
        out.print(f"  {change}", highlight=False, markup=False)


@app.command("script")
@voice_options
def script_command(
    routine_path: RoutineArg,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    length: LengthOpt = None,
    cache_dir: CacheOpt = None,
    *,
    voice: VoiceSettings,
) -> None:
    """Print the exact timed script a build would render (same times as the MP3).

    Example: workout-audio script routines/runners-total-body.yaml --format json
    """
    routine = _load(routine_path)
    length_ms = _parse_length(length)
    _check_cache_dir(cache_dir)
    with _progress_bar() as progress:
        prepared = prepare(
            routine, voice=voice, length_ms=length_ms, cache_dir=cache_dir, progress=progress
        )
    _notice(prepared)
    if format is Format.json:
        typer.echo(json.dumps(script_as_json(prepared.script, prepared.engine), indent=2))
    else:
        out.print(_script_table(prepared.script))


@app.command("variants")
@voice_options
@output_options
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
    cache_dir: CacheOpt = None,
    *,
    voice: VoiceSettings,
    output_settings: OutputSettings,
) -> None:
    """Build one MP3 per length from one speech cache: NAME-20m.mp3, NAME-45m.mp3, ...

    Example: workout-audio variants routines/runners-total-body.yaml --lengths 15m,20m,30m,45m
    """
    from ..pipeline import build_variants, length_label

    routine = _load(routine_path)
    wanted = [_parse_length(text.strip()) for text in lengths.split(",") if text.strip()]
    if not wanted:
        raise UsageError("--lengths: give at least one length, e.g. 20m,45m")
    _check_cache_dir(cache_dir)
    if output_dir is not None and not output_dir.is_dir():
        raise UsageError(f"-o: folder {str(output_dir)!r} does not exist")
    # Every file is checked before minutes of synthesis are spent on any of them.
    suffix = audio_format(output_settings.encode.format).suffix
    folder = _output_path(
        None if output_dir is None else output_dir / f"{routine_path.stem}{suffix}",
        routine_path,
        suffix,
    ).parent
    for length_ms in wanted:
        if length_ms is not None:
            track = folder / f"{routine_path.stem}-{length_label(length_ms)}{suffix}"
            check_output(track)
            _check_extras(track, output_settings)
    with _progress_bar() as progress:
        built = build_variants(
            routine,
            [length_ms for length_ms in wanted if length_ms is not None],
            folder,
            stem=routine_path.stem,
            voice=voice,
            cache_dir=cache_dir,
            options=output_settings.encode,
            music=output_settings.music,
            sidecars=output_settings.sidecars,
            chapter_images=output_settings.chapter_images,
            progress=progress,
        )
    if built:
        _notice(built[0][1])
    for path, prepared in built:
        _wrote(path, prepared)


@app.command("chart")
@voice_options
def chart_command(
    routine_path: RoutineArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="The picture: FILE.png or FILE.svg (default build/NAME.png)."
        ),
    ] = None,
    length: LengthOpt = None,
    cache_dir: CacheOpt = None,
    *,
    voice: VoiceSettings,
) -> None:
    """Draw the whole workout as a timeline: a row per block, work, rest and switch bars.

    Example: workout-audio chart routines/runners-total-body.yaml --length 20m -o build/chart.svg
    """
    from ..outputs.chart import CHART_FORMATS, write_chart

    routine = _load(routine_path)
    length_ms = _parse_length(length)
    if output is not None and output.suffix.lower() not in CHART_FORMATS:
        raise UsageError(f"-o {output}: the chart is written as .png or .svg")
    path = _output_path(output, routine_path, ".png")
    _check_cache_dir(cache_dir)
    with _progress_bar() as progress:
        prepared = prepare(
            routine, voice=voice, length_ms=length_ms, cache_dir=cache_dir, progress=progress
        )
    write_chart(prepared.script, path)
    _notice(prepared)
    out.print(
        f"wrote {path} ({format_clock(prepared.script.length_ms)}, "
        f"{len(prepared.script.chapters)} sets)",
        highlight=False,
        markup=False,
    )


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
        table.add_row(
            format_clock(event.start_ms, tenths=True),
            escape(cue or ""),
            escape(f"{event.exercise or ''}{side}"),
        )
    return table


@app.command("validate")
def validate_command(
    routine_paths: Annotated[
        list[Path], typer.Argument(help="Routine files to check.", show_default=False)
    ],
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="Also check this engine speaks each routine's language: (auto: any does).",
        ),
    ] = "auto",
) -> None:
    """Check routine files; print every problem as file:line: field: message.

    Example: workout-audio validate routines/*.yaml
    """
    from ..pipeline import check_language

    failed = False
    for path in routine_paths:
        try:
            check_language(load_routine(path), VoiceSettings(engine=engine))
        except RoutineErrors as error:
            failed = True
            for problem in error.errors:
                err.print(str(problem), highlight=False, markup=False, soft_wrap=True)
            continue
        except WorkoutAudioError as error:
            failed = True
            err.print(str(error), highlight=False, markup=False, soft_wrap=True)
            continue
        out.print(f"{path}: ok", highlight=False, markup=False)
    if failed:
        raise typer.Exit(2)


voices_app = typer.Typer(invoke_without_command=True)
app.add_typer(voices_app, name="voices")


@voices_app.callback()
def voices_command(context: typer.Context) -> None:
    """List each voice engine: whether it runs here (and why not), its languages and voices;
    `voices download NAME` adds a piper voice.

    Example: workout-audio voices
    """
    import textwrap

    from ..speech import engine_reports
    from ..timeline.phrases import available_languages

    if context.invoked_subcommand is not None:
        return
    for report in engine_reports():
        status = report.unavailable_reason or "available"
        if report.unavailable_reason:
            status = f"not available: {report.unavailable_reason}"
        out.print(f"{report.name}: {report.description}", highlight=False, markup=False)
        out.print(f"  {status}", highlight=False, markup=False)
        if report.languages:
            listed = f"languages ({len(report.languages)}): {', '.join(report.languages)}"
            out.print(
                textwrap.fill(listed, 96, initial_indent="  ", subsequent_indent="    "),
                highlight=False,
                markup=False,
            )
        for line in report.voices:
            out.print(f"  voice: {line}", highlight=False, markup=False)
    out.print(
        f"cue wording (--lang or the routine's language:): {', '.join(available_languages())}",
        highlight=False,
        markup=False,
    )


@voices_app.command("download")
def voices_download_command(
    name: Annotated[
        str, typer.Argument(help="A piper voice: de_DE-thorsten-medium, es_ES-davefx-medium, ...")
    ],
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", help="Another server holding a copy of the piper voices."),
    ] = None,
) -> None:
    """Download a piper voice into the user data folder; --voice NAME then uses it.

    Example: workout-audio voices download de_DE-thorsten-medium
    """
    from ..speech.voices import download_voice

    with _progress_bar() as progress:
        voice = download_voice(
            name,
            mirror=mirror,
            progress=lambda done, total: progress("download", done, total or done),
        )
    out.print(
        f"installed {voice.name} ({voice.language}) in {voice.model.parent}; "
        f"use it with --voice {voice.name}",
        highlight=False,
        markup=False,
    )


app.add_typer(cache_app, name="cache")


def main() -> None:
    """Entry point of the console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    app(prog_name="workout-audio")


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM: unwind, so the cleanup that removes partial files runs.

    Python's default SIGTERM ends the process on the spot, leaving partial files; a
    second signal is ignored so it cannot cut the cleanup short.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


if __name__ == "__main__":  # pragma: no cover
    main()
