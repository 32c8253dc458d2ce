"""Shared fixtures: one speech cache per run, tiny routines, MP3 decoding with the real ffmpeg."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from pydub import AudioSegment

from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.audio.pcm import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "routines" / "runners-total-body.yaml"

SHORT_ROUTINE = """\
name: Short Circuit
equipment: [mat]
timing:
  rep: 2s
  switch_sides: 5s
  rest: {exercise: 0s, round: 12s, block: 15s}
  countdown: 3
blocks:
  - name: Core
    rounds: 2
    exercises:
      - {name: Plank, time: 26s, tips: [Keep your hips level.]}
      - {name: Side Lunge, reps: 4, per_side: true}
  - name: Stretch
    exercises:
      - {name: Hamstring Stretch, time: 10s}
"""


@pytest.fixture(autouse=True)
def voices_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Empty user data and config folders: this machine's user's voices and settings stay
    out of tests. Returns where downloaded voices go."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("WORKOUT_AUDIO_CONFIG", raising=False)
    return home / "data" / "workout-audio" / "voices"


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One speech cache for the whole run: each phrase is synthesised once."""
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture
def write_routine(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text (dedented) to a routine file in tmp_path."""

    def write(text: str, name: str = "routine.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    python_options: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: a fresh Python process, bounded in time."""
    return subprocess.run(
        [sys.executable, *python_options, "-m", "workout_audio", *args],
        capture_output=True, text=True, cwd=cwd, env=env, check=False, timeout=600,
    )  # fmt: skip


def decode(path: Path) -> AudioSegment:
    """Decode an audio file with the real ffmpeg into our PCM format."""
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path),
         "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", str(CHANNELS), "pipe:1"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return AudioSegment(
        data=done.stdout,
        sample_width=SAMPLE_WIDTH_BYTES,
        frame_rate=SAMPLE_RATE_HZ,
        channels=CHANNELS,
    )


def ffmpeg_chapter_titles(path: Path) -> list[tuple[float, str]]:
    """Chapters as ffmpeg lists them (file order): (start seconds, title)."""
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path), "-f", "ffmetadata", "pipe:1"],
        capture_output=True,
        check=True,
    )
    chapters = []
    for section in done.stdout.decode("utf-8").split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in section.splitlines() if "=" in line)
        numerator, denominator = fields["TIMEBASE"].split("/")
        chapters.append((int(fields["START"]) * int(numerator) / int(denominator), fields["title"]))
    return chapters
