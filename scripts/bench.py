"""Build speed and memory against the MP3 encoder's own, measured side by side.

    python scripts/bench.py [--runs 3] [--cold-runs 3] [--quick | --cold | --program-only | --batch]

The floor is one ffmpeg encoding the finished track's own PCM, read from a file, with
the same settings as a build (filter, codec, bitrate): the encoder's own speed. On
several cores a voice-only build encodes its parts side by side and can beat it.
Each case runs as a user runs it (``python -m workout_audio ...``, a fresh process)
after a warm-up, interleaved with its floor so both see the same machine load:

  warm            the seed routine, speech cached                 <= 1.10 x floor (mono)
  music           the same with a generated 3-minute music bed    <= 1.15 x floor (stereo)
  variants x4     15m,20m,30m,45m from a warm cache               <= 4.50 x floor (mono)
  script          `script` of the seed, warm                      <= 0.5 s
  2-hour          a generated 2-hour routine, warm                 peak memory <= 1.2 x warm's
  cold            the seed with an empty speech cache (piper)      <= 1.50 x piper
  piper           piper's own inference for the phrases cold made
  program         the 27-session Couch to 5K program, warm, into   <= 0.8 x the sum of its
                  an empty folder (`program build`, both cores)    tracks' floors
  program again   the same with nothing changed (all skipped)      <= 2 s
                  (scripts/bench_speech.py compares 1 and 2 synthesis workers)

The cold build and piper's inference alternate, each run with an empty cache folder:
"piper" is the sum, in one fresh process with the voice loaded, of the time piper takes
to speak each phrase the build made (the phrases read back from its cache).

--batch measures, instead, `batch` of 24 personalised one-minute tracks, warm (--force):

  batch x1        on a local pool of 1 worker                      against 24 x its floor
  batch x2        on a local pool of 2 workers                     reported
  batch dask x2   on `dask scheduler` + 2 `dask worker`s, loopback <= 1.10 x batch x2

Peak memory is the largest sum of RSS over the build's whole process tree (our
process, every ffmpeg, speech workers), sampled every 20 ms. Targets: warm <= 120 MB,
music <= 160 MB. PSS is shown beside it: RSS counts the code two encoders share twice.
Medians, minima and maxima are printed as a table and written to
build/bench.json; the exit status is 1 when a target is missed. Machines here are
shared and noisy: quote medians and ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from workout_audio import EncodeSettings, Routine, load_program, load_routine, prepare
from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.audio.loudness import measure_file
from workout_audio.audio.music import check_music
from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.encode.track_loudness import encoder_levels
from workout_audio.encode.voice_track import voice_pcm
from workout_audio.settings import MusicSettings, VoiceSettings

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "routines" / "runners-total-body.yaml"
C25K = ROOT / "programs" / "couch-to-5k.yaml"
SAMPLE_S = 0.02
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Case:
    """One measured thing: wall times and peak tree memory of its runs."""

    name: str
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    peak_pss_mb: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)  # user + system, whole tree

    def row(self) -> dict[str, float | str]:
        return {
            "case": self.name,
            "median_s": statistics.median(self.seconds),
            "median_cpu_s": statistics.median(self.cpu_seconds) if self.cpu_seconds else 0.0,
            "min_s": min(self.seconds),
            "max_s": max(self.seconds),
            "peak_mb": max(self.peak_mb) if self.peak_mb else 0.0,
            "peak_pss_mb": max(self.peak_pss_mb) if self.peak_pss_mb else 0.0,
        }


def _tree_memory_bytes(root: int) -> tuple[int, int]:
    """RSS and PSS summed over ``root`` and its descendants (walked through /proc's children
    lists). RSS counts pages shared between processes (ffmpeg's code, run twice) in each;
    PSS splits them between their sharers: the memory the tree takes from the machine."""
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                rss += int(statm.read().split()[1]) * PAGE_BYTES
            with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
                for line in rollup:
                    if line.startswith(b"Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", "rb") as children:
                    todo += [int(child) for child in children.read().split()]
        except (OSError, ValueError, IndexError):
            continue  # it ended while we looked
    return rss, pss


def run(command: list[str], case: Case) -> None:
    """Run ``command`` to the end, timing it and sampling its process tree's memory."""
    started = time.perf_counter()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    peak = peak_pss = 0
    try:
        while child.poll() is None:
            rss, pss = _tree_memory_bytes(child.pid)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            time.sleep(SAMPLE_S)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    case.seconds.append(time.perf_counter() - started)
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    case.cpu_seconds.append(now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime)
    case.peak_mb.append(peak / 1e6)
    case.peak_pss_mb.append(peak_pss / 1e6)
    if child.returncode != 0:
        sys.exit(
            f"{' '.join(command)} failed: {child.stderr.read().decode() if child.stderr else ''}"
        )


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "workout_audio", *args]


