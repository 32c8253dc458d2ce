"""A program built on the batch executor: a Dask cluster gives the very files the local
pool gives, even when one of its workers is killed mid-program; the command takes
``--scheduler`` as ``batch`` does."""

from __future__ import annotations

import os
import shutil
import signal
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import decoded
from workout_audio import prepare
from workout_audio.app.main import app
from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.execution import DaskExecutor
from workout_audio.programs import Session, build_program
from workout_audio.settings import VoiceSettings

BASE = "http://192.0.2.7:8123/plan/"
PIPER = VoiceSettings(engine="piper")
PROGRAM = """\
    name: Three Short Runs
    description: One week, three short sessions.
    session_title: "Week {week}, run {day}"
    defaults: {timing: {flow: continuous}}
    weeks:
      - days: 2
        routine:
          name: Easy
          blocks:
            - {name: Warm-up, exercises: [{name: Walk, time: 15s}]}
            - {name: Main, exercises: [{name: Run, time: 20s}, {name: Walk, time: 10s}]}
      - days:
          - blocks: [{name: Main, exercises: [{name: Run, time: 25s}]}]
"""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(textwrap.dedent(PROGRAM), encoding="utf-8")
    return path


def _files(folder: Path) -> dict[str, bytes]:
    """Every file a listener gets (tracks, transcripts, pictures, feed, pages), by name."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


@pytest.mark.slow
def test_the_local_pool_and_a_dask_cluster_make_the_same_files_though_a_cluster_worker_dies(
    program: Path, tmp_path: Path, speech_cache: Path
) -> None:
    from distributed import Client, LocalCluster

    # A pool worker killed mid-build is tested in test_batch.py; here the two executors'
    # files are compared, with a cluster worker killed.
    killed: list[int] = []
    local = build_program(
        program, tmp_path / "local", base_url=BASE, jobs=2, voice=PIPER, cache_dir=speech_cache
    )
    assert len(local.built) == 3
    for session, done in zip(local.program.sessions, local.sessions, strict=True):
        script = prepare(
            session.routine, voice=PIPER, length_ms=session.length_ms, cache_dir=speech_cache
        ).script
        assert done.duration_ms == script.length_ms  # the track is the script, to the sample
        assert len(decoded(local.folder / done.track)) == script.length_ms * SAMPLE_RATE_HZ // 1000
    cluster = LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1",
        dashboard_address=None,
    )  # fmt: skip
    killed.clear()
    try:
        with Client(cluster) as client:
            pids = client.run(os.getpid)

            def kill_a_busy_worker(session: Session, made: bool) -> None:
                busy = [address for address, keys in client.processing().items() if keys]
                if made and busy and not killed:  # its session is made again on another
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(pids[busy[0]])

            executor = DaskExecutor(client)
            assert executor.workers == 2
            remote = build_program(
                program, tmp_path / "dask", base_url=BASE, executor=executor, voice=PIPER,
                cache_dir=speech_cache, progress=kill_a_busy_worker,
            )  # fmt: skip
    finally:
        cluster.close(timeout=30)
    assert killed, "no session was running when the first one finished"
    assert [s.title for s in remote.built] == ["Week 1, run 1", "Week 1, run 2", "Week 2, run 1"]
    ours, theirs = _files(local.folder), _files(remote.folder)
    assert sorted(theirs) == sorted(ours)
    assert [name for name in ours if name.endswith(".mp3")] == [
        "w01-d1-week-1-run-1.mp3", "w01-d2-week-1-run-2.mp3", "w02-d1-week-2-run-1.mp3",
    ]  # fmt: skip
    for name, data in ours.items():
        assert theirs[name] == data, name  # byte for byte, the feed too
    assert not [p for p in remote.folder.rglob("*") if ".part" in p.name]
    # The cluster's folder is up to date for the local pool, the program named by another
    # path: nothing is made again, and nothing written again (ETag and Last-Modified stay).
    times = {path: path.stat().st_mtime_ns for path in remote.folder.rglob("*")}
    named_otherwise = Path(os.path.relpath(program))  # the same file, named from here
    again = build_program(
        named_otherwise, remote.folder, base_url=BASE, jobs=2, voice=PIPER, cache_dir=speech_cache
    )
    assert again.built == ()
    assert {path: path.stat().st_mtime_ns for path in remote.folder.rglob("*")} == times


def test_the_scheduler_and_jobs_together_are_refused_and_nothing_is_written(
    program: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["program", "build", str(program), "-o", str(out), "--jobs", "2",
         "--scheduler", "tcp://127.0.0.1:9"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "--jobs: the cluster's workers decide; give --jobs or --scheduler" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_length_out_of_reach_is_refused_from_a_worker_and_nothing_is_written(
    program: Path, tmp_path: Path, speech_cache: Path
) -> None:
    """The program's phrases are made on a worker: its refusal comes back as the same one
    line and exit status as a build in this process gives, before any file is written."""
    short = program.with_name("short.yaml")
    short.write_text(program.read_text("utf-8") + "length: 30m\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["program", "build", str(short), "-o", str(out), "--jobs", "1", "--engine", "piper",
         "--cache-dir", str(speech_cache)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        f"error: {short}: cannot make a 30:00 track: this routine can run from about "
        + result.output.split("from about ")[-1].strip()
    ]  # one line, as the routine's own check words it; no second line from the worker
    assert not out.exists()


@pytest.mark.slow
def test_a_sound_file_replaced_in_place_makes_its_session_again(
    tmp_path: Path, speech_cache: Path
) -> None:
    sounds = Path(__file__).resolve().parent.parent / "sounds"
    shutil.copyfile(sounds / "whistle.wav", tmp_path / "go.wav")
    path = tmp_path / "one.yaml"
    path.write_text(
        textwrap.dedent("""\
            name: One Walk
            weeks:
              - days:
                  - title: Walk
                    timing: {flow: continuous}
                    sounds: {start: go.wav}
                    blocks: [{name: Main, exercises: [{name: Walk, time: 10s}]}]
        """),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    first = build_program(path, out, voice=PIPER, jobs=1, cache_dir=speech_cache)
    track = out / first.sessions[0].track
    before = track.read_bytes()
    assert build_program(path, out, voice=PIPER, jobs=1, cache_dir=speech_cache).built == ()
    shutil.copyfile(sounds / "bell.wav", tmp_path / "go.wav")  # same name, another sound
    again = build_program(path, out, voice=PIPER, jobs=1, cache_dir=speech_cache)
    assert [s.title for s in again.built] == ["Walk"]
    assert track.read_bytes() != before
