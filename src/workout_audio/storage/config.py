"""The user's settings file: ``config.yaml`` in the user config folder (platformdirs).

It holds defaults a user wants on every run, by dotted key, e.g.::

    cache:
      max_size: 2GB

A value that cannot be used is reported at its file:line, like a routine's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import platformdirs
import yaml

from ..errors import UsageError

__all__ = ["config_path", "setting"]

T = TypeVar("T")
ENVIRONMENT = "WORKOUT_AUDIO_CONFIG"  # another settings file (or none: an empty value)


def config_path() -> Path | None:
    """The settings file: $WORKOUT_AUDIO_CONFIG, else config.yaml in the user config folder."""
    if ENVIRONMENT in os.environ:
        given = os.environ[ENVIRONMENT]
        return Path(given) if given else None
    return Path(platformdirs.user_config_dir("workout-audio")) / "config.yaml"


def setting(key: str, parse: Callable[[str], T]) -> T | None:
    """The value of dotted ``key`` in the settings file, through ``parse``; None when unset.

    Raises:
        UsageError: the file is not YAML, or the value does not parse; names file:line.
    """
    path = config_path()
    if path is None or not path.is_file():
        return None
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UsageError(f"{path}: not a readable YAML settings file ({error})") from None
    for part in key.split("."):
        if not isinstance(node, yaml.MappingNode):
            return None
        node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        if node is None:
            return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.ScalarNode):
        raise UsageError(f"{path}:{line}: {key}: expected one value")
    try:
        return parse(node.value)
    except ValueError as error:
        raise UsageError(f"{path}:{line}: {key}: {error}") from None
