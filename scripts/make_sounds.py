"""Make the alternative sound set in sounds/: a wood block, a whistle, a bell, a chime, a click.

Each sound is synthesised here from sine partials, decays and a little seeded
noise, so the files are reproducible, free of anyone's copyright, and as long
as the slot the track gives them (workout_audio.timeline.script.TONE_MS).

    .venv/bin/python scripts/make_sounds.py            # writes sounds/*.wav
    .venv/bin/python scripts/make_sounds.py -o DIR     # somewhere else
"""

from __future__ import annotations

import argparse
import math
import random
import wave
from array import array
from collections.abc import Callable
from pathlib import Path

from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.timeline.script import TONE_MS

ROOT = Path(__file__).resolve().parent.parent
PEAK = 0.85  # of full scale; the build levels every sound to its tone's own peak anyway

Wave = Callable[[float], float]  # seconds -> sample in -1..1


def partials(*parts: tuple[float, float, float]) -> Wave:
    """Sum of sines, each (frequency Hz, amplitude, decay per second)."""
    return lambda t: sum(a * math.exp(-d * t) * math.sin(2 * math.pi * f * t) for f, a, d in parts)


def wood_block(t: float) -> float:  # countdown beep: a short, dry knock
    return partials((1150, 1.0, 38), (2330, 0.45, 60), (3700, 0.2, 90))(t)


def whistle(t: float) -> float:  # work begins: a referee's trill
    trill = 1 + 0.012 * math.sin(2 * math.pi * 32 * t)
    tone = math.sin(2 * math.pi * 2850 * t * trill) + 0.25 * math.sin(2 * math.pi * 5700 * t)
    breath = 0.08 * (random.random() * 2 - 1)
    attack = min(1.0, t / 0.015)
    return attack * (tone + breath) * (1 if t < 0.38 else math.exp(-(t - 0.38) * 40))


def bell(t: float) -> float:  # work ends: a boxing-ring bell, struck twice
    strike = partials((1046, 1.0, 5), (2093, 0.5, 8), (2637, 0.35, 11), (3520, 0.2, 15))
    return strike(t) + (0.8 * strike(t - 0.28) if t >= 0.28 else 0.0)


def chime(t: float) -> float:  # a rest begins: three soft falling notes
    notes = [(0.0, 1319), (0.18, 1047), (0.36, 784)]
    return sum(
        partials((f, 1.0, 6), (2 * f, 0.2, 12))(t - start) for start, f in notes if t >= start
    )


def click(t: float) -> float:  # each rep: a soft click
    return partials((2500, 1.0, 250), (5200, 0.4, 400))(t)


SOUNDS: dict[str, tuple[str, Wave]] = {
    "beep": ("wood-block", wood_block),
    "start": ("whistle", whistle),
    "end": ("bell", bell),
    "rest": ("chime", chime),
    "tick": ("click", click),
}


def render(sound: Wave, duration_ms: int) -> array:
    count = duration_ms * SAMPLE_RATE_HZ // 1000
    samples = [sound(i / SAMPLE_RATE_HZ) for i in range(count)]
    fade = min(count, SAMPLE_RATE_HZ // 200)  # 5 ms: no click at the end of the slot
    for i in range(fade):
        samples[count - 1 - i] *= i / fade
    peak = max(abs(s) for s in samples) or 1.0
    return array("h", (round(s / peak * PEAK * 32767) for s in samples))


def write_wav(path: Path, samples: array) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE_HZ)
        out.writeframes(samples.tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output-dir", type=Path, default=ROOT / "sounds")
    folder = parser.parse_args().output_dir
    folder.mkdir(parents=True, exist_ok=True)
    random.seed(9)  # the whistle's breath noise: the same files every run
    for tone, (name, sound) in SOUNDS.items():
        path = folder / f"{name}.wav"
        write_wav(path, render(sound, TONE_MS[tone]))
        print(f"{path}  ({tone}, {TONE_MS[tone]} ms)")


if __name__ == "__main__":
    main()