def floor_command(pcm: Path, channels: int, audio_filter: str, output: Path) -> list[str]:
    """The encoder alone on the track's own PCM, with the build's settings."""
    bitrate = EncodeSettings().bitrate_for(channels)
    return [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", str(channels), "-i", str(pcm),
        "-af", audio_filter, "-c:a", "libmp3lame", "-b:a", f"{bitrate}k",
        "-f", "mp3", str(output),
    ]  # fmt: skip


def music_bed(folder: Path) -> Path:
    """Three minutes of music-like sound: two notes over pink noise, in stereo."""
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


def two_hour_routine(folder: Path) -> Path:
    """The seed's blocks four times over, without a target length: about two hours."""
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    data.pop("length", None)
    blocks = data["blocks"]
    data["blocks"] = [
        {**block, "name": f"{block['name']} {lap}"} for lap in range(1, 5) for block in blocks
    ]
    path = folder / "two-hours.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def track_pcm(
    routine: Path | Routine,
    cache: Path,
    folder: Path,
    music: Path | None,
    length_ms: int | None = None,
) -> tuple[Path, int, str]:
    """The finished track's PCM in a file (what the floor encodes), its channels and the
    build's filter in front of the encoder."""
    loaded = load_routine(routine) if isinstance(routine, Path) else routine
    prepared = prepare(
        loaded, voice=VoiceSettings(engine="piper"), length_ms=length_ms, cache_dir=cache
    )
    mix = check_music(MusicSettings(source=music), cache / "music") if music else None
    pieces = voice_pcm(prepared.script, prepared.clips, prepared.tones)
    channels = 1
    if mix is not None:
        from workout_audio.audio.mix import MUSIC_CHANNELS, mixed_pcm

        pieces, channels = mixed_pcm(pieces, prepared.script, mix), MUSIC_CHANNELS
    path = folder / f"{Path(loaded.path).stem}-{channels}.pcm"
    with path.open("wb") as out:
        for piece in pieces:
            out.write(piece)
    levels = encoder_levels(
        prepared.script, prepared.clips, EncodeSettings(), mix, prepared.profiles, prepared.tones
    )
    return path, channels, levels.filter


Timed = Callable[["Case | None"], None]


DUCK_TEST_HZ = 13_000  # a tone nothing in the voice's chain has


def sound_report(out: Path, speech: list[str], folder: Path) -> dict[str, float]:
    """What the seed's tracks sound like: loudness and true peak with and without music, and
    how far a steady 13 kHz tone under the voice dips during speech (median and least)."""
    import numpy as np

    report = {}
    for label, name in (("voice", "seed.mp3"), ("music", "seed-music.mp3")):
        measured = measure_file(out / name)
        report[f"{label}: integrated LUFS"] = measured.integrated_lufs
        report[f"{label}: true peak dBTP"] = measured.true_peak_dbtp
    bed = folder / "tone.flac"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={DUCK_TEST_HZ}:duration=2400", "-ac", "2", str(bed)],
        check=True,
    )  # fmt: skip
    ducked = out / "ducked.mp3"
    run(cli("build", str(SEED), "-o", str(ducked), "--music", str(bed), *speech), Case("tone"))
    script = json.loads(
        subprocess.run(
            cli("script", str(SEED), "--format", "json", *speech),
            capture_output=True, check=True, cwd=ROOT,
        ).stdout
    )  # fmt: skip
    pcm = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(ducked), "-ac", "1", "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)

    def tone_db(start_s: float, end_s: float) -> float:
        window = samples[int(start_s * SAMPLE_RATE_HZ) : int(end_s * SAMPLE_RATE_HZ)]
        spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
        near = np.abs(np.fft.rfftfreq(len(window), 1 / SAMPLE_RATE_HZ) - DUCK_TEST_HZ) < 40
        return 20 * float(np.log10(max(spectrum[near].max(), 1e-9) / len(window)))

    events = script["events"]
    open_db = statistics.median(
        tone_db(a["end_s"] + 1.5, b["start_s"] - 1.0)
        for a, b in itertools.pairwise(events)
        if b["start_s"] - a["end_s"] > 4 and a["end_s"] > 5
    )
    dips = [
        open_db - tone_db(e["start_s"], e["end_s"])
        for e in events
        if e["kind"] == "speech" and e["end_s"] - e["start_s"] > 0.5
    ]
    report["music dip under speech, median dB"] = statistics.median(dips)
    report["music dip under speech, least dB"] = min(dips)
    return report


