"""Batch builds for real: a manifest of 8 tracks in English (piper) and Spanish (espeak) at
two lengths, on a local process pool, a Dask LocalCluster, and a Dask scheduler with two
workers started as their own processes on loopback. Every track is exact in length and
byte for byte what ``build`` makes alone; a worker killed mid-batch changes nothing."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import decoded, run_cli
from workout_audio import build
from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.batch import (
    DaskExecutor,
    ItemResult,
    LocalExecutor,
    load_manifest,
    run_batch,
)
from workout_audio.settings import VoiceSettings

pytestmark = pytest.mark.slow

ROUTINE = """\
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
"""
# Under a minute, so ``build`` alone encodes each whole, as a batch does.
ITEMS = [
    (language, engine, length, name)
    for language, engine in (("en", "piper"), ("es", "espeak"))
    for length in ("40s", "50s")
    for name in ("Maria", "Luis")
]
CSV = "routine,output,language,engine,length,name,sidecars\n" + "".join(
    f"core.yaml,out/{lang}-{length}-{name}.mp3,{lang},{engine},{length},{name},lrc\n"
    for lang, engine, length, name in ITEMS
)


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory, speech_cache: Path) -> dict[str, bytes]:
    """Each track as ``build`` makes it alone, by output name."""
    folder = tmp_path_factory.mktemp("alone")
    (folder / "core.yaml").write_text(ROUTINE, encoding="utf-8")
    made = {}
    for language, engine, length, name in ITEMS:
        output = folder / f"{language}-{length}-{name}.mp3"
        build(
            folder / "core.yaml", output, length=length, sidecars="lrc", cache_dir=speech_cache,
            voice=VoiceSettings(engine=engine, language=language, listener_name=name),
        )  # fmt: skip
        made[output.name] = output.read_bytes()
    return made


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    (tmp_path / "core.yaml").write_text(ROUTINE, encoding="utf-8")
    path = tmp_path / "members.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def _check_tracks(manifest: Path, references: dict[str, bytes]) -> None:
    """Every track there, exact in length, the same bytes as ``build`` alone; no part files."""
    out = manifest.parent / "out"
    assert sorted(p.name for p in out.glob("*.mp3")) == sorted(references)
    for language, _, length, name in ITEMS:
        track = out / f"{language}-{length}-{name}.mp3"
        assert track.read_bytes() == references[track.name], track.name
    for length in ("40s", "50s"):  # the length, to the sample, as a decoder gives it back
        track = out / f"es-{length}-Luis.mp3"
        assert len(decoded(track)) == int(length[:-1]) * SAMPLE_RATE_HZ
    assert not [p for p in out.iterdir() if ".part" in p.name]


def test_a_local_pool_builds_every_track_as_build_would_even_when_a_worker_dies(
    manifest: Path, references: dict[str, bytes], speech_cache: Path
) -> None:
    killed: list[int] = []

    def kill_a_worker(result: ItemResult, done: int, total: int) -> None:
        if not killed:  # the pool's other worker is mid-track: its track is built again
            victim = multiprocessing.active_children()[0]
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    report = run_batch(
        load_manifest(manifest), LocalExecutor(2), cache_dir=speech_cache, on_item=kill_a_worker
    )
    assert killed
    assert [item.status for item in report.items] == ["built"] * len(ITEMS), report.items
    _check_tracks(manifest, references)

    # A rerun finds every item up to date; a changed routine builds them again.
    again = run_batch(load_manifest(manifest), LocalExecutor(2), cache_dir=speech_cache)
    assert {item.status for item in again.items} == {"up to date"}
    (manifest.parent / "out" / "en-40s-Maria.lrc").unlink()
    once_more = run_batch(load_manifest(manifest), LocalExecutor(1), cache_dir=speech_cache)
    assert [item.status for item in once_more.items].count("built") == 1


def test_a_dask_cluster_gives_the_same_bytes_and_survives_a_killed_worker(
    manifest: Path, references: dict[str, bytes], speech_cache: Path
) -> None:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1",
        dashboard_address=None,
    )  # fmt: skip
    try:
        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
            killed: list[int] = []

            def kill_a_worker(result: ItemResult, done: int, total: int) -> None:
                if not killed:
                    os.kill(pids[0], signal.SIGKILL)  # its nanny starts another
                    killed.append(pids[0])

            executor = DaskExecutor(client)
            assert executor.workers == 2
            report = run_batch(
                load_manifest(manifest), executor, cache_dir=speech_cache, on_item=kill_a_worker
            )
        assert killed
        assert [item.status for item in report.items] == ["built"] * len(ITEMS), report.items
        assert report.executor == "dask"
        _check_tracks(manifest, references)
    finally:
        cluster.close(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL: never only SIGINT, which the suite may have ignored."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[str]:
    """``dask scheduler`` and two ``dask worker`` processes on loopback; the address."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> None:
        with (logs / f"{name}.log").open("wb") as log:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", *args],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    try:
        start("scheduler", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
              "--port", str(port), "--no-dashboard")  # fmt: skip
        for worker in ("a", "b"):
            start(f"worker-{worker}", "distributed.cli.dask_worker", address, "--host",
                  "127.0.0.1", "--nthreads", "1", "--no-dashboard", "--no-nanny")  # fmt: skip
        _wait_for_workers(address, 2, logs)
        yield address
    finally:
        for process in reversed(started):
            _stop(process)


