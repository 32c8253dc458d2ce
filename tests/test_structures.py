"""Workout structures: ladders (per-round values), run/walk (continuous flow), EMOM and AMRAP."""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import (
    attempt,
    block,
    exercise,
    intervals_never_overlap,
    routine,
    spoken_ms,
    timing,
    work_windows,
)
from workout_audio.durations import parse_duration_ms
from workout_audio.errors import LengthError, RoutineErrors
from workout_audio.routine import Rests, Routine, load_routine
from workout_audio.timeline.script import Script, make_script, script_phrases


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


# --- run/walk: continuous flow ---

RUN_WALK = """\
name: Run Walk
timing: {flow: continuous}
blocks:
  - name: Warm-up
    exercises: [{name: Brisk walk, time: 3m}]
  - name: Intervals
    rounds: 4
    exercises:
      - {name: Jog, time: 60s}
      - {name: Walk, time: 90s}
  - name: Cool-down
    exercises: [{name: Walk, time: 2m}]
"""


def starts(script: Script) -> list[int]:
    return [e.start_ms for e in script.events if e.tone == "start"]


def test_continuous_intervals_start_the_millisecond_the_previous_one_ends(tmp_path: Path) -> None:
    script = scripted(load(tmp_path, RUN_WALK))
    first = starts(script)[0]
    lengths = [180_000] + [60_000, 90_000] * 4 + [120_000]
    expected = [first + sum(lengths[:i]) for i in range(len(lengths))]
    assert starts(script) == expected
    # One end tone, at the very end: a boundary is its start tone alone.
    assert [e.start_ms for e in script.events if e.tone == "end"] == [expected[-1] + 120_000]
    # Countdown beeps on the last three seconds before every boundary.
    beeps = {e.start_ms for e in script.events if e.tone == "beep"}
    for boundary in expected[1:]:
        assert {boundary - 3000, boundary - 2000, boundary - 1000} <= beeps


def test_each_interval_is_announced_over_the_end_of_the_previous_one(tmp_path: Path) -> None:
    script = scripted(load(tmp_path, RUN_WALK))
    boundaries = starts(script)
    for boundary, name in zip(boundaries[1:], ["Jog", "Walk", "Jog"], strict=False):
        before = [e for e in script.speech() if boundary - 30_000 < e.start_ms < boundary]
        assert any(name in (e.text or "") for e in before), (boundary, before)
        assert all(e.end_ms <= boundary for e in before)
    texts = said(script)
    assert "Intervals: 4 rounds of Jog and Walk." in texts
    assert "Next up: Walk, 1 minute 30 seconds." in texts
    assert "Rest." not in texts


def test_short_intervals_get_the_shortest_announcement_or_none_never_a_cut_one(
    tmp_path: Path,
) -> None:
    text = """\
    name: Sprints
    timing: {flow: continuous, countdown: 0}
    blocks:
      - name: Sprints
        rounds: 3
        exercises:
          - {name: Sprint, time: 1.5s}
          - {name: Walk, time: 1.5s}
    """
    script = scripted(load(tmp_path, text))
    texts = said(script)
    # "Next up: Walk, 1 second." does not fit in 1.5 s after the start tone: the name does.
    assert texts.count("Walk.") == 3
    assert texts.count("Sprint.") == 2
    assert not any(t.startswith(("Next up", "Round")) for t in texts[4:])
    windows = list(pairwise(starts(script)))
    for start, end in windows:
        for event in script.speech():
            if start <= event.start_ms < end:
                assert event.end_ms <= end


