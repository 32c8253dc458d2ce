"""The studio on the same server as ``serve`` (so the same refusals, ``--port 0`` and the
graceful stop), and the page opened in a browser."""

from __future__ import annotations

import secrets
import threading
import webbrowser
from pathlib import Path

from ..serve.runner import ALL_ADDRESSES, AppServer, lan_address, listen
from .web import LOCAL_HOSTS, studio_app

__all__ = ["open_page", "studio_server", "studio_url"]


def studio_server(
    folder: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    engine: str = "auto",
    cache_dir: Path | None = None,
) -> AppServer:
    """The studio for ``folder``, listening and ready to :meth:`~AppServer.run`.

    A fresh token is made for each run, so a page left open from an earlier run must
    be reloaded before it may change anything. On every network, this machine's LAN
    address is a name requests may use too, and the one the feeds' URLs name (a phone
    subscribing to a program built here).

    Raises:
        UsageError: ``folder`` is not a folder, ``engine`` is unknown, or the address
            cannot be listened on (a port in use, a host this machine does not have).
    """
    if engine != "auto":
        from ..speech.registry import engine_class

        engine_class(engine)  # an unknown name is refused with the known ones
    listener = listen(host, port)  # first: the port chosen for --port 0 is in the feeds' URLs
    try:
        hosts = LOCAL_HOSTS if host in LOCAL_HOSTS else (*LOCAL_HOSTS, host)
        address = None
        if host in ALL_ADDRESSES:
            lan = lan_address()
            hosts = (*hosts, lan)
            address = f"http://{lan}:{listener.getsockname()[1]}"
        app = studio_app(
            folder, secrets.token_urlsafe(32), hosts=hosts, cache_dir=cache_dir, engine=engine,
            address=address,
        )  # fmt: skip
        return AppServer(app, host, port, listener=listener)
    except BaseException:
        listener.close()
        raise


def studio_url(server: AppServer) -> str:
    """The page's address for this machine's browser: all addresses are reached here
    through this machine's own."""
    shown = "127.0.0.1" if server.host in ALL_ADDRESSES else server.host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{server.port}/"


def open_page(url: str) -> None:
    """Open ``url`` in the user's browser, off this thread: the socket already listens, so
    the page waits for the server, and a browser that fails to open stops nothing."""
    threading.Thread(target=webbrowser.open, args=(url,), name="browser", daemon=True).start()
