"""Fuzzing: generated and mutated routines may load or be refused, never crash.

Whatever a routine file holds (random keys, types and nesting, unicode, huge
numbers, mangled YAML), ``load_routine`` either returns a routine or raises our
own error, and every routine it returns can be scheduled (``script_phrases`` and
``make_script`` with voice-like clip lengths) or is refused with our own error.
``FUZZ_EXAMPLES`` raises the number of examples for a longer local run.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from helpers import SEED, spoken_ms
from workout_audio import load_routine, make_script, script_phrases
from workout_audio.app.main import app
from workout_audio.errors import WorkoutAudioError
from workout_audio.routine import Routine

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

SEED_TEXT = SEED.read_text(encoding="utf-8")
SEED_DATA = yaml.safe_load(SEED_TEXT)

KEYS = [
    "version", "name", "source", "length", "language", "equipment", "timing", "blocks",
    "rep", "switch_sides", "rest", "exercise", "round", "block", "countdown", "rounds",
    "rounds_fixed", "flex", "exercises", "time", "reps", "per_side", "first_side", "tips",
    "role", "<<", "", "flow", "every", "amrap",
]  # fmt: skip
DURATION_TEXTS = [
    "30s", "1m30s", "1:30", "45:00", "1h", "2.5s", "1500ms", "0s", "-5s", "7h", "6h",
    "30s..90s", "90s..30s", "..", "1:00:00", "99:99", "1e400h", ".nan", "1" + "0" * 400 + "s",
]  # fmt: skip


HUGE_NUMBERS = [2**31, 2**63, -(2**63), 10**30, -(10**30), 10**400, 1e308, -1e-308, 5e-324]


def scalars() -> st.SearchStrategy[object]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(HUGE_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.text(max_size=4).map(lambda text: text * 60),  # around the 200-character limit
        st.sampled_from(DURATION_TEXTS),
        st.sampled_from(["left", "right", "en", "pt-BR", "xx", "warmup", "Hip Thrust"]),
    )


def values() -> st.SearchStrategy[object]:
    """Anything YAML can hold: scalars, lists and mappings, nested."""
    keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
    return st.recursive(
        scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(keys, inner, max_size=5),
        ),
        max_leaves=30,
    )


RARELY = st.sampled_from([False] * 19 + [True])  # hypothesis favours bounds; this stays 1 in 20


def sometimes(draw: st.DrawFn, good: st.SearchStrategy[object]) -> object:
    """Mostly a plausible value, sometimes anything at all."""
    return draw(values()) if draw(RARELY) else draw(good)


def durations(ranges: bool = False) -> st.SearchStrategy[object]:
    """Durations as users write them; rests may be ranges (30s..90s)."""
    written = st.one_of(
        st.sampled_from(["30s", "1m30s", "1:30", "45:00", "2.5s", "1500ms", "1:00:00", "1h"]),
        st.integers(1, 4000),
        st.floats(0.5, 400),
        st.builds("{}s".format, st.integers(1, 300)),
    )
    if not ranges:
        return written
    low = st.integers(0, 120)
    return st.one_of(
        written, st.builds("{0}s..{1}s".format, low, low.map(lambda seconds: seconds + 30))
    )


@st.composite
def plausible_routines(draw: st.DrawFn) -> dict[str, object]:
    """Routine-shaped data: the right keys in the right places, with odd values in them."""

    def maybe(data: dict[str, object], key: str, good: st.SearchStrategy[object]) -> None:
        if draw(st.booleans()):
            data[key] = sometimes(draw, good)

    def timing() -> dict[str, object]:
        data: dict[str, object] = {}
        for key in ("rep", "switch_sides"):
            maybe(data, key, durations())
        maybe(data, "countdown", st.integers(0, 10))
        maybe(data, "flow", st.sampled_from(["paused", "continuous"]))
        if draw(st.booleans()):
            keys = ("exercise", "round", "block")
            data["rest"] = {key: sometimes(draw, durations(ranges=True)) for key in keys}
        return data

    names = st.one_of(
        st.sampled_from(["Plank", "Hip Thrust", "Dynamic Glute Stretch in 90-90", "Core"]),
        st.text(st.characters(categories=["L", "N", "Zs", "P", "So"]), min_size=1, max_size=40),
    )
    routine: dict[str, object] = {"name": sometimes(draw, names)}
    maybe(routine, "length", durations())
    maybe(routine, "language", st.sampled_from(["en", "en-GB", "en-US"]))
    maybe(routine, "equipment", st.lists(names, max_size=3))
    if draw(st.booleans()):
        routine["timing"] = timing()
    blocks = []
    for _ in range(0 if draw(RARELY) else draw(st.integers(1, 3))):
        block: dict[str, object] = {"name": sometimes(draw, names)}
        maybe(block, "rounds", st.just(100) if draw(RARELY) else st.integers(1, 4))
        maybe(block, "rounds_fixed", st.booleans())
        maybe(block, "flex", st.booleans())
        structure = draw(st.sampled_from(["plain"] * 6 + ["every", "amrap"]))
        if structure != "plain":
            block[structure] = sometimes(draw, durations())
        if draw(st.booleans()):
            block["timing"] = timing()
        exercises = []
        for _ in range(0 if draw(RARELY) else draw(st.integers(1, 3))):
            exercise: dict[str, object] = {"name": sometimes(draw, names)}
            kind = draw(st.sampled_from(["time", "reps"] * 9 + ["both", "neither"]))
            by_round = draw(RARELY)  # one value a round: a ladder
            if kind in ("time", "both"):
                hold = st.lists(durations(), min_size=1, max_size=4) if by_round else durations()
                exercise["time"] = sometimes(draw, hold)
            if kind in ("reps", "both"):
                reps = st.integers(1, 1000)
                exercise["reps"] = sometimes(
                    draw, st.lists(reps, min_size=1, max_size=4) if by_round else reps
                )
            maybe(exercise, "per_side", st.booleans())
            maybe(exercise, "first_side", st.sampled_from(["left", "right"]))
            maybe(exercise, "tips", st.lists(names, max_size=3))
            maybe(exercise, "flex", st.booleans())
            if draw(st.booleans()):
                exercise["timing"] = timing()
            exercises.append(exercise)
        block["exercises"] = exercises
        blocks.append(block)
    routine["blocks"] = blocks
    if draw(RARELY):
        routine[draw(st.one_of(st.sampled_from(KEYS), st.text(max_size=12)))] = draw(values())
    return routine


def paths(data: object, prefix: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    """Every place in ``data`` a value sits: dict keys and list indexes."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from paths(value, (*prefix, index))


