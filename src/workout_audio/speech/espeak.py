"""espeak-ng: a tiny offline formant voice that speaks about a hundred languages.

It is a system program, not a Python package, so the engine runs it as a
subprocess (WAV on stdout) and explains how to install it when it is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache

from ..errors import UsageError
from .base import (
    Engine,
    VoiceSettings,
    fail,
    match_language,
    prepare_text,
    refuse_options,
    register,
)

__all__ = ["EspeakEngine"]

PROGRAM = "espeak-ng"
INSTALL_HINT = (
    "install the espeak-ng package (apt install espeak-ng, dnf install espeak-ng, "
    "brew install espeak-ng; on Windows the installer from "
    "https://github.com/espeak-ng/espeak-ng/releases)"
)
DEFAULT_WPM = 175  # espeak-ng's own default speed, words per minute
WPM_RANGE = (80, 450)  # what espeak-ng accepts
TIMEOUT_S = 60.0


def _program() -> str | None:
    return shutil.which(PROGRAM)


@cache
def _voice_table(program: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """espeak-ng's voices: (language, other languages it answers to), from ``--voices``."""
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
def _version(program: str) -> str:
    done = subprocess.run(
        [program, "--version"], capture_output=True, text=True, check=False, timeout=TIMEOUT_S
    )
    found = re.search(r"\d+(\.\d+)+", done.stdout)
    return found.group(0) if found else done.stdout.strip()


@register
class EspeakEngine(Engine):
    """espeak-ng through its command line; the voice is picked by language."""

    NAME = "espeak"
    DESCRIPTION = "espeak-ng, offline, robotic but tiny; ~100 languages"
    PARALLEL = "threads"  # each phrase is its own espeak-ng process
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
        refuse_options(cls, settings)
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
        if _program() is None:
            return f"espeak-ng is not installed: {INSTALL_HINT}"
        return None

    @classmethod
    def languages(cls) -> list[str]:
        program = _program()
        if program is None:
            return []
        codes = {code for language, others in _voice_table(program) for code in (language, *others)}
        return sorted(codes)

    @classmethod
    def voices(cls) -> list[str]:
        program = _program()
        if program is None:
            return []
        return [f"espeak-ng {_version(program)}: one voice per language, chosen by --lang"]

    def voice_label(self) -> str:
        return f"{self.language}, {self.words_per_minute} words a minute"

    def identity(self) -> dict[str, str]:
        program = _program()
        return {
            "engine": self.NAME,
            "engine_version": _version(program) if program else "absent",
            "voice": self.language,
            "language": self.language,
            "words_per_minute": str(self.words_per_minute),
        }

    def synthesize(self, text: str) -> bytes:
        program = _program()
        if program is None:
            raise fail(self.NAME, text, f"espeak-ng is not installed: {INSTALL_HINT}")
        command = [
            program, "--stdout", "-b", "1",  # UTF-8 text on stdin: no phrase is read as an option
            "-v", self.language, "-s", str(self.words_per_minute),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                input=prepare_text(text).encode("utf-8"),
                capture_output=True,
                check=False,
                timeout=TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise fail(self.NAME, text, f"could not run espeak-ng: {error}") from None
        if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
            detail = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
            raise fail(self.NAME, text, f"espeak-ng failed: {detail}")
        return done.stdout
