"""End to end with the real piper voice and the real ffmpeg: the MP3 is what the script says."""

from __future__ import annotations

import io
import json
import os
from itertools import pairwise
from pathlib import Path

import pytest
from mutagen.id3 import ID3, PictureType
from PIL import Image

from helpers import SEED, SHORT_ROUTINE, decode, ffmpeg_chapter_titles, run_cli
from workout_audio import build, load_routine, prepare
from workout_audio.settings import VoiceSettings

pytestmark = pytest.mark.slow

PIPER = VoiceSettings(engine="piper")

SPEECH_DBFS = -40.0  # a window with speech in it is louder than this
SILENCE_DBFS = -70.0  # a gap between clips is quieter than this


@pytest.fixture(scope="module")
def short_build(tmp_path_factory: pytest.TempPathFactory, speech_cache: Path):
    folder = tmp_path_factory.mktemp("short")
    routine_path = folder / "short.yaml"
    routine_path.write_text(SHORT_ROUTINE, encoding="utf-8")
    output = folder / "short.mp3"
    done = run_cli(
        "build", str(routine_path), "-o", str(output), "--engine", "piper",
        "--cache-dir", str(speech_cache),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    scripted = run_cli(
        "script", str(routine_path), "--format", "json", "--engine", "piper",
        "--cache-dir", str(speech_cache),
    )  # fmt: skip
    assert scripted.returncode == 0, scripted.stderr
    return output, json.loads(scripted.stdout), done.stdout


def test_build_reports_where_it_wrote_and_how_long(short_build) -> None:
    output, _, stdout = short_build
    assert str(output) in stdout
    assert "voice: piper" in stdout


def test_decoded_length_matches_the_script(short_build) -> None:
    output, script, _ = short_build
    audio = decode(output)
    assert abs(len(audio) / 1000 - script["length_s"]) <= 0.1


def test_speech_is_heard_where_the_script_says_and_silence_between(short_build) -> None:
    output, script, _ = short_build
    audio = decode(output)
    speech = [e for e in script["events"] if e["kind"] == "speech"]
    assert len(speech) > 10
    for event in speech:
        window = audio[int(event["start_s"] * 1000) : int(event["end_s"] * 1000)]
        assert window.dBFS > SPEECH_DBFS, event
    events = sorted(script["events"], key=lambda e: e["start_s"])
    quiet_checked = 0
    for before, after in pairwise(events):
        gap = audio[int(before["end_s"] * 1000) + 60 : int(after["start_s"] * 1000) - 60]
        if len(gap) >= 300:
            assert gap.dBFS < SILENCE_DBFS, (before, after)
            quiet_checked += 1
    assert quiet_checked > 10


def test_chapters_read_back_in_order_with_mutagen_and_ffmpeg(short_build) -> None:
    output, script, _ = short_build
    tags = ID3(output)
    expected = [c["title"] for c in script["chapters"]]
    assert len(expected) == 5  # Core: 2 rounds x 2 moves, then the stretch
    toc = tags.getall("CTOC")[0]
    chapters = {f.element_id: f for f in tags.getall("CHAP")}
    assert [chapters[i].sub_frames["TIT2"].text[0] for i in toc.child_element_ids] == expected
    starts = [chapters[i].start_time for i in toc.child_element_ids]
    assert starts == [round(c["start_s"] * 1000) for c in script["chapters"]]
    listed = ffmpeg_chapter_titles(output)
    assert [title for _, title in listed] == expected
    assert tags["TIT2"].text == ["Short Circuit"]
    lyrics = tags.getall("USLT")[0].text
    assert "]Side Lunge, 4 reps per side, left side first.\n" in lyrics


def test_cover_and_a_picture_in_every_chapter(short_build) -> None:
    output, script, _ = short_build
    tags = ID3(output)
    [cover] = [f for f in tags.getall("APIC") if f.type == PictureType.COVER_FRONT]
    assert cover.mime == "image/png"
    assert Image.open(io.BytesIO(cover.data)).size >= (1400, 1400)
    toc = tags.getall("CTOC")[0]
    chapters = {f.element_id: f for f in tags.getall("CHAP")}
    pictures = [chapters[i].sub_frames.getall("APIC") for i in toc.child_element_ids]
    assert [len(p) for p in pictures] == [1] * len(script["chapters"])
    assert len({p[0].data for p in pictures}) == len(pictures)  # each its own
    for [picture] in pictures:
        assert Image.open(io.BytesIO(picture.data)).size == (800, 800)


def test_no_chapter_images_keeps_the_cover_and_the_chapters(
    short_build, tmp_path: Path, speech_cache: Path
) -> None:
    with_images, script, _ = short_build
    (tmp_path / "short.yaml").write_text(SHORT_ROUTINE, encoding="utf-8")
    output = tmp_path / "plain.mp3"
    done = run_cli(
        "build", str(tmp_path / "short.yaml"), "-o", str(output), "--engine", "piper",
        "--cache-dir", str(speech_cache), "--no-chapter-images", "--sidecars", "none",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tags = ID3(output)
    assert [f.type for f in tags.getall("APIC")] == [PictureType.COVER_FRONT]
    chapters = tags.getall("CHAP")
    assert len(chapters) == len(script["chapters"])
    assert all(not c.sub_frames.getall("APIC") for c in chapters)
    assert output.stat().st_size < with_images.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.mp3", "short.yaml"]


def test_cues_are_synced_lyrics_in_the_tags_and_beside_the_track(short_build) -> None:
    output, script, _ = short_build
    speech = [(round(e["start_s"] * 1000), e["text"]) for e in script["events"]
              if e["kind"] == "speech"]  # fmt: skip
    tags = ID3(output)
    [synced] = tags.getall("SYLT")
    assert synced.format == 2  # milliseconds
    assert [(at_ms, text) for text, at_ms in synced.text] == speech
    lrc_in_tags = tags.getall("USLT")[0].text.splitlines()
    lrc_file = output.with_suffix(".lrc").read_text(encoding="utf-8").splitlines()
    assert lrc_file[0] == "[ti:Short Circuit]"
    assert lrc_file[-len(lrc_in_tags) :] == lrc_in_tags
    assert len(lrc_in_tags) == len(speech)
    for line, (at_ms, text) in zip(lrc_in_tags, speech, strict=True):
        minutes, seconds = line[1:9].split(":")
        assert abs((int(minutes) * 60 + float(seconds)) * 1000 - at_ms) <= 10, line
        assert line[10:] == text


def test_rebuild_synthesises_nothing(short_build, speech_cache: Path, tmp_path: Path) -> None:
    routine_path = tmp_path / "short.yaml"
    routine_path.write_text(SHORT_ROUTINE, encoding="utf-8")
    routine = load_routine(routine_path)
    calls: list[tuple[str, int, int]] = []
    prepare(routine, voice=PIPER, cache_dir=speech_cache,
            progress=lambda *call: calls.append(call))  # fmt: skip
    assert [c for c in calls if c[0] == "speech"] == []


def test_failed_build_leaves_no_file_and_keeps_the_earlier_one(
    short_build, write_routine, tmp_path: Path, speech_cache: Path
) -> None:
    output = tmp_path / "track.mp3"
    output.write_bytes(b"an earlier good track")
    routine_path = write_routine(SHORT_ROUTINE)
    done = run_cli(
        "build", str(routine_path), "-o", str(output), "--engine", "piper",
        "--cache-dir", str(speech_cache), "--length", "1m",
    )  # fmt: skip
    assert done.returncode == 2
    assert "cannot make a 1:00 track" in done.stderr
    assert "Traceback" not in done.stderr
    assert output.read_bytes() == b"an earlier good track"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["routine.yaml", "track.mp3"]


def test_encoder_crash_leaves_no_partial_file(
    short_build, write_routine, tmp_path: Path, speech_cache: Path
) -> None:
    # A real ffmpeg stand-in that dies mid-stream, first on PATH: the clips are cached,
    # so only the encoder runs.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "ffmpeg"
    fake.write_text("#!/bin/sh\nhead -c 100000 >/dev/null\necho 'simulated crash' >&2\nexit 3\n")
    fake.chmod(0o755)
    output = tmp_path / "out" / "track.mp3"
    output.parent.mkdir()
    output.write_bytes(b"an earlier good track")
    routine_path = write_routine(SHORT_ROUTINE)
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    done = run_cli(
        "build", str(routine_path), "-o", str(output), "--engine", "piper",
        "--cache-dir", str(speech_cache), env=env,
    )  # fmt: skip
    assert done.returncode == 1
    assert "ffmpeg" in done.stderr
    assert "simulated crash" in done.stderr
    assert "Traceback" not in done.stderr
    assert output.read_bytes() == b"an earlier good track"
    assert [p.name for p in output.parent.iterdir()] == ["track.mp3"]


@pytest.fixture(scope="module")
def seed_prepared(speech_cache: Path):
    return prepare(load_routine(SEED), voice=PIPER, cache_dir=speech_cache)


def test_seed_script_is_exactly_thirty_minutes_with_29_chapters(seed_prepared) -> None:
    script = seed_prepared.script
    assert script.length_ms == 30 * 60 * 1000
    assert len(script.chapters) == 29
    exercises = {e.exercise for e in script.events if e.exercise}
    assert len(exercises) == 14
    assert script.chapters[6].title == "Glute Activation · Round 2/2 · Lateral Tap Out"
    # At its written length the seed only moves rests: every round and every hold is kept.
    assert script.adjustments
    assert all("rests x" in note for note in script.adjustments)
    assert not any("rounds instead" in note or " s instead" in note for note in script.adjustments)


def test_seed_builds_to_a_playable_thirty_minute_mp3(
    seed_prepared, speech_cache: Path, tmp_path: Path
) -> None:
    output = tmp_path / "runners-total-body.mp3"
    build(load_routine(SEED), output, voice=PIPER, cache_dir=speech_cache)
    assert abs(len(decode(output)) - 30 * 60 * 1000) <= 100
    titles = [title for _, title in ffmpeg_chapter_titles(output)]
    assert titles == [c.title for c in seed_prepared.script.chapters]
