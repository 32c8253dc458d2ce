"""Programs in a batch manifest: a ``program:`` row builds every session and the feed into
its folder on the batch's own executor, is skipped when up to date, and is checked with
the rest of the manifest before anything is synthesised."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import podcastparser
import pytest

from helpers import cache_entries, invoke, run_cli

ROUTINE = """\
name: Short Run
timing: {flow: continuous}
blocks:
  - name: Main
    exercises:
      - {name: Run, time: 15s}
      - {name: Walk, time: 10s}
"""
PROGRAM = """\
name: Two Runs
session_title: "Week {week}, run {day}"
weeks:
  - days: 2
    routine: run.yaml
"""
BASE = "http://192.0.2.7:8123/runs/"
MANIFEST = f"""\
items:
  - routine: run.yaml
    output: tracks/run.mp3
    engine: piper
  - program: plan.yaml
    output: plan
    engine: piper
    base_url: {BASE}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    _write(tmp_path, "run.yaml", ROUTINE)
    _write(tmp_path, "plan.yaml", PROGRAM)
    return tmp_path


def _refused(manifest: Path, folder: Path) -> str:
    """The batch's one line of refusal; nothing written, nothing synthesised."""
    cache = folder / "cache"
    result = invoke("batch", str(manifest), "--cache-dir", str(cache), "--jobs", "1")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in result.output
    assert not cache_entries(cache), "nothing may be synthesised for a bad manifest"
    assert not list(folder.rglob("*.mp3"))
    assert lines[0].startswith("error: "), lines
    return lines[0].removeprefix("error: ")


@pytest.mark.slow
def test_a_program_row_builds_its_sessions_and_feed_beside_a_track_and_reruns_skip_all(
    folder: Path, speech_cache: Path
) -> None:
    manifest = _write(folder, "batch.yaml", MANIFEST)
    report = folder / "report.json"
    args = ("batch", str(manifest), "--jobs", "2", "--cache-dir", str(speech_cache), "-v")
    done = run_cli(*args, "--report", str(report))
    assert done.returncode == 0, done.stderr
    assert "(2 sessions built, 0 up to date)" in done.stderr

    items = json.loads(report.read_text(encoding="utf-8"))["items"]
    assert [(i["output"], i["status"]) for i in items] == [
        (str(folder / "tracks" / "run.mp3"), "built"),
        (str(folder / "plan"), "built"),
    ]
    assert items[1]["sessions_built"] == 2
    assert (folder / "tracks" / "run.mp3").stat().st_size > 0
    with (folder / "plan" / "feed.xml").open("rb") as feed:
        parsed = podcastparser.parse(BASE + "feed.xml", feed)
    assert [e["title"] for e in parsed["episodes"]] == ["Week 1, run 1", "Week 1, run 2"]
    for episode in parsed["episodes"]:
        [enclosure] = episode["enclosures"]
        assert enclosure["url"].startswith(BASE)
        track = folder / "plan" / enclosure["url"].removeprefix(BASE)
        assert enclosure["file_size"] == track.stat().st_size > 0

    made = {p: p.stat().st_mtime_ns for p in folder.rglob("*.mp3")}
    assert len(made) == 3
    again = run_cli(*args, "--report", str(report))
    assert again.returncode == 0, again.stderr
    assert "(0 sessions built, 2 up to date)" in again.stderr
    statuses = [i["status"] for i in json.loads(report.read_text(encoding="utf-8"))["items"]]
    assert statuses == ["up to date", "up to date"]
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*.mp3")} == made


def test_a_program_naming_a_missing_routine_is_refused_naming_the_row(folder: Path) -> None:
    _write(folder, "plan.yaml", PROGRAM.replace("run.yaml", "gone.yaml"))
    manifest = _write(folder, "batch.yaml", MANIFEST)
    line = _refused(manifest, folder)
    assert line.startswith(f"{manifest}:5: program: {folder / 'plan.yaml'}:5: "), line
    assert "gone.yaml" in line or "no routine file" in line


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (  # the program's folder is a file already
            "  - {program: plan.yaml, output: taken.txt}\n",
            ":2: output: {folder}/taken.txt is a file; give a folder for the program",
        ),
        (  # a track written where the program's folder goes
            "  - {program: plan.yaml, output: plan}\n  - {routine: run.yaml, output: plan}\n",
            ":3: output: {folder}/plan is also written by the item at {manifest}:2",
        ),
        (
            "  - {program: gone.yaml, output: plan}\n",
            ":2: program: {folder}/gone.yaml does not exist",
        ),
        (
            "  - {program: plan.yaml, output: plan, length: 20m}\n",
            ":2: length: not for a program: item (each session has its own)",
        ),
        (
            "  - {routine: run.yaml, output: run.mp3, base_url: 'http://h/'}\n",
            ":2: base_url: only for a program: item",
        ),
        (
            "  - {program: plan.yaml, output: plan, base_url: 'ftp://h/'}\n",
            ":2: base_url: 'ftp://h/' is not an http:// or https:// address",
        ),
        (
            "  - {program: plan.yaml, routine: run.yaml, output: plan}\n",
            ":2: items[0].routine: give either a routine or a program",
        ),
        (
            "  - {output: plan}\n",
            ":2: items[0].routine: give either a routine or a program",
        ),
    ],
)
def test_a_bad_program_row_is_refused_before_any_synthesis(
    folder: Path, rows: str, expected: str
) -> None:
    (folder / "taken.txt").write_bytes(b"")
    manifest = _write(folder, "batch.yaml", "items:\n" + rows)
    line = _refused(manifest, folder)
    assert line == str(manifest) + expected.format(folder=folder, manifest=manifest), line


def test_a_csv_manifest_takes_a_program_column(folder: Path) -> None:
    _write(folder, "plan.yaml", PROGRAM.replace("run.yaml", "gone.yaml"))
    manifest = _write(folder, "batch.csv", "program,output\nplan.yaml,plan\n")
    line = _refused(manifest, folder)
    assert line.startswith(f"{manifest}:2: program: {folder / 'plan.yaml'}:5: "), line


def test_a_csv_row_with_neither_routine_nor_program_is_refused(folder: Path) -> None:
    manifest = _write(folder, "batch.csv", "routine,program,output\nrun.yaml,,a.mp3\n,,b.mp3\n")
    line = _refused(manifest, folder)
    assert line == f"{manifest}:3: routine: give either a routine or a program", line
