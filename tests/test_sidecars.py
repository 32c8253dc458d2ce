"""Sidecars parse as their formats and carry the script's times (to 10 ms)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import SHORT_ROUTINE, script_of
from workout_audio.errors import UsageError
from workout_audio.outputs.sidecars import (
    SIDECARS,
    TrackInfo,
    lrc_text,
    parse_sidecars,
    write_sidecars,
)
from workout_audio.timeline.script import Script, script_as_json

TOLERANCE_MS = 10


@pytest.fixture
def short_script(write_routine) -> Script:
    return script_of(write_routine(SHORT_ROUTINE))


def clock_ms(hours: str, minutes: str, seconds: str, fraction: str) -> int:
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(
        fraction.ljust(3, "0")
    )


def test_lrc_has_every_cue_at_its_start_to_10_ms(seed_script: Script) -> None:
    lines = lrc_text(seed_script).splitlines()
    speech = list(seed_script.speech())
    assert len(lines) == len(speech) > 100
    for line, event in zip(lines, speech, strict=True):
        found = re.fullmatch(r"\[(\d{2,}):(\d{2})\.(\d{2})\](.*)", line)
        assert found, line
        at_ms = clock_ms("0", *found.groups()[:3])
        assert abs(at_ms - event.start_ms) <= 5, (line, event)
        assert found[4] == event.text


def test_lrc_file_names_title_and_length(short_script: Script, tmp_path: Path) -> None:
    [path] = write_sidecars(short_script, TrackInfo(tmp_path / "short.mp3"), ["lrc"])
    assert path == tmp_path / "short.lrc"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("[ti:Short Circuit]\n[ar:workout-audio]\n[length:")
    assert lrc_text(short_script) in text


def parse_subtitles(text: str, separator: str) -> list[tuple[int, int, str]]:
    stamp = rf"(\d\d):(\d\d):(\d\d){re.escape(separator)}(\d\d\d)"
    found = re.findall(rf"{stamp} --> {stamp}\n(.+)\n", text)
    return [(clock_ms(*groups[:4]), clock_ms(*groups[4:8]), groups[8]) for groups in found]


def test_srt_and_vtt_show_each_cue_while_it_is_said(seed_script: Script, tmp_path: Path) -> None:
    srt, vtt = write_sidecars(seed_script, TrackInfo(tmp_path / "seed.mp3"), ["srt", "vtt"])
    speech = [(e.start_ms, e.end_ms, e.text) for e in seed_script.speech()]
    srt_text = srt.read_text(encoding="utf-8")
    assert srt_text.startswith("1\n00:00:00,")
    assert parse_subtitles(srt_text, ",") == speech
    vtt_text = vtt.read_text(encoding="utf-8")
    assert vtt_text.startswith("WEBVTT\n\n")
    assert parse_subtitles(vtt_text, ".") == speech
    numbers = re.findall(r"^(\d+)\n\d\d:", srt_text, re.M)  # each cue numbered, in order
    assert numbers == [str(n) for n in range(1, len(speech) + 1)]


def test_cue_sheet_has_one_index_per_chapter(seed_script: Script, tmp_path: Path) -> None:
    [cue] = write_sidecars(seed_script, TrackInfo(tmp_path / "seed.mp3"), ["cue"])
    text = cue.read_bytes().decode("utf-8")  # CRLF, as CUE readers expect
    assert 'FILE "seed.mp3" MP3' in text
    titles = re.findall(r'^    TITLE "(.*)"\r$', text, re.M)
    assert titles == [c.title for c in seed_script.chapters]
    indexes = re.findall(r"^    INDEX 01 (\d\d):(\d\d):(\d\d)\r$", text, re.M)
    assert len(indexes) == len(seed_script.chapters) == 29
    for (minutes, seconds, frames), chapter in zip(indexes, seed_script.chapters, strict=True):
        at_ms = (int(minutes) * 60 + int(seconds)) * 1000 + int(frames) * 1000 / 75
        assert abs(at_ms - chapter.start_ms) <= TOLERANCE_MS
    assert [int(n) for n in re.findall(r"TRACK (\d\d) AUDIO", text)] == list(range(1, 30))


def test_podcast_chapters_follow_the_script(seed_script: Script, tmp_path: Path) -> None:
    [path] = write_sidecars(seed_script, TrackInfo(tmp_path / "seed.mp3"), ["chapters"])
    assert path.name == "seed.chapters.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == "1.2.0"
    assert document["title"] == seed_script.routine_name
    got = [(c["title"], c["startTime"], c["endTime"]) for c in document["chapters"]]
    assert got == [(c.title, c.start_ms / 1000, c.end_ms / 1000) for c in seed_script.chapters]


def test_json_sidecar_is_the_script_command_json(short_script: Script, tmp_path: Path) -> None:
    [path] = write_sidecars(short_script, TrackInfo(tmp_path / "s.m4a", "piper"), ["json"])
    assert path == tmp_path / "s.json"
    assert json.loads(path.read_text(encoding="utf-8")) == script_as_json(short_script, "piper")


def test_every_sidecar_is_written_whole_with_no_leftovers(
    short_script: Script, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "s.lrc").write_text("an older file", encoding="utf-8")
    written = write_sidecars(short_script, TrackInfo(folder / "s.mp3"), list(SIDECARS))
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written)
    assert len(written) == 6
    assert "older" not in (folder / "s.lrc").read_text(encoding="utf-8")


def test_sidecar_names_parse_and_unknown_ones_are_refused() -> None:
    assert parse_sidecars("lrc, SRT,lrc") == ("lrc", "srt")
    assert parse_sidecars("none") == ()
    with pytest.raises(UsageError, match=r"unknown sidecar 'mp4'; choose from lrc, srt, .*none"):
        parse_sidecars("lrc,mp4")
    with pytest.raises(UsageError, match="at least one"):
        parse_sidecars(",")
