"""The Google voice end to end: the real gTTS over real HTTP to a local stand-in of Google."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gtts_stub import BURSTS_MS, PAD_MS, GttsStub, closed_port_url, google_like_clips
from helpers import SHORT_ROUTINE, decode
from workout_audio import load_routine, script_phrases
from workout_audio.app.main import app
from workout_audio.audio.ffmpeg import decode_to_pcm
from workout_audio.audio.pcm import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from workout_audio.errors import EngineError, UsageError
from workout_audio.pipeline import build
from workout_audio.preparation import prepare
from workout_audio.settings import VoiceSettings
from workout_audio.speech import SpeechCache, choose_engine, synthesize_phrases
from workout_audio.speech.espeak import EspeakEngine
from workout_audio.speech.gtts import RETRIES, GttsEngine
from workout_audio.speech.piper import PiperEngine

PHRASE = "Hip Thrust, 10 reps."


@pytest.fixture
def stub_clips() -> list[bytes]:
    return google_like_clips()


def stored_files(folder: Path) -> list[Path]:
    """Every file in the folder: clips and anything else left behind."""
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def clip_ms(pcm: bytes) -> float:
    return len(pcm) / SAMPLE_WIDTH_BYTES / SAMPLE_RATE_HZ * 1000


def test_a_clip_arrives_trimmed_and_cached(
    gtts_stub: GttsStub, stub_clips: list[bytes], tmp_path: Path
) -> None:
    mp3 = GttsEngine("en").synthesize(PHRASE)
    assert mp3 in stub_clips
    assert [(r.text, r.language, r.slow) for r in gtts_stub.requests] == [(PHRASE, "en", False)]

    cache = SpeechCache(tmp_path / "cache")
    clips = synthesize_phrases(GttsEngine("en"), [PHRASE], cache)
    burst_ms = BURSTS_MS[stub_clips.index(mp3)]
    assert clip_ms(decode_to_pcm(mp3)) >= burst_ms + 2 * PAD_MS
    assert abs(clip_ms(clips[PHRASE]) - burst_ms) <= 30, "silence trimmed from both ends"
    assert [p.suffix for p in stored_files(tmp_path / "cache")] == [".wav"]
    assert gtts_stub.count == 2


@pytest.mark.parametrize("failure", ["429", "500"])
def test_a_passing_failure_is_retried(gtts_stub: GttsStub, failure: str) -> None:
    gtts_stub.script(failure, "ok")
    assert GttsEngine("en").synthesize(PHRASE) == gtts_stub.clip_for(PHRASE)
    assert gtts_stub.count == 2


def test_lasting_rate_limit_says_so(gtts_stub: GttsStub, tmp_path: Path) -> None:
    gtts_stub.script(*["429"] * (RETRIES + 1))
    with pytest.raises(EngineError, match="rate-limited") as raised:
        synthesize_phrases(GttsEngine("en"), [PHRASE], SpeechCache(tmp_path))
    assert "429" in str(raised.value)
    assert "--engine piper" in str(raised.value)
    assert gtts_stub.count == RETRIES + 1
    assert stored_files(tmp_path) == []


def test_dropped_connection_fails_cleanly_and_caches_nothing(
    gtts_stub: GttsStub, tmp_path: Path
) -> None:
    gtts_stub.script(*["drop"] * (RETRIES + 1))
    with pytest.raises(EngineError) as raised:
        synthesize_phrases(GttsEngine("en"), [PHRASE], SpeechCache(tmp_path))
    message = str(raised.value)
    assert PHRASE in message
    assert "broke mid-answer" in message
    for raw in ("Traceback", "IncompleteRead", "HTTPConnectionPool", "Error("):
        assert raw not in message
    assert stored_files(tmp_path) == []


def test_a_connection_cut_once_is_retried(gtts_stub: GttsStub, tmp_path: Path) -> None:
    gtts_stub.script("drop", "ok")
    clips = synthesize_phrases(GttsEngine("en"), [PHRASE], SpeechCache(tmp_path))
    assert clips[PHRASE]
    assert gtts_stub.count == 2
    assert len(stored_files(tmp_path)) == 1


def test_an_answer_without_audio_fails_cleanly_and_caches_nothing(
    gtts_stub: GttsStub, tmp_path: Path
) -> None:
    gtts_stub.script("garbled")
    with pytest.raises(EngineError, match="without audio"):
        synthesize_phrases(GttsEngine("en"), [PHRASE], SpeechCache(tmp_path))
    assert stored_files(tmp_path) == []


@pytest.mark.slow
def test_second_build_asks_google_nothing(
    gtts_stub: GttsStub, write_routine, tmp_path: Path
) -> None:
    routine = load_routine(write_routine(SHORT_ROUTINE))
    cache_dir = tmp_path / "cache"
    build(routine, tmp_path / "first.mp3", voice=VoiceSettings(engine="gtts"), cache_dir=cache_dir)
    asked = [r.text for r in gtts_stub.requests]
    assert asked, "the first build synthesises through Google"
    assert len(set(asked)) == len(asked), "each phrase is asked for once"
    assert {r.language for r in gtts_stub.requests} == {"en"}

    output = tmp_path / "second.mp3"
    prepared = build(routine, output, voice=VoiceSettings(engine="gtts"), cache_dir=cache_dir)
    assert gtts_stub.count == len(asked)
    assert prepared.engine == "gtts"
    assert abs(len(decode(output)) - prepared.script.length_ms) <= 100


def test_auto_takes_google_when_it_answers(gtts_stub: GttsStub) -> None:
    engine, notice = choose_engine(VoiceSettings(), "en")
    assert isinstance(engine, GttsEngine)
    assert notice is None


def test_auto_falls_back_to_the_offline_voice_with_a_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed_port_url(monkeypatch)
    engine, notice = choose_engine(VoiceSettings(), "en")
    assert isinstance(engine, PiperEngine)
    assert notice is not None
    assert "offline piper voice" in notice


@pytest.mark.slow
def test_cli_builds_with_the_google_voice(
    gtts_stub: GttsStub, write_routine, tmp_path: Path
) -> None:
    routine = write_routine(SHORT_ROUTINE)
    output = tmp_path / "short.mp3"
    result = CliRunner().invoke(
        app,
        ["build", str(routine), "-o", str(output), "--engine", "gtts",
         "--cache-dir", str(tmp_path / "cache")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "voice: gtts" in result.output
    assert gtts_stub.count > 0
    assert len(decode(output)) > 0


@pytest.mark.slow
def test_build_in_spanish_asks_google_for_spanish_cues(
    gtts_stub: GttsStub, write_routine, tmp_path: Path
) -> None:
    routine = write_routine(SHORT_ROUTINE)
    output = tmp_path / "es.mp3"
    result = CliRunner().invoke(
        app,
        ["build", str(routine), "-o", str(output), "--engine", "gtts", "--lang", "es",
         "--cache-dir", str(tmp_path / "cache")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    asked = gtts_stub.requests
    assert {r.language for r in asked} == {"es"}
    texts = {r.text.rstrip(".") for r in asked}  # gTTS drops some final full stops
    assert "Empezamos con: Plank, 26 segundos" in texts
    assert "Side Lunge, 4 repeticiones por lado, primero el lado izquierdo" in texts
    assert "Cambia de lado" in texts
    assert "Descansa" in texts
    assert not texts & {"Rest", "Switch sides", "Halfway"}, "no English cue"
    assert len(decode(output)) > 0


def test_accent_and_slow_speech_reach_google(gtts_stub: GttsStub, tmp_path: Path) -> None:
    engine, _ = choose_engine(VoiceSettings(engine="gtts", tld="com.au", slow=True), "en")
    synthesize_phrases(engine, [PHRASE], SpeechCache(tmp_path))
    assert gtts_stub.requests[0].slow
    assert "com.au" in gtts_stub.tlds


def test_a_regional_language_picks_its_accent(gtts_stub: GttsStub, tmp_path: Path) -> None:
    engine, _ = choose_engine(VoiceSettings(engine="gtts"), "en-GB")
    synthesize_phrases(engine, [PHRASE], SpeechCache(tmp_path))
    assert [(r.language, r.text) for r in gtts_stub.requests] == [("en", PHRASE)]
    assert "co.uk" in gtts_stub.tlds


def test_a_language_google_does_not_speak_is_refused_before_any_request(
    gtts_stub: GttsStub,
) -> None:
    with pytest.raises(UsageError, match="Google's voice does not speak 'tlh'"):
        choose_engine(VoiceSettings(engine="gtts"), "tlh")
    assert gtts_stub.count == 0


@pytest.mark.slow
def test_auto_with_a_fitted_length_and_google_gone_makes_the_whole_track_offline(
    gtts_stub: GttsStub, monkeypatch: pytest.MonkeyPatch, write_routine, tmp_path: Path
) -> None:
    routine = load_routine(write_routine("language: es\n" + SHORT_ROUTINE))
    cache = SpeechCache(tmp_path / "cache")
    length_ms = 300_000  # one round more than written: "Ronda 1 de 3." is new
    # An earlier build cached Google's clips for what the routine says before fitting.
    synthesize_phrases(GttsEngine("es"), script_phrases(routine, length_ms=length_ms), cache)
    closed_port_url(monkeypatch)

    prepared = prepare(routine, length_ms=length_ms, cache_dir=cache.folder)
    assert prepared.engine == "espeak"
    assert prepared.notice is not None
    assert prepared.notice.startswith("Google is not reachable: using the offline espeak voice")
    said = {e.text for e in prepared.script.events if e.kind == "speech" and e.text}
    assert "Ronda 1 de 3." in said
    espeak = EspeakEngine("es").identity()
    for text in said:  # one voice for the whole track: every clip is espeak's
        assert prepared.clips[text] == cache.get(cache.key(espeak, text)), text
    assert prepared.script.length_ms == length_ms
