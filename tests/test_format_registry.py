"""Every format in the registry, enumerated: the real ffmpeg encodes to it and reads it back,
and its tagger writes chapters that ffmpeg lists. A format added to FORMATS is tested here
without a word changed."""

from __future__ import annotations

import math
from array import array
from pathlib import Path

import pytest

from helpers import SHORT_ROUTINE, decode, ffmpeg_chapter_titles
from workout_audio import load_routine, make_script
from workout_audio.audio.ffmpeg import FfmpegProcess
from workout_audio.audio.pcm import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ms_to_samples
from workout_audio.encode.formats import FORMATS, AudioFormat, format_for_path
from workout_audio.outputs.tags import Artwork
from workout_audio.timeline.script import Script

ALL = [pytest.param(f, id=name) for name, f in FORMATS.items()]
TONE_HZ = 440
TONE_PEAK = 8000
# ffmpeg lists an MP3's chapters shifted by the decoder's delay (529 samples, 24 ms).
CHAPTER_TOLERANCE_MS = 30


def tone_pcm(duration_ms: int) -> bytes:
    """A quiet sine: our mono PCM, as the encoder is fed it."""
    samples = ms_to_samples(duration_ms)
    step = 2 * math.pi * TONE_HZ / SAMPLE_RATE_HZ
    return array("h", (int(TONE_PEAK * math.sin(step * i)) for i in range(samples))).tobytes()


def encoded(audio_format: AudioFormat, pcm: bytes, path: Path) -> Path:
    """``pcm`` encoded to ``path`` as a build encodes it, one ffmpeg fed on its stdin."""
    args = ["-y", "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", "1", "-i", "pipe:0",
            *audio_format.encoder_args(64), str(path)]  # fmt: skip
    encoder = FfmpegProcess(args, what="encode the track", feed=True)
    try:
        encoder.stdin.write(pcm)
        encoder.stdin.close()
        encoder.finish()
    finally:
        encoder.stop()
    return path


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Script:
    routine_path = tmp_path_factory.mktemp("registry") / "short.yaml"
    routine_path.write_text(SHORT_ROUTINE, encoding="utf-8")
    return make_script(load_routine(routine_path), lambda text: 40 * len(text))


def test_the_registry_states_each_fact_once() -> None:
    suffixes = [f.suffix for f in FORMATS.values()]
    assert len(set(suffixes)) == len(suffixes), "a suffix names one format"
    for name, audio_format in FORMATS.items():
        assert audio_format.name == name
        assert audio_format.suffix == f".{name}"
        assert audio_format.description
        assert callable(audio_format.tagger)


@pytest.mark.parametrize("audio_format", ALL)
def test_a_file_is_known_by_its_suffix_in_any_case(audio_format: AudioFormat) -> None:
    assert format_for_path(Path(f"track{audio_format.suffix}")) is audio_format
    assert format_for_path(Path(f"A.Track{audio_format.suffix.upper()}")) is audio_format
    assert format_for_path(Path("track.wav")) is None
    assert format_for_path(Path("track")) is None


@pytest.mark.parametrize("audio_format", ALL)
def test_ffmpeg_encodes_each_format_and_reads_it_back(
    audio_format: AudioFormat, tmp_path: Path
) -> None:
    sent = tone_pcm(1_000)
    path = encoded(audio_format, sent, tmp_path / f"second{audio_format.suffix}")
    back = decode(path)
    assert abs(len(back) - 1_000) <= 60, "codecs pad a frame or so, no more"
    middle = back[200:800]
    assert abs(middle.rms - TONE_PEAK / math.sqrt(2)) < 0.1 * TONE_PEAK, "the tone, at its level"


@pytest.mark.parametrize("audio_format", ALL)
def test_each_formats_tagger_writes_chapters_ffmpeg_lists(
    audio_format: AudioFormat, script: Script, tmp_path: Path
) -> None:
    silence = bytes(ms_to_samples(script.length_ms) * SAMPLE_WIDTH_BYTES)
    path = encoded(audio_format, silence, tmp_path / f"track{audio_format.suffix}")
    audio_format.tagger(path, script, language="en", artwork=Artwork())
    listed = ffmpeg_chapter_titles(path)
    assert [title for _, title in listed] == [c.title for c in script.chapters]
    for (start_s, _), chapter in zip(listed, script.chapters, strict=True):
        assert abs(start_s * 1000 - chapter.start_ms) <= CHAPTER_TOLERANCE_MS
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "tagging leaves nothing behind"
