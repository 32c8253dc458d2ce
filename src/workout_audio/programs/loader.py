"""Program YAML -> a checked Program: every problem named by file, line and field.

The program file is read the way routine files are (the same safe YAML reader, the same
schema messages). A session's routine is a file, checked as ``validate`` checks it and
reported at its own file and line, or a routine written inline, checked by the routine
rules with its lines in the program file. Three things spare a coach from copying:
``defaults`` (routine keys every inline routine takes, program-wide or for a week), a
week's ``routine`` with ``days: 3`` (the same session three times), and ``rounds`` and
``length`` on a week or a day (the same routine, progressed).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import re
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import jsonschema  # type: ignore[import-untyped, unused-ignore]

from ..errors import RoutineErrors
from ..levels import DEFAULT_TARGET_LUFS, LOUDNESS_RANGE_LUFS
from ..routine import Routine, load_routine, routine_schema
from ..routine.build import Builder
from ..routine.messages import Problems, Where, explain, show
from ..settings import RATE_RANGE, EncodeSettings, VoiceSettings
from .model import Program, Session

__all__ = ["check_program", "load_program", "program_schema"]

DEFAULT_START = datetime.date(2026, 1, 5)  # a Monday; any fixed date keeps the feed stable
_DAY_KEYS = ("title", "routine", "length", "rounds")  # the rest of a day is an inline routine
_SLUG_CHARS = 40


def load_program(path: str | Path) -> Program:
    """Read and check a program file and every routine it names.

    Args:
        path: the program's YAML file.

    Returns:
        The program, its sessions in training order.

    Raises:
        RoutineErrors: every problem in the program file, each with its line; or the
            problems of a routine file it names, at that file's own lines.
    """
    path = Path(path)
    problems = Problems(str(path))
    data = _parse(path, problems)
    for error in _validator().iter_errors(data):
        for where, message in explain(error):
            problems.add(where, message)
    problems.raise_if_any()  # the shape is wrong: what follows would only guess
    program = _Reader(problems, path, data).program()
    problems.raise_if_any()
    return program


def check_program(path: str | Path) -> Program:
    """Read and check a program as :func:`load_program` does, and each session's length
    against what its routine can roughly make (as a build checks before any speech).

    Raises:
        RoutineErrors: as :func:`load_program`.
        UsageError: the language has no cue wording; a length far out of reach.
    """
    from ..preparation import check_language
    from ..timeline.fit import check_roughly

    program = load_program(path)
    for session in program.sessions:
        check_language(session.routine, program.voice)
        if session.length_ms is not None:
            check_roughly(session.routine, session.length_ms)
    return program


def program_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of program files, e.g. to publish for editors."""
    schema: dict[str, Any] = json.loads(
        resources.files("workout_audio").joinpath("schema/program.schema.json").read_text("utf-8")
    )
    return schema


@functools.cache
def _validator() -> Any:  # noqa: ANN401 - jsonschema is untyped
    return jsonschema.Draft202012Validator(program_schema())


@functools.cache
def _routine_validator() -> Any:  # noqa: ANN401 - jsonschema is untyped
    return jsonschema.Draft202012Validator(routine_schema())


def _parse(path: Path, problems: Problems) -> dict[str, object]:
    from ..routine.nodes import parse_yaml, read_text

    return parse_yaml(read_text(path, problems), problems)


class _Within(Problems):
    """The problems of a routine written inside the program: its fields' paths and lines
    are those of the program file, under the session's own path."""

    def __init__(self, outer: Problems, prefix: Where) -> None:
        super().__init__(outer.path)
        self.outer, self.prefix = outer, prefix
        size = len(prefix)
        self.lines = {w[size:]: n for w, n in outer.lines.items() if w[:size] == prefix}

    def add(self, where: Where, message: str, line: int | None = None) -> None:
        self.outer.add((*self.prefix, *where), message, line if line else self.line(where))

    def flagged(self, where: Where) -> bool:
        return self.outer.flagged((*self.prefix, *where))

    def fail(self, where: Where, message: str, line: int | None = None) -> NoReturn:
        self.outer.fail((*self.prefix, *where), message, line if line else self.line(where))


