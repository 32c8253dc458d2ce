"""A small HTTP CONNECT proxy on loopback, as offices and CI systems put in front of the web.

It tunnels ``CONNECT host:port`` to the target and relays bytes both ways; ``hosts``
maps names only the proxy can resolve (as behind a firewall whose DNS is the proxy's),
so a client that bypasses the proxy cannot reach them. It records every tunnel asked
for, and stops when its ``with`` block ends.
"""

from __future__ import annotations

import selectors
import socket
import threading
from http.server import BaseHTTPRequestHandler

from loopback import LoopbackServer

IDLE_S = 10.0  # a tunnel quiet this long is closed: nothing outlives a test


class ConnectProxy(LoopbackServer):
    """Use as a context manager; ``url`` is what HTTPS_PROXY is set to."""

    def __init__(self, hosts: dict[str, str] | None = None) -> None:
        self.hosts = hosts or {}
        self.tunnels: list[str] = []  # "host:port" of each CONNECT, in order
        self._lock = threading.Lock()
        super().__init__(_Handler)
        self._server.proxy = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.port}"

    def _record(self, target: str) -> None:
        with self._lock:
            self.tunnels.append(target)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_S

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_CONNECT(self) -> None:
        proxy: ConnectProxy = self.server.proxy  # type: ignore[attr-defined]
        host, _, port = self.path.rpartition(":")
        proxy._record(self.path)
        try:
            upstream = socket.create_connection((proxy.hosts.get(host, host), int(port)), 5)
        except OSError:
            self.send_error(502, "cannot reach the target")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        with upstream, selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, self.connection)
            while True:
                ready = selector.select(IDLE_S)
                if not ready:
                    return
                for key, _ in ready:
                    data = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
