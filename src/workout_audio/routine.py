"""Routine YAML -> validated, immutable Routine dataclasses (errors name file, line and field)."""

from __future__ import annotations

import difflib
import functools
import json
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import yaml

from workout_audio.durations import parse_duration_ms
from workout_audio.errors import RoutineError, RoutineErrors
from workout_audio.levels import DUCK_RANGE_DB, MUSIC_LEVEL_RANGE_DB, parse_level
from workout_audio.music import MusicOptions

__all__ = [
    "Block",
    "Exercise",
    "Rests",
    "Routine",
    "Sound",
    "Timing",
    "load_routine",
    "routine_schema",
]


@dataclass(frozen=True)
class Rests:
    """Rest lengths: after an exercise, after a round, after a block. 0 means no rest.

    Each may carry the range a target length may move it in (``30s..90s``);
    without one it may move from half to double its length.
    """

    exercise_ms: int
    round_ms: int
    block_ms: int
    exercise_range_ms: tuple[int, int] | None = None
    round_range_ms: tuple[int, int] | None = None
    block_range_ms: tuple[int, int] | None = None

    def range_ms(self, kind: str) -> tuple[int, int]:
        """The shortest and longest a rest of ``kind`` (exercise, round, block) may become."""
        written: tuple[int, int] | None = getattr(self, f"{kind}_range_ms")
        if written is not None:
            return written
        nominal_ms: int = getattr(self, f"{kind}_ms")
        return nominal_ms // 2, nominal_ms * 2


@dataclass(frozen=True)
class Timing:
    """Timing in force for one exercise, resolved routine -> block -> exercise."""

    rep_ms: int
    switch_sides_ms: int
    rest: Rests
    countdown_beats: int


@dataclass(frozen=True)
class Exercise:
    """One move as written: exactly one of ``time_ms`` (per side if ``per_side``) or ``reps``."""

    name: str
    time_ms: int | None
    reps: int | None
    per_side: bool
    first_side: str  # "left" or "right"
    tips: tuple[str, ...]
    timing: Timing
    line: int
    flex: bool = True  # False pins its hold or tempo when a target length is solved

    @property
    def work_ms(self) -> int:
        """Work time of one side: the hold, or reps x tempo."""
        if self.time_ms is not None:
            return self.time_ms
        assert self.reps is not None
        return self.reps * self.timing.rep_ms


@dataclass(frozen=True)
class Block:
    """A group of exercises done for ``rounds`` rounds (a warmup, a superset, a circuit)."""

    name: str
    rounds: int
    exercises: tuple[Exercise, ...]
    timing: Timing
    line: int
    rounds_fixed: bool = False  # True: a target length never adds or drops rounds here
    role: str = "main"  # "warmup" and "cooldown" are the last to lose rounds

    @property
    def repeatable(self) -> bool:
        """Whether a target length may add or drop rounds of this block."""
        return not self.rounds_fixed


@dataclass(frozen=True)
class Sound:
    """A routine's own sound file for one tone (``start``, ``rest``, ...)."""

    tone: str
    path: Path
    line: int | None


@dataclass(frozen=True)
class Routine:
    """A whole workout, validated; ``path`` and ``length_line`` let later errors cite the file."""

    name: str
    blocks: tuple[Block, ...]
    timing: Timing
    length_ms: int | None
    language: str
    equipment: tuple[str, ...]
    source: str | None
    path: str
    length_line: int | None = None
    language_line: int | None = None
    music: MusicOptions | None = None
    sounds: tuple[Sound, ...] = ()  # files that replace generated tones


_DEFAULT_TIMING = Timing(
    rep_ms=3_000,
    switch_sides_ms=5_000,
    rest=Rests(exercise_ms=15_000, round_ms=45_000, block_ms=60_000),
    countdown_beats=3,
)
_MAX_FILE_BYTES = 1_000_000
_MAX_NODES = 10_000  # far above any real routine; stops alias bombs before they expand
_MAX_DEPTH = 50
_MAX_DURATION_MS = 6 * 3_600_000
_MAX_NAME_CHARS = 200
_MAX_MESSAGE_CHARS = 300
_SIDES = ("left", "right")
_ROLES = ("warmup", "main", "cooldown")
_TAG = "tag:yaml.org,2002:"
_CONTROL_CATEGORIES = ("Cc", "Zl", "Zp")

_Where = tuple[str | int, ...]


