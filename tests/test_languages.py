"""A fresh machine with no network and no system packages: the seed routine builds in
Spanish, French and German, with espeak-ng from its wheel, every word in that language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from typer.testing import CliRunner

from gtts_stub import closed_port_url
from helpers import SEED, decode, ffmpeg_chapter_titles
from workout_audio.app.main import app

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Google (a closed port), no system espeak-ng, no downloaded voice (conftest)."""
    closed_port_url(monkeypatch)
    monkeypatch.setattr("workout_audio.speech.espeak.PROGRAM", "espeak-ng-not-installed")


@pytest.mark.parametrize(
    ("language", "first_cue", "chapter_round", "english"),
    [
        ("es", "Empezamos con: ", "Ronda 2/3", "Round"),
        ("fr", "On commence par : ", "Tour 2/3", "Round"),
        ("de", "Als Erstes: ", "Runde 2/3", "Round"),
    ],
)
def test_the_seed_builds_offline_in_each_language(
    fresh_machine: None,
    tmp_path: Path,
    language: str,
    first_cue: str,
    chapter_round: str,
    english: str,
) -> None:
    output, cache = tmp_path / f"seed-{language}.mp3", str(tmp_path / "cache")
    runner = CliRunner()
    built = runner.invoke(
        app, ["build", str(SEED), "-o", str(output), "--lang", language, "--cache-dir", cache]
    )
    assert built.exit_code == 0, built.output
    assert f"note: Google is not reachable: using the offline espeak voice ({language}," in (
        built.output
    )
    assert "voice: espeak" in built.output

    script = json.loads(
        runner.invoke(
            app, ["script", str(SEED), "--format", "json", "--lang", language, "--cache-dir", cache]
        ).stdout
    )
    assert script["language"] == language
    assert abs(len(decode(output)) - script["length_s"] * 1000) <= 100
    assert script["length_s"] == 30 * 60, "the seed's written length, exactly"

    chapters = [title for _, title in ffmpeg_chapter_titles(output)]
    assert chapters == [c["title"] for c in script["chapters"]]
    assert any(chapter_round in title for title in chapters)
    assert not any(english in title.split() for title in chapters)
    lyrics = ID3(output).getall("USLT")[0].text
    assert first_cue in lyrics
    assert "Round " not in lyrics
    assert "Rest." not in lyrics
