"""intervals.icu workout text -> routines: every form of its syntax, timed to the millisecond."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from helpers import IMPORTS, cumulative_ms, decode, invoke, move_boundaries_ms
from workout_audio.errors import RoutineError
from workout_audio.interchange import load_workout
from workout_audio.routine import Routine, load_routine
from workout_audio.routine.targets import format_target

MIN_MS = 60_000


def _moves(routine: Routine) -> list[tuple[str, int | None, dict[str, object]]]:
    return [
        (move.name, move.time_ms, format_target(move.target) if move.target else {})
        for block in routine.blocks
        for move in block.exercises
    ]


def test_the_documentation_example_keeps_its_sections_repeats_and_boundaries() -> None:
    routine = load_workout(IMPORTS / "intervals-docs.txt")
    assert [(b.name, b.rounds, b.role, b.rounds_fixed) for b in routine.blocks] == [
        ("Warmup", 1, "warmup", False),
        ("Main set", 4, "main", True),
        ("Cooldown", 1, "cooldown", False),
    ]
    assert routine.timing.flow == "continuous"
    assert all(not m.flex for b in routine.blocks for m in b.exercises)
    assert _moves(routine) == [
        ("Warm up", 10 * MIN_MS, {"power": "60%"}),
        ("Work", 5 * MIN_MS, {"power": "95-105%"}),
        ("Recover", 3 * MIN_MS, {"power": "55%"}),
        ("Cool down", 10 * MIN_MS, {"power": "50%"}),
    ]
    assert move_boundaries_ms(routine) == cumulative_ms(
        10 * MIN_MS, *[5 * MIN_MS, 3 * MIN_MS] * 4, 10 * MIN_MS
    )


def test_every_duration_power_heart_rate_cadence_and_free_ride_form() -> None:
    routine = load_workout(IMPORTS / "intervals-forms.txt")
    moves = _moves(routine)
    assert moves[:8] == [
        ("Easy spin", 3_600_000, {"power": "55%"}),
        ("Interval", 90_000, {"power": "200W", "cadence": "85-95rpm"}),
        ("Interval", 300_000, {"power": "200-250W"}),
        ("Interval", 30_000, {"power": "Z3"}),
        ("Interval", 120_000, {"hr": "Z2"}),
        ("Interval", 600_000, {"hr": "75% max"}),
        ("Interval", 3_723_000, {"hr": "80-85% threshold"}),
        ("Free ride", 1_200_000, {}),
    ]
    # "3x" alone repeats the cue-named steps below it; "Cooldown 2x" is a repeat and a role.
    assert moves[8:] == [
        ("Surge", 40_000, {"power": "120%"}),
        ("Float", 80_000, {"power": "Z1"}),
        ("Cool down", 300_000, {"power": "60%", "cadence": "90rpm"}),
    ]
    assert [(b.name, b.rounds, b.role) for b in routine.blocks] == [
        ("Build up", 1, "main"),
        ("Intervals", 3, "main"),
        ("Cooldown", 2, "cooldown"),
    ]
    firsts = [3_600_000, 90_000, 300_000, 30_000, 120_000, 600_000, 3_723_000, 1_200_000]
    assert move_boundaries_ms(routine) == cumulative_ms(
        *firsts, *[40_000, 80_000] * 3, 300_000, 300_000
    )


def test_ramps_move_from_their_first_value_to_their_second() -> None:
    routine = load_workout(IMPORTS / "intervals-ramps.txt")
    ramps = [m for b in routine.blocks for m in b.exercises if m.target and m.target.ramp]
    assert [format_target(m.target) for m in ramps if m.target] == [
        {"power": "50-75%", "ramp": True},
        {"power": "75-50%", "ramp": True},
    ]
    assert move_boundaries_ms(routine) == cumulative_ms(
        10 * MIN_MS, *[3 * MIN_MS, 2 * MIN_MS] * 3, 10 * MIN_MS
    )


def test_distances_are_timed_by_the_slower_end_of_their_pace() -> None:
    routine = load_workout(IMPORTS / "intervals-run.txt", threshold_pace="4:30/km")
    moves = [(m.name, m.distance_m, m.time_ms) for b in routine.blocks for m in b.exercises]
    mile_m = 1609.344
    assert moves == [
        ("Warm up", None, 15 * MIN_MS),  # 70% of threshold pace: 270 s / 0.7 = 6:26/km
        ("Work", 1000.0, 270_000),
        ("Recover", None, 120_000),
        ("Interval", mile_m, round(mile_m * 284)),  # 95-100% Pace: 4:44-4:30/km, 4:44 times it
        ("Interval", 400.0, round(400 * 420_000 / mile_m)),  # 7:00/mi
        ("Interval", 500.0, 550_000),  # 1:50/100m
    ]
    warm_up = routine.blocks[0].exercises[0].target
    assert warm_up is not None
    assert format_target(warm_up) == {"pace": "6:26/km"}
    assert move_boundaries_ms(routine) == cumulative_ms(
        15 * MIN_MS,
        *[270_000, 120_000] * 4,
        round(mile_m * 284),
        round(400 * 420_000 / mile_m),
        550_000,
    )


def test_import_writes_an_editable_routine_that_loads_the_same(tmp_path: Path) -> None:
    output = tmp_path / "threshold.yaml"
    result = invoke("import", str(IMPORTS / "intervals-docs.txt"), "-o", str(output))
    assert result.exit_code == 0, result.output
    assert str(output) in result.output
    written = yaml.safe_load(output.read_text(encoding="utf-8"))
    assert written["timing"] == {"flow": "continuous"}
    assert written["blocks"][1]["rounds"] == 4
    assert written["blocks"][1]["exercises"][0] == {
        "name": "Work", "time": "5m", "flex": False, "target": {"power": "95-105%"},
    }  # fmt: skip
    assert move_boundaries_ms(load_routine(output)) == move_boundaries_ms(
        load_workout(IMPORTS / "intervals-docs.txt")
    )


@pytest.mark.parametrize(
    ("name", "line", "says"),
    [
        ("intervals-open-step.txt", 3, "no duration or distance"),
        ("intervals-press-lap.txt", 3, "pressing lap"),
        ("intervals-pace-zone.txt", 2, "pace zones"),
        ("intervals-run.txt", 2, "--threshold-pace"),
    ],
)
def test_steps_the_audio_cannot_time_are_refused_with_their_line(
    tmp_path: Path, name: str, line: int, says: str
) -> None:
    output = tmp_path / "out.yaml"
    result = invoke("import", str(IMPORTS / name), "-o", str(output))
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert f"{name}:{line}: step: " in message
    assert says in message
    assert "Traceback" not in message
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_distance_without_a_pace_says_what_to_add(tmp_path: Path) -> None:
    text = tmp_path / "no-pace.txt"
    text.write_text("Main set\n- 1km Z2 HR\n", encoding="utf-8")
    with pytest.raises(RoutineError, match=r"no-pace\.txt:2: step: 1km needs a pace"):
        load_workout(text)


def test_validate_and_script_take_the_text_file_directly() -> None:
    result = invoke("validate", str(IMPORTS / "intervals-docs.txt"))
    assert result.exit_code == 0, result.output
    assert "intervals-docs.txt: ok" in result.output
    refused = invoke("validate", str(IMPORTS / "intervals-open-step.txt"))
    assert refused.exit_code == 2
    assert "intervals-open-step.txt:3: step:" in refused.output


@pytest.mark.slow
def test_script_and_chart_take_an_imported_plan_with_the_real_voice(
    speech_cache: Path, tmp_path: Path
) -> None:
    result = invoke(
        "script", str(IMPORTS / "intervals-ramps.txt"), "--format", "json",
        "--engine", "piper", "--cache-dir", str(speech_cache),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    events = json.loads(result.stdout[result.stdout.index("{") :])["events"]
    starts_ms = [round(e["start_s"] * 1000) for e in events if e.get("tone") == "start"]
    end_ms = max(round(e["start_s"] * 1000) for e in events if e.get("tone") == "end")
    boundaries = [t - starts_ms[0] for t in [*starts_ms, end_ms]]
    assert boundaries == cumulative_ms(10 * MIN_MS, *[3 * MIN_MS, 2 * MIN_MS] * 3, 10 * MIN_MS)
    chart = tmp_path / "ramps.png"
    drawn = invoke(
        "chart", str(IMPORTS / "intervals-ramps.txt"), "-o", str(chart),
        "--engine", "piper", "--cache-dir", str(speech_cache),
    )  # fmt: skip
    assert drawn.exit_code == 0, drawn.output
    assert chart.read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_a_text_file_builds_into_a_track_in_one_command(tmp_path: Path, speech_cache: Path) -> None:
    """The README's example: a workout copied from intervals.icu, built straight from its file."""
    plan = tmp_path / "openers.txt"
    plan.write_text("Warmup\n- 20s 60%\n\nMain set 2x\n- 15s 110%\n- 10s 50%\n", encoding="utf-8")
    track = tmp_path / "openers.mp3"
    result = invoke(
        "build", str(plan), "-o", str(track), "--engine", "piper", "--sidecars", "json",
        "--cache-dir", str(speech_cache), "--no-chapter-images",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    script = json.loads(track.with_suffix(".json").read_text(encoding="utf-8"))
    assert abs(len(decode(track)) / 1000 - script["length_s"]) <= 0.1
    starts_ms = [round(e["start_s"] * 1000) for e in script["events"] if e.get("tone") == "start"]
    assert [t - starts_ms[0] for t in starts_ms] == cumulative_ms(20_000, 15_000, 10_000, 15_000)
    titles = [c["title"] for c in script["chapters"]]
    assert titles[:2] == ["Warmup · Warm up", "Main set · Round 1/2 · Work"]


def test_a_threshold_pace_that_is_not_a_pace_is_refused_in_one_line(tmp_path: Path) -> None:
    output = tmp_path / "run.yaml"
    result = invoke(
        "import", str(IMPORTS / "intervals-run.txt"), "-o", str(output),
        "--threshold-pace", "fast",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output.strip() == "error: --threshold-pace: 'fast' is not a pace like 4:30/km"
    assert not output.exists()


def test_the_syntax_guides_other_forms_both_ended_ranges_zone_ranges_and_lap_units() -> None:
    routine = load_workout(IMPORTS / "intervals-syntax-guide.txt")
    assert _moves(routine) == [
        ("Warm up", 600_000, {"power": "50-75%", "ramp": True}),
        ("Warm up", 300_000, {"power": "200-240W"}),
        ("Warm up", 300_000, {"power": "Z3-Z4"}),
        ("Recover", 120_000, {"pace": "3:00-4:00/100m"}),
        ("Work", 60_000, {"pace": "2:00.297/100m"}),  # 1:50 a 100 yards (91.44 m)
        ("Work", 96_000, {"pace": "4:00/km"}),  # 400 m at 1:36 a lap
        ("Recover", 60_000, {"pace": "10:00/km"}),  # 2:30 a 250 m lap
        ("Cool down", 600_000, {"power": "50-40%", "cadence": "85rpm"}),
    ]
    assert move_boundaries_ms(routine) == cumulative_ms(
        600_000, 300_000, 300_000, *[120_000, 60_000] * 2, *[96_000, 60_000] * 3, 600_000
    )


@pytest.mark.parametrize(
    ("step", "says"),
    [
        ("- 10m 5:00 Pace", "5:00 has no unit"),
        ("- 5m 60% MMP 5m", "'MMP' is not a target this importer knows"),
        ("- 5m CZ2", "'CZ2' is not a target this importer knows"),
    ],
)
def test_targets_the_file_cannot_settle_are_refused(tmp_path: Path, step: str, says: str) -> None:
    text = tmp_path / "plan.txt"
    text.write_text(f"Main set\n{step}\n", encoding="utf-8")
    with pytest.raises(RoutineError, match=rf"plan\.txt:2: step: {says}"):
        load_workout(text)
