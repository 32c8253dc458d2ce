"""Many tracks at once: a manifest of items built on a local process pool or a Dask cluster.

:mod:`.manifest` reads and checks the manifest, :mod:`.jobs` holds the picklable
work (one track), :mod:`..execution` runs it somewhere, and :mod:`.runner` puts
them together into a report.
"""

from __future__ import annotations

from ..execution import DaskExecutor, Executor, JobLost, LocalExecutor, executor_for
from .jobs import ItemResult
from .manifest import (
    BatchItem,
    Manifest,
    ProgramItem,
    load_manifest,
    manifest_schema,
    setting_names,
)
from .runner import BatchReport, run_batch, write_report

__all__ = [
    "BatchItem",
    "BatchReport",
    "DaskExecutor",
    "Executor",
    "ItemResult",
    "JobLost",
    "LocalExecutor",
    "Manifest",
    "ProgramItem",
    "executor_for",
    "load_manifest",
    "manifest_schema",
    "run_batch",
    "setting_names",
    "write_report",
]
