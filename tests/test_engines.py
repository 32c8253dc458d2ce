"""Engines as users pick them: names, options, voice files, espeak, auto, plugins, `voices`."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from gtts_stub import closed_port_url
from helpers import SHORT_ROUTINE, decode, invoke, joe_model
from workout_audio.errors import EngineError
from workout_audio.settings import VoiceSettings
from workout_audio.speech import (
    SpeechCache,
    choose_engine,
    registry,
    synthesize_phrases,
)
from workout_audio.speech.espeak import EspeakEngine
from workout_audio.speech.piper import PiperEngine

HAS_SYSTEM_ESPEAK = shutil.which("espeak-ng") is not None
PHRASE = "Seven, eight, nine, ten: keep going."


def lines(output: str) -> list[str]:
    return output.strip().splitlines()


@pytest.fixture
def routine(write_routine) -> Path:
    return write_routine(SHORT_ROUTINE)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Google unreachable (a closed loopback port): auto must choose an offline voice."""
    closed_port_url(monkeypatch)


@pytest.fixture
def wheel_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without a system espeak-ng: the wheel's library speaks."""
    monkeypatch.setattr("workout_audio.speech.espeak.PROGRAM", "espeak-ng-not-installed")


@pytest.fixture(params=["wheel", "system"])
def espeak_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each way espeak-ng is reached: the wheel's library, and the system program if any."""
    if request.param == "wheel":
        monkeypatch.setattr("workout_audio.speech.espeak.PROGRAM", "espeak-ng-not-installed")
    elif not HAS_SYSTEM_ESPEAK:
        pytest.skip("no system espeak-ng here")
    return str(request.param)


