"""Render speed against the MP3 encoder's own speed, measured in the same run.

    python scripts/bench.py [ROUTINE] [--runs 5]

Times (median of --runs) four things on the same machine, interleaved:
  encoder        ffmpeg/libmp3lame encoding the track's length of mono silence from a pipe;
  render         workout_audio.render streaming the real script + clips into the same encoder;
  encoder 2ch    the same for stereo silence at 128 kbit/s (the format with music);
  render music   the render with music under the voice (a generated 3-minute bed, looped).
The ratios render/encoder are what the project is held to: the render should add
little on top of the encoder. Speech is synthesised (or read from the cache) once,
before timing, so only rendering is measured. The loudness and true peak of both
tracks are measured afterwards with ffmpeg's ebur128. Machines here are shared and
noisy: quote the medians and the ratios, not single runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workout_audio import EncodeOptions, load_routine, prepare, render
from workout_audio.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ffmpeg_exe
from workout_audio.loudness import measure_file
from workout_audio.music import MusicOptions, check_music
from workout_audio.speech import VoiceSettings

ROOT = Path(__file__).resolve().parent.parent


def encode_silence(length_ms: int, output: Path, channels: int = 1) -> None:
    """The encoder alone: the same length of PCM through the same ffmpeg command."""
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", str(channels), "-i", "pipe:0",
        "-c:a", "libmp3lame", "-b:a", "96k" if channels == 1 else "128k",
        "-f", "mp3", str(output),
    ]  # fmt: skip
    encoder = subprocess.Popen(command, stdin=subprocess.PIPE)
    assert encoder.stdin is not None
    chunk = bytes(SAMPLE_RATE_HZ * SAMPLE_WIDTH_BYTES * channels)
    remaining = length_ms * SAMPLE_RATE_HZ // 1000 * SAMPLE_WIDTH_BYTES * channels
    while remaining > 0:
        step = min(remaining, len(chunk))
        encoder.stdin.write(chunk[:step])
        remaining -= step
    encoder.stdin.close()
    if encoder.wait() != 0:
        sys.exit("ffmpeg failed")


def music_bed(folder: Path) -> Path:
    """Three minutes of music-like sound: two chords over pink noise, in stereo."""
    path = folder / "bed.flac"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y",
         "-f", "lavfi", "-i", "sine=frequency=220:duration=180",
         "-f", "lavfi", "-i", "sine=frequency=277:duration=180",
         "-f", "lavfi", "-i", "anoisesrc=d=180:c=pink:a=0.05",
         "-filter_complex", "[0][1][2]amix=inputs=3,aformat=channel_layouts=stereo",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("routine", nargs="?", default=ROOT / "routines" / "runners-total-body.yaml")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", default="piper")
    args = parser.parse_args()

    routine = load_routine(args.routine)
    prepared = prepare(routine, voice=VoiceSettings(engine=args.engine))
    length_ms = prepared.script.length_ms
    times: dict[str, list[float]] = {"encoder": [], "render": [], "encoder2": [], "music": []}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        music = check_music(MusicOptions(source=music_bed(folder)), folder / "measured")
        plain, mixed = folder / "plain.mp3", folder / "mixed.mp3"
        options = EncodeOptions()
        for _ in range(args.runs):  # interleaved, so all see the same machine load
            times["encoder"].append(timed(lambda: encode_silence(length_ms, folder / "s.mp3")))
            times["render"].append(
                timed(lambda: render(prepared.script, prepared.clips, plain, options=options))
            )
            times["encoder2"].append(
                timed(lambda: encode_silence(length_ms, folder / "s2.mp3", channels=2))
            )
            times["music"].append(
                timed(
                    lambda: render(
                        prepared.script, prepared.clips, mixed, options=options, music=music
                    )
                )
            )
        loudness = {"voice": measure_file(plain), "music": measure_file(mixed)}
    median = {key: statistics.median(values) for key, values in times.items()}
    print(f"track          {length_ms / 60000:.1f} min, {len(prepared.script.events)} events")
    speed = length_ms / 1000 / median["encoder"]
    print(f"encoder        median {median['encoder']:.2f} s ({speed:.0f}x real time)")
    print(f"render         median {median['render']:.2f} s")
    print(f"encoder 2ch    median {median['encoder2']:.2f} s")
    print(f"render music   median {median['music']:.2f} s  (medians of {args.runs} runs)")
    print(f"ratio          render / encoder = {median['render'] / median['encoder']:.2f}")
    print(f"ratio          render music / encoder 2ch = {median['music'] / median['encoder2']:.2f}")
    print(f"ratio          render music / render = {median['music'] / median['render']:.2f}")
    for name, measured in loudness.items():
        print(
            f"loudness       {name}: {measured.integrated_lufs:.1f} LUFS integrated, "
            f"true peak {measured.true_peak_dbtp:.1f} dBTP"
        )


if __name__ == "__main__":
    main()
