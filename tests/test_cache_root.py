"""The cache root: speech, music measurements and pictures in one folder, one scheme, one cap."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from helpers import invoke
from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.storage.cache import CacheRoot, format_size

pytestmark = pytest.mark.slow  # each test builds on one real build

TINY_ROUTINE = """\
name: Tiny Core
blocks:
  - name: Core
    exercises:
      - {name: Plank, time: 20s}
      - {name: Side Plank, time: 15s}
"""
KINDS = ("speech", "music", "art")


def kind_entries(root: Path, kind: str) -> set[str]:
    """The names of a kind's entries (hidden temporary files aside)."""
    folder = root / kind
    if not folder.is_dir():
        return set()
    return {p.name for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")}


def build(folder: Path, root: Path, output: str = "tiny.mp3") -> None:
    done = invoke(
        "build", str(folder / "tiny.yaml"), "-o", str(folder / output),
        "--engine", "piper", "--cache-dir", str(root), "--sidecars", "none",
        "--music", str(folder / "tone.flac"),
    )  # fmt: skip
    assert done.exit_code == 0, done.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the tiny routine, a music file and a cache root one build filled."""
    folder = tmp_path_factory.mktemp("cache-root")
    (folder / "tiny.yaml").write_text(TINY_ROUTINE, encoding="utf-8")
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=220:duration=8",
         "-ac", "2", str(folder / "tone.flac")],
        check=True,
    )  # fmt: skip
    build(folder, folder / "root")
    return folder


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    """A copy of the filled cache root, to change at will."""
    copy = tmp_path / "root"
    shutil.copytree(built / "root", copy)
    return copy


def test_a_build_fills_speech_music_and_art_under_the_root(built: Path) -> None:
    root = built / "root"
    assert sorted(p.name for p in root.iterdir()) == ["art", "music", "speech"]
    speech = kind_entries(root, "speech")
    assert len(speech) >= 3, "one clip a phrase"
    assert all(name.endswith(".wav") for name in speech)
    assert [name[-5:] for name in kind_entries(root, "music")] == [".json"]
    assert [name[-4:] for name in kind_entries(root, "art")] == [".art"]


def test_info_shows_each_kind_and_only_limits_it(root: Path) -> None:
    done = invoke("cache", "info", "--cache-dir", str(root))
    code, output = done.exit_code, done.output
    assert code == 0, output
    for kind in KINDS:
        assert f"  {kind}: {len(kind_entries(root, kind))} (" in output
    assert "by engine: piper" in output

    done = invoke("cache", "info", "--cache-dir", str(root), "--only", "music")
    code, output = done.exit_code, done.output
    assert code == 0, output
    music_bytes = sum(p.stat().st_size for p in (root / "music").iterdir())
    assert f"entries: 1 ({format_size(music_bytes)}; at most 1.0 GB)" in output
    assert f"  music: 1 ({format_size(music_bytes)}) in {root / 'music'}" in output
    assert "speech:" not in output
    assert "art:" not in output
    assert "by engine" not in output, "clips are not listed when only music is asked for"


@pytest.mark.parametrize("command", ["info", "prune", "clear"])
def test_only_a_kind_there_is(root: Path, command: str) -> None:
    before = {kind: kind_entries(root, kind) for kind in KINDS}
    done = invoke("cache", command, "--cache-dir", str(root), "--only", "voices")
    code, output = done.exit_code, done.output
    assert code == 2
    assert len(output.strip().splitlines()) == 1, output
    assert "--only" in output
    assert "'voices'" in output
    assert {kind: kind_entries(root, kind) for kind in KINDS} == before, "nothing touched"


def test_clear_only_art_leaves_speech_and_music(built: Path, root: Path) -> None:
    speech, music = kind_entries(root, "speech"), kind_entries(root, "music")
    done = invoke("cache", "clear", "--cache-dir", str(root), "--only", "art")
    code, output = done.exit_code, done.output
    assert code == 0, output
    assert output.startswith("removed 1 entries (")
    assert f"from {root}\n" in output
    assert kind_entries(root, "art") == set()
    assert (kind_entries(root, "speech"), kind_entries(root, "music")) == (speech, music)

    build(built, root, "again.mp3")  # the pictures are drawn again, nothing else is made
    assert len(kind_entries(root, "art")) == 1
    assert (kind_entries(root, "speech"), kind_entries(root, "music")) == (speech, music)


def age(path: Path, hours_ago: float) -> None:
    then = time.time() - hours_ago * 3600
    os.utime(path, (then, then))


def test_prune_takes_the_least_recently_used_of_any_kind(root: Path) -> None:
    cache = CacheRoot(root)
    entries = {entry.path: entry for entry in cache.entries()}
    by_age = sorted(entries)  # any order, as long as every kind is in the oldest half
    art = next(p for p in by_age if p.suffix == ".art")
    music = next(p for p in by_age if p.suffix == ".json")
    clips = [p for p in by_age if p.suffix == ".wav"]
    oldest = [art, clips[0], music]
    for hours, path in enumerate(oldest):  # art least recently used, then a clip, then music
        age(path, 30 - hours)
    for hours, path in enumerate(clips[1:]):
        age(path, 10 - hours / 10)
    total = sum(entry.size_bytes for entry in entries.values())
    limit = total - entries[art].size_bytes - entries[clips[0]].size_bytes

    done = invoke("cache", "prune", "--cache-dir", str(root), "--max-size", str(limit))
    code, output = done.exit_code, done.output
    assert code == 0, output
    freed = entries[art].size_bytes + entries[clips[0]].size_bytes
    assert output.startswith(f"removed 2 entries ({format_size(freed)}); ")
    assert not art.exists(), "the least recently used went"
    assert not clips[0].exists(), "and the next"
    assert music.exists()
    assert all(clip.exists() for clip in clips[1:])
    assert "  art: 0 (0 B)" in output
    assert "  music: 1 (" in output


def test_prune_only_music_weighs_only_music(root: Path) -> None:
    speech, art = kind_entries(root, "speech"), kind_entries(root, "art")
    done = invoke("cache", "prune", "--cache-dir", str(root), "--only", "music", "--max-size", "0")
    code, output = done.exit_code, done.output
    assert code == 0, output
    assert output.startswith("removed 1 entries (")
    assert kind_entries(root, "music") == set()
    assert (kind_entries(root, "speech"), kind_entries(root, "art")) == (speech, art)


def old_layout_of(root: Path) -> set[str]:
    """Turn a filled root into what older versions left with ``--cache-dir ROOT``: clips in
    shards of the root itself, music and pictures beside them. The clips' names."""
    clips = set()
    for shard in list((root / "speech").iterdir()):
        for clip in shard.iterdir():
            clips.add(clip.name)
        shard.rename(root / shard.name)
    (root / "speech").rmdir()
    return clips


def test_an_old_cache_dir_is_moved_into_speech_and_a_rebuild_synthesises_nothing(
    built: Path, root: Path
) -> None:
    clips = old_layout_of(root)
    mine = root / "ab" / "notes.wav"  # a file of the user's in a folder named like a shard
    mine.parent.mkdir(exist_ok=True)
    mine.write_text("mine", encoding="utf-8")

    done = invoke("cache", "info", "--cache-dir", str(root))
    code, output = done.exit_code, done.output
    assert code == 0, output
    assert kind_entries(root, "speech") == clips, "every clip moved, none lost"
    assert f"  speech: {len(clips)} (" in output
    assert mine.read_text(encoding="utf-8") == "mine", "only the cache's own files move"
    assert sorted(p.name for p in root.iterdir()) == ["ab", "art", "music", "speech"]

    build(built, root, "again.mp3")
    assert kind_entries(root, "speech") == clips, "no phrase synthesised again"


def test_a_clip_already_in_speech_is_kept_over_an_old_one_of_the_same_key(root: Path) -> None:
    # The same phrase made again by the offline voice may differ by a few samples: the
    # clip builds have played since stays, so their tracks keep their timing.
    kept = next(p for p in (root / "speech").rglob("*.wav"))
    played = kept.read_bytes()
    older = root / kept.parent.name / kept.name
    older.parent.mkdir()
    older.write_bytes(played[:-2])

    done = invoke("cache", "info", "--cache-dir", str(root))
    assert done.exit_code == 0, done.output
    assert kept.read_bytes() == played
    assert not older.parent.exists()


def test_the_old_default_layout_moves_music_and_art_up(built: Path, root: Path) -> None:
    # Older versions' default: ROOT/speech held the clips, and music and pictures inside it.
    music, art = kind_entries(root, "music"), kind_entries(root, "art")
    (root / "music").rename(root / "speech" / "music")
    (root / "art").rename(root / "speech" / "art")
    clips = kind_entries(root, "speech") - music - art

    build(built, root, "again.mp3")
    assert sorted(p.name for p in root.iterdir()) == ["art", "music", "speech"]
    assert (kind_entries(root, "music"), kind_entries(root, "art")) == (music, art)
    assert kind_entries(root, "speech") == clips
    assert not (root / "speech" / "music").exists()
    assert not (root / "speech" / "art").exists()


def test_old_music_measurements_are_dropped_where_new_ones_exist(root: Path) -> None:
    old = root / "speech" / "music"
    old.mkdir()
    stale = old / f"{'0' * 64}.json"
    stale.write_text('{"loudness_lufs": -20.0}', encoding="utf-8")
    music = kind_entries(root, "music")

    assert CacheRoot(root).usage(["music"])[0].entries == len(music)
    assert not old.exists(), "re-measurable data is dropped, not merged"
    assert kind_entries(root, "music") == music