def load_routine(path: str | Path) -> Routine:
    """Read and validate a routine file.

    Args:
        path: the routine YAML file.

    Returns:
        The routine with every exercise's timing resolved.

    Raises:
        RoutineErrors: the file is unreadable, not YAML, or breaks the format;
            every problem found is in ``.errors`` (in file order), the first is the message.
    """
    problems = _Problems(str(path))
    text = _read_text(Path(path), problems)
    data = _parse_yaml(text, problems)
    for error in _validator().iter_errors(data):
        for where, message in _explain(error):
            problems.add(where, message)
    routine = _Builder(problems).routine(data)
    problems.raise_if_any()
    return routine


def routine_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of routine files, e.g. to publish for editors."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


class _Problems:
    """The errors found in one file, and the line of every field in it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines: dict[_Where, int] = {}
        self.errors: list[RoutineError] = []
        self._seen: set[tuple[int | None, str, str]] = set()
        self._flagged: set[_Where] = set()

    def line(self, where: _Where) -> int | None:
        """Line of the field, or of its nearest ancestor when it is missing."""
        for end in range(len(where), -1, -1):
            line = self.lines.get(where[:end])
            if line is not None:
                return line
        return None

    def add(self, where: _Where, message: str, line: int | None = None) -> None:
        line = self.line(where) if line is None else line
        message = " ".join(message.splitlines())
        if len(message) > _MAX_MESSAGE_CHARS:
            message = message[: _MAX_MESSAGE_CHARS - 3] + "..."
        field = _field(where)
        if (line, field, message) not in self._seen:
            self._seen.add((line, field, message))
            self.errors.append(RoutineError(self.path, line, field, message))
        self._flagged.add(where)

    def flagged(self, where: _Where) -> bool:
        """Whether this exact field already has an error (so later checks stay quiet)."""
        return where in self._flagged

    def raise_if_any(self) -> None:
        if self.errors:
            raise RoutineErrors(sorted(self.errors, key=lambda error: error.line or 0))

    def fail(self, where: _Where, message: str, line: int | None = None) -> NoReturn:
        """Add a problem that stops reading the file, and raise everything found so far."""
        self.add(where, message, line)
        raise RoutineErrors(sorted(self.errors, key=lambda error: error.line or 0))


def _read_text(path: Path, problems: _Problems) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.fail((), f"cannot read the file: {exc.strerror or exc}")
    if len(data) > _MAX_FILE_BYTES:
        problems.fail((), f"file is too big for a routine (over {_MAX_FILE_BYTES} bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.fail((), f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8", line)


def _parse_yaml(text: str, problems: _Problems) -> dict[str, object]:
    """YAML text -> plain dict, recording the line of every field in ``problems.lines``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or exc.context or "unreadable"
        if exc.context and detail.startswith("but "):
            detail = f"{exc.context} {detail}"
        if detail == "found unexpected end of stream" and exc.context_mark:
            mark = exc.context_mark  # the end of the file says nothing: point at the quote
            detail = "a quote opened on this line is never closed"
        problems.fail((), f"not valid YAML: {detail}", mark.line + 1 if mark else None)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problems.fail((), f"not valid YAML: character U+{exc.character:04X} is not allowed", line)
    except yaml.YAMLError as exc:
        problems.fail((), f"not valid YAML: {exc}")
    except RecursionError:
        problems.fail((), "not valid YAML: nested too deeply")
    if root is None:
        problems.fail((), "the file is empty; a routine needs at least 'name' and 'blocks'")
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        message = f"the top level must be a mapping with 'name' and 'blocks', got {kind}"
        problems.fail((), message, _line(root))
    problems.lines[()] = _line(root)
    try:
        return _Converter(problems).mapping(root, (), 0)
    except _Refused as exc:
        problems.fail(exc.where, exc.message, exc.line)


class _Refused(Exception):
    """The document cannot be read safely any further."""

    def __init__(self, node: yaml.Node, where: _Where, message: str) -> None:
        super().__init__(message)
        self.line = _line(node)
        self.where = where
        self.message = message


