"""The formats a track can be written in, each stated once: everything that differs by format.

MP3 plays everywhere; M4A (AAC) is what Apple Books and most audiobook players
read chapters from; Opus in Ogg is the smallest for the same clarity of speech.
A new format is one more entry in FORMATS (and its tagger in outputs/tags.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..outputs.tags import Tagger, write_mp4_tags, write_opus_tags, write_tags

__all__ = ["FORMATS", "AudioFormat", "audio_format", "format_for_path"]


@dataclass(frozen=True)
class AudioFormat:
    """One output format: how ffmpeg writes it, how it is tagged, and what it can carry."""

    name: str
    suffix: str  # lower case, with the dot
    codec: str  # ffmpeg's encoder
    muxer: str  # ffmpeg's container (-f)
    tagger: Tagger  # tags a finished file of this format
    description: str
    mime_type: str  # what a server and a feed's enclosure call it
    # Encoded in parts side by side and joined frame by frame (mp3_join.py). Other
    # codecs prime and pad their streams in ways a join cannot undo: encoded whole.
    splittable: bool = False
    # Carries a picture per chapter that players show (ID3 CHAP with APIC); the others
    # get the cover alone, so no chapter pictures are drawn for them.
    chapter_art: bool = False
    # What a player's decoder measures against what went into the encoder. LAME (as
    # ffmpeg drives it) gives back every sound about 0.45 dB lower, a pure tone as much
    # as speech or noise; AAC and Opus give back the level they were given. Measured
    # with scripts/loudness_check.py; the gain in front of the encoder makes it up.
    loudness_change_lu: float = 0.0
    # How far the decoded track's true peak can rise over the mix's true peak before the
    # encoder. Pink noise with a hum, its true peaks held at -3 dBTP in this process
    # (peak_limit.py), decodes at -0.8 dBTP from LAME, -2.3 from AAC and -1.5 from Opus
    # (128 kbit/s, scripts/loudness_check.py): each format keeps a margin over what it did.
    # When the predicted peaks would pass the ceiling, the limiter holds true peaks this
    # far under it.
    peak_overshoot_db: float = 2.0
    # The band the encoder keeps at our bitrates (its lowpass): music above it is not heard,
    # and the loudness is predicted without it. Read off decoded white noise at 128 kbit/s:
    # LAME stops at 17 kHz, ffmpeg's AAC rolls off from 16 to 17.5 kHz, Opus keeps 20 kHz.
    band_hz: float = 20_000.0

    def encoder_args(self, bitrate_kbps: int) -> list[str]:
        """What follows ffmpeg's input to encode to this format."""
        return ["-c:a", self.codec, "-b:a", f"{bitrate_kbps}k", "-f", self.muxer]


FORMATS: dict[str, AudioFormat] = {
    f.name: f
    for f in [
        AudioFormat(
            "mp3", ".mp3", "libmp3lame", "mp3", write_tags,
            "MP3 with ID3 chapters, lyrics and art", "audio/mpeg",
            splittable=True, chapter_art=True, loudness_change_lu=-0.45, band_hz=17_000.0,
            peak_overshoot_db=3.0,
        ),
        # ipod: the MP4 flavour Apple's players expect of .m4a
        AudioFormat(
            "m4a", ".m4a", "aac", "ipod", write_mp4_tags,
            "AAC in MP4, with chapters, cover and lyrics", "audio/mp4", band_hz=16_700.0,
            peak_overshoot_db=1.5,
        ),
        AudioFormat(
            "opus", ".opus", "libopus", "opus", write_opus_tags,
            "Opus in Ogg, with chapter comments", "audio/ogg",
            peak_overshoot_db=2.5,
        ),
    ]
}  # fmt: skip


def audio_format(name: str) -> AudioFormat:
    """The format called ``name``.

    Raises:
        UsageError: no such format (the message lists the valid ones).
    """
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise UsageError(
            f"--format: unknown format {name!r}; choose from {', '.join(FORMATS)}"
        ) from None


def format_for_path(path: Path) -> AudioFormat | None:
    """The format a file name's suffix says (any case), or None for none of ours."""
    suffix = path.suffix.lower()
    return next((f for f in FORMATS.values() if f.suffix == suffix), None)
