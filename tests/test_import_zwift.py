"""Zwift workouts (.zwo) -> routines: every element, its text events, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import IMPORTS, cumulative_ms, invoke, move_boundaries_ms
from workout_audio.interchange import load_workout
from workout_audio.routine.targets import format_target

EVERY_ELEMENT = IMPORTS / "zwift-every-element.zwo"


def test_every_element_becomes_a_move_with_its_power_as_percent_of_ftp() -> None:
    routine = load_workout(EVERY_ELEMENT)
    assert routine.name == "Every element"
    assert [(b.name, b.rounds, b.role) for b in routine.blocks] == [
        ("Warmup", 1, "warmup"),
        ("Main set", 1, "main"),
        ("Intervals", 4, "main"),
        ("Main set 2", 1, "main"),
        ("Cooldown", 1, "cooldown"),
    ]
    moves = [
        (m.name, m.time_ms, format_target(m.target) if m.target else {})
        for b in routine.blocks
        for m in b.exercises
    ]
    assert moves == [
        ("Warm up", 600_000, {"power": "25-75%", "cadence": "85rpm", "ramp": True}),
        ("Steady", 300_000, {"power": "88%", "cadence": "90rpm"}),
        ("Work", 60_000, {"power": "120%", "cadence": "100rpm"}),
        ("Recover", 90_000, {"power": "50%", "cadence": "80rpm"}),
        ("Ramp", 240_000, {"power": "60-90%", "ramp": True}),
        ("Free ride", 420_500, {}),
        ("Max effort", 20_000, {"rpe": 10}),
        ("Steady", 180_000, {"power": "55-65%"}),
        # Zwift's Cooldown goes from PowerLow to PowerHigh, here downwards.
        ("Cool down", 600_000, {"power": "70-25%", "ramp": True}),
    ]
    assert move_boundaries_ms(routine) == cumulative_ms(
        600_000, 300_000, *[60_000, 90_000] * 4, 240_000, 420_500, 20_000, 180_000, 600_000
    )


def test_text_events_are_spoken_at_their_offsets_within_their_step() -> None:
    routine = load_workout(EVERY_ELEMENT)
    warm_up = routine.blocks[0].exercises[0]
    assert [(m.at_ms, m.text) for m in warm_up.messages] == [(240_000, "Raise the cadence")]
    # At the very start the start tone sounds: the text is said with the announcement.
    assert warm_up.tips == ("Easy does it",)
    # An IntervalsT's offsets count from its first "on": 70 s is 10 s into the first "off".
    work, recover = routine.blocks[2].exercises
    assert [(m.at_ms, m.text) for m in work.messages] == [(10_000, "Push")]
    assert [(m.at_ms, m.text) for m in recover.messages] == [(10_000, "Breathe")]


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("zwift-not-a-workout.zwo", "not a Zwift workout: the root is <gpx>"),
        ("zwift-entities.zwo", "a document type or entity declaration"),
        ("zwift-no-duration.zwo", "<SteadyState> #2: no Duration: the audio cannot time"),
    ],
)
def test_files_that_are_not_timed_workouts_are_refused_in_one_line(
    tmp_path: Path, name: str, says: str
) -> None:
    output = tmp_path / "out.yaml"
    result = invoke("import", str(IMPORTS / name), "-o", str(output))
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert name in message
    assert says in message
    assert list(tmp_path.iterdir()) == []


def test_broken_xml_names_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zwo"
    broken.write_text(
        "<workout_file>\n<workout>\n<SteadyState Duration='60'>\n</workout_file>\n",
        encoding="utf-8",
    )
    result = invoke("validate", str(broken))
    assert result.exit_code == 2
    assert "broken.zwo:4: not well-formed XML" in result.output


def test_a_text_event_after_its_step_ends_is_refused(tmp_path: Path) -> None:
    late = tmp_path / "late.zwo"
    late.write_text(
        '<workout_file><workout><SteadyState Duration="60" Power="0.7">'
        '<textevent timeoffset="75" message="Too late"/></SteadyState></workout></workout_file>',
        encoding="utf-8",
    )
    result = invoke("validate", str(late))
    assert result.exit_code == 2
    assert "<SteadyState> #1: textevent at 75 s falls after its step ends (60 s)" in result.output


def test_content_not_suffix_says_it_is_a_zwift_workout(tmp_path: Path) -> None:
    renamed = tmp_path / "workout.xml"
    renamed.write_bytes(EVERY_ELEMENT.read_bytes())
    expected = move_boundaries_ms(load_workout(EVERY_ELEMENT))
    assert move_boundaries_ms(load_workout(renamed)) == expected


def test_imported_files_pass_validate_messages_and_all(speech_cache: Path) -> None:
    for name in ("zwift-every-element.zwo", "intervals-forms.txt", "intervals-ramps.txt"):
        result = invoke("validate", str(IMPORTS / name), "--cache-dir", str(speech_cache))
        assert result.exit_code == 0, result.output
        assert f"{name}: ok" in result.output


def test_a_value_the_routine_format_refuses_names_the_source_and_the_imported_field(
    tmp_path: Path,
) -> None:
    strong = tmp_path / "strong.zwo"
    strong.write_text(
        '<workout_file><workout><SteadyState Duration="60" Power="5"/></workout></workout_file>',
        encoding="utf-8",
    )
    result = invoke("validate", str(strong))
    assert result.exit_code == 2
    assert "strong.zwo: as imported, blocks[0].exercises[0].target.power" in result.output
    assert "500%" in result.output


def test_a_zwift_run_workout_is_refused_with_why(tmp_path: Path) -> None:
    run = tmp_path / "run.zwo"
    run.write_text(
        "<workout_file><sportType>run</sportType><workout>"
        '<SteadyState Duration="600" Power="0.8"/></workout></workout_file>',
        encoding="utf-8",
    )
    result = invoke("import", str(run))
    assert result.exit_code == 2
    assert "run.zwo: sportType: 'run': only bike workouts are read" in result.output
    assert not run.with_suffix(".yaml").exists()
