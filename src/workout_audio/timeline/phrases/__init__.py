"""Cue wording, one YAML file per language, so wording never lives in code.

A counted noun is a mapping of forms, chosen as ICU MessageFormat chooses them:
an exact number (``"=1": una repetición``) first, then the language's plural
category of the number (``one``, ``other``; CLDR rules), then ``other``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources

import yaml

from ...errors import UsageError

__all__ = ["PLURAL_CATEGORIES", "Phrases", "available_languages", "phrases_for"]

PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


def _one_is_1(n: int) -> str:
    return "one" if n == 1 else "other"


def _one_is_0_or_1(n: int) -> str:
    return "one" if n in (0, 1) else "other"


# CLDR cardinal rules for whole numbers, by language; most languages are "one is 1".
PLURAL_RULES: dict[str, Callable[[int], str]] = {"fr": _one_is_0_or_1, "pt": _one_is_0_or_1}

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


class Phrases:
    """Fills the templates of one language; plural forms are picked by number."""

    def __init__(self, language: str, table: dict[str, object]) -> None:
        self.language = language
        self._table = table

    def say(self, key: str, **values: object) -> str:
        """The phrase ``key`` with ``values`` filled in."""
        template = self._table[key]
        assert isinstance(template, str), key
        return template.format(**values)

    def plural_category(self, n: int) -> str:
        """The CLDR plural category of ``n`` in this language: ``one``, ``other``, ..."""
        return PLURAL_RULES.get(self.language, _one_is_1)(n)

    def count(self, key: str, n: int) -> str:
        """A counted noun: ``count("reps", 1)`` -> ``"1 rep"``; 10 -> ``"10 reps"``."""
        forms = self._table[key]
        assert isinstance(forms, dict), key
        form = forms.get(f"={n}", forms.get(self.plural_category(n), forms["other"]))
        return str(form).format(n=n)

    def duration(self, duration_ms: int) -> str:
        """A duration as a coach says it: ``30 seconds``, ``1 minute``, ``1 minute 30 seconds``."""
        minutes, seconds = divmod(round(duration_ms / 1000), 60)
        parts = []
        if minutes:
            parts.append(self.count("minutes", minutes))
        if seconds or not minutes:
            parts.append(self.count("seconds", seconds))
        return str(self._table.get("duration_join", " ")).join(parts)

    def join(self, items: list[str]) -> str:
        """``a, b and c`` in this language."""
        if len(items) <= 1:
            return "".join(items)
        conjunction = self.say("list_and")
        rule = CONJUNCTION_RULES.get(self.language)
        if rule is not None:
            conjunction = rule(conjunction, items[-1])
        return self.say("list_comma").join(items[:-1]) + conjunction + items[-1]


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
