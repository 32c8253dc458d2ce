"""The Google Translate voice through gTTS, with the timeouts, retries and throttle gTTS lacks."""

from __future__ import annotations

import io
import logging
import random
import socket
import threading
import time
from functools import cache
from importlib import metadata
from urllib.parse import urlparse

from ..errors import UsageError
from .base import Engine, VoiceSettings, fail, match_language
from .text import prepare_text

__all__ = ["GttsEngine", "google_reachable"]

log = logging.getLogger(__name__)

TIMEOUT_S = (5.0, 15.0)  # connect, read
RETRIES = 4  # after the first try, for 429 and 5xx answers, timeouts and cut connections
BACKOFF_S = 1.0  # first wait; doubles each retry, with jitter
REQUEST_GAP_S = 0.2  # between the starts of two requests: Google rate-limits bursts
THREADS = 3  # requests in flight at once; the gap above still spaces their starts

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


def _service_url(tld: str) -> str:
    # Looked up at call time so a local stand-in of the service can be swapped in.
    from gtts import tts

    return str(tts._translate_url(tld=tld))


def google_reachable(tld: str = "com", timeout_s: float = 2.0) -> bool:
    """Whether the Google Translate host answers a TCP connection quickly."""
    url = urlparse(_service_url(tld))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False


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
        if not google_reachable():
            return "Google Translate is not reachable (no network?)"
        return None

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
        from gtts import gTTS, gTTSError

        for attempt in range(RETRIES + 1):
            self._wait_turn(text)
            buffer = io.BytesIO()
            try:
                speaker = gTTS(
                    prepare_text(text),
                    lang=self.language,
                    tld=self.tld,
                    slow=self.slow,
                    lang_check=False,
                    timeout=TIMEOUT_S,
                )
                speaker.write_to_fp(buffer)
            except gTTSError as error:
                status = error.rsp.status_code if error.rsp is not None else None
                if not _retryable(status, error) or attempt == RETRIES:
                    raise fail(self.NAME, text, _cause(status, error)) from None
                delay_s = BACKOFF_S * 2**attempt * (0.5 + random.random())
                log.info("gTTS answered %s; retrying in %.1f s", status, delay_s)
                self._hold_off(delay_s)
                continue
            except ValueError as error:  # gTTS refuses an unknown language this way
                raise fail(self.NAME, text, str(error)) from None
            audio = buffer.getvalue()
            if not audio:
                raise fail(self.NAME, text, "Google answered without audio")
            return audio
        raise AssertionError("unreachable")  # pragma: no cover


def _retryable(status: int | None, error: Exception) -> bool:
    """429, 5xx, a timeout or a cut connection may pass; no network or a 4xx will not."""
    from requests.exceptions import ChunkedEncodingError, Timeout

    if status is not None:
        return status == 429 or status >= 500
    return isinstance(error.__context__, (ChunkedEncodingError, Timeout))


def _cause(status: int | None, error: Exception) -> str:
    if status is None:
        from requests.exceptions import ChunkedEncodingError, Timeout

        # gTTS reports every failed request as "Failed to connect"; the requests error
        # it swallowed (the context) tells a connection cut mid-answer from no network.
        if isinstance(error.__context__, Timeout):
            return "Google did not answer in time; retry later or use --engine piper"
        if isinstance(error.__context__, ChunkedEncodingError):
            return "the connection to Google broke mid-answer; retry later or use --engine piper"
        return f"no answer from Google (no network?): {error}"
    if status == 429:
        return "429 Too Many Requests from Google: rate-limited, retry later or use --engine piper"
    if status >= 500:
        return f"Google's service failed ({status}); retry later or use --engine piper"
    return str(error)
