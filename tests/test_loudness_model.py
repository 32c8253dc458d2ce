"""Loudness as heard, whatever the music: the track's loudness is predicted block by block
from the clips' and the music's own measured powers, gated as the meter gates, and every
figure here is checked against ffmpeg's ebur128 meter on real files (decoded, for built
tracks): real piper voice, real ffmpeg, music beds from ffmpeg's own sources."""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import SHORT_ROUTINE, decoded, invoke, make_bed
from workout_audio import load_routine, prepare
from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.audio.loudness import file_profile, gated_loudness, measure_file, measure_pcm
from workout_audio.audio.mix import MUSIC_CHANNELS, mixed_pcm
from workout_audio.audio.music import check_music
from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.encode.track_loudness import predicted_powers
from workout_audio.encode.voice_track import voice_pcm
from workout_audio.levels import DEFAULT_TARGET_LUFS, MONO_BELOW_STEREO_LU, target_lufs
from workout_audio.settings import MusicSettings, VoiceSettings

STEREO_LUFS = DEFAULT_TARGET_LUFS
MONO_LUFS = DEFAULT_TARGET_LUFS - MONO_BELOW_STEREO_LU
PEAK_CEILING_DBTP = -1.0

# ffmpeg's own sources: noise, tones, and beds whose loudness moves; the noise seeded, so
# a drawn case builds the very same bed again
BEDS = {
    "pink": "anoisesrc=d=60:c=pink:a=0.3:seed=17",
    "white": "anoisesrc=d=60:c=white:a=0.1:seed=18",
    "tone": "sine=frequency=220:duration=60",
    "quiet intro": "anoisesrc=d=60:c=pink:a=0.3:seed=19,volume='if(lt(t,25),0.03,1)':eval=frame",
    "pulsing": "anoisesrc=d=60:c=white:a=0.2:seed=20,"
    "volume='0.1+0.9*gt(sin(2*PI*t/3),0.6)':eval=frame",
}
HOLD_ROUTINE = """\
name: Long Hold
timing: {rest: {exercise: 0s, round: 0s, block: 0s}}
blocks:
  - name: Legs
    exercises:
      - {name: Wall Sit, time: 60s}
"""


