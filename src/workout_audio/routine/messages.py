"""Problems found in a routine file, and the one-line messages that explain them."""

from __future__ import annotations

import difflib
from typing import Any, NoReturn

from ..errors import RoutineError, RoutineErrors

__all__ = ["MAX_MESSAGE_CHARS", "Problems", "Where", "explain", "field_path", "kind_of", "show"]

MAX_MESSAGE_CHARS = 300

Where = tuple[str | int, ...]  # a field's path: ("blocks", 2, "time")


class Problems:
    """The errors found in one file, and the line of every field in it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines: dict[Where, int] = {}
        self.errors: list[RoutineError] = []
        self._flagged: set[Where] = set()

    def line(self, where: Where) -> int | None:
        """Line of the field, or of its nearest ancestor when it is missing."""
        for end in range(len(where), -1, -1):
            line = self.lines.get(where[:end])
            if line is not None:
                return line
        return None

    def add(self, where: Where, message: str, line: int | None = None) -> None:
        line = self.line(where) if line is None else line
        message = " ".join(message.splitlines())
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 3] + "..."
        field = field_path(where)
        self.errors.append(RoutineError(self.path, line, field, message))
        self._flagged.add(where)

    def flagged(self, where: Where) -> bool:
        """Whether this exact field already has an error (so later checks stay quiet)."""
        return where in self._flagged

    def raise_if_any(self) -> None:
        if self.errors:
            raise RoutineErrors(sorted(self.errors, key=lambda error: error.line or 0))

    def fail(self, where: Where, message: str, line: int | None = None) -> NoReturn:
        """Add a problem that stops reading the file, and raise everything found so far."""
        self.add(where, message, line)
        raise RoutineErrors(sorted(self.errors, key=lambda error: error.line or 0))


def explain(error: Any) -> list[tuple[Where, str]]:  # noqa: ANN401 - jsonschema is untyped
    """One jsonschema error -> (field, friendly message) pairs."""
    where: Where = tuple(error.absolute_path)
    kind, limit, instance = error.validator, error.validator_value, error.instance
    schema: dict[str, Any] = error.schema
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unknown = [key for key in instance if key not in allowed]
        return [((*where, key), _unknown_key(key, allowed)) for key in unknown]
    if kind == "required":
        return [
            (where, f"missing required key {show(key)}") for key in limit if key not in instance
        ]
    if kind == "type":
        return [(where, f"expected {_expected(schema)}, got {kind_of(instance)}")]
    if kind in ("minItems", "minLength") and limit == 1:
        return [(where, "must not be empty")]
    if kind == "maxLength":
        return [(where, f"too long ({len(instance)} characters; at most {limit})")]
    if kind == "minimum":
        bound = "must not be negative" if limit == 0 else f"must be at least {limit}"
        return [(where, f"{bound}, got {show(instance)}")]
    if kind == "maximum":
        return [(where, f"must be at most {limit}, got {show(instance)}")]
    if kind == "pattern":
        hint = schema.get("patternErrorMessage", "not in the expected form")
        return [(where, f"{show(instance)} is {hint}")]
    if kind == "enum" and where == ("version",):
        return [(where, f"unsupported version {show(instance)} (only version 1 exists)")]
    if kind == "enum":
        return [(where, f"must be {' or '.join(map(show, limit))}, got {show(instance)}")]
    if kind == "oneOf":
        return []  # time-or-reps: the builder says it more clearly
    if kind == "anyOf" and error.context:
        # A rest is a duration (branch 0) or a range (branch 1); reps and time are a value
        # (branch 0) or a list of one a round (branch 1): explain the branch meant.
        ranged = isinstance(instance, str) and ".." in instance
        meant = 1 if ranged or isinstance(instance, list) else 0
        branch = [e for e in error.context if e.relative_schema_path[0] == meant]
        found = [pair for e in branch for pair in explain(e)]
        return found or [(where, str(error.message))]
    return [(where, str(error.message))]


def _unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {show(close[0])}?" if close else "allowed: " + ", ".join(allowed)
    return f"unknown key {show(key)} ({hint})"


def _expected(schema: dict[str, Any]) -> str:
    types = schema.get("type")
    if types == ["string", "number"]:
        return "a duration like 30s or 1:30"
    if types == "array":
        return "a list of strings" if schema.get("items", {}).get("type") == "string" else "a list"
    names = {
        "object": "a mapping",
        "string": "text",
        "integer": "a whole number",
        "number": "a number",
        "boolean": "true or false",
    }
    return names.get(str(types), str(types))


def kind_of(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"the number {show(value)}"
    if isinstance(value, str):
        return f"the text {show(value)}"
    return "a list" if isinstance(value, list) else "a mapping"


def show(value: object) -> str:
    """Short repr for messages: quoted, escaped (so always one line) and truncated."""
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + "...'"


def field_path(where: Where) -> str:
    """``("blocks", 2, "time")`` -> ``"blocks[2].time"``; an odd key is quoted: ``['a\\nb']``."""
    field = ""
    for part in where:
        if isinstance(part, str) and not _plain(part):
            field += f"[{show(part)}]"  # a newline or escape code must not reach the terminal
        else:
            field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else part
    return field


def _plain(key: str) -> bool:
    """Whether a key reads unambiguously unquoted in a field path."""
    return key.isprintable() and key.strip() == key != "" and "." not in key