class _Converter:
    """Turns composed YAML nodes into plain Python, counting every node it visits.

    Only YAML's plain types are accepted, so nothing is ever constructed from a tag, and
    an alias that expands without end is refused instead of filling memory.
    """

    def __init__(self, problems: _Problems) -> None:
        self.problems = problems
        self.visited = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def value(self, node: yaml.Node, where: _Where, depth: int) -> object:
        self.visit(node, where, depth)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, where, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                raise _Refused(node, where, _tag_refusal(node.tag))
            items = []
            for index, item in enumerate(node.value):
                item_where = (*where, index)
                self.problems.lines[item_where] = _line(item)
                items.append(self.value(item, item_where, depth + 1))
            return items
        assert isinstance(node, yaml.ScalarNode)
        return self.scalar(node, where)

    def visit(self, node: yaml.Node, where: _Where, depth: int) -> None:
        self.visited += 1
        if self.visited > _MAX_NODES:
            message = f"more than {_MAX_NODES} values: is an alias (*name) expanding without end?"
            raise _Refused(node, (), message)
        if depth > _MAX_DEPTH:
            message = f"nested more than {_MAX_DEPTH} levels deep: is an alias inside itself?"
            raise _Refused(node, (), message)

    def mapping(self, node: yaml.MappingNode, where: _Where, depth: int) -> dict[str, object]:
        if node.tag != _TAG + "map":
            raise _Refused(node, where, _tag_refusal(node.tag))
        result: dict[str, object] = {}
        # Merged keys (<<: *defaults) go first so the mapping's own keys override them.
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.visit(key_node, where, depth)
                for key, value in self.merge(value_node, where, depth).items():
                    result.setdefault(key, value)
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                continue
            self.visit(key_node, where, depth)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(key_node, where, "a key must be plain text, not a list or mapping")
            key = str(key_node.value)
            line = _line(key_node)
            if key in first_lines:
                message = f"duplicate key {_show(key)} (first at line {first_lines[key]})"
                self.problems.add((*where, key), message, line)
                continue
            first_lines[key] = line
            key_where = (*where, key)
            self.problems.lines[key_where] = line
            result[key] = self.value(value_node, key_where, depth + 1)
        return result

    def merge(self, node: yaml.Node, where: _Where, depth: int) -> dict[str, object]:
        self.visit(node, where, depth)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, where, depth + 1)
        merged: dict[str, object] = {}
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.visit(item, where, depth + 1)
                if not isinstance(item, yaml.MappingNode):
                    break
                for key, value in self.mapping(item, where, depth + 2).items():
                    merged.setdefault(key, value)
            else:
                return merged
        raise _Refused(node, where, "'<<' must merge a mapping or a list of mappings")

    def scalar(self, node: yaml.ScalarNode, where: _Where) -> object:
        text = str(node.value)
        tag = node.tag
        # Read as YAML 1.2 (what editors use): yes/no/on/off and 1:30 stay text.
        if tag in (_TAG + "str", _TAG + "timestamp"):
            return text
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return text.lower() == "true" if text.lower() in ("true", "false") else text
        if tag in (_TAG + "int", _TAG + "float"):
            if ":" in text:
                return text
            try:
                if tag == _TAG + "int":
                    return self.constructor.construct_yaml_int(node)
                return self.constructor.construct_yaml_float(node)
            except ValueError:
                raise _Refused(node, where, f"{_show(text)} is not a number") from None
        raise _Refused(node, where, _tag_refusal(tag))


