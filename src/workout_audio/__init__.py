"""workout-audio: a workout routine in YAML becomes one voice-guided MP3.

The flow, one function a stage::

    routine = load_routine("routines/runners-total-body.yaml")
    prepared = prepare(routine)            # speech clips + the timed script
    render(prepared.script, prepared.clips, Path("out.mp3"))

or all at once with :func:`build`.
"""

from .errors import WorkoutAudioError
from .pipeline import Prepared, build, prepare
from .render import EncodeOptions, render
from .routine import Routine, load_routine
from .script import Script, make_script, script_phrases

__all__ = [
    "EncodeOptions",
    "Prepared",
    "Routine",
    "Script",
    "WorkoutAudioError",
    "build",
    "load_routine",
    "make_script",
    "prepare",
    "render",
    "script_phrases",
]
__version__ = "0.1.0"
