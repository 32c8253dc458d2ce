"""Cue wording, one YAML file per language, so wording never lives in code."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from ..errors import UsageError

__all__ = ["Phrases", "available_languages", "phrases_for"]


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

    def count(self, key: str, n: int) -> str:
        """A counted noun: ``count("reps", 1)`` -> ``"1 rep"``."""
        forms = self._table[key]
        assert isinstance(forms, dict), key
        form = forms["one"] if n == 1 else forms["other"]
        return str(form).format(n=n)

    def duration(self, duration_ms: int) -> str:
        """A duration as a coach says it: ``30 seconds``, ``1 minute``, ``1 minute 30 seconds``."""
        minutes, seconds = divmod(round(duration_ms / 1000), 60)
        parts = []
        if minutes:
            parts.append(self.count("minutes", minutes))
        if seconds or not minutes:
            parts.append(self.count("seconds", seconds))
        return " ".join(parts)

    def join(self, items: list[str]) -> str:
        """``a, b and c`` in this language."""
        if len(items) <= 1:
            return "".join(items)
        return self.say("list_comma").join(items[:-1]) + self.say("list_and") + items[-1]


def available_languages() -> list[str]:
    """Language codes that have a phrase file."""
    folder = resources.files(__package__)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def phrases_for(language: str) -> Phrases:
    """The phrases of ``language`` (``pt-BR`` falls back to ``pt``).

    Raises:
        UsageError: no phrase file for that language.
    """
    known = available_languages()
    for code in (language, language.split("-")[0].lower()):
        if code in known:
            text = resources.files(__package__).joinpath(f"{code}.yaml").read_text("utf-8")
            return Phrases(code, yaml.safe_load(text))
    raise UsageError(f"no cue wording for language {language!r}; available: {', '.join(known)}")
