"""``workout-audio studio`` as a user starts it: on the same server as ``serve``, so the same
one-line refusals, ``--port 0`` and a clean stop; and the voice the page starts with."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
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


def test_on_every_network_a_feeds_url_names_this_machines_address(folder: Path) -> None:
    """A phone subscribes to what the page shows: the LAN address, not 127.0.0.1. The studio
    made for every network is never run; its app is served on loopback and asked with the
    Host a phone on the network would send, so nothing listens beyond this machine."""
    from studio_server import ENGINE
    from workout_audio.serve import AppServer, lan_address, resolve_token
    from workout_audio.studio.runner import studio_server, studio_url

    (folder / "plan.yaml").write_text(
        "name: Plan\nweeks: [{days: [{routine: tiny.yaml, title: One}]}]\n", encoding="utf-8"
    )
    built = folder / "build" / "plan"
    built.mkdir(parents=True)
    (built / "feed.xml").write_text("<rss/>", encoding="utf-8")
    token = resolve_token(built, "auto")
    everywhere = studio_server(folder, host="0.0.0.0", port=0, engine=ENGINE)
    everywhere.close()
    assert studio_url(everywhere) == f"http://127.0.0.1:{everywhere.port}/"  # the page, here
    loopback = AppServer(everywhere.server.config.app, "127.0.0.1", 0)
    thread = threading.Thread(target=loopback.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not loopback.server.started:
            assert time.monotonic() < deadline, "the studio did not start"
            assert thread.is_alive(), "the studio stopped at once"
            time.sleep(0.02)
        lan = lan_address()
        asked = f"http://127.0.0.1:{loopback.port}"
        phone = {"Host": f"{lan}:{everywhere.port}"}
        shown = httpx.get(f"{asked}/api/program", params={"path": "plan.yaml"}, headers=phone)
        assert shown.status_code == 200  # the LAN address is a name the studio answers to
        assert shown.json()["feed"] == f"http://{lan}:{everywhere.port}/feeds/{token}/feed.xml"
        other = httpx.get(f"{asked}/api/files", headers={"Host": "evil.example"})
        assert other.status_code == 400  # other names are still refused
    finally:
        loopback.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
