"""Cue wording in every language: complete files, right plurals, the seed routine in each."""

from __future__ import annotations

import dataclasses
import string
from importlib import resources

import pytest
import yaml

from helpers import SEED, spoken_ms
from workout_audio.errors import UsageError
from workout_audio.routine import load_routine
from workout_audio.timeline.phrases import PLURAL_CATEGORIES, available_languages, phrases_for
from workout_audio.timeline.script import make_script, script_phrases

LANGUAGES = available_languages()
TRANSLATIONS = [language for language in LANGUAGES if language != "en"]


def table(language: str) -> dict[str, object]:
    text = (
        resources.files("workout_audio.timeline.phrases")
        .joinpath(f"{language}.yaml")
        .read_text("utf-8")
    )
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def placeholders(template: object) -> set[str]:
    if isinstance(template, dict):
        return set().union(*(placeholders(form) for form in template.values()))
    return {name for _, name, _, _ in string.Formatter().parse(str(template)) if name}


def test_at_least_english_spanish_french_and_german() -> None:
    assert {"en", "es", "fr", "de"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_every_language_has_every_key_english_has_and_no_other(language: str) -> None:
    english, translated = table("en"), table(language)
    assert set(translated) == set(english)
    assert translated["language"] == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_templates_fill_the_same_blanks_as_english(language: str) -> None:
    english, translated = table("en"), table(language)
    for key, template in translated.items():
        expected = placeholders(english[key]) - {"n"}
        assert placeholders(template) - {"n"} == expected, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_counted_nouns_have_an_other_form_and_only_known_forms(language: str) -> None:
    for key in ("rounds", "reps", "seconds", "minutes"):
        forms = table(language)[key]
        assert isinstance(forms, dict), key
        assert "other" in forms, key
        for form in forms:
            assert form in PLURAL_CATEGORIES or str(form).lstrip("=").isdigit(), (key, form)
        assert "{n}" in str(forms["other"]), (key, "the other form says its number")


@pytest.mark.parametrize(
    ("language", "said", "expected"),
    [
        ("en", lambda p: p.count("reps", 1), "1 rep"),
        ("en", lambda p: p.count("reps", 10), "10 reps"),
        ("en", lambda p: p.duration(90_000), "1 minute 30 seconds"),
        ("en", lambda p: p.say("per_side", amount=p.duration(30_000), side="right"),
         "30 seconds per side, right side first"),
        ("es", lambda p: p.count("reps", 1), "una repetición"),
        ("es", lambda p: p.count("reps", 10), "10 repeticiones"),
        ("es", lambda p: p.say("per_side", amount=p.duration(30_000), side=p.say("side_right")),
         "30 segundos por lado, primero el lado derecho"),
        ("es", lambda p: p.duration(90_000), "un minuto y 30 segundos"),
        ("es", lambda p: p.count("rounds", 3), "3 rondas"),
        ("fr", lambda p: p.count("reps", 1), "une répétition"),
        ("fr", lambda p: p.count("reps", 12), "12 répétitions"),
        ("fr", lambda p: p.count("seconds", 0), "0 seconde"),  # French: 0 is singular
        ("fr", lambda p: p.say("per_side", amount=p.duration(30_000), side=p.say("side_left")),
         "30 secondes de chaque côté, côté gauche d'abord"),
        ("de", lambda p: p.count("reps", 1), "eine Wiederholung"),
        ("de", lambda p: p.count("reps", 8), "8 Wiederholungen"),
        ("de", lambda p: p.duration(60_000), "eine Minute"),
        ("de", lambda p: p.duration(90_000), "eine Minute und 30 Sekunden"),
        ("de", lambda p: p.join(["Squat", "Plank", "Bridge"]), "Squat, Plank und Bridge"),
        ("en", lambda p: p.count("rounds", 1), "1 round"),
        ("en", lambda p: p.count("seconds", 0), "0 seconds"),
        ("en", lambda p: p.duration(120_000), "2 minutes"),
        ("es", lambda p: p.count("rounds", 1), "una ronda"),
        ("es", lambda p: p.count("seconds", 0), "0 segundos"),
        ("es", lambda p: p.duration(61_000), "un minuto y un segundo"),
        ("es", lambda p: p.duration(150_000), "2 minutos y 30 segundos"),
        ("fr", lambda p: p.count("rounds", 1), "un tour"),
        ("fr", lambda p: p.count("rounds", 2), "2 tours"),
        ("fr", lambda p: p.duration(90_000), "une minute 30 secondes"),
        ("fr", lambda p: p.duration(120_000), "2 minutes"),
        ("de", lambda p: p.count("rounds", 1), "eine Runde"),
        ("de", lambda p: p.count("rounds", 3), "3 Runden"),
        ("de", lambda p: p.count("seconds", 0), "0 Sekunden"),
        ("de", lambda p: p.duration(150_000), "2 Minuten und 30 Sekunden"),
        ("en", lambda p: p.say("chapter_round", number=2, total=3), "Round 2/3"),
        ("es", lambda p: p.say("chapter_round", number=2, total=3), "Ronda 2/3"),
        ("fr", lambda p: p.say("chapter_round", number=2, total=3), "Tour 2/3"),
        ("de", lambda p: p.say("chapter_round", number=2, total=3), "Runde 2/3"),
    ],
)  # fmt: skip
def test_numbers_and_plurals_read_right(language: str, said, expected: str) -> None:
    assert said(phrases_for(language)) == expected


def test_a_regional_code_uses_its_language_and_an_unknown_one_lists_the_known() -> None:
    assert phrases_for("es-MX").language == "es"
    assert phrases_for("de_AT").language == "de"
    with pytest.raises(UsageError, match="no cue wording for language 'tlh'") as raised:
        phrases_for("tlh")
    assert "de, en, es, fr" in str(raised.value)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["First up: ", "Rest.", "Switch sides.", "Workout complete."]),
        ("es", ["Empezamos con: ", "Descansa.", "Cambia de lado.", "30 segundos por lado",
                "Entrenamiento terminado."]),
        ("fr", ["On commence par : ", "Repos.", "Changez de côté.", "de chaque côté",
                "Séance terminée."]),
        ("de", ["Als Erstes: ", "Pause.", "Seitenwechsel.", "pro Seite", "Training geschafft."]),
    ],
)  # fmt: skip
def test_the_seed_routine_renders_in_each_language(language: str, expected: list[str]) -> None:
    routine = dataclasses.replace(load_routine(SEED), language=language)
    script = make_script(routine, spoken_ms)
    said = [event.text or "" for event in script.speech()]
    for cue in expected:
        assert any(cue in text for text in said), (cue, said[:8])
    assert set(said) <= set(script_phrases(routine)), "every cue said is one synthesised"
    # Exercise names are said exactly as written, whatever the language.
    names = {e.name for block in routine.blocks for e in block.exercises}
    for name in names:
        assert any(text.startswith(f"{name}, ") or f": {name}, " in text for text in said), name
    assert script.length_ms == routine.length_ms


