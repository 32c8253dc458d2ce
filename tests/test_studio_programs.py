"""Programs in the studio: listed apart from routines, their sessions shown, built all at
once with progress over server-sent events, and their feed served by the studio itself at
its own address under a token path, with a QR code of it for a phone."""

from __future__ import annotations

import textwrap
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from studio_server import ENGINE, TINY, StudioServer, build_events

# Two sessions of a few seconds each: enough to be a program, quick to build.
PROGRAM = textwrap.dedent(
    """\
    name: Two Day Plan
    description: Two short days.
    weeks:
      - days:
          - routine: tiny.yaml
            title: Day one
          - title: Day two
            blocks: [{name: Main, exercises: [{name: Run, time: 8s}]}]
    """
)
# "tmie" is a mistake on line 8 of the program, inside its inline routine.
BAD_PROGRAM = PROGRAM.replace("time: 8s", "tmie: 8s")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "studio"
    (folder / "plans").mkdir(parents=True)
    (folder / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (folder / "plans" / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (folder / "plans" / "two-days.yaml").write_text(PROGRAM, encoding="utf-8")
    return folder


@pytest.fixture
def studio(folder: Path, speech_cache: Path) -> Iterator[StudioServer]:
    with StudioServer(folder, cache_dir=speech_cache) as server:
        yield server


@pytest.fixture
def client(studio: StudioServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=studio.url, timeout=120) as http:
        yield http


def test_programs_are_listed_apart_from_routines(client: httpx.Client) -> None:
    files = client.get("/api/files").json()
    assert files["programs"] == ["plans/two-days.yaml"]
    assert files["routines"] == ["plans/tiny.yaml", "tiny.yaml"]


def test_a_program_shows_its_sessions_in_training_order(client: httpx.Client) -> None:
    shown = client.get("/api/program", params={"path": "plans/two-days.yaml"}).json()
    assert shown["errors"] == []
    assert shown["name"] == "Two Day Plan"
    assert [(s["week"], s["day"], s["title"]) for s in shown["sessions"]] == [
        (1, 1, "Day one"),
        (1, 2, "Day two"),
    ]
    assert "feed" not in shown  # not built yet


def test_a_bad_program_is_answered_with_its_file_and_line(
    client: httpx.Client, folder: Path
) -> None:
    (folder / "plans" / "two-days.yaml").write_text(BAD_PROGRAM, encoding="utf-8")
    shown = client.get("/api/program", params={"path": "plans/two-days.yaml"}).json()
    assert shown["sessions"] == []
    assert {e["line"] for e in shown["errors"]} == {8}
    texts = [e["text"] for e in shown["errors"]]
    assert all(text.startswith("plans/two-days.yaml:8: ") for text in texts), texts
    assert any("unknown key 'tmie'" in text for text in texts), texts


def test_a_program_outside_the_folder_or_missing_is_refused(client: httpx.Client) -> None:
    assert client.get("/api/program", params={"path": "../two-days.yaml"}).status_code == 403
    assert client.get("/api/program", params={"path": "gone.yaml"}).status_code == 404


def test_build_all_needs_the_pages_origin_and_token(
    client: httpx.Client, studio: StudioServer, folder: Path
) -> None:
    wanted = {"path": "plans/two-days.yaml", "engine": ENGINE}
    refused = client.post("/api/program/build", json=wanted, headers={"Origin": studio.url})
    assert refused.status_code == 403
    assert not (folder / "build").exists()


def test_build_all_of_a_bad_program_fails_with_its_line_and_writes_nothing(
    client: httpx.Client, studio: StudioServer, folder: Path
) -> None:
    (folder / "plans" / "two-days.yaml").write_text(BAD_PROGRAM, encoding="utf-8")
    wanted = {"path": "plans/two-days.yaml", "engine": ENGINE}
    started = client.post("/api/program/build", json=wanted, headers=studio.headers())
    assert started.status_code == 202
    kind, last = build_events(client, started.json()["events"])[-1]
    assert kind == "failed"
    assert str(last["failed"]).startswith("plans/two-days.yaml:8: ")
    assert not (folder / "build").exists()
    assert client.get("/api/files").status_code == 200  # the studio goes on


def test_an_unknown_feed_token_is_404(client: httpx.Client) -> None:
    assert client.get("/feeds/guessed/feed.xml").status_code == 404
    assert client.get("/feeds/").status_code == 404


@pytest.mark.slow
def test_build_all_streams_to_the_end_and_the_studio_serves_the_feed(
    client: httpx.Client, studio: StudioServer, folder: Path, speech_cache: Path
) -> None:
    wanted = {"path": "plans/two-days.yaml", "engine": ENGINE}
    started = client.post("/api/program/build", json=wanted, headers=studio.headers())
    assert started.status_code == 202
    again = client.post("/api/program/build", json=wanted, headers=studio.headers())
    assert again.status_code == 409  # answered, not queued
    events = build_events(client, started.json()["events"])
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "finished", events[-1]
    steps = [(e["done"], e["total"]) for kind, e in events if kind == "progress"]
    assert steps == [(0, 2), (1, 2), (2, 2)]
    finished = events[-1][1]["finished"]
    assert isinstance(finished, dict)
    assert finished["built"] == 2

    # the feed, on the studio's own address under a token path
    feed_url = str(finished["feed"])
    prefix = f"{studio.url}/feeds/"
    assert feed_url.startswith(prefix)
    assert feed_url.endswith("/feed.xml")
    token = feed_url.removeprefix(prefix).removesuffix("/feed.xml")
    built = folder / "build" / "plans" / "two-days"
    assert (built / ".serve-token").read_text().strip() == token  # the one `serve` would use
    parsed = feedparser.parse(client.get(feed_url).content)
    assert [entry.title for entry in parsed.entries] == ["Day one", "Day two"]
    for entry in parsed.entries:
        (enclosure,) = entry.enclosures
        assert enclosure.href.startswith(f"{prefix}{token}/")
        track = client.get(enclosure.href)
        assert track.status_code == 200
        assert len(track.content) == int(enclosure.length)
        name = urllib.parse.urlsplit(enclosure.href).path.rpartition("/")[2]
        assert track.content == (built / name).read_bytes()
    assert client.get(f"{prefix}{token}/.serve-token").status_code == 404

    # the QR code is an SVG of exactly that URL (segno makes the same code for it)
    import segno

    qr = str(finished["qr_svg"])
    assert qr.startswith("data:image/svg+xml")
    assert qr == segno.make(feed_url, error="m").svg_data_uri(scale=4, border=4)
    assert qr != segno.make(feed_url + "x", error="m").svg_data_uri(scale=4, border=4)

    # opened again, the program shows its feed; a studio started afresh serves it still
    shown = client.get("/api/program", params={"path": "plans/two-days.yaml"}).json()
    assert shown["feed"] == feed_url
    with StudioServer(folder, cache_dir=speech_cache) as restarted:
        again_feed = httpx.get(f"{restarted.url}/feeds/{token}/feed.xml", timeout=30)
        assert again_feed.status_code == 200
        assert f"{restarted.url}/feeds/{token}/" in again_feed.text
