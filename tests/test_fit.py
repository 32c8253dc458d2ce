"""The length solver: a coach's order of changes, exact lengths, honest bounds, one cache."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import (
    SEED,
    attempt,
    block,
    decode,
    exercise,
    ffmpeg_chapter_titles,
    intervals_never_overlap,
    routine,
    spoken_ms,
    timing,
)
from workout_audio import load_routine
from workout_audio.durations import parse_duration_ms
from workout_audio.errors import LengthError
from workout_audio.pipeline import build_variants
from workout_audio.planning import length_label
from workout_audio.routine import Rests, Routine
from workout_audio.settings import VoiceSettings
from workout_audio.timeline.fit import fit_length, length_range_ms
from workout_audio.timeline.layout import PPM
from workout_audio.timeline.script import make_script, script_phrases

CIRCUIT = routine(
    block("Warmup", 1, exercise("March", time_ms=60_000)),
    block("Circuit", 3, exercise("Squat", reps=10), exercise("Plank", time_ms=40_000)),
    block("Finisher", 2, exercise("Burpee", reps=8)),
    block("Cooldown", 1, exercise("Stretch", time_ms=60_000)),
)
CIRCUIT = replace(
    CIRCUIT,
    blocks=(
        replace(CIRCUIT.blocks[0], role="warmup"),
        *CIRCUIT.blocks[1:3],
        replace(CIRCUIT.blocks[3], role="cooldown"),
    ),
)


def natural_ms(subject: Routine) -> int:
    return make_script(subject, spoken_ms).length_ms


def rounds(script_subject: Routine, target_ms: int) -> list[int]:
    fitted = fit_length(script_subject, target_ms, spoken_ms)
    return [b.rounds for b in fitted.layout.routine.blocks]


def test_a_small_change_moves_only_the_rests() -> None:
    target_ms = natural_ms(CIRCUIT) - 20_000
    fitted = fit_length(CIRCUIT, target_ms, spoken_ms)
    assert fitted.layout.routine.blocks == CIRCUIT.blocks  # rounds, holds, tempo as written
    assert fitted.notes
    assert all(re.fullmatch(r"[\w ]+: rests x0\.\d\d", note) for note in fitted.notes)
    assert make_script(CIRCUIT, spoken_ms, length_ms=target_ms).length_ms == target_ms


def test_past_the_rests_holds_and_tempo_move_before_any_round() -> None:
    written = fit_length(CIRCUIT, natural_ms(CIRCUIT), spoken_ms)
    shortest_rests = written.layout.total_ms(written.layout.lengths_at(-PPM))
    fitted = fit_length(CIRCUIT, shortest_rests - 10_000, spoken_ms)
    assert rounds(CIRCUIT, shortest_rests - 10_000) == [1, 3, 2, 1]
    plank = fitted.layout.routine.blocks[1].exercises[1]
    squat = fitted.layout.routine.blocks[1].exercises[0]
    assert 30_000 <= plank.time_ms < 40_000  # at most 25% shorter, in whole seconds
    assert plank.time_ms % 1000 == 0
    assert 1500 <= squat.timing.rep_ms < 2000
    assert any("holds 40 s -> " in note or "Plank 40 s -> " in note for note in fitted.notes)


def test_rounds_go_last_main_blocks_first_and_warmup_cooldown_never_before_them() -> None:
    shortest, _ = length_range_ms(CIRCUIT, spoken_ms)
    assert rounds(CIRCUIT, shortest) == [1, 1, 1, 1]
    steps = []
    for target_ms in range(natural_ms(CIRCUIT), shortest, -30_000):
        try:
            steps.append(rounds(CIRCUIT, target_ms))
        except LengthError:
            continue
    assert steps[-1][1:3] == [1, 1]
    # Warmup and cooldown keep their single round; main blocks never drop below one.
    assert all(s[0] == 1 and s[3] == 1 and min(s) >= 1 for s in steps)
    assert [3, 2] in [s[1:3] for s in steps]  # the circuit loses a round before the finisher


def test_longer_tracks_add_rounds_to_repeatable_blocks_only() -> None:
    fixed = replace(CIRCUIT.blocks[1], rounds_fixed=True)
    pinned = replace(CIRCUIT, blocks=(CIRCUIT.blocks[0], fixed, *CIRCUIT.blocks[2:]))
    _, longest = length_range_ms(pinned, spoken_ms)
    assert rounds(pinned, longest) == [2, 3, 4, 2]  # each grows to at most double
    fitted = fit_length(pinned, longest - 60_000, spoken_ms)
    assert fitted.layout.routine.blocks[1].rounds == 3


def test_flex_false_pins_holds_and_tempo() -> None:
    circuit = CIRCUIT.blocks[1]
    pinned_exercises = tuple(replace(e, flex=False) for e in circuit.exercises)
    pinned_block = replace(circuit, exercises=pinned_exercises)
    pinned = replace(CIRCUIT, blocks=(CIRCUIT.blocks[0], pinned_block, *CIRCUIT.blocks[2:]))
    shortest, longest = length_range_ms(pinned, spoken_ms)
    for target_ms in (shortest, (shortest + natural_ms(pinned)) // 2, longest):
        fitted = fit_length(pinned, target_ms, spoken_ms)
        assert fitted.layout.routine.blocks[1].exercises == pinned_exercises


def test_rest_ranges_are_respected() -> None:
    ranged = replace(
        CIRCUIT,
        blocks=tuple(
            replace(
                b,
                timing=replace(
                    b.timing, rest=Rests(0, 60_000, 60_000, round_range_ms=(30_000, 90_000))
                ),
            )
            for b in CIRCUIT.blocks
        ),
    )
    fitted = fit_length(ranged, natural_ms(ranged) + 25_000, spoken_ms)
    planned = fitted.layout
    for transition, length_ms in zip(planned.transitions, fitted.lengths_ms, strict=True):
        if transition.rest_range_ms == (30_000, 90_000):
            assert 30_000 <= length_ms <= max(90_000, 0)


def test_the_same_routine_and_target_always_give_the_same_plan() -> None:
    target_ms = natural_ms(CIRCUIT) - 200_000
    first = make_script(CIRCUIT, spoken_ms, length_ms=target_ms)
    second = make_script(CIRCUIT, spoken_ms, length_ms=target_ms)
    assert first == second


def test_spoken_cues_follow_the_plan() -> None:
    shortest, _ = length_range_ms(CIRCUIT, spoken_ms)
    target_ms = shortest + 120_000
    script = make_script(CIRCUIT, spoken_ms, length_ms=target_ms)
    fitted = fit_length(CIRCUIT, target_ms, spoken_ms)
    circuit_rounds = fitted.layout.routine.blocks[1].rounds
    texts = [e.text for e in script.speech()]
    assert f"Circuit: {circuit_rounds} rounds of Squat and Plank." in texts or circuit_rounds == 1
    assert len([c for c in script.chapters if c.title.startswith("Circuit")]) == 2 * circuit_rounds


def test_length_labels_name_variant_files() -> None:
    assert [length_label(parse_duration_ms(t)) for t in ("15m", "1h", "45:00", "90s", "1h30m")] == [
        "15m", "1h", "45m", "1m30s", "1h30m",
    ]  # fmt: skip


@st.composite
def flexible_routines(draw: st.DrawFn) -> Routine:
    blocks = []
    for b in range(draw(st.integers(1, 4))):
        exercises = []
        for i in range(draw(st.integers(1, 2))):
            flex = draw(st.booleans())
            if draw(st.booleans()):
                ex = exercise(f"Hold {b}{i}", time_ms=draw(st.integers(3, 60)) * 1000,
                              per_side=draw(st.booleans()))  # fmt: skip
            else:
                ex = exercise(f"Reps {b}{i}", reps=draw(st.integers(1, 12)),
                              rep_ms=draw(st.sampled_from([1000, 2000, 3000])))  # fmt: skip
            exercises.append(replace(ex, flex=flex))
        rest = Rests(
            draw(st.sampled_from([0, 5_000, 15_000])),
            draw(st.sampled_from([0, 30_000, 45_000])),
            draw(st.sampled_from([0, 60_000])),
        )
        blocks.append(
            replace(
                block(f"Block {b}", draw(st.integers(1, 4)), *exercises),
                timing=replace(timing(), rest=rest),
                rounds_fixed=draw(st.booleans()),
                role=draw(st.sampled_from(["main", "main", "warmup", "cooldown"])),
            )
        )
    return routine(*blocks)


CLOCK = r"\d+:\d\d(?::\d\d)?(?:\.\d)?"


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flexible_routines(), st.floats(0.3, 3.0))
def test_any_target_is_met_exactly_or_refused_with_bounds_that_are_real(
    subject: Routine, ratio: float
) -> None:
    target_ms = max(1000, round(natural_ms(subject) * ratio))
    shortest, longest = length_range_ms(subject, spoken_ms)
    script, refusal = attempt(subject, target_ms)
    if script is None:
        named = [parse_duration_ms(t) for t in re.findall(CLOCK, refusal)]
        assert len(named) == 3, refusal  # the target, then the two lengths it can make
        if "can run from" in refusal:
            assert not shortest <= target_ms <= longest
        for near_ms in named[1:]:
            assert make_script(subject, spoken_ms, length_ms=near_ms).length_ms == near_ms
        return
    assert script.length_ms == target_ms
    assert shortest <= target_ms <= longest
    intervals_never_overlap(script)
    fitted = fit_length(subject, target_ms, spoken_ms)
    for before, after in zip(subject.blocks, fitted.layout.routine.blocks, strict=True):
        assert after.rounds >= 1
        if before.rounds_fixed:
            assert after.rounds == before.rounds
        for old, new in zip(before.exercises, after.exercises, strict=True):
            if not old.flex:
                assert new == old


@pytest.fixture(scope="module")
def seed_variants(tmp_path_factory: pytest.TempPathFactory, speech_cache: Path):
    folder = tmp_path_factory.mktemp("variants")
    lengths = [15, 20, 30, 45, 60]
    synthesised: list[int] = []
    built = build_variants(
        load_routine(SEED),
        [m * 60_000 for m in lengths],
        folder,
        stem="runners-total-body",
        voice=VoiceSettings(engine="piper"),
        cache_dir=speech_cache,
        progress=lambda stage, done, total: synthesised.append(1) if stage == "speech" else None,
    )
    yield lengths, built
    shutil.rmtree(folder)  # nearly three hours of MP3, read by this module's tests alone


@pytest.mark.slow
def test_seed_variants_decode_to_their_lengths(seed_variants) -> None:
    lengths, built = seed_variants
    assert [result.track.name for result in built] == [
        f"runners-total-body-{label}.mp3" for label in ("15m", "20m", "30m", "45m", "1h")
    ]
    for minutes, result in zip(lengths, built, strict=True):
        assert result.script.length_ms == minutes * 60_000
        assert abs(len(decode(result.track)) - minutes * 60_000) <= 100, result.track
        assert len(ffmpeg_chapter_titles(result.track)) == len(result.script.chapters)


@pytest.mark.slow
def test_seed_variants_shorten_and_lengthen_like_a_coach(seed_variants) -> None:
    _, built = seed_variants
    by_minutes = {round(p.script.length_ms / 60_000): p for p in built}
    assert len(by_minutes[30].script.chapters) == 29
    assert len(by_minutes[15].script.chapters) < 29 < len(by_minutes[60].script.chapters)
    fifteen = " ".join(by_minutes[15].script.adjustments)
    assert "Strength Set A: rounds 3 -> " in fifteen
    assert "Warmup: rounds" not in fifteen
    assert "Cooldown: rounds" not in fifteen
    sixty = [e.text for e in by_minutes[60].script.speech()]
    assert "Round 4 of 4." not in sixty  # the last round is announced as such
    assert "Last round." in sixty


@pytest.mark.slow
def test_variants_share_one_speech_cache(tmp_path: Path) -> None:
    routine_path = tmp_path / "tiny.yaml"
    routine_path.write_text(
        "name: Tiny\nblocks:\n  - name: Core\n    rounds: 3\n"
        "    exercises: [{name: Plank, time: 20s}, {name: Squat, reps: 5}]\n",
        encoding="utf-8",
    )
    routine_ = load_routine(routine_path)
    counts: dict[str, int] = {}

    def count(stage: str, done: int, total: int) -> None:
        if stage == "speech" and done == total:
            counts[str(len(counts))] = total

    lengths_ms = [150_000, 210_000, 270_000]
    built = build_variants(routine_, lengths_ms, tmp_path, stem="tiny",
                           voice=VoiceSettings(engine="piper"), cache_dir=tmp_path / "cache",
                           progress=count)  # fmt: skip
    distinct = set()
    for prepared in built:
        distinct |= set(script_phrases(replace(routine_), length_ms=prepared.script.length_ms))
        distinct |= {e.text for e in prepared.script.speech()}
    assert sum(counts.values()) <= len(distinct)
    cached = list((tmp_path / "cache").rglob("*.wav"))
    assert len(cached) == sum(counts.values())  # every synthesis landed once in the cache
    assert sorted(p.name for p in tmp_path.glob("*.mp3")) == [
        "tiny-2m30s.mp3", "tiny-3m30s.mp3", "tiny-4m30s.mp3",
    ]  # fmt: skip


def test_a_length_far_out_of_reach_is_refused_before_any_speech_is_made(tmp_path: Path) -> None:
    from workout_audio import prepare

    cache_dir = tmp_path / "cache"
    with pytest.raises(LengthError, match=r"runners-total-body.yaml: cannot make a 5:00 track"):
        prepare(load_routine(SEED), voice=VoiceSettings(engine="piper"), length_ms=300_000,
                cache_dir=cache_dir)  # fmt: skip
    assert not cache_dir.exists() or not any(cache_dir.rglob("*.wav"))


@pytest.mark.slow
def test_the_lengths_a_refusal_names_can_be_made_with_the_real_voice(
    tmp_path: Path, speech_cache: Path
) -> None:
    from workout_audio import prepare

    routine_path = tmp_path / "tiny.yaml"
    routine_path.write_text(
        "name: Tiny\nblocks:\n  - name: Core\n    rounds: 2\n"
        "    exercises: [{name: Plank, time: 20s}, {name: Squat, reps: 5}]\n",
        encoding="utf-8",
    )
    tiny = load_routine(routine_path)
    rough_shortest, _ = length_range_ms(tiny, lambda text: 70 * len(text))
    piper = VoiceSettings(engine="piper")
    with pytest.raises(LengthError) as refused:
        prepare(tiny, voice=piper, length_ms=rough_shortest * 95 // 100, cache_dir=speech_cache)
    named = re.findall(CLOCK, str(refused.value))[1:]
    assert len(named) == 2
    for text in named:
        bound_ms = parse_duration_ms(text)
        made = prepare(tiny, voice=piper, length_ms=bound_ms, cache_dir=speech_cache)
        assert made.script.length_ms == bound_ms
