"""Reliability: every bad input gets a one-line answer, every fault leaves nothing broken.

Bad input goes through the command line. Faults are real: a child
``python -m workout_audio build`` gets real signals while piper or ffmpeg is busy,
runs with a broken ffmpeg on PATH, on a full filesystem, under a file size limit,
with a damaged speech cache, or beside another build writing the same file.
Afterwards no partial track or cache entry is left, an earlier track is byte for
byte the same, and no process of the build is still running.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from typer.testing import CliRunner

from gtts_stub import closed_port_url
from helpers import SHORT_ROUTINE, cache_entries, child_env, decode, make_bed
from workout_audio import load_routine, prepare
from workout_audio.app.main import app
from workout_audio.settings import VoiceSettings

PIPER = VoiceSettings(engine="piper")
runner = CliRunner()
EARLIER = b"ID3 an earlier track that must survive"
# One long hold: few phrases to synthesise, a long track to encode.
LONG_ROUTINE = """\
name: Long Hold
blocks:
  - name: Hold
    exercises:
      - {name: Wall Sit, time: 1h}
"""
TINY_ROUTINE = """\
name: Tiny
timing: {countdown: 1, rest: {exercise: 0s}}
blocks:
  - name: Legs
    exercises:
      - {name: Squat, reps: 3}
"""


# --- helpers ---


def write(folder: Path, text: str, name: str = "routine.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def build_args(routine: Path, output: Path, cache: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "workout_audio", "build", str(routine), "-o", str(output),
            "--engine", "piper", "--cache-dir", str(cache), *more]  # fmt: skip


def run_build(
    routine: Path,
    output: Path,
    cache: Path,
    *more: str,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        build_args(routine, output, cache, *more),
        capture_output=True,
        text=True,
        env=env or child_env(),
        preexec_fn=preexec_fn,
        timeout=180,
        check=False,
    )


def invoke_build(routine: Path, output: Path, cache: Path, engine: str = "piper"):
    """``workout-audio build`` in this process, as typed."""
    args = ["build", str(routine), "-o", str(output), "--engine", engine, "--cache-dir", str(cache)]
    return runner.invoke(app, args)


def one_line(stderr: str) -> str:
    """The whole of stderr, which must be one line and no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def partial_files(*folders: Path) -> list[Path]:
    """Half-written files a build left: temporary tracks and cache entries."""
    found: list[Path] = []
    for folder in folders:
        if folder.exists():
            found += [p for p in folder.rglob("*") if ".part" in p.name or p.name.startswith(".")]
    return found


def whole_wav(path: Path) -> bool:
    """Whether a cache entry is a complete WAV: every frame its header promises is there."""
    try:
        with wave.open(str(path), "rb") as wav:
            frames = wav.readframes(wav.getnframes())
            return wav.getnframes() > 0 and len(frames) == wav.getnframes() * wav.getsampwidth()
    except (wave.Error, EOFError):
        return False


@contextlib.contextmanager
def killed_at_the_end(*children: subprocess.Popen[str]) -> Iterator[None]:
    """Whatever the test does, no child (nor its process group) outlives it."""
    try:
        yield
    finally:
        for child in children:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    if os.getpgid(child.pid) == child.pid:  # its own group: ffmpeg, workers
                        os.killpg(child.pid, signal.SIGKILL)
                child.kill()
                child.communicate(timeout=30)


