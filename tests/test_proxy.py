"""Google's voice behind a proxy: the real gTTS wording, our requests through a real CONNECT
proxy on loopback, TLS end to end to a local stand-in of Google."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from typer.testing import CliRunner

from connect_proxy import ConnectProxy
from gtts_stub import PROXY_VARIABLES, GttsStub, google_like_clips
from helpers import SHORT_ROUTINE, decode
from workout_audio.app.main import app
from workout_audio.settings import VoiceSettings
from workout_audio.speech import choose_engine
from workout_audio.speech.gtts import GttsEngine, google_unreachable_reason

# A name no resolver knows (.test is reserved): only the proxy can reach it, as in an
# office where the web is reached through the proxy alone.
GOOGLE = "translate.google.test"


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setattr("workout_audio.speech.gtts.BACKOFF_S", 0.01)
    monkeypatch.setattr("workout_audio.speech.gtts.REQUEST_GAP_S", 0.01)


@pytest.fixture
def google(
    authority: trustme.CA, clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[GttsStub]:
    """The stub serving HTTPS as GOOGLE; our requests trust its authority, as a CA bundle."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(GOOGLE, "127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    with GttsStub(google_like_clips(), tls=context, host=GOOGLE) as stub:
        monkeypatch.setattr("gtts.tts._translate_url", stub.url)
        yield stub


@pytest.fixture
def proxy(google: GttsStub, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectProxy]:
    with ConnectProxy(hosts={GOOGLE: "127.0.0.1"}) as running:
        monkeypatch.setenv("HTTPS_PROXY", running.url)
        yield running


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_google_is_unreachable_without_the_proxy(google: GttsStub) -> None:
    reason = google_unreachable_reason()
    assert reason == "Google Translate is not reachable (no network?)"


@pytest.mark.slow
def test_build_with_google_through_an_https_proxy(
    proxy: ConnectProxy, google: GttsStub, write_routine, tmp_path: Path
) -> None:
    routine = write_routine(SHORT_ROUTINE)
    output = tmp_path / "proxied.mp3"
    result = CliRunner().invoke(
        app,
        ["build", str(routine), "-o", str(output), "--engine", "gtts",
         "--cache-dir", str(tmp_path / "cache")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "voice: gtts" in result.output
    assert google.count > 0, "the phrases reached Google's stand-in"
    assert proxy.tunnels, "through the proxy"
    assert set(proxy.tunnels) == {f"{GOOGLE}:{google.port}"}
    assert len(decode(output)) > 0


def test_auto_takes_google_through_the_proxy(proxy: ConnectProxy, google: GttsStub) -> None:
    engine, notice = choose_engine(VoiceSettings(), "en")
    assert isinstance(engine, GttsEngine)
    assert notice is None
    assert proxy.tunnels == [f"{GOOGLE}:{google.port}"], "the check went the proxy's way"


def test_a_proxy_that_is_down_is_named(google: GttsStub, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HTTPS_PROXY", dead)
    assert google_unreachable_reason() == (
        f"Google Translate is not reachable through the proxy {dead} (no network?)"
    )
    engine, notice = choose_engine(VoiceSettings(), "es")
    assert engine.NAME == "espeak"
    assert notice is not None
    assert notice.startswith("Google is not reachable: using the offline espeak voice")


def test_no_proxy_sends_a_host_direct(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    with GttsStub(google_like_clips()) as stub:  # plain HTTP on 127.0.0.1
        monkeypatch.setattr("gtts.tts._translate_url", stub.url)
        assert google_unreachable_reason() is not None, "the dead proxy is in the way"
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert google_unreachable_reason() is None
        audio = GttsEngine("en").synthesize("Plank, 30 seconds.")
        assert audio.startswith((b"ID3", b"\xff"))
        assert stub.count == 1


def test_a_certificate_we_do_not_trust_is_refused(
    proxy: ConnectProxy, google: GttsStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # the system's authorities: the stub is unknown
    reason = google_unreachable_reason()
    assert reason is not None
    assert reason.startswith("Google Translate's certificate was refused through the proxy")
