"""The Google Translate voice: gTTS words the requests; we send them, with the timeouts,
retries and throttle gTTS lacks, the way any ``requests`` call travels here (HTTPS_PROXY,
NO_PROXY, REQUESTS_CA_BUNDLE honoured; certificates checked)."""

from __future__ import annotations

import base64
import logging
import random
import re
import threading
import time
from functools import cache
from importlib import metadata
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..settings import VoiceSettings
from .base import Engine, fail, match_language
from .text import prepare_text

if TYPE_CHECKING:
    import requests

__all__ = ["GttsEngine", "google_reachable", "google_unreachable_reason"]

log = logging.getLogger(__name__)

SERVICE_PATH = "_/TranslateWebserverUi/data/batchexecute"
TIMEOUT_S = (5.0, 15.0)  # connect, read
PROBE_TIMEOUT_S = 3.0  # the reachability check: a proxy's CONNECT and a TLS handshake included
RETRIES = 4  # after the first try, for 429 and 5xx answers, timeouts and cut connections
BACKOFF_S = 1.0  # first wait; doubles each retry, with jitter
REQUEST_GAP_S = 0.2  # between the starts of two requests: Google rate-limits bursts
THREADS = 3  # requests in flight at once; the gap above still spaces their starts
_AUDIO = re.compile(r'jQ1olc","\[\\"(.*?)\\"]')  # the base64 MP3 in Google's answer line

# The accent a regional language code implies, as gTTS documents its "localized accents".
# An explicit --tld wins.
REGION_TLDS = {
    "en-au": "com.au", "en-gb": "co.uk", "en-uk": "co.uk", "en-us": "us", "en-ca": "ca",
    "en-in": "co.in", "en-ie": "ie", "en-za": "co.za", "en-ng": "com.ng",
    "es-mx": "com.mx", "es-es": "es", "es-us": "us",
    "fr-ca": "ca", "fr-fr": "fr",
    "pt-br": "com.br", "pt-pt": "pt",
}  # fmt: skip
ACCENTS = ["com", *sorted(set(REGION_TLDS.values()))]


def _service_url(tld: str, path: str = "") -> str:
    # Looked up at call time so a local stand-in of the service can be swapped in.
    # _translate_url is private to gTTS: checked against gTTS 2.5.4, hence gtts<2.6.
    from gtts import tts

    return str(tts._translate_url(tld=tld, path=path))


def _proxy_for(url: str) -> str | None:
    """The proxy a request to ``url`` goes through here (None: direct), NO_PROXY applied."""
    from requests.utils import get_environ_proxies, select_proxy

    proxy: str | None = select_proxy(url, get_environ_proxies(url))
    return proxy


