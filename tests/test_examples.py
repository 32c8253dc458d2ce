"""The example routines, each built end to end with the real piper voice and the real ffmpeg."""

from __future__ import annotations

import math
import shutil
from array import array
from itertools import pairwise
from pathlib import Path

import pytest
from pydub import AudioSegment

from helpers import ROOT, decode
from workout_audio import build, load_routine
from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.settings import VoiceSettings
from workout_audio.timeline.script import TONE_MS, Script

pytestmark = pytest.mark.slow

PIPER = VoiceSettings(engine="piper")
START_TONE_HZ = 1320  # render.py's start tone
EXAMPLES = ["run-walk-week-1", "emom-alternating", "amrap-12", "pyramid-ladder"]


@pytest.fixture(scope="module", params=EXAMPLES)
def example(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, speech_cache: Path
) -> tuple[str, Script, AudioSegment]:
    name = request.param
    output = tmp_path_factory.mktemp(name) / f"{name}.mp3"
    routine = load_routine(ROOT / "routines" / f"{name}.yaml")
    prepared = build(routine, output, voice=PIPER, cache_dir=speech_cache)
    audio = decode(output)
    shutil.rmtree(output.parent)  # up to half an hour of MP3: the tests read the samples
    return name, prepared.script, audio


def tone_share(audio: AudioSegment, start_ms: int, duration_ms: int, frequency_hz: int) -> float:
    """How much of a window's energy is at one frequency (Goertzel), from 0 to about 1."""
    window = audio[start_ms : start_ms + duration_ms]
    samples = array("h", window.raw_data)
    coefficient = 2 * math.cos(2 * math.pi * frequency_hz / SAMPLE_RATE_HZ)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    power = previous**2 + before**2 - coefficient * previous * before
    energy = sum(s * s for s in samples) or 1
    return 2 * power / (len(samples) * energy)


def test_the_mp3_is_exactly_as_long_as_the_script(
    example: tuple[str, Script, AudioSegment],
) -> None:
    _, script, audio = example
    assert abs(len(audio) - script.length_ms) <= 1


def test_start_tones_sound_where_the_script_says(example: tuple[str, Script, AudioSegment]) -> None:
    _, script, audio = example
    starts = [e.start_ms for e in script.events if e.tone == "start"]
    assert starts
    for start_ms in starts:
        # The tone fills its slot, and the moment before it is quiet: it starts on time.
        assert tone_share(audio, start_ms + 20, TONE_MS["start"] - 40, START_TONE_HZ) > 0.6
        assert audio[start_ms - 100 : start_ms - 10].dBFS < -50, start_ms


def work_starts(script: Script, block: str) -> list[int]:
    return [
        e.start_ms
        for e in script.events
        if e.tone == "start" and e.block == block and e.side != "right"
    ]


def test_each_structure_keeps_its_boundaries(example: tuple[str, Script, AudioSegment]) -> None:
    name, script, _ = example
    if name == "run-walk-week-1":
        starts = [e.start_ms for e in script.events if e.tone == "start"]
        gaps = [b - a for a, b in pairwise(starts)]
        assert gaps == [300_000] + [60_000, 90_000] * 8  # not a millisecond between intervals
        assert [e.tone for e in script.events if e.tone in ("start", "end")].count("end") == 1
    elif name == "emom-alternating":
        starts = work_starts(script, "Alternating EMOM")
        assert [b - a for a, b in pairwise(starts)] == [60_000] * 11
    elif name == "amrap-12":
        (start,) = work_starts(script, "AMRAP")
        end = next(  # the tone that ends the work: "rest" when a rest follows
            e.start_ms for e in script.events if e.tone in ("end", "rest") and e.start_ms > start
        )
        assert end - start == 12 * 60_000
        assert [c.title for c in script.chapters if c.title.startswith("AMRAP")] == ["AMRAP"]
    else:
        calls = [e.text for e in script.speech() if e.text and e.text.startswith("Next up: Push")]
        assert [c.split(", ")[1] for c in calls] == [f"{n} reps." for n in (4, 6, 8, 6, 4, 2)]


def test_every_routine_in_routines_loads_and_the_readme_links_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = sorted((ROOT / "routines").glob("*.yaml"))
    assert {p.stem for p in paths} >= set(EXAMPLES)
    for path in paths:
        load_routine(path)
        if path.stem in EXAMPLES:
            assert f"(routines/{path.name})" in readme, path.name