class _Builder:
    """Semantic checks the schema cannot express, while building the dataclasses.

    Runs even after schema errors so that one pass reports everything; a field that
    already has an error, or the wrong type, is skipped with a harmless stand-in value.
    """

    def __init__(self, problems: _Problems) -> None:
        self.problems = problems

    def routine(self, raw: dict[str, object]) -> Routine:
        timing = self.timing(raw.get("timing"), ("timing",), _DEFAULT_TIMING)
        length_ms = None
        if "length" in raw:
            length_ms = self.duration(raw["length"], ("length",), allow_zero=False)
        language = raw.get("language")
        source = self.text(raw["source"], ("source",)) if "source" in raw else ""
        blocks = []
        first_lines: dict[str, int] = {}
        for index, block_raw in enumerate(_items(raw.get("blocks"))):
            if not isinstance(block_raw, dict):
                continue
            block = self.block(block_raw, ("blocks", index), timing)
            blocks.append(block)
            name_where: _Where = ("blocks", index, "name")
            key = block.name.casefold()
            if key in first_lines:
                message = (
                    f"duplicate block name {_show(block.name)} (first at line {first_lines[key]})"
                )
                self.problems.add(name_where, message)
            elif key:
                first_lines[key] = self.problems.line(name_where) or block.line
        return Routine(
            name=self.name(raw.get("name"), ("name",)),
            blocks=tuple(blocks),
            timing=timing,
            length_ms=length_ms,
            language=language if isinstance(language, str) else "en",
            equipment=self.texts(raw.get("equipment"), ("equipment",)),
            source=source or None,
            path=self.problems.path,
            length_line=self.problems.lines.get(("length",)) if "length" in raw else None,
            language_line=self.problems.lines.get(("language",)) if "language" in raw else None,
            music=self.music(raw.get("music"), ("music",)),
            sounds=self.sounds(raw.get("sounds"), ("sounds",)),
        )

    def music(self, raw: object, where: _Where) -> MusicOptions | None:
        """The routine's music: its file relative to the routine, and its levels."""
        if not isinstance(raw, dict) or not isinstance(raw.get("file"), str):
            return None
        levels: dict[str, float | None] = {"level": None, "duck": None}
        for key, valid in (("level", MUSIC_LEVEL_RANGE_DB), ("duck", DUCK_RANGE_DB)):
            if key in raw:
                try:
                    levels[key] = parse_level(raw[key], valid)
                except ValueError as error:
                    self.problems.add((*where, key), str(error))
        line = self.problems.line((*where, "file"))
        return MusicOptions(
            source=Path(self.problems.path).parent / Path(str(raw["file"])).expanduser(),
            level_db=levels["level"],
            duck_db=levels["duck"],
            where=f"{self.problems.path}:{line}: music.file" if line else "music.file",
        )

    def sounds(self, raw: object, where: _Where) -> tuple[Sound, ...]:
        """Sound files by tone, relative to the routine's folder; the schema checks names."""
        if not isinstance(raw, dict):
            return ()
        tones = routine_schema()["properties"]["sounds"]["properties"]
        found = []
        for tone, value in raw.items():
            if tone not in tones or not isinstance(value, str) or not value.strip():
                continue  # the schema has said why
            path = Path(self.problems.path).parent / Path(value).expanduser()
            if not path.is_file():
                self.problems.add(
                    (*where, tone), f"no sound file at {value!r} (relative to the routine's folder)"
                )
            found.append(Sound(str(tone), path, self.problems.line((*where, tone))))
        return tuple(found)

    def block(self, raw: dict[str, object], where: _Where, base: Timing) -> Block:
        timing = self.timing(raw.get("timing"), (*where, "timing"), base)
        rounds = self.whole(raw["rounds"], (*where, "rounds"), 1, 100) if "rounds" in raw else 1
        block_flex = raw.get("flex") is not False
        exercises = tuple(
            self.exercise(item, (*where, "exercises", index), timing, block_flex)
            for index, item in enumerate(_items(raw.get("exercises")))
            if isinstance(item, dict)
        )
        name = self.name(raw.get("name"), (*where, "name"))
        role = raw.get("role")
        if not isinstance(role, str) or role not in _ROLES:
            role = _role_from_name(name)
        return Block(
            name=name,
            rounds=rounds or 1,
            exercises=exercises,
            timing=timing,
            line=self.problems.line(where) or 0,
            rounds_fixed=raw.get("rounds_fixed") is True,
            role=role,
        )

    def exercise(
        self, raw: dict[str, object], where: _Where, base: Timing, block_flex: bool = True
    ) -> Exercise:
        has_time, has_reps = "time" in raw, "reps" in raw
        if has_time == has_reps:
            self.problems.add(where, "give exactly one of 'time' or 'reps'")
        time_ms = None
        if has_time:
            time_ms = self.duration(raw["time"], (*where, "time"), allow_zero=False)
        reps = self.whole(raw["reps"], (*where, "reps"), 1, 1000) if has_reps else None
        side = raw.get("first_side")
        return Exercise(
            name=self.name(raw.get("name"), (*where, "name")),
            time_ms=time_ms,
            reps=reps,
            per_side=raw.get("per_side") is True,
            first_side=side if isinstance(side, str) and side in _SIDES else "left",
            tips=self.texts(raw.get("tips"), (*where, "tips")),
            timing=self.timing(raw.get("timing"), (*where, "timing"), base),
            line=self.problems.line(where) or 0,
            flex=block_flex and raw.get("flex") is not False,
        )

    def timing(self, raw: object, where: _Where, base: Timing) -> Timing:
        """``base`` with the parts given in ``raw`` replaced."""
        if not isinstance(raw, dict):
            return base
        rest = raw.get("rest")
        rests = base.rest
        if isinstance(rest, dict):
            rest_where = (*where, "rest")
            exercise = self.rest(rest, "exercise", rest_where, rests)
            round_ = self.rest(rest, "round", rest_where, rests)
            block = self.rest(rest, "block", rest_where, rests)
            rests = Rests(
                exercise_ms=exercise[0],
                round_ms=round_[0],
                block_ms=block[0],
                exercise_range_ms=exercise[1],
                round_range_ms=round_[1],
                block_range_ms=block[1],
            )
        countdown = None
        if "countdown" in raw:
            countdown = self.whole(raw["countdown"], (*where, "countdown"), 0, 10)
        return Timing(
            rep_ms=self.override(raw, "rep", where, base.rep_ms, False),
            switch_sides_ms=self.override(raw, "switch_sides", where, base.switch_sides_ms, True),
            rest=rests,
            countdown_beats=base.countdown_beats if countdown is None else countdown,
        )

    def rest(
        self, raw: dict[str, object], kind: str, where: _Where, base: Rests
    ) -> tuple[int, tuple[int, int] | None]:
        """A rest as written: ``45s`` (its range is then the default) or ``30s..90s``."""
        inherited: tuple[int, tuple[int, int] | None] = (
            getattr(base, f"{kind}_ms"),
            getattr(base, f"{kind}_range_ms"),
        )
        value = raw.get(kind)
        if not (isinstance(value, str) and ".." in value):
            return self.override(
                raw, kind, where, inherited[0], True
            ), None if kind in raw else inherited[1]
        field = (*where, kind)
        low_text, _, high_text = value.partition("..")
        low_ms = self.duration(low_text, field, allow_zero=True)
        high_ms = self.duration(high_text, field, allow_zero=True)
        if low_ms is None or high_ms is None:
            return inherited
        if low_ms > high_ms:
            self.problems.add(field, f"range {_show(value)} runs backwards")
            return inherited
        # Without a target length the rest sits mid-range, on a whole second.
        middle_ms = round((low_ms + high_ms) / 2000) * 1000
        return min(max(middle_ms, low_ms), high_ms), (low_ms, high_ms)

    def override(
        self, raw: dict[str, object], key: str, where: _Where, default_ms: int, allow_zero: bool
    ) -> int:
        if key not in raw:
            return default_ms
        duration_ms = self.duration(raw[key], (*where, key), allow_zero=allow_zero)
        return default_ms if duration_ms is None else duration_ms

    def duration(self, raw: object, where: _Where, *, allow_zero: bool) -> int | None:
        if self.problems.flagged(where):
            return None
        try:
            duration_ms = parse_duration_ms(raw)
        except ValueError as exc:
            self.problems.add(where, str(exc))
            return None
        if duration_ms == 0 and not allow_zero:
            self.problems.add(where, f"must be longer than 0, got {_show(raw)}")
            return None
        if duration_ms > _MAX_DURATION_MS:
            self.problems.add(where, f"{_show(raw)} is absurdly long (over 6 hours)")
            return None
        return duration_ms

    def whole(self, raw: object, where: _Where, low: int, high: int) -> int | None:
        if self.problems.flagged(where):
            return None
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.problems.add(where, f"expected a whole number, got {_kind(raw)}")
            return None
        if not low <= raw <= high:
            self.problems.add(where, f"must be from {low} to {high}, got {raw}")
            return None
        return raw

    def name(self, raw: object, where: _Where) -> str:
        name = self.text(raw, where)
        if isinstance(raw, str) and not self.problems.flagged(where):
            if not name:
                self.problems.add(where, "must not be blank")
            elif len(name) > _MAX_NAME_CHARS:
                message = f"too long ({len(name)} characters; at most {_MAX_NAME_CHARS})"
                self.problems.add(where, message)
        return name

    def texts(self, raw: object, where: _Where) -> tuple[str, ...]:
        texts = (self.text(item, (*where, index)) for index, item in enumerate(_items(raw)))
        return tuple(text for text in texts if text)

    def text(self, raw: object, where: _Where) -> str:
        """Text with its spaces folded to single ones; a control character is an error.

        Folding here, once, means every cue, chapter and cache key sees the same text.
        """
        if not isinstance(raw, str):
            return ""
        if not self.problems.flagged(where):
            for char in raw.strip():
                if unicodedata.category(char) in _CONTROL_CATEGORIES:
                    self.problems.add(where, f"contains a control character (U+{ord(char):04X})")
                    break
        return " ".join(raw.split())


