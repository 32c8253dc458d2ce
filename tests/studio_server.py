"""The studio served by a real uvicorn on a free loopback port, on a thread while its
``with`` block runs; stopped however the block ends. The tiny routine its tests build, and
the reader of a build's server-sent events."""

from __future__ import annotations

import json
import socket
import textwrap
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from workout_audio.studio import studio_app

_START_TIMEOUT_S = 10
# About 45 s of audio in three sets: short enough to build in a test, three chapters to jump.
TINY = textwrap.dedent(
    """\
    name: Tiny Circuit
    timing:
      rest: {exercise: 3s}
      countdown: 3
    blocks:
      - name: Main
        exercises:
          - {name: Squats, time: 6s}
          - {name: Plank, time: 6s}
          - {name: Lunges, time: 6s}
    """
)
# "rounds: none" is a mistake on line 7: rounds is a whole number.
MISTAKE = TINY.replace("  - name: Main\n", "  - name: Main\n    rounds: none\n")
ENGINE = "piper"  # the offline voice: nothing in a test reaches beyond this machine


class StudioServer:
    """The studio for ``folder`` at ``self.url``; ``self.token`` is the page's token.

    The page starts with the offline voice: nothing in a test reaches beyond this machine.
    """

    def __init__(
        self, folder: Path, token: str = "test-token", cache_dir: Path | None = None
    ) -> None:
        self.folder = folder
        self.token = token
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            studio_app(folder, token, cache_dir=cache_dir, engine="piper"),
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def headers(self) -> dict[str, str]:
        """What the page sends with a change: its origin and its token."""
        return {"Origin": self.url, "X-Studio-Token": self.token}

    def __enter__(self) -> StudioServer:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.__exit__()
                raise RuntimeError("the studio did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def build_events(client: httpx.Client, url: str) -> list[tuple[str, dict[str, object]]]:
    """Every server-sent event of a build, read until the server ends the stream."""
    found = []
    with client.stream("GET", url) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                found.append((kind, json.loads(line.removeprefix("data: "))))
    return found