def wait_for(condition: Callable[[], bool], child: subprocess.Popen[str], what: str) -> None:
    """Poll until ``condition`` holds; fail early if the child ends first."""
    deadline = time.monotonic() + 120
    while not condition():
        if child.poll() is not None:
            pytest.fail(f"the build ended before {what}: {child.communicate()[1]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def group_is_gone(group: int) -> bool:
    """Whether every process of the build's process group (ffmpeg, workers) has ended."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    os.killpg(group, signal.SIGKILL)  # ours to clean up: never leave them running
    return False


def fake_ffmpeg(folder: Path, script: str) -> dict[str, str]:
    """An environment whose PATH starts with a folder holding ``ffmpeg`` = ``script``."""
    folder.mkdir()
    fake = folder / "ffmpeg"
    fake.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    fake.chmod(0o755)
    return child_env(PATH=f"{folder}{os.pathsep}{os.environ['PATH']}")


def file_size_limit(limit_bytes: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return limit


# --- fixtures ---


@pytest.fixture(scope="module")
def long_routine(tmp_path_factory: pytest.TempPathFactory, speech_cache: Path) -> Path:
    """A routine with an hour-long hold, its phrases already in the speech cache."""
    path = write(tmp_path_factory.mktemp("long"), LONG_ROUTINE, "long.yaml")
    prepare(load_routine(path), voice=PIPER, cache_dir=speech_cache)
    return path


@pytest.fixture(scope="module")
def short_routine(tmp_path_factory: pytest.TempPathFactory, speech_cache: Path) -> tuple[Path, int]:
    """The short routine with its phrases cached, and its track length."""
    path = write(tmp_path_factory.mktemp("short"), SHORT_ROUTINE, "short.yaml")
    prepared = prepare(load_routine(path), voice=PIPER, cache_dir=speech_cache)
    return path, prepared.script.length_ms


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny routine and a speech cache holding exactly its phrases."""
    folder = tmp_path_factory.mktemp("tiny")
    path = write(folder, TINY_ROUTINE, "tiny.yaml")
    prepare(load_routine(path), voice=PIPER, cache_dir=folder / "cache")
    return path, folder / "cache"


@pytest.fixture
def earlier_track(tmp_path: Path) -> Path:
    """An output path in its own folder, holding an earlier track."""
    folder = tmp_path / "out"
    folder.mkdir()
    track = folder / "track.mp3"
    track.write_bytes(EARLIER)
    return track


def assert_untouched(track: Path) -> None:
    """The earlier track is byte for byte the same, and nothing else is beside it."""
    assert track.read_bytes() == EARLIER
    assert [p.name for p in track.parent.iterdir()] == [track.name]


# --- bad input: exit 2, one line naming file, line and field, nothing written ---

BAD_ROUTINES = [
    pytest.param('name: R\nblocks:\n  - name: "B\n', 3, "", "not valid YAML", id="malformed"),
    pytest.param("just a sentence\n", 1, "", "must be a mapping", id="not-a-mapping"),
    pytest.param("- name: R\n- blocks: []\n", 1, "", "got a list", id="a-list"),
    pytest.param("name: R\nblocks:\n\t- name: B\n", 3, "", "a tab indents this line", id="tabs"),
    pytest.param(
        "name: R\nblocks:\n  - name: B\n     exercises: [{name: E, reps: 3}]\n",
        4, "", "not valid YAML", id="odd-indentation",
    ),
    pytest.param(
        "name: R\nlenght: 20m\nblocks: [{name: B, exercises: [{name: E, reps: 3}]}]\n",
        2, "lenght", "did you mean 'length'?", id="unknown-key",
    ),
    pytest.param(
        "name: R\nblocks:\n  - name: B\n    rounds: three\n    exercises: [{name: E, reps: 3}]\n",
        4, "blocks[0].rounds", "expected a whole number", id="wrong-type",
    ),
    pytest.param(
        "name: R\nblocks:\n  - name: B\n    exercises:\n      - {time: 30s}\n",
        5, "blocks[0].exercises[0]", "missing required key 'name'", id="missing-name",
    ),
    pytest.param(
        "name: R\nblocks:\n  - name: B\n    exercises:\n      - {name: E}\n",
        5, "blocks[0].exercises[0]", "exactly one of 'time' or 'reps'", id="neither-time-nor-reps",
    ),
    *(
        pytest.param(
            f"name: R\nblocks:\n  - name: B\n    exercises:\n      - {{name: E, time: {time}}}\n",
            5, "blocks[0].exercises[0].time", word, id=f"time-{label}",
        )
        for label, time, word in [
            ("zero", "0s", "longer than 0"),
            ("negative", "-30s", "'-30s'"),
            ("nan", ".nan", "nan"),
            ("infinite", ".inf", "inf"),
            ("absurd", "7h", "over 6 hours"),
            ("unparseable", "a while", "'a while' is not a duration"),
            ("huge", "1" + "0" * 400 + "h", "too long"),
        ]
    ),
    *(
        pytest.param(
            f"name: R\nblocks:\n  - name: B\n    rounds: {rounds}\n"
            "    exercises: [{name: E, reps: 3}]\n",
            4, "blocks[0].rounds", word, id=f"rounds-{rounds}",
        )
        for rounds, word in [(0, "at least 1"), (-2, "at least 1"), (101, "at most 100")]
    ),
    pytest.param("# nothing here yet\n", None, "", "the file is empty", id="empty-routine"),
    pytest.param("name: R\nblocks: []\n", 2, "blocks", "must not be empty", id="no-blocks"),
    pytest.param(
        "name: R\nblocks:\n  - name: B\n    exercises: []\n",
        4, "blocks[0].exercises", "must not be empty", id="empty-block",
    ),
    pytest.param(
        "name: ''\nblocks: [{name: B, exercises: [{name: E, reps: 3}]}]\n",
        1, "name", "empty", id="empty-name",
    ),
    pytest.param(
        f"name: {'x' * 201}\nblocks: [{{name: B, exercises: [{{name: E, reps: 3}}]}}]\n",
        1, "name", "too long", id="long-name",
    ),
    pytest.param(
        'name: "Leg Day\\e[2J"\nblocks: [{name: B, exercises: [{name: E, reps: 3}]}]\n',
        1, "name", "control character (U+001B)", id="control-character",
    ),
    pytest.param(
        "name: R\nblocks:\n  - {name: Circuit, exercises: [{name: E, reps: 3}]}\n"
        "  - {name: circuit, exercises: [{name: F, reps: 3}]}\n",
        4, "blocks[1].name", "duplicate block name", id="duplicate-block-names",
    ),
    pytest.param(
        "name: R\nlength: 2m\nblocks:\n  - name: B\n    rounds: 3\n"
        "    exercises: [{name: E, time: 5m}]\n",
        2, "length", "cannot make a 2:00 track", id="length-out-of-reach",
    ),
    pytest.param(
        'name: R\n"[/red]\\e[2J\\n": 1\nblocks: [{name: B, exercises: [{name: E, reps: 3}]}]\n',
        2, "['[/red]\\x1b[2J\\n']", "unknown key", id="markup-and-escapes-in-a-key",
    ),
    pytest.param(
        "name: !!python/object/apply:os.system ['touch pwned']\nblocks: []\n",
        1, "name", "not allowed", id="python-tag",
    ),
    pytest.param(
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]\n"
            for n in range(9)
        ),
        1, "", "alias", id="billion-laughs",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "field", "words"), BAD_ROUTINES)
