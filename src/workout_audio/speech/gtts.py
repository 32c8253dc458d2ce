"""The Google Translate voice through gTTS, with the timeouts and retries gTTS lacks."""

from __future__ import annotations

import io
import logging
import random
import socket
import time
from importlib import metadata
from urllib.parse import urlparse

from .base import Engine, fail, prepare_text, register

__all__ = ["GttsEngine", "google_reachable"]

log = logging.getLogger(__name__)

TIMEOUT_S = (5.0, 15.0)  # connect, read
RETRIES = 4  # after the first try, for 429 and 5xx answers, timeouts and cut connections
BACKOFF_S = 1.0  # first wait; doubles each retry, with jitter
REQUEST_GAP_S = 0.2  # between requests: Google rate-limits bursts


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


@register
class GttsEngine(Engine):
    """Google's voice: needs a network; many languages and accents (``tld``)."""

    NAME = "gtts"

    def __init__(self, language: str, tld: str = "com", slow: bool = False) -> None:
        super().__init__(language)
        self.tld = tld
        self.slow = slow
        self._last_request_s = 0.0

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if not google_reachable():
            return "Google Translate is not reachable (no network?)"
        return None

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
            wait_s = REQUEST_GAP_S - (time.monotonic() - self._last_request_s)
            if wait_s > 0:
                time.sleep(wait_s)
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
                time.sleep(delay_s)
                continue
            except ValueError as error:  # gTTS refuses an unknown language this way
                raise fail(self.NAME, text, str(error)) from None
            finally:
                self._last_request_s = time.monotonic()
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
