"""Workouts planned elsewhere <-> routines: intervals.icu text, Zwift ``.zwo``, Garmin FIT.

One package for both directions because each format's mapping (Zwift's power as
a fraction of FTP, FIT's +100 offset on custom heart rates) is one fact, stated
once in that format's module and used by its reader and its writer alike. It
sits just above :mod:`..routine`: it makes and reads routine data, and knows
nothing of timelines, audio or encoding.

:func:`load_workout` is the one place a routine path is opened by the library, so
``build``, ``script``, ``validate`` and ``chart`` take these files directly.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import RoutineError, RoutineErrors, UsageError
from ..routine import Routine, load_routine, routine_from_text
from ..storage.files import write_whole
from .plan import Plan, routine_yaml

__all__ = ["IMPORT_SUFFIXES", "export_routine", "import_plan", "load_workout", "read_plan"]

log = logging.getLogger(__name__)

IMPORT_SUFFIXES = (".txt", ".zwo", ".fit")
EXPORT_SUFFIXES = (".fit", ".zwo")
_ROUTINE_SUFFIXES = (".yaml", ".yml")
_MAX_BYTES = 4_000_000  # far above any workout; refuses a wrong file before reading it all


def _kind(path: Path, head: bytes) -> str | None:
    """The format by suffix, else by content; None is routine YAML."""
    suffix = path.suffix.casefold()
    if suffix in IMPORT_SUFFIXES:
        return suffix
    if suffix in _ROUTINE_SUFFIXES:
        return None
    if len(head) >= 12 and head[8:12] == b".FIT":
        return ".fit"
    if b"<workout_file" in head[:4096]:
        return ".zwo"
    return None


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_BYTES + 1)
    except OSError as error:
        raise RoutineError(str(path), None, "", f"cannot read the file: {error.strerror}") from None
    if len(data) > _MAX_BYTES:
        raise RoutineError(str(path), None, "", "file is too big for a workout")
    return data


def _text(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise RoutineError(str(path), line, "", "not UTF-8 text; save it as UTF-8") from None


def read_plan(path: str | os.PathLike[str], *, threshold_pace: str | None = None) -> Plan | None:
    """The workout in ``path`` as a plan, or None when it is a routine file of our own.

    Raises:
        RoutineError: the file cannot be read, or has a step the audio cannot time;
            the message names the file and the line or message.
    """
    file = Path(path)
    try:
        with file.open("rb") as opened:
            head = opened.read(4096)
    except OSError:
        return None  # the routine loader says why, in its own words
    kind = _kind(file, head)
    if kind is None:
        return None
    data = _read_bytes(file)
    name = file.stem.replace("_", " ").replace("-", " ").strip() or "Workout"
    if kind == ".fit":
        from .fit import read_fit

        return read_fit(data, str(file), name)
    if kind == ".zwo":
        from .zwift import read_zwo

        return read_zwo(_text(data, file), str(file), name)
    from .intervals_icu import parse_intervals_icu

    return parse_intervals_icu(_text(data, file), str(file), name, threshold_pace=threshold_pace)


def load_workout(path: str | os.PathLike[str], *, threshold_pace: str | None = None) -> Routine:
    """A routine from our YAML or from a workout file, chosen by suffix or content."""
    plan = read_plan(path, threshold_pace=threshold_pace)
    if plan is None:
        return load_routine(os.fspath(path))
    return _imported(plan, os.fspath(path))


def _imported(plan: Plan, path: str) -> Routine:
    """The plan through the routine loader; its problems name the source file, and the
    field in the routine ``import`` writes (a line there would mean nothing in the source)."""
    try:
        return routine_from_text(routine_yaml(plan), path)
    except RoutineErrors as error:
        raise RoutineErrors(
            [RoutineError(e.path, None, f"as imported, {e.field}", e.message) for e in error.errors]
        ) from None


def import_plan(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    threshold_pace: str | None = None,
) -> Path:
    """Write the workout in ``path`` as routine YAML (default: beside it, ``.yaml``).

    The routine is checked by the loader before a byte is written.

    Raises:
        RoutineError: the workout cannot be read or timed.
        UsageError: ``path`` is a routine already, or the output would replace it.
    """
    source = Path(path)
    plan = read_plan(source, threshold_pace=threshold_pace)
    if plan is None:
        raise UsageError(
            f"{source}: not a workout to import (.txt from intervals.icu, .zwo or .fit)"
        )
    target = Path(output) if output is not None else source.with_suffix(".yaml")
    if target.suffix.casefold() not in _ROUTINE_SUFFIXES:
        raise UsageError(f"{target}: the routine is YAML: name it .yaml")
    _imported(plan, str(source))
    text = routine_yaml(plan)
    write_whole(target, text.encode("utf-8"))
    log.info("imported %s into %s", source, target)
    return target


def export_routine(
    routine: Routine | str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    ftp_w: int | None = None,
) -> Path:
    """Write the routine as a watch's ``.fit`` workout or a Zwift ``.zwo``, by suffix.

    Raises:
        UsageError: an unknown suffix, or a routine these formats cannot express
            (a move given by reps, a rest or side switch the watch would not keep).
    """
    target = Path(output)
    suffix = target.suffix.casefold()
    if suffix not in EXPORT_SUFFIXES:
        raise UsageError(f"{target}: export writes .fit or .zwo")
    loaded = routine if isinstance(routine, Routine) else load_workout(routine)
    from .export import steps_of

    plan = steps_of(loaded)
    if suffix == ".fit":
        from .fit import write_fit

        data = write_fit(plan)
    else:
        from .zwift import write_zwo

        data = write_zwo(plan, ftp_w=ftp_w)
    write_whole(target, data)
    log.info("exported %s to %s", loaded.name, target)
    return target
