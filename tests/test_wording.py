"""What the coach says, read as a listener hears it: grammar in every language, an AMRAP
said like a coach, long totals in hours, and a length as natural as the routine's own.

``tests/golden/cue-forms.txt`` holds every cue form at a spread of counts and durations
in each language; after a change of wording, regenerate it with
``WORKOUT_AUDIO_REGENERATE_GOLDEN=1 pytest tests/test_wording.py`` and read the diff.
"""

from __future__ import annotations

import os
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest
import yaml

from helpers import ROOT, block, exercise, routine, script_of, spoken_ms
from workout_audio.routine import Block, Routine, load_routine
from workout_audio.routine.targets import (
    Target,
    parse_cadence,
    parse_distance_m,
    parse_heart_rate,
    parse_pace,
    parse_power,
)
from workout_audio.timeline.cues import occurrence_cues, track_cues
from workout_audio.timeline.fit import check_roughly
from workout_audio.timeline.occurrences import occurrences
from workout_audio.timeline.phrases import Phrases, available_languages, phrases_for
from workout_audio.timeline.script import Script, make_script

GOLDEN = Path(__file__).parent / "golden" / "cue-forms.txt"
REGENERATE = "WORKOUT_AUDIO_REGENERATE_GOLDEN"
COUNTS = (1, 2, 5, 21)
DURATIONS_MS = (1_000, 2_000, 5_000, 21_000, 60_000, 90_000, 120_000, 300_000, 1_260_000)
TOTALS_MS = (60_000, 120_000, 90_000, 1_800_000, 3_600_000, 3_660_000, 5_520_000, 5_526_000)
AMRAP_12 = ROOT / "routines" / "amrap-12.yaml"
RUN_WALK = ROOT / "routines" / "run-walk-week-1.yaml"


class _Recorded(dict[str, object]):
    """A wording table that remembers which entries were read."""

    def __init__(self, table: dict[str, object]) -> None:
        super().__init__(table)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> object:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)


