"""Cue wording, one YAML file per language, so wording never lives in code.

A counted form is a mapping of forms, chosen as ICU MessageFormat chooses them:
an exact number (``"=1": una repetición``) first, then the language's plural
category of the number (``one``, ``other``; CLDR rules), then ``other``. A
phrase that agrees with a duration ("Queda un minuto.", "Quedan 30 segundos.")
is a counted form too, chosen by :meth:`Phrases.agreement`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib import resources

import yaml

from ...errors import UsageError

__all__ = ["PLURAL_CATEGORIES", "Phrases", "available_languages", "phrases_for"]

PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


def _one_is_1(n: float) -> str:
    return "one" if n == 1 else "other"  # "1.5 kilometres"


def _one_is_0_or_1(n: float) -> str:
    return "one" if int(n) in (0, 1) else "other"  # CLDR's i = 0,1: "1,5 kilomètre"


# CLDR cardinal rules, by language; most languages are "one is 1".
PLURAL_RULES: dict[str, Callable[[float], str]] = {"fr": _one_is_0_or_1, "pt": _one_is_0_or_1}

_SPANISH_VOWELS = "aeouáéóú"


def _spanish_and(conjunction: str, following: str) -> str:
    """Spanish "y" is "e" before an i- or hi- sound ("Fuerza e impulso", "agua e hidratos"),
    but not before a diphthong ("agua y hielo")."""
    if conjunction.strip() != "y":
        return conjunction
    word = following.lstrip().casefold()
    for start in ("hi", "hí", "i", "í"):
        if word.startswith(start):
            after = word[len(start) : len(start) + 1]
            if not (after and after in _SPANISH_VOWELS):
                return conjunction.replace("y", "e")
    return conjunction


# How "and" changes with the word after it, by language.
CONJUNCTION_RULES: dict[str, Callable[[str, str], str]] = {"es": _spanish_and}

# French drops the vowel of "de", "que", "le", "la" before a vowel: "Plus qu'une minute.",
# "d'une minute". Not before h (an exercise's "Hip Thrust" is aspirated) nor y.
_FRENCH_ELIDED = re.compile(r"\b(de|que|le|la) (?=[aeiouàâäéèêëîïôöùûü])", re.IGNORECASE)


def _french_elision(text: str) -> str:
    return _FRENCH_ELIDED.sub(lambda match: match.group(1)[:-1] + "'", text)


# How words run together in a filled phrase, by language.
CONTRACTION_RULES: dict[str, Callable[[str], str]] = {"fr": _french_elision}
_SENTENCE_ENDS = (".", "!", "?")
_SENTENCE_START = re.compile(r"(?:^|(?<=[.!?] ))[^\W\d_]")


class Phrases:
    """Fills the templates of one language; plural forms are picked by number."""

    def __init__(self, language: str, table: dict[str, object]) -> None:
        self.language = language
        self._table = table

    def say(self, key: str, **values: object) -> str:
        """The phrase ``key`` with ``values`` filled in."""
        template = self._table[key]
        assert isinstance(template, str), key
        return self._finish(template.format(**values))

    def _finish(self, text: str) -> str:
        """Contractions, and a capital on a sentence that opens with a filled-in value."""
        contract = CONTRACTION_RULES.get(self.language)
        if contract is not None:
            text = contract(text)
        if text.endswith(_SENTENCE_ENDS):  # "AMRAP. una hora, ..." -> "AMRAP. Una hora, ..."
            text = _SENTENCE_START.sub(lambda match: match.group(0).upper(), text)
        return text

    def plural_category(self, n: float) -> str:
        """The CLDR plural category of ``n`` in this language: ``one``, ``other``, ..."""
        return PLURAL_RULES.get(self.language, _one_is_1)(n)

    def count(self, key: str, n: float, **values: object) -> str:
        """A counted form: ``count("reps", 1)`` -> ``"1 rep"``; 10 -> ``"10 reps"``;
        a fraction is written with the language's decimal mark (``1,5``)."""
        forms = self._table[key]
        assert isinstance(forms, dict), key
        exact = f"={self.number(n)}"
        form = forms.get(exact, forms.get(self.plural_category(n), forms["other"]))
        return self._finish(str(form).format(n=self.number(n), **values))

    def number(self, value: float) -> str:
        """A number as the voice should read it: ``75``, ``57.5`` (``57,5`` in de, es, fr)."""
        if value == int(value):
            return str(int(value))
        return f"{value:g}".replace(".", str(self._table.get("decimal_mark", ".")))

    def duration(self, duration_ms: int) -> str:
        """A duration as a coach says it: ``30 seconds``, ``1 minute 30 seconds``,
        ``1 hour 32 minutes`` (hours only from an hour up)."""
        parts = [self.count(unit, n) for unit, n in _units(duration_ms)]
        if len(parts) == 1:
            return parts[0]
        comma = str(self._table["duration_comma"])
        return comma.join(parts[:-1]) + str(self._table["duration_join"]) + parts[-1]

    def agreement(self, duration_ms: int) -> int:
        """The number a phrase about ``duration_ms`` agrees with: 1 for "one minute", else many."""
        units = _units(duration_ms)
        return units[0][1] if len(units) == 1 else 2

    def every(self, period_ms: int) -> str:
        """How often a start comes: ``every minute``, ``every 2 minutes``, ``every 90 seconds``."""
        seconds = round(period_ms / 1000)
        if seconds % 60 == 0:
            return self.count("every_minutes", seconds // 60)
        return self.count("every_seconds", seconds)

    def move(self, name: str) -> str:
        """A move's name inside a list of counted moves: ``5 burpees``, where the language
        writes common nouns in lower case (a word with other capitals, ``TRX``, is kept)."""
        if not self._table.get("lowercase_moves"):
            return name
        return " ".join(w.lower() if w[1:] == w[1:].lower() else w for w in name.split(" "))

    def join(self, items: list[str]) -> str:
        """``a, b and c`` in this language."""
        if len(items) <= 1:
            return "".join(items)
        conjunction = self.say("list_and")
        rule = CONJUNCTION_RULES.get(self.language)
        if rule is not None:
            conjunction = rule(conjunction, items[-1])
        return self.say("list_comma").join(items[:-1]) + conjunction + items[-1]


def _units(duration_ms: int) -> list[tuple[str, int]]:
    """The spoken units of a duration: hours (from an hour up), minutes, seconds."""
    minutes, seconds = divmod(round(duration_ms / 1000), 60)
    hours, minutes = divmod(minutes, 60)
    units = [("hours", hours), ("minutes", minutes), ("seconds", seconds)]
    return [(unit, n) for unit, n in units if n] or [("seconds", 0)]


def available_languages() -> list[str]:
    """Language codes that have a phrase file."""
    folder = resources.files(__package__)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def phrases_for(language: str) -> Phrases:
    """The phrases of ``language`` (``es-MX`` and ``es_MX`` fall back to ``es``).

    Raises:
        UsageError: no phrase file for that language.
    """
    known = available_languages()
    folded = language.replace("_", "-")
    for code in (folded, folded.split("-")[0].lower()):
        if code in known:
            text = resources.files(__package__).joinpath(f"{code}.yaml").read_text("utf-8")
            return Phrases(code, yaml.safe_load(text))
    raise UsageError(f"no cue wording for language {language!r}; available: {', '.join(known)}")
