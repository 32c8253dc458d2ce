"""``serve``: a folder (a program's feed and tracks) over HTTP, for a phone to subscribe to."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["serve_command"]


def serve_command(
    folder: Annotated[
        Path,
        typer.Argument(help="The folder to serve: a program build's output.", metavar="DIR"),
    ],
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on; 0.0.0.0 lets a phone on your network in "
            "(anyone there with the URL, token included).",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on; 0 for any free one.")] = (
        8000
    ),
    token: Annotated[
        str,
        typer.Option(
            "--token",
            help="The private part of the URL: auto (made once, kept in DIR/.serve-token), "
            "none, or your own.",
            metavar="auto|none|VALUE",
        ),
    ] = "auto",
) -> None:
    """Serve DIR over HTTP, with its feed's links made to this address; prints the feed's
    URL and a QR code of it. Ctrl-C stops it.

    Example: workout-audio serve build/c25k --host 0.0.0.0
    """
    import sys

    from ..serve import FEED_NAME, FolderServer, terminal_qr
    from .console import notice, say

    server = FolderServer(folder, host=host, port=port, token=token, log_requests=True)
    has_feed = (folder / FEED_NAME).is_file()
    url = server.feed_url if has_feed else server.url
    say(f"serving {folder} at {server.url}")
    say(f"feed: {url}" if has_feed else f"no {FEED_NAME} yet; the folder: {url}")
    sys.stdout.write(terminal_qr(url))
    say("stop with Ctrl-C")
    notice(server.exposure)
    sys.stdout.flush()  # shown at once even when the output goes to a log
    server.run()
    say("stopped; the folder is no longer served")
