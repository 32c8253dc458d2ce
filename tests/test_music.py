"""Music under the voice and loudness by design, heard in real MP3s: real piper voice, real
ffmpeg, music made in the test with ffmpeg's own generators."""

from __future__ import annotations

import io
import itertools
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pydub import AudioSegment
from typer.testing import CliRunner

from helpers import SHORT_ROUTINE, decoded, make_bed
from workout_audio.app.main import app
from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.audio.loudness import measure_file
from workout_audio.audio.mix import CROSSFADE_MS, _MusicReader, ducking_dips
from workout_audio.audio.music import check_music
from workout_audio.audio.pcm import SAMPLE_RATE_HZ, ms_to_samples
from workout_audio.settings import MusicSettings
from workout_audio.speech import registry
from workout_audio.speech.piper import PiperEngine
from workout_audio.timeline.script import Event, Script

pytestmark = pytest.mark.slow

runner = CliRunner()

MUSIC_HZ = 13_000  # a tone nothing else in a track has: speech and tones sit far below it
TARGET_LUFS = -16.0  # with music: stereo
MONO_TARGET_LUFS = -19.0  # the voice alone, mono: 3 LU lower, heard as loud

HOLD_ROUTINE = """\
name: Long Hold
timing: {rest: {exercise: 0s, round: 0s, block: 0s}}
blocks:
  - name: Legs
    exercises:
      - {name: Wall Sit, time: 150s}
"""


def make_tone(path: Path, frequency_hz: int, seconds: float, volume: float = 0.5) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={frequency_hz}:duration={seconds}",
         "-af", f"volume={volume}", "-ac", "2", str(path)],
        check=True,
    )  # fmt: skip
    return path


def level_db(samples: np.ndarray, start_ms: float, end_ms: float, hz: float = MUSIC_HZ) -> float:
    """The level of the tone at ``hz`` alone in a window (its spectral peak, Hann-windowed)."""
    window = samples[int(start_ms * 44.1) : int(end_ms * 44.1)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    frequencies = np.fft.rfftfreq(len(window), 1 / SAMPLE_RATE_HZ)
    near = spectrum[np.abs(frequencies - hz) < 40]
    return 20 * math.log10(max(float(near.max()), 1e-9) / len(window))


def channels(path: Path) -> int:
    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True)
    return 2 if "stereo" in done.stderr.decode() else 1


def build(routine: Path, output: Path, cache: Path, *extra: str):
    return runner.invoke(
        app,
        ["build", str(routine), "-o", str(output), "--engine", "piper",
         "--cache-dir", str(cache), *extra],
    )  # fmt: skip