def test_a_bad_routine_gets_one_line_naming_file_line_and_field(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    line: int | None,
    field: str,
    words: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, text)
    output, cache = tmp_path / "out.mp3", tmp_path / "cache"
    started_s = time.monotonic()
    result = invoke_build(path, output, cache)
    assert time.monotonic() - started_s < 5
    assert result.exit_code == 2, result.output
    message = one_line(result.output)
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert message.startswith(f"error: {where}{field + ': ' if field else ''}"), message
    assert words in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["routine.yaml"], "nothing written"


@pytest.mark.slow
def test_a_track_over_six_hours_is_refused_before_encoding(
    long_routine: Path, speech_cache: Path, earlier_track: Path
) -> None:
    # The hour-long hold, seven times over: no one value is absurd, the whole is.
    text = LONG_ROUTINE + "      - {name: Wall Sit, time: 1h}\n" * 6
    routine = write(long_routine.parent, text, "seven-hours.yaml")
    done = run_build(routine, earlier_track, speech_cache)
    assert done.returncode == 2, done.stderr
    assert "over 6 hours" in one_line(done.stderr)
    assert_untouched(earlier_track)


@pytest.mark.slow
def test_brackets_in_a_path_are_printed_as_they_are(
    tiny_cache: tuple[Path, Path], tmp_path: Path
) -> None:
    routine, cache = tiny_cache
    output = tmp_path / "[bold]week 1[red].mp3"
    result = invoke_build(routine, output, cache)
    assert result.exit_code == 0, result.output
    assert f"wrote {output} (" in result.output