def build(routine: Path, output: Path, cache: Path, *extra: str) -> None:
    result = invoke(
        "build", str(routine), "-o", str(output), "--engine", "piper",
        "--cache-dir", str(cache), *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def short_routine(folder: Path) -> Path:
    path = folder / "short.yaml"
    path.write_text(SHORT_ROUTINE, encoding="utf-8")
    return path


# The model, against the meter


def test_the_mono_target_is_3_lu_under_the_stereo_one() -> None:
    assert target_lufs(-16.0, 2) == -16.0
    assert target_lufs(-16.0, 1) == -19.0
    assert target_lufs(-14.0, 1) == -17.0


def test_the_gate_drops_a_quiet_stretch_as_the_meter_does(tmp_path: Path) -> None:
    # 12 s of pink noise, then 12 s 14 dB down: under the relative gate, which the meter
    # leaves out; a mean of powers would count it and come out 2.4 LU low.
    source = make_bed(
        tmp_path / "steps.flac",
        "anoisesrc=d=24:c=pink:a=0.3,volume='if(lt(t,12),1,0.2)':eval=frame",
    )
    measured = file_profile(source, MUSIC_CHANNELS)
    predicted = gated_loudness(measured.powers)
    metered = measured.loudness.integrated_lufs  # the meter, on the samples as played
    mean = 10 * math.log10(float(np.mean(measured.powers))) - 0.691
    assert abs(predicted - metered) <= 0.1, (predicted, metered)
    assert metered - mean > 1.5  # the gate matters here: a mean of powers misses it
    assert measured.length_samples == 24 * SAMPLE_RATE_HZ


def test_a_music_measurement_keeps_the_powers_and_an_old_one_is_measured_again(
    tmp_path: Path,
) -> None:
    source = make_bed(tmp_path / "bed.flac", BEDS["quiet intro"])
    folder = tmp_path / "measurements"
    first = check_music(MusicSettings(source=source), folder)
    assert first is not None
    (entry,) = folder.glob("*.json")
    kept = json.loads(entry.read_text(encoding="utf-8"))
    assert len(kept["profile"].split(",")) == 6_000  # a power per 10 ms of 60 s
    # the peak as the mix plays the file, at our rate (resampled noise peaks elsewhere)
    played = tmp_path / "played.flac"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(source), "-ar", str(SAMPLE_RATE_HZ), str(played)],
        check=True,
    )  # fmt: skip
    assert kept["true_peak_dbtp"] == pytest.approx(measure_file(played).true_peak_dbtp, abs=0.2)
    entry.write_text(json.dumps({"loudness_lufs": -20.0}), encoding="utf-8")  # an older entry
    again = check_music(MusicSettings(source=source), folder)
    assert again is not None
    assert again.tracks[0].loudness_lufs == pytest.approx(first.tracks[0].loudness_lufs)
    assert again.tracks[0].profile == pytest.approx(first.tracks[0].profile, rel=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("bed", ["quiet intro", "pulsing"])
def test_the_prediction_follows_music_whose_loudness_moves(
    bed: str, tmp_path: Path, speech_cache: Path
) -> None:
    prepared = prepare(
        load_routine(short_routine(tmp_path)),
        voice=VoiceSettings(engine="piper"),
        cache_dir=speech_cache,
    )
    source = make_bed(tmp_path / "bed.flac", BEDS[bed])
    music = check_music(
        MusicSettings(source=source, level_db=-6.0, duck_db=6.0), tmp_path / "measurements"
    )
    assert music is not None
    voice = voice_pcm(prepared.script, prepared.clips, prepared.tones)
    mixed = b"".join(mixed_pcm(voice, prepared.script, music))
    measured = measure_pcm(mixed, MUSIC_CHANNELS).integrated_lufs
    predicted = gated_loudness(
        predicted_powers(prepared.script, prepared.clips, music, prepared.profiles, prepared.tones)
    )
    assert abs(predicted - measured) <= 0.15, (predicted, measured)


# Built tracks, decoded


@pytest.mark.slow
def test_pink_noise_ducked_deep_lands_at_the_target_and_the_voice_alone_3_lu_lower(
    tmp_path: Path, speech_cache: Path
) -> None:
    routine = short_routine(tmp_path)
    bed = make_bed(tmp_path / "pink.flac", BEDS["pink"])
    with_music, voice_only = tmp_path / "music.mp3", tmp_path / "voice.mp3"
    build(routine, with_music, speech_cache, "--music", str(bed),
          "--music-level", "-18dB", "--duck", "20dB")  # fmt: skip
    build(routine, voice_only, speech_cache)
    mixed, plain = measure_file(with_music), measure_file(voice_only)
    assert abs(mixed.integrated_lufs - STEREO_LUFS) <= 0.5, mixed
    assert abs(plain.integrated_lufs - MONO_LUFS) <= 0.5, plain
    assert mixed.true_peak_dbtp <= PEAK_CEILING_DBTP, mixed
    assert plain.true_peak_dbtp <= PEAK_CEILING_DBTP, plain


MUSIC_HZ = 13_000  # a tone nothing else in a track has


def _tone_db(samples: np.ndarray, start_ms: float, end_ms: float, hz: float) -> float:
    """The level of the tone at ``hz`` alone in a window (its spectral peak, Hann-windowed)."""
    rate = SAMPLE_RATE_HZ / 1000
    window = samples[int(start_ms * rate) : int(end_ms * rate)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    frequencies = np.fft.rfftfreq(len(window), 1 / SAMPLE_RATE_HZ)
    near = spectrum[np.abs(frequencies - hz) < 40]
    return 20 * math.log10(max(float(near.max()), 1e-9) / len(window))


@pytest.mark.slow
def test_the_music_sits_exactly_as_far_under_the_voice_as_asked(
    tmp_path: Path, speech_cache: Path
) -> None:
    """Two builds 12 dB apart in --music-level: the music against the voice's own chain
    (the start tone, set against the voice) moves 12 dB, whatever gain each build gets."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={MUSIC_HZ}:duration=100", "-af", "volume=0.5", "-ac", "2",
         str(tmp_path / "bed.flac")],
        check=True,
    )  # fmt: skip
    routine = tmp_path / "hold.yaml"
    routine.write_text(HOLD_ROUTINE + "music: {file: bed.flac, duck: 20dB}\n", encoding="utf-8")
    script = json.loads(
        invoke("script", str(routine), "--format", "json", "--engine", "piper",
               "--cache-dir", str(speech_cache)).stdout
    )  # fmt: skip
    start = next(e for e in script["events"] if e.get("tone") == "start")
    tone_ms = (start["start_s"] * 1000 + 20, start["end_s"] * 1000 - 20)
    quiet_ms = (25_000.0, 35_000.0)  # mid-hold, nothing said
    balance = {}
    for level_db in (-20, -8):
        output = tmp_path / f"{level_db}.mp3"
        build(routine, output, speech_cache, "--music-level", f"{level_db}dB")
        samples = decoded(output)
        music_db = _tone_db(samples, *quiet_ms, hz=MUSIC_HZ)
        balance[level_db] = music_db - _tone_db(samples, *tone_ms, hz=1320)
    assert balance[-8] - balance[-20] == pytest.approx(12, abs=0.5), balance


GENERATED_MOVES = ["Plank", "Squat", "Burpees", "Lunge", "Crunch"]


@st.composite
def short_routines(draw: st.DrawFn) -> dict[str, object]:
    """A routine of about 30 to 60 seconds: timed moves, rests, rounds."""
    moves = draw(st.lists(st.sampled_from(GENERATED_MOVES), min_size=2, max_size=3, unique=True))
    seconds = draw(st.lists(st.integers(8, 15), min_size=len(moves), max_size=len(moves)))
    return {
        "name": "Generated",
        "timing": {"rest": {"exercise": f"{draw(st.integers(0, 8))}s", "round": "5s"}},
        "blocks": [
            {
                "name": "Main",
                "rounds": draw(st.integers(1, 2)) if sum(seconds) < 30 else 1,
                "exercises": [
                    {"name": move, "time": f"{time}s"}
                    for move, time in zip(moves, seconds, strict=True)
                ],
            }
        ],
    }


@pytest.mark.slow
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,  # the same six cases on every run: a failure can be built again
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    routine=short_routines(),
    bed=st.sampled_from(sorted(BEDS)),
    level_db=st.integers(-30, -3),
    duck_db=st.integers(0, 30),
)
def test_any_routine_over_any_bed_lands_at_the_target_under_the_peak_ceiling(
    speech_cache: Path, routine: dict[str, object], bed: str, level_db: int, duck_db: int
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "routine.yaml"
        path.write_text(yaml.safe_dump(routine), encoding="utf-8")
        music = make_bed(folder / "bed.flac", BEDS[bed])
        output = folder / "out.mp3"
        build(path, output, speech_cache, "--music", str(music),
              "--music-level", f"{level_db}dB", "--duck", f"{duck_db}dB")  # fmt: skip
        loudness = measure_file(output)  # ffmpeg decodes it, as a player does
    assert abs(loudness.integrated_lufs - STEREO_LUFS) <= 0.3, loudness
    assert loudness.true_peak_dbtp <= PEAK_CEILING_DBTP, loudness


@pytest.mark.slow
def test_a_long_hold_under_music_reaches_the_target_though_the_voice_is_limited(
    tmp_path: Path, speech_cache: Path
) -> None:
    # A minute of music and a few cues: the gain that brings the music to the target puts
    # the voice's peaks well over the ceiling, and what the limiter takes (about 3 LU
    # here) is made up. With 1.5 dB made up at most, it measured -17.1 LUFS.
    routine = tmp_path / "hold.yaml"
    routine.write_text(HOLD_ROUTINE, encoding="utf-8")
    bed = make_bed(tmp_path / "tone.flac", BEDS["tone"])
    output = tmp_path / "hold.mp3"
    build(routine, output, speech_cache, "--music", str(bed))
    loudness = measure_file(output)
    assert abs(loudness.integrated_lufs - STEREO_LUFS) <= 0.3, loudness
    assert loudness.true_peak_dbtp <= PEAK_CEILING_DBTP, loudness


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".m4a", ".opus"])  # MP3: every test above
def test_loud_music_peaks_under_the_ceiling_as_decoded_in_every_format(
    suffix: str, tmp_path: Path, speech_cache: Path
) -> None:
    bed = make_bed(tmp_path / "bed.flac", BEDS["white"])
    output = tmp_path / f"short{suffix}"
    build(short_routine(tmp_path), output, speech_cache, "--music", str(bed),
          "--music-level", "-3dB", "--duck", "6dB")  # fmt: skip
    loudness = measure_file(output)
    assert loudness.true_peak_dbtp <= PEAK_CEILING_DBTP, loudness
    assert abs(loudness.integrated_lufs - STEREO_LUFS) <= 0.5, loudness
