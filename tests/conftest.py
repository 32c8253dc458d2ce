"""Shared fixtures: one speech cache per run, tiny routines, the seed's script, Google's
stand-in. Plain helpers the tests import live in helpers.py."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gtts_stub import GttsStub, serve
from helpers import SEED, script_of
from workout_audio.timeline.script import Script


@pytest.fixture(autouse=True)
def voices_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Empty user data and config folders: this machine's user's voices and settings stay
    out of tests. Yields where downloaded voices go; they are removed after the test."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("WORKOUT_AUDIO_CONFIG", raising=False)
    yield home / "data" / "workout-audio" / "voices"
    shutil.rmtree(home, ignore_errors=True)  # a downloaded voice is 60 MB


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One speech cache for the whole run: each phrase is synthesised once."""
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture
def write_routine(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text (dedented) to a routine file in tmp_path."""

    def write(text: str, name: str = "routine.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def seed_script() -> Script:
    """The seed routine's script with voice-like clip lengths (it is never changed)."""
    return script_of(SEED)


@pytest.fixture
def gtts_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[GttsStub]:
    """The real gTTS pointed at a fresh stand-in for Google on loopback."""
    yield from serve(monkeypatch)
