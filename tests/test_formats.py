"""M4A and Opus: whole tracks with chapters, cover and lyrics that ffmpeg and mutagen read back."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from mutagen.flac import Picture
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from PIL import Image

from helpers import SHORT_ROUTINE, decode, ffmpeg_chapter_titles, run_cli
from workout_audio import EncodeSettings, Prepared, build, load_routine
from workout_audio.encode.formats import audio_format
from workout_audio.errors import UsageError
from workout_audio.settings import VoiceSettings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, speech_cache: Path):
    folder = tmp_path_factory.mktemp("formats")
    routine_path = folder / "short.yaml"
    routine_path.write_text(SHORT_ROUTINE, encoding="utf-8")
    routine = load_routine(routine_path)
    tracks: dict[str, tuple[Path, Prepared]] = {}
    for name in ("m4a", "opus"):
        output = folder / f"short.{name}"
        prepared = build(
            routine,
            output,
            voice=VoiceSettings(engine="piper"),
            cache_dir=speech_cache,
            encode=EncodeSettings(format=name, bitrate_kbps=64),
        )
        tracks[name] = (output, prepared)
    return folder, tracks


@pytest.mark.parametrize("name", ["m4a", "opus"])
def test_track_is_whole_as_long_as_the_script_with_chapters_in_order(built, name) -> None:
    folder, tracks = built
    output, prepared = tracks[name]
    script = prepared.script
    assert abs(len(decode(output)) - script.length_ms) <= 100
    listed = ffmpeg_chapter_titles(output)
    assert [title for _, title in listed] == [c.title for c in script.chapters]
    for (start_s, _), chapter in zip(listed, script.chapters, strict=True):
        assert abs(start_s * 1000 - chapter.start_ms) <= 10
    assert output.with_suffix(".lrc").exists()
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_m4a_carries_cover_lyrics_and_nero_chapters(built) -> None:
    output, prepared = built[1]["m4a"]
    track = MP4(output)
    assert track.tags["\xa9nam"] == ["Short Circuit"]
    [cover] = track.tags["covr"]
    assert Image.open(io.BytesIO(bytes(cover))).size == (1400, 1400)
    lyrics = track.tags["\xa9lyr"][0]
    assert "]Side Lunge, 4 reps per side, left side first.\n" in lyrics
    assert [c.title for c in track.chapters] == [c.title for c in prepared.script.chapters]


def test_opus_carries_chapter_comments_cover_and_lyrics(built) -> None:
    output, prepared = built[1]["opus"]
    tags = OggOpus(output).tags
    chapters = prepared.script.chapters
    assert tags["CHAPTER001"] == ["00:00:00.000"]
    assert tags[f"CHAPTER{len(chapters):03d}NAME"] == [chapters[-1].title]
    picture = Picture(base64.b64decode(tags["METADATA_BLOCK_PICTURE"][0]))
    assert picture.type == 3  # front cover
    assert Image.open(io.BytesIO(picture.data)).size == (1400, 1400)
    assert tags["LYRICS"][0].startswith("[00:00.")


def test_unknown_format_is_refused_with_the_choices() -> None:
    with pytest.raises(UsageError, match=r"unknown format 'wav'; choose from mp3, m4a, opus"):
        audio_format("wav")


def test_cli_takes_the_format_from_the_name_and_writes_every_sidecar(
    tmp_path: Path, speech_cache: Path
) -> None:
    (tmp_path / "short.yaml").write_text(SHORT_ROUTINE, encoding="utf-8")
    common = ["--engine", "piper", "--cache-dir", str(speech_cache)]
    done = run_cli("build", "short.yaml", "-o", "out.m4a", "--sidecars",
                   "lrc,srt,vtt,cue,json,chapters", *common, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert MP4(tmp_path / "out.m4a").chapters is not None
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["short.yaml", "out.m4a", "out.lrc", "out.srt", "out.vtt",
                            "out.cue", "out.json", "out.chapters.json"])  # fmt: skip
    assert 'FILE "out.m4a" WAVE' in (tmp_path / "out.cue").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.mp3", "--format", "opus"], "error: -o x.mp3: a .mp3 file, but --format opus; "
                                              "name it x.opus"),
        (["--format", "wav"], "error: --format: unknown format 'wav'; choose from mp3, m4a, opus"),
        (["--sidecars", "lrc,mp4"], "error: --sidecars: unknown sidecar 'mp4'; choose from lrc, "
                                    "srt, vtt, cue, json, chapters, none"),
    ],
)  # fmt: skip
def test_cli_refuses_bad_output_options_before_any_work(tmp_path: Path, args, message) -> None:
    (tmp_path / "short.yaml").write_text(SHORT_ROUTINE, encoding="utf-8")
    done = run_cli("build", "short.yaml", "--engine", "piper", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == message
    assert [p.name for p in tmp_path.iterdir()] == ["short.yaml"]
