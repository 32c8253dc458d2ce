"""workout-audio: a workout routine in YAML becomes one voice-guided track.

The flow, one function a stage::

    from workout_audio import load_routine, prepare, render
    routine = load_routine("routines/runners-total-body.yaml")
    prepared = prepare(routine)            # speech clips + the timed script
    render(prepared.script, prepared.clips, Path("out.mp3"))

or all at once with :func:`build`. Importing this package loads nothing heavy:
each name is imported the first time it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .encode.render import EncodeOptions, render
    from .errors import WorkoutAudioError
    from .pipeline import Prepared, build, build_variants, prepare
    from .routine import Routine, load_routine
    from .timeline.script import Script, make_script, script_phrases

__version__ = "0.1.0"

# Each public name and the module it lives in, imported on first use.
_PUBLIC = {
    "EncodeOptions": ".encode.render",
    "Prepared": ".pipeline",
    "Routine": ".routine",
    "Script": ".timeline.script",
    "WorkoutAudioError": ".errors",
    "build": ".pipeline",
    "build_variants": ".pipeline",
    "load_routine": ".routine",
    "make_script": ".timeline.script",
    "prepare": ".pipeline",
    "render": ".encode.render",
    "script_phrases": ".timeline.script",
}

__all__ = [  # each imported on first use, by __getattr__
    "EncodeOptions",
    "Prepared",
    "Routine",
    "Script",
    "WorkoutAudioError",
    "build",
    "build_variants",
    "load_routine",
    "make_script",
    "prepare",
    "render",
    "script_phrases",
]


def __getattr__(name: str) -> object:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