def scripted(routine: Path, cache: Path) -> dict:
    """What the `script` command prints as JSON."""
    result = runner.invoke(
        app,
        ["script", str(routine), "--format", "json", "--engine", "piper",
         "--cache-dir", str(cache)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory, speech_cache: Path):
    """The short routine built twice from one cache: voice alone, and over a steady tone."""
    folder = tmp_path_factory.mktemp("music")
    routine = folder / "short.yaml"
    routine.write_text(SHORT_ROUTINE, encoding="utf-8")
    music = make_tone(folder / "tone.flac", MUSIC_HZ, 200)  # no crossfade of a tone into itself
    plain, mixed = folder / "plain.mp3", folder / "mixed.mp3"
    assert build(routine, plain, speech_cache).exit_code == 0
    result = build(routine, mixed, speech_cache, "--music", str(music))
    assert result.exit_code == 0, result.output
    return routine, plain, mixed, scripted(routine, speech_cache)


def test_music_dips_at_least_10_db_under_every_spoken_cue(short) -> None:
    _, _, mixed, script = short
    music = decoded(mixed)
    events = script["events"]
    speech = [
        (e["start_s"] * 1000, e["end_s"] * 1000)
        for e in events
        if e["kind"] == "speech" and e["end_s"] - e["start_s"] > 0.5
    ]
    away = [  # silences of 4 s or more: the music is back up a second after the last cue
        (a["end_s"] * 1000 + 1500, b["start_s"] * 1000 - 1000)
        for a, b in itertools.pairwise(events)
        if b["start_s"] - a["end_s"] > 4 and a["end_s"] > 5
    ]
    assert len(speech) > 10
    assert away
    open_level = min(level_db(music, *window) for window in away)
    for start_ms, end_ms in speech:
        under = level_db(music, start_ms, end_ms)
        assert open_level - under >= 10, (start_ms, end_ms, open_level, under)


def test_the_music_is_down_before_the_coach_speaks(short) -> None:
    _, _, mixed, script = short
    music = decoded(mixed)
    cue = next(
        e for e in script["events"] if e["kind"] == "speech" and e.get("text") == "Switch sides."
    )
    start_ms = cue["start_s"] * 1000
    before = level_db(music, start_ms - 1500, start_ms - 1200)
    first_word = level_db(music, start_ms, start_ms + 100)
    assert before - first_word >= 9  # already dipped as the first syllable sounds


def test_with_music_the_track_is_stereo_and_exactly_as_long(short) -> None:
    _, plain, mixed, script = short
    assert channels(plain) == 1
    assert channels(mixed) == 2
    length_ms = len(decoded(mixed)) * 1000 / SAMPLE_RATE_HZ
    assert abs(length_ms - script["length_s"] * 1000) < 30


@pytest.mark.parametrize("which", ["plain", "mixed"])
def test_the_track_sits_at_minus_16_lufs_stereo_or_19_mono_under_minus_1_dbtp(
    short, which: str
) -> None:
    _, plain, mixed, _ = short
    loudness = measure_file(plain if which == "plain" else mixed)
    target = MONO_TARGET_LUFS if which == "plain" else TARGET_LUFS
    assert abs(loudness.integrated_lufs - target) <= 1, loudness
    assert loudness.true_peak_dbtp <= -1.0, loudness


def test_another_loudness_target_is_met(short, tmp_path: Path, speech_cache: Path) -> None:
    routine = short[0]
    output = tmp_path / "quiet.mp3"
    assert build(routine, output, speech_cache, "--loudness", "-19").exit_code == 0
    assert abs(measure_file(output).integrated_lufs + 22) <= 1  # mono: 3 LU under -19


def test_a_folder_plays_in_name_order_crossfaded_and_looped(
    tmp_path: Path, speech_cache: Path
) -> None:
    folder = tmp_path / "playlist"
    folder.mkdir()
    frequencies = {"1-intro.wav": 500, "2-middle.ogg": 800, "3-last.mp3": 1100}
    track_s = 20
    for name, frequency in frequencies.items():
        make_tone(folder / name, frequency, track_s)
    (folder / "notes.txt").write_text("not music", encoding="utf-8")
    routine = tmp_path / "hold.yaml"
    routine.write_text(HOLD_ROUTINE, encoding="utf-8")
    output = tmp_path / "hold.mp3"
    result = build(routine, output, speech_cache, "--music", str(folder))
    assert result.exit_code == 0, result.output
    script = scripted(routine, speech_cache)
    samples = decoded(output)
    assert abs(len(samples) * 1000 / SAMPLE_RATE_HZ - script["length_s"] * 1000) < 30

    start_ms = script["events"][0]["start_s"] * 1000
    step_ms = track_s * 1000 - CROSSFADE_MS  # each track starts this long after the last
    order = list(frequencies.values())
    cues = [(e["start_s"] * 1000 - 500, e["end_s"] * 1000 + 900) for e in script["events"]]
    checked = set()
    for index in range(int((script["length_s"] * 1000 - start_ms) // step_ms)):
        middle_ms = start_ms + index * step_ms + CROSSFADE_MS + (step_ms - CROSSFADE_MS) / 2
        window = (middle_ms - 1500, middle_ms + 1500)
        if any(a < window[1] and window[0] < b for a, b in cues):
            continue  # a cue there: the music is ducked and the voice is in the way
        assert dominant_hz(samples, *window) == pytest.approx(order[index % 3], abs=15)
        checked.add(index)
    assert any(index >= 3 for index in checked), "the playlist looped"

    # Mid-crossfade, the outgoing and incoming tracks sound together.
    crossfade_ms = start_ms + step_ms + CROSSFADE_MS / 2
    spectrum = np.abs(
        np.fft.rfft(samples[int(crossfade_ms * 44.1) : int(crossfade_ms * 44.1) + 8820])
    )
    frequencies_hz = np.fft.rfftfreq(8820, 1 / SAMPLE_RATE_HZ)
    strength = {f: spectrum[np.argmin(abs(frequencies_hz - f))] for f in order[:2]}
    assert min(strength.values()) > 0.3 * max(strength.values())


def dominant_hz(samples: np.ndarray, start_ms: float, end_ms: float) -> float:
    window = samples[int(start_ms * 44.1) : int(end_ms * 44.1)]
    spectrum = np.abs(np.fft.rfft(window))
    return float(np.fft.rfftfreq(len(window), 1 / SAMPLE_RATE_HZ)[int(np.argmax(spectrum))])


def test_an_m3u_playlist_plays_its_entries(tmp_path: Path, speech_cache: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    make_tone(music / "b.wav", 700, 30)
    make_tone(music / "a.wav", 400, 30)
    playlist = tmp_path / "run.m3u8"
    playlist.write_text("#EXTM3U\n#EXTINF:30,Tone B\nmusic/b.wav\n", encoding="utf-8")
    routine = tmp_path / "hold.yaml"
    routine.write_text(HOLD_ROUTINE, encoding="utf-8")
    output = tmp_path / "hold.mp3"
    result = build(routine, output, speech_cache, "--music", str(playlist))
    assert result.exit_code == 0, result.output
    assert dominant_hz(decoded(output), 20_000, 23_000) == pytest.approx(700, abs=15)


def test_the_routine_file_names_its_music_and_levels(tmp_path: Path, speech_cache: Path) -> None:
    make_tone(tmp_path / "bed.flac", MUSIC_HZ, 200)
    routine = tmp_path / "hold.yaml"
    routine.write_text(
        HOLD_ROUTINE + "music: {file: bed.flac, level: -20dB, duck: 20dB}\n", encoding="utf-8"
    )
    loud = tmp_path / "loud.mp3"
    quiet = tmp_path / "quiet.mp3"
    assert build(routine, quiet, speech_cache).exit_code == 0
    assert build(routine, loud, speech_cache, "--music-level", "-8dB").exit_code == 0
    # Both tracks are brought to the same loudness, so the music is compared with the voice's
    # own chain: the start tone, set against the voice.
    start = next(e for e in scripted(routine, speech_cache)["events"] if e.get("tone") == "start")
    tone = (start["start_s"] * 1000, start["end_s"] * 1000)
    window = (20_000.0, 30_000.0)  # mid-hold, nothing said

    def music_against_voice(path: Path) -> float:
        samples = decoded(path)
        return level_db(samples, *window) - level_db(samples, *tone, hz=1320)

    difference = music_against_voice(loud) - music_against_voice(quiet)
    assert difference == pytest.approx(12, abs=1.5)  # -8 dB against -20 dB


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("missing", "does not exist"),
        ("not-audio", "is not an audio file"),
        ("empty-folder", "holds no audio files"),
        ("bad-playlist-entry", "gone.mp3' does not exist"),
    ],
)
def test_bad_music_is_refused_before_any_speech(tmp_path: Path, case: str, words: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "fake.mp3").write_text("this is not music", encoding="utf-8")
    (tmp_path / "list.m3u").write_text("gone.mp3\n", encoding="utf-8")
    source = {
        "missing": tmp_path / "nowhere.mp3",
        "not-audio": tmp_path / "fake.mp3",
        "empty-folder": tmp_path / "empty",
        "bad-playlist-entry": tmp_path / "list.m3u",
    }[case]
    routine = tmp_path / "hold.yaml"
    routine.write_text(HOLD_ROUTINE, encoding="utf-8")
    cache = tmp_path / "cache"
    output = tmp_path / "out.mp3"
    result = build(routine, output, cache, "--music", str(source))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert words in lines[0]
    assert "--music" in lines[0]
    assert not output.exists()
    assert not list(cache.rglob("*.wav")), "no speech was made"


def test_a_bad_music_level_in_the_routine_names_its_line(tmp_path: Path) -> None:
    routine = tmp_path / "hold.yaml"
    routine.write_text(HOLD_ROUTINE + "music: {file: bed.wav, duck: 90dB}\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(routine)])
    assert result.exit_code == 2
    assert f"{routine}:7: music.duck: 90 dB is out of range" in result.output


class _LevelledPiper(PiperEngine):
    """The real piper voice, made much quieter or louder (clipping) than piper makes it."""

    PARALLEL = "serial"
    GAIN_DB = 0.0

    def identity(self) -> dict[str, str]:
        return {**super().identity(), "gain_db": str(self.GAIN_DB)}

    def synthesize(self, text: str) -> bytes:
        wav = AudioSegment.from_wav(io.BytesIO(super().synthesize(text)))
        buffer = io.BytesIO()
        wav.apply_gain(self.GAIN_DB).export(buffer, format="wav")  # 16-bit: loud ones clip
        return buffer.getvalue()


class QuietPiper(_LevelledPiper):
    NAME = "quietpiper"
    GAIN_DB = -30.0


class LoudPiper(_LevelledPiper):
    NAME = "loudpiper"
    GAIN_DB = 15.0


@pytest.mark.parametrize("engine", [QuietPiper, LoudPiper])
def test_quiet_and_loud_voices_end_at_the_same_loudness(
    engine: type[PiperEngine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.ENGINES, engine.NAME, engine)
    assert_at_target_loudness(engine.NAME, tmp_path)


def assert_at_target_loudness(engine: str, tmp_path: Path) -> None:
    """Build the short routine with ``engine``, voice only: -19 LUFS (mono) within 1 LU,
    under -1 dBTP."""
    routine = tmp_path / "short.yaml"
    routine.write_text(SHORT_ROUTINE, encoding="utf-8")
    output = tmp_path / "out.mp3"
    result = runner.invoke(
        app,
        ["build", str(routine), "-o", str(output), "--engine", engine,
         "--cache-dir", str(tmp_path / "cache")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    loudness = measure_file(output)
    assert abs(loudness.integrated_lufs - MONO_TARGET_LUFS) <= 1, loudness
    assert loudness.true_peak_dbtp <= -1.0, loudness


def test_googles_voice_ends_at_the_same_loudness(gtts_stub, tmp_path: Path) -> None:
    assert_at_target_loudness("gtts", tmp_path)


def test_variants_carry_the_music_at_every_length(
    short, tmp_path: Path, speech_cache: Path
) -> None:
    routine = short[0]
    music = make_tone(tmp_path / "bed.flac", MUSIC_HZ, 200)
    result = runner.invoke(
        app,
        ["variants", str(routine), "--lengths", "3m,4m", "-o", str(tmp_path), "--engine",
         "piper", "--cache-dir", str(speech_cache), "--music", str(music)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for label, length_ms in (("3m", 180_000), ("4m", 240_000)):
        track = tmp_path / f"short-{label}.mp3"
        assert channels(track) == 2
        samples = decoded(track)
        assert abs(len(samples) * 1000 / SAMPLE_RATE_HZ - length_ms) < 30
        assert (
            level_db(samples, length_ms - 20_000, length_ms - 15_000)
            > level_db(samples, length_ms - 800, length_ms - 100) + 10
        ), "the music fades out at the end"


def test_tones_dip_the_music_less_ticks_not_at_all_and_close_cues_hold_it_down() -> None:
    events = (
        Event(1_000, 1_000, "speech", text="Next up: Plank."),  # 1.0-2.0 s
        Event(2_500, 150, "tone", tone="beep"),  # half a second later: held down
        Event(10_000, 40, "tone", tone="tick"),  # never dips the music
        Event(20_000, 450, "tone", tone="start"),  # alone: a dip of its own, half as deep
    )
    script = Script("Test", "en", 30_000, events, ())
    dips = ducking_dips(script, 12.0)
    assert [(d.start_ms, d.end_ms, d.depth_db) for d in dips] == [
        (1_000, 2_000, 12.0),
        (2_000, 2_500, 6.0),  # between the cue and the beep: held at the shallower depth
        (2_500, 2_650, 6.0),
        (20_000, 20_450, 6.0),
    ]


def test_a_looped_track_plays_the_same_every_time_round(tmp_path: Path) -> None:
    # Noise, so that any sample out of place shows: the first time round is decoded by
    # ffmpeg, the next ones come from the copy kept of it.
    bed = make_bed(tmp_path / "bed.flac", "anoisesrc=d=10:c=pink:a=0.3")
    music = check_music(MusicSettings(source=bed), tmp_path / "measurements")
    assert music is not None
    reader = _MusicReader(music)
    try:
        period = 10 * SAMPLE_RATE_HZ - ms_to_samples(CROSSFADE_MS)
        played = reader.read(4 * period)
    finally:
        reader.close()
    assert np.abs(played).max() > 1000
    crossfade = ms_to_samples(CROSSFADE_MS)
    assert np.array_equal(played[crossfade:period], played[period + crossfade : 2 * period])
    for turn in (1, 2):
        assert np.array_equal(played[turn * period : (turn + 1) * period],
                              played[(turn + 1) * period : (turn + 2) * period])  # fmt: skip