def test_a_length_keeps_a_runners_intervals(tmp_path: Path) -> None:
    run_walk = load(tmp_path, RUN_WALK)
    natural_ms = scripted(run_walk).length_ms
    script = scripted(run_walk, natural_ms + 160_000)  # one more round, a longer settle
    assert script.length_ms == natural_ms + 160_000
    assert len(starts(script)) == 2 + 2 * 5
    lengths = [b - a for a, b in pairwise(starts(script))]
    assert set(lengths) == {180_000, 60_000, 90_000}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("timing: {flow: continuous, rest: {round: 30s}}\n", 2, "timing.rest.round: no rests"),
        (
            "timing: {flow: continuous}\n"
            "blocks: [{name: B, exercises: [{name: L, time: 30s, per_side: true}]}]\n",
            3,
            "per_side needs a pause",
        ),
        (
            "blocks: [{name: B, exercises: [{name: L, time: 30s, timing: {flow: continuous}}]}]\n",
            2,
            "timing.flow: flow is set for the whole routine or a block",
        ),
        ("timing: {flow: runny}\n", 2, "must be 'paused' or 'continuous'"),
    ],
)
def test_continuous_flow_mistakes(tmp_path: Path, text: str, line: int, words: str) -> None:
    if "blocks" not in text:
        text += "blocks: [{name: B, exercises: [{name: J, time: 30s}]}]\n"
    found = errors(tmp_path, "name: R\n" + text)
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'routine.yaml'}:{line}: "), found
    assert words in found[0], found


# --- EMOM: every ---

EMOM = """\
name: EMOM Day
timing: {rep: 2s, rest: {block: 30s}}
blocks:
  - name: Warmup
    exercises: [{name: March, time: 30s}]
  - name: Alternating EMOM
    every: 1m
    rounds: 4
    exercises:
      - {name: Kettlebell Swings, reps: 15}
      - {name: Burpees, reps: 10, timing: {rep: 3s}}
      - {name: Lunge, reps: 8, per_side: true}
"""


def test_every_start_falls_exactly_on_its_period(tmp_path: Path) -> None:
    script = scripted(load(tmp_path, EMOM))
    emom = [
        e.start_ms
        for e in script.events
        if e.tone == "start" and e.block == "Alternating EMOM" and e.side != "right"
    ]
    block_start = emom[0]
    assert emom == [block_start + k * 60_000 for k in range(12)]
    works = [(s, e) for s, e in work_windows(script) if s >= block_start]
    assert [e - s for s, e in works[:4]] == [30_000, 30_000, 16_000, 16_000]
    texts = said(script)
    assert (
        "Alternating EMOM: every minute, 4 rounds of Kettlebell Swings, Burpees and Lunge." in texts
    )
    assert "Next up: Burpees, 10 reps." in texts
    assert "Rest." not in texts[texts.index("First up: March, 30 seconds.") + 3 :]


def test_emom_rounds_change_with_a_length_but_never_its_period(tmp_path: Path) -> None:
    emom = load(tmp_path, EMOM)
    natural_ms = scripted(emom).length_ms
    script = scripted(emom, natural_ms + 180_000)
    assert script.length_ms == natural_ms + 180_000
    block = [
        e.start_ms
        for e in script.events
        if e.tone == "start" and e.block == "Alternating EMOM" and e.side != "right"
    ]
    assert len(block) == 15
    assert {b - a for a, b in pairwise(block)} == {60_000}


def test_an_emom_with_flex_true_moves_its_period_but_keeps_room_to_rest(tmp_path: Path) -> None:
    emom = load(tmp_path, EMOM.replace("    every: 1m\n", "    every: 1m\n    flex: true\n"))
    natural_ms = scripted(emom).length_ms
    script = scripted(emom, natural_ms - 150_000)
    assert script.length_ms == natural_ms - 150_000
    block = [
        e.start_ms
        for e in script.events
        if e.tone == "start" and e.block == "Alternating EMOM" and e.side != "right"
    ]
    (period_ms,) = {b - a for a, b in pairwise(block)}
    assert period_ms < 60_000
    ends = [e.start_ms for e in script.events if e.tone == "end" and e.start_ms > block[0]]
    for start_ms in block[1:]:  # the previous move ended at least a second before
        assert max(end for end in ends if end < start_ms) <= start_ms - 1000
    assert any(note.startswith("Alternating EMOM: every 60 s -> ") for note in fit_notes(emom))


def fit_notes(subject: Routine) -> tuple[str, ...]:
    natural_ms = scripted(subject).length_ms
    return make_script(subject, spoken_ms, length_ms=natural_ms - 150_000).adjustments


