"""Speech clips levelled in process sound as ffmpeg's limiter left them: the same loudness
and the same peaks, by ffmpeg's own meter, on real piper clips and on made-up signals;
and a cold build runs ffmpeg only to decode each phrase and to encode."""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from helpers import SHORT_ROUTINE, cache_entries, child_env, run_cli
from workout_audio.audio.ffmpeg import decode_to_pcm, ffmpeg_exe, run_ffmpeg
from workout_audio.audio.levelling import CLIP_CREST_DB, level_speech
from workout_audio.audio.loudness import CLIP_LOUDNESS_LUFS, gated_loudness, measure_pcm
from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.speech.cache import SpeechCache
from workout_audio.speech.piper import PiperEngine
from workout_audio.speech.workers import synthesize_phrases

CEILING_DBFS = CLIP_LOUDNESS_LUFS + CLIP_CREST_DB
PHRASES = [
    "Go!",
    "Next up: Side Lunge, four reps each side.",
    "Keep your hips level and breathe out as you push the floor away from you.",
]


def _levelled_by_ffmpeg(pcm: bytes) -> bytes:
    """How clips were levelled before: ffmpeg's gain and limiter, measured by its meter
    after each pass (held to a finer tolerance than it was, to compare like with like)."""
    limit = 10 ** (CEILING_DBFS / 20)
    limiter = f"alimiter=limit={limit:.4f}:attack=5:release=60:level=false:latency=true"
    gain_db = CLIP_LOUDNESS_LUFS - measure_pcm(pcm).integrated_lufs
    slope, previous, levelled = 1.0, None, pcm
    for _ in range(12):
        args = [
            "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", "1", "-i", "pipe:0",
            "-af", f"volume={gain_db:.3f}dB,{limiter}", "-f", "s16le", "pipe:1",
        ]  # fmt: skip
        levelled = run_ffmpeg(args, input=pcm, what="level")[: len(pcm)].ljust(len(pcm), b"\0")
        reached = measure_pcm(levelled).integrated_lufs
        if abs(CLIP_LOUDNESS_LUFS - reached) < 0.05:
            break
        if previous is not None and previous[1] != reached:
            slope = max((reached - previous[1]) / (gain_db - previous[0]), 0.05)
        previous = (gain_db, reached)
        gain_db += (CLIP_LOUDNESS_LUFS - reached) / slope
    return levelled


def _samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def _peak_dbfs(pcm: bytes) -> float:
    return 20 * math.log10(np.abs(_samples(pcm)).max() / 32768)


def _pcm(samples: np.ndarray) -> bytes:
    return np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()