def test_validate_gives_the_same_answers_without_building(tmp_path: Path) -> None:
    path = write(tmp_path, "name: R\nblocks:\n  - name: B\n    rounds: 101\n"
                           "    exercises: [{name: E, time: 7h}]\n")  # fmt: skip
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"{path}:4: blocks[0].rounds: must be at most 100, got 101",
        f"{path}:5: blocks[0].exercises[0].time: '7h' is absurdly long (over 6 hours)",
    ]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--engine", "nosuch"], "nosuch"),
        (["--voice", "no-such-voice.onnx"], "no-such-voice.onnx"),
        (["--bitrate", "1000"], "--bitrate"),
        (["--lenght", "20m"], "No such option: --lenght"),
        (["--length", "1" + "0" * 400 + "h"], "--length"),
        (["--length", "0s"], "--length"),
        (["--length", "7h"], "over 6 hours"),
    ],
    ids=[
        "unknown-engine",
        "unknown-voice",
        "bitrate",
        "misspelt-option",
        "huge-length",
        "zero-length",
        "absurd-length",
    ],
)
def test_a_bad_option_gets_one_line_and_exit_status_2(
    tmp_path: Path, args: list[str], words: str
) -> None:
    routine = write(tmp_path, TINY_ROUTINE)
    done = run_build(routine, tmp_path / "out.mp3", tmp_path / "cache", *args)
    assert done.returncode == 2, done.stderr
    assert words in one_line(done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["routine.yaml"]


def test_an_unknown_language_gets_one_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "name: R\nlanguage: xx\nblocks: [{name: B, exercises: [{name: E, reps: 3}]}]\n"
    )
    result = invoke_build(path, tmp_path / "out.mp3", tmp_path / "cache")
    assert result.exit_code == 2
    assert "'xx'" in one_line(result.output)
    assert not (tmp_path / "out.mp3").exists()