def google_unreachable_reason(tld: str = "com", timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """Why Google Translate cannot be reached, or None when it answers. The check travels
    as the speech requests do: through the proxy the environment names, TLS checked."""
    import requests

    url = _service_url(tld)
    try:
        with requests.Session() as session:
            session.head(url, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as error:
        proxy = _proxy_for(url)
        via = f" through the proxy {proxy}" if proxy else ""
        log.info("Google Translate probe failed%s: %s", via, error)
        if isinstance(error, requests.exceptions.SSLError):
            return f"Google Translate's certificate was refused{via} (set REQUESTS_CA_BUNDLE?)"
        return f"Google Translate is not reachable{via} (no network?)"
    return None


def google_reachable(tld: str = "com", timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether Google Translate answers, the way the speech requests travel."""
    return google_unreachable_reason(tld, timeout_s) is None


@cache
def _google_languages() -> dict[str, str]:
    """gTTS's own table of the languages Google speaks: offline, no request made."""
    from gtts.lang import tts_langs

    return dict(tts_langs())


class GttsEngine(Engine):
    """Google's voice: needs a network; many languages and accents (``tld``)."""

    NAME = "gtts"
    DESCRIPTION = "Google Translate's voice (needs a network)"
    PARALLEL = "threads"
    MAX_WORKERS = THREADS
    OPTIONS = frozenset({"tld", "slow"})

    def __init__(self, language: str, tld: str = "com", slow: bool = False) -> None:
        super().__init__(language)
        self.tld = tld
        self.slow = slow
        self._turn_lock = threading.Lock()
        self._next_request_s = 0.0  # monotonic time before which no request may start
        self._cancelled = threading.Event()

    @classmethod
    def from_settings(cls, settings: VoiceSettings, language: str) -> GttsEngine:
        """Google's code for ``language``, with the accent its region implies.

        Raises:
            UsageError: Google does not speak the language.
        """
        code = match_language(language, list(_google_languages()))
        if code is None:
            raise UsageError(
                f"Google's voice does not speak {language!r}; "
                "`workout-audio voices` lists the languages each engine speaks"
            )
        tld = settings.tld or REGION_TLDS.get(language.casefold().replace("_", "-"), "com")
        return cls(code, tld=tld, slow=settings.slow)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return google_unreachable_reason()

    @classmethod
    def languages(cls) -> list[str]:
        return sorted(_google_languages())

    @classmethod
    def voices(cls) -> list[str]:
        return [f"one voice per language; accents with --tld: {', '.join(ACCENTS)}"]

    def voice_label(self) -> str:
        accent = "" if self.tld == "com" else f", accent {self.tld}"
        return f"{self.language}{accent}{', slow' if self.slow else ''}"

    def cancel(self) -> None:
        self._cancelled.set()

    def _wait_turn(self, text: str) -> None:
        """Space request starts REQUEST_GAP_S apart across every thread using this engine.

        Raises:
            EngineError: the build was cancelled while waiting.
        """
        with self._turn_lock:
            now_s = time.monotonic()
            start_s = max(now_s, self._next_request_s)
            self._next_request_s = start_s + REQUEST_GAP_S
        if self._cancelled.wait(max(0.0, start_s - now_s)):
            raise fail(self.NAME, text, "cancelled")

    def _hold_off(self, delay_s: float) -> None:
        """After a refusal, every thread waits: backing off alone would not calm Google."""
        with self._turn_lock:
            self._next_request_s = max(self._next_request_s, time.monotonic() + delay_s)

    def identity(self) -> dict[str, str]:
        return {
            "engine": self.NAME,
            "engine_version": metadata.version("gtts"),
            "language": self.language,
            "tld": self.tld,
            "slow": str(self.slow),
        }

    def synthesize(self, text: str) -> bytes:
        import requests
        from gtts import gTTS

        speaker = gTTS(
            prepare_text(text), lang=self.language, tld=self.tld, slow=self.slow, lang_check=False
        )
        try:
            bodies = speaker.get_bodies()  # gTTS cuts a long phrase into requests, and words them
        except (AssertionError, ValueError) as error:  # nothing to say, or an unknown language
            raise fail(self.NAME, text, str(error) or "nothing to say") from None
        url = _service_url(self.tld, SERVICE_PATH)
        audio = b""
        with requests.Session() as session:
            for body in bodies:
                audio += self._ask(session, url, body, speaker.GOOGLE_TTS_HEADERS, text)
        return audio

    def _ask(
        self,
        session: requests.Session,
        url: str,
        body: str,
        headers: dict[str, str],
        text: str,
    ) -> bytes:
        """One request's MP3, retried while Google's refusal or failure may pass."""
        import requests

        for attempt in range(RETRIES + 1):
            self._wait_turn(text)
            status: int | None = None
            try:
                with session.post(
                    url, data=body, headers=headers, timeout=TIMEOUT_S, stream=True
                ) as answer:
                    status = answer.status_code
                    if status == 200:
                        for line in answer.iter_lines(chunk_size=1024):
                            found = _AUDIO.search(line.decode("utf-8", "replace"))
                            if found:
                                return base64.b64decode(found.group(1))
                        raise fail(self.NAME, text, "Google answered without audio")
            except requests.RequestException as error:
                if not _retryable(None, error) or attempt == RETRIES:
                    raise fail(self.NAME, text, _cause(None, error, url)) from None
            else:
                if not _retryable(status, None) or attempt == RETRIES:
                    raise fail(self.NAME, text, _cause(status, None, url))
            delay_s = BACKOFF_S * 2**attempt * (0.5 + random.random())
            log.info("Google answered %s; retrying in %.1f s", status or "nothing", delay_s)
            self._hold_off(delay_s)
        raise AssertionError("unreachable")  # pragma: no cover


def _retryable(status: int | None, error: Exception | None) -> bool:
    """429, 5xx, a timeout or a cut connection may pass; no network or a 4xx will not."""
    from requests.exceptions import ChunkedEncodingError, Timeout

    if status is not None:
        return status == 429 or status >= 500
    return isinstance(error, (ChunkedEncodingError, Timeout))


def _cause(status: int | None, error: Exception | None, url: str) -> str:
    from requests.exceptions import ChunkedEncodingError, ProxyError, SSLError, Timeout

    if status is None:
        if isinstance(error, Timeout):
            return "Google did not answer in time; retry later or use --engine piper"
        if isinstance(error, ChunkedEncodingError):
            return "the connection to Google broke mid-answer; retry later or use --engine piper"
        if isinstance(error, ProxyError):
            return f"the proxy {_proxy_for(url)} did not pass the request on: {error}"
        if isinstance(error, SSLError):
            return f"Google's certificate was refused (set REQUESTS_CA_BUNDLE?): {error}"
        return f"no answer from Google (no network?): {error}"
    if status == 429:
        return "429 Too Many Requests from Google: rate-limited, retry later or use --engine piper"
    if status >= 500:
        return f"Google's service failed ({status}); retry later or use --engine piper"
    return f"Google refused the request ({status})"
