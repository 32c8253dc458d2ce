"""An engine's output -> a clean clip: decoded, silence trimmed, at the clips' one loudness."""

from __future__ import annotations

from dataclasses import dataclass

from ..audio.ffmpeg import decode_to_pcm
from ..audio.levelling import level_speech
from ..audio.pcm import CHANNELS, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from ..audio.segments import AudioSegment, detect_leading_silence
from ..errors import EncoderError

__all__ = ["Clip", "speech_clip"]

SILENCE_THRESHOLD_DBFS = -45.0  # quieter than this at either end of a clip is trimmed


@dataclass(frozen=True)
class Clip:
    """A finished clip, the loudness the engine gave it, and its K-weighted power profile."""

    pcm: bytes
    source_lufs: float
    profile: list[float]


def speech_clip(audio: bytes) -> Clip:
    """Decode, trim silence at both ends, and bring to CLIP_LOUDNESS_LUFS with held peaks.

    Every engine (a loud gTTS MP3, a quiet voice file) comes out equally loud, so the
    track's loudness is set once, at the encoder. ffmpeg runs once, to decode; the rest
    is done in this process.

    Raises:
        EncoderError: ffmpeg could not decode the audio, or it is silence.
    """
    segment = AudioSegment(
        data=decode_to_pcm(audio),
        sample_width=SAMPLE_WIDTH_BYTES,
        frame_rate=SAMPLE_RATE_HZ,
        channels=CHANNELS,
    )
    start_ms = detect_leading_silence(segment, silence_threshold=SILENCE_THRESHOLD_DBFS)
    end_ms = len(segment) - detect_leading_silence(
        segment.reverse(), silence_threshold=SILENCE_THRESHOLD_DBFS
    )
    if end_ms <= start_ms:
        raise EncoderError("the speech engine returned silence")
    trimmed = segment[start_ms:end_ms].fade_in(5).fade_out(15)
    levelled = level_speech(bytes(trimmed.raw_data))
    if levelled.silent:
        raise EncoderError("the speech engine returned silence")
    return Clip(levelled.pcm, levelled.source_lufs, levelled.profile)
