"""Scheduling: nothing overlaps, nothing is cut, lengths are exact, cues say what they should."""

from __future__ import annotations

import re
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
    work_windows,
)
from workout_audio.durations import format_clock, parse_duration_ms
from workout_audio.errors import LengthError
from workout_audio.routine import Routine, load_routine
from workout_audio.timeline.fit import length_range_ms
from workout_audio.timeline.layout import GUARD_MS
from workout_audio.timeline.script import make_script, script_phrases


def measured(routine: Routine, *, length_ms: int | None = None) -> dict[str, int]:
    """Measured lengths of every phrase of the routine as written."""
    return {p: spoken_ms(p) for p in script_phrases(routine, length_ms=length_ms)}


SIMPLE = routine(
    block(
        "Core",
        2,
        exercise("Plank", time_ms=45_000, tips=("Breathe.",)),
        exercise("Lunge", reps=8, per_side=True),
    ),
    block("Stretch", 1, exercise("Fold", time_ms=20_000)),
)


def test_no_cue_overlaps_another_or_runs_past_the_end() -> None:
    script = make_script(SIMPLE, measured(SIMPLE))
    intervals_never_overlap(script)


def test_speech_never_runs_past_its_work_interval() -> None:
    script = make_script(SIMPLE, measured(SIMPLE))
    for start, end in work_windows(script):
        for event in script.speech():
            if start <= event.start_ms < end:
                assert event.end_ms + GUARD_MS <= end, event


def test_work_lasts_exactly_as_written() -> None:
    script = make_script(SIMPLE, measured(SIMPLE))
    lengths = [end - start for start, end in work_windows(script)]
    # Core x2 rounds: plank 45 s, lunge 8 reps x 2 s per side; then the fold.
    assert lengths == [45_000, 16_000, 16_000] * 2 + [20_000]


def test_rep_moves_tick_each_rep_and_count_the_last_three_aloud() -> None:
    script = make_script(SIMPLE, measured(SIMPLE))
    start, end = work_windows(script)[1]
    inside = [e for e in script.events if start <= e.start_ms < end]
    assert [e.start_ms - start for e in inside if e.tone == "tick"] == [2000, 4000, 6000, 8000]
    assert [(e.start_ms - start, e.text) for e in inside if e.kind == "speech"] == [
        (10_000, "6"),
        (12_000, "7"),
        (14_000, "8"),
    ]


def test_timed_holds_get_halfway_time_left_and_last_three_beeps() -> None:
    script = make_script(SIMPLE, measured(SIMPLE))
    start, end = work_windows(script)[0]
    inside = {
        e.start_ms - start: (e.text or e.tone) for e in script.events if start <= e.start_ms < end
    }
    assert inside[22_500] == "Halfway."
    assert inside[35_000] == "10 seconds left."
    assert [inside[t] for t in (42_000, 43_000, 44_000)] == ["beep"] * 3
    assert "Breathe." in inside.values()


def test_per_side_moves_switch_sides_between_the_two_sides() -> None:
    script = make_script(SIMPLE, measured(SIMPLE))
    texts = [e.text for e in script.speech()]
    assert "Switch sides." in texts
    sides = [e.side for e in script.events if e.tone == "start" and e.exercise == "Lunge"]
    assert sides == ["left", "right", "left", "right"]


def test_rests_say_rest_then_next_up_then_count_down() -> None:
    script = make_script(SIMPLE, measured(SIMPLE))
    texts = [e.text for e in script.speech()]
    rest_at = texts.index("Rest.")
    assert texts[rest_at + 1 : rest_at + 3] == [
        "Last round.",
        "Next up: Plank, 45 seconds.",
    ]
    assert texts[-1] == "Workout complete. Great work!"


def test_round_rest_is_as_written_between_end_and_start_tones() -> None:
    script = make_script(SIMPLE, measured(SIMPLE))
    windows = work_windows(script)
    # After round 1 (plank, lunge left, lunge right) comes the 30 s round rest.
    assert windows[3][0] - windows[2][1] == 30_000


def test_a_cue_that_does_not_fit_is_left_out_not_cut() -> None:
    tiny = routine(block("Fast", 1, exercise("Hop", time_ms=3000, tips=("A long tip " * 8,))))
    script = make_script(tiny, measured(tiny))
    assert all(e.text != "A long tip " * 8 for e in script.speech())
    intervals_never_overlap(script)


