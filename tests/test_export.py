"""Routines -> FIT and .zwo workouts, and back: every boundary, name and target kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from garmin_fit_sdk import Decoder, Stream

from helpers import SEED, invoke, move_boundaries_ms
from workout_audio.interchange import load_workout
from workout_audio.routine import Routine, load_routine
from workout_audio.routine.targets import format_target

RUN = """\
name: Track Tuesday
timing: {flow: continuous}
blocks:
  - name: Warm-up
    role: warmup
    exercises:
      - {name: Easy jog, time: 10m, flex: false, target: {hr: 60-70% max},
         tips: [Relax your shoulders.]}
  - name: Repeats
    rounds: 4
    rounds_fixed: true
    exercises:
      - {name: Fast, distance: 1km, flex: false, target: {pace: 4:40-4:30/km, cadence: 180spm}}
      - {name: Jog, time: 2m, flex: false, target: {hr: 140-150bpm}}
  - name: Steady
    exercises:
      - {name: Tempo, time: 8m30s, flex: false, target: {hr: Z3}}
      - {name: Stride, time: 20s, flex: false, target: {power: 300W}}
  - name: Cool-down
    role: cooldown
    exercises:
      - {name: Walk, time: 5m, flex: false}
"""

RIDE = """\
name: Over-unders
timing: {flow: continuous}
blocks:
  - name: Warmup
    role: warmup
    exercises:
      - name: Warm up
        time: 10m
        flex: false
        target: {power: 40-70%, cadence: 85rpm, ramp: true}
        messages: [{at: 30s, text: Spin easy}]
  - name: Intervals
    rounds: 3
    rounds_fixed: true
    exercises:
      - {name: Over, time: 1m, flex: false, target: {power: 105%}}
      - {name: Under, time: 2m, flex: false, target: {power: 90-95%}}
  - name: Finish
    exercises:
      - {name: Free ride, time: 5m30s, flex: false}
      - {name: Sprint, time: 15s, flex: false, target: {rpe: 10}}
      - {name: Climb, time: 4m, flex: false, target: {power: 60-80%, ramp: true}}
      - {name: Watts, time: 1m, flex: false, target: {power: 200W}}
  - name: Cooldown
    role: cooldown
    exercises:
      - {name: Cool down, time: 5m, flex: false, target: {power: 70-40%, ramp: true}}
