"""Reproducible builds: the same routine and settings give the same bytes, whatever the
cache held before and whatever else the voice said first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import SHORT_ROUTINE, joe_model, run_cli
from workout_audio.settings import VoiceSettings
from workout_audio.speech import choose_engine
from workout_audio.speech.piper import _load_voice
from workout_audio.speech.piper_noise import NOISE_SCHEME, seed_noise

SIDECARS = "lrc,srt,vtt,cue,json,chapters"


def _build_files(
    routine: Path, out: Path, cache: Path, output_format: str, engine: str
) -> dict[str, bytes]:
    """Build from the empty cache root ``cache``; every file written, by name."""
    out.mkdir()
    result = run_cli(
        "build", str(routine), "-o", str(out / f"track.{output_format}"), "--sidecars", SIDECARS,
        "--cache-dir", str(cache), "--engine", engine,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("engine", "output_format"),
    [
        ("piper", "mp3"),
        ("espeak", "mp3"),
        ("espeak", "opus"),
        ("espeak", "m4a"),
    ],
)
def test_two_empty_caches_build_identical_files(
    engine: str, output_format: str, write_routine: Callable[..., Path], tmp_path: Path
) -> None:
    routine = write_routine(SHORT_ROUTINE)
    first = _build_files(routine, tmp_path / "first", tmp_path / "cache-1", output_format, engine)
    second = _build_files(routine, tmp_path / "second", tmp_path / "cache-2", output_format, engine)
    assert sorted(first) == sorted(second)
    assert len(first) == 1 + len(SIDECARS.split(","))
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []


def test_a_phrase_sounds_the_same_whatever_was_said_before() -> None:
    engine, _ = choose_engine(VoiceSettings(engine="piper"), "en")
    alone = engine.synthesize("Ten goblet squats.")
    engine.synthesize("Rest for thirty seconds, then the plank.")
    engine.synthesize("Switch sides.")
    assert engine.synthesize("Ten goblet squats.") == alone


def test_an_espeak_phrase_sounds_the_same_whatever_was_said_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libespeak-ng keeps its pitch flutter from one phrase to the next in a process; each
    phrase is made in a process of its own, so the words alone decide the samples."""
    monkeypatch.setattr("workout_audio.speech.espeak.PROGRAM", "espeak-ng-not-installed")
    engine, _ = choose_engine(VoiceSettings(engine="espeak"), "en")
    alone = engine.synthesize("Ten goblet squats.")
    engine.synthesize("Rest for thirty seconds, then the plank.")
    engine.synthesize("Switch sides.")
    assert engine.synthesize("Ten goblet squats.") == alone


def test_the_seeded_voice_still_draws_noise() -> None:
    """Not the flat voice of zero noise: the same words said with the noise scaled to zero
    come out otherwise."""
    from piper.config import SynthesisConfig

    engine, _ = choose_engine(VoiceSettings(engine="piper"), "en")
    voice = _load_voice(str(engine.model_path()), None)
    flat = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    flat_pcm = b"".join(c.audio_int16_bytes for c in voice.synthesize("Plank.", syn_config=flat))
    seeded = b"".join(c.audio_int16_bytes for c in voice.synthesize("Plank."))
    assert seeded != flat_pcm
    assert NOISE_SCHEME in engine.identity()["engine_version"]  # old clips are not reused


def test_a_model_that_draws_no_noise_is_left_as_it_is() -> None:
    model = seed_noise(joe_model().read_bytes())
    assert seed_noise(model) == model  # its draws were all replaced the first time
