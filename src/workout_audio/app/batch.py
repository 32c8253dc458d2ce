"""``batch``: every track of a manifest, on this machine's cores or a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .options import CacheOpt

if TYPE_CHECKING:
    from ..batch import BatchReport, ItemResult

__all__ = ["batch_command"]


def batch_command(
    manifest: Annotated[
        Path,
        typer.Argument(
            help="The manifest: items: in YAML, or a CSV with a column a setting "
            "(routine or program, output, language, length, name, ...).",
            show_default=False,
            dir_okay=False,
            metavar="MANIFEST",
        ),
    ],
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output-dir",
            help="Where the outputs' paths start (default: the manifest's folder).",
            file_okay=False,
            metavar="DIR",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", help="Tracks built at once on this machine (default: one a core).", min=1
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run on a Dask cluster: its scheduler's address (tcp://HOST:8786).",
            metavar="ADDRESS",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the report as JSON.", metavar="FILE"),
    ] = None,
    cache_dir: CacheOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Build every item, even those up to date.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="A line for each item as it is settled.")
    ] = False,
) -> None:
    """Build every track and program of a manifest; the items up to date are skipped.

    Example: workout-audio batch members.csv -o build/members --report report.json
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ..batch import executor_for, load_manifest, run_batch, write_report
    from .console import err

    checked = load_manifest(manifest, output_dir)
    with (
        executor_for(scheduler, jobs) as executor,
        Progress(
            TextColumn("Building tracks"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar,
    ):
        task = bar.add_task("tracks", total=checked.count)

        def on_item(result: ItemResult, done: int, total: int) -> None:
            bar.update(task, completed=done)
            if verbose:
                _line(result)

        result = run_batch(checked, executor, cache_dir=cache_dir, force=force, on_item=on_item)
    _table(result)
    if report is not None:
        write_report(result, report)
    if not result.ok:
        raise typer.Exit(1)


def _line(result: ItemResult) -> None:
    from .console import err

    took = f" in {result.seconds:.1f} s" if result.status == "built" else ""
    error = f": {result.error}" if result.error else ""
    sessions = (
        f" ({result.sessions_built} sessions built, {result.sessions_skipped} up to date)"
        if result.sessions_built is not None
        else ""
    )
    err.print(
        f"{result.status}: {result.output}{took}{sessions}{error}", highlight=False, markup=False
    )


def _table(report: BatchReport) -> None:
    from rich.table import Table

    from .console import out

    table = Table(title=f"{report.manifest.name}: {len(report.items)} items")
    for column in ("item", "status", "output", "seconds", "error"):
        table.add_column(column, overflow="fold")
    for item in report.items:
        seconds = f"{item.seconds:.1f}" if item.status == "built" else ""
        table.add_row(item.where, item.status, str(item.output), seconds, item.error or "")
    out.print(table, highlight=False, markup=False)
    counts = ", ".join(
        f"{report.count(status)} {status}"
        for status in ("built", "up to date", "failed")
        if report.count(status)
    )
    out.print(
        f"{counts}; {report.seconds:.1f} s on {report.workers} {report.executor} workers",
        highlight=False,
        markup=False,
    )
