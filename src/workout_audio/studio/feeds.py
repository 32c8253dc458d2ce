"""The feeds of the programs built from the studio, served by the studio itself.

Each program is built into a folder of its own under ``build/``, and that folder is served
exactly as ``serve`` serves it (:func:`~workout_audio.serve.folder.folder_app`: ranges,
ETags, nothing hidden, the feed's links rewritten to the address asked for) under
``/feeds/{token}/``. The token is the folder's own ``serve`` token, so the address a phone
subscribed to stays the same across restarts of the studio, and under ``serve`` too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..programs.names import FEED_FILE
from ..serve.folder import folder_app
from ..serve.token import TOKEN_FILE, resolve_token

__all__ = ["FEEDS_PATH", "Feeds"]

FEEDS_PATH = "/feeds"  # where the studio mounts its feeds


class Feeds:
    """The ASGI app for ``/feeds``: the first path segment is a built program's token.

    Args:
        folders: the build folders of the programs in the studio's folder, looked through
            when a token is not known yet (a feed built before this run of the studio).
    """

    def __init__(self, folders: Callable[[], Iterable[Path]]) -> None:
        self._folders = folders
        self._apps: dict[str, ASGIApp] = {}
        self._lock = threading.Lock()

    def token_of(self, folder: Path) -> str:
        """The token ``folder`` (a program's build folder) is served under; made on first use
        and kept in the folder as ``serve`` keeps it."""
        token = resolve_token(folder, "auto")
        assert token is not None  # "auto" always gives one
        with self._lock:
            self._apps.setdefault(token, folder_app(folder, token))
        return token

    def known_token(self, folder: Path) -> str | None:
        """The token of a folder that holds a feed, without making one."""
        if not (folder / FEED_FILE).is_file() or not (folder / TOKEN_FILE).is_file():
            return None
        return self.token_of(folder)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        root = scope.get("root_path", "")
        token = scope["path"][len(root) :].removeprefix("/").partition("/")[0]
        app = self._app(token)
        if app is None:
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        await app(scope, receive, send)

    def _app(self, token: str) -> ASGIApp | None:
        with self._lock:
            app = self._apps.get(token)
        if app is None and token:
            for folder in self._folders():  # a feed built before this run
                self.known_token(folder)
            with self._lock:
                app = self._apps.get(token)
        return app
