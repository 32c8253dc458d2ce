"""The library as a Python user meets it: one call builds a track, planned and checked first."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import workout_audio
from helpers import ROOT, SHORT_ROUTINE, decode
from workout_audio import BuildResult, UsageError


@pytest.fixture
def short_routine(tmp_path: Path) -> Path:
    path = tmp_path / "short.yaml"
    path.write_text(SHORT_ROUTINE, encoding="utf-8")
    return path


@pytest.mark.slow
def test_build_writes_the_track_and_its_files_and_says_what_it_made(
    short_routine: Path, speech_cache: Path
) -> None:
    output = short_routine.parent / "out" / "short.mp3"
    output.parent.mkdir()
    result = workout_audio.build(
        short_routine, output, engine="piper", cache_dir=speech_cache, sidecars="lrc,srt",
        chart=True,
    )  # fmt: skip
    assert isinstance(result, BuildResult)
    assert result.track == output
    assert result.sidecars == (output.with_suffix(".lrc"), output.with_suffix(".srt"))
    assert result.chart == output.with_suffix(".png")
    assert result.engine == "piper"
    assert result.notice is None
    assert abs(len(decode(output)) - result.script.length_ms) <= 100
    lyrics = output.with_suffix(".lrc").read_text(encoding="utf-8")
    assert "Workout complete" in lyrics
    assert output.with_suffix(".srt").read_text(encoding="utf-8").startswith("1\n")
    assert output.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in output.parent.iterdir()) == [
        "short.lrc", "short.mp3", "short.png", "short.srt",
    ]  # fmt: skip


@pytest.mark.slow
def test_build_defaults_to_the_build_folder_and_the_named_format(
    short_routine: Path, speech_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(short_routine.parent)
    result = workout_audio.build(
        str(short_routine), format="opus", sidecars=(), engine="piper", cache_dir=speech_cache,
        length="3m",
    )  # fmt: skip
    assert result.track == Path("build") / "short.opus"
    assert result.sidecars == ()
    assert result.script.length_ms == 180_000
    assert abs(len(decode(result.track)) - 180_000) <= 100


def _refused(routine: Path, output: Path, **settings: object) -> str:
    """The message of a build refused in planning, checked to have made no speech."""
    cache = routine.parent / "fresh-cache"
    with pytest.raises(UsageError) as refused:
        workout_audio.build(routine, output, engine="piper", cache_dir=cache, **settings)
    assert not cache.exists() or not any(cache.rglob("*.wav")), "speech was made"
    return str(refused.value)


def test_an_output_that_is_a_folder_is_refused_before_any_speech(short_routine: Path) -> None:
    folder = short_routine.parent / "tracks"
    folder.mkdir()
    message = _refused(short_routine, folder)
    assert message.startswith(f"{folder}: is a folder")
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anyway")
def test_a_read_only_side_file_is_refused_before_any_speech(short_routine: Path) -> None:
    output = short_routine.with_name("short.mp3")
    lyrics = output.with_suffix(".lrc")
    lyrics.write_text("mine", encoding="utf-8")
    lyrics.chmod(0o444)
    message = _refused(short_routine, output)
    assert message == f"{lyrics}: the file there is read-only or locked; not replacing it"
    assert not output.exists()
    assert lyrics.read_text(encoding="utf-8") == "mine"


def test_a_format_the_file_name_contradicts_is_refused_before_any_speech(
    short_routine: Path,
) -> None:
    output = short_routine.with_name("short.mp3")
    message = _refused(short_routine, output, format="m4a")
    assert (
        message
        == f"-o {output}: a .mp3 file, but --format m4a; name it {output.with_suffix('.m4a')}"
    )
    assert not output.exists()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"length": "soon"}, "--length: "),
        ({"length": "10m", "length_ms": 600_000}, "--length: give the length once"),
        ({"sidecars": "lrc,mp4"}, "--sidecars: unknown sidecar 'mp4'"),
        ({"format": "wav"}, "--format: unknown format 'wav'"),
    ],
)
def test_bad_settings_are_refused_in_one_line(
    short_routine: Path, settings: dict[str, object], expected: str
) -> None:
    message = _refused(short_routine, short_routine.with_name("out.mp3"), **settings)
    assert message.startswith(expected)
    assert "\n" not in message


@pytest.mark.slow
def test_variants_are_planned_and_named_once(short_routine: Path, speech_cache: Path) -> None:
    folder = short_routine.parent / "variants"
    folder.mkdir()
    built = workout_audio.build_variants(
        short_routine, ["3m", 180_000, "4m"], folder, engine="piper", cache_dir=speech_cache,
        sidecars="none",
    )  # fmt: skip
    assert [result.track.name for result in built] == ["short-3m.mp3", "short-4m.mp3"]
    assert [result.script.length_ms for result in built] == [180_000, 240_000]
    assert sorted(p.name for p in folder.iterdir()) == ["short-3m.mp3", "short-4m.mp3"]


def test_importing_the_package_and_its_settings_loads_nothing_heavy() -> None:
    code = (
        "import sys, workout_audio; workout_audio.VoiceSettings; workout_audio.UsageError; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'PIL', 'onnxruntime', 'mutagen', 'pydub'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == ""


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.+?)```", section, re.DOTALL)
    assert len(blocks) == 1, "the section shows one example"
    return blocks[0]


@pytest.mark.slow
def test_the_readme_example_runs_as_written(tmp_path: Path, speech_cache: Path) -> None:
    # The example uses the user's cache folder; here that is this run's cache root.
    user_cache = tmp_path / "user-cache"
    user_cache.mkdir()
    (user_cache / "workout-audio").symlink_to(speech_cache, target_is_directory=True)
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", _readme_example()],
        cwd=work,
        env={**os.environ, "XDG_CACHE_HOME": str(user_cache)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("build/plank.mp3 ")
    assert done.stdout.rstrip().endswith("['plank.lrc', 'plank.srt']")
    length_ms = int(done.stdout.split()[1])
    assert abs(len(decode(work / "build" / "plank.mp3")) - length_ms) <= 100
    assert sorted(p.name for p in (work / "build").iterdir()) == [
        "plank.lrc", "plank.mp3", "plank.srt",
    ]  # fmt: skip
