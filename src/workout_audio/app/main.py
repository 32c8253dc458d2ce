"""The ``workout-audio`` command: its commands, our errors as one line each, ``--version``.

Only typer is imported here: each command loads the library when it runs, so
``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Annotated, Any

import typer

# typer's own copy of click, which it raises; checked against typer 0.29.2
from typer._click import ClickException, Context
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError

from ..errors import StoppedPartway, StorageError, Terminated, WorkoutAudioError
from .batch import batch_command
from .build import build_command, variants_command
from .cache import cache_app
from .console import err
from .help import Command, Group
from .inspect import chart_command, script_command, validate_command
from .interchange import export_command, import_command
from .program import program_app
from .serve import serve_command
from .studio import studio_command
from .voices import voices_app

__all__ = ["app", "main"]


class CommandError(ClickException):
    """One of our errors on its way to the user: one line on stderr, and its exit status."""

    def __init__(self, error: WorkoutAudioError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        from rich.markup import escape

        # escaped: a routine's text or a path may hold [brackets] that rich would read as markup
        err.print(f"[red]error:[/red] {escape(self.format_message())}", highlight=False)


class _App(Group):
    """The command group: every error, ours or the command line's, ends as one line."""

    def invoke(self, ctx: Context) -> Any:  # noqa: ANN401 - whatever the command returns
        with _user_errors():
            return super().invoke(ctx)

    def main(self, *args: Any, **extra: Any) -> Any:  # noqa: ANN401
        from rich.markup import escape

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
)


def _version(asked: bool) -> None:
    if asked:
        from .. import __version__

        typer.echo(f"workout-audio {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Turn a workout routine written in YAML into one voice-guided MP3.

    Example: workout-audio build routines/runners-total-body.yaml
    """


app.command("build", cls=Command)(build_command)
app.command("script", cls=Command)(script_command)
app.command("variants", cls=Command)(variants_command)
app.command("chart", cls=Command)(chart_command)
app.command("validate", cls=Command)(validate_command)
app.command("serve", cls=Command)(serve_command)
app.command("studio", cls=Command)(studio_command)
app.command("import", cls=Command)(import_command)
app.command("export", cls=Command)(export_command)
app.command("batch", cls=Command)(batch_command)
app.add_typer(voices_app, name="voices")
app.add_typer(program_app, name="program")


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except WorkoutAudioError as error:
        raise CommandError(error) from None
    except OSError as error:  # a disk or folder problem our code did not foresee: still one line
        raise CommandError(StorageError.from_os_error(error)) from None
    except KeyboardInterrupt as stop:
        partway = stop if isinstance(stop, StoppedPartway) else None
        terminated = isinstance(stop, Terminated) or (partway is not None and partway.terminated)
        said = "nothing was written"
        if partway is not None:
            written = ", ".join(str(path) for path in partway.written)
            not_written = ", ".join(str(path) for path in partway.not_written)
            said = f"wrote {written}; not written: {not_written}"
        stopped = "terminated" if terminated else "interrupted"
        err.print(f"{stopped}: {said}", highlight=False, markup=False)
        raise typer.Exit(143 if terminated else 130) from None


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