def program_case(folder: Path, cache: Path, runs: int, case: Callable[[str], Case]) -> None:
    """The Couch to 5K program into an empty folder from a warm cache, against the sum of its
    27 tracks' floors (each encoded alone, one after another), then a rebuild that skips all."""
    out = folder / "c25k"
    build = cli("program", "build", str(C25K), "-o", str(out), "--engine", "piper",
                "--cache-dir", str(cache))  # fmt: skip
    run(build, Case("setup"))  # fills the speech cache
    floors = case("program floors")
    total_s = 0.0
    for session in load_program(C25K).sessions:
        pcm, channels, gain_db = track_pcm(session.routine, cache, folder, None, session.length_ms)
        one = Case("floor")
        run(floor_command(pcm, channels, gain_db, folder / "floor.mp3"), one)
        total_s += one.seconds[0]
        pcm.unlink()
    floors.seconds.append(total_s)
    floors.peak_mb.append(0.0)
    floors.peak_pss_mb.append(0.0)
    for _ in range(runs):
        shutil.rmtree(out)
        run(build, case("program"))
        run(build, case("program again"))


def interleaved(runs: int, pairs: list[tuple[Timed, Timed]]) -> None:
    """Each pair once as a warm-up (not counted: it fills the page cache), then ``runs``
    times, pairs interleaved so that both of a pair see the same load."""
    for first, second in pairs:
        first(Case("warm-up"))
        second(Case("warm-up"))
    for _ in range(runs):
        for first, second in pairs:
            first(None)
            second(None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="warm and music cases only")
    parser.add_argument(
        "--program-only", action="store_true", help="the Couch to 5K program case only"
    )
    parser.add_argument("--program-runs", type=int, default=1)
    parser.add_argument("--batch", action="store_true", help="the batch cases only")
    parser.add_argument("--cold", action="store_true", help="the cold build and piper only")
    args = parser.parse_args()
    if args.cold:
        return _report(cold_cases(args.cold_runs), {}, args.cold_runs)
    if args.batch:
        return batch_bench(args.runs)
    cases: dict[str, Case] = {}

    def case(name: str) -> Case:
        return cases.setdefault(name, Case(name))

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cache = folder / "cache"
        out = folder / "out"
        out.mkdir()
        if args.program_only:
            program_case(folder, cache, args.program_runs, case)
            return _report(cases, {}, args.program_runs)
        music = music_bed(folder)
        speech = ["--engine", "piper", "--cache-dir", str(cache)]
        warm = cli("build", str(SEED), "-o", str(out / "seed.mp3"), *speech)
        mixed = cli(
            "build", str(SEED), "-o", str(out / "seed-music.mp3"), "--music", str(music), *speech
        )
        run(warm, Case("setup"))  # fills the speech cache
        mono_pcm, _, mono_filter = track_pcm(SEED, cache, folder, None)
        stereo_pcm, _, stereo_filter = track_pcm(SEED, cache, folder, music)
        mono_floor = floor_command(mono_pcm, 1, mono_filter, out / "floor.mp3")
        stereo_floor = floor_command(stereo_pcm, 2, stereo_filter, out / "floor2.mp3")

        def timing(command: list[str] | None, name: str) -> Callable[[Case | None], None]:
            def measure(into: Case | None) -> None:
                if command is not None:
                    run(command, into or case(name))

            return measure

        pairs = [
            (timing(mono_floor, "floor"), timing(warm, "warm")),
            (timing(stereo_floor, "floor stereo"), timing(mixed, "music")),
        ]
        if not args.quick:
            variants = cli(
                "variants", str(SEED), "--lengths", "15m,20m,30m,45m", "-o", str(out), *speech
            )
            script = cli("script", str(SEED), "--format", "json", *speech)
            long_routine = two_hour_routine(folder)
            run(
                cli("build", str(long_routine), "-o", str(out / "long.mp3"), *speech), Case("setup")
            )
            long = cli("build", str(long_routine), "-o", str(out / "long.mp3"), *speech)
            pairs += [
                (timing(variants, "variants x4"), timing(script, "script")),
                (timing(long, "2-hour"), timing(None, "")),
            ]
        interleaved(args.runs, pairs)
        if not args.quick:
            cases.update(cold_cases(args.cold_runs))
            program_case(folder, cache, args.program_runs, case)
        sound = sound_report(out, speech, folder)
    return _report(cases, sound, args.runs)