def _explain(error: Any) -> list[tuple[_Where, str]]:  # noqa: ANN401 - jsonschema is untyped
    """One jsonschema error -> (field, friendly message) pairs."""
    where: _Where = tuple(error.absolute_path)
    kind, limit, instance = error.validator, error.validator_value, error.instance
    schema: dict[str, Any] = error.schema
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unknown = [key for key in instance if key not in allowed]
        return [((*where, key), _unknown_key(key, allowed)) for key in unknown]
    if kind == "required":
        return [
            (where, f"missing required key {_show(key)}") for key in limit if key not in instance
        ]
    if kind == "type":
        return [(where, f"expected {_expected(schema)}, got {_kind(instance)}")]
    if kind in ("minItems", "minLength") and limit == 1:
        return [(where, "must not be empty")]
    if kind == "maxLength":
        return [(where, f"too long ({len(instance)} characters; at most {limit})")]
    if kind == "minimum":
        bound = "must not be negative" if limit == 0 else f"must be at least {limit}"
        return [(where, f"{bound}, got {_show(instance)}")]
    if kind == "maximum":
        return [(where, f"must be at most {limit}, got {_show(instance)}")]
    if kind == "pattern":
        hint = schema.get("patternErrorMessage", "not in the expected form")
        return [(where, f"{_show(instance)} is {hint}")]
    if kind == "enum" and where == ("version",):
        return [(where, f"unsupported version {_show(instance)} (only version 1 exists)")]
    if kind == "enum":
        return [(where, f"must be {' or '.join(map(_show, limit))}, got {_show(instance)}")]
    if kind == "oneOf":
        return []  # time-or-reps: the builder says it more clearly
    if kind == "anyOf" and error.context:
        # A rest is a duration (branch 0) or a range (branch 1): explain the branch meant.
        meant = 1 if isinstance(instance, str) and ".." in instance else 0
        branch = [e for e in error.context if e.relative_schema_path[0] == meant]
        return _explain(branch[0]) if branch else [(where, str(error.message))]
    return [(where, str(error.message))]


