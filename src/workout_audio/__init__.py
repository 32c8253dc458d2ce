"""workout-audio: a workout routine in YAML becomes one voice-guided track.

All at once::

    import workout_audio
    result = workout_audio.build("routines/runners-total-body.yaml", length="20m")
    print(result.track, result.sidecars)

or one stage at a time: :func:`load_routine`, :func:`make_script` (the plan alone,
no audio), :func:`prepare` (the script with its speech) and :func:`render`.
Importing this package loads nothing heavy: each name is imported the first time
it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .batch import BatchReport, executor_for, load_manifest, run_batch
    from .encode.render import render
    from .errors import UsageError, WorkoutAudioError
    from .interchange import export_routine, import_plan, load_workout
    from .pipeline import BuildResult, ChartResult, build, build_variants, check_routine, draw_chart
    from .preparation import Prepared, prepare
    from .programs import Program, ProgramResult, build_program, check_program, load_program
    from .routine import Routine, load_routine, routine_from_text
    from .serve import FolderServer
    from .settings import EncodeSettings, MusicSettings, VoiceSettings
    from .studio import studio_app
    from .timeline.script import Script, make_script, script_phrases

    __version__: str

# Each public name and the module it lives in, imported on first use.
_PUBLIC = {
    "BatchReport": ".batch",
    "BuildResult": ".pipeline",
    "ChartResult": ".pipeline",
    "EncodeSettings": ".settings",
    "FolderServer": ".serve",
    "MusicSettings": ".settings",
    "Prepared": ".preparation",
    "Program": ".programs",
    "ProgramResult": ".programs",
    "Routine": ".routine",
    "Script": ".timeline.script",
    "Target": ".routine",
    "UsageError": ".errors",
    "VoiceSettings": ".settings",
    "WorkoutAudioError": ".errors",
    "build": ".pipeline",
    "build_program": ".programs",
    "build_variants": ".pipeline",
    "check_program": ".programs",
    "check_routine": ".pipeline",
    "draw_chart": ".pipeline",
    "executor_for": ".batch",
    "export_routine": ".interchange",
    "format_target": ".routine.targets",
    "import_plan": ".interchange",
    "load_manifest": ".batch",
    "load_program": ".programs",
    "load_routine": ".routine",
    "load_workout": ".interchange",
    "make_script": ".timeline.script",
    "prepare": ".preparation",
    "render": ".encode.render",
    "routine_from_text": ".routine",
    "run_batch": ".batch",
    "script_phrases": ".timeline.script",
    "studio_app": ".studio",  # needs the serve extra
}

__all__ = [  # each imported on first use, by __getattr__
    "BatchReport",
    "BuildResult",
    "ChartResult",
    "EncodeSettings",
    "FolderServer",
    "MusicSettings",
    "Prepared",
    "Program",
    "ProgramResult",
    "Routine",
    "Script",
    "Target",
    "UsageError",
    "VoiceSettings",
    "WorkoutAudioError",
    "__version__",
    "build",
    "build_program",
    "build_variants",
    "check_program",
    "check_routine",
    "draw_chart",
    "executor_for",
    "export_routine",
    "format_target",
    "import_plan",
    "load_manifest",
    "load_program",
    "load_routine",
    "load_workout",
    "make_script",
    "prepare",
    "render",
    "routine_from_text",
    "run_batch",
    "script_phrases",
    "studio_app",
]


def __getattr__(name: str) -> object:
    if name == "__version__":  # the installed distribution's, as pyproject.toml states it
        from importlib.metadata import version

        value: object = version("workout-audio")
    else:
        module = _PUBLIC.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC, "__version__"])
