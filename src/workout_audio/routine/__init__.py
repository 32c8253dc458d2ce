"""Routine YAML -> validated, immutable Routine dataclasses (errors name file, line and field).

One module a concern: :mod:`.model` (the dataclasses), :mod:`.nodes` (reading YAML
safely, with every field's line), :mod:`.build` (the checks a schema cannot
state), :mod:`.messages` (problems and their wording), :mod:`.targets` (pace, heart
rate, power, cadence and distance forms); the JSON Schema in
``schema/routine.schema.json`` states every shape and range once.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]

from .build import Builder
from .messages import Problems, explain
from .model import (
    PERIOD_REST_MS,
    REST_KINDS,
    TONE_NAMES,
    Block,
    BlockRole,
    Exercise,
    Flow,
    RestKind,
    Rests,
    Routine,
    Side,
    Sound,
    TimedMessage,
    Timing,
    ToneName,
)
from .nodes import parse_yaml, read_text
from .targets import Target

__all__ = [
    "PERIOD_REST_MS",
    "REST_KINDS",
    "TONE_NAMES",
    "Block",
    "BlockRole",
    "Exercise",
    "Flow",
    "RestKind",
    "Rests",
    "Routine",
    "Side",
    "Sound",
    "Target",
    "TimedMessage",
    "Timing",
    "ToneName",
    "load_routine",
    "routine_from_text",
    "routine_schema",
]


def load_routine(path: str | Path) -> Routine:
    """Read and validate a routine file.

    Args:
        path: the routine YAML file.

    Returns:
        The routine with every exercise's timing resolved.

    Raises:
        RoutineErrors: the file is unreadable, not YAML, or breaks the format;
            every problem found is in ``.errors`` (in file order), the first is the message.
    """
    problems = Problems(str(path))
    return _routine(read_text(Path(path), problems), problems)


def routine_from_text(text: str, path: str | Path) -> Routine:
    """Validate routine text not yet saved, as if it were the file at ``path``.

    Messages name ``path`` and the text's lines, and the files it names are found
    beside ``path``, exactly as :func:`load_routine` would once the text is saved.

    Raises:
        RoutineErrors: as :func:`load_routine`.
    """
    return _routine(text, Problems(str(path)))


def _routine(text: str, problems: Problems) -> Routine:
    data = parse_yaml(text, problems)
    for error in _validator().iter_errors(data):
        for where, message in explain(error):
            problems.add(where, message)
    routine = Builder(problems).routine(data)
    problems.raise_if_any()
    return routine


def routine_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of routine files, e.g. to publish for editors."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema


@functools.cache
def _schema_text() -> str:
    schema_dir = resources.files("workout_audio").joinpath("schema")
    return schema_dir.joinpath("routine.schema.json").read_text(encoding="utf-8")


@functools.cache
def _validator() -> Any:  # noqa: ANN401 - jsonschema is untyped
    return jsonschema.Draft202012Validator(routine_schema())