@st.composite
def mutated_seed_data(draw: st.DrawFn) -> object:
    """The seed routine as data, with a few values replaced, removed or added."""
    data = copy.deepcopy(SEED_DATA)  # a fresh copy to change
    for _ in range(draw(st.integers(1, 4))):
        places = [p for p in paths(data) if p]
        place = draw(st.sampled_from(places))
        *parent_path, last = place
        parent = data
        for part in parent_path:
            parent = parent[part]  # type: ignore[index]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[last] = sometimes(draw, st.one_of(durations(), st.text(max_size=20)))  # type: ignore[index]
        elif action == "delete":
            del parent[last]  # type: ignore[arg-type]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(values())
        else:
            parent.insert(draw(st.integers(0, len(parent))), draw(values()))  # type: ignore[union-attr]
    return data


TEXT_SNIPPETS = [
    "\t", "  ", "\n", ":", "- ", "&a ", "*a", "<<: *a\n", "!!python/object/apply:os.system [x]",
    "!!binary aGk=", "[", "]", "{", "}", "'", '"', "#", "---\n", "...\n", "? ", "|\n  ", ">-\n",
    "\x00", "\x07", "\x1b[31m", "\u2028", "\ufeff", "é", "🏋️", "～", "1e400", "9" * 50,
    ".nan", ".inf", "-0", "0x1F", "0o17", "~", "null", "yes", "2001-01-01", "1:30",
    "[/]", "[bold red]", "[link=x]", "\\e[2J",
]  # fmt: skip


