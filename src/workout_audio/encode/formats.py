"""The formats a track can be written in: ffmpeg's encoder arguments and the file suffix.

MP3 plays everywhere; M4A (AAC) is what Apple Books and most audiobook players
read chapters from; Opus in Ogg is the smallest for the same clarity of speech.
How each is tagged lives in tags.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError

__all__ = ["FORMATS", "AudioFormat", "audio_format"]


@dataclass(frozen=True)
class AudioFormat:
    """One output format."""

    name: str
    suffix: str
    codec: str  # ffmpeg's encoder
    muxer: str  # ffmpeg's container (-f)
    description: str

    def encoder_args(self, bitrate_kbps: int) -> list[str]:
        """What follows ffmpeg's input to encode to this format."""
        return ["-c:a", self.codec, "-b:a", f"{bitrate_kbps}k", "-f", self.muxer]


FORMATS: dict[str, AudioFormat] = {
    f.name: f
    for f in [
        AudioFormat("mp3", ".mp3", "libmp3lame", "mp3", "MP3 with ID3 chapters, lyrics and art"),
        # ipod: the MP4 flavour Apple's players expect of .m4a
        AudioFormat("m4a", ".m4a", "aac", "ipod", "AAC in MP4, with chapters, cover and lyrics"),
        AudioFormat("opus", ".opus", "libopus", "opus", "Opus in Ogg, with chapter comments"),
    ]
}


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