@pytest.fixture
def no_espeak(wheel_espeak: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with neither the program nor the espeakng-loader wheel."""
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)  # import fails as if absent


def test_an_unknown_engine_lists_the_valid_ones(routine: Path) -> None:
    result = invoke("script", str(routine), "--engine", "festival")
    assert result.exit_code == 2
    assert "unknown engine 'festival'; choose one of: auto, espeak, gtts, piper" in result.output
    assert len(lines(result.output)) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--engine", "piper", "--tld", "com.au"], "--tld does not apply to the piper engine"),
        (["--engine", "piper", "--slow"], "--slow does not apply to the piper engine (it is for: "),
        (["--engine", "gtts", "--rate", "1.2"], "the gtts engine (it is for: espeak, piper)"),
        (["--engine", "gtts", "--voice", "x.onnx"], "--voice does not apply to the gtts engine"),
        (["--engine", "piper", "--rate", "3"], "--rate: 3 is outside 0.5 to 2"),
        (["--engine", "gtts", "--tld", "Australia"], "'Australia' is not a top-level domain"),
        (["--engine", "piper", "--lang", "es"], "(en_US-joe-medium) speaks en_US, not 'es'"),
        (["--engine", "piper", "--lang", "pt-BR"], "no cue wording for language 'pt-BR'"),
    ],
)  # fmt: skip
def test_a_voice_option_that_cannot_work_is_refused_before_any_synthesis(
    routine: Path, tmp_path: Path, options: list[str], message: str
) -> None:
    cache = tmp_path / "cache"
    result = invoke("script", str(routine), "--cache-dir", str(cache), *options)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(lines(result.output)) == 1
    assert not cache.exists(), "nothing was synthesised"


@pytest.mark.slow
def test_piper_takes_an_explicit_voice_file(routine: Path, speech_cache: Path) -> None:
    result = invoke(
        "script", str(routine), "--voice", str(joe_model()), "--format", "json",
        "--cache-dir", str(speech_cache),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["engine"] == "piper", "a voice file means piper, even with --engine auto"
    assert any(e.get("text") == "Switch sides." for e in data["events"])


@pytest.mark.slow
def test_a_voice_file_elsewhere_is_its_own_voice_in_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "voices"
    folder.mkdir()
    model = folder / "my-voice.onnx"
    model.symlink_to(joe_model())
    shutil.copy(f"{joe_model()}.json", f"{model}.json")
    engine = PiperEngine.from_settings(VoiceSettings(engine="piper", voice_path=model), "en")
    cache = SpeechCache(tmp_path / "cache")
    clips = synthesize_phrases(engine, [PHRASE], cache)
    assert len(clips[PHRASE]) > 10_000
    bundled = PiperEngine.from_settings(VoiceSettings(engine="piper"), "en")
    assert cache.key(engine.identity(), PHRASE) != cache.key(bundled.identity(), PHRASE)
    assert engine.voice_label() == "my-voice"


def _voice_config(**changes: object) -> dict[str, object]:
    config = json.loads(Path(f"{joe_model()}.json").read_text(encoding="utf-8"))
    config.update(changes)
    return config


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda model: None, "--voice: no piper voice file at"),
        (lambda model: model.write_bytes(b"onnx"), "my.onnx.json is missing next to"),
        (
            lambda model: (model.write_bytes(b"onnx"), Path(f"{model}.json").write_text("{")),
            "is not a piper voice config (JSONDecodeError",
        ),
        (
            lambda model: (
                model.symlink_to(joe_model()),
                Path(f"{model}.json").write_text(
                    json.dumps(_voice_config(language={"code": "es_ES", "family": "es"}))
                ),
            ),
            "the piper voice my.onnx speaks es_ES, not 'en'",
        ),
    ],
    ids=["missing", "no-config", "broken-config", "other-language"],
)
def test_a_wrong_voice_file_is_a_clear_error(
    routine: Path, tmp_path: Path, make, message: str
) -> None:
    model = tmp_path / "my.onnx"
    make(model)
    result = invoke("script", str(routine), "--engine", "piper", "--voice", str(model))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(lines(result.output)) == 1


def test_a_voice_file_that_is_not_a_model_fails_clearly(tmp_path: Path) -> None:
    model = tmp_path / "fake.onnx"
    model.write_bytes(b"this is not an onnx model")
    Path(f"{model}.json").write_text(json.dumps(_voice_config()), encoding="utf-8")
    engine = PiperEngine.from_settings(VoiceSettings(engine="piper", voice_path=model), "en")
    with pytest.raises(EngineError, match=r"could not load the voice .*fake\.onnx"):
        synthesize_phrases(engine, [PHRASE], SpeechCache(tmp_path / "cache"), workers=1)
    assert not list((tmp_path / "cache").rglob("*.wav"))


@pytest.mark.slow
def test_piper_rate_speeds_the_voice_up(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    normal = synthesize_phrases(PiperEngine("en"), [PHRASE], cache)[PHRASE]
    fast = synthesize_phrases(PiperEngine("en", rate=1.5), [PHRASE], cache)[PHRASE]
    assert len(fast) < 0.8 * len(normal)


def test_without_espeak_the_error_names_the_package_to_install(
    routine: Path, no_espeak: None
) -> None:
    result = invoke("script", str(routine), "--engine", "espeak", "--lang", "es")
    assert result.exit_code != 0
    assert "espeak-ng is not installed: pip install espeakng-loader" in result.output
    assert "apt install espeak-ng" in result.output
    assert len(lines(result.output)) == 1


@pytest.mark.slow
def test_espeak_builds_spanish_cues(routine: Path, tmp_path: Path, espeak_backend: str) -> None:
    output, cache = tmp_path / "es.mp3", str(tmp_path / "cache")
    built = invoke("build", str(routine), "-o", str(output), "--engine", "espeak",
                   "--lang", "es", "--cache-dir", cache)  # fmt: skip
    assert built.exit_code == 0, built.output
    assert "voice: espeak" in built.output
    script = invoke("script", str(routine), "--format", "json", "--engine", "espeak",
                    "--lang", "es", "--cache-dir", cache)  # fmt: skip
    data = json.loads(script.stdout)
    said = [e["text"] for e in data["events"] if e["kind"] == "speech"]
    assert "Empezamos con: Plank, 26 segundos." in said
    assert "Cambia de lado." in said
    assert "Entrenamiento terminado. ¡Buen trabajo!" in said
    assert data["language"] == "es"
    assert abs(len(decode(output)) - data["length_s"] * 1000) <= 100


def test_espeak_rate_is_words_per_minute(tmp_path: Path, espeak_backend: str) -> None:
    slow = EspeakEngine.from_settings(VoiceSettings(engine="espeak", rate=0.8), "de")
    fast = EspeakEngine.from_settings(VoiceSettings(engine="espeak", rate=1.6), "de")
    assert (slow.words_per_minute, fast.words_per_minute) == (140, 280)
    cache = SpeechCache(tmp_path)
    clips = [synthesize_phrases(e, [PHRASE], cache)[PHRASE] for e in (slow, fast)]
    assert len(clips[1]) < 0.7 * len(clips[0])


def test_auto_offline_in_spanish_takes_espeak_with_a_notice(offline: None) -> None:
    engine, notice = choose_engine(VoiceSettings(), "es")
    assert isinstance(engine, EspeakEngine)
    assert notice == (
        "Google is not reachable: using the offline espeak voice (es, 175 words a minute); "
        "it sounds robotic: `workout-audio voices download es_ES-davefx-medium` brings a "
        "natural one"
    )


def test_auto_offline_with_no_voice_for_the_language_says_why_for_each(
    offline: None, no_espeak: None
) -> None:
    with pytest.raises(EngineError) as raised:
        choose_engine(VoiceSettings(), "fr")
    message = str(raised.value)
    assert message.startswith("no voice speaks 'fr' here: Google is not reachable;")
    assert "speaks en_US, not 'fr'" in message
    assert "espeak-ng is not installed" in message


PLUGIN = '''
import io, math, struct, wave
from workout_audio.speech import Engine


class ToneVoice(Engine):
    """A beep as long as the phrase: a third-party engine, as small as one can be."""

    DESCRIPTION = "beeps instead of words"

    @classmethod
    def unavailable_reason(cls):
        return None

    @classmethod
    def languages(cls):
        return ["en", "es"]

    def identity(self):
        return {"engine": "tonevoice", "engine_version": "1.0", "language": self.language}

    def synthesize(self, text):
        rate_hz = 16_000
        count = rate_hz * (200 + 30 * len(text)) // 1000
        samples = (int(9000 * math.sin(2 * math.pi * 440 * i / rate_hz)) for i in range(count))
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate_hz)
            wav.writeframes(b"".join(struct.pack("<h", s) for s in samples))
        return buffer.getvalue()
'''


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An installed package that declares two engines, one of them broken."""
    site = tmp_path / "site"
    info = site / "tone_voice-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "tone_voice.py").write_text(PLUGIN, encoding="utf-8")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tone-voice\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [workout_audio.engines]
            tonevoice = tone_voice:ToneVoice
            broken = tone_voice_not_there:Engine
            """
        )
    )
    monkeypatch.syspath_prepend(str(site))
    # Plugins loaded here stay out of the other tests' registry.
    monkeypatch.setattr(registry, "ENGINES", dict(registry.ENGINES))


@pytest.mark.slow
def test_a_plugin_engine_is_found_by_its_entry_point(
    plugins: None, routine: Path, tmp_path: Path
) -> None:
    result = invoke("script", str(routine), "--engine", "tonevoice", "--lang", "es",
                    "--format", "json", "--cache-dir", str(tmp_path / "cache"))  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["engine"] == "tonevoice"
    assert "Cambia de lado." in [e.get("text") for e in data["events"]]

    unknown = invoke("script", str(routine), "--engine", "nope")
    assert "choose one of: auto, broken, espeak, gtts, piper, tonevoice" in unknown.output


def test_a_broken_plugin_is_a_one_line_error(plugins: None, routine: Path) -> None:
    result = invoke("script", str(routine), "--engine", "broken")
    assert result.exit_code == 1
    assert "the 'broken' engine plugin (tone_voice_not_there:Engine) failed to load" in (
        result.output
    )
    assert "ModuleNotFoundError" in result.output
    assert len(lines(result.output)) == 1


def test_voices_lists_every_engine_whether_it_runs_and_its_languages(
    plugins: None, offline: None, wheel_espeak: None
) -> None:
    result = invoke("voices")
    assert result.exit_code == 0, result.output
    text = result.output
    names = [line.split(":")[0] for line in lines(text) if not line.startswith(" ")]
    assert names[:3] == ["gtts", "piper", "espeak"], "auto's order first"
    assert names[3:5] == ["broken", "tonevoice"], "then plugins"
    assert names[5].startswith("cue wording")
    assert "  not available: Google Translate is not reachable" in text
    assert "es, et, eu, fi, fr, fr-CA" in text.replace("\n    ", " "), "Google's languages"
    assert "en_US-joe-medium (en_US, bundled)" in text
    assert "tonevoice: beeps instead of words\n  available\n  languages (2): en, es" in text
    assert "broken: plugin\n  not available: the 'broken' engine plugin" in text
    assert "espeak: espeak-ng, offline and robotic" in text
    assert "de, el, en" in text.replace("\n    ", " ")
    assert lines(text)[-1].endswith(": de, en, es, fr")