class _Reader:
    """Turns the checked program data into sessions; one pass finds every problem."""

    def __init__(self, problems: Problems, path: Path, data: dict[str, Any]) -> None:
        self.problems, self.path, self.data = problems, path, data
        self.folder = path.parent
        self.builder = Builder(problems)
        self.files: dict[Path, Routine] = {}
        self.inlines: dict[Where, Routine | None] = {}

    def program(self) -> Program:
        data, builder = self.data, self.builder
        language = data.get("language")
        defaults = dict(data.get("defaults") or {})
        if isinstance(language, str):
            defaults.setdefault("language", language)
        length_ms = self.length(data, ("length",), None)
        sessions: list[Session] = []
        for week_index, week in enumerate(data["weeks"]):
            sessions += self.week(week, week_index, defaults, length_ms)
        self.unique_titles(sessions)
        voice = data.get("voice")
        voice_path = None
        if isinstance(voice, str):
            voice_path = self.folder / voice if voice.endswith(".onnx") else Path(voice)
        first_language = sessions[0].routine.language if sessions else "en"
        return Program(
            name=builder.name(data["name"], ("name",)),
            description=builder.text(data.get("description", ""), ("description",)),
            language=language if isinstance(language, str) else first_language,
            path=self.path,
            sessions=tuple(sessions),
            voice=VoiceSettings(
                engine=str(data.get("engine", "auto")),
                language=language if isinstance(language, str) else None,
                voice_path=voice_path,
                rate=self.within("rate", RATE_RANGE, 1.0),
            ),
            music=builder.music(data.get("music"), ("music",)),
            encode=EncodeSettings(
                format=str(data.get("format", "mp3")),
                loudness_lufs=self.within("loudness", LOUDNESS_RANGE_LUFS, DEFAULT_TARGET_LUFS),
            ),
            author=builder.text(data.get("author", "workout-audio"), ("author",)),
            source=builder.text(data["source"], ("source",)) if "source" in data else None,
            starts=self.date(data.get("starts")),
        )

    def week(
        self,
        raw: dict[str, Any],
        index: int,
        program_defaults: dict[str, object],
        program_length_ms: int | None,
    ) -> list[Session]:
        where: Where = ("weeks", index)
        defaults = {**program_defaults, **(raw.get("defaults") or {})}
        length_ms = self.length(raw, (*where, "length"), program_length_ms)
        rounds = raw.get("rounds") or {}
        days = raw["days"]
        if isinstance(days, int):
            if "routine" not in raw:
                self.problems.add((*where, "days"), "a number of days needs the week's routine:")
                return []
            days = [{} for _ in range(days)]
        sessions = []
        for day_index, day in enumerate(days):
            day_where: Where = (*where, "days", day_index)
            has_own = "routine" in day or "blocks" in day
            if not has_own and "routine" not in raw:
                message = (
                    "no routine: give routine: FILE, a routine's blocks, or the week's routine:"
                )
                self.problems.add(day_where, message)
                continue
            # An inline routine without a name takes its session's title.
            title = day.get("title") or self.patterned(index + 1, day_index + 1, "")
            if has_own:
                routine = self.routine(day, day_where, defaults, title)
            else:
                routine = self.routine(raw, where, defaults, title)
            if routine is None:
                continue
            day_rounds = {**rounds, **(day.get("rounds") or {})}
            rounds_where = (*day_where, "rounds") if "rounds" in day else (*where, "rounds")
            routine = self.with_rounds(routine, day_rounds, rounds_where)
            title = self.title(day, day_where, index + 1, day_index + 1, routine)
            sessions.append(
                Session(
                    week=index + 1,
                    day=day_index + 1,
                    title=title,
                    routine=dataclasses.replace(routine, name=title),
                    length_ms=self.length(day, (*day_where, "length"), length_ms),
                    stem=f"w{index + 1:02d}-d{day_index + 1}-{_slug(title)}",
                    line=self.problems.line(day_where) or 0,
                )
            )
        return sessions

    def routine(
        self, raw: dict[str, Any], where: Where, defaults: dict[str, object], title: object
    ) -> Routine | None:
        """The routine a day or week names (a file) or writes (inline), checked."""
        named = raw.get("routine")
        if isinstance(named, str):
            return self.routine_file(named, (*where, "routine"))
        if isinstance(named, dict):
            return self.inline(named, (*where, "routine"), defaults, title)
        own = {key: value for key, value in raw.items() if key not in _DAY_KEYS}
        return self.inline(own, where, defaults, title)

    def routine_file(self, name: str, where: Where) -> Routine | None:
        path = (self.folder / Path(name).expanduser()).resolve()
        if path in self.files:
            return self.files[path]
        if not path.is_file():
            self.problems.add(where, f"no routine file at {show(name)} (relative to the program)")
            return None
        # A routine file's own problems are reported at its own lines, as validate does.
        self.files[path] = load_routine(path)
        return self.files[path]

    def inline(
        self, raw: dict[str, Any], where: Where, defaults: dict[str, object], title: object
    ) -> Routine | None:
        if where in self.inlines:  # a week's routine, read once for all its days
            return self.inlines[where]
        self.inlines[where] = routine = self.checked(raw, where, defaults, title)
        return routine

    def checked(
        self, raw: dict[str, Any], where: Where, defaults: dict[str, object], title: object
    ) -> Routine | None:
        data = {**defaults, **raw}
        if "name" not in data and isinstance(title, str):
            data["name"] = title
        within = _Within(self.problems, where)
        before = len(self.problems.errors)
        for error in _routine_validator().iter_errors(data):
            for field, message in explain(error):
                within.add(field, message)
        try:
            routine = Builder(within).routine(data)
        except RoutineErrors:
            return None
        return routine if len(self.problems.errors) == before else None

    def with_rounds(self, routine: Routine, rounds: dict[str, int], where: Where) -> Routine:
        """The routine with these blocks' rounds, by name; a block whose rounds its moves'
        per-round values or an AMRAP set cannot be given others."""
        blocks = list(routine.blocks)
        for name, count in rounds.items():
            found = [
                i for i, block in enumerate(blocks) if block.name.casefold() == name.casefold()
            ]
            if not found:
                names = ", ".join(show(block.name) for block in blocks)
                self.problems.add((*where, name), f"no block {show(name)} in it (blocks: {names})")
                continue
            block = blocks[found[0]]
            if block.amrap_ms is not None or any(e.by_round for e in block.exercises):
                message = "its rounds are set by its per-round values or its amrap: cap"
                self.problems.add((*where, name), message)
                continue
            blocks[found[0]] = dataclasses.replace(block, rounds=count)
        return dataclasses.replace(routine, blocks=tuple(blocks))

    def title(
        self, day: dict[str, Any], where: Where, week: int, day_number: int, routine: Routine
    ) -> str:
        if isinstance(day.get("title"), str):
            return self.builder.name(day["title"], (*where, "title"))
        return self.patterned(week, day_number, routine.name) or routine.name

    def patterned(self, week: int, day: int, name: str) -> str | None:
        """The program's session_title filled in, or None when it has none."""
        pattern = self.data.get("session_title")
        if not isinstance(pattern, str):
            return None
        try:
            return " ".join(pattern.format(week=week, day=day, name=name).split())
        except (KeyError, IndexError, ValueError):
            message = f"{show(pattern)} may name only {{week}}, {{day}} and {{name}}"
            if not self.problems.flagged(("session_title",)):
                self.problems.add(("session_title",), message)
            return None

    def unique_titles(self, sessions: list[Session]) -> None:
        first: dict[str, int] = {}
        for session in sessions:
            key = session.title.casefold()
            if key in first:
                message = (
                    f"duplicate session title {show(session.title)} (first at line {first[key]})"
                )
                where: Where = ("weeks", session.week - 1, "days", session.day - 1)
                self.problems.add(where, message, session.line)
            else:
                first[key] = session.line

    def length(self, raw: dict[str, Any], where: Where, fallback: int | None) -> int | None:
        if "length" not in raw:
            return fallback
        return self.builder.duration(raw["length"], where, allow_zero=False)

    def within(self, key: str, valid: tuple[float, float], fallback: float) -> float:
        value = self.data.get(key)
        if not isinstance(value, (int, float)):
            return fallback
        low, high = valid
        if not low <= value <= high:
            self.problems.add((key,), f"must be from {low:g} to {high:g}, got {show(value)}")
            return fallback
        return float(value)

    def date(self, raw: object) -> datetime.date:
        if not isinstance(raw, str):
            return DEFAULT_START
        try:
            return datetime.date.fromisoformat(raw)
        except ValueError:
            self.problems.add(("starts",), f"{show(raw)} is not a date like 2026-01-05")
            return DEFAULT_START


def _slug(title: str) -> str:
    """A file-name-safe, lower-case form of a title: ``Week 1, run 2`` -> ``week-1-run-2``."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug[:_SLUG_CHARS].rstrip("-") or "session"
