"""Workout structures: ladders (per-round values), run/walk (continuous flow), EMOM and AMRAP."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from test_script import intervals_never_overlap, spoken_ms, work_windows
from workout_audio.errors import RoutineErrors
from workout_audio.routine import Routine, load_routine
from workout_audio.script import Script, make_script, script_phrases


def load(tmp_path: Path, text: str) -> Routine:
    path = tmp_path / "routine.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_routine(path)


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(RoutineErrors) as caught:
        load(tmp_path, text)
    return [str(error) for error in caught.value.errors]


def scripted(subject: Routine, length_ms: int | None = None) -> Script:
    script = make_script(subject, spoken_ms, length_ms=length_ms)
    intervals_never_overlap(script)
    return script


def said(script: Script) -> list[str]:
    return [e.text for e in script.speech() if e.text is not None]


PYRAMID = """\
name: Ladder Day
timing: {rep: 2s, rest: {exercise: 0s, round: 20s}}
blocks:
  - name: Pyramid
    exercises:
      - {name: Push-ups, reps: [2, 4, 6, 8, 6, 4, 2]}
  - name: Holds
    exercises:
      - {name: Plank, time: [30s, 40s, 50s]}
      - {name: Squat, reps: 5}
      - {name: Plank, time: [20s, 20s, 20s]}
"""


# --- ladders: one value a round ---


def test_a_list_of_reps_sets_the_rounds_and_each_round_says_its_own(tmp_path: Path) -> None:
    ladder = load(tmp_path, PYRAMID)
    assert [b.rounds for b in ladder.blocks] == [7, 3]
    script = scripted(ladder)
    calls = [t for t in said(script) if "Push-ups, " in t and "up:" in t]
    assert calls == [f"{w} up: Push-ups, {n} reps." for w, n in zip(
        ["First", *["Next"] * 6], [2, 4, 6, 8, 6, 4, 2], strict=True)]  # fmt: skip
    pyramid = [(s, e) for s, e in work_windows(script)][:7]
    assert [e - s for s, e in pyramid] == [n * 2000 for n in (2, 4, 6, 8, 6, 4, 2)]


def test_holds_by_round_last_as_written(tmp_path: Path) -> None:
    script = scripted(load(tmp_path, PYRAMID))
    holds = [e - s for s, e in work_windows(script)][7:]
    assert holds == [30_000, 10_000, 20_000, 40_000, 10_000, 20_000, 50_000, 10_000, 20_000]


def test_block_intro_names_each_distinct_move_once_with_its_values(tmp_path: Path) -> None:
    texts = said(scripted(load(tmp_path, PYRAMID)))
    assert "Pyramid: 7 rounds of Push-ups: 2, 4, 6, 8, 6, 4, 2 reps." in texts
    assert "Holds: 3 rounds of Plank: 30 seconds, 40 seconds, 50 seconds and Squat." in texts, texts


def test_ladders_keep_their_rounds_when_fitted_to_a_length(tmp_path: Path) -> None:
    ladder = load(tmp_path, PYRAMID)
    natural_ms = scripted(ladder).length_ms
    for target_ms in (natural_ms - 60_000, natural_ms + 90_000):
        script = scripted(ladder, target_ms)
        assert script.length_ms == target_ms
        pushups = [c for c in script.chapters if c.title.startswith("Pyramid")]
        assert len(pushups) == 7


@pytest.mark.parametrize(
    ("block", "line", "words"),
    [
        ("rounds: 5\n    exercises: [{name: P, reps: [2, 4, 6]}]", 5, "has 3 values, one a round"),
        (
            "exercises:\n      - {name: P, reps: [2, 4]}\n      - {name: Q, time: [1s, 2s, 3s]}",
            6,
            "has 3 values but P's reps has 2",
        ),
        ("exercises: [{name: P, reps: [2, 0]}]", 4, "reps[1]: must be at least 1"),
        ("exercises: [{name: P, time: [10s, 0s]}]", 4, "time[1]: must be longer than 0"),
        ("exercises: [{name: P, reps: []}]", 4, "reps: must not be empty"),
        ("exercises: [{name: P, reps: [2, x]}]", 4, "reps[1]: expected a whole number"),
    ],
)
def test_per_round_list_mistakes_name_the_line(
    tmp_path: Path, block: str, line: int, words: str
) -> None:
    text = f"name: R\nblocks:\n  - name: B\n    {block}\n"
    found = errors(tmp_path, text)
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'routine.yaml'}:{line}: "), found
    assert words in found[0], found


def test_script_phrases_cover_every_round_of_a_ladder(tmp_path: Path) -> None:
    ladder = load(tmp_path, PYRAMID)
    script = make_script(ladder, {p: spoken_ms(p) for p in script_phrases(ladder)})
    assert set(said(script)) <= set(script_phrases(ladder))
