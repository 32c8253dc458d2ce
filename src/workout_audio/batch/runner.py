"""A whole batch: skip what is up to date, make every voice's phrases once, then the tracks,
then each program (its sessions side by side on the same executor).

The phrases come first, one job a voice, so two workers never synthesise the same
phrase; the tracks then find their speech in the cache (a folder every worker
sees: entries are written to a temporary name and renamed, so workers on several
machines can share it).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import StoppedPartway, WorkoutAudioError
from ..execution import Executor, JobLost, speak_all
from ..storage.files import write_whole
from .jobs import ItemResult, build_item, is_up_to_date, speech_jobs
from .manifest import BatchItem, Manifest, ProgramItem

__all__ = ["BatchReport", "run_batch", "write_report"]

log = logging.getLogger(__name__)
OnItem = Callable[[ItemResult, int, int], None]  # a result, items done, items in all


@dataclass(frozen=True)
class BatchReport:
    """Every item's result (the tracks', then the programs'), and the batch's own time."""

    manifest: Path
    executor: str
    workers: int
    seconds: float
    items: tuple[ItemResult, ...]

    @property
    def ok(self) -> bool:
        """Every item built or up to date."""
        return all(item.ok for item in self.items)

    def count(self, status: str) -> int:
        return sum(item.status == status for item in self.items)

    def as_json(self) -> str:
        data = asdict(self)
        data["manifest"] = str(self.manifest)
        data["items"] = [{**asdict(i), "output": str(i.output)} for i in self.items]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def run_batch(
    manifest: Manifest,
    executor: Executor,
    *,
    cache_dir: Path | None = None,
    force: bool = False,
    on_item: OnItem | None = None,
) -> BatchReport:
    """Build every item of ``manifest`` on ``executor``; a failed item never stops the rest.

    Args:
        manifest: the checked items (:func:`load_manifest`).
        executor: where the jobs run (:func:`executor_for`).
        cache_dir: the cache every worker shares (default: each worker's user cache).
        force: build every track, even those whose files are up to date (a program's
            sessions are always skipped when up to date, as ``program build`` does).
        on_item: called as each item is settled (built, skipped or failed).

    Returns:
        The report; ``ok`` only when every item was built or up to date.

    Raises:
        StoppedPartway: Ctrl-C: the tracks not started are dropped, none is left half
            written, and it names what was written and what was not.
    """
    started = time.monotonic()
    items = list(manifest.items)
    results: dict[int, ItemResult] = {}
    program_results: list[ItemResult] = []

    def settle(index: int, result: ItemResult) -> None:
        results[index] = result
        if on_item is not None:
            on_item(result, len(results) + len(program_results), manifest.count)

    for index, item in enumerate(items):
        if not force and is_up_to_date(item):
            settle(index, ItemResult(item.where, item.output, "up to date"))
    todo = [index for index in range(len(items)) if index not in results]
    try:
        if todo:
            # A voice's problem is each of its items' own: they report it as they fail.
            for problem in speak_all(executor, speech_jobs([items[i] for i in todo]), cache_dir):
                log.info("speech: %s", problem.message)

            def arrived(position: int, result: object) -> None:
                index = todo[position]
                settle(index, _result_of(items[index], result))

            executor.run(build_item, [(items[index], cache_dir) for index in todo], arrived)
        for program in manifest.programs:
            program_results.append(_build_program(program, executor, cache_dir))
            if on_item is not None:
                on_item(program_results[-1], len(results) + len(program_results), manifest.count)
    except KeyboardInterrupt as stop:
        built = [results[i] for i in sorted(results) if results[i].status == "built"]
        missed = [items[i].output for i in range(len(items)) if i not in results]
        missed += [p.output for p in manifest.programs[len(program_results) :]]
        written = tuple(path for r in built for path in _files(items, r))
        written += tuple(r.output for r in program_results if r.status == "built")
        if isinstance(stop, StoppedPartway):  # a program's sessions finished before the stop
            written += stop.written
        partway = StoppedPartway(stop, written=written, not_written=tuple(missed))
        if isinstance(stop, StoppedPartway):
            partway.terminated = stop.terminated
        raise partway from None
    return BatchReport(
        manifest=manifest.path,
        executor=executor.NAME,
        workers=executor.workers,
        seconds=round(time.monotonic() - started, 3),
        items=(*(results[index] for index in range(len(items))), *program_results),
    )


def _build_program(item: ProgramItem, executor: Executor, cache_dir: Path | None) -> ItemResult:
    """One program, as ``program build`` builds it, on the batch's own executor; its
    problem is its own item's, never the batch's."""
    from ..programs import build_program

    started = time.monotonic()
    try:
        result = build_program(
            item.program, item.output, base_url=item.base_url, executor=executor,
            voice=item.voice, music=item.music, encode=item.encode, cache_dir=cache_dir,
        )  # fmt: skip
    except (WorkoutAudioError, OSError) as error:
        seconds = time.monotonic() - started
        return ItemResult(item.where, item.output, "failed", seconds, str(error))
    return ItemResult(
        item.where,
        item.output,
        "built" if result.built else "up to date",
        time.monotonic() - started if result.built else 0.0,
        sessions_built=len(result.built),
        sessions_skipped=len(result.skipped),
    )


def write_report(report: BatchReport, path: Path) -> Path:
    """The report as JSON, written whole."""
    return write_whole(path, report.as_json().encode())


def _result_of(item: BatchItem, result: object) -> ItemResult:
    if isinstance(result, ItemResult):
        return result
    error = str(result) if isinstance(result, JobLost) else repr(result)
    return ItemResult(item.where, item.output, "failed", error=f"lost: {error}")


def _files(items: list[BatchItem], result: ItemResult) -> tuple[Path, ...]:
    return next(item.files for item in items if item.output == result.output)