def _wait_for_workers(address: str, count: int, logs: Path) -> None:
    from distributed import Client

    deadline = time.monotonic() + 60
    with Client(address, timeout="30s") as client:
        while len(client.scheduler_info()["workers"]) < count:
            if time.monotonic() > deadline:
                shown = {p.name: p.read_text()[-2000:] for p in logs.iterdir()}
                pytest.fail(f"the Dask workers did not join: {shown}")
            time.sleep(0.2)


def test_the_command_runs_on_a_dask_scheduler_and_its_workers(
    manifest: Path, references: dict[str, bytes], speech_cache: Path, dask_processes: str
) -> None:
    report_path = manifest.parent / "report.json"
    done = run_cli(
        "batch", str(manifest), "--scheduler", dask_processes, "--cache-dir", str(speech_cache),
        "--report", str(report_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "8 built" in done.stdout
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert [item["status"] for item in report["items"]] == ["built"] * len(ITEMS)
    assert report["items"][0]["where"] == f"{manifest}:2"
    _check_tracks(manifest, references)


def test_a_failing_item_does_not_stop_the_others(manifest: Path, speech_cache: Path) -> None:
    (manifest.parent / "noise.mp3").write_bytes(b"not audio at all" * 100)  # found, not audio
    manifest.write_text(
        "routine,output,engine,length,music\n"
        "core.yaml,out/ok.mp3,espeak,40s,\n"
        "core.yaml,out/bad.mp3,espeak,40s,noise.mp3\n",
        encoding="utf-8",
    )
    report_path = manifest.parent / "report.json"
    done = run_cli(
        "batch", str(manifest), "--jobs", "2", "--cache-dir", str(speech_cache),
        "--report", str(report_path),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert [item["status"] for item in report["items"]] == ["built", "failed"]
    assert "noise.mp3" in report["items"][1]["error"]
    assert "1 built, 1 failed" in done.stdout
    assert (manifest.parent / "out" / "ok.mp3").is_file()
    assert not (manifest.parent / "out" / "bad.mp3").exists()


def test_ctrl_c_keeps_the_finished_tracks_whole_and_says_which(
    manifest: Path, speech_cache: Path, tmp_path: Path
) -> None:
    from helpers import child_env

    out = manifest.parent / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "workout_audio", "batch", str(manifest), "--jobs", "1",
         "--cache-dir", str(speech_cache)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(), text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob(".*.batch-stamp")) and process.poll() is None:
            assert time.monotonic() < deadline, "no track was finished in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        _stop(process)
    assert process.returncode == 130, stderr
    (line,) = [line for line in stderr.splitlines() if line.startswith("interrupted: ")]
    written = sorted(out.glob("*.mp3"))
    assert 1 <= len(written) < len(ITEMS)
    for track in written:
        assert str(track) in line.split("; not written: ")[0]
        length_s = int(track.name.split("-")[1][:-1])
        assert len(decoded(track)) == length_s * SAMPLE_RATE_HZ
    assert not [p for p in out.iterdir() if ".part" in p.name]
