"""A local pool whose workers die mid-run, run by test_executors.py in a process group of
its own so that a hang is bounded and everything it started is killed afterwards.

    python pool_stress.py kill ROUNDS       # SIGKILL a worker as the first result arrives
    python pool_stress.py terminate FOLDER  # SIGTERM a worker in the middle of a job
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

from workout_audio.execution import LocalExecutor

JOBS = 8


def square(index: int) -> int:
    time.sleep(random.random() * 0.2)  # results arrive in every order
    return index * index


def kill_rounds(rounds: int) -> None:
    """Each round kills one worker while the other is busy or between jobs."""
    for _ in range(rounds):
        killed: list[int] = []

        def kill_one(index: int, result: object, killed: list[int] = killed) -> None:
            if not killed:
                victim = multiprocessing.active_children()[0]
                assert victim.pid is not None
                os.kill(victim.pid, signal.SIGKILL)
                killed.append(victim.pid)

        results = LocalExecutor(2).run(square, [(i,) for i in range(JOBS)], kill_one)
        assert results == [i * i for i in range(JOBS)], results
        assert killed
    print(f"{rounds} rounds")


def held(index: int, folder: str) -> int:
    """Job 0 waits (at most 30 s) the first time it runs; each run leaves a mark as it
    starts and, from its ``finally``, as it cleans up."""
    mark = Path(folder) / f"{index}-{os.getpid()}"
    mark.with_suffix(".started").touch()
    try:
        if index == 0 and not list(Path(folder).glob("0-*.cleaned")):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                time.sleep(0.05)
        return index
    finally:
        mark.with_suffix(".cleaned").touch()


def terminate_mid_job(folder: str) -> None:
    """SIGTERM the worker running job 0, once it has started."""

    def terminate() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            started = list(Path(folder).glob("0-*.started"))
            if started:
                os.kill(int(started[0].stem.split("-")[1]), signal.SIGTERM)
                return
            time.sleep(0.05)

    threading.Thread(target=terminate, daemon=True).start()
    results = LocalExecutor(2).run(held, [(i, folder) for i in range(4)])
    assert results == [0, 1, 2, 3], results
    print("done")


if __name__ == "__main__":
    if sys.argv[1] == "kill":
        kill_rounds(int(sys.argv[2]))
    else:
        terminate_mid_job(sys.argv[2])
