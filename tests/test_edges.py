"""The rough edges a new user meets first: on the command line and in files."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import SHORT_ROUTINE, cache_entries, child_env, invoke, joe_model, run_cli
from workout_audio.audio.ffmpeg import ffmpeg_exe


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


# --- a track's name must say one of the formats ---


@pytest.mark.parametrize("name", ["out.wav", "out.flac", "out"])
def test_an_output_name_that_is_no_format_is_refused_with_the_formats(
    write_routine, tmp_path: Path, name: str
) -> None:
    routine = write_routine(SHORT_ROUTINE)
    output = tmp_path / name
    cache = tmp_path / "cache"
    result = invoke("build", str(routine), "-o", str(output), "--cache-dir", str(cache))
    assert result.exit_code == 2
    line = one_line(result.output)
    assert str(output) in line
    assert "mp3, m4a, opus" in line
    assert "Traceback" not in result.output
    assert not output.exists()
    assert not cache.exists(), "refused before any speech was made"


# --- YAML indentation mistakes, said plainly ---

INDENTED_MORE = """\
name: X
blocks:
  - name: A
      exercises: [{name: Plank, time: 20s}]
"""
INDENTED_BETWEEN = """\
name: X
blocks:
  - name: A
    exercises:
      - name: Plank
        time: 20s
   rounds: 3
"""
TAB_INDENTED = "name: X\nblocks:\n  - name: A\n\texercises: [{name: Plank, time: 20s}]\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        pytest.param(INDENTED_MORE, 4, "indented more than the one before it", id="more"),
        pytest.param(INDENTED_BETWEEN, 7, "indented less than the one before it", id="between"),
        pytest.param(TAB_INDENTED, 4, "a tab indents this line", id="tab"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "build"])
def test_an_indentation_mistake_is_said_in_plain_words_with_its_line(
    write_routine, tmp_path: Path, text: str, line: int, words: str, command: str
) -> None:
    routine = write_routine(text)
    args = [command, str(routine)]
    if command == "build":
        args += ["-o", str(tmp_path / "out.mp3")]
    result = invoke(*args)
    assert result.exit_code == 2
    said = one_line(result.output)
    assert f"{routine}:{line}: " in said
    assert words in said
    assert "<block end>" not in said
    assert "block mapping" not in said
    assert not (tmp_path / "out.mp3").exists()


# --- the voices listing keeps each language code whole ---


def test_the_voices_listing_never_breaks_a_language_code() -> None:
    from workout_audio.speech import engine_reports

    result = invoke("voices")
    assert result.exit_code == 0
    listed = re.findall(r"[^\s,]+", result.output)
    codes = [code for report in engine_reports() for code in report.languages]
    assert any("-" in code for code in codes), "a listing with hyphenated codes to wrap"
    missing = [code for code in codes if code not in listed]
    assert missing == [], "each code whole on one line"


# --- validate checks every file the routine names, as build does ---

NAMES_A_FILE = """\
name: Files
{files}
blocks:
  - name: A
    exercises: [{{name: Plank, time: 20s}}]