@pytest.mark.parametrize(
    ("block", "line", "words"),
    [
        (
            "every: 1m\n    exercises: [{name: B, reps: 25, timing: {rep: 3s}}]",
            5,
            "its work (25 reps x 3 s = 75 s) does not fit the 60 s period",
        ),
        (
            "every: 30s\n    exercises: [{name: L, time: 15s, per_side: true}]",
            5,
            "15 s per side, twice with a 5 s switch = 35 s) does not fit the 30 s period",
        ),
        (
            "every: 1m\n    timing: {rest: {exercise: 10s}}\n    exercises: [{name: B, reps: 5}]",
            5,
            "no rests inside an every: block",
        ),
        ("every: 0s\n    exercises: [{name: B, reps: 5}]", 4, "every: must be longer than 0"),
    ],
)
def test_every_mistakes(tmp_path: Path, block: str, line: int, words: str) -> None:
    found = errors(tmp_path, f"name: R\nblocks:\n  - name: E\n    {block}\n")
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'routine.yaml'}:{line}: "), found
    assert words in found[0], found


# --- AMRAP ---

AMRAP = """\
name: Cindy
blocks:
  - name: Cindy
    amrap: 20m
    exercises:
      - {name: Pull-ups, reps: 5}
      - {name: Push-ups, reps: 10}
      - {name: Air Squats, reps: 15}
"""


def test_an_amrap_is_one_self_paced_interval_with_the_clock_called_out(tmp_path: Path) -> None:
    script = scripted(load(tmp_path, AMRAP))
    ((start, end),) = work_windows(script)
    assert end - start == 20 * 60_000
    inside = {e.start_ms - start: e.text for e in script.speech() if start <= e.start_ms < end}
    assert inside == {
        5 * 60_000: "15 minutes left.",
        10 * 60_000: "Halfway.",
        15 * 60_000: "5 minutes left.",
        19 * 60_000: "1 minute left.",
        19 * 60_000 + 30_000: "30 seconds left.",
        19 * 60_000 + 50_000: "10 seconds left.",
    }
    assert not [e for e in script.events if e.tone == "tick"]
    beeps = [e.start_ms - start for e in script.events if e.tone == "beep" and e.start_ms > start]
    assert beeps == [1_197_000, 1_198_000, 1_199_000]
    assert [c.title for c in script.chapters] == ["Cindy"]
    assert (
        "Cindy. 20 minutes, as many rounds as possible: 5 pull-ups, 10 push-ups, 15 air squats."
    ) in said(script)


def test_an_amrap_cap_moves_in_whole_minutes_for_a_length(tmp_path: Path) -> None:
    amrap = load(tmp_path, AMRAP)
    natural_ms = scripted(amrap).length_ms
    target_ms = natural_ms - 110_000  # two minutes off the cap; the intro says the length
    script = scripted(amrap, target_ms)
    ((start, end),) = work_windows(script)
    assert end - start == 18 * 60_000
    assert script.length_ms == target_ms
    with pytest.raises(LengthError, match="nearest lengths"):
        make_script(amrap, spoken_ms, length_ms=natural_ms - 80_000)


@pytest.mark.parametrize(
    ("block", "line", "words"),
    [
        ("amrap: 10m\n    rounds: 2", 5, "an amrap: block has no rounds"),
        ("amrap: 10m\n    every: 1m", 4, "either every: (EMOM) or amrap:"),
        ("amrap: 10m\n    timing: {flow: continuous}", 4, "cannot be in continuous flow"),
    ],
)
def test_amrap_mistakes(tmp_path: Path, block: str, line: int, words: str) -> None:
    text = f"name: R\nblocks:\n  - name: A\n    {block}\n    exercises: [{{name: B, reps: 5}}]\n"
    found = errors(tmp_path, text)
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'routine.yaml'}:{line}: "), found
    assert words in found[0], found


# --- properties over generated routines with every structure ---

NO_RESTS = Rests(0, 0, 0, (0, 0), (0, 0), (0, 0))


