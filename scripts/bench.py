"""Render speed against the MP3 encoder's own speed, measured in the same run.

    python scripts/bench.py [ROUTINE] [--runs 5]

Times (median of --runs) two things on the same machine, back to back:
  encoder  ffmpeg/libmp3lame encoding the track's length of silence from a pipe;
  render   workout_audio.render streaming the real script + clips into the same encoder.
The ratio render/encoder is what the project is held to: the render should add
little on top of the encoder. Speech is synthesised (or read from the cache) once,
before timing, so only rendering is measured. Machines here are shared and noisy:
quote the medians and the ratio, not single runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workout_audio import load_routine, prepare, render
from workout_audio.audio import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ffmpeg_exe
from workout_audio.speech import VoiceSettings

ROOT = Path(__file__).resolve().parent.parent


def encode_silence(length_ms: int, output: Path) -> None:
    """The encoder alone: the same length of PCM through the same ffmpeg command."""
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", str(CHANNELS), "-i", "pipe:0",
        "-c:a", "libmp3lame", "-b:a", "96k", "-f", "mp3", str(output),
    ]  # fmt: skip
    encoder = subprocess.Popen(command, stdin=subprocess.PIPE)
    assert encoder.stdin is not None
    chunk = bytes(SAMPLE_RATE_HZ * SAMPLE_WIDTH_BYTES)
    remaining = length_ms * SAMPLE_RATE_HZ // 1000 * SAMPLE_WIDTH_BYTES
    while remaining > 0:
        step = min(remaining, len(chunk))
        encoder.stdin.write(chunk[:step])
        remaining -= step
    encoder.stdin.close()
    if encoder.wait() != 0:
        sys.exit("ffmpeg failed")


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

    prepared = prepare(load_routine(args.routine), voice=VoiceSettings(engine=args.engine))
    length_ms = prepared.script.length_ms
    encoder_s, render_s = [], []
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "bench.mp3"
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            encoder_s.append(timed(lambda: encode_silence(length_ms, output)))
            render_s.append(timed(lambda: render(prepared.script, prepared.clips, output)))
    encoder, rendered = statistics.median(encoder_s), statistics.median(render_s)
    print(f"track     {length_ms / 60000:.1f} min, {len(prepared.script.events)} events")
    speed = length_ms / 1000 / encoder
    print(f"encoder   median {encoder:.2f} s over {args.runs} runs ({speed:.0f}x real time)")
    print(f"render    median {rendered:.2f} s over {args.runs} runs")
    print(f"ratio     render / encoder = {rendered / encoder:.2f}")


if __name__ == "__main__":
    main()