"""


@pytest.mark.parametrize(
    ("files", "line", "words"),
    [
        pytest.param("music: {file: nope.mp3}", 2, "music", id="missing-music"),
        pytest.param("music: {file: notes.txt}", 2, "music", id="music-not-audio"),
        pytest.param("sounds: {start: nope.wav}", 2, "sounds.start", id="missing-sound"),
        pytest.param("sounds: {start: notes.txt}", 2, "sounds.start", id="sound-not-audio"),
    ],
)
def test_validate_refuses_the_files_build_refuses_with_the_same_line(
    write_routine, tmp_path: Path, files: str, line: int, words: str
) -> None:
    (tmp_path / "notes.txt").write_text("not audio at all\n", encoding="utf-8")
    routine = write_routine(NAMES_A_FILE.format(files=files))
    cache = tmp_path / "cache"
    checked = invoke("validate", str(routine), "--cache-dir", str(cache))
    built = invoke(
        "build", str(routine), "-o", str(tmp_path / "out.mp3"), "--engine", "espeak",
        "--cache-dir", str(cache),
    )  # fmt: skip
    assert built.exit_code == 2, "build refuses it"
    assert checked.exit_code == 2, checked.output
    said = one_line(checked.output)
    assert said.startswith(f"{routine}:{line}: ")
    assert words in said
    assert said == one_line(built.output).removeprefix("error: "), "the same words as build"
    assert not (tmp_path / "out.mp3").exists()


# --- what a build says about its music and its format ---


def make_tone(path: Path, frequency_hz: int, seconds: float) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={frequency_hz}:duration={seconds}", "-ac", "2", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def run_on_a_terminal(*args: str, cwd: Path) -> tuple[int, str, str]:
    """The command with its stderr on a pseudo-terminal, as a user sees its progress bar."""
    main, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "workout_audio", *args], cwd=cwd, stdout=subprocess.PIPE,
        stderr=terminal, env=child_env(COLUMNS="120", TERM="xterm"), start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    seen = bytearray()
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 1.0)
            if not ready:
                if child.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed: the child is gone
                break
            if not chunk:
                break
            seen += chunk
        stdout = child.stdout.read().decode() if child.stdout else ""
        return child.wait(timeout=60), stdout, seen.decode(errors="replace")
    finally:
        if child.poll() is None:
            os.killpg(child.pid, 9)
            child.wait(timeout=10)
        if child.stdout:
            child.stdout.close()
        os.close(main)


@pytest.mark.slow
def test_a_build_names_its_music_and_its_format(tmp_path: Path, speech_cache: Path) -> None:
    make_tone(tmp_path / "a.wav", 220, 20)
    make_tone(tmp_path / "b.wav", 330, 20)
    (tmp_path / "beds.m3u").write_text("a.wav\nb.wav\n", encoding="utf-8")
    (tmp_path / "short.yaml").write_text(SHORT_ROUTINE, encoding="utf-8")
    status, stdout, terminal = run_on_a_terminal(
        "build", "short.yaml", "-o", "short.opus", "--engine", "piper", "--cache-dir",
        str(speech_cache), "--music", "beds.m3u", "--music-level", "-18dB", cwd=tmp_path,
    )  # fmt: skip
    assert status == 0, terminal
    assert "Encoding OPUS" in terminal
    assert "Encoding MP3" not in terminal
    assert "music: beds.m3u (2 tracks), -18 dB, ducking 12 dB" in stdout.splitlines()
    assert (tmp_path / "short.opus").is_file()


@pytest.mark.slow
def test_music_levels_without_music_are_warned_of(tmp_path: Path, speech_cache: Path) -> None:
    (tmp_path / "short.yaml").write_text(SHORT_ROUTINE, encoding="utf-8")
    done = run_cli(
        "build", "short.yaml", "-o", "short.mp3", "--engine", "piper", "--cache-dir",
        str(speech_cache), "--duck", "20dB", "--music-level", "-18dB", cwd=tmp_path,
        env=child_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    warned = [line for line in done.stderr.splitlines() if "no music" in line]
    assert len(warned) == 1, done.stderr
    assert "--music" in warned[0]
    assert "music:" not in done.stdout
    assert (tmp_path / "short.mp3").is_file()


# --- voices download: one clear line for each way it cannot ---

VOICE = "es_ES-joe-medium"
VOICE_PATH = "es/es_ES/joe/medium/es_ES-joe-medium"  # where the repository keeps it


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


def test_no_network_is_one_clear_line(voices_folder: Path) -> None:
    port = closed_port()
    result = invoke("voices", "download", VOICE, "--mirror", f"http://127.0.0.1:{port}/")
    assert result.exit_code != 0
    said = one_line(result.output)
    assert f"could not download {VOICE}: cannot reach 127.0.0.1:{port}" in said
    assert "no network" in said
    assert "Max retries" not in said
    assert files_in(voices_folder) == []


def test_a_proxy_that_does_not_answer_is_one_clear_line(
    voices_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = f"http://127.0.0.1:{closed_port()}"
    for variable in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY", "http_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("https_proxy", proxy)
    result = invoke("voices", "download", VOICE)
    assert result.exit_code != 0
    said = one_line(result.output)
    assert f"could not download {VOICE}: no connection to the proxy {proxy}" in said
    assert "huggingface.co" not in said
    assert files_in(voices_folder) == []


def test_a_mirror_that_is_neither_a_url_nor_a_folder_is_refused(
    voices_folder: Path, tmp_path: Path
) -> None:
    nowhere = tmp_path / "no-such-folder"
    result = invoke("voices", "download", VOICE, "--mirror", str(nowhere))
    assert result.exit_code == 2
    said = one_line(result.output)
    assert f"--mirror: '{nowhere}' is neither a URL" in said
    assert "Perhaps you meant" not in said
    assert files_in(voices_folder) == []


def spanish_joe(mirror: Path) -> None:
    """The bundled voice, its config saying Spanish, laid out as the repository has it."""
    import json

    config = json.loads(Path(f"{joe_model()}.json").read_text(encoding="utf-8"))
    config["language"] = {"code": "es_ES", "family": "es", "region": "ES"}
    config["espeak"] = {"voice": "es"}
    place = mirror / VOICE_PATH
    place.parent.mkdir(parents=True)
    Path(f"{place}.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    Path(f"{place}.onnx").write_bytes(joe_model().read_bytes())


def test_a_mirror_folder_is_read_like_the_repository(voices_folder: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "piper-voices"
    spanish_joe(mirror)
    missing = invoke("voices", "download", "fr_FR-nobody-low", "--mirror", str(mirror))
    assert missing.exit_code == 2
    assert one_line(missing.output).startswith("error: there is no piper voice 'fr_FR-nobody-low'")
    assert files_in(voices_folder) == []

    done = invoke("voices", "download", VOICE, "--mirror", str(mirror))
    assert done.exit_code == 0, done.output
    assert f"installed {VOICE} (es_ES) in {voices_folder}" in done.output
    assert (voices_folder / f"{VOICE}.onnx").read_bytes() == joe_model().read_bytes()


# --- variants: every length checked first; stopped, it says what it wrote ---


def test_variants_refuses_an_impossible_length_before_any_speech(
    write_routine, tmp_path: Path
) -> None:
    routine = write_routine(SHORT_ROUTINE)
    cache = tmp_path / "cache"
    result = invoke(
        "variants", str(routine), "--lengths", "3m,1s", "--engine", "piper",
        "--cache-dir", str(cache), "-o", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot make a 0:01 track" in one_line(result.output)
    assert cache_entries(cache) == [], "no speech made for the lengths before it"
    assert list(tmp_path.glob("*.mp3")) == []


HOLD = """\
name: Long Hold
blocks:
  - name: Hold
    exercises:
      - {name: Wall Sit, time: 20m}
"""


@pytest.mark.slow
def test_variants_stopped_partway_names_the_files_it_wrote(
    tmp_path: Path, speech_cache: Path
) -> None:
    (tmp_path / "hold.yaml").write_text(HOLD, encoding="utf-8")
    short, long = tmp_path / "hold-16m.mp3", tmp_path / "hold-50m.mp3"
    child = subprocess.Popen(
        [sys.executable, "-m", "workout_audio", "variants", "hold.yaml", "--lengths", "16m,50m",
         "--engine", "piper", "--cache-dir", str(speech_cache), "-o", str(tmp_path)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=child_env(), start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not short.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert short.exists(), "the short one done"
        assert child.poll() is None, "the long one still encoding"
        os.killpg(child.pid, signal.SIGINT)  # Ctrl-C reaches the whole group
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate(timeout=30)
    assert child.returncode == 130, stderr
    said = one_line(stderr)
    assert said == (f"interrupted: wrote {short}, {short.with_suffix('.lrc')}; not written: {long}")
    assert short.stat().st_size > 0
    assert not long.exists()