def read_only(path: Path) -> Iterator[Path]:
    """Make ``path`` unwritable even for root (chattr +i), or by mode for anyone else."""
    if os.geteuid() != 0:
        path.chmod(0o555 if path.is_dir() else 0o444)
        yield path
        path.chmod(0o755 if path.is_dir() else 0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a folder unwritable")
    locked = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if locked.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {locked.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "locked"
    folder.mkdir()
    yield from read_only(folder)


@pytest.fixture
def read_only_track(tmp_path: Path) -> Iterator[Path]:
    track = tmp_path / "kept.mp3"
    track.write_bytes(EARLIER)
    yield from read_only(track)


def output_cases(tmp_path: Path, routine: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "a-folder").mkdir()
    return {
        "missing-folder": (tmp_path / "nowhere" / "t.mp3", "does not exist"),
        "parent-is-a-file": (tmp_path / "a-file" / "t.mp3", "a-file' is a file, not a folder"),
        "output-is-a-folder": (tmp_path / "a-folder", "is a folder"),
        "output-is-the-routine": (routine, "the routine itself"),
    }


@pytest.mark.parametrize(
    "case", ["missing-folder", "parent-is-a-file", "output-is-a-folder", "output-is-the-routine"]
)
def test_an_output_path_that_cannot_be_written_is_refused_before_any_work(
    tmp_path: Path, case: str
) -> None:
    routine = write(tmp_path, TINY_ROUTINE, "tiny.yaml")
    output, words = output_cases(tmp_path, routine)[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    cache = tmp_path / "cache"
    result = invoke_build(routine, output, cache)
    assert result.exit_code == 2
    assert words in one_line(result.output)
    assert routine.read_text(encoding="utf-8") == TINY_ROUTINE
    assert sorted(p.name for p in tmp_path.rglob("*")) == before, "nothing written, nothing made"


def test_a_read_only_folder_is_refused_before_any_work(
    tmp_path: Path, read_only_folder: Path
) -> None:
    routine = write(tmp_path, TINY_ROUTINE)
    result = invoke_build(routine, read_only_folder / "t.mp3", tmp_path / "cache")
    assert result.exit_code == 2
    assert "cannot write in" in one_line(result.output)
    assert list(read_only_folder.iterdir()) == []
    assert not (tmp_path / "cache").exists(), "refused before any speech was made"


def test_a_read_only_earlier_track_is_not_replaced(tmp_path: Path, read_only_track: Path) -> None:
    routine = write(tmp_path, TINY_ROUTINE)
    result = invoke_build(routine, read_only_track, tmp_path / "cache")
    assert result.exit_code == 2
    assert "read-only or locked" in one_line(result.output)
    assert read_only_track.read_bytes() == EARLIER


def test_a_file_named_build_in_the_way_of_the_default_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    routine = write(tmp_path, TINY_ROUTINE)
    (tmp_path / "build").write_text("my notes", encoding="utf-8")
    result = runner.invoke(app, ["build", str(routine), "--engine", "piper"])
    assert result.exit_code == 2
    assert "'build'" in one_line(result.output)
    assert (tmp_path / "build").read_text(encoding="utf-8") == "my notes"


@pytest.mark.parametrize("command", ["build", "script"])
def test_a_cache_dir_that_is_a_file_is_refused(tmp_path: Path, command: str) -> None:
    routine = write(tmp_path, TINY_ROUTINE)
    (tmp_path / "cache").write_text("not a folder", encoding="utf-8")
    args = [command, str(routine), "--engine", "piper", "--cache-dir", str(tmp_path / "cache")]
    if command == "build":
        args += ["-o", str(tmp_path / "out.mp3")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--cache-dir" in one_line(result.output)
    assert (tmp_path / "cache").read_text(encoding="utf-8") == "not a folder"
    assert not (tmp_path / "out.mp3").exists()


# --- interrupted: Ctrl-C and SIGTERM, in synthesis and in encoding ---


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "status", "said"),
    [
        pytest.param("ctrl-c", 130, "interrupted", id="ctrl-c"),
        pytest.param("sigterm", 143, "terminated", id="sigterm"),
    ],
)
def test_interrupted_while_synthesising(
    tmp_path: Path, earlier_track: Path, how: str, status: int, said: str
) -> None:
    routine = write(tmp_path, SHORT_ROUTINE)
    cache = tmp_path / "fresh-cache"  # cold: piper has every phrase to say
    child = subprocess.Popen(
        build_args(routine, earlier_track, cache), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=child_env(), start_new_session=True,
    )  # fmt: skip
    with killed_at_the_end(child):
        wait_for(lambda: len(cache_entries(cache)) >= 1, child, "speech was being made")
        assert_stopped_cleanly(child, how, status, said, earlier_track, cache)
    made = cache_entries(cache)
    assert made, "the phrases said before the interrupt stay cached"
    assert all(whole_wav(entry) for entry in made)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "status", "said"),
    [
        pytest.param("ctrl-c", 130, "interrupted", id="ctrl-c"),
        pytest.param("sigterm", 143, "terminated", id="sigterm"),
        pytest.param("sigterm-group", 143, "terminated", id="sigterm-to-the-group"),
    ],
)
def test_interrupted_while_encoding(
    long_routine: Path, speech_cache: Path, earlier_track: Path, how: str, status: int, said: str
) -> None:
    folder = earlier_track.parent
    child = subprocess.Popen(
        build_args(long_routine, earlier_track, speech_cache), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=child_env(), start_new_session=True,
    )  # fmt: skip

    def encoding() -> bool:
        return any(p.stat().st_size > 64_000 for p in folder.glob(".*.part.mp3"))

    with killed_at_the_end(child):
        wait_for(encoding, child, "ffmpeg was writing the track")
        assert_stopped_cleanly(child, how, status, said, earlier_track, speech_cache)


@pytest.mark.slow
@pytest.mark.parametrize("when", ["measuring", "encoding"])
@pytest.mark.parametrize(
    ("how", "status", "said"),
    [
        pytest.param("ctrl-c", 130, "interrupted", id="ctrl-c"),
        pytest.param("sigterm", 143, "terminated", id="sigterm"),
    ],
)
def test_a_build_with_music_interrupted_leaves_nothing_running_or_half_written(
    long_routine: Path,
    speech_cache: Path,
    earlier_track: Path,
    tmp_path: Path,
    when: str,
    how: str,
    status: int,
    said: str,
) -> None:
    # Loud noise close under the voice: its peaks are held in process, so the mix is made
    # and limited once to measure (the track's file still empty) and again, in threads of
    # its own, while ffmpeg encodes.
    bed = make_bed(tmp_path / "bed.flac", "anoisesrc=d=60:c=white:a=0.1:seed=5")
    folder = earlier_track.parent
    args = build_args(long_routine, earlier_track, speech_cache, "--music", str(bed),
                      "--music-level", "-3dB", "--duck", "6dB")  # fmt: skip
    child = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(),
        start_new_session=True,
    )  # fmt: skip

    def sizes() -> list[int]:
        return [p.stat().st_size for p in folder.glob(".*.part.mp3")]

    with killed_at_the_end(child):
        if when == "measuring":  # an hour's mix takes seconds to measure
            wait_for(lambda: sizes() == [0], child, "the track's file was made")
            time.sleep(1.0)
            assert sizes() == [0], "still measuring"
        else:
            wait_for(lambda: any(size > 64_000 for size in sizes()), child, "ffmpeg was writing")
        assert_stopped_cleanly(child, how, status, said, earlier_track, speech_cache)


