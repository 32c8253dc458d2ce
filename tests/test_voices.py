"""Piper voices on demand: `voices download` against a local stand-in of the voices
repository, then used by name, and by auto for its language."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gtts_stub import closed_port_url
from helpers import joe_model
from loopback import LoopbackServer
from workout_audio.app.main import app
from workout_audio.errors import EngineError, UsageError
from workout_audio.settings import VoiceSettings
from workout_audio.speech import SpeechCache, choose_engine, synthesize_phrases
from workout_audio.speech.piper import PiperEngine
from workout_audio.speech.voices import (
    download_voice,
    installed_voices,
    voice_url,
    voices_dir,
)

NAME = "es_ES-joe-medium"  # the bundled model, with a config that says it speaks Spanish
PATH = "es/es_ES/joe/medium/es_ES-joe-medium"  # where piper's downloader finds it


def spanish_config() -> bytes:
    config = json.loads(Path(f"{joe_model()}.json").read_text(encoding="utf-8"))
    config["language"] = {"code": "es_ES", "family": "es", "region": "ES"}
    config["espeak"] = {"voice": "es"}
    return json.dumps(config).encode()


class VoiceRepository(LoopbackServer):
    """Files by path over HTTP on loopback; ``cut`` answers a file with half its bytes."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.asked: list[str] = []
        self.cut: set[str] = set()
        repository = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0].lstrip("/")
                repository.asked.append(self.path)
                body = repository.files.get(path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if path in repository.cut else body)
                self.close_connection = path in repository.cut

        super().__init__(Handler)
        self.url = f"http://127.0.0.1:{self.port}/"


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return joe_model().read_bytes()


@pytest.fixture
def repository(model_bytes: bytes) -> Iterator[VoiceRepository]:
    files = {f"{PATH}.onnx": model_bytes, f"{PATH}.onnx.json": spanish_config()}
    with VoiceRepository(files) as running:
        yield running


def folder_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_voices_come_from_where_piper_fetches_them() -> None:
    assert voice_url("de_DE-thorsten-medium", ".onnx") == (
        "https://huggingface.co/rhasspy/piper-voices/resolve/main/de/de_DE/thorsten/medium/"
        "de_DE-thorsten-medium.onnx?download=true"
    )
    assert voice_url(NAME, ".onnx.json", mirror="http://mirror.example/pv/") == (
        f"http://mirror.example/pv/{PATH}.onnx.json?download=true"
    )


@pytest.mark.parametrize("name", ["../../etc/passwd", "thorsten", "de_DE-thorsten", "x/y-z-low"])
def test_a_name_that_is_not_a_voice_is_refused(name: str, repository: VoiceRepository) -> None:
    with pytest.raises(UsageError, match="is not a piper voice name"):
        download_voice(name, mirror=repository.url)
    assert repository.asked == []


def test_download_puts_the_voice_in_the_user_data_folder(
    repository: VoiceRepository, voices_folder: Path, model_bytes: bytes
) -> None:
    progress: list[tuple[int, int | None]] = []
    voice = download_voice(NAME, mirror=repository.url, progress=lambda *a: progress.append(a))
    assert voices_dir() == voices_folder
    assert voice.model == voices_folder / f"{NAME}.onnx"
    assert voice.language == "es_ES"
    assert folder_files(voices_folder) == [f"{NAME}.onnx", f"{NAME}.onnx.json"]
    assert voice.model.read_bytes() == model_bytes
    assert progress[-1] == (len(model_bytes), len(model_bytes))
    assert [v.name for v in installed_voices()] == [NAME]


def test_a_missing_voice_is_a_clear_error_and_leaves_nothing(
    repository: VoiceRepository, voices_folder: Path
) -> None:
    with pytest.raises(UsageError, match="there is no piper voice 'fr_FR-nobody-low'"):
        download_voice("fr_FR-nobody-low", mirror=repository.url)
    assert folder_files(voices_folder) == []


def test_a_download_cut_short_leaves_nothing_behind(
    repository: VoiceRepository, voices_folder: Path
) -> None:
    repository.cut.add(f"{PATH}.onnx")
    with pytest.raises(EngineError, match=f"could not download {NAME}|broke off"):
        download_voice(NAME, mirror=repository.url)
    assert folder_files(voices_folder) == [], "no half model, no lone config, no temporary file"


def test_a_server_that_is_down_is_a_clear_error(voices_folder: Path) -> None:
    with VoiceRepository({}) as gone:
        url = gone.url
    with pytest.raises(EngineError, match=f"could not download {NAME}: cannot reach 127.0.0.1"):
        download_voice(NAME, mirror=url)
    assert folder_files(voices_folder) == []


def test_a_downloaded_voice_is_used_by_name_and_by_auto_for_its_language(
    repository: VoiceRepository, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=f"`workout-audio voices download {NAME}` fetches it"):
        choose_engine(VoiceSettings(voice_path=Path(NAME)), "es")
    download_voice(NAME, mirror=repository.url)

    by_name, _ = choose_engine(VoiceSettings(engine="piper", voice_path=Path(NAME)), "es")
    assert isinstance(by_name, PiperEngine)
    assert by_name.voice_label() == NAME
    clips = synthesize_phrases(by_name, ["Cambia de lado."], SpeechCache(tmp_path / "cache"))
    assert len(clips["Cambia de lado."]) > 10_000

    closed_port_url(monkeypatch)
    auto, notice = choose_engine(VoiceSettings(), "es")
    assert isinstance(auto, PiperEngine), "a natural voice for the language beats espeak"
    assert notice == f"Google is not reachable: using the offline piper voice ({NAME})"
    english, _ = choose_engine(VoiceSettings(), "en")
    assert english.voice_label() == "en_US-joe-medium", "English keeps the bundled voice"


@pytest.mark.slow
def test_voices_download_from_the_command_line_then_listed_and_used_by_name(
    repository: VoiceRepository, voices_folder: Path, write_routine, tmp_path: Path
) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["voices", "download", NAME, "--mirror", repository.url])
    assert done.exit_code == 0, done.output
    assert f"installed {NAME} (es_ES) in {voices_folder}; use it with --voice {NAME}" in (
        done.output
    )
    listed = runner.invoke(app, ["voices"])
    assert f"voice: {NAME} (es_ES, installed: --voice {NAME})" in listed.output

    routine = write_routine(
        "name: Corto\nblocks:\n  - name: A\n    exercises: [{name: Plancha, time: 5s}]\n"
    )
    script = runner.invoke(
        app,
        ["script", str(routine), "--voice", NAME, "--lang", "es", "--format", "json",
         "--cache-dir", str(tmp_path / "cache")],
    )  # fmt: skip
    assert script.exit_code == 0, script.output
    assert json.loads(script.stdout)["engine"] == "piper"

    missing = runner.invoke(
        app, ["voices", "download", "fr_FR-nobody-low", "--mirror", repository.url]
    )
    assert missing.exit_code == 2
    assert missing.output.startswith("error: there is no piper voice 'fr_FR-nobody-low'")