def test_every_language_covers_the_seed_routine_with_the_same_shape() -> None:
    """Same routine, same number of cues in each language: only the wording changes."""
    seed = load_routine(SEED)
    counts = {
        language: len(script_phrases(dataclasses.replace(seed, language=language)))
        for language in LANGUAGES
    }
    assert len(set(counts.values())) == 1, counts


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["Fuerza", "impulso"], "Fuerza e impulso"),
        (["Plancha", "Sentadilla", "Hip Thrust"], "Plancha, Sentadilla e Hip Thrust"),
        (["Agua", "hidratos"], "Agua e hidratos"),
        (["Cobre", "hierro"], "Cobre y hierro"),  # a diphthong: "y" stays
        (["Agua", "hielo"], "Agua y hielo"),
        (["Plancha", "Ícaro"], "Plancha e Ícaro"),
        (["Plancha", "Sentadilla"], "Plancha y Sentadilla"),
    ],
)
def test_spanish_and_becomes_e_before_an_i_sound(items: list[str], expected: str) -> None:
    assert phrases_for("es").join(items) == expected


def test_only_spanish_changes_its_and() -> None:
    assert phrases_for("en").join(["Strength", "impulse"]) == "Strength and impulse"
    assert phrases_for("fr").join(["Force", "impulsion"]) == "Force et impulsion"


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "Round 2/3"), ("es", "Ronda 2/3"), ("fr", "Tour 2/3"), ("de", "Runde 2/3")],
)
def test_chapter_titles_are_in_the_track_language(language: str, title: str) -> None:
    routine = dataclasses.replace(load_routine(SEED), language=language)
    chapters = [chapter.title for chapter in make_script(routine, spoken_ms).chapters]
    assert any(f" · {title} · " in chapter for chapter in chapters), chapters
    others = {"Round", "Ronda", "Tour", "Runde"} - {title.split()[0]}
    assert not any(word in chapter.split() for chapter in chapters for word in others)
