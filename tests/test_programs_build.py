"""A program built for real: tracks, chapters, transcripts, the feed as podcast apps read it,
the rebuild that makes nothing, and a build killed halfway."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import jsonschema
import podcastparser
import pytest

from helpers import child_env
from workout_audio import prepare
from workout_audio.programs import ProgramResult, build_program, load_program
from workout_audio.settings import EncodeSettings, VoiceSettings

pytestmark = pytest.mark.slow

BASE = "http://192.0.2.7:8123/plan/"
PIPER = VoiceSettings(engine="piper")
PROGRAM = """\
    name: Tiny Plan
    description: Two short weeks.
    session_title: "Week {week}, day {day}"
    defaults: {timing: {flow: continuous}}
    weeks:
      - days: 2
        routine:
          name: Easy
          blocks:
            - {name: Warm-up, exercises: [{name: Walk, time: 20s}]}
            - name: Intervals
              rounds: 2
              rounds_fixed: true
              exercises: [{name: Run, time: 15s}, {name: Walk, time: 15s}]
      - days:
          - blocks: [{name: Main, exercises: [{name: Run, time: 30s}]}]
"""

# The Podcasting 2.0 JSON chapters format (podcast-namespace docs/examples/chapters/
# jsonChapters.md), as a schema: version and chapters required; each chapter a startTime.
JSON_CHAPTERS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "chapters"],
    "properties": {
        "version": {"type": "string", "pattern": r"^1\.\d+\.\d+$"},
        "author": {"type": "string"},
        "title": {"type": "string"},
        "podcastName": {"type": "string"},
        "description": {"type": "string"},
        "fileName": {"type": "string"},
        "waypoints": {"type": "boolean"},
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["startTime"],
                "properties": {
                    "startTime": {"type": "number", "minimum": 0},
                    "endTime": {"type": "number", "minimum": 0},
                    "title": {"type": "string"},
                    "img": {"type": "string", "format": "uri"},
                    "url": {"type": "string", "format": "uri"},
                    "toc": {"type": "boolean"},
                    "location": {
                        "type": "object",
                        "required": ["name", "geo"],
                        "properties": {"name": {"type": "string"}, "geo": {"type": "string"}},
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, speech_cache: Path
) -> tuple[Path, ProgramResult]:
    folder = tmp_path_factory.mktemp("program")
    path = folder / "plan.yaml"
    path.write_text(textwrap.dedent(PROGRAM), encoding="utf-8")
    result = build_program(
        path, folder / "out", base_url=BASE, jobs=2, voice=PIPER, cache_dir=speech_cache
    )
    return path, result


def test_feed_as_gpodder_and_feedparser_read_it(built: tuple[Path, ProgramResult]) -> None:
    _, result = built
    out = result.folder
    sessions = result.program.sessions
    assert [s.title for s in result.built] == [s.title for s in sessions]
    feed = (out / "feed.xml").read_bytes()

    parsed = podcastparser.parse(BASE + "feed.xml", (out / "feed.xml").open("rb"))
    assert parsed["title"] == "Tiny Plan"
    assert parsed["cover_url"] == BASE + "cover.png"
    episodes = parsed["episodes"]  # a serial feed: oldest first
    assert [e["title"] for e in episodes] == ["Week 1, day 1", "Week 1, day 2", "Week 2, day 1"]
    for episode, session, done in zip(episodes, sessions, result.sessions, strict=True):
        track = out / f"{session.stem}.mp3"
        [enclosure] = episode["enclosures"]
        assert enclosure["url"] == BASE + track.name
        assert enclosure["file_size"] == track.stat().st_size
        assert enclosure["mime_type"] == "audio/mpeg"
        assert episode["total_time"] == round(done.duration_ms / 1000)
        assert episode["season"] == session.week
        assert episode["type"] == "full"
    assert [e["published"] for e in episodes] == sorted(e["published"] for e in episodes)
    assert len({e["guid"] for e in episodes}) == 3

    read = feedparser.parse(feed)
    assert not read.bozo, read.get("bozo_exception")
    assert read.feed.title == "Tiny Plan"
    assert read.feed.language == "en"
    assert read.feed.itunes_block == 1  # feedparser reads "yes" as 1
    assert read.feed.podcast_locked == "yes"
    assert read.feed.podcast_guid == str(result.program.guid)
    assert [e.title for e in read.entries] == [s.title for s in sessions]
    for entry, session, done in zip(read.entries, sessions, result.sessions, strict=True):
        [enclosure] = entry.enclosures
        assert enclosure.href == BASE + f"{session.stem}.mp3"
        assert int(enclosure.length) == (out / f"{session.stem}.mp3").stat().st_size
        assert enclosure.type == "audio/mpeg"
        assert int(entry.itunes_duration) == round(done.duration_ms / 1000)
        assert entry.guidislink is False
    # podcastparser 0.6 knows the Podcasting 2.0 namespace only by its old GitHub address,
    # not the one the spec names (https://podcastindex.org/namespace/1.0): read it here.
    podcast = "{https://podcastindex.org/namespace/1.0}"
    items = ElementTree.fromstring(feed).findall("channel/item")
    for item, session in zip(items, sessions, strict=True):
        chapters = item.find(f"{podcast}chapters")
        transcript = item.find(f"{podcast}transcript")
        assert chapters is not None
        assert transcript is not None
        assert chapters.attrib == {
            "url": BASE + f"{session.stem}.chapters.json",
            "type": "application/json+chapters",
        }
        assert transcript.get("url") == BASE + f"{session.stem}.vtt"
        assert transcript.get("type") == "text/vtt"
    channel_guid = ElementTree.fromstring(feed).findtext(f"channel/{podcast}guid")
    assert channel_guid == str(result.program.guid)
    # Every absolute URL starts with the base, and the channel names itself under it.
    text = feed.decode()
    assert f'<atom:link href="{BASE}feed.xml" rel="self" type="application/rss+xml"' in text
    assert "<itunes:block>yes</itunes:block>" in text
    assert "<podcast:locked>yes</podcast:locked>" in text
    for url in _urls(text):
        assert url.startswith(BASE), url
    from PIL import Image

    with Image.open(out / "cover.png") as cover:
        assert cover.size == (3000, 3000)


def _urls(text: str) -> list[str]:
    import re

    found = re.findall(r'(?:href|url)="([^"]+)"|<url>([^<]+)</url>|<link>([^<]+)</link>', text)
    assert found
    return [next(part for part in match if part) for match in found]


def test_chapters_and_transcripts_follow_the_script(
    built: tuple[Path, ProgramResult], speech_cache: Path
) -> None:
    _, result = built
    out = result.folder
    for session in result.program.sessions:
        script = prepare(
            session.routine, voice=PIPER, length_ms=session.length_ms, cache_dir=speech_cache
        ).script
        document = json.loads((out / f"{session.stem}.chapters.json").read_text("utf-8"))
        jsonschema.validate(document, JSON_CHAPTERS_SCHEMA)
        chapters = document["chapters"]
        assert [(c["startTime"], c["endTime"], c["title"]) for c in chapters] == [
            (c.start_ms / 1000, c.end_ms / 1000, c.title) for c in script.chapters
        ]
        for chapter in chapters:
            assert chapter["img"].startswith(BASE)
            picture = out / chapter["img"].removeprefix(BASE)
            assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        cues = _vtt_cues((out / f"{session.stem}.vtt").read_text("utf-8"))
        assert cues == [(e.start_ms, e.end_ms, e.text) for e in script.speech()]


def _vtt_cues(text: str) -> list[tuple[int, int, str]]:
    def ms(stamp: str) -> int:
        hours, minutes, seconds = stamp.split(":")
        return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)

    cues = []
    for block in text.split("\n\n")[1:]:
        lines = block.strip().splitlines()
        if lines:
            start, end = lines[0].split(" --> ")
            cues.append((ms(start), ms(end), "\n".join(lines[1:])))
    return cues


def test_index_and_playlist_are_plain_and_relative(built: tuple[Path, ProgramResult]) -> None:
    _, result = built
    page = (result.folder / "index.html").read_text("utf-8")
    assert page.count("<audio controls") == 3
    assert "<script" not in page
    assert "http" not in page  # relative links only: the page works wherever it is served
    for session in result.program.sessions:
        assert f'src="{session.stem}.mp3"' in page
    playlist = (result.folder / "program.m3u8").read_text("utf-8").splitlines()
    assert playlist[0] == "#EXTM3U"
    assert playlist[3] == "w01-d1-week-1-day-1.mp3"
    assert playlist[2].endswith(",Week 1, day 1")


def test_a_rebuild_with_nothing_changed_makes_nothing(
    built: tuple[Path, ProgramResult], speech_cache: Path
) -> None:
    path, first = built
    tracks = sorted(first.folder.glob("*.mp3"))
    before = {track: track.stat().st_mtime_ns for track in tracks}
    again = build_program(path, first.folder, base_url=BASE, voice=PIPER, cache_dir=speech_cache)
    assert again.built == ()
    assert [s.title for s in again.skipped] == [s.title for s in first.program.sessions]
    assert {track: track.stat().st_mtime_ns for track in tracks} == before
    assert (first.folder / "feed.xml").read_bytes() == (again.feed).read_bytes()


def test_bad_output_and_base_url_write_nothing(built: tuple[Path, ProgramResult]) -> None:
    path, _ = built
    a_file = path.parent / "a-file"
    a_file.write_text("x")
    env = child_env()
    done = _cli("program", "build", str(path), "-o", str(a_file), "--engine", "piper", env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {a_file}: is a file; give a folder for the program"
    assert a_file.read_text() == "x"
    fresh = path.parent / "fresh"
    done = _cli("program", "build", str(path), "-o", str(fresh), "--base-url", "ftp://x/", env=env)
    assert done.returncode == 2
    assert "--base-url: 'ftp://x/' is not an http:// or https:// address" in done.stderr
    assert "Traceback" not in done.stderr
    assert not fresh.exists()


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workout_audio", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_a_killed_build_leaves_the_old_feed_and_the_next_run_finishes(
    built: tuple[Path, ProgramResult], tmp_path: Path, speech_cache: Path
) -> None:
    path, first = built
    out = tmp_path / "out"
    shutil.copytree(first.folder, out)
    old_feed = (out / "feed.xml").read_bytes()
    old_tracks = {p.name: p.read_bytes() for p in out.glob("*.mp3")}
    changed = path.parent / "louder.yaml"
    changed.write_text(path.read_text("utf-8") + "loudness: -18\n", encoding="utf-8")
    command = [
        sys.executable, "-m", "workout_audio", "program", "build", str(changed), "-o", str(out),
        "--base-url", BASE, "--engine", "piper", "--jobs", "1", "--cache-dir", str(speech_cache),
    ]  # fmt: skip
    state = out / ".workout-audio-program.json"
    old_state = state.read_bytes()
    child = subprocess.Popen(
        command, env=child_env(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while state.read_bytes() == old_state:  # until the first new session is finished
            assert child.poll() is None, "the build ended before it could be stopped"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert (out / "feed.xml").read_bytes() == old_feed  # the feed is written last
    for name, data in old_tracks.items():
        now = (out / name).read_bytes()
        assert now == data or name == "w01-d1-week-1-day-1.mp3"  # each track whole
    finished = build_program(
        changed, out, base_url=BASE, voice=PIPER, jobs=1, cache_dir=speech_cache,
        encode=EncodeSettings(loudness_lufs=-18),
    )  # fmt: skip
    assert [s.title for s in finished.skipped] == ["Week 1, day 1"]
    assert [s.title for s in finished.built] == ["Week 1, day 2", "Week 2, day 1"]
    assert (out / "feed.xml").read_bytes() != old_feed
    assert load_program(changed).encode.loudness_lufs == -18


def test_a_real_couch_to_5k_session_sounds_its_start_tones_at_the_plans_times(
    tmp_path: Path, speech_cache: Path
) -> None:
    from array import array

    from helpers import decode
    from workout_audio.audio.pcm import SAMPLE_RATE_HZ

    program = load_program(Path(__file__).resolve().parent.parent / "programs/couch-to-5k.yaml")
    week_4 = dataclasses.replace(program, sessions=program.sessions[9:10])  # 7 intervals
    result = build_program(week_4, tmp_path, base_url=BASE, voice=PIPER, cache_dir=speech_cache)
    [done] = result.sessions
    audio = decode(tmp_path / done.track)
    assert abs(len(audio) - done.duration_ms) <= 1
    run_walk_min = [5, 3, 1.5, 5, 2.5, 3, 1.5, 5, 5]  # the NHS's week 4, walks around it
    offsets_ms = [round(60_000 * sum(run_walk_min[:i])) for i in range(len(run_walk_min))]
    session = week_4.sessions[0]
    script = prepare(session.routine, voice=PIPER, cache_dir=speech_cache).script
    assert script.length_ms == done.duration_ms  # the script the track was made from
    starts = [e.start_ms for e in script.events if e.tone == "start"]
    first_ms = starts[0]
    assert [start - first_ms for start in starts] == offsets_ms

    def start_tone_share(at_ms: int) -> float:
        """How much of 80 ms from ``at_ms`` is the 1320 Hz start tone (Goertzel)."""
        samples = array("h", audio[at_ms : at_ms + 80].raw_data)
        coefficient = 2 * math.cos(2 * math.pi * 1320 / SAMPLE_RATE_HZ)
        previous = before = 0.0
        for sample in samples:
            previous, before = sample + coefficient * previous - before, previous
        power = previous**2 + before**2 - coefficient * previous * before
        return 2 * power / (len(samples) * (sum(s * s for s in samples) or 1))

    for offset_ms in offsets_ms:
        assert start_tone_share(first_ms + offset_ms) > 0.5, offset_ms  # the tone, there
        assert start_tone_share(first_ms + offset_ms - 200) < 0.5, offset_ms  # not before