@st.composite
def structured_routines(draw: st.DrawFn) -> Routine:
    blocks = []
    for b in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["paused", "ladder", "continuous", "every", "amrap"]))
        name = f"Block {b}"
        if kind == "paused":
            moves = [
                exercise(f"Move {b}{i}", time_ms=draw(st.integers(5, 60)) * 1000)
                for i in range(draw(st.integers(1, 2)))
            ]
            blocks.append(block(name, draw(st.integers(1, 2)), *moves))
        elif kind == "ladder":
            reps = tuple(draw(st.lists(st.integers(1, 8), min_size=2, max_size=4)))
            move = replace(exercise(f"Ladder {b}", reps=1), reps=None, reps_by_round=reps)
            blocks.append(block(name, len(reps), move))
        elif kind == "continuous":
            flowing = timing(rest=NO_RESTS, flow="continuous")
            moves = [
                replace(exercise(f"Run {b}{i}", time_ms=draw(st.integers(2, 90)) * 1000),
                        timing=flowing, flex=False)
                for i in range(draw(st.integers(1, 2)))
            ]  # fmt: skip
            blocks.append(replace(block(name, draw(st.integers(1, 3)), *moves), timing=flowing))
        elif kind == "every":
            period_ms = draw(st.integers(20, 90)) * 1000
            moves = []
            for i in range(draw(st.integers(1, 3))):
                per_side = draw(st.booleans())
                most_ms = (period_ms - 7_000) // 2 if per_side else period_ms - 2_000
                reps = draw(st.integers(1, max(1, most_ms // 2000)))
                moves.append(
                    replace(exercise(f"Emom {b}{i}", reps=reps, per_side=per_side), flex=False)
                )
            emom = block(name, draw(st.integers(1, 3)), *moves)
            blocks.append(replace(emom, every_ms=period_ms, flex=False))
        else:
            cap_ms = draw(st.integers(30, 25 * 60)) * 1000
            amrap = block(name, 1, exercise(f"Amrap {b}", reps=5), exercise("Squat", reps=10))
            blocks.append(replace(amrap, amrap_ms=cap_ms))
    return routine(*blocks)


def protocol_holds(subject: Routine, script: Script) -> None:
    """EMOM starts fall on their periods, run/walk intervals follow without a gap, caps hold."""
    for b in subject.blocks:
        tones = [e for e in script.events if e.block == b.name and e.kind == "tone"]
        starts_ms = [e.start_ms for e in tones if e.tone == "start" and e.side != "right"]
        if b.every_ms is not None:
            assert [t - starts_ms[0] for t in starts_ms] == [
                k * b.every_ms for k in range(len(starts_ms))
            ]
        if b.continuous:
            works = [
                e.time_ms for _ in range(len(starts_ms) // len(b.exercises)) for e in b.exercises
            ]
            assert [y - x for x, y in pairwise(starts_ms)] == works[:-1]
        if b.amrap_ms is not None:
            ends_ms = [e.start_ms for e in tones if e.tone in ("end", "rest")]
            ((start_ms, end_ms),) = zip(starts_ms, ends_ms, strict=True)
            # As written, or moved by a length to a whole number of minutes.
            assert end_ms - start_ms == b.amrap_ms or (end_ms - start_ms) % 60_000 == 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structured_routines(), st.integers(-300_000, 300_000))
def test_structures_never_overlap_keep_their_protocol_and_make_exact_lengths(
    subject: Routine, offset_ms: int
) -> None:
    written = scripted(subject)
    protocol_holds(subject, written)
    target_ms = max(1, written.length_ms + offset_ms)
    fitted, refusal = attempt(subject, target_ms)
    if fitted is None:  # the lengths it names instead can be made, exactly
        named = re.findall(r"(\d+:\d\d(?::\d\d)?(?:\.\d)?)", refusal)[1:]
        assert len(named) == 2, refusal
        for text in named:
            near_ms = parse_duration_ms(text)
            assert scripted(subject, near_ms).length_ms == near_ms
        return
    intervals_never_overlap(fitted)
    protocol_holds(subject, fitted)
    assert fitted.length_ms == target_ms
    for event in fitted.speech():  # nothing cut: every clip plays at its full length
        assert event.duration_ms == spoken_ms(event.text or "")
