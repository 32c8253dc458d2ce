"""Loudness and true peak as a listener gets them: built tracks, decoded, measured by ffmpeg.

    python scripts/loudness_check.py [--runs 2] [--out build/loudness.json]

Builds the seed routine voice-only, and routines/pyramid-ladder.yaml over two generated
beds (pink noise with a 110 Hz hum; a chord of steady tones) at three settings each
(defaults; ``--music-level -18dB``; ``--music-level -18dB --duck 20dB``). Every run starts
from an empty speech cache. Each finished file is decoded by ffmpeg and measured with its
ebur128 filter (true peak on): the figures a player and a loudness meter see. Beside
them: the loudness the build aimed at, and whether its predicted peaks called for the
limiter in front of the encoder.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from workout_audio import EncodeSettings, load_routine, prepare
from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.audio.music import check_music
from workout_audio.encode.track_loudness import EncoderLevels, encoder_levels
from workout_audio.levels import target_lufs
from workout_audio.settings import MusicSettings, VoiceSettings

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "routines" / "runners-total-body.yaml"
PYRAMID = ROOT / "routines" / "pyramid-ladder.yaml"
BEDS = {
    "pink+hum": "anoisesrc=d=180:c=pink:a=0.2:seed=17[noise];sine=frequency=110:duration=180[hum];"
    "[noise][hum]amix=inputs=2,aformat=channel_layouts=stereo",
    "tones": "sine=frequency=220:duration=180[a];sine=frequency=330:duration=180[b];"
    "sine=frequency=440:duration=180[c];[a][b][c]amix=inputs=3,aformat=channel_layouts=stereo",
}
SETTINGS = {
    "defaults": [],
    "level -18": ["--music-level", "-18dB"],
    "level -18, duck 20": ["--music-level", "-18dB", "--duck", "20dB"],
}
_SUMMARY = re.compile(r"I:\s+(-?[\d.]+|-?inf) LUFS.*?Peak:\s+(-?[\d.]+|-?inf) dBFS", re.S)


def measured(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of ``path`` as ffmpeg decodes it."""
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = _SUMMARY.search(done.stderr[done.stderr.rfind("Summary:") :])
    if match is None:
        raise SystemExit(f"no ebur128 summary for {path}")
    return float(match.group(1)), float(match.group(2))


def bed(folder: Path, name: str) -> Path:
    path = folder / f"{name.replace('+', '-')}.flac"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-filter_complex", BEDS[name], str(path)], check=True
    )
    return path


def build(routine: Path, output: Path, cache: Path, *extra: str) -> None:
    command = [sys.executable, "-m", "workout_audio", "build", str(routine), "-o", str(output),
               "--engine", "piper", "--cache-dir", str(cache), *extra]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)


def levels(routine: Path, cache: Path, extra: list[str]) -> tuple[float, EncoderLevels]:
    """The target and the encoder's levels a build with ``extra`` got (speech cached)."""
    prepared = prepare(load_routine(routine), voice=VoiceSettings(engine="piper"), cache_dir=cache)
    music = None
    if extra:
        flags = dict(zip(extra[::2], extra[1::2], strict=True))
        level, duck = flags.get("--music-level"), flags.get("--duck")
        settings = MusicSettings(
            source=Path(flags["--music"]),
            level_db=float(level.removesuffix("dB")) if level else None,
            duck_db=float(duck.removesuffix("dB")) if duck else None,
        )
        music = check_music(settings, cache / "music")
    options = EncodeSettings()
    found = encoder_levels(
        prepared.script, prepared.clips, options, music, prepared.profiles, prepared.tones
    )
    return target_lufs(options.loudness_lufs, 1 if music is None else 2), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "loudness.json")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        beds = {label: bed(folder, label) for label in BEDS}
        for run in range(1, args.runs + 1):
            cache = folder / f"cache{run}"  # empty at the start of each run
            cases: list[tuple[str, str, Path, list[str]]] = [("seed", "voice only", SEED, [])]
            cases += [
                ("pyramid", f"{label}, {setting}", PYRAMID, ["--music", str(path), *extra])
                for label, path in beds.items()
                for setting, extra in SETTINGS.items()
            ]
            for routine, setting, path, extra in cases:
                output = folder / "out.mp3"
                build(path, output, cache, *extra)
                lufs, peak = measured(output)
                target, found = levels(path, cache, extra)
                limiter = found.limit_dbfs is not None
                rows.append({"run": run, "routine": routine, "setting": setting,
                             "integrated_lufs": lufs, "true_peak_dbtp": peak,
                             "target_lufs": target, "limiter": limiter})  # fmt: skip
                print(
                    f"run {run}  {routine:8} {setting:28} {lufs:7.1f} LUFS {peak:6.1f} dBTP"
                    f"  (target {target:g}; limiter {'on' if limiter else 'off'})"
                )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