def _unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {_show(close[0])}?" if close else "allowed: " + ", ".join(allowed)
    return f"unknown key {_show(key)} ({hint})"


def _expected(schema: dict[str, Any]) -> str:
    types = schema.get("type")
    if types == ["string", "number"]:
        return "a duration like 30s or 1:30"
    if types == "array":
        return "a list of strings" if schema.get("items", {}).get("type") == "string" else "a list"
    names = {
        "object": "a mapping",
        "string": "text",
        "integer": "a whole number",
        "number": "a number",
        "boolean": "true or false",
    }
    return names.get(str(types), str(types))


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"the number {_show(value)}"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    return "a list" if isinstance(value, list) else "a mapping"


def _show(value: object) -> str:
    """Short repr for messages: quoted, escaped (so always one line) and truncated."""
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + "...'"


def _tag_refusal(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return f"YAML tag {shown} is not allowed (only text, numbers, lists and mappings)"


def _field(where: _Where) -> str:
    """``("blocks", 2, "time")`` -> ``"blocks[2].time"``; an odd key is quoted: ``['a\\nb']``."""
    field = ""
    for part in where:
        if isinstance(part, str) and not _plain(part):
            field += f"[{_show(part)}]"  # a newline or escape code must not reach the terminal
        else:
            field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else part
    return field


def _plain(key: str) -> bool:
    """Whether a key reads unambiguously unquoted in a field path."""
    return key.isprintable() and key.strip() == key != "" and "." not in key


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _items(value: object) -> list[object]:
    return value if isinstance(value, list) else []


@functools.cache
def _schema_text() -> str:
    schema_dir = resources.files("workout_audio").joinpath("schema")
    return schema_dir.joinpath("routine.schema.json").read_text(encoding="utf-8")


@functools.cache
def _validator() -> Any:  # noqa: ANN401 - jsonschema is untyped
    return jsonschema.Draft202012Validator(routine_schema())


def _role_from_name(name: str) -> str:
    """A block called "Warmup" or "Cool-down" is one, unless its ``role`` says otherwise."""
    folded = name.casefold().replace("-", "").replace(" ", "")
    if "warmup" in folded:
        return "warmup"
    if "cooldown" in folded:
        return "cooldown"
    return "main"