@st.composite
def mutated_seed_text(draw: st.DrawFn) -> str:
    """The seed routine's YAML text with characters and lines inserted, deleted and moved."""
    text = SEED_TEXT
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "swap lines", "duplicate line"]))
        if action == "insert":
            piece = draw(st.one_of(st.sampled_from(TEXT_SNIPPETS), st.text(max_size=8)))
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        else:
            lines = text.split("\n")
            a = draw(st.integers(0, len(lines) - 1))
            b = draw(st.integers(0, len(lines) - 1))
            if action == "swap lines":
                lines[a], lines[b] = lines[b], lines[a]
            else:
                lines.insert(b, lines[a])
            text = "\n".join(lines)
    return text


@pytest.fixture(scope="module")
def routine_file() -> Iterator[Path]:
    """One file rewritten by every example (hypothesis reruns a test, not its fixtures)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        yield Path(folder) / "routine.yaml"


def load_or_refuse(path: Path) -> Routine | None:
    """The routine, or None when it is refused with our own error; anything else fails."""
    try:
        routine = load_routine(path)
    except WorkoutAudioError as error:
        event("refused")
        message = str(error)
        assert message, "an error without a message"
        assert "\n" not in message, message
        assert str(path) in message, message
        return None
    event("loaded")
    return routine


def schedule_or_refuse(routine: Routine, length_ms: int | None) -> None:
    try:
        phrases = script_phrases(routine, length_ms=length_ms)
        clip_ms = {text: spoken_ms(text) for text in phrases}
        script = make_script(routine, spoken_ms if length_ms or routine.length_ms else clip_ms,
                             length_ms=length_ms)  # fmt: skip
    except WorkoutAudioError as error:
        event(f"scheduling refused: {type(error).__name__}")
        message = str(error)
        assert "\n" not in message, message
        return
    event("scheduled")
    assert script.length_ms > 0
    assert all(0 <= e.start_ms <= e.end_ms <= script.length_ms for e in script.events)


def dump(data: object) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6)


@FUZZ
@given(data=st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=12)), values()))
def test_generated_mappings_load_or_are_refused(routine_file: Path, data: object) -> None:
    routine_file.write_text(dump(data), encoding="utf-8")
    load_or_refuse(routine_file)


@FUZZ
@given(data=plausible_routines(), length_ms=st.one_of(st.none(), st.integers(1, 4 * 3_600_000)))
def test_generated_routines_load_and_schedule_or_are_refused(
    routine_file: Path, data: object, length_ms: int | None
) -> None:
    routine_file.write_text(dump(data), encoding="utf-8")
    routine = load_or_refuse(routine_file)
    if routine is not None:
        schedule_or_refuse(routine, length_ms)


@FUZZ
@given(data=mutated_seed_data(), length_ms=st.one_of(st.none(), st.integers(1, 4 * 3_600_000)))
def test_mutated_seed_routines_load_and_schedule_or_are_refused(
    routine_file: Path, data: object, length_ms: int | None
) -> None:
    routine_file.write_text(dump(data), encoding="utf-8")
    routine = load_or_refuse(routine_file)
    if routine is not None:
        schedule_or_refuse(routine, length_ms)


@FUZZ
@given(text=mutated_seed_text())
def test_mangled_seed_text_loads_and_schedules_or_is_refused(routine_file: Path, text: str) -> None:
    routine_file.write_bytes(text.encode("utf-8", "surrogatepass"))
    routine = load_or_refuse(routine_file)
    if routine is not None:
        schedule_or_refuse(routine, None)


@FUZZ
@given(raw=st.binary(max_size=400))
def test_arbitrary_bytes_load_or_are_refused(routine_file: Path, raw: bytes) -> None:
    routine_file.write_bytes(raw)
    load_or_refuse(routine_file)


@FUZZ
@given(text=mutated_seed_text())
def test_build_answers_mangled_text_in_one_line(routine_file: Path, text: str) -> None:
    # A routine that loads goes no further than the output check, before any speech is made.
    routine_file.write_bytes(text.encode("utf-8", "surrogatepass"))
    output = routine_file.parent / "no such folder" / "track.mp3"
    result = CliRunner().invoke(app, ["build", str(routine_file), "-o", str(output)])
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith((f"error: {routine_file}", f"error: {output}")), lines[0]
