"""A local stand-in for Google Translate's speech endpoint, spoken to by the real gTTS over HTTP.

It answers gTTS's batchexecute POST in Google's own response format with real MP3 bytes,
records what was asked, and can be scripted to misbehave (429, 500, a dropped connection,
an answer without audio). It listens on loopback only and stops when its ``with`` block ends.

``serve`` points the real gTTS at a stub, for a test module's fixture.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest

from loopback import LoopbackServer
from workout_audio.audio.ffmpeg import ffmpeg_exe

SERVICE_PATH = "/_/TranslateWebserverUi/data/batchexecute"
BEHAVIOURS = ("ok", "429", "500", "drop", "garbled")
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
SAMPLE_RATE_HZ = 24_000  # what Google sends: 24 kHz mono MP3 at 32 kbit/s
BURSTS_MS = (400, 600, 900)  # the stub's clips: speech this long, PAD_MS of silence each side
PAD_MS = 200
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def make_mp3(burst_ms: int, pad_ms: int = 200) -> bytes:
    """An MP3 shaped like Google's: a ``burst_ms`` tone with ``pad_ms`` of silence each side."""
    burst_s = burst_ms / 1000
    tone = (
        f"sine=frequency=440:duration={burst_s}:sample_rate={SAMPLE_RATE_HZ},volume=0.5,"
        f"afade=t=in:d=0.02,afade=t=out:st={burst_s - 0.02}:d=0.02,"
        f"adelay={pad_ms},apad=pad_dur={pad_ms / 1000}"
    )
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
         "-f", "lavfi", "-i", tone,
         "-ac", "1", "-ar", str(SAMPLE_RATE_HZ), "-b:a", "32k", "-f", "mp3", "pipe:1"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return done.stdout


def batchexecute_body(mp3: bytes | None) -> bytes:
    """Google's framing: the XSSI guard, then length-prefixed compact JSON chunks, one a line."""
    chunks = []
    if mp3 is not None:
        audio = json.dumps([base64.b64encode(mp3).decode("ascii")])
        chunks.append(
            [
                ["wrb.fr", "jQ1olc", audio, None, None, None, "generic"],
                ["di", 42],
                ["af.httprm", 41, "123", 2],
            ]
        )
    chunks.append([["e", 4, None, None, 132]])
    body = ")]}'\n"
    for chunk in chunks:
        line = json.dumps(chunk, separators=(",", ":"))
        body += f"\n{len(line) + 1}\n{line}"
    return (body + "\n").encode("utf-8")


@dataclass(frozen=True)
class SpeechRequest:
    """What gTTS asked for in one POST."""

    text: str
    language: str
    slow: bool
    at_s: float = 0.0  # when it arrived (time.monotonic)


class GttsStub(LoopbackServer):
    """The stub server: use it as a context manager, and ``url`` as gTTS's ``_translate_url``.

    Args:
        clips: MP3s to answer with; a phrase's clip is picked by its length, so a
            longer phrase gets a longer clip, the same phrase always the same one.
        delay_s: how long each answer takes, like a real server's.
        tls: serve HTTPS with this context (a certificate for ``host``), as Google does.
        host: the name the URL gives (a proxy may be the only one that resolves it).
    """

    def __init__(
        self,
        clips: list[bytes],
        delay_s: float = 0.0,
        tls: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.clips = clips
        self.delay_s = delay_s
        self.host = host  # the name in its URL; with tls, the one its certificate is for
        self.scheme = "https" if tls else "http"
        self.tlds: list[str] = []  # the accents gTTS asked for (each tld is its own host)
        self._lock = threading.Lock()
        self._plan: deque[str] = deque()
        self._requests: list[SpeechRequest] = []
        super().__init__(_Handler)
        self._server.stub = self  # type: ignore[attr-defined]
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)

    def url(self, tld: str = "com", path: str = "") -> str:
        """Drop-in for ``gtts.tts._translate_url``: every tld leads here."""
        with self._lock:
            self.tlds.append(tld)
        return f"{self.scheme}://{self.host}:{self.port}/{path}"

    def script(self, *behaviours: str) -> None:
        """Queue how the next requests are answered, one behaviour each; then "ok" again."""
        unknown = set(behaviours) - set(BEHAVIOURS)
        assert not unknown, f"unknown behaviours {unknown}; choose from {BEHAVIOURS}"
        with self._lock:
            self._plan.extend(behaviours)

    @property
    def requests(self) -> list[SpeechRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._requests)

    def _take(self, request: SpeechRequest) -> str:
        with self._lock:
            self._requests.append(request)
            return self._plan.popleft() if self._plan else "ok"

    def clip_for(self, text: str) -> bytes:
        return self.clips[min(len(text) // 20, len(self.clips) - 1)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # a stuck client cannot hold a thread past the test

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: pytest shows the assertions, not an access log

    def do_POST(self) -> None:
        stub: GttsStub = self.server.stub  # type: ignore[attr-defined]
        if self.path != SERVICE_PATH:
            self._send(404, b"not found", "text/plain")
            return
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode("utf-8"))
        rpc = json.loads(form["f.req"][0])
        text, language, speed, _ = json.loads(rpc[0][0][1])
        arrived_s = time.monotonic()
        behaviour = stub._take(SpeechRequest(text, language, bool(speed), arrived_s))
        if stub.delay_s:
            time.sleep(stub.delay_s)
        if behaviour == "429":
            self._send(429, b"<html><title>Error 429 (Too Many Requests)</title></html>", HTML)
        elif behaviour == "500":
            self._send(500, b"<html><title>Error 500 (Server Error)</title></html>", HTML)
        elif behaviour == "garbled":
            self._send(200, batchexecute_body(None))
        elif behaviour == "drop":
            body = batchexecute_body(stub.clip_for(text))
            self._send_headers(200, len(body))
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        else:
            self._send(200, batchexecute_body(stub.clip_for(text)))

    def _send_headers(self, status: int, length: int, kind: str = JSON) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, status: int, body: bytes, kind: str = JSON) -> None:
        self._send_headers(status, len(body), kind)
        self.wfile.write(body)


@cache
def google_like_clips() -> list[bytes]:
    """Google-like MP3s, made once per test run by our ffmpeg."""
    return [make_mp3(burst_ms, pad_ms=PAD_MS) for burst_ms in BURSTS_MS]


def serve(monkeypatch: pytest.MonkeyPatch, delay_s: float = 0.0) -> Iterator[GttsStub]:
    """Body of the ``gtts_stub`` fixture (and of tests that want slower answers): the real
    gTTS pointed at a fresh stub, with our waits between requests and retries cut to a few
    milliseconds."""
    for name in PROXY_VARIABLES:  # gTTS passes the proxies on; loopback must stay direct
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setattr("workout_audio.speech.gtts.BACKOFF_S", 0.01)
    monkeypatch.setattr("workout_audio.speech.gtts.REQUEST_GAP_S", 0.01)
    with GttsStub(google_like_clips(), delay_s=delay_s) as stub:
        monkeypatch.setattr("gtts.tts._translate_url", stub.url)
        yield stub


def closed_port_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point gTTS at a loopback port nothing listens on: Google "unreachable", at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(
        "gtts.tts._translate_url", lambda tld="com", path="": f"http://127.0.0.1:{port}/{path}"
    )
