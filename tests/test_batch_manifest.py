"""A batch's manifest is checked whole before anything is made: each problem is one line
naming the manifest's file and row, exit status 2, no track and no speech.

The greeting a manifest's ``name`` asks for is said in the track's language."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from helpers import cache_entries, invoke
from workout_audio.batch import load_manifest, manifest_schema, setting_names
from workout_audio.errors import UsageError
from workout_audio.settings import VoiceSettings
from workout_audio.timeline.phrases import phrases_for
from workout_audio.timeline.script import script_phrases

ROUTINE = """\
name: Quick Core
blocks:
  - name: Core
    rounds: 2
    exercises:
      - {name: Plank, time: 10s}
      - {name: Squat, reps: 3}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "core.yaml").write_text(ROUTINE, encoding="utf-8")
    return tmp_path


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


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
    return lines[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a missing routine, on the third row (line 4)
            """\
            routine,output,language
            core.yaml,a.mp3,en
            core.yaml,b.mp3,es
            gone.yaml,c.mp3,en
            """,
            "m.csv:4: routine: ",
        ),
        (  # an unknown setting: a column no item has
            """\
            routine,output,lenght
            core.yaml,a.mp3,1m
            """,
            "m.csv:1: lenght: unknown setting; the settings are routine, output, language",
        ),
        (  # a duplicate output path names both rows
            """\
            routine,output,name
            core.yaml,a.mp3,Maria
            core.yaml,b.mp3,Ana
            core.yaml,a.mp3,Luis
            """,
            "m.csv:4: output: ",
        ),
        (  # a missing column
            """\
            routine,language
            core.yaml,en
            """,
            "m.csv:1: the column 'output' is missing",
        ),
        (  # a bad length
            """\
            routine,output,length
            core.yaml,a.mp3,1m
            core.yaml,b.mp3,soon
            """,
            "m.csv:3: length: ",
        ),
        (  # a length the routine cannot reach is refused before any speech
            """\
            routine,output,length
            core.yaml,b.mp3,3h
            """,
            "m.csv:2: length: ",
        ),
        (  # an empty cell where every row needs one
            """\
            routine,output
            core.yaml,
            """,
            "m.csv:2: output: is empty",
        ),
        (  # a language with no wording
            """\
            routine,output,language
            core.yaml,a.mp3,xx
            """,
            "m.csv:2: language: ",
        ),
        (  # an engine there is not
            """\
            routine,output,engine
            core.yaml,a.mp3,piper
            core.yaml,b.mp3,festival
            """,
            "m.csv:3: engine: ",
        ),
        (  # a name that is not one
            """\
            routine,output,name
            core.yaml,a.mp3,Maria123
            """,
            "m.csv:2: name: ",
        ),
    ],
)
def test_a_bad_csv_manifest_is_refused_naming_its_row(
    folder: Path, text: str, expected: str
) -> None:
    line = _refused(_write(folder, "m.csv", text), folder)
    assert f"error: {folder / expected}" in line or f"error: {expected}" in line.replace(
        f"{folder}/", ""
    ), line


def test_a_duplicate_output_names_the_first_row_too(folder: Path) -> None:
    manifest = _write(
        folder,
        "m.csv",
        """\
        routine,output
        core.yaml,a.mp3
        core.yaml,a.mp3
        """,
    )
    line = _refused(manifest, folder)
    assert f"{manifest}:3: output:" in line
    assert f"also written by the item at {manifest}:2" in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            """\
            items:
              - routine: core.yaml
                output: a.mp3
              - routine: core.yaml
                output: b.mp3
                lenght: 1m
            """,
            "m.yaml:6: items[1].lenght: unknown setting",
        ),
        (
            """\
            items:
              - routine: core.yaml
                output: a.mp3
              - routine: missing.yaml
                output: b.mp3
            """,
            "m.yaml:4: routine: ",
        ),
        (
            """\
            items:
              - routine: core.yaml
              - routine: core.yaml
                output: b.mp3
            """,
            "m.yaml:2: items[0]: 'output' is a required property",
        ),
        (
            """\
            items:
              - routine: core.yaml
                output: a.mp3
                duck: loud
            """,
            "m.yaml:4: duck: ",
        ),
        ("tracks: []\n", "m.yaml:1: "),
    ],
)
def test_a_bad_yaml_manifest_is_refused_naming_its_line(
    folder: Path, text: str, expected: str
) -> None:
    line = _refused(_write(folder, "m.yaml", text), folder)
    assert line.replace(f"{folder}/", "").startswith(f"error: {expected}"), line


