"""``workout-audio serve`` as a phone and a browser meet it: a real uvicorn on loopback, real
MP3s, a real HTTP client; byte ranges, 304s, the private token, the feed's links made to the
served address, and nothing outside the folder."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from PIL import Image

from helpers import child_env, invoke
from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.errors import UsageError
from workout_audio.serve import TOKEN_FILE, FolderServer, resolve_token

WRITTEN_BASE = "https://example.invalid/plans/c25k/"  # what `program build --base-url` wrote
TOKEN = "s3cret-Token_for.tests~1"
ATOM = "{http://www.w3.org/2005/Atom}"
TRACKS = ("w01-d1-first-run.mp3", "w01-d2-second-run.mp3")


def _mp3(path: Path, seconds: int, frequency_hz: int) -> None:
    """A tone encoded by the real ffmpeg; the suffix picks the format (.mp3, .m4a, .opus)."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
         f"sine=frequency={frequency_hz}:duration={seconds}", "-b:a", "96k", "-y", str(path)],
        check=True, timeout=60,
    )  # fmt: skip


def _feed(items: list[str]) -> str:
    entries = "".join(
        f"<item><title>{name}</title>"
        f'<enclosure url="{WRITTEN_BASE}{name}" length="1" type="audio/mpeg"/>'
        f'<podcast:chapters url="{WRITTEN_BASE}{Path(name).stem}.chapters.json" '
        'type="application/json+chapters"/></item>'
        for name in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
        f"<title>Couch to 5K</title><link>{WRITTEN_BASE}index.html</link>"
        f'<atom:link href="{WRITTEN_BASE}feed.xml" rel="self" type="application/rss+xml"/>'
        f"{entries}</channel></rss>\n"
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A program's output written by hand to the contract, a secret beside it, and the ways
    out a client might try."""
    root = tmp_path_factory.mktemp("served")
    (root / "secret.txt").write_text("not for the phone\n")
    served = root / "c25k"
    served.mkdir()
    _mp3(served / TRACKS[0], 20, 440)
    _mp3(served / TRACKS[1], 3, 660)
    _mp3(served / "w01-d1-first-run.m4a", 1, 440)
    _mp3(served / "w01-d1-first-run.opus", 1, 440)
    (served / "feed.xml").write_text(_feed(list(TRACKS)), encoding="utf-8")
    chapters = {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0, "title": "Warm up", "img": f"{WRITTEN_BASE}w01-d1-1.jpg"},
            {"startTime": 300, "title": "Run", "url": f"{WRITTEN_BASE}index.html"},
        ],
    }
    for track in TRACKS:
        (served / f"{Path(track).stem}.chapters.json").write_text(json.dumps(chapters))
    (served / "index.html").write_text(
        "<!doctype html><title>Couch to 5K</title>"
        + "".join(f'<audio src="{WRITTEN_BASE}{name}" controls></audio>' for name in TRACKS),
        encoding="utf-8",
    )
    (served / "w01-d1-first-run.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nGo\n")
    (served / "program.m3u8").write_text(f"#EXTM3U\n#EXTINF:20,First run\n{TRACKS[0]}\n")
    Image.new("RGB", (8, 8), "red").save(served / "w01-d1-1.jpg")
    Image.new("RGB", (8, 8), "blue").save(served / "cover.png")
    (served / ".hidden.mp3").write_bytes(b"hidden")
    resolve_token(served, "auto")  # the token file `--token auto` keeps, there to be refused
    (served / "token.txt").symlink_to(served / TOKEN_FILE)  # a way in to it by another name
    (served / "sub").mkdir()
    (served / "sub" / "note.txt").write_text("inside a folder\n")
    (served / "out.mp3").symlink_to(root / "secret.txt")  # a link that leads out
    (served / "same.mp3").symlink_to(served / TRACKS[1])  # a link that stays in
    return served


@pytest.fixture(scope="module")
def base(folder: Path) -> Iterator[str]:
    """The folder served in this process on a free loopback port; its URL."""
    server = FolderServer(folder, host="127.0.0.1", port=0, token=TOKEN)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            assert thread.is_alive(), "the server stopped at once"
            time.sleep(0.02)
        yield server.url
    finally:
        server.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One client for the module's requests, as a podcast app keeps one."""
    with httpx.Client(timeout=30) as opened:
        yield opened


def _raw_get(base: str, target: str, method: str = "GET") -> tuple[int, bytes]:
    """A request sent exactly as written: httpx would normalise ``..`` away."""
    url = httpx.URL(base)
    connection = http.client.HTTPConnection(url.host, url.port, timeout=10)
    try:
        connection.request(method, target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# Byte ranges


@pytest.mark.parametrize(
    ("asked", "first", "last"),
    [
        ("bytes=0-0", 0, 0),  # the first byte
        ("bytes=1000-4999", 1000, 4999),  # a middle slice
        ("bytes={end}-{end}", -1, -1),  # the last byte
        ("bytes={end}-", -1, -1),  # from the last byte on
        ("bytes=-777", -777, -1),  # the last 777 bytes
        ("bytes=100000-", 100000, -1),  # open-ended, as a player seeks
    ],
)
def test_a_range_is_answered_with_exactly_its_bytes(
    base: str,
    folder: Path,
    asked: str,
    first: int,
    last: int,
    client: httpx.Client,
) -> None:
    data = (folder / TRACKS[0]).read_bytes()
    size = len(data)
    first, last = first % size, last % size
    response = client.get(base + TRACKS[0], headers={"Range": asked.format(end=size - 1)})
    assert response.status_code == 206
    assert response.content == data[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["accept-ranges"] == "bytes"


def test_a_range_past_the_end_is_416_naming_the_size(
    base: str, folder: Path, client: httpx.Client
) -> None:
    size = (folder / TRACKS[0]).stat().st_size
    response = client.get(base + TRACKS[0], headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


def test_head_gives_the_headers_of_get_without_the_body(
    base: str, folder: Path, client: httpx.Client
) -> None:
    size = (folder / TRACKS[0]).stat().st_size
    head = client.head(base + TRACKS[0])
    get = client.get(base + TRACKS[0])
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == size == len(get.content)
    for name in ("content-type", "etag", "last-modified", "accept-ranges"):
        assert head.headers[name] == get.headers[name]
    ranged = client.head(base + TRACKS[0], headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206
    assert ranged.headers["content-length"] == "10"
    assert ranged.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_only_get_and_head_are_answered(base: str, method: str, client: httpx.Client) -> None:
    response = client.request(method, base + TRACKS[0])
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_twenty_downloads_at_once_are_all_whole(base: str, folder: Path) -> None:
    data = (folder / TRACKS[0]).read_bytes()
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(20) as pool:
        bodies = list(pool.map(lambda _: client.get(base + TRACKS[0]).content, range(20)))
    assert len(bodies) == 20
    assert all(body == data for body in bodies)


# 304


@pytest.mark.parametrize("name", [TRACKS[0], "feed.xml"])
def test_an_unchanged_file_is_304_by_etag_and_by_date(
    base: str, name: str, client: httpx.Client
) -> None:
    first = client.get(base + name)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    by_etag = client.get(base + name, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["etag"] == etag
    by_date = client.get(base + name, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    stale = client.get(base + name, headers={"If-None-Match": '"an-older-version"'})
    assert stale.status_code == 200
    older = client.get(base + name, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert older.status_code == 200
    assert older.content == first.content


# Content types


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        (TRACKS[0], "audio/mpeg"),
        ("w01-d1-first-run.m4a", "audio/mp4"),
        ("w01-d1-first-run.opus", "audio/ogg"),
        ("feed.xml", "application/rss+xml"),
        ("w01-d1-first-run.chapters.json", "application/json"),
        ("w01-d1-first-run.vtt", "text/vtt; charset=utf-8"),
        ("program.m3u8", "application/vnd.apple.mpegurl"),
        ("w01-d1-1.jpg", "image/jpeg"),
        ("cover.png", "image/png"),
        ("index.html", "text/html; charset=utf-8"),
        ("", "text/html; charset=utf-8"),  # the folder's front page
    ],
)
def test_each_kind_of_file_has_its_content_type(
    base: str, name: str, content_type: str, client: httpx.Client
) -> None:
    response = client.get(base + name)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type


# The token


def test_without_the_token_nothing_is_served(base: str, client: httpx.Client) -> None:
    root = base.removesuffix(f"{TOKEN}/")
    assert client.get(base + "feed.xml").status_code == 200
    near = TOKEN.replace(".", "X")  # the token is matched as written, not as a pattern
    wrong_ones = ("feed.xml", f"{TOKEN[:-1]}/feed.xml", f"{TOKEN}x/feed.xml", f"{near}/feed.xml")
    for wrong in (*wrong_ones, "x/feed.xml", ""):
        assert client.get(root + wrong).status_code == 404, wrong


def test_auto_token_is_unguessable_private_and_kept_across_restarts(tmp_path: Path) -> None:
    token = resolve_token(tmp_path, "auto")
    assert token is not None
    assert len(token) >= 32
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    kept = tmp_path / TOKEN_FILE
    assert kept.stat().st_mode & 0o777 == 0o600
    assert resolve_token(tmp_path, "auto") == token  # the phone's subscription survives
    assert resolve_token(tmp_path / "..", "none") is None
    assert resolve_token(tmp_path, "my-own.token") == "my-own.token"
    other = tmp_path / "other"
    other.mkdir()
    assert resolve_token(other, "auto") != token
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


@pytest.mark.parametrize("bad", ["has space", "a/b", "..", "percent%20", "ü"])
def test_a_token_a_url_cannot_carry_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UsageError, match="--token"):
        resolve_token(tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


def test_token_none_serves_at_the_root(folder: Path) -> None:
    server = FolderServer(folder, port=0, token="none")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert server.url == f"http://127.0.0.1:{server.port}/"
        feed = _get_when_up(server.url + "feed.xml")
        links = _feed_links(feed.text)
        assert links[0] == server.url + "feed.xml"
    finally:
        server.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


def _get_when_up(url: str) -> httpx.Response:
    deadline = time.monotonic() + 10
    while True:
        try:
            return httpx.get(url)
        except httpx.ConnectError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.05)


# Nothing outside the folder


@pytest.mark.parametrize(
    "target",
    [
        "/{token}/../secret.txt",
        "/{token}/%2e%2e/secret.txt",
        "/{token}/%2E%2E%2Fsecret.txt",
        "/{token}/..%2fsecret.txt",
        "/{token}/sub/../../secret.txt",
        "/{token}/sub/../feed.xml",  # any "..", even one that stays inside
        "/{token}/..\\secret.txt",
        "/{token}/%5c..%5csecret.txt",
        "/{token}//etc/passwd",
        "/{token}/%2Fetc%2Fpasswd",
        "/etc/passwd",
        "/{token}/out.mp3",  # a symlink that leads out of the folder
        "/{token}/.hidden.mp3",
        "/{token}/.serve-token",
        "/{token}/%2eserve-token",
        "/{token}/token.txt",
        "/{token}/sub/",  # no listings
        "/{token}/sub",
        "/{token}/feed.xml%00.mp3",
    ],
)
def test_nothing_outside_the_folder_nor_hidden_nor_a_listing(base: str, target: str) -> None:
    status, body = _raw_get(base, target.format(token=TOKEN))
    assert status == 404
    assert b"not for the phone" not in body
    assert TOKEN.encode() not in body
    assert b"root:" not in body


def test_the_refusals_refuse_only_what_they_should(base: str, folder: Path) -> None:
    assert _raw_get(base, f"/{TOKEN}/sub/note.txt") == (200, b"inside a folder\n")
    assert _raw_get(base, f"/{TOKEN}/same.mp3") == (200, (folder / TRACKS[1]).read_bytes())


# The feed's address


def _feed_links(text: str) -> list[str]:
    channel = ElementTree.fromstring(text).find("channel")
    assert channel is not None
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None
    links = [self_link.get("href", ""), channel.findtext("link", "")]
    for item in channel.iter("item"):
        enclosure = item.find("enclosure")
        chapters = item.find("{https://podcastindex.org/namespace/1.0}chapters")
        assert enclosure is not None
        assert chapters is not None
        links += [enclosure.get("url", ""), chapters.get("url", "")]
    return links


def test_every_url_in_the_feed_chapters_and_page_is_the_served_address(
    base: str, client: httpx.Client
) -> None:
    feed = client.get(base + "feed.xml")
    links = _feed_links(feed.text)
    assert links[0] == base + "feed.xml"
    assert len(links) == 2 + 2 * len(TRACKS)
    assert all(link.startswith(base) for link in links), links
    assert int(feed.headers["content-length"]) == len(feed.content)
    for link in links:  # each of them answers
        assert client.head(link).status_code == 200, link
    chapters = client.get(base + "w01-d1-first-run.chapters.json").json()["chapters"]
    assert chapters[0]["img"] == base + "w01-d1-1.jpg"
    assert chapters[1]["url"] == base + "index.html"
    page = client.get(base).text
    assert re.findall(r'src="([^"]+)"', page) == [base + name for name in TRACKS]
    assert WRITTEN_BASE not in page


def test_the_feed_follows_the_host_a_phone_asked_for(base: str, client: httpx.Client) -> None:
    asked = client.get(base + "feed.xml", headers={"Host": "192.168.1.20:8000"})
    links = _feed_links(asked.text)
    assert all(link.startswith(f"http://192.168.1.20:8000/{TOKEN}/") for link in links), links
    plain = client.get(base + "feed.xml")
    assert asked.headers["etag"] != plain.headers["etag"]  # the ETag is the body's
    proxied = client.get(base + "feed.xml", headers={"X-Forwarded-Proto": "https"})
    assert _feed_links(proxied.text)[0] == base.replace("http:", "https:", 1) + "feed.xml"
    hostile = client.get(base + "feed.xml", headers={"Host": 'evil"/><script>x</script>'})
    assert "<script>" not in hostile.text
    assert _feed_links(hostile.text)[0] == base + "feed.xml"


def test_a_folder_without_a_feed_is_served_as_it_is(tmp_path: Path) -> None:
    page = f'<a href="{WRITTEN_BASE}x.mp3">x</a>'
    (tmp_path / "index.html").write_text(page)
    server = FolderServer(tmp_path, port=0, token=TOKEN)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert _get_when_up(server.url).text == page
    finally:
        server.stop()
        thread.join(timeout=10)


def test_files_written_after_start_are_served(
    base: str, folder: Path, client: httpx.Client
) -> None:
    late = folder / "w01-d3-third-run.mp3"
    assert client.get(base + late.name).status_code == 404
    feed = folder / "feed.xml"
    before = client.get(base + "feed.xml")
    _mp3(late, 2, 880)
    feed.write_text(_feed([*TRACKS, late.name]), encoding="utf-8")
    try:
        assert client.get(base + late.name).content == late.read_bytes()
        after = client.get(base + "feed.xml", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert _feed_links(after.text)[-2] == base + late.name
    finally:
        late.unlink()
        feed.write_text(_feed(list(TRACKS)), encoding="utf-8")


# The command


def _lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        with contextlib.suppress(ValueError, OSError):  # closed when the test ends
            for line in process.stdout:
                lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _until(lines: queue.Queue[str], pattern: str, seen: list[str]) -> re.Match[str]:
    deadline = time.monotonic() + 30
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found


def _stopped(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# Each half-block character is two modules, top and bottom; True is dark (segno's compact
# terminal drawing, for a light-on-dark terminal).
_HALF_BLOCKS = {" ": (True, True), "▀": (False, True), "▄": (True, False), "█": (False, False)}


def _printed_qr(lines: list[str]) -> list[list[bool]]:
    drawn = [line.rstrip("\n") for line in lines]
    drawn = [line for line in drawn if line and set(line) <= set(_HALF_BLOCKS)]
    modules = []
    for line in drawn:
        pairs = [_HALF_BLOCKS[char] for char in line]
        modules += [[top for top, _ in pairs], [bottom for _, bottom in pairs]]
    return modules


def _qr_modules(url: str) -> list[list[bool]]:
    """The modules of ``url``'s QR code with its quiet zone, as segno encodes it, padded to
    an even number of rows as two rows a line does."""
    import segno

    rows = [[bool(m) for m in row] for row in segno.make(url, error="m").matrix_iter(border=4)]
    return rows + [[True] * len(rows[0])] * (len(rows) % 2)


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_command_prints_the_feed_url_and_its_qr_and_stops_cleanly(
    tmp_path: Path,
    folder: Path,
    stop_with: signal.Signals,
    client: httpx.Client,
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    for name in ("feed.xml", TRACKS[1]):
        (served / name).write_bytes((folder / name).read_bytes())
    seen: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "workout_audio", "serve", str(served), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
        env=child_env(PYTHONIOENCODING="utf-8"),
    ) as process:  # fmt: skip
        try:
            lines = _lines_of(process)
            url = _until(lines, r"feed: (http://127\.0\.0\.1:\d+/(\S+)/feed\.xml)", seen)
            token = (served / TOKEN_FILE).read_text().strip()
            assert url.group(2) == token
            _until(lines, "Ctrl-C", seen)
            assert _printed_qr(seen) == _qr_modules(url.group(1))  # the code is of that URL
            feed = client.get(url.group(1), timeout=10)
            assert feed.status_code == 200
            assert _feed_links(feed.text)[0] == url.group(1)
            assert client.get(url.group(1).replace("feed.xml", TOKEN_FILE)).status_code == 404
            _until(lines, r'"GET /\S+/feed\.xml HTTP/1\.1" 200', seen)  # each request, logged
            process.send_signal(stop_with)
            assert process.wait(timeout=15) == 0
            _until(lines, "stopped", seen)
        finally:
            _stopped(process)
    assert "Traceback" not in "".join(seen)


def test_the_command_refuses_what_it_cannot_serve(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "feed.xml"
    not_a_folder.write_text("<rss/>")
    result = invoke("serve", str(not_a_folder))
    assert result.exit_code == 2
    assert "not a folder" in result.output
    result = invoke("serve", str(tmp_path), "--token", "a b")
    assert result.exit_code == 2
    assert "--token" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.xml"]  # nothing written
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("serve", str(tmp_path), "--port", str(port))
    assert result.exit_code == 2
    assert "cannot listen" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.xml"]  # no token file either
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_on_every_network_the_url_names_this_machines_address(tmp_path: Path) -> None:
    server = FolderServer(tmp_path, host="0.0.0.0", port=0, token=TOKEN)
    try:
        host = httpx.URL(server.url).host
        assert host not in ("0.0.0.0", "")
        socket.inet_aton(host)  # an IPv4 address a phone can reach
        assert server.exposure is not None
        assert "anyone there who has the URL" in server.exposure
        assert "the only lock" in server.exposure
    finally:
        server.close()
    open_to_all = FolderServer(tmp_path, host="0.0.0.0", port=0, token="none")
    open_to_all.close()
    assert "no lock at all" in (open_to_all.exposure or "")
    here_only = FolderServer(tmp_path, port=0, token="none")
    here_only.close()
    assert here_only.exposure is None


if os.name != "posix":  # pragma: no cover - symlinks and signals as on POSIX
    pytestmark = pytest.mark.skip("POSIX only")
