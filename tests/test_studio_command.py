"""``workout-audio studio`` as a user starts it: on the same server as ``serve``, so the same
one-line refusals, ``--port 0`` and a clean stop; and the voice the page starts with."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers import child_env, invoke
from studio_server import TINY

_START_TIMEOUT_S = 30


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    return tmp_path


def _contents(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*"))


def test_a_port_in_use_is_one_line_and_nothing_is_written(folder: Path) -> None:
    before = _contents(folder)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("studio", str(folder), "--port", str(port), "--no-browser")
    assert result.exit_code == 2
    assert "cannot listen" in result.output
    assert "--port 0" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _contents(folder) == before


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--host", "no-such-host.invalid", "--host: 'no-such-host.invalid' is not an address"),
        ("--port", "70000", "--port: 70000 is not a port"),
        ("--engine", "nope", "unknown engine 'nope'; choose one of: auto"),
    ],
)
def test_a_bad_address_or_engine_is_refused_in_one_line(
    folder: Path, option: str, value: str, said: str
) -> None:
    result = invoke("studio", str(folder), option, value, "--no-browser")
    assert result.exit_code == 2
    assert said in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_port_0_prints_the_port_taken_the_engine_is_the_pages_and_it_stops_cleanly(
    folder: Path, stop_with: signal.Signals
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "workout_audio", "studio", str(folder), "--port", "0",
         "--no-browser", "--engine", "espeak"],
        env=child_env(PYTHONUNBUFFERED="1"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        found = re.search(r"is at (http://127\.0\.0\.1:(\d+)/) \(Ctrl-C stops it\)", first)
        assert found, first
        assert int(found.group(2)) != 0
        url = found.group(1)
        deadline = time.monotonic() + _START_TIMEOUT_S
        files = None
        while files is None and time.monotonic() < deadline and child.poll() is None:
            try:
                files = httpx.get(f"{url}api/files", timeout=2).json()
            except httpx.TransportError:
                time.sleep(0.1)
        assert files is not None
        assert files["engine"] == "espeak"  # the page's voice starts as the command said
        assert files["routines"] == ["tiny.yaml"]
        child.send_signal(stop_with)
        assert child.wait(timeout=15) == 0
        rest = child.stdout.read()
        assert "stopped" in rest
        assert "Traceback" not in rest
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        if child.stdout:
            child.stdout.close()