def assert_stopped_cleanly(
    child: subprocess.Popen[str],
    how: str,
    status: int,
    said: str,
    earlier_track: Path,
    cache: Path,
) -> None:
    """Stop the build as ``how`` says: it exits with ``status`` saying ``said``, and leaves
    no process of its group running, the earlier track as it was, nothing half-written."""
    stop(child, how)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == status, stderr
    assert said in one_line(stderr)
    assert group_is_gone(child.pid), "a process of the build outlived it"
    assert_untouched(earlier_track)
    assert partial_files(cache) == []


def stop(child: subprocess.Popen[str], how: str) -> None:
    """Ctrl-C reaches the whole foreground process group, as a terminal sends it."""
    if how == "ctrl-c":
        os.killpg(child.pid, signal.SIGINT)
    elif how == "sigterm":
        os.kill(child.pid, signal.SIGTERM)
    else:
        os.killpg(child.pid, signal.SIGTERM)


# --- ffmpeg missing, failing, killed ---


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "words"),
    [
        pytest.param("exit 1\n", ["ffmpeg", "failed", "exit status 1"], id="exits-at-once"),
        pytest.param(
            "head -c 200000 >/dev/null\nkill -KILL $$\n",
            ["ffmpeg", "killed by SIGKILL"],
            id="killed",
        ),
        pytest.param(
            "head -c 200000 >/dev/null\necho 'Segmentation fault' >&2\nexit 139\n",
            ["ffmpeg", "Segmentation fault"],
            id="crashes",
        ),
    ],
)
def test_a_failing_ffmpeg_is_named_and_nothing_is_lost(
    short_routine: tuple[Path, int],
    speech_cache: Path,
    earlier_track: Path,
    tmp_path: Path,
    script: str,
    words: list[str],
) -> None:
    env = fake_ffmpeg(tmp_path / "bin", script)
    done = run_build(short_routine[0], earlier_track, speech_cache, env=env)
    assert done.returncode == 1, done.stderr
    message = one_line(done.stderr)
    assert all(word in message for word in words), message
    assert_untouched(earlier_track)