# Run in a fresh process: piper's inference alone, the voice loaded and warmed first.
PIPER_INFERENCE = """
import json, sys, time
from workout_audio.settings import VoiceSettings
from workout_audio.speech.registry import PiperEngine, make_engine
texts = json.load(sys.stdin)
engine = make_engine(PiperEngine, VoiceSettings(engine="piper"), sys.argv[1])
engine.synthesize(texts[0])
total_s = cpu_s = 0.0
for text in texts:
    started, cpu = time.perf_counter(), time.process_time()
    engine.synthesize(text)
    total_s += time.perf_counter() - started
    cpu_s += time.process_time() - cpu
print(total_s, cpu_s)
"""


def cold_cases(runs: int) -> dict[str, Case]:
    """The seed built with an empty speech cache, and piper's inference for the phrases it
    made, alternately, ``runs`` times each."""
    from workout_audio.speech.cache import decode_entry

    cold, piper = Case("cold"), Case("piper")
    language = load_routine(SEED).language
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            run(
                cli(
                    "build", str(SEED), "-o", str(folder / "cold.mp3"), "--engine", "piper",
                    "--cache-dir", str(folder / "cache"),
                ),
                cold,
            )  # fmt: skip
            texts = sorted(
                str(decode_entry(entry.read_bytes())[1]["text"])
                for entry in (folder / "cache").glob("speech/*/*.wav")
            )
        inference = subprocess.run(
            [sys.executable, "-c", PIPER_INFERENCE, language],
            input=json.dumps(texts).encode(), capture_output=True, check=True, cwd=ROOT,
        )  # fmt: skip
        wall_s, cpu_s = (float(value) for value in inference.stdout.split())
        piper.seconds.append(wall_s)
        piper.cpu_seconds.append(cpu_s)
        print(
            f"cold build {cold.seconds[-1]:.2f} s ({cold.cpu_seconds[-1]:.2f} CPU-s); "
            f"piper {wall_s:.2f} s ({cpu_s:.2f} CPU-s)",
            flush=True,
        )
    return {"cold": cold, "piper": piper}


def _report(cases: dict[str, Case], sound: dict[str, float], runs: int) -> int:
    rows = {name: c.row() for name, c in cases.items()}
    targets = _targets(rows)
    _print(rows, targets, runs)
    for what, value in sound.items():
        print(f"     {what:<34}{value:>8.1f}")
    report = ROOT / "build" / "bench.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(
        json.dumps(
            {"runs": runs, "cases": list(rows.values()), "targets": targets, "sound": sound},
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"wrote {report.relative_to(ROOT)}")
    return 0 if all(t["met"] for t in targets) else 1


BATCH_TRACKS = 24
BATCH_ROUTINE = """\
name: Quick Core
timing:
  rep: 2s
  rest: {exercise: 5s, round: 8s, block: 10s}
blocks:
  - name: Core
    rounds: 2
    exercises:
      - {name: Plank, time: 8s}
      - {name: Squat, reps: 2}
"""  # about a minute with the offline voice
BATCH_NAMES = (
    "Maria Luis Ana Jonas Emma Noah Mia Lucas Sofia Liam Lea Paul Nora Tim Ida Jan Eva Max "
    "Lina Ben Zoe Finn Clara Hugo"
).split()


