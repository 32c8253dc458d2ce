"""Running picklable jobs side by side: on a local process pool or a Dask cluster.

The machinery ``batch`` and ``program build`` share: :mod:`.executors` runs jobs
somewhere, :mod:`.speech` makes a voice's phrases once before the tracks,
:mod:`.problems` carries a job's own problem back, :mod:`.leftovers` clears what a
killed worker left half written.
"""

from __future__ import annotations

from .executors import DaskExecutor, Executor, JobLost, LocalExecutor, executor_for
from .leftovers import remove_leftovers
from .problems import Problem
from .speech import SpeechJob, speak_all, speak_phrases

__all__ = [
    "DaskExecutor",
    "Executor",
    "JobLost",
    "LocalExecutor",
    "Problem",
    "SpeechJob",
    "executor_for",
    "remove_leftovers",
    "speak_all",
    "speak_phrases",
]
