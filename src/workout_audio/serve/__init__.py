"""``workout-audio serve``: a folder of tracks and their feed, served to a phone over HTTP.

The folder is read afresh on every request, so a second ``program build`` into it is
served at once. starlette and uvicorn (the ``serve`` extra) load only when a server starts.
"""

from __future__ import annotations

from ..programs.names import FEED_FILE, INDEX_FILE
from .qr import terminal_qr
from .runner import AppServer, FolderServer, lan_address
from .token import TOKEN_FILE, resolve_token

__all__ = [
    "FEED_FILE",
    "INDEX_FILE",
    "TOKEN_FILE",
    "AppServer",
    "FolderServer",
    "lan_address",
    "resolve_token",
    "terminal_qr",
]
