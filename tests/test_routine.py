import json
import re
import textwrap
import time
from importlib import resources

import jsonschema
import pytest

from workout_audio.durations import parse_duration_ms
from workout_audio.errors import RoutineError, RoutineErrors
from workout_audio.routine import Rests, Timing, load_routine

FULL = """\
version: 1
name: Total-Body Strength for Runners
source: Runner's World, with Winnie Yu, DPT, CSCS
length: 30m
language: pt-BR
equipment: [exercise mat, mini resistance band]
timing:
  rep: 4s
  rest: {exercise: 20s, round: 30s}
  countdown: 5
blocks:
  - name: Warmup
    rounds: 2
    timing: {rest: {exercise: 5s}, switch_sides: 0s}
    exercises:
      - {name: Dynamic Glute Stretch in 90-90, time: 30s, per_side: true}
      - name: Hip Thrust
        reps: 10
        tips: [Squeeze your glutes at the top.]
        first_side: right
        timing: {rep: 2s, rest: {round: 0}}
  - name: Strength
    exercises:
      - {name: Plank, time: "1:30"}
      - {name: Side Plank, time: 1:00, per_side: true}
"""


ONE_BLOCK = "blocks: [{name: B, exercises: [{name: E, reps: 1}]}]\n"


def write(tmp_path, text, name="routine.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors_of(tmp_path, text):
    with pytest.raises(RoutineErrors) as info:
        load_routine(write(tmp_path, text))
    return info.value.errors


def the_error(tmp_path, text):
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, [str(error) for error in errors]
    return errors[0]


def one_exercise(fields):
    """A routine whose only exercise, ``{fields}``, is on line 5."""
    return f"name: R\nblocks:\n  - name: B\n    exercises:\n      - {{{fields}}}\n"


def assert_error(error, line, field, *words):
    assert (error.line, error.field) == (line, field), str(error)
    for word in words:
        assert word in error.message, str(error)
    assert "\n" not in str(error)


# --- a valid routine ---


def test_valid_routine_loads_with_timing_resolved_level_by_level(tmp_path):
    routine = load_routine(write(tmp_path, FULL))

    assert routine.name == "Total-Body Strength for Runners"
    assert routine.source == "Runner's World, with Winnie Yu, DPT, CSCS"
    assert (routine.length_ms, routine.length_line) == (1_800_000, 4)
    assert routine.language == "pt-BR"
    assert routine.equipment == ("exercise mat", "mini resistance band")
    assert routine.timing == Timing(4_000, 5_000, Rests(20_000, 30_000, 60_000), 5)

    warmup, strength = routine.blocks
    assert (warmup.name, warmup.rounds, warmup.line) == ("Warmup", 2, 12)
    assert warmup.timing == Timing(4_000, 0, Rests(5_000, 30_000, 60_000), 5)
    stretch, thrust = warmup.exercises
    assert (stretch.time_ms, stretch.reps, stretch.per_side) == (30_000, None, True)
    assert stretch.first_side == "left"
    assert stretch.timing == warmup.timing
    assert (thrust.reps, thrust.first_side, thrust.line) == (10, "right", 17)
    assert thrust.tips == ("Squeeze your glutes at the top.",)
    assert thrust.timing == Timing(2_000, 0, Rests(5_000, 0, 60_000), 5)
    assert thrust.work_in_ms(1) == 20_000

    assert strength.rounds == 1
    assert strength.timing == routine.timing
    assert [exercise.time_ms for exercise in strength.exercises] == [90_000, 60_000]


def test_minimal_routine_gets_the_defaults(tmp_path):
    path = write(tmp_path, one_exercise("name: E, reps: 5"))
    routine = load_routine(str(path))

    assert routine.path == str(path)
    assert (routine.length_ms, routine.length_line) == (None, None)
    assert (routine.language, routine.source, routine.equipment) == ("en", None, ())
    assert routine.timing == Timing(3_000, 5_000, Rests(15_000, 45_000, 60_000), 3)
    assert routine.blocks[0].exercises[0].work_in_ms(1) == 15_000


def test_rest_of_zero_is_valid(tmp_path):
    text = one_exercise("name: E, time: 30s, timing: {rest: {exercise: 0s, round: 0, block: '0'}}")
    exercise = load_routine(write(tmp_path, text)).blocks[0].exercises[0]
    assert exercise.timing.rest == Rests(0, 0, 0)


def test_merge_keys_reuse_an_anchored_mapping(tmp_path):
    text = """\
    name: R
    blocks:
      - name: A
        timing: &fast {rep: 2s, countdown: 0}
        exercises: [{name: E, reps: 2}]
      - name: B
        timing:
          <<: *fast
          rep: 1s
        exercises: [{name: E, reps: 2}]
    """
    first, second = load_routine(write(tmp_path, text)).blocks
    assert (first.timing.rep_ms, first.timing.countdown_beats) == (2_000, 0)
    assert (second.timing.rep_ms, second.timing.countdown_beats) == (1_000, 0)


# --- reading the file ---


def test_missing_file(tmp_path):
    with pytest.raises(RoutineErrors) as info:
        load_routine(tmp_path / "nope.yaml")
    assert_error(info.value, None, "", "cannot read")


def test_not_utf8(tmp_path):
    path = tmp_path / "routine.yaml"
    path.write_bytes(b"name: R\nblocks: caf\xe9\n")
    with pytest.raises(RoutineErrors) as info:
        load_routine(path)
    assert_error(info.value, 2, "", "UTF-8")


def test_tab_indentation_is_not_valid_yaml(tmp_path):
    error = the_error(tmp_path, "name: R\nblocks:\n\t- name: B\n")
    assert_error(error, 3, "", "not valid YAML", "a tab indents this line")


def test_malformed_yaml_names_the_line(tmp_path):
    error = the_error(tmp_path, "name: R\nblocks: [\n  {name: B\n")
    assert_error(error, 4, "", "not valid YAML")


def test_top_level_list_is_refused(tmp_path):
    error = the_error(tmp_path, "- name: R\n- blocks: []\n")
    assert_error(error, 1, "", "mapping", "got a list")


def test_empty_file_is_refused(tmp_path):
    assert_error(the_error(tmp_path, "# nothing yet\n"), None, "", "empty")


def test_billion_laughs_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        aliases = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    path = write(tmp_path, "\n".join(lines) + "\n")

    started_s = time.perf_counter()
    with pytest.raises(RoutineErrors) as info:
        load_routine(path)
    assert time.perf_counter() - started_s < 0.5
    assert "alias" in info.value.message


def test_alias_inside_itself_is_refused(tmp_path):
    error = the_error(tmp_path, "name: &n [*n]\nblocks: []\n")
    assert_error(error, 1, "", "alias inside itself")


@pytest.mark.parametrize(
    "value",
    ['!!python/object/apply:os.system ["touch pwned"]', "!!python/name:os.system", "!custom x"],
)
def test_python_and_custom_tags_are_refused(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    error = the_error(tmp_path, f"name: {value}\nblocks: []\n")
    assert_error(error, 1, "name", "not allowed")
    assert not (tmp_path / "pwned").exists()


def test_duplicate_key_is_an_error(tmp_path):
    text = "name: R\nblocks:\n  - name: B\n    exercises:\n      - name: E\n        name: F\n"
    error = the_error(tmp_path, text + "        reps: 3\n")
    assert_error(error, 6, "blocks[0].exercises[0].name", "duplicate key 'name'", "line 5")


def test_unquoted_clock_time_is_a_duration_not_a_base_60_number(tmp_path):
    routine = load_routine(write(tmp_path, one_exercise("name: E, time: 1:30")))
    assert routine.blocks[0].exercises[0].time_ms == 90_000


# --- structure (schema) ---


def test_unknown_key_suggests_the_close_one(tmp_path):
    error = the_error(tmp_path, one_exercise("name: E, reps: 3, tipz: [x]"))
    assert_error(
        error, 5, "blocks[0].exercises[0].tipz", "unknown key 'tipz'", "did you mean 'tips'?"
    )


def test_misspelt_time_also_lacks_time_or_reps(tmp_path):
    unknown, missing = errors_of(tmp_path, one_exercise("name: E, tmie: 30s"))
    assert_error(unknown, 5, "blocks[0].exercises[0].tmie", "did you mean 'time'?")
    assert_error(missing, 5, "blocks[0].exercises[0]", "exactly one of 'time' or 'reps'")


def test_unknown_key_without_a_close_match_lists_the_allowed_ones(tmp_path):
    error = the_error(tmp_path, "name: R\nzzz: 1\n" + ONE_BLOCK)
    assert_error(error, 2, "zzz", "unknown key 'zzz'", "allowed:", "blocks")


def test_missing_required_key(tmp_path):
    text = "name: R\nblocks:\n  - rounds: 2\n    exercises: [{name: E, reps: 1}]\n"
    assert_error(the_error(tmp_path, text), 3, "blocks[0]", "missing required key 'name'")


def test_missing_top_level_key(tmp_path):
    error = the_error(tmp_path, "# my routine\nname: R\n")
    assert_error(error, 2, "", "missing required key 'blocks'")


def test_wrong_type_says_what_was_expected(tmp_path):
    error = the_error(tmp_path, one_exercise("name: E, reps: 3, tips: 5"))
    assert_error(error, 5, "blocks[0].exercises[0].tips", "expected a list of strings", "number")


def test_yes_is_not_a_boolean(tmp_path):
    error = the_error(tmp_path, one_exercise("name: E, reps: 3, per_side: yes"))
    assert_error(error, 5, "blocks[0].exercises[0].per_side", "true or false", "'yes'")


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("name: R\nblocks: []\n", 2, "blocks"),
        ("name: R\nblocks:\n  - name: B\n    exercises: []\n", 4, "blocks[0].exercises"),
    ],
)
def test_empty_lists_are_refused(tmp_path, text, line, field):
    assert_error(the_error(tmp_path, text), line, field, "must not be empty")