@pytest.mark.slow
def test_a_missing_ffmpeg_is_named(
    short_routine: tuple[Path, int], speech_cache: Path, earlier_track: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = child_env(PATH=str(empty), IMAGEIO_FFMPEG_EXE=str(empty / "ffmpeg"))
    done = run_build(short_routine[0], earlier_track, speech_cache, env=env)
    assert done.returncode == 1, done.stderr
    assert "could not run ffmpeg" in one_line(done.stderr)
    assert_untouched(earlier_track)


# --- the disk fills up ---


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: far too small for a track."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                             capture_output=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.slow
def test_a_full_disk_while_encoding_says_so_and_keeps_the_earlier_track(
    short_routine: tuple[Path, int], speech_cache: Path, tiny_filesystem: Path
) -> None:
    track = tiny_filesystem / "track.mp3"
    track.write_bytes(EARLIER)
    done = run_build(short_routine[0], track, speech_cache)
    assert done.returncode == 1, done.stderr
    message = one_line(done.stderr)
    assert "No space left on device" in message
    assert "disk is full" in message
    assert_untouched(track)


@pytest.mark.slow
def test_a_size_limit_hit_while_tagging_says_so_and_keeps_the_earlier_track(
    short_routine: tuple[Path, int], speech_cache: Path, earlier_track: Path, tmp_path: Path
) -> None:
    # The whole track is this big; ffmpeg's part is smaller, so the limit bites in the tags.
    reference = tmp_path / "reference.mp3"
    assert run_build(short_routine[0], reference, speech_cache).returncode == 0
    limit = reference.stat().st_size - 1
    done = run_build(
        short_routine[0], earlier_track, speech_cache, preexec_fn=file_size_limit(limit)
    )
    assert done.returncode == 1, done.stderr
    message = one_line(done.stderr)
    assert str(earlier_track) in message
    assert "File too large" in message
    assert_untouched(earlier_track)


@pytest.mark.slow
def test_a_size_limit_hit_by_ffmpeg_is_named(
    short_routine: tuple[Path, int], speech_cache: Path, earlier_track: Path
) -> None:
    done = run_build(
        short_routine[0], earlier_track, speech_cache, preexec_fn=file_size_limit(100_000)
    )
    assert done.returncode == 1, done.stderr
    assert "ffmpeg" in one_line(done.stderr)
    assert "size limit" in one_line(done.stderr)
    assert_untouched(earlier_track)


# --- the speech cache damaged; two builds at once ---


@pytest.mark.slow
def test_damaged_cache_entries_are_made_again(
    tiny_cache: tuple[Path, Path], tmp_path: Path
) -> None:
    routine, warm = tiny_cache
    cache = tmp_path / "cache"
    shutil.copytree(warm, cache)
    entries = cache_entries(cache)
    assert len(entries) >= 3
    for index, entry in enumerate(entries):
        blob = entry.read_bytes()
        entry.write_bytes(blob[: len(blob) // 3] if index % 2 else b"not a wav at all")
    output = tmp_path / "tiny.mp3"
    done = run_build(routine, output, cache)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert all(whole_wav(entry) for entry in cache_entries(cache))
    assert len(cache_entries(cache)) == len(entries)
    assert partial_files(cache) == []
    expected_ms = prepare(load_routine(routine), voice=PIPER, cache_dir=cache).script.length_ms
    assert abs(len(decode(output)) - expected_ms) <= 100


@pytest.mark.slow
def test_two_builds_writing_the_same_track_at_once_leave_one_whole_track(
    short_routine: tuple[Path, int], speech_cache: Path, earlier_track: Path
) -> None:
    routine, length_ms = short_routine
    builds = [
        subprocess.Popen(
            build_args(routine, earlier_track, speech_cache),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for _ in range(2)
    ]
    with killed_at_the_end(*builds):
        results = [build.communicate(timeout=180) for build in builds]
    for build, (_, stderr) in zip(builds, results, strict=True):
        assert build.returncode == 0, stderr
    assert abs(len(decode(earlier_track)) - length_ms) <= 100
    assert len(ID3(earlier_track).getall("CHAP")) == 5
    # the track and its lyrics beside it, each whole: no temporary file is left
    beside = sorted(p.name for p in earlier_track.parent.iterdir())
    assert beside == [earlier_track.with_suffix(".lrc").name, earlier_track.name]


# --- no network under --engine auto ---


@pytest.fixture
def google_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """gTTS pointed at a loopback port nobody listens on: the network is down."""
    closed_port_url(monkeypatch)


@pytest.mark.slow
def test_auto_without_network_builds_offline_with_a_one_line_notice(
    google_unreachable: None, tiny_cache: tuple[Path, Path], tmp_path: Path
) -> None:
    routine, cache = tiny_cache
    output = tmp_path / "tiny.mp3"
    result = invoke_build(routine, output, cache, engine="auto")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    assert re.search(r"Google.*not reachable.*offline", notes[0]), notes
    assert "voice: piper" in result.output
    assert len(decode(output)) > 10_000


@pytest.mark.slow
def test_gtts_without_network_is_one_clear_line(
    google_unreachable: None, tiny_cache: tuple[Path, Path], tmp_path: Path
) -> None:
    routine, _ = tiny_cache
    output = tmp_path / "tiny.mp3"
    result = invoke_build(routine, output, tmp_path / "cache", engine="gtts")
    assert result.exit_code == 1
    assert "not reachable" in one_line(result.output)
    assert not output.exists()
