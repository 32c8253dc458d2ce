"""Where jobs run (a batch's tracks, a program's sessions): a process pool or a Dask cluster.

One narrow interface: picklable jobs in, results out in the jobs' order, and a
callback as each result arrives. Our jobs return their own problems, so what an
executor raises or returns as an exception is the machinery's (a worker lost for
good); a worker that dies mid-job has the job run again elsewhere.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.context
import os
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from ..errors import Terminated, UsageError
from ..machine import usable_cores

__all__ = ["DaskExecutor", "Executor", "JobLost", "LocalExecutor", "executor_for"]

J = TypeVar("J")
R = TypeVar("R")
OnResult = Callable[[int, object], None]  # the job's index, its result (or JobLost)
log = logging.getLogger(__name__)
POOL_ATTEMPTS = 3  # a job whose worker died this many times is given up
DASK_RETRIES = 2  # Dask runs a task again on another worker this many times


class JobLost(Exception):
    """A job's worker died every time it ran it."""


class Executor(ABC):
    """Runs picklable jobs somewhere and gives back their results."""

    NAME: str
    workers: int

    @abstractmethod
    def run(
        self,
        task: Callable[..., R],
        jobs: Sequence[tuple[Any, ...]],
        on_result: OnResult | None = None,
    ) -> list[R | JobLost]:
        """``task(*job)`` for every job; results in the jobs' order.

        Ctrl-C cancels the jobs not yet started and waits for the running ones, then
        raises KeyboardInterrupt (the results that arrived went to ``on_result``).
        """

    def close(self) -> None:  # noqa: B027 - most executors hold nothing to let go of
        """Let go of the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalExecutor(Executor):
    """A pool of worker processes on this machine, one a core by default.

    A worker that dies breaks a process pool (``BrokenProcessPool``): the jobs
    without a result are run again on a fresh pool, up to ``POOL_ATTEMPTS`` times.
    """

    NAME = "local"

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise UsageError(f"--jobs: {workers} is not a number of workers; give 1 or more")
        self.workers = workers or usable_cores()

    def run(
        self,
        task: Callable[..., R],
        jobs: Sequence[tuple[Any, ...]],
        on_result: OnResult | None = None,
    ) -> list[R | JobLost]:
        results: dict[int, R | JobLost] = {}
        attempts = dict.fromkeys(range(len(jobs)), 0)
        while len(results) < len(jobs):
            waiting = [i for i in range(len(jobs)) if i not in results]
            for index in waiting:
                attempts[index] += 1
                if attempts[index] > POOL_ATTEMPTS:
                    results[index] = JobLost(f"its worker died {POOL_ATTEMPTS} times")
                    if on_result is not None:
                        on_result(index, results[index])
            waiting = [i for i in waiting if i not in results]
            if waiting:
                self._round(task, jobs, waiting, results, on_result)
        return [results[index] for index in range(len(jobs))]

    def _round(
        self,
        task: Callable[..., R],
        jobs: Sequence[tuple[Any, ...]],
        waiting: list[int],
        results: dict[int, R | JobLost],
        on_result: OnResult | None,
    ) -> None:
        """One pool: the waiting jobs run until done, or until a worker dies."""
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(waiting)),
            mp_context=_start_method(),
            initializer=_stoppable_worker,
        )
        futures: dict[Future[R], int] = {}
        try:
            futures = {pool.submit(_in_worker, task, *jobs[index]): index for index in waiting}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        log.warning("a worker died; its jobs run again on a fresh pool")
                        return
                    results[futures[future]] = result
                    if on_result is not None:
                        on_result(futures[future], result)
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)
            for future, index in futures.items():  # what finished while stopping still counts
                if index not in results and future.done() and not future.cancelled():
                    if future.exception() is None:
                        results[index] = future.result()
                        if on_result is not None:
                            on_result(index, results[index])
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _start_method() -> multiprocessing.context.BaseContext:
    """Fresh worker processes (forkserver, else spawn), never a fork of this one: a fork
    copies whatever locks this process's threads (a progress bar's) held at that moment."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _stoppable_worker() -> None:
    """A worker unwinds on SIGTERM as on Ctrl-C, so the build's cleanup removes its
    temporary files, whatever signal handling it was started with."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _terminated)


_job_running = False  # in a worker: inside a job, where SIGTERM unwinds; else it ends the worker


def _in_worker(task: Callable[..., R], *job: object) -> R:
    """``task(*job)`` in a pool worker. SIGTERM unwinds the job (its files are cleaned up),
    then the worker ends: it never goes back into the pool's queues, whose locks a
    killed worker may hold forever."""
    global _job_running
    _job_running = True
    try:
        return task(*job)
    except Terminated:
        _end_by_sigterm()
        raise  # not reached
    finally:
        _job_running = False


def _terminated(signum: int, frame: object) -> None:
    if _job_running:
        raise Terminated
    # Between jobs the worker is in the pool's own queues: there is nothing of ours to
    # clean, and a lock left by a dead worker would catch an exception's retry for ever.
    _end_by_sigterm()


def _end_by_sigterm() -> None:
    """End this worker as SIGTERM's default would (the pool reads its exit as such)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
    os._exit(128 + signal.SIGTERM)  # pragma: no cover - the signal has ended the process


class DaskExecutor(Executor):
    """A Dask distributed cluster: one task a job, run again elsewhere when a worker dies.

    ``scheduler`` is an address (``tcp://host:8786``) or a ``distributed.Client``
    already connected (it is left open).
    """

    NAME = "dask"

    def __init__(self, scheduler: object) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError(
                "--scheduler: Dask is not installed; pip install 'workout-audio[dask]'"
            ) from None
        if isinstance(scheduler, Client):
            self._client, self._owned = scheduler, False
        else:
            try:
                self._client = Client(scheduler, timeout="10s", set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise UsageError(f"--scheduler: cannot reach {scheduler}: {error}") from None
            self._owned = True
        self.workers = max(len(self._client.scheduler_info().get("workers", {})), 1)

    def run(
        self,
        task: Callable[..., R],
        jobs: Sequence[tuple[Any, ...]],
        on_result: OnResult | None = None,
    ) -> list[R | JobLost]:
        from distributed import as_completed

        futures = [
            self._client.submit(task, *job, pure=False, retries=DASK_RETRIES) for job in jobs
        ]
        index_of = {future.key: index for index, future in enumerate(futures)}
        results: dict[int, R | JobLost] = {}
        try:
            for future in as_completed(futures, loop=self._client.loop):
                index = index_of[future.key]
                try:
                    result: R | JobLost = future.result()
                except Exception as error:
                    result = JobLost(f"{type(error).__name__}: {error}")
                results[index] = result
                if on_result is not None:
                    on_result(index, result)
        except KeyboardInterrupt:
            # Tasks not started are dropped; a running one finishes its own files whole.
            self._client.cancel([f for i, f in enumerate(futures) if i not in results])
            raise
        return [results[index] for index in range(len(jobs))]

    def close(self) -> None:
        if self._owned:
            self._client.close()


def executor_for(scheduler: str | None, jobs: int | None) -> Executor:
    """A Dask executor when a scheduler is named, else a local pool of ``jobs`` workers."""
    if scheduler is not None:
        if jobs is not None:
            raise UsageError("--jobs: the cluster's workers decide; give --jobs or --scheduler")
        return DaskExecutor(scheduler)
    return LocalExecutor(jobs)