"""


def _flat(routine: Routine) -> list[tuple[str, int | None, float | None, dict[str, object]]]:
    """Every move in the order it is done (rounds written out)."""
    return [
        (m.name, m.time_ms, m.distance_m, format_target(m.target) if m.target else {})
        for b in routine.blocks
        for _ in range(b.rounds)
        for m in b.exercises
    ]


def _export(routine_path: Path, output: Path, *options: str) -> None:
    result = invoke("export", str(routine_path), "-o", str(output), *options)
    assert result.exit_code == 0, result.output
    assert f"wrote {output}" in result.output


def test_fit_round_trip_keeps_boundaries_names_targets_and_notes(
    tmp_path: Path, write_routine
) -> None:
    original = load_routine(write_routine(RUN))
    fit = tmp_path / "track.fit"
    _export(Path(original.path), fit)
    decoder = Decoder(Stream.from_byte_array(bytearray(fit.read_bytes())))
    assert decoder.check_integrity()
    messages, errors = Decoder(Stream.from_byte_array(bytearray(fit.read_bytes()))).read()
    assert errors == []
    assert messages["file_id_mesgs"][0]["type"] == "workout"
    assert messages["workout_mesgs"][0]["wkt_name"] == "Track Tuesday"
    assert messages["workout_mesgs"][0]["sport"] == "running"
    repeat = messages["workout_step_mesgs"][3]
    assert (repeat["duration_type"], repeat["duration_step"], repeat["repeat_steps"]) == (
        "repeat_until_steps_cmplt", 1, 4,
    )  # fmt: skip
    back = load_workout(fit)
    assert _flat(back) == _flat(original)
    assert move_boundaries_ms(back) == move_boundaries_ms(original)
    assert [(b.rounds, b.role) for b in back.blocks] == [
        (b.rounds, b.role) for b in original.blocks
    ]
    assert back.blocks[0].exercises[0].tips == ("Relax your shoulders.",)


def test_zwo_round_trip_keeps_boundaries_power_ramps_cadence_and_messages(
    tmp_path: Path, write_routine
) -> None:
    original = load_routine(write_routine(RIDE))
    zwo = tmp_path / "over-unders.zwo"
    _export(Path(original.path), zwo, "--ftp", "250")
    back = load_workout(zwo)
    assert back.name == "Over-unders"
    assert move_boundaries_ms(back) == move_boundaries_ms(original)
    # Zwift steps have no names; the 200 W step is 80% of the 250 W FTP given.
    expected = [
        (time_ms, distance_m, {"power": "80%"} if target == {"power": "200W"} else target)
        for _, time_ms, distance_m, target in _flat(original)
    ]
    assert [move[1:] for move in _flat(back)] == expected
    warm_up = back.blocks[0].exercises[0]
    assert [(m.at_ms, m.text) for m in warm_up.messages] == [(30_000, "Spin easy")]
    assert (back.blocks[0].role, back.blocks[-1].role) == ("warmup", "cooldown")


def test_the_same_routine_exports_to_the_same_bytes(tmp_path: Path, write_routine) -> None:
    path = write_routine(RUN)
    _export(path, tmp_path / "a.fit")
    _export(path, tmp_path / "b.fit")
    assert (tmp_path / "a.fit").read_bytes() == (tmp_path / "b.fit").read_bytes()


@pytest.mark.parametrize(
    ("text", "suffix", "says"),
    [
        (None, ".fit", "export needs timing: {flow: continuous}"),
        (RUN, ".zwo", "'Easy jog' has a pace or heart-rate target; a .zwo holds power only"),
        (RIDE, ".zwo", "'Watts' is in watts; Zwift needs a share of FTP: give --ftp"),
        (
            "name: Reps\ntiming: {flow: continuous}\nblocks:\n"
            "  - {name: A, exercises: [{name: Squat, reps: 10}]}\n",
            ".fit",
            "'Squat' has no single time (reps, or a time per round)",
        ),
        (RUN, ".gpx", "export writes .fit or .zwo"),
    ],
)
def test_what_a_watch_or_trainer_cannot_run_is_refused_and_nothing_is_replaced(
    tmp_path: Path, write_routine, text: str | None, suffix: str, says: str
) -> None:
    routine = SEED if text is None else write_routine(text)
    output = tmp_path / f"earlier{suffix}"
    output.write_bytes(b"an earlier export")
    result = invoke("export", str(routine), "-o", str(output))
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert says in message
    assert output.read_bytes() == b"an earlier export"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {output.name, *([] if text is None else ["routine.yaml"])}
    )


def _span(target: object) -> tuple[object, ...] | None:
    """A range as its ends, lowest first: FIT states custom targets low to high."""
    if target is None:
        return None
    values = [
        v for k, v in vars(target).items() if k not in ("first", "second", "first_ms", "second_ms")
    ]
    ends = [
        getattr(target, k)
        for k in ("first", "second", "first_ms", "second_ms")
        if hasattr(target, k)
    ]
    return (*values, min(ends), max(ends))


def _kept(routine: Routine, suffix: str) -> list[tuple[object, ...]]:
    """What each move keeps in a format: FIT has no ramp and no effort, and orders ranges
    low to high; Zwift has no effort but its MaxEffort (10) and no names."""
    kept = []
    for block in routine.blocks:
        for _ in range(block.rounds):
            for move in block.exercises:
                target = move.target
                if target is None or (
                    suffix == ".zwo"
                    and target.rpe not in (None, 10)
                    and not (target.power or target.cadence)
                ):
                    kept.append((move.time_ms, move.distance_m, None))
                    continue
                if suffix == ".fit":
                    spans = tuple(
                        _span(t) for t in (target.pace, target.hr, target.power, target.cadence)
                    )
                    kept.append((move.time_ms, move.distance_m, spans))
                else:
                    rpe = target.rpe if target.rpe == 10 and not target.power else None
                    kept.append(
                        (
                            move.time_ms,
                            move.distance_m,
                            (target.power, target.cadence, target.ramp, rpe),
                        )
                    )
    return kept


@pytest.mark.parametrize(
    ("example", "suffix"),
    [
        ("track-intervals.yaml", ".fit"),
        ("ftp-ramp-bike.yaml", ".fit"),
        ("ftp-ramp-bike.yaml", ".zwo"),
    ],
)
def test_the_example_routines_come_back_with_every_boundary_and_target(
    tmp_path: Path, example: str, suffix: str
) -> None:
    routine_path = SEED.parent / example
    original = load_routine(routine_path)
    output = tmp_path / f"{routine_path.stem}{suffix}"
    _export(routine_path, output)
    back = load_workout(output)
    assert move_boundaries_ms(back) == move_boundaries_ms(original)
    assert _kept(back, suffix) == _kept(original, suffix)