@pytest.mark.parametrize(
    ("line_text", "field", "word"),
    [
        ("version: 2", "version", "only version 1"),
        ("language: english", "language", "not a language code"),
        ("timing: {countdown: 11}", "timing.countdown", "at most 10"),
        ("timing: {countdown: -1}", "timing.countdown", "negative"),
        ("timing: {rest: {lunch: 5s}}", "timing.rest.lunch", "unknown key"),
    ],
)
def test_top_level_values_out_of_range(tmp_path, line_text, field, word):
    text = f"name: R\n{line_text}\n" + ONE_BLOCK
    assert_error(the_error(tmp_path, text), 2, field, word)


def test_rounds_out_of_range(tmp_path):
    text = "name: R\nblocks:\n  - name: B\n    rounds: 0\n    exercises: [{name: E, reps: 1}]\n"
    assert_error(the_error(tmp_path, text), 4, "blocks[0].rounds", "at least 1", "0")


# --- rules checked in code ---


@pytest.mark.parametrize("fields", ["name: E", "name: E, time: 30s, reps: 10"])
def test_exactly_one_of_time_or_reps(tmp_path, fields):
    error = the_error(tmp_path, one_exercise(fields))
    assert_error(error, 5, "blocks[0].exercises[0]", "exactly one of 'time' or 'reps'")


