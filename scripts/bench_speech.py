"""Speech synthesis of the seed routine: piper with 1 vs 2 workers, and gTTS requests.

    python scripts/bench_speech.py [--runs 3]

piper: cold synthesis of every phrase of routines/runners-total-body.yaml into a
fresh cache, with 1 and with 2 worker processes, interleaved; medians are printed.
gTTS: requests sent by a cold and a warm build against the local stand-in for
Google's endpoint that the tests use (tests/gtts_stub.py); no network is needed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import gtts.tts  # noqa: E402

from gtts_stub import GttsStub, google_like_clips  # noqa: E402
from workout_audio import build, load_routine, script_phrases  # noqa: E402
from workout_audio.settings import VoiceSettings  # noqa: E402
from workout_audio.speech import (  # noqa: E402
    SpeechCache,
    choose_engine,
    synthesize_phrases,
)

SEED = ROOT / "routines" / "runners-total-body.yaml"


def piper_cold_s(workers: int) -> tuple[float, int, int]:
    routine = load_routine(SEED)
    phrases = script_phrases(routine)
    engine, _ = choose_engine(VoiceSettings(engine="piper"), "en")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        clips = synthesize_phrases(engine, phrases, SpeechCache(Path(folder)), workers=workers)
        took_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(folder).rglob("*.wav"))
    return took_s, len(clips), size


def gtts_requests() -> None:
    routine = load_routine(SEED)
    with tempfile.TemporaryDirectory() as folder, GttsStub(google_like_clips()) as stub:
        gtts.tts._translate_url = stub.url
        for run in ("cold", "warm"):
            before, started = stub.count, time.perf_counter()
            gtts_voice = VoiceSettings(engine="gtts")
            output = Path(folder) / f"{run}.mp3"
            built = build(routine, output, voice=gtts_voice, cache_dir=Path(folder) / "c")
            phrases = len({event.text for event in built.script.events if event.text})
            print(f"gtts {run}: {stub.count - before} requests for {phrases} "
                  f"phrases, {time.perf_counter() - started:.1f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.runs):
        for workers in times:
            took_s, phrases, size = piper_cold_s(workers)
            times[workers].append(took_s)
    for workers, runs in times.items():
        print(f"piper cold, {workers} worker(s): median {statistics.median(runs):.1f} s "
              f"over {args.runs} runs ({phrases} phrases, cache {size / 1e6:.1f} MB)")  # fmt: skip
    print(f"ratio 1 / 2 workers = {statistics.median(times[1]) / statistics.median(times[2]):.2f}")
    gtts_requests()


if __name__ == "__main__":
    main()
