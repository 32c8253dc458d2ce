"""``studio``: the local web page to write, see, build and hear routines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import EngineOpt

__all__ = ["studio_command"]


def studio_command(
    folder: Annotated[
        Path,
        typer.Argument(
            help="The folder of routines and programs to work on.",
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
        int,
        typer.Option("--port", help="The port to listen on; 0 for any free one.", metavar="PORT"),
    ] = 8000,
    engine: EngineOpt = "auto",
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the page in a browser.")
    ] = False,
) -> None:
    """Open the studio: a page to write a routine, see its chart and script, build and hear it.

    Example: workout-audio studio routines/ --port 8000 --engine piper
    """
    from ..serve.runner import missing_extra
    from .console import say

    try:
        from ..studio.runner import open_page, studio_server, studio_url
    except ImportError as missing:
        raise missing_extra("the studio", missing) from None
    server = studio_server(folder, host=host, port=port, engine=engine)
    url = studio_url(server)
    say(f"the studio for {folder} is at {url} (Ctrl-C stops it)")
    if not no_browser:
        open_page(url)
    server.run()
    say("stopped; the studio is closed")
