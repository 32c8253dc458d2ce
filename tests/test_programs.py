"""Program files: reading and checking them, and the plans they hold (no audio is made)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from helpers import invoke, spoken_ms
from workout_audio.errors import RoutineErrors, UsageError
from workout_audio.programs import check_base_url, load_program
from workout_audio.timeline.script import make_script

ROOT = Path(__file__).resolve().parent.parent
C25K = ROOT / "programs" / "couch-to-5k.yaml"
STRENGTH = ROOT / "programs" / "strength-6-weeks.yaml"

# The NHS Couch to 5K plan, week by week, as minutes of (run or walk) after the brisk
# 5-minute walk and before the 5-minute cool-down walk; written from the NHS's text, not
# from the program file, so the file is checked against the plan.
_W = "walk"
_R = "run"
NHS_PLAN: dict[int, list[list[tuple[str, float]]]] = {
    1: [[(_R, 1), (_W, 1.5)] * 8] * 3,
    2: [[(_R, 1.5), (_W, 2)] * 6] * 3,
    3: [[(_R, 1.5), (_W, 1.5), (_R, 3), (_W, 3)] * 2] * 3,
    4: [[(_R, 3), (_W, 1.5), (_R, 5), (_W, 2.5), (_R, 3), (_W, 1.5), (_R, 5)]] * 3,
    5: [
        [(_R, 5), (_W, 3), (_R, 5), (_W, 3), (_R, 5)],
        [(_R, 8), (_W, 5), (_R, 8)],
        [(_R, 20)],
    ],
    6: [
        [(_R, 5), (_W, 3), (_R, 8), (_W, 3), (_R, 5)],
        [(_R, 10), (_W, 3), (_R, 10)],
        [(_R, 25)],
    ],
    7: [[(_R, 25)]] * 3,
    8: [[(_R, 28)]] * 3,
    9: [[(_R, 30)]] * 3,
}


def write(folder: Path, text: str, name: str = "program.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


ROUTINE = """\
    name: Easy Jog
    timing: {flow: continuous}
    blocks:
      - {name: Warm-up, exercises: [{name: Walk, time: 20s}]}
      - name: Intervals
        rounds: 2
        exercises: [{name: Run, time: 15s}, {name: Walk, time: 15s}]
