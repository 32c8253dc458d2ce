"""libespeak-ng through ctypes, for the espeak engine when no espeak-ng program is installed.

The library keeps state between phrases that nothing resets (the pitch flutter's index in
wavegen.c), so a phrase's samples would depend on what was said before in the process.
Each phrase is therefore said by this file run as a program of its own, with the standard
library only (no package import: it starts in a few milliseconds):

    python -I espeak_library.py LIBRARY DATA LANGUAGE WORDS_PER_MINUTE < text > wav

The parent process loads the library too, but only to list voices and read its version.
"""

from __future__ import annotations

import ctypes
import io
import sys
import threading
import wave

__all__ = ["SCRIPT_PATH", "Library", "main"]

SCRIPT_PATH = __file__  # what the espeak engine runs, once a phrase

# libespeak-ng's C interface (speak_lib.h), the few parts used here.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of ending the process
_RATE = 1  # espeak_PARAMETER espeakRATE
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_SAMPLE_WIDTH_BYTES = 2
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _VoiceStruct(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated code)..., then 0
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class Library:
    """libespeak-ng loaded into this process.

    The library keeps one voice and one callback in global state, so one call is made at
    a time (a lock).
    """

    def __init__(self, library_path: str, data_path: str) -> None:
        self._lock = threading.Lock()
        self._samples: list[bytes] = []
        lib = ctypes.CDLL(library_path)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self.sample_rate_hz = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), _INITIALIZE_DONT_EXIT
        )
        if self.sample_rate_hz <= 0:
            raise OSError(f"libespeak-ng could not start with the voice data in {data_path}")
        self._callback = _SynthCallback(self._collect)  # kept: the library holds a pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: int) -> int:
        if wav and count > 0:
            self._samples.append(ctypes.string_at(wav, count * _SAMPLE_WIDTH_BYTES))
        return 0  # go on

    def version(self) -> str:
        return str(self._lib.espeak_Info(None).decode())

    def voice_table(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(language, other codes it answers to) for each voice."""
        with self._lock:
            listed = self._lib.espeak_ListVoices(None)
            voices = []
            index = 0
            while listed[index]:
                address = listed[index].contents.languages
                codes = []
                while address and ctypes.c_ubyte.from_address(address).value:
                    code = ctypes.string_at(address + 1)
                    codes.append(code.decode("ascii", "replace"))
                    address += len(code) + 2
                if codes:
                    voices.append((codes[0], tuple(codes[1:])))
                index += 1
        return tuple(voices)

    def synthesize(self, language: str, words_per_minute: int, text: str) -> bytes:
        """A WAV of ``text``; only the first phrase of a process is free of earlier ones."""
        encoded = text.encode("utf-8") + b"\0"
        with self._lock:
            if self._lib.espeak_SetVoiceByName(language.encode()) != 0:
                raise RuntimeError(f"libespeak-ng has no voice {language!r}")
            self._lib.espeak_SetParameter(_RATE, words_per_minute, 0)
            self._samples = []
            status = self._lib.espeak_Synth(
                encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None
            )
            samples, self._samples = b"".join(self._samples), []
        if status != 0:
            raise RuntimeError(f"libespeak-ng failed (error {status})")
        if not samples:
            raise RuntimeError("libespeak-ng produced no audio")
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(_SAMPLE_WIDTH_BYTES)
            wav.setframerate(self.sample_rate_hz)
            wav.writeframes(samples)
        return buffer.getvalue()


def main(arguments: list[str]) -> int:
    """Say the UTF-8 text on stdin; the WAV on stdout, or why not on stderr (exit 1)."""
    library_path, data_path, language, words_per_minute = arguments
    text = sys.stdin.buffer.read().decode("utf-8")
    try:
        wav = Library(library_path, data_path).synthesize(language, int(words_per_minute), text)
    except (OSError, RuntimeError) as error:
        sys.stderr.write(f"{error}\n")
        return 1
    sys.stdout.buffer.write(wav)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