def test_length_is_exact_to_the_millisecond() -> None:
    natural = make_script(SIMPLE, measured(SIMPLE)).length_ms
    for target_ms in (natural - 20_001, natural + 1, natural + 33_333):
        clips = measured(SIMPLE, length_ms=target_ms)
        script = make_script(SIMPLE, clips, length_ms=target_ms)
        assert script.length_ms == target_ms
        intervals_never_overlap(script)


def test_impossible_length_names_the_shortest_and_longest() -> None:
    shortest, longest = length_range_ms(SIMPLE, spoken_ms)
    with pytest.raises(LengthError, match="can run from") as caught:
        make_script(SIMPLE, spoken_ms, length_ms=longest + 60_000)
    message = str(caught.value)
    assert format_clock(-(-shortest // 100) * 100) in message
    assert format_clock(longest // 100 * 100) in message
    for bound_ms in (shortest, longest):
        assert make_script(SIMPLE, spoken_ms, length_ms=bound_ms).length_ms == bound_ms
    with pytest.raises(LengthError):
        make_script(SIMPLE, spoken_ms, length_ms=shortest - 1)
    with pytest.raises(LengthError):
        make_script(SIMPLE, spoken_ms, length_ms=longest + 1)


def test_chapters_cover_every_occurrence_in_order() -> None:
    script = make_script(SIMPLE, measured(SIMPLE))
    titles = [c.title for c in script.chapters]
    assert titles == [
        "Core · Round 1/2 · Plank",
        "Core · Round 1/2 · Lunge",
        "Core · Round 2/2 · Plank",
        "Core · Round 2/2 · Lunge",
        "Stretch · Fold",
    ]
    assert script.chapters[0].start_ms == 0
    assert script.chapters[-1].end_ms == script.length_ms
    for before, after in pairwise(script.chapters):
        assert before.end_ms == after.start_ms


def test_seed_routine_has_fourteen_exercises() -> None:
    seed = load_routine(Path(__file__).parent.parent / "routines" / "runners-total-body.yaml")
    names = [e.name for b in seed.blocks for e in b.exercises]
    assert len(names) == 14
    assert len(set(names)) == 14
    assert [b.rounds for b in seed.blocks] == [1, 2, 3, 3, 3, 1]
    assert seed.length_ms == 30 * 60_000


@st.composite
def routines(draw: st.DrawFn) -> Routine:
    blocks = []
    for b in range(draw(st.integers(1, 3))):
        exercises = []
        for i in range(draw(st.integers(1, 3))):
            if draw(st.booleans()):
                ex = exercise(
                    f"Move {b}{i}",
                    time_ms=draw(st.integers(1, 90)) * 1000,
                    per_side=draw(st.booleans()),
                    tips=tuple(
                        draw(
                            st.lists(
                                st.sampled_from(["Tip one.", "Brace."]), max_size=2, unique=True
                            )
                        )
                    ),
                )
            else:
                ex = exercise(
                    f"Move {b}{i}",
                    reps=draw(st.integers(1, 15)),
                    per_side=draw(st.booleans()),
                    rep_ms=draw(st.sampled_from([800, 1500, 2000, 3000])),
                )
            exercises.append(ex)
        blocks.append(block(f"Block {b}", draw(st.integers(1, 3)), *exercises))
    return routine(*blocks)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routines(), st.integers(-600_000, 600_000))
def test_any_routine_at_any_target_is_exact_or_names_its_real_bounds(
    subject: Routine, offset_ms: int
) -> None:
    natural = make_script(subject, spoken_ms).length_ms
    target_ms = max(1, natural + offset_ms)
    shortest, longest = length_range_ms(subject, spoken_ms)
    if shortest <= target_ms <= longest:
        script, refusal = attempt(subject, target_ms)
        if script is None:  # between two round counts: names the lengths it can make
            nearest = re.findall(r"(\d+:\d\d(?::\d\d)?(?:\.\d)?)", refusal)[1:]
            assert len(nearest) == 2, refusal
            for text in nearest:
                near_ms = parse_duration_ms(text)
                assert make_script(subject, spoken_ms, length_ms=near_ms).length_ms == near_ms
            return
        assert script.length_ms == target_ms
        intervals_never_overlap(script)
        assert {c.title.split(" · ")[0] for c in script.chapters} == {
            b.name for b in subject.blocks
        }
    else:
        with pytest.raises(LengthError):
            make_script(subject, spoken_ms, length_ms=target_ms)
        for bound_ms in (shortest, longest):
            assert make_script(subject, spoken_ms, length_ms=bound_ms).length_ms == bound_ms
