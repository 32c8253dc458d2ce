"""Starting and stopping the server: the listening socket, its addresses, uvicorn.

The socket is bound before uvicorn starts, so a port in use is one clear line and the
address to print (the port chosen for ``--port 0`` too) is known before the first request.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .token import resolve_token

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

__all__ = ["ALL_ADDRESSES", "AppServer", "FolderServer", "lan_address", "listen", "missing_extra"]

log = logging.getLogger(__name__)

ALL_ADDRESSES = ("0.0.0.0", "::", "")  # listen on every network the machine is on
# Seconds a download still running may take to finish once asked to stop.
_GRACEFUL_STOP_S = 2
# A private address to "connect" a UDP socket to: that sends nothing, but makes the system
# pick the interface (and so the address) it would route the local network through.
_PRIVATE_PROBE = ("10.254.254.254", 9)


class AppServer:
    """Any ASGI app served over HTTP until stopped: the one server behind ``serve`` and
    ``studio``.

    Args:
        app: the ASGI app to serve.
        host: the address to listen on; ``0.0.0.0`` for every network (what a phone needs).
        port: the port; 0 picks a free one.
        log_requests: log each request at INFO (``uvicorn.access``).
        listener: a socket already bound by :func:`listen` (when the app may only be made
            once the address is known to be ours); bound here when ``None``.

    Raises:
        UsageError: the address cannot be listened on (a port in use, a host this machine
            does not have), or the ``serve`` extra is not installed.
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        log_requests: bool = False,
        listener: socket.socket | None = None,
    ) -> None:
        try:
            import uvicorn
        except ImportError as missing:
            raise missing_extra("serving", missing) from None
        self.socket = listener if listener is not None else listen(host, port)
        self.host = host
        self.port: int = self.socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_config=None,  # the command's logging, not uvicorn's own
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=_GRACEFUL_STOP_S,
        )
        if log_requests:  # after the config, which sets every uvicorn logger to its level
            logging.getLogger("uvicorn.access").setLevel(logging.INFO)
        self.server: uvicorn.Server = uvicorn.Server(config)

    @property
    def url(self) -> str:
        """The server's address as a client reaches it (this machine's LAN address when
        listening on every network)."""
        host = lan_address() if self.host in ALL_ADDRESSES else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def run(self) -> None:
        """Serve until Ctrl-C, SIGTERM or :meth:`stop`; returns once stopped."""
        log.info("serving at %s", self.url)
        try:
            self.server.run(sockets=[self.socket])
        except KeyboardInterrupt:
            # uvicorn raises the signal again once it has stopped, for the handler
            # that was there before it: a stop asked for, not an error.
            pass
        finally:
            self.close()

    def stop(self) -> None:
        """Ask a running server to stop (from another thread)."""
        self.server.should_exit = True

    def close(self) -> None:
        """Stop listening; for a server made but never run."""
        self.socket.close()


class FolderServer(AppServer):
    """One folder, served over HTTP until stopped.

    Args:
        folder: the folder to serve (a program build's output, or any folder of tracks).
        host: the address to listen on; ``0.0.0.0`` for every network (what a phone needs).
        port: the port; 0 picks a free one.
        token: ``auto``, ``none`` or the token itself (see :func:`resolve_token`).
        log_requests: log each request at INFO (``uvicorn.access``), so whoever runs the
            server sees the phone fetch the feed and its tracks.

    Raises:
        UsageError: the folder is not one, the token is unusable, the address cannot be
            listened on (a port in use, a host this machine does not have), or the
            ``serve`` extra is not installed.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 8000,
        token: str = "auto",
        log_requests: bool = False,
    ) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise UsageError(f"{folder}: not a folder to serve")
        try:
            import uvicorn  # noqa: F401 - refused before anything is bound or written

            from .folder import folder_app
        except ImportError as missing:
            raise missing_extra("serving", missing) from None
        self.folder = folder
        listener = listen(host, port)
        try:  # after the address is ours, so a refused start writes no token file
            self.token = resolve_token(folder, token)
        except BaseException:
            listener.close()
            raise
        app = folder_app(folder, self.token)
        super().__init__(app, host, port, log_requests=log_requests, listener=listener)

    @property
    def url(self) -> str:
        """The folder's address as a client reaches it, its token included."""
        return super().url + (f"{self.token}/" if self.token else "")

    @property
    def feed_url(self) -> str:
        """The feed's address: what a podcast app subscribes to."""
        return self.url + "feed.xml"

    @property
    def exposure(self) -> str | None:
        """What listening on every network lets others do, said once at start; ``None`` on a
        single address."""
        if self.host not in ALL_ADDRESSES:
            return None
        lock = (
            "the URL's token is the only lock"
            if self.token
            else "with --token none there is no lock at all"
        )
        return (
            "listening on every network this machine is on: anyone there who has the URL "
            f"can download this folder ({lock}; plain http, readable on the way)"
        )

    def run(self) -> None:
        log.info("serving %s", self.folder)
        super().run()


def missing_extra(work: str, missing: ImportError) -> UsageError:
    """The one line for work that needs the ``serve`` extra when it is not installed."""
    return UsageError(
        f"{work} needs the serve extra ({missing.name} is missing): "
        "pip install 'workout-audio[serve]'"
    )


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host`` and ``port`` (0: any free port), bound before any
    server starts, so a refusal is one line and the port is known at once.

    Raises:
        UsageError: not a port, not an address here, or the port is taken.
    """
    if not 0 <= port <= 65535:
        raise UsageError(f"--port: {port} is not a port (0 to 65535)")
    try:
        family, kind, protocol, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise UsageError(f"--host: {host!r} is not an address here ({error.strerror})") from None
    listener = socket.socket(family, kind, protocol)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            with contextlib.suppress(OSError):  # "::" takes IPv4 too where it can
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(address)
        listener.listen(128)
    except OSError as error:
        listener.close()
        raise UsageError(
            f"--host {host} --port {port}: cannot listen there ({error.strerror}; "
            "is another server on that port? try --port 0 for any free one)"
        ) from None
    listener.setblocking(False)
    return listener


def lan_address() -> str:
    """This machine's address on its local network, found without sending anything.

    Falls back to the address its host name resolves to, then to 127.0.0.1.
    """
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(_PRIVATE_PROBE)
        address: str = probe.getsockname()[0]
        if not ipaddress.ip_address(address).is_unspecified:
            return address
    with contextlib.suppress(OSError):
        return socket.gethostbyname(socket.gethostname())
    return "127.0.0.1"
