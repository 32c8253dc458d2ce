"""A track encoded in parts side by side, joined at frame boundaries: one gapless stream of
exactly its samples, as if one encoder had made it. Real piper clips, real ffmpeg."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mutagen.mp3 import MP3

from helpers import decoded, run_cli
from workout_audio import EncodeSettings, load_routine, prepare
from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.audio.pcm import SAMPLE_RATE_HZ, ms_to_samples
from workout_audio.encode.mp3_join import (
    FRAME_SAMPLES,
    JOIN_GAP_SAMPLES,
    JOIN_MARGIN_SAMPLES,
    crc16,
    crc16_combine,
    frames_for,
    plan_parts,
)
from workout_audio.encode.render import render
from workout_audio.encode.voice_track import silences
from workout_audio.preparation import Prepared
from workout_audio.settings import VoiceSettings

pytestmark = pytest.mark.slow

CIRCUIT = """\
name: Three Minute Circuit
timing:
  rest: {exercise: 10s, round: 20s}
  countdown: 3
blocks:
  - name: Circuit
    rounds: 2
    exercises:
      - {name: Plank, time: 40s, tips: [Keep your hips level.]}
      - {name: Squat, time: 35s}
"""


@pytest.fixture(scope="module")
def circuit(tmp_path_factory: pytest.TempPathFactory, speech_cache: Path) -> Prepared:
    folder = tmp_path_factory.mktemp("circuit")
    path = folder / "circuit.yaml"
    path.write_text(CIRCUIT, encoding="utf-8")
    return prepare(load_routine(path), voice=VoiceSettings(engine="piper"), cache_dir=speech_cache)


def encoded(prepared: Prepared, path: Path, encoders: int) -> Path:
    return render(
        prepared.script,
        prepared.clips,
        path,
        options=EncodeSettings(encoders=encoders),
        profiles=prepared.profiles,
    )


@pytest.fixture(scope="module")
def whole(circuit: Prepared, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    return decoded(encoded(circuit, tmp_path_factory.mktemp("whole") / "whole.mp3", 1))


@pytest.mark.parametrize("encoders", [2, 3])
def test_parts_join_into_exactly_the_track_one_encoder_makes(
    circuit: Prepared, whole: np.ndarray, tmp_path: Path, encoders: int
) -> None:
    track_samples = ms_to_samples(circuit.script.length_ms)
    quiet = silences(circuit.script, circuit.clips)
    spans = plan_parts(track_samples, quiet, encoders)
    assert len(spans) == encoders
    joined = decoded(encoded(circuit, tmp_path / "joined.mp3", encoders))

    assert len(whole) == track_samples
    assert len(joined) == track_samples  # gapless: not one sample more or less
    for (_, cut), (next_start, _) in itertools.pairwise(spans):
        # Where the parts meet, silence: no click, no dropout.
        assert np.abs(joined[cut:next_start]).max() <= 1
        # The speech either side of that silence sounds as the single encode does, to the
        # sample: a part off by even one frame would differ by as much as the speech itself.
        low, high = next((low, high) for low, high in quiet if low < cut < high)
        window = slice(low - SAMPLE_RATE_HZ, high + SAMPLE_RATE_HZ)
        speech = np.sqrt(np.mean(whole[window] ** 2))
        difference = np.sqrt(np.mean((joined[window] - whole[window]) ** 2))
        assert speech > 300, "the window should hold speech"
        assert difference <= 0.05 * speech


@pytest.mark.parametrize("encoders", [1, 2])
def test_a_track_just_past_a_whole_frame_decodes_to_exactly_its_samples(
    tmp_path: Path, speech_cache: Path, encoders: int
) -> None:
    # LAME's own header states too little padding when the input runs 1 to 46 samples past
    # a whole frame; decoders then play up to 46 samples past the end of the workout.
    length_ms = next(ms for ms in range(200_000, 210_000) if ms_to_samples(ms) % 1152 == 32)
    path = tmp_path / "circuit.yaml"
    path.write_text(CIRCUIT, encoding="utf-8")
    prepared = prepare(
        load_routine(path), voice=VoiceSettings(engine="piper"), length_ms=length_ms,
        cache_dir=speech_cache,
    )  # fmt: skip
    assert prepared.script.length_ms == length_ms
    track = encoded(prepared, tmp_path / "track.mp3", encoders)
    assert len(decoded(track)) == ms_to_samples(length_ms)


def test_the_joined_header_is_whole_and_checks_out(circuit: Prepared, tmp_path: Path) -> None:
    path = encoded(circuit, tmp_path / "joined.mp3", 2)
    data = path.read_bytes()
    tag = data.find(b"Info")
    frame_bytes = MP3(path).info.bitrate * 144 // SAMPLE_RATE_HZ
    frames = int.from_bytes(data[tag + 8 : tag + 12], "big")
    assert int.from_bytes(data[tag + 12 : tag + 16], "big") == len(data)  # bytes, all parts
    assert abs(frames * frame_bytes - len(data)) < frames  # every frame counted
    delay_padding = int.from_bytes(data[tag + 141 : tag + 144], "big")
    track_samples = ms_to_samples(circuit.script.length_ms)
    assert frames * FRAME_SAMPLES - (delay_padding >> 12) - (delay_padding & 0xFFF) == track_samples
    # The LAME tag's two checksums, as players that check them compute them.
    blank = data[: tag + 154] + b"\0\0" + data[tag + 156 : 190]
    assert int.from_bytes(data[tag + 154 : tag + 156], "big") == crc16(blank)
    first_audio = frame_bytes + (data[2] >> 1 & 1)  # the Info frame's own length
    assert int.from_bytes(data[tag + 152 : tag + 154], "big") == crc16(data[first_audio:])
    seek_table = data[tag + 16 : tag + 116]
    assert list(seek_table) == sorted(seek_table)
    assert seek_table[50] in range(126, 130)  # constant bitrate: half the frames, half the file


def test_a_build_plays_whole_and_leaves_only_its_own_files(
    circuit: Prepared, tmp_path: Path, speech_cache: Path
) -> None:
    routine = tmp_path / "circuit.yaml"
    routine.write_text(CIRCUIT, encoding="utf-8")
    output = tmp_path / "circuit.mp3"
    done = run_cli(
        "build", str(routine), "-o", str(output), "--engine", "piper",
        "--cache-dir", str(speech_cache),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(decoded(output)) == ms_to_samples(circuit.script.length_ms)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "circuit.lrc",
        "circuit.mp3",
        "circuit.yaml",
    ]


def test_one_failing_part_fails_the_build_and_leaves_nothing(
    circuit: Prepared, tmp_path: Path, speech_cache: Path
) -> None:
    # A real ffmpeg, but the one writing the second part fails at once.
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    fake = bin_folder / "ffmpeg"
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in *.part.1.mp3*) echo "simulated failure" >&2; exit 1;; esac\n'
        f'exec "{ffmpeg_exe()}" "$@"\n'
    )
    fake.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / "circuit.mp3"
    earlier.write_bytes(b"an earlier good track")
    routine = tmp_path / "circuit.yaml"
    routine.write_text(CIRCUIT, encoding="utf-8")
    env = {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}"}
    done = run_cli(
        "build", str(routine), "-o", str(earlier), "--engine", "piper",
        "--cache-dir", str(speech_cache), env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "simulated failure" in done.stderr
    assert "Traceback" not in done.stderr
    assert earlier.read_bytes() == b"an earlier good track"
    assert [p.name for p in out.iterdir()] == ["circuit.mp3"]


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_checksums_combine_as_if_computed_end_to_end(first: bytes, second: bytes) -> None:
    assert crc16_combine(crc16(first), crc16(second), len(second)) == crc16(first + second)


silence_lists = st.lists(
    st.tuples(st.integers(0, 5_000_000), st.integers(0, 200_000)), max_size=30
).map(lambda runs: sorted({(start, start + length) for start, length in runs}))


@given(st.integers(1, 6_000_000), silence_lists, st.integers(1, 6))
def test_parts_are_cut_inside_silences_at_whole_frames(
    track_samples: int, silences_found: list[tuple[int, int]], count: int
) -> None:
    spans = plan_parts(track_samples, silences_found, count)
    assert 1 <= len(spans) <= count
    assert spans[0][0] == 0
    assert spans[-1][1] == track_samples
    for (start, cut), (next_start, _) in itertools.pairwise(spans):
        assert start < cut
        assert next_start == cut + JOIN_GAP_SAMPLES
        assert start + frames_for(cut - start) * FRAME_SAMPLES == next_start
        assert any(
            low + JOIN_MARGIN_SAMPLES <= cut and next_start + JOIN_MARGIN_SAMPLES <= high
            for low, high in silences_found
        )
