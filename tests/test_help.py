"""The command line's help, as people read it, for every command and group the app has."""

from __future__ import annotations

import re
from importlib.metadata import version

import pytest
import typer
from typer.core import TyperArgument, TyperGroup
from typer.testing import CliRunner

import workout_audio
from helpers import run_cli
from workout_audio.app.main import app

runner = CliRunner()


def _walk(command: object, path: tuple[str, ...] = ()) -> list[tuple[str, object]]:
    """Every command and group under ``command``, walked from the app itself."""
    found = [(" ".join(path), command)]
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            found += _walk(sub, (*path, name))
    return found


EVERYTHING = dict(_walk(typer.main.get_command(app)))


def _params() -> list[object]:
    return [pytest.param(path, id=path or "workout-audio") for path in EVERYTHING]


def _help(path: str) -> str:
    result = runner.invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_walk_finds_every_command_and_group() -> None:
    assert {"", "build", "variants", "script", "chart", "validate", "voices"} <= set(EVERYTHING)
    assert {"voices download", "cache", "cache info"} <= set(EVERYTHING)


@pytest.mark.parametrize("path", _params())
def test_every_help_has_an_example(path: str) -> None:
    assert re.search(r"^\s*Example: workout-audio\b", _help(path), re.MULTILINE)


@pytest.mark.parametrize("path", _params())
def test_help_shows_no_type_placeholders(path: str) -> None:
    shown = _help(path)
    for placeholder in ("<bool>", "{", "<list"):
        assert placeholder not in shown, f"{placeholder} in the help of {path!r}"


@pytest.mark.parametrize("path", _params())
def test_arguments_show_in_capitals_in_the_usage_line(path: str) -> None:
    usage = next(line for line in _help(path).splitlines() if "Usage:" in line)
    shown = {word.strip("[]").removesuffix("...") for word in usage.split()}
    command = EVERYTHING[path]
    for param in getattr(command, "params", []):
        if isinstance(param, TyperArgument):
            name = param.metavar or ""
            assert name.isupper(), (path, param.name)
            assert name in shown, usage


@pytest.mark.parametrize(
    "path",
    [
        path
        for path, command in EVERYTHING.items()
        if any(isinstance(p, TyperArgument) and p.required for p in getattr(command, "params", []))
    ],
)
def test_a_missing_argument_is_named_as_the_help_names_it(path: str) -> None:
    command = EVERYTHING[path]
    argument = next(p for p in command.params if isinstance(p, TyperArgument))  # type: ignore[attr-defined]
    result = runner.invoke(app, path.split())
    assert result.exit_code == 2
    assert f"Missing argument '{argument.metavar}'" in result.output
    assert "Traceback" not in result.output


def test_a_bad_argument_is_named_in_capitals(tmp_path) -> None:
    result = runner.invoke(app, ["build", str(tmp_path)])  # a folder, not a routine file
    assert result.exit_code == 2
    assert "Invalid value for 'ROUTINE'" in result.output


def test_version_prints_the_installed_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"workout-audio {version('workout-audio')}\n"
    assert workout_audio.__version__ == version("workout-audio")


@pytest.mark.parametrize("arguments", [("--help",), ("--version",), ("build", "--help")])
def test_help_and_version_load_nothing_of_the_library(arguments: tuple[str, ...]) -> None:
    done = run_cli(*arguments, python_options=("-X", "importtime"))
    assert done.returncode == 0, done.stderr
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    heavy = {"numpy", "PIL", "onnxruntime", "mutagen", "pydub", "jsonschema", "yaml"}
    ours = {
        "workout_audio.pipeline",
        "workout_audio.preparation",
        "workout_audio.routine",
        "workout_audio.speech",
    }
    assert not (heavy | ours) & loaded