def _tone(frequency_hz: float, duration_ms: int, level_dbfs: float) -> np.ndarray:
    times = np.arange(SAMPLE_RATE_HZ * duration_ms // 1000) / SAMPLE_RATE_HZ
    return 10 ** (level_dbfs / 20) * 32767 * np.sin(2 * np.pi * frequency_hz * times)


def _assert_sounds_as_before(pcm: bytes) -> bytes:
    """Level ``pcm`` both ways; the same loudness and peak by ffmpeg's meter, at the clips'
    loudness, peaks held. Returns the clip levelled here."""
    levelled = level_speech(pcm)
    before = _levelled_by_ffmpeg(pcm)
    now, then = measure_pcm(levelled.pcm), measure_pcm(before)
    assert now.integrated_lufs == pytest.approx(CLIP_LOUDNESS_LUFS, abs=0.1)
    assert now.integrated_lufs == pytest.approx(then.integrated_lufs, abs=0.1)
    assert levelled.source_lufs == pytest.approx(measure_pcm(pcm).integrated_lufs, abs=0.1)
    assert _peak_dbfs(levelled.pcm) <= CEILING_DBFS + 0.01
    assert _peak_dbfs(levelled.pcm) == pytest.approx(_peak_dbfs(before), abs=0.1)
    assert len(levelled.pcm) == len(pcm)
    assert len(levelled.profile) == -(-len(pcm) // (2 * SAMPLE_RATE_HZ // 100))
    return levelled.pcm


@pytest.fixture(scope="module")
def piper_clips() -> list[bytes]:
    engine = PiperEngine("en")
    return [decode_to_pcm(engine.synthesize(text)) for text in PHRASES]


@pytest.mark.slow
def test_piper_clips_measure_as_ffmpeg_levelled_them(piper_clips: list[bytes]) -> None:
    for pcm in piper_clips:
        _assert_sounds_as_before(pcm)
        assert level_speech(pcm) == level_speech(pcm)  # a build repeats byte for byte


@pytest.mark.slow
def test_a_clips_profile_adds_up_to_what_the_meter_says(piper_clips: list[bytes]) -> None:
    longest = max(piper_clips, key=len)
    assert len(longest) >= 2 * SAMPLE_RATE_HZ * 3  # the meter measures it as it is
    levelled = level_speech(longest)
    assert gated_loudness(levelled.profile) == pytest.approx(
        measure_pcm(levelled.pcm).integrated_lufs, abs=0.1
    )


@pytest.mark.slow
def test_a_quiet_sine_is_only_raised() -> None:
    tone = _pcm(_tone(997, 3_500, -40.0))
    levelled = _samples(_assert_sounds_as_before(tone))
    wide = np.abs(_samples(tone)) > 200  # away from the zero crossings' rounding
    gains = levelled[wide] / _samples(tone)[wide]
    assert np.ptp(gains) < 0.01 * np.median(gains)  # one gain throughout: nothing to limit


@pytest.mark.slow
def test_a_clip_shorter_than_the_meters_window_is_measured_looped() -> None:
    burst = _tone(440, 250, -6.0) * np.hanning(SAMPLE_RATE_HZ * 250 // 1000)
    _assert_sounds_as_before(_pcm(burst))


@pytest.mark.slow
def test_one_loud_click_is_held_without_touching_the_rest() -> None:
    rng = np.random.default_rng(20)
    voice = _tone(220, 3_000, -24.0) + _tone(1_800, 3_000, -30.0) + rng.normal(0, 60, 132_300)
    click_at = 66_150
    voice[click_at] = 32_000
    levelled = _samples(_assert_sounds_as_before(_pcm(voice)))
    gains = levelled / voice
    loud = np.abs(voice) > 300
    before, after = slice(0, click_at - 300), slice(click_at + 30 * 441, None)
    steady = np.median(gains[before][loud[before]])
    assert gains[after][loud[after]] == pytest.approx(steady, rel=0.01)  # released
    assert np.median(gains[before][loud[before]]) == pytest.approx(steady, rel=0.01)
    assert abs(levelled[click_at]) <= 10 ** (CEILING_DBFS / 20) * 32768


def test_silence_is_left_as_it_is() -> None:
    silence = bytes(2 * SAMPLE_RATE_HZ)
    levelled = level_speech(silence)
    assert levelled.silent
    assert levelled.pcm == silence
    assert not any(levelled.profile)


@pytest.mark.slow
def test_clips_levelled_before_are_made_again(tmp_path: Path) -> None:
    """A cache entry of the earlier format is another entry: never read for a new build."""
    import hashlib
    import json

    engine = PiperEngine("en")
    cache = SpeechCache(tmp_path)
    old_format = f"clip-v3-{CLIP_LOUDNESS_LUFS:g}LUFS-{CLIP_CREST_DB:g}dB"
    material = json.dumps(
        {**engine.identity(), "text": "Go!", "format": old_format}, sort_keys=True
    )
    marker = _pcm(_tone(997, 500, -20.0))
    cache.put(hashlib.sha256(material.encode()).hexdigest(), marker)
    clips = synthesize_phrases(engine, ["Go!"], cache)
    assert clips["Go!"] != marker
    assert len(cache_entries(tmp_path)) == 2


@pytest.fixture
def ffmpeg_log(tmp_path: Path) -> Callable[[], list[str]]:
    """ffmpeg on PATH, for child processes: the real one, each run's arguments logged."""
    folder, log = tmp_path / "bin", tmp_path / "ffmpeg-runs.txt"
    folder.mkdir()
    wrapper = folder / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{ffmpeg_exe()}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return lambda: log.read_text().splitlines() if log.exists() else []


@pytest.mark.slow
def test_a_cold_build_runs_ffmpeg_only_to_decode_each_phrase_and_to_encode(
    ffmpeg_log: Callable[[], list[str]], write_routine: Callable[..., Path], tmp_path: Path
) -> None:
    routine = write_routine(SHORT_ROUTINE)
    cache = tmp_path / "cache"
    path = f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    result = run_cli(
        "build", str(routine), "-o", str(tmp_path / "track.mp3"), "--engine", "piper",
        "--cache-dir", str(cache), env=child_env(PATH=path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    runs = ffmpeg_log()
    decodes = [run for run in runs if "-i pipe:0 -f s16le -acodec pcm_s16le" in run]
    assert len(decodes) == len(cache_entries(cache / "speech")) > 5
    assert not [run for run in runs if "ebur128" in run or "biquad" in run]
    encodes = [run for run in runs if "libmp3lame" in run]
    assert len(runs) == len(decodes) + len(encodes)
