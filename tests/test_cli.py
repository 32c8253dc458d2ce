"""The command line as users meet it: clear one-line errors, exit status 2, nothing written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from helpers import ROOT, SEED, SHORT_ROUTINE, invoke
from workout_audio.app.main import app


def test_validate_accepts_the_seed_routine() -> None:
    result = invoke("validate", str(SEED))
    assert result.exit_code == 0
    assert "ok" in result.output


def test_validate_prints_every_problem_as_file_line_field(write_routine) -> None:
    path = write_routine(
        """\
        name: Bad
        blocks:
          - name: A
            exercises:
              - {name: Squat, tmie: 30s}
              - {name: Plank, time: 0s}
        """
    )
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert any(
        re.match(rf"{re.escape(str(path))}:5: blocks\[0\]\.exercises\[0\].*did you mean 'time'", x)
        for x in lines
    ), lines
    assert any(line.startswith(f"{path}:6: blocks[0].exercises[1].time") for line in lines)
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("name: [unclosed\nblocks: []\n", ":2"),
        (
            "blocks:\n  - name: A\n    exercises: [{name: X, time: 5s}]\n",
            "missing required key 'name'",
        ),
        ("name: X\nblocks:\n  - name: A\n    exercises: []\n", "exercises"),
        (
            "name: X\nblocks:\n  - name: A\n    exercises: [{name: Y, time: 5s, reps: 3}]\n",
            "exactly one of 'time' or 'reps'",
        ),
        ("name: X\nblocks:\n  - name: A\n    exercises: [{name: Y, reps: -3}]\n", "reps"),
    ],
)
def test_build_refuses_bad_routines_in_one_line_and_writes_nothing(
    write_routine, tmp_path: Path, yaml_text: str, expected: str
) -> None:
    path = write_routine(yaml_text)
    output = tmp_path / "out.mp3"
    result = invoke("build", str(path), "-o", str(output), "--engine", "piper")
    assert result.exit_code == 2
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert str(path) in result.output
    assert "Traceback" not in result.output
    assert not output.exists()


def test_build_refuses_an_output_folder_that_does_not_exist(
    write_routine, tmp_path: Path, speech_cache: Path
) -> None:
    path = write_routine(SHORT_ROUTINE)
    output = tmp_path / "missing" / "out.mp3"
    result = invoke(
        "build", str(path), "-o", str(output), "--engine", "piper", "--cache-dir", str(speech_cache)
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert not output.parent.exists()


def test_build_refuses_an_unparseable_length(write_routine, tmp_path: Path) -> None:
    path = write_routine(SHORT_ROUTINE)
    result = invoke("build", str(path), "-o", str(tmp_path / "o.mp3"), "--length", "soon")
    assert result.exit_code == 2
    assert "--length" in result.output


@pytest.mark.slow
def test_script_json_has_events_chapters_and_length(write_routine, speech_cache: Path) -> None:
    path = write_routine(SHORT_ROUTINE)
    result = invoke(
        "script", str(path), "--format", "json", "--engine", "piper",
        "--cache-dir", str(speech_cache), "--length", "3m",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["length_s"] == 180.0
    assert {"start_s", "end_s", "kind", "block", "round", "exercise", "side"} <= set(
        data["events"][0]
    )
    assert [c["title"] for c in data["chapters"]][-1] == "Stretch · Hamstring Stretch"
    assert any(e.get("text") == "3 minutes in total." for e in data["events"])


@pytest.mark.slow
def test_script_table_lists_the_spoken_cues(write_routine, speech_cache: Path) -> None:
    path = write_routine(SHORT_ROUTINE)
    result = invoke("script", str(path), "--engine", "piper", "--cache-dir", str(speech_cache))
    assert result.exit_code == 0, result.output
    assert "Switch sides." in result.stdout
    assert "Workout complete. Great work!" in result.stdout


def _command_paths(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every command of the app, sub-commands included, walked from the app itself."""
    paths = []
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            if command.invoke_without_command:  # a group that is a command too: `voices`
                paths.append(" ".join((*prefix, name)))
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append(" ".join((*prefix, name)))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))


def test_the_command_walk_finds_every_command() -> None:
    assert {"build", "variants", "script", "validate", "voices", "cache info"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_an_example_in_its_help(command: str) -> None:
    result = invoke(*command.split(), "--help")
    assert result.exit_code == 0
    assert "Example: workout-audio " + command in result.output


def test_readme_shows_exactly_the_two_fresh_machine_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- (\w+)-command -->\n```sh\n(.+?)\n```", readme)
    assert [name for name, _ in blocks] == ["build", "test"]
    build_command = dict(blocks)["build"]
    assert "routines/runners-total-body.yaml" in build_command
    assert "pytest" in dict(blocks)["test"]
    assert "<!-- test-command -->" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_a_language_without_cue_wording_points_at_the_routine_line(
    write_routine, tmp_path: Path
) -> None:
    path = write_routine(
        "name: X\nlanguage: it\nblocks:\n  - name: A\n    exercises: [{name: Y, time: 5s}]\n"
    )
    output = tmp_path / "out.mp3"
    result = invoke("build", str(path), "-o", str(output), "--engine", "piper")
    assert result.exit_code == 2
    assert f"{path}:2: language: no cue wording for language 'it'" in result.output
    assert not output.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "language: no cue wording for language 'it'"),
        (["--engine", "piper"], "language: no cue wording for language 'it'"),
    ],
)
def test_validate_reports_a_language_without_wording_at_its_line(
    write_routine, options: list[str], message: str
) -> None:
    path = write_routine(
        "name: X\nlanguage: it\nblocks:\n  - name: A\n    exercises: [{name: Y, time: 5s}]\n"
    )
    result = invoke("validate", str(path), *options)
    assert result.exit_code == 2
    assert result.output.strip() == f"{path}:2: {message}; available: de, en, es, fr"


def test_validate_with_an_engine_checks_it_speaks_the_language(write_routine) -> None:
    path = write_routine(
        "name: X\nlanguage: es\nblocks:\n  - name: A\n    exercises: [{name: Y, time: 5s}]\n"
    )
    assert invoke("validate", str(path)).exit_code == 0
    assert invoke("validate", str(path), "--engine", "espeak").exit_code == 0
    result = invoke("validate", str(path), "--engine", "piper")
    assert result.exit_code == 2
    assert result.output.startswith(
        f"{path}:2: language: the bundled piper voice (en_US-joe-medium) speaks en_US, not 'es'"
    )
    unknown = invoke("validate", str(path), "--engine", "festival")
    assert unknown.exit_code == 2
    assert unknown.output.startswith("unknown engine 'festival'")


def test_variants_refuse_a_missing_folder_before_any_work(write_routine, tmp_path: Path) -> None:
    path = write_routine(SHORT_ROUTINE)
    missing = tmp_path / "nowhere"
    result = invoke("variants", str(path), "--lengths", "3m,4m", "-o", str(missing))
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert not missing.exists()
