"""The studio's routes through a real uvicorn on loopback: the answers the page relies on,
and the refusals that keep the folder safe."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest

from helpers import child_env, decode, invoke
from studio_server import ENGINE, MISTAKE, TINY, StudioServer, build_events
from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.studio.web import UPLOAD_BYTES_MAX


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    return tmp_path


@pytest.fixture
def studio(folder: Path, speech_cache: Path) -> Iterator[StudioServer]:
    with StudioServer(folder, cache_dir=speech_cache) as server:
        yield server


@pytest.fixture
def client(studio: StudioServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=studio.url, timeout=120) as http:
        yield http


def _tone(path: Path, seconds: float = 2.0) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:a", "libmp3lame", "-q:a", "6", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_the_page_carries_its_token_and_names_no_other_host(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<meta name="studio-token" content="test-token">' in page.text
    static = resources.files("workout_audio.studio").joinpath("static")
    texts = [page.text] + [
        client.get(f"/static/{name}").text for name in ("studio.js", "studio.css")
    ]
    for text in texts:
        assert text
        # the SVG namespace is a name, not a request
        assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text.replace(
            "http://www.w3.org/2000/svg", "")) == []  # fmt: skip
    assert {p.name for p in static.iterdir()} >= {"index.html", "studio.js", "studio.css"}


def test_a_mistake_is_answered_with_its_file_and_line(client: httpx.Client, studio: StudioServer):
    answer = client.post(
        "/api/check", json={"path": "tiny.yaml", "text": MISTAKE}, headers=studio.headers()
    )
    assert answer.status_code == 200
    errors = answer.json()["errors"]
    assert [e["line"] for e in errors] == [7]
    assert errors[0]["text"].startswith("tiny.yaml:7: blocks[0].rounds: ")


def test_save_writes_the_whole_file_and_needs_the_pages_origin_and_token(
    client: httpx.Client, studio: StudioServer, folder: Path
) -> None:
    routine = folder / "tiny.yaml"
    edited = TINY.replace("Tiny Circuit", "Tiny Circuit Two")
    wrong_origin = {**studio.headers(), "Origin": "http://evil.example"}
    stale_token = {**studio.headers(), "X-Studio-Token": "guessed"}
    no_origin = {"X-Studio-Token": studio.token}
    for headers in (wrong_origin, stale_token, no_origin):
        refused = client.put("/api/routine", json={"path": "tiny.yaml", "text": edited},
                             headers=headers)  # fmt: skip
        assert refused.status_code == 403, headers
        assert routine.read_text(encoding="utf-8") == TINY
    saved = client.put(
        "/api/routine", json={"path": "tiny.yaml", "text": edited}, headers=studio.headers()
    )
    assert saved.json() == {"saved": "tiny.yaml"}
    assert routine.read_text(encoding="utf-8") == edited
    assert sorted(p.name for p in folder.iterdir()) == ["tiny.yaml"]  # no temporary file left
    assert client.get("/api/routine", params={"path": "tiny.yaml"}).json()["text"] == edited


def test_paths_stay_inside_the_folder(
    client: httpx.Client, studio: StudioServer, folder: Path, tmp_path_factory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.yaml").write_text("name: secret\n", encoding="utf-8")
    (folder / "link.yaml").symlink_to(outside / "secret.yaml")
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    for path in ("../secret.yaml", str(outside / "secret.yaml"), "link.yaml", "linked/secret.yaml"):
        assert client.get("/api/routine", params={"path": path}).status_code == 403, path
        saved = client.put(
            "/api/routine", json={"path": path, "text": "x"}, headers=studio.headers()
        )
        assert saved.status_code == 403, path
    for url in (
        "/files/link.yaml",
        "/files/linked/secret.yaml",
        "/files/%2e%2e/outside/secret.yaml",
    ):
        assert client.get(url).status_code in (403, 404), url
    (folder / ".serve-token").write_text("private", encoding="utf-8")
    assert client.get("/files/.serve-token").status_code == 404
    assert (outside / "secret.yaml").read_text(encoding="utf-8") == "name: secret\n"
    assert client.get("/api/files").json()["routines"] == ["tiny.yaml"]


def test_a_request_for_another_host_name_is_refused(client: httpx.Client) -> None:
    # a page whose name was pointed at 127.0.0.1 reaches the port, but not the studio
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_a_new_routine_starts_from_the_template_once(client: httpx.Client, studio: StudioServer):
    made = client.post("/api/new", json={"path": "week/monday.yaml"}, headers=studio.headers())
    assert made.status_code == 200
    assert made.json()["text"].startswith("name: ")
    again = client.post("/api/new", json={"path": "week/monday.yaml"}, headers=studio.headers())
    assert again.status_code == 409
    assert "week/monday.yaml" in client.get("/api/files").json()["routines"]


def test_uploads_are_kept_only_when_small_enough_and_audio(
    client: httpx.Client, studio: StudioServer, folder: Path, tmp_path_factory
) -> None:
    headers = {**studio.headers(), "Content-Type": "application/octet-stream"}
    declared_too_big = client.put(
        "/api/upload", params={"name": "long.mp3"}, content=b"\0" * (UPLOAD_BYTES_MAX + 1),
        headers=headers,
    )  # fmt: skip
    assert declared_too_big.status_code == 413
    assert "50 MB" in declared_too_big.json()["error"]

    def streamed() -> Iterator[bytes]:  # no length said: the server counts as it reads
        chunk = b"\0" * (1024 * 1024)
        for _ in range(UPLOAD_BYTES_MAX // len(chunk) + 1):
            yield chunk

    counted_too_big = client.put(
        "/api/upload", params={"name": "long.mp3"}, content=streamed(), headers=headers
    )
    assert counted_too_big.status_code == 413
    not_audio = client.put(
        "/api/upload", params={"name": "song.mp3"}, content=b"not a song " * 100, headers=headers
    )
    assert not_audio.status_code == 415
    assert not (folder / "music").exists() or list((folder / "music").iterdir()) == []
    song = _tone(tmp_path_factory.mktemp("songs") / "song.mp3")
    kept = client.put("/api/upload", params={"name": "song.mp3"}, content=song.read_bytes(),
                      headers=headers)  # fmt: skip
    assert kept.json() == {"music": "music/song.mp3"}
    assert (folder / "music" / "song.mp3").read_bytes() == song.read_bytes()
    assert client.get("/api/files").json()["music"] == ["music/song.mp3"]
    refused = client.put("/api/upload", params={"name": "x.mp3"}, content=song.read_bytes(),
                         headers={**headers, "Origin": "http://evil.example"})  # fmt: skip
    assert refused.status_code == 403


@pytest.mark.slow
def test_a_good_routine_gives_its_script_chart_and_length_bounds(
    client: httpx.Client, studio: StudioServer
) -> None:
    wanted = {"path": "tiny.yaml", "text": TINY, "engine": ENGINE}
    answer = client.post("/api/check", json=wanted, headers=studio.headers()).json()
    assert answer["errors"] == []
    shortest_s, longest_s = answer["bounds"]["shortest_s"], answer["bounds"]["longest_s"]
    assert shortest_s < answer["script"]["length_s"] < longest_s
    assert answer["chart_svg"].startswith("<svg")
    assert "Squats" in answer["chart_svg"]
    assert [c["title"] for c in answer["script"]["chapters"]][-1].endswith("Lunges")
    target_s = round((answer["script"]["length_s"] + longest_s) / 2)
    longer = client.post("/api/check", json={**wanted, "length": f"{target_s}s"},
                         headers=studio.headers()).json()  # fmt: skip
    assert longer["script"]["length_s"] == target_s
    assert longer["chart_svg"] != answer["chart_svg"]


@pytest.mark.slow
def test_a_build_streams_its_progress_to_the_end_and_its_files_download(
    client: httpx.Client, studio: StudioServer, folder: Path
) -> None:
    started = client.post(
        "/api/build", json={"path": "tiny.yaml", "engine": ENGINE}, headers=studio.headers()
    )
    assert started.status_code == 202
    again = client.post(
        "/api/build", json={"path": "tiny.yaml", "engine": ENGINE}, headers=studio.headers()
    )
    assert again.status_code == 409
    assert "already running" in again.json()["error"]
    events = build_events(client, started.json()["events"])
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "finished", events[-1]
    encoding = [e for kind, e in events if kind == "progress" and e["stage"] == "encode"]
    assert encoding[-1]["done"] == encoding[-1]["total"]
    finished = events[-1][1]["finished"]
    assert isinstance(finished, dict)
    assert finished["track"] == "/files/build/tiny.mp3"
    track = client.get(finished["track"])
    assert track.status_code == 200
    saved = folder / "downloaded.mp3"
    saved.write_bytes(track.content)
    assert abs(len(decode(saved)) / 1000 - finished["script"]["length_s"]) < 0.1
    part = client.get(finished["track"], headers={"Range": "bytes=0-99"})  # the player seeks
    assert part.status_code == 206
    assert len(part.content) == 100
    for sidecar in finished["sidecars"]:
        assert client.get(sidecar).status_code == 200
    # the same stream, asked again after the end, replays it whole and ends
    assert [kind for kind, _ in build_events(client, started.json()["events"])] == kinds


@pytest.mark.slow
def test_a_failed_build_shows_its_line_and_the_studio_keeps_working(
    client: httpx.Client, studio: StudioServer
) -> None:
    wanted = {"path": "tiny.yaml", "engine": ENGINE, "length": "2h"}
    started = client.post("/api/build", json=wanted, headers=studio.headers())
    events = build_events(client, started.json()["events"])
    kind, last = events[-1]
    assert kind == "failed"
    assert str(last["failed"]).startswith("tiny.yaml: cannot make a 2:00:00 track")
    assert client.get("/api/files").status_code == 200
    retried = client.post("/api/build", json={**wanted, "length": "bad"}, headers=studio.headers())
    assert retried.status_code == 202  # a failed build does not hold the routine
    assert build_events(client, retried.json()["events"])[-1][0] == "failed"


def test_the_command_refuses_a_folder_that_is_not_one(tmp_path: Path) -> None:
    done = invoke("studio", str(tmp_path / "missing"), "--no-browser")
    assert done.exit_code == 2
    assert "missing" in done.output
    assert "Traceback" not in done.output


def test_the_command_serves_the_folder_on_loopback_until_terminated(folder: Path) -> None:
    with socket.socket() as probe:  # a free port, given back for the studio to take
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, "-m", "workout_audio", "studio", str(folder), "--port", str(port),
         "--no-browser"],
        env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        page = None
        while page is None and time.monotonic() < deadline and child.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
        assert page is not None, child.stderr.read() if child.poll() is not None else "no answer"
        assert 'name="studio-token"' in page.text
        files = httpx.get(f"http://127.0.0.1:{port}/api/files", timeout=5).json()
        assert files["routines"] == ["tiny.yaml"]
        child.terminate()
        child.wait(timeout=15)
        assert f"is at http://127.0.0.1:{port}/" in (child.stdout.read() or "")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        for stream in (child.stdout, child.stderr):
            if stream:
                stream.close()


def test_a_request_too_big_for_a_routine_is_refused(client: httpx.Client, studio: StudioServer):
    text = "# " + "x" * 2_000_000
    answer = client.put("/api/routine", json={"path": "big.yaml", "text": text},
                        headers=studio.headers())  # fmt: skip
    assert answer.status_code == 400
    assert "over" in answer.json()["error"]
    assert not (studio.folder / "big.yaml").exists()