def batch_bench(runs: int) -> int:
    """The batch cases: 24 tracks a run on 1 and 2 local workers and a 2-worker Dask cluster."""
    cases: dict[str, Case] = {}

    def case(name: str) -> Case:
        return cases.setdefault(name, Case(name))

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cache = folder / "cache"
        routine = folder / "core.yaml"
        routine.write_text(BATCH_ROUTINE, encoding="utf-8")
        manifest = folder / "members.csv"
        manifest.write_text(
            "routine,output,engine,name\n"
            + "".join(f"core.yaml,out/{n}.mp3,piper,{n}\n" for n in BATCH_NAMES[:BATCH_TRACKS]),
            encoding="utf-8",
        )
        batch = cli("batch", str(manifest), "--cache-dir", str(cache), "--force")
        run(batch, Case("setup"))  # fills the speech cache
        pcm, _, gain = track_pcm(routine, cache, folder, None)
        floor = floor_command(pcm, 1, gain, folder / "floor.mp3")
        with dask_cluster(folder, workers=2) as address:

            def timing(command: list[str], name: str) -> Timed:
                return lambda into: run(command, into or case(name))

            interleaved(
                runs,
                [
                    (
                        timing(floor, "floor (one track)"),
                        timing([*batch, "--jobs", "1"], "batch x1"),
                    ),
                    (
                        timing([*batch, "--jobs", "2"], "batch x2"),
                        timing([*batch, "--scheduler", address], "batch dask x2"),
                    ),
                ],
            )
    rows = {name: c.row() for name, c in cases.items()}

    def median(name: str) -> float:
        return float(rows[name]["median_s"])

    per_track = median("batch x1") / BATCH_TRACKS
    checks = [
        (
            "batch x1 / 24 floors",
            median("batch x1") / (BATCH_TRACKS * median("floor (one track)")),
            None,
        ),
        ("batch x2 / batch x1", median("batch x2") / median("batch x1"), None),
        ("batch dask x2 / batch x2", median("batch dask x2") / median("batch x2"), 1.10),
    ]
    targets = [
        {"target": what, "value": round(value, 3), "at_most": limit,
         "met": limit is None or value <= limit}
        for what, value, limit in checks
    ]  # fmt: skip
    _print(rows, targets, runs)
    print(f"     tracks per core-hour (one worker): {3600 / per_track:,.0f}")
    report = ROOT / "build" / "bench-batch.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(
        json.dumps({"runs": runs, "cases": list(rows.values()), "targets": targets}, indent=2),
        encoding="utf-8",
    )
    print(f"wrote {report.relative_to(ROOT)}")
    return 0 if all(t["met"] for t in targets) else 1


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int) -> Iterator[str]:
    """``dask scheduler`` and ``workers`` one-thread ``dask worker``s on loopback; the address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    log = (folder / "dask.log").open("wb")
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", str(port), "--no-dashboard"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    ]  # fmt: skip
    try:
        for _ in range(workers):
            started.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "distributed.cli.dask_worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--no-nanny",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _targets(rows: dict[str, dict[str, float | str]]) -> list[dict[str, object]]:
    def median(name: str) -> float:
        return float(rows[name]["median_s"])

    def peak(name: str) -> float:
        return float(rows[name]["peak_mb"])

    checks: list[tuple[str, float, float]] = []
    if "warm" in rows:
        checks += [
            ("warm / floor", median("warm") / median("floor"), 1.10),
            ("music / stereo floor", median("music") / median("floor stereo"), 1.15),
            ("warm peak MB", peak("warm"), 120.0),
            ("music peak MB", peak("music"), 160.0),
        ]
    if "variants x4" in rows:
        checks += [
            ("variants x4 / floor", median("variants x4") / median("floor"), 4.5),
            ("script s", median("script"), 0.5),
            ("2-hour peak / warm peak", peak("2-hour") / peak("warm"), 1.2),
        ]
    return [
        {"target": what, "value": round(value, 3), "at_most": limit, "met": value <= limit}
        for what, value, limit in checks
    ]


def _print(
    rows: dict[str, dict[str, float | str]], targets: list[dict[str, object]], runs: int
) -> None:
    print(
        f"{'case':<22}{'median s':>10}{'min s':>9}{'max s':>9}{'peak MB':>10}{'PSS MB':>9}"
        f"   ({runs} runs)"
    )
    for row in rows.values():
        print(
            f"{row['case']:<22}{row['median_s']:>10.2f}{row['min_s']:>9.2f}"
            f"{row['max_s']:>9.2f}{row['peak_mb']:>10.0f}{row['peak_pss_mb']:>9.0f}"
        )
    print()
    for target in targets:
        mark = "ok  " if target["met"] else "MISS"
        limit = f"at most {target['at_most']}" if target["at_most"] is not None else "reported"
        print(f"{mark} {target['target']:<26}{target['value']:>9} ({limit})")


if __name__ == "__main__":
    sys.exit(main())