@pytest.mark.parametrize(
    ("time", "shown"),
    [("0s", "'0s'"), ("0", "0"), ("-5", "-5"), ("-5s", "'-5s'"), (".nan", "nan"), ("abc", "'abc'")],
)
def test_exercise_time_must_be_a_positive_duration(tmp_path, time, shown):
    error = the_error(tmp_path, one_exercise(f"name: E, time: {time}"))
    assert_error(error, 5, "blocks[0].exercises[0].time", shown)


@pytest.mark.parametrize(
    ("reps", "word"),
    [("0", "at least 1"), ("1001", "at most 1000"), ("true", "whole number"), ("2.5", "2.5")],
)
def test_reps_must_be_a_whole_number_from_1_to_1000(tmp_path, reps, word):
    error = the_error(tmp_path, one_exercise(f"name: E, reps: {reps}"))
    assert_error(error, 5, "blocks[0].exercises[0].reps", word)


@pytest.mark.parametrize(
    ("timing", "field", "word"),
    [
        ("{rest: {round: -1}}", "rest.round", "negative"),
        ("{rest: {block: soon}}", "rest.block", "'soon' is not a duration"),
        ("{rep: 0s}", "rep", "longer than 0"),
        ("{switch_sides: -2s}", "switch_sides", "not a duration"),
    ],
)
def test_timing_values(tmp_path, timing, field, word):
    text = one_exercise(f"name: E, reps: 3, timing: {timing}")
    assert_error(the_error(tmp_path, text), 5, f"blocks[0].exercises[0].timing.{field}", word)


def test_switch_sides_may_be_zero(tmp_path):
    text = one_exercise("name: E, reps: 3, per_side: true, timing: {switch_sides: 0}")
    assert load_routine(write(tmp_path, text)).blocks[0].exercises[0].timing.switch_sides_ms == 0


def test_length_must_be_positive(tmp_path):
    text = "name: R\nlength: 0s\n" + ONE_BLOCK
    assert_error(the_error(tmp_path, text), 2, "length", "longer than 0")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ("name: E, time: 7h", "time"),
        ("name: E, time: '6:00:01'", "time"),
        ("name: E, reps: 3, timing: {rest: {block: 400m}}", "timing.rest.block"),
    ],
)
def test_durations_over_six_hours_are_absurd(tmp_path, fields, field):
    error = the_error(tmp_path, one_exercise(fields))
    assert_error(error, 5, f"blocks[0].exercises[0].{field}", "absurd")


