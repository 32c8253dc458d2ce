"""The track's loudness is predicted block by block, with the music's own measured powers."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import ROOT, SEED, SHORT_ROUTINE, invoke
from workout_audio import load_routine, prepare
from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.audio.loudness import measure_file, measure_pcm
from workout_audio.audio.mix import MUSIC_CHANNELS, mixed_pcm
from workout_audio.audio.music import check_music
from workout_audio.encode.render import predicted_lufs, voice_pcm
from workout_audio.settings import MusicSettings, VoiceSettings

BEDS = {  # ffmpeg's own sources: sounds whose loudness moves, as music's does
    "quiet intro": "anoisesrc=d=150:c=pink:a=0.3,volume='if(lt(t,40),0.03,1)':eval=frame",
    "pulsing": "anoisesrc=d=150:c=white:a=0.2,volume='0.1+0.9*gt(sin(2*PI*t/3),0.6)':eval=frame",
}


def make_bed(path: Path, source: str) -> Path:
    """A stereo bed from ffmpeg's own sources (a filter graph of them)."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-filter_complex", source, "-ac", "2", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.mark.parametrize("bed", sorted(BEDS))
def test_the_prediction_follows_music_whose_loudness_moves(
    bed: str, tmp_path: Path, speech_cache: Path
) -> None:
    routine = tmp_path / "short.yaml"
    routine.write_text(SHORT_ROUTINE, encoding="utf-8")
    prepared = prepare(
        load_routine(routine), voice=VoiceSettings(engine="piper"), cache_dir=speech_cache
    )
    source = make_bed(tmp_path / "bed.flac", BEDS[bed])
    music = check_music(
        MusicSettings(source=source, level_db=-4.0, duck_db=6.0), tmp_path / "measurements"
    )
    assert music is not None
    voice = voice_pcm(prepared.script, prepared.clips, prepared.tones)
    mixed = b"".join(mixed_pcm(voice, prepared.script, music))
    measured = measure_pcm(mixed, MUSIC_CHANNELS).integrated_lufs
    predicted = predicted_lufs(prepared.script, prepared.clips, music, prepared.profiles)
    assert abs(predicted - measured) <= 0.3, (predicted, measured)


def test_a_music_measurement_keeps_the_powers_and_an_old_one_is_measured_again(
    tmp_path: Path,
) -> None:
    source = make_bed(tmp_path / "bed.flac", BEDS["quiet intro"])
    folder = tmp_path / "measurements"
    first = check_music(MusicSettings(source=source), folder)
    assert first is not None
    (entry,) = folder.glob("*.json")
    kept = json.loads(entry.read_text(encoding="utf-8"))
    assert len(kept["profile"].split(",")) == 15_000  # a power per 10 ms of 150 s
    entry.write_text(json.dumps({"loudness_lufs": -20.0}), encoding="utf-8")  # an older entry
    again = check_music(MusicSettings(source=source), folder)
    assert again is not None
    assert again.tracks[0].loudness_lufs == pytest.approx(first.tracks[0].loudness_lufs)
    assert again.tracks[0].profile == first.tracks[0].profile


@pytest.mark.slow
def test_mono_is_made_3_lu_under_the_stereo_figure(tmp_path: Path, speech_cache: Path) -> None:
    routine = tmp_path / "short.yaml"
    routine.write_text(SHORT_ROUTINE, encoding="utf-8")
    bed = make_bed(tmp_path / "bed.flac", "anoisesrc=d=120:c=pink:a=0.2")
    for extra, target in (([], -17.0), (["--music", str(bed)], -14.0)):
        output = tmp_path / "out.mp3"
        result = invoke(
            "build", str(routine), "-o", str(output), "--engine", "piper",
            "--cache-dir", str(speech_cache), "--loudness", "-14", *extra,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert abs(measure_file(output).integrated_lufs - target) <= 0.5, extra


@pytest.mark.slow
def test_the_pyramid_over_pink_noise_ducked_deep_lands_at_the_target(
    tmp_path: Path, speech_cache: Path
) -> None:
    bed = make_bed(tmp_path / "pink.flac", "anoisesrc=d=60:c=pink:a=0.3")
    output = tmp_path / "pyramid.mp3"
    result = invoke(
        "build", str(ROOT / "routines" / "pyramid-ladder.yaml"), "-o", str(output),
        "--engine", "piper", "--cache-dir", str(speech_cache), "--music", str(bed),
        "--music-level", "-18dB", "--duck", "20dB",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    loudness = measure_file(output)
    assert abs(loudness.integrated_lufs + 16) <= 0.5, loudness
    assert loudness.true_peak_dbtp <= -1.0, loudness


GENERATED_BEDS = {
    "pink": "anoisesrc=d=60:c=pink:a=0.3",
    "white": "anoisesrc=d=60:c=white:a=0.1",
    "tone": "sine=frequency=220:duration=60",
    **BEDS,
}
MOVES = ["Plank", "Squat", "Burpees", "Lunge", "Crunch"]


@st.composite
def short_routines(draw: st.DrawFn) -> dict[str, object]:
    """A routine of 30 to 90 seconds: timed moves, rests, rounds."""
    moves = draw(st.lists(st.sampled_from(MOVES), min_size=2, max_size=3, unique=True))
    seconds = draw(st.lists(st.integers(12, 25), min_size=len(moves), max_size=len(moves)))
    rounds = draw(st.integers(1, 2))
    return {
        "name": "Generated",
        "timing": {"rest": {"exercise": f"{draw(st.integers(0, 10))}s", "round": "10s"}},
        "blocks": [
            {
                "name": "Main",
                "rounds": rounds,
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
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    routine=short_routines(),
    bed=st.sampled_from(sorted(GENERATED_BEDS)),
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
        music = make_bed(folder / "bed.flac", GENERATED_BEDS[bed])
        output = folder / "out.mp3"
        result = invoke(
            "build", str(path), "-o", str(output), "--engine", "piper",
            "--cache-dir", str(speech_cache), "--music", str(music),
            "--music-level", f"{level_db}dB", "--duck", f"{duck_db}dB",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        loudness = measure_file(output)
    # 0.5 LU: LAME changes a track's loudness by -0.5 to +0.3 LU depending on what plays
    # (speech and pink noise lose, band-limited white noise gains); the registry makes up
    # its usual change, and a bed of white noise louder than the voice keeps the rest.
    assert abs(loudness.integrated_lufs + 16) <= 0.5, loudness
    assert loudness.true_peak_dbtp <= -1.0, loudness


PINK_AND_HUM = (  # the bed the loudness was first found to move with
    "anoisesrc=d=180:c=pink:a=0.2[noise];sine=frequency=110:duration=180[hum];"
    "[noise][hum]amix=inputs=2,aformat=channel_layouts=stereo"
)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".mp3", ".m4a", ".opus"])
def test_the_seed_over_noise_and_hum_peaks_under_minus_1_dbtp_as_decoded(
    suffix: str, tmp_path: Path, speech_cache: Path
) -> None:
    bed = make_bed(tmp_path / "bed.flac", PINK_AND_HUM)
    output = tmp_path / f"seed{suffix}"
    result = invoke(
        "build", str(SEED), "-o", str(output), "--engine", "piper",
        "--cache-dir", str(speech_cache), "--music", str(bed),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    loudness = measure_file(output)  # ffmpeg decodes it: the peaks a player makes
    assert loudness.true_peak_dbtp <= -1.0, loudness
    assert abs(loudness.integrated_lufs + 16) <= 0.5, loudness