def _table(language: str) -> dict[str, object]:
    folder = resources.files("workout_audio.timeline.phrases")
    loaded = yaml.safe_load(folder.joinpath(f"{language}.yaml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _every(period_ms: int, rounds: int) -> Block:
    return replace(
        block("EMOM", rounds, exercise("Kettlebell Swings", reps=10)), every_ms=period_ms
    )


def _amrap(cap_ms: int, *moves: tuple[str, int]) -> Block:
    done = [exercise(name, reps=reps) for name, reps in moves]
    return replace(block("AMRAP", 1, *done, exercise("Plank", time_ms=30_000)), amrap_ms=cap_ms)


def _targeted(name: str, target: Target, distance: str | None = None) -> Block:
    move = replace(exercise(name, time_ms=300_000), target=target)
    if distance is not None:
        move = replace(move, distance_m=parse_distance_m(distance))
    return block(name, 1, move)


def _target_samples() -> list[Block]:
    """Moves with every form of target and distance, ramps up and down."""
    paces = ("5:30/km", "5:00/km", "4:05/km", "6:00-6:30/km", "8:50/mi", "1:45/100m", "2:00/500m")
    hrs = ("Z2", "150bpm", "140-150bpm", "75% max", "85-95% threshold")
    powers = ("75%", "57.5%", "70-80%", "250W", "200-250W", "Z3")
    blocks = [_targeted("Run", Target(pace=parse_pace(p))) for p in paces]
    blocks += [_targeted("Run", Target(hr=parse_heart_rate(h))) for h in hrs]
    blocks += [_targeted("Ride", Target(power=parse_power(w))) for w in powers]
    blocks += [_targeted("Ride", Target(cadence=parse_cadence(c))) for c in ("90rpm", "170spm")]
    blocks += [_targeted("Row", Target(rpe=7))]
    ramps = [("power", "60-75%"), ("power", "75-50%"), ("hr", "140-160bpm"), ("hr", "80-70% max")]
    ramps += [("pace", "6:00-5:30/km"), ("pace", "5:00-6:00/km")]
    parsers = {"pace": parse_pace, "hr": parse_heart_rate, "power": parse_power}
    for key, text in ramps:
        blocks.append(_targeted("Ramp", Target(ramp=True, **{key: parsers[key](text)})))  # type: ignore[arg-type]
    for distance in ("400m", "1km", "1.5km", "1mi", "3mi"):
        blocks.append(_targeted("Run", Target(pace=parse_pace("5:30/km")), distance))
    return blocks


def _samples() -> list[Routine]:
    """Routines whose cues, together, read every entry of a wording file."""
    squats = [exercise("Air Squats", reps=n) for n in COUNTS]
    sided = (
        exercise("Side Plank", time_ms=30_000, per_side=True),
        replace(exercise("Lunges", reps=10, per_side=True), first_side="right"),
    )
    ladder = (
        replace(exercise("Push-ups", reps=1), reps=None, reps_by_round=COUNTS),
        replace(exercise("Wall Sit", time_ms=1), time_ms=None, time_by_round_ms=DURATIONS_MS[:4]),
    )
    blocks = [
        block("Circuit", n, squats[index], exercise("Burpees", reps=2))
        for index, n in enumerate(COUNTS)
    ]
    blocks += [block("Holds", 1, *(exercise("Plank", time_ms=ms) for ms in DURATIONS_MS))]
    blocks += [block("Sides", 2, *sided), block("Ladder", 4, *ladder)]
    blocks += [_every(ms, n) for ms in (60_000, 120_000, 90_000, 30_000, 21_000) for n in (1, 5)]
    amraps = [
        _amrap(60_000, ("Burpees", 1)),
        _amrap(120_000, ("Burpees", 2), ("Sit-ups", 5)),
        _amrap(720_000, ("Burpees", 5), ("Sit-ups", 10), ("Air Squats", 21)),
        _amrap(1_260_000, ("Burpees", 21)),
    ]
    amrap_routine = replace(
        routine(*amraps), equipment=("a mat", "a band", "iron weights"), listener_name="Maria"
    )
    return [routine(*blocks), amrap_routine, routine(*_target_samples())]


def render(language: str) -> tuple[list[str], set[str]]:
    """Every distinct line the sample routines' cues say or show, and the entries read."""
    table = _Recorded(_table(language))
    say = Phrases(language, table)
    lines: list[str] = []
    for sample in _samples():
        sample = replace(sample, language=language)
        for target_ms in (None, *TOTALS_MS):
            track = track_cues(sample, say, target_ms)
            lines += filter(None, [track.intro, track.greeting, track.length, track.equipment])
            lines += [track.rest]
            lines += [track.switch_sides, track.outro]
        for occ in occurrences(sample):
            if 2 < occ.round < occ.block.rounds:  # the middle rounds read like the second
                continue
            cues = occurrence_cues(occ, say)
            lines += filter(None, [cues.block_intro, cues.round_cue])
            lines += [cues.first_up, cues.next_up, cues.now, cues.name_only, cues.get_ready]
            lines += [cues.chapter_title, *(text for _, text in cues.callouts)]
    return list(dict.fromkeys(lines)), table.read


def golden_text() -> str:
    sections = []
    for language in available_languages():
        lines, _ = render(language)
        sections.append(f"[{language}]\n" + "\n".join(lines) + "\n")
    return "\n".join(sections)


def test_every_cue_form_reads_as_the_golden_file_says() -> None:
    text = golden_text()
    if os.environ.get(REGENERATE):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.read_text(encoding="utf-8") == text, f"set {REGENERATE}=1 and read the diff"


@pytest.mark.parametrize("language", available_languages())
def test_the_golden_file_reads_every_entry_of_the_wording(language: str) -> None:
    _, read = render(language)
    assert set(_table(language)) - {"language"} <= read


def _said(language: str, *blocks: Block) -> list[str]:
    sample = replace(routine(*blocks), language=language)
    script = make_script(sample, spoken_ms)
    return [e.text for e in script.speech() if e.text is not None]


@pytest.mark.parametrize(
    ("language", "cue"),
    [
        ("en", "EMOM: every minute, 5 rounds of Kettlebell Swings."),
        ("es", "EMOM: cada minuto, 5 rondas de Kettlebell Swings."),
        ("fr", "EMOM : un départ par période d'une minute, 5 tours de Kettlebell Swings."),
        ("de", "EMOM: jede Minute ein Start, 5 Runden mit Kettlebell Swings."),
        ("en", "EMOM: every 2 minutes, 5 rounds of Kettlebell Swings."),
        ("de", "EMOM: alle 2 Minuten ein Start, 5 Runden mit Kettlebell Swings."),
        ("en", "EMOM: every 90 seconds, 5 rounds of Kettlebell Swings."),
    ],
)
def test_a_period_of_one_is_said_without_its_number(language: str, cue: str) -> None:
    period_ms = 90_000 if "90" in cue else 120_000 if "2 M" in cue or "2 m" in cue else 60_000
    assert cue in _said(language, _every(period_ms, 5))


@pytest.mark.parametrize(
    ("language", "left_ms", "cue"),
    [
        ("es", 60_000, "Queda un minuto."),
        ("es", 30_000, "Quedan 30 segundos."),
        ("fr", 60_000, "Plus qu'une minute."),
        ("fr", 30_000, "Plus que 30 secondes."),
        ("de", 60_000, "Noch eine Minute."),
        ("en", 60_000, "1 minute left."),
    ],
)
def test_the_time_left_agrees_with_its_number(language: str, left_ms: int, cue: str) -> None:
    said = _said(language, _amrap(180_000, ("Burpees", 5)))
    assert cue in said, said


def test_an_amrap_is_read_like_a_coach_and_its_first_move_is_named() -> None:
    said = [e.text for e in script_of(AMRAP_12).speech()]
    intro = "AMRAP. 12 minutes, as many rounds as possible: 5 burpees, 10 sit-ups, 15 air squats."
    assert intro in said
    assert "Get ready: Burpees." in said
    assert "Get ready: AMRAP." not in said


@pytest.mark.parametrize(
    ("language", "intro"),
    [
        (
            "es",
            "AMRAP. 12 minutos, tantas rondas como puedas: 5 burpees, 10 sit-ups, 15 air squats.",
        ),
        (
            "fr",
            "AMRAP. 12 minutes, le plus de tours possible : 5 burpees, 10 sit-ups, 15 air squats.",
        ),
        (
            "de",
            "AMRAP. 12 Minuten, so viele Runden wie möglich: 5 Burpees, 10 Sit-ups, 15 Air Squats.",
        ),
    ],
)
def test_an_amrap_is_read_like_a_coach_in_every_language(language: str, intro: str) -> None:
    amrap = replace(load_routine(AMRAP_12), language=language)
    assert intro in [e.text for e in make_script(amrap, spoken_ms).speech()]


def test_a_self_paced_block_gets_no_tempo_in_the_fit_report() -> None:
    amrap = load_routine(AMRAP_12)
    natural_ms = make_script(amrap, spoken_ms).length_ms
    fitted = make_script(amrap, spoken_ms, length_ms=natural_ms + 200_000)
    (note,) = [note for note in fitted.adjustments if note.startswith("AMRAP:")]
    assert note == "AMRAP: AMRAP 12 min -> 13 min, rests x1.89"
    assert any("holds 60 s -> 63 s" in note for note in fitted.adjustments)  # others still move


@pytest.mark.parametrize(
    ("language", "total_ms", "cue"),
    [
        ("en", 5_520_000, "1 hour 32 minutes in total."),
        ("en", 7_200_000, "2 hours in total."),
        ("en", 5_526_000, "1 hour 32 minutes 6 seconds in total."),
        ("en", 1_800_000, "30 minutes in total."),
        ("es", 5_520_000, "Una hora y 32 minutos en total."),
        ("fr", 5_520_000, "Une heure 32 minutes au total."),
        ("de", 5_520_000, "Eine Stunde und 32 Minuten insgesamt."),
    ],
)
def test_totals_over_an_hour_are_said_in_hours(language: str, total_ms: int, cue: str) -> None:
    sample = replace(routine(block("B", 1, exercise("Plank", time_ms=30_000))), language=language)
    assert track_cues(sample, phrases_for(language), total_ms).length == cue


def _natural(path: Path) -> tuple[Routine, Script]:
    return load_routine(path), script_of(path)


@pytest.mark.parametrize("path", [RUN_WALK, AMRAP_12, ROOT / "routines" / "pyramid-ladder.yaml"])
def test_a_length_equal_to_the_natural_length_is_accepted(path: Path) -> None:
    subject = load_routine(path)
    natural_ms = make_script(subject, spoken_ms).length_ms
    for target_ms in (natural_ms, -(-natural_ms // 1000) * 1000):  # as printed, rounded up
        check_roughly(subject, target_ms)
        fitted = make_script(subject, spoken_ms, length_ms=target_ms)
        assert fitted.length_ms == target_ms


def test_a_run_walk_at_its_natural_length_is_the_track_as_written() -> None:
    subject = load_routine(RUN_WALK)
    written = make_script(subject, spoken_ms)
    fitted = make_script(subject, spoken_ms, length_ms=written.length_ms)
    assert [(e.start_ms, e.text, e.tone) for e in fitted.events] == [
        (e.start_ms, e.text, e.tone) for e in written.events
    ]


def test_time_added_before_the_first_move_is_in_the_fit_report() -> None:
    subject = load_routine(RUN_WALK)
    natural_ms = make_script(subject, spoken_ms).length_ms
    fitted = make_script(subject, spoken_ms, length_ms=natural_ms + 17_000)
    assert fitted.adjustments
    assert any(note.startswith("before the first move:") for note in fitted.adjustments)