def test_six_hours_exactly_is_allowed(tmp_path):
    routine = load_routine(write(tmp_path, one_exercise("name: E, time: 6h")))
    assert routine.blocks[0].exercises[0].time_ms == 6 * 3_600_000


@pytest.mark.parametrize(
    ("name", "word"), [("'   '", "blank"), ("''", "empty"), ("x" * 201, "long")]
)
def test_names_must_be_non_blank_and_short(tmp_path, name, word):
    error = the_error(tmp_path, one_exercise(f"name: {name}, reps: 3"))
    assert_error(error, 5, "blocks[0].exercises[0].name", word)


def test_names_are_stripped(tmp_path):
    routine = load_routine(write(tmp_path, one_exercise("name: '  Plank  ', time: 30s")))
    assert routine.blocks[0].exercises[0].name == "Plank"


@pytest.mark.parametrize(
    ("line_text", "field"),
    [
        ('name: "Leg\\tDay"', "name"),
        ('source: "Coach\\x07Bob"', "source"),
        ('equipment: [mat, "band\\nred"]', "equipment[1]"),
    ],
)
def test_control_characters_are_refused_in_text(tmp_path, line_text, field):
    text = f"{line_text}\n" + ONE_BLOCK
    if not line_text.startswith("name"):
        text = "name: R\n" + text
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1
    assert errors[0].field == field
    assert "control character" in errors[0].message


def test_control_character_in_a_tip(tmp_path):
    error = the_error(tmp_path, one_exercise('name: E, reps: 3, tips: [ok, "beep\\x07"]'))
    assert_error(error, 5, "blocks[0].exercises[0].tips[1]", "control character", "U+0007")


def test_duplicate_block_names(tmp_path):
    text = """\
    name: R
    blocks:
      - name: Circuit
        exercises: [{name: E, reps: 1}]
      - name: circuit
        exercises: [{name: E, reps: 1}]
    """
    error = the_error(tmp_path, text)
    assert_error(error, 5, "blocks[1].name", "duplicate block name 'circuit'", "first at line 3")


# --- reporting ---


def test_all_errors_are_reported_in_file_order(tmp_path):
    text = """\
    name: R
    blocks:
      - name: B
        rounds: 0
        exercises:
          - {name: E, tmie: 30s}
          - {name: F, reps: 0}
    lenght: 30m
    """
    with pytest.raises(RoutineErrors) as info:
        load_routine(write(tmp_path, text))
    errors = info.value.errors
    assert [error.line for error in errors] == sorted(error.line for error in errors)
    assert [error.field for error in errors] == [
        "blocks[0].rounds",
        "blocks[0].exercises[0].tmie",
        "blocks[0].exercises[0]",
        "blocks[0].exercises[1].reps",
        "lenght",
    ]
    assert str(info.value) == str(errors[0])
    assert str(info.value).startswith(f"{tmp_path / 'routine.yaml'}:4: blocks[0].rounds: ")
    assert all(isinstance(error, RoutineError) for error in errors)
    assert not any("\n" in str(error) for error in errors)


# --- the published schema ---


def load_schema():
    text = resources.files("workout_audio").joinpath("schema/routine.schema.json").read_text()
    return json.loads(text)


def walk(schema):
    yield schema
    for value in schema.values():
        if isinstance(value, dict):
            yield from walk(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from walk(item)


def test_schema_is_valid_draft_2020_12_for_editors():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("https://")
    assert schema["title"]
    assert schema["required"] == ["name", "blocks"]
    for node in walk(schema):
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            for key, prop in node.get("properties", {}).items():
                assert prop.get("description"), key


@pytest.mark.parametrize(
    "text", ["30s", "1m30s", "90", "1:30", "1h", "45:00", "1500s", "2.5s", "1500ms", "1:00:00"]
)
def test_schema_duration_pattern_accepts_what_the_parser_accepts(text):
    pattern = load_schema()["$defs"]["duration"]["pattern"]
    assert re.search(pattern, text)
    assert parse_duration_ms(text) > 0


def test_odd_spaces_in_names_and_tips_are_folded_once_at_load(tmp_path) -> None:
    path = tmp_path / "spaces.yaml"
    path.write_text(
        "name: '  Leg\u00a0 Day '\nblocks:\n  - name: A\n    exercises:\n"
        "      - {name: 'Hip\u00a0\u00a0Thrust', reps: 5, tips: ['Squeeze   hard.']}\n",
        encoding="utf-8",
    )
    routine = load_routine(path)
    exercise = routine.blocks[0].exercises[0]
    assert (routine.name, exercise.name, exercise.tips) == (
        "Leg Day",
        "Hip Thrust",
        ("Squeeze hard.",),
    )
