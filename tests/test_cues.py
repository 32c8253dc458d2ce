"""Cue wording has one home: a call, its chapter and the rests say and show the same words."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import spoken_ms
from workout_audio.routine import REST_KINDS, RestKind, Rests, load_routine
from workout_audio.timeline.phrases import available_languages
from workout_audio.timeline.script import make_script

ROOT = Path(__file__).resolve().parent.parent
ROUTINES = sorted((ROOT / "routines").glob("*.yaml"))
# Routines whose every move is called in a pause (no run/walk or EMOM announcements that
# may shrink to the name alone when the time left is short).
PAUSED = [p for p in ROUTINES if p.stem in ("runners-total-body", "pyramid-ladder")]


@pytest.mark.parametrize("language", available_languages())
@pytest.mark.parametrize("path", PAUSED, ids=lambda p: p.stem)
def test_each_move_is_called_with_the_words_its_chapter_shows(path: Path, language: str) -> None:
    script = make_script(replace(load_routine(path), language=language), spoken_ms)
    moves = [c for c in script.chapters if c.exercise]
    assert moves
    for chapter in moves:
        said = [
            e.text or "" for e in script.speech() if chapter.start_ms <= e.start_ms < chapter.end_ms
        ]
        called = [t for t in said if chapter.exercise in t and chapter.prescription in t]
        assert called, (chapter, said)


@pytest.mark.parametrize("language", available_languages())
def test_round_labels_match_the_round_said(language: str) -> None:
    """A chapter's "Round 2/3" is the round its announcement said, in the track's language."""
    seed = replace(load_routine(ROOT / "routines" / "runners-total-body.yaml"), language=language)
    script = make_script(seed, spoken_ms)
    labelled = [c for c in script.chapters if c.round_label]
    assert labelled
    for chapter in labelled:
        number, total = chapter.round_label.split()[-1].split("/")  # type: ignore[union-attr]
        assert f"{number}/{total}" in chapter.title
        # The previous move's end tone falls on the chapter's first millisecond.
        events = [e for e in script.events if chapter.start_ms < e.start_ms < chapter.end_ms]
        assert {e.round for e in events if e.exercise} == {int(number)}


@pytest.mark.parametrize("kind", REST_KINDS)
def test_a_rest_is_read_by_its_kind(kind: RestKind) -> None:
    rests = Rests(exercise_ms=10_000, round_ms=40_000, block_ms=90_000)
    as_written = {"exercise": 10_000, "round": 40_000, "block": 90_000}[kind]
    assert rests.after(kind) == as_written
    assert rests.range_ms(kind) == (as_written // 2, as_written * 2)
    ranged = replace(rests, **{f"{kind}_range_ms": (1_000, 2_000)})
    assert ranged.range_ms(kind) == (1_000, 2_000)
    assert ranged.after(kind) == as_written


def test_the_type_checker_refuses_a_misspelt_kind(tmp_path: Path) -> None:
    """Kinds are Literal types: a misspelt event kind, tone, side or rest kind fails mypy."""
    snippet = tmp_path / "kinds.py"
    snippet.write_text(
        textwrap.dedent(
            """\
            from workout_audio.routine import Rests
            from workout_audio.timeline.layout import Transition
            from workout_audio.timeline.script import Event


            def check(event: Event, transition: Transition, rests: Rests) -> list[object]:
                return [
                    event.kind == "speech",
                    event.kind == "spech",
                    event.tone == "rest",
                    event.tone == "rests",
                    event.side == "left",
                    event.side == "lefft",
                    transition.kind == "round",
                    transition.kind == "rounds",
                    rests.after("block"),
                    rests.after("blocks"),
                ]
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(snippet),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    flagged = sorted(
        int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line
    )
    assert flagged == [9, 11, 13, 15, 17], result.stdout + result.stderr
