"""Text pre-processors: small string-to-string steps applied before any engine reads a phrase."""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["PRE_PROCESSORS", "prepare_text"]


def _hyphenated_numbers(text: str) -> str:
    """ "90-90" is a position, read "ninety ninety", not "ninety dash ninety"."""
    return re.sub(r"(?<=\d)-(?=\d)", " ", text)


def _curly_quotes(text: str) -> str:
    return (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )


PRE_PROCESSORS: list[Callable[[str], str]] = [_curly_quotes, _hyphenated_numbers]


def prepare_text(text: str) -> str:
    """The text as handed to an engine, after the pre-processors."""
    for pre_processor in PRE_PROCESSORS:
        text = pre_processor(text)
    return text
