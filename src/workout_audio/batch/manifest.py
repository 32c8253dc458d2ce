"""A batch manifest (YAML or CSV) -> checked items, before anything is made.

An item is a track (``routine:``) or a whole program (``program:``, its output a folder).

The JSON Schema ``schema/manifest.schema.json`` is the one home of the settings'
names: a YAML item's keys and a CSV file's columns are checked against it, and
each value is read as the command line reads the option of the same name. Every
problem names the manifest's file and line (a CSV row's line), and the whole
manifest is checked before any speech is made.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import yaml

from ..encode.formats import audio_format
from ..errors import UsageError
from ..levels import (
    DEFAULT_TARGET_LUFS,
    DUCK_RANGE_DB,
    LOUDNESS_RANGE_LUFS,
    MUSIC_LEVEL_RANGE_DB,
    parse_level,
)
from ..outputs.sidecars import DEFAULT_SIDECARS
from ..planning import length_ms_of, plan_track, sidecar_names
from ..preparation import check_language
from ..programs import Program, check_base_url, load_program
from ..routine import Routine, load_routine
from ..settings import EncodeSettings, MusicSettings, VoiceSettings
from ..speech import engine_class
from ..timeline.fit import check_roughly

__all__ = [
    "BatchItem",
    "Manifest",
    "ProgramItem",
    "load_manifest",
    "manifest_schema",
    "setting_names",
]

_MAX_FILE_BYTES = 10_000_000  # 10,000 members at 4 lengths is about 2 MB of CSV
_SOURCES = ("routine", "program")  # what an item is made from: exactly one of them
_EITHER = "give either a routine or a program"
_TRACK_ONLY = ("length", "sidecars")  # a program's sessions have their own
_PROGRAM_ONLY = ("base_url",)


@dataclass(frozen=True)
class BatchItem:
    """One track of a batch, checked and ready to build anywhere (it pickles).

    Attributes:
        where: the manifest's ``file:line`` that asked for it, named in messages.
        routine: the routine file.
        output: the track.
        length_ms: the exact length, or None for the routine's own.
        voice: the voice settings, the listener's name among them.
        music: the music settings, or None for the routine's own ``music:``.
        encode: loudness and format; each track is encoded whole (one encoder), so its
            bytes are the same on any worker whatever its cores.
        format: ``mp3``, ``m4a`` or ``opus``, or None for the output's suffix.
        sidecars: the files beside the track.
        language: the cue language, the routine's when the item does not say.
    """

    where: str
    routine: Path
    output: Path
    length_ms: int | None
    voice: VoiceSettings
    music: MusicSettings | None
    encode: EncodeSettings
    format: str | None
    sidecars: tuple[str, ...]
    language: str
    files: tuple[Path, ...] = field(default=())  # the output and the files beside it

    @property
    def listener_name(self) -> str | None:
        return self.voice.listener_name


@dataclass(frozen=True)
class ProgramItem:
    """A whole program of a batch, checked: built as ``program build`` builds it.

    Attributes:
        where: the manifest's ``file:line`` that asked for it, named in messages.
        program: the program, its routines read and checked.
        output: the folder for its tracks and feed.
        voice: the program's voice with the row's settings over it.
        music: the program's music with the row's settings over it.
        encode: the program's encoding with the row's settings over it.
        base_url: where the folder will be served (the feed's URLs start with it).
    """

    where: str
    program: Program
    output: Path
    voice: VoiceSettings
    music: MusicSettings | None
    encode: EncodeSettings
    base_url: str | None


@dataclass(frozen=True)
class Manifest:
    """The items of a manifest, in its order: the tracks, and the programs."""

    path: Path
    items: tuple[BatchItem, ...]
    programs: tuple[ProgramItem, ...] = ()

    @property
    def count(self) -> int:
        """Every item, tracks and programs."""
        return len(self.items) + len(self.programs)


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of YAML manifests; a CSV's columns are its item keys."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


def setting_names() -> tuple[str, ...]:
    """An item's keys (a CSV's columns): ``routine`` or ``program``, ``output`` and the
    build settings."""
    return tuple(manifest_schema()["$defs"]["item"]["properties"])


def load_manifest(path: str | Path, output_dir: str | Path | None = None) -> Manifest:
    """Read and check a manifest; paths in it are relative to its folder.

    Args:
        path: a ``.yaml``/``.yml`` or ``.csv`` manifest.
        output_dir: where the outputs' relative paths start (default: the manifest's folder).

    Returns:
        Every item checked: its routine read, its settings parsed, its output planned.

    Raises:
        UsageError: the first problem, as ``file:line: field: message``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()[: _MAX_FILE_BYTES + 1]
    except OSError as error:
        raise UsageError(f"{path}: cannot read the manifest: {error.strerror or error}") from None
    if len(data) > _MAX_FILE_BYTES:
        raise UsageError(f"{path}: the manifest is too big (over {_MAX_FILE_BYTES} bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UsageError(f"{path}:{line}: not UTF-8 text; save it as UTF-8") from None
    if path.suffix.lower() == ".csv":
        rows = list(_csv_rows(path, text))
    elif path.suffix.lower() in (".yaml", ".yml"):
        rows = list(_yaml_rows(path, text))
    else:
        raise UsageError(f"{path}: a manifest is a .yaml, .yml or .csv file")
    base = path.parent
    outputs = Path(output_dir) if output_dir is not None else base
    seen = _Seen()
    checked = [
        _program_item(row, base, outputs)
        if "program" in row.values
        else _item(row, base, outputs, seen)
        for row in rows
    ]
    _check_unique(checked, lambda item: (item.output,))
    # Only now, every item checked, are the outputs' folders made.
    items = [_planned(item) for item in checked if isinstance(item, BatchItem)]
    programs = [item for item in checked if isinstance(item, ProgramItem)]
    _check_unique([*items, *programs], lambda item: _files_of(item))
    return Manifest(path, tuple(items), tuple(programs))


@dataclass(frozen=True)
class _Row:
    where: str  # file:line
    values: dict[str, object]
    lines: dict[str, int]  # a value's own line, where YAML says

    def at(self, key: str) -> str:
        file, _, line = self.where.rpartition(":")
        return f"{file}:{self.lines.get(key, int(line))}: {key}"


def _csv_rows(path: Path, text: str) -> Iterator[_Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [name.strip() for name in reader.fieldnames or []]
    known = setting_names()
    required = manifest_schema()["$defs"]["item"]["required"]
    for name in columns:
        if name not in known:
            raise UsageError(f"{path}:1: {name}: {_unknown(name)}")
    for name in required:
        if name not in columns:
            raise UsageError(
                f"{path}:1: the column {name!r} is missing (columns: {', '.join(columns)})"
            )
    if not set(_SOURCES) & set(columns):
        raise UsageError(
            f"{path}:1: the column 'routine' (or 'program') is missing "
            f"(columns: {', '.join(columns)})"
        )
    line = reader.line_num
    count = 0
    for raw in reader:
        where = f"{path}:{line + 1}"
        line = reader.line_num
        if None in raw:
            raise UsageError(f"{where}: more values than the {len(columns)} columns")
        values: dict[str, object] = {
            name.strip(): value.strip() for name, value in raw.items() if value and value.strip()
        }
        if not values:
            continue  # a blank line
        for name in required:
            if name not in values:
                raise UsageError(f"{where}: {name}: is empty; every row needs one")
        count += 1
        yield _Row(where, values, {})
    if not count:
        raise UsageError(f"{path}: no rows; a manifest needs at least one item")


def _yaml_rows(path: Path, text: str) -> Iterator[_Row]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        at = f":{mark.line + 1}" if mark else ""
        raise UsageError(f"{path}{at}: not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise UsageError(f"{path}: not valid YAML: {error}") from None
    finally:
        loader.dispose()
    if node is None:
        raise UsageError(f"{path}: the manifest is empty; it needs items: with one track each")
    problems = sorted(_validator().iter_errors(data), key=lambda e: _line_of(node, e.path))
    if problems:
        problem = problems[0]
        parts: list[object] = list(problem.path)
        message = problem.message
        if problem.validator == "additionalProperties":
            extra = sorted(set(problem.instance) - set(problem.schema["properties"]))
            parts.append(extra[0])
            message = _unknown(extra[0])
        elif problem.validator == "oneOf":
            parts.append("routine")
            message = _EITHER
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
        line = _line_of(node, parts)
        raise UsageError(f"{path}:{line}: {where.lstrip('.') or 'items'}: {message}")
    items_node = _value(node, "items")
    assert isinstance(items_node, yaml.SequenceNode)
    assert isinstance(data, dict)
    for item_node, values in zip(items_node.value, data["items"], strict=True):
        lines = {key.value: key.start_mark.line + 1 for key, _ in item_node.value}
        yield _Row(f"{path}:{item_node.start_mark.line + 1}", values, lines)


def _value(node: yaml.Node, key: object) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        found: yaml.Node = node.value[key]
        return found
    return None


def _line_of(node: yaml.Node, where: Any) -> int:  # noqa: ANN401 - jsonschema's deque
    """The line of the deepest node of ``where`` that the document has."""
    line = node.start_mark.line + 1
    for part in where:
        found = _value(node, part)
        if found is None:
            if isinstance(node, yaml.MappingNode):  # the key itself, when it is there
                line = next((k.start_mark.line + 1 for k, _ in node.value if k.value == part), line)
            break
        node, line = found, found.start_mark.line + 1
    return line


def _unknown(name: str) -> str:
    return f"unknown setting; the settings are {', '.join(setting_names())}"


@dataclass
class _Seen:
    """What earlier rows already checked: thousands of members share a few routines."""

    routines: dict[Path, Routine] = field(default_factory=dict)
    lengths: set[tuple[Path, int]] = field(default_factory=set)  # reachable by the routine
    voices: set[tuple[Path, VoiceSettings, str]] = field(default_factory=set)


def _text(row: _Row, key: str) -> str | None:
    value = row.values.get(key)
    return None if value is None else str(value)


def _checked(row: _Row, key: str, read: Callable[[], Any]) -> Any:  # noqa: ANN401 - its own type
    """``read()``, its problem told at the row's ``key`` as the command line tells it."""
    try:
        return read()
    except UsageError as error:
        message = str(error)
        for prefix in (f"--{key.replace('_', '-')}: ", "--lang: ", "--name: ", "--rate: "):
            message = message.removeprefix(prefix)
        raise UsageError(f"{row.at(key)}: {message}") from None


def _check_keys(row: _Row, refused: tuple[str, ...], why: str) -> None:
    sources = [key for key in _SOURCES if key in row.values]
    if len(sources) != 1:
        raise UsageError(f"{row.where}: routine: {_EITHER}")
    for key in refused:
        if key in row.values:
            raise UsageError(f"{row.at(key)}: {why}")


def _item(row: _Row, base: Path, outputs: Path, seen: _Seen) -> BatchItem:
    _check_keys(row, _PROGRAM_ONLY, "only for a program: item")
    values = row.values

    def text(key: str) -> str | None:
        return _text(row, key)

    def checked(key: str, read: Any) -> Any:  # noqa: ANN401 - each setting's own type
        return _checked(row, key, read)

    routine_path = base / str(values["routine"])
    if not routine_path.is_file():
        raise UsageError(f"{row.at('routine')}: {routine_path} does not exist")
    if routine_path not in seen.routines:
        seen.routines[routine_path] = checked("routine", lambda: load_routine(routine_path))
    routine = seen.routines[routine_path]
    voice = checked(
        "name",
        lambda: VoiceSettings(
            engine=text("engine") or "auto",
            language=text("language"),
            voice_path=_voice_path(row, base),
            listener_name=text("name"),
        ),
    )
    if voice.engine != "auto":
        checked("engine", lambda: engine_class(voice.engine))
    language = voice.language or routine.language
    spoken = (routine_path, dataclasses.replace(voice, listener_name=None), language)
    if spoken not in seen.voices:
        checked("language", lambda: check_language(_in_language(routine, language), voice))
        seen.voices.add(spoken)
    length_ms = checked("length", lambda: length_ms_of(text("length")))
    if length_ms is not None and (routine_path, length_ms) not in seen.lengths:
        checked("length", lambda: check_roughly(routine, length_ms))
        seen.lengths.add((routine_path, length_ms))
    music = None
    if any(key in values for key in ("music", "music_level", "duck")):
        music = _music(row, base)
    loudness = _level(row, "loudness", LOUDNESS_RANGE_LUFS, "LUFS")
    encode = EncodeSettings(
        loudness_lufs=DEFAULT_TARGET_LUFS if loudness is None else loudness, encoders=1
    )
    sidecars = checked(
        "sidecars", lambda: sidecar_names(text("sidecars") or ",".join(DEFAULT_SIDECARS))
    )
    return BatchItem(
        where=row.where,
        routine=routine_path,
        output=outputs / str(values["output"]),
        length_ms=length_ms,
        voice=voice,
        music=music,
        encode=encode,
        format=text("format"),
        sidecars=sidecars,
        language=language,
    )


def _program_item(row: _Row, base: Path, outputs: Path) -> ProgramItem:
    """A ``program:`` row: the program read and checked (its routines, its sessions' lengths
    and language with the row's voice), its settings over the program's own."""
    _check_keys(row, _TRACK_ONLY, "not for a program: item (each session has its own)")
    program_path = base / str(row.values["program"])
    if not program_path.is_file():
        raise UsageError(f"{row.at('program')}: {program_path} does not exist")
    program = _checked(row, "program", lambda: load_program(program_path))
    voice, _, _ = _checked(
        row,
        "name",
        lambda: program.settings_over(
            engine=_text(row, "engine"),
            language=_text(row, "language"),
            voice_path=_voice_path(row, base),
            listener_name=_text(row, "name"),
        ),
    )
    if voice.engine != "auto":
        _checked(row, "engine", lambda: engine_class(voice.engine))
    for session in program.sessions:
        language = voice.language or session.routine.language
        routine = _in_language(session.routine, language)
        _checked(row, "language", functools.partial(check_language, routine, voice))
        if session.length_ms is not None:
            _checked(row, "program", functools.partial(check_roughly, routine, session.length_ms))
    asked_music = any(key in row.values for key in ("music", "music_level", "duck"))
    loudness = _level(row, "loudness", LOUDNESS_RANGE_LUFS, "LUFS")
    format_name = _text(row, "format")
    if format_name is not None:
        _checked(row, "format", lambda: audio_format(format_name))
    _, music, encode = program.settings_over(
        _music(row, base) if asked_music else None, format=format_name, loudness_lufs=loudness
    )
    base_url = _text(row, "base_url")
    if base_url is not None:
        _checked(row, "base_url", lambda: check_base_url(base_url))
    output = outputs / str(row.values["output"])
    if output.exists() and not output.is_dir():
        raise UsageError(f"{row.at('output')}: {output} is a file; give a folder for the program")
    return ProgramItem(row.where, program, output, voice, music, encode, base_url)


def _voice_path(row: _Row, base: Path) -> Path | None:
    """A piper voice by file (relative to the manifest) or by name."""
    voice_text = _text(row, "voice")
    if voice_text is None:
        return None
    voice_file = base / voice_text
    return voice_file if voice_file.exists() else Path(voice_text)


def _music(row: _Row, base: Path) -> MusicSettings:
    source = base / str(row.values["music"]) if "music" in row.values else None
    if source is not None and not source.exists():
        raise UsageError(f"{row.at('music')}: {source} does not exist")
    return MusicSettings(
        source=source,
        level_db=_level(row, "music_level", MUSIC_LEVEL_RANGE_DB, "dB"),
        duck_db=_level(row, "duck", DUCK_RANGE_DB, "dB"),
        where=row.at("music"),
    )


def _files_of(item: BatchItem | ProgramItem) -> tuple[Path, ...]:
    return item.files if isinstance(item, BatchItem) else (item.output,)


def _planned(item: BatchItem) -> BatchItem:
    """The item with its files planned as ``build`` plans them (its folder made first)."""
    item.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        plan = plan_track(
            item.routine, item.output, format_name=item.format, encode=item.encode,
            sidecars=item.sidecars,
        )  # fmt: skip
    except UsageError as error:
        raise UsageError(f"{item.where}: output: {error}") from None
    return dataclasses.replace(
        item, output=plan.track, encode=plan.encode, files=(plan.track, *plan.sidecars)
    )


def _in_language(routine: Routine, language: str) -> Routine:
    if language == routine.language:
        return routine
    return dataclasses.replace(routine, language=language, language_line=None)


def _level(row: _Row, key: str, valid: tuple[float, float], unit: str) -> float | None:
    value = row.values.get(key)
    if value is None:
        return None
    try:
        return parse_level(value, valid, unit)
    except ValueError as error:
        raise UsageError(f"{row.at(key)}: {error}") from None


def _check_unique(
    items: Sequence[BatchItem | ProgramItem],
    files: Callable[[BatchItem | ProgramItem], Iterable[Path]],
) -> None:
    """Two items writing one file would race: refuse it, naming both rows."""
    seen: dict[Path, BatchItem | ProgramItem] = {}
    for item in items:
        for path in files(item):
            key = path.resolve()
            if key in seen:
                first = seen[key]
                raise UsageError(
                    f"{item.where}: output: {path} is also written by the item at {first.where}"
                )
            seen[key] = item


@functools.cache
def _schema_text() -> str:
    schema_dir = resources.files("workout_audio").joinpath("schema")
    return schema_dir.joinpath("manifest.schema.json").read_text(encoding="utf-8")


@functools.cache
def _validator() -> Any:  # noqa: ANN401 - jsonschema is untyped
    return jsonschema.Draft202012Validator(manifest_schema())