"""


def test_couch_to_5k_is_the_nhs_plan_to_the_millisecond() -> None:
    program = load_program(C25K)
    assert program.name == "Couch to 5K"
    assert len(program.sessions) == 27
    assert [(s.week, s.day) for s in program.sessions] == [
        (w, d) for w in range(1, 10) for d in (1, 2, 3)
    ]
    assert program.sessions[0].stem == "w01-d1-week-1-run-1"
    assert len({s.title for s in program.sessions}) == 27
    for session in program.sessions:
        script = make_script(session.routine, spoken_ms, length_ms=session.length_ms)
        starts = [e.start_ms for e in script.events if e.tone == "start"]
        ends = [e.start_ms for e in script.events if e.tone in ("end", "rest")]
        plan = [(_W, 5.0), *NHS_PLAN[session.week][session.day - 1], (_W, 5.0)]
        assert len(starts) == len(plan), session.title
        # Each interval starts the millisecond the one before it ends, at the plan's times.
        offsets = [round(60_000 * sum(m for _, m in plan[:i])) for i in range(len(plan))]
        assert [start - starts[0] for start in starts] == offsets, session.title
        assert ends[-1] - starts[0] == round(60_000 * sum(m for _, m in plan)), session.title
        names = [c.exercise for c in script.chapters]
        kinds = [_W if "walk" in name.lower() else _R for name in names]
        assert kinds == [kind for kind, _ in plan], session.title
        assert script.routine_name == session.title  # the intro says the session's title


def test_strength_block_progresses_rounds_and_lengths() -> None:
    program = load_program(STRENGTH)
    assert len(program.sessions) == 12
    rounds = {
        s.week: {b.name: b.rounds for b in s.routine.blocks if b.name.startswith("Strength")}
        for s in program.sessions
    }
    assert rounds[1] == dict.fromkeys(("Strength Set A", "Strength Set B", "Strength Set C"), 2)
    assert set(rounds[2].values()) == {3}  # the routine as written
    assert set(rounds[4].values()) == {4}
    lengths = {s.week: s.length_ms for s in program.sessions}
    assert lengths == {1: None, 2: None, 3: 35 * 60_000, 4: None, 5: 45 * 60_000, 6: 25 * 60_000}
    assert all(s.routine.path.endswith("runners-total-body.yaml") for s in program.sessions)


def test_defaults_repeats_and_inline_routines(tmp_path: Path) -> None:
    write(tmp_path, ROUTINE, "jog.yaml")
    path = write(
        tmp_path,
        """\
        name: Plan
        session_title: "W{week} D{day}"
        defaults: {equipment: [mat], timing: {flow: continuous}}
        length: 2m
        weeks:
          - {days: 2, routine: jog.yaml, rounds: {intervals: 3}}
          - length: 3m
            defaults: {equipment: [shoes]}
            days:
              - {title: Long one, blocks: [{name: Run, exercises: [{name: Run, time: 1m}]}]}
              - {routine: jog.yaml, length: 90s}
        """,
    )
    program = load_program(path)
    assert [s.title for s in program.sessions] == ["W1 D1", "W1 D2", "Long one", "W2 D2"]
    assert [s.length_ms for s in program.sessions] == [120_000, 120_000, 180_000, 90_000]
    first, _, inline, last = program.sessions
    assert [b.rounds for b in first.routine.blocks] == [1, 3]
    assert [b.rounds for b in last.routine.blocks] == [1, 2]
    assert inline.routine.equipment == ("shoes",)  # the week's defaults over the program's
    assert inline.routine.blocks[0].continuous
    assert inline.routine.name == "Long one"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "weeks: [{days: [{routine: gone.yaml}]}]\n",
            ":2: weeks[0].days[0].routine: no routine file",
        ),
        (
            "weeks:\n  - days:\n"
            "      - {routine: jog.yaml, title: A}\n      - {routine: jog.yaml, title: a}\n",
            ":5: weeks[0].days[1]: duplicate session title 'a' (first at line 4)",
        ),
        ("weeks: [{days: 2}]\n", ":2: weeks[0].days: a number of days needs the week's routine:"),
        (
            "weeks: [{days: [{title: X, blocks: [{name: B, exercises: "
            "[{name: Run, tmie: 3s}]}]}]}]\n",
            ":2: weeks[0].days[0].blocks[0].exercises[0].tmie: unknown key 'tmie'",
        ),
        (
            "weeks: [{days: 1, routine: jog.yaml, rounds: {Nope: 2}}]\n",
            "rounds.Nope: no block 'Nope'",
        ),
        ("wekes: []\n", ":2: wekes: unknown key 'wekes' (did you mean 'weeks'?)"),
    ],
)
def test_mistakes_name_the_program_line(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, ROUTINE, "jog.yaml")
    path = write(tmp_path, "name: Plan\n" + text)
    with pytest.raises(RoutineErrors) as raised:
        load_program(path)
    found = "\n".join(str(error) for error in raised.value.errors)
    assert str(raised.value).startswith(f"{path}:")
    assert expected in found


def test_a_broken_routine_file_is_reported_at_its_own_line(tmp_path: Path) -> None:
    write(tmp_path, ROUTINE.replace("time: 20s", "tiem: 20s"), "jog.yaml")
    path = write(tmp_path, "name: Plan\nweeks: [{days: 1, routine: jog.yaml}]\n")
    with pytest.raises(RoutineErrors) as raised:
        load_program(path)
    assert str(raised.value).startswith(f"{tmp_path / 'jog.yaml'}:4: blocks[0].exercises[0].tiem")


def test_base_url_must_be_http() -> None:
    assert check_base_url("https://example.org/c25k") == "https://example.org/c25k/"
    for bad in ("ftp://host/", "localhost:8000", "file:///tmp/"):
        with pytest.raises(UsageError, match="--base-url"):
            check_base_url(bad)


def test_validate_command(tmp_path: Path) -> None:
    result = invoke("program", "validate", str(C25K))
    assert result.exit_code == 0, result.output
    assert "w09-d3-week-9-run-3  Week 9, run 3" in result.output
    assert "ok: Couch to 5K, 27 sessions in 9 weeks" in result.output
    bad = write(tmp_path, "name: Plan\nweeks: [{days: [{routine: gone.yaml}]}]\n")
    result = invoke("program", "validate", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: weeks[0].days[0].routine: no routine file" in result.output
    assert "Traceback" not in result.output


def test_a_weeks_routine_is_reported_once_for_all_its_days(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: Plan
        weeks:
          - days: 3
            routine: {name: R, blocks: [{name: B, exercises: [{name: Run, tmie: 3s}]}]}
        """,
    )
    with pytest.raises(RoutineErrors) as raised:
        load_program(path)
    unknown = [e for e in raised.value.errors if "unknown key 'tmie'" in e.message]
    assert [(e.line, e.field) for e in unknown] == [
        (4, "weeks[0].routine.blocks[0].exercises[0].tmie")
    ]


def test_build_refuses_a_bad_program_before_writing_anything(tmp_path: Path) -> None:
    bad = write(tmp_path, "name: Plan\nweeks: [{days: [{routine: gone.yaml}]}]\n")
    out = tmp_path / "out"
    result = invoke("program", "build", str(bad), "-o", str(out))
    assert result.exit_code == 2
    assert f"{bad}:2: weeks[0].days[0].routine: no routine file at 'gone.yaml'" in result.output
    assert not out.exists()
