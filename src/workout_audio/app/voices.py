"""``voices``: the speech engines, their languages and voices; ``voices download``."""

from __future__ import annotations

from typing import Annotated

import typer

from .help import Command, Group

__all__ = ["voices_app"]

voices_app = typer.Typer(cls=Group, invoke_without_command=True)


@voices_app.callback()
def voices_command(context: typer.Context) -> None:
    """List each voice engine: whether it runs here (and why not), its languages and voices;
    `voices download NAME` adds a piper voice.

    Example: workout-audio voices
    """
    import textwrap

    from ..speech import engine_reports
    from ..timeline.phrases import available_languages
    from .console import say

    if context.invoked_subcommand is not None:
        return
    for report in engine_reports():
        status = report.unavailable_reason or "available"
        if report.unavailable_reason:
            status = f"not available: {report.unavailable_reason}"
        say(f"{report.name}: {report.description}")
        say(f"  {status}")
        if report.languages:
            listed = f"languages ({len(report.languages)}): {', '.join(report.languages)}"
            # A code is one word: "en-gb-scotland" never breaks at its hyphens.
            wrapped = textwrap.fill(
                listed, 96, initial_indent="  ", subsequent_indent="    ",
                break_on_hyphens=False, break_long_words=False,
            )  # fmt: skip
            say(wrapped)
        for line in report.voices:
            say(f"  voice: {line}")
    say(f"cue wording (--lang or the routine's language:): {', '.join(available_languages())}")


@voices_app.command("download", cls=Command)
def voices_download_command(
    name: Annotated[
        str,
        typer.Argument(
            help="A piper voice: de_DE-thorsten-medium, es_ES-davefx-medium, ...", metavar="NAME"
        ),
    ],
    mirror: Annotated[
        str | None,
        typer.Option(
            "--mirror",
            help="Another server (a URL), or a folder, holding a copy of the piper voices.",
            metavar="URL",
        ),
    ] = None,
) -> None:
    """Download a piper voice into the user data folder; --voice NAME then uses it.

    Example: workout-audio voices download de_DE-thorsten-medium
    """
    from ..speech.voices import download_voice
    from .console import progress_bar, say

    with progress_bar() as progress:
        voice = download_voice(
            name,
            mirror=mirror,
            progress=lambda done, total: progress("download", done, total or done),
        )
    say(
        f"installed {voice.name} ({voice.language}) in {voice.model.parent}; "
        f"use it with --voice {voice.name}"
    )
