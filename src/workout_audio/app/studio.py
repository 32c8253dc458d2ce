"""``studio``: the local web page to write, see, build and hear routines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["studio_command"]


def studio_command(
    folder: Annotated[
        Path,
        typer.Argument(
            help="The folder of routines to work on.",
            exists=True,
            file_okay=False,
            metavar="FOLDER",
        ),
    ] = Path("."),
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="The address to listen on (this machine only by default).",
            metavar="HOST",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="The port to listen on.", metavar="PORT")
    ] = 8000,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the page in a browser.")
    ] = False,
) -> None:
    """Open the studio: a page to write a routine, see its chart and script, build and hear it.

    Example: workout-audio studio routines/ --port 8000
    """
    from ..errors import UsageError
    from .console import say

    try:
        from ..studio.runner import run_studio, studio_url
    except ImportError as missing:
        raise UsageError(
            f"the studio needs the serve extra ({missing.name} is missing): "
            "pip install 'workout-audio[serve]'"
        ) from None
    say(f"the studio for {folder} is at {studio_url(host, port)} (Ctrl-C stops it)")
    run_studio(folder, host=host, port=port, browser=not no_browser)