def test_csv_and_yaml_read_alike_and_paths_are_the_manifests(folder: Path) -> None:
    csv_manifest = _write(
        folder,
        "m.csv",
        """\
        routine,output,language,length,name,loudness,sidecars
        core.yaml,out/maria.mp3,es,1m,María,-18,lrc
        """,
    )
    yaml_manifest = _write(
        folder,
        "m.yaml",
        """\
        items:
          - {routine: core.yaml, output: out/maria.mp3, language: es, length: 1m,
             name: María, loudness: -18, sidecars: lrc}
        """,
    )
    (from_csv,) = load_manifest(csv_manifest).items
    (from_yaml,) = load_manifest(yaml_manifest).items
    assert from_csv.output == folder / "out" / "maria.mp3"
    assert from_csv.routine == folder / "core.yaml"
    assert (from_csv.length_ms, from_csv.language, from_csv.listener_name) == (
        60_000,
        "es",
        "María",
    )
    assert from_csv.encode.loudness_lufs == -18
    assert from_csv.files == (folder / "out" / "maria.mp3", folder / "out" / "maria.lrc")
    fields = ("routine", "output", "length_ms", "voice", "music", "encode", "sidecars", "files")
    assert all(getattr(from_csv, f) == getattr(from_yaml, f) for f in fields)


def test_the_schema_names_every_setting_once() -> None:
    item = manifest_schema()["$defs"]["item"]
    assert setting_names()[:2] == ("routine", "output")
    assert set(item["required"]) == {"output"}
    assert [one["required"] for one in item["oneOf"]] == [["routine"], ["program"]]
    assert "name" in setting_names()
    text = json.dumps(manifest_schema())
    assert text.count('"music_level"') == 1


@pytest.mark.parametrize(
    ("language", "greeting"),
    [
        ("en", "Let's go, Maria."),
        ("es", "¡Vamos, Maria!"),
        ("fr", "C'est parti, Maria !"),
        ("de", "Los geht's, Maria!"),
    ],
)
def test_the_greeting_is_said_in_the_tracks_language_right_after_the_intro(
    folder: Path, language: str, greeting: str
) -> None:
    from workout_audio.routine import load_routine

    routine = load_routine(folder / "core.yaml")
    named = routine.__class__(
        **{**routine.__dict__, "language": language, "listener_name": "Maria"}
    )
    said = script_phrases(named)
    assert phrases_for(language).say("greeting", name="Maria") == greeting
    assert (
        said[said.index(phrases_for(language).say("intro", routine="Quick Core")) + 1] == greeting
    )
    assert greeting not in script_phrases(routine)


@pytest.mark.parametrize("name", ["Maria1", "", "x" * 41, "<b>"])
def test_a_name_that_is_not_one_is_refused(name: str) -> None:
    with pytest.raises(UsageError, match="--name: "):
        VoiceSettings(listener_name=name)


@pytest.mark.parametrize("name", ["Maria", "José María", "Anne-Marie", "O'Brien", "Zoë"])
def test_names_as_people_write_them_are_taken(name: str) -> None:
    assert VoiceSettings(listener_name=name).listener_name == name


@pytest.mark.slow
def test_build_greets_the_name_it_is_given(folder: Path, speech_cache: Path) -> None:
    output = folder / "maria.mp3"
    result = invoke(
        "build", str(folder / "core.yaml"), "-o", str(output), "--engine", "espeak",
        "--name", "Maria", "--sidecars", "lrc", "--cache-dir", str(speech_cache),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lyrics = output.with_suffix(".lrc").read_text(encoding="utf-8").splitlines()
    assert [line.split("]", 1)[1] for line in lyrics[3:5]] == ["Quick Core.", "Let's go, Maria."]


def test_each_phrase_is_made_by_one_job_a_voice(folder: Path) -> None:
    from workout_audio.batch.jobs import speech_jobs

    rows = "".join(
        f"core.yaml,{lang}-{length}-{name}.mp3,{lang},{engine},{length},{name}\n"
        for lang, engine in (("en", "piper"), ("es", "espeak"))
        for length in ("40s", "50s")
        for name in ("Maria", "Luis")
    )
    manifest = _write(folder, "m.csv", "routine,output,language,engine,length,name\n" + rows)
    jobs = speech_jobs(list(load_manifest(manifest).items))
    assert [(job.voice.engine, job.voice.language) for job in jobs] == [
        ("piper", "en"),
        ("espeak", "es"),
    ]
    for job in jobs:
        assert job.voice.listener_name is None  # the greetings are made once each, apart
        assert job.names == ("Maria", "Luis")
        assert job.tracks == ((folder / "core.yaml", 40_000), (folder / "core.yaml", 50_000))
