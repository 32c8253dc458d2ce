"""Serving the studio with uvicorn on this machine, and opening the page in a browser."""

from __future__ import annotations

import secrets
import threading
import webbrowser
from pathlib import Path

from .web import LOCAL_HOSTS, studio_app

__all__ = ["run_studio", "studio_url"]


def run_studio(
    folder: Path, *, host: str = "127.0.0.1", port: int = 8000, browser: bool = True
) -> None:
    """Serve the studio for ``folder`` until stopped (Ctrl-C), opening it in a browser.

    A fresh token is made for each run, so a page left open from an earlier run must
    be reloaded before it may change anything.

    Raises:
        UsageError: ``folder`` is not a folder.
    """
    import uvicorn

    hosts = LOCAL_HOSTS if host in LOCAL_HOSTS else (*LOCAL_HOSTS, host)
    app = studio_app(folder, secrets.token_urlsafe(32), hosts=hosts)
    url = studio_url(host, port)
    if browser:
        # once the server listens; a browser that fails to open is no reason to stop
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")


def studio_url(host: str, port: int) -> str:
    """The page's address for a server listening on ``host``: all addresses are reached here
    through this machine's own."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/"
