"""The local pool when its workers die: every job still gets its result, nothing hangs,
and a terminated job cleans up after itself. Each run is a child process in a group of
its own, bounded in time and killed whole afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("pool_stress.py")


def _run(*args: str, timeout_s: float) -> str:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        output = ""
        pytest.fail(f"the pool hung: pool_stress.py {' '.join(args)} ran past {timeout_s} s")
    finally:
        try:  # the child's pool workers too, whatever state they were left in
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    assert process.returncode == 0, output
    return output


def test_a_worker_killed_at_any_moment_never_hangs_the_pool() -> None:
    # A worker killed between jobs may hold a lock of the pool's queues for good; the
    # pool's other worker must then end when told to, not wait on that lock for ever.
    assert "30 rounds" in _run("kill", "30", timeout_s=240)


def test_a_terminated_job_cleans_up_and_runs_again_elsewhere(tmp_path: Path) -> None:
    assert "done" in _run("terminate", str(tmp_path), timeout_s=120)
    started = sorted(p.stem for p in tmp_path.glob("0-*.started"))
    cleaned = sorted(p.stem for p in tmp_path.glob("0-*.cleaned"))
    assert len(started) == 2, started  # once terminated, once to its end
    assert cleaned == started  # the terminated run's finally ran too
